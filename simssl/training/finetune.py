"""Transfer learning: a small head (linear or MLP) on a pretrained encoder, trained on a few labeled particles.

With the encoder frozen (the default) embeddings are computed once and only the head trains, so
fine-tuning takes seconds; ``freeze=False`` trains encoder and head together on the labeled
neighborhoods. Labels are per particle (one array over all frames) or per frame (a group label
broadcast to all of the frame's particles). Only ``fraction`` of the particles are used for
training (stratified by class for classification); the rest is held out and scored.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..checkpoints import FINETUNED, read_checkpoint, write_payload
from ..devices import resolve_device
from ..embedding import as_model_inputs, is_structure
from ..errors import SimsslError
from ..model import Encoder, EncoderConfig
from ..neighbors import concatenate_inputs

TASKS = ("classification", "regression")


def make_head(dim: int, n_out: int, kind: str, hidden: int = 64) -> nn.Module:
    """A head for ``dim``-wide embeddings: 'linear': one layer; 'mlp': one hidden SiLU layer.

    Parameters
    ----------
    dim : int
        Input width (the embedding size D).
    n_out : int
        Outputs (classes, or 1 for regression).
    kind : {'linear', 'mlp'}
        Others raise ``ValueError``.
    hidden : int
        Hidden width of the 'mlp' head.

    Returns
    -------
    torch.nn.Module
        Maps (B, dim) to (B, n_out).
    """
    if kind == "linear":
        return nn.Linear(dim, n_out)
    if kind == "mlp":
        return nn.Sequential(nn.Linear(dim, hidden), nn.SiLU(), nn.Linear(hidden, n_out))
    raise SimsslError(f"head must be 'linear' or 'mlp', got {kind!r}")


class FineTuned(nn.Module):
    """Encoder + standardization + head; :meth:`predict` gives per-particle labels (or values) of a frame.

    Parameters
    ----------
    encoder : Encoder
        The (fine-tuned or frozen) encoder.
    head : torch.nn.Module
        From :func:`make_head`.
    task : {'classification', 'regression'}
        What the head predicts.
    head_kind : {'linear', 'mlp'}
        How ``head`` was made (stored so :meth:`load` can rebuild it).
    classes : array_like or None
        The original label values, in logit order (classification).
    mean, std : array_like or None
        Embedding standardization, (D,) float32 (default: 0 and 1).
    metrics : dict or None
        Scores, as :func:`score` returns them.
    """

    def __init__(
        self,
        encoder: Encoder,
        head: nn.Module,
        task: str,
        head_kind: str,
        classes=None,
        mean=None,
        std=None,
        metrics=None,
    ):
        super().__init__()
        self.encoder, self.head, self.task, self.head_kind = encoder, head, task, head_kind
        self.classes = None if classes is None else np.asarray(classes).tolist()
        dim = encoder.config.dim
        self.register_buffer("mean", torch.zeros(dim) if mean is None else torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("std", torch.ones(dim) if std is None else torch.as_tensor(std, dtype=torch.float32))
        self.metrics = dict(metrics or {})

    def head_output(self, embedding: torch.Tensor) -> torch.Tensor:
        """Logits (B, classes) (classification) or values (B,) (regression) of embeddings (B, D).

        The embeddings are standardized first.
        """
        out = self.head((embedding - self.mean) / self.std)
        return out[:, 0] if self.task == "regression" else out

    def decision(self, source, device=None) -> np.ndarray:
        """Per-particle logits (N, classes) or regression values (N,) of a Frame or Neighborhoods.

        Parameters
        ----------
        source : Frame or Neighborhoods
            What to label (also model-input arrays, as :func:`simssl.embedding.embed` takes).
        device : str, torch.device or None
            Where the encoder runs.

        Returns
        -------
        numpy.ndarray
            float32.
        """
        embedding = self.encoder.embed(source, device=device, to_numpy=False)
        with torch.no_grad():
            return self.head_output(embedding.to(self.mean.device)).cpu().numpy()

    def predict(self, source, device=None) -> np.ndarray:
        """Per-particle class labels (the original label values) or regression values.

        Parameters are those of :meth:`decision`.

        Returns
        -------
        numpy.ndarray
            (N,): labels of the classes' dtype, or float32 values.
        """
        out = self.decision(source, device)
        return np.asarray(self.classes)[out.argmax(1)] if self.task == "classification" else out

    def save(self, path) -> None:
        """Encoder (config, weights, card), head and standardization in one file, written atomically.

        The file is loadable with ``torch.load(weights_only=True)``.

        Parameters
        ----------
        path : str or PathLike
            Target file; replaced if it exists.
        """
        payload = {
            "format": FINETUNED,
            "task": self.task,
            "head_kind": self.head_kind,
            "classes": self.classes,
            "metrics": self.metrics,
            "encoder_config": self.encoder.config.to_dict(),
            "encoder_card": self.encoder.card,
            "state_dict": {name: value.detach().cpu() for name, value in self.state_dict().items()},
        }
        write_payload(path, payload)

    @classmethod
    def load(cls, path) -> FineTuned:
        """A model saved by :meth:`save`, in eval mode on the CPU.

        Parameters
        ----------
        path : str or PathLike
            The file; one of another format raises ``SimsslError``.
        """
        payload = read_checkpoint(path, FINETUNED)
        encoder = Encoder(EncoderConfig.from_dict(payload["encoder_config"]), card=payload["encoder_card"])
        n_out = len(payload["classes"]) if payload["task"] == "classification" else 1
        model = cls(
            encoder,
            make_head(encoder.config.dim, n_out, payload["head_kind"]),
            payload["task"],
            payload["head_kind"],
            payload["classes"],
            metrics=payload["metrics"],
        )
        model.load_state_dict(payload["state_dict"])
        return model.eval()


def neighborhoods_and_labels(sources, labels, model):
    """Concatenated (bonds/scale, mask, center types, neighbor types) of every source, and one label per particle.

    Parameters
    ----------
    sources : Frame, Neighborhoods, or a sequence of them
        Frames get the neighborhoods ``model`` reads (:func:`simssl.embedding.as_model_inputs`).
    labels : array_like or list
        An array over all particles of all sources, or a list with one entry per source, each a
        per-particle array or a scalar group label for the whole frame.
    model : simssl.model.Encoder
        The encoder the inputs are for.

    Returns
    -------
    arrays : list of torch.Tensor
        bonds (N, k, 3) float32, mask (N, k) bool, center types (N,) int32, neighbor types (N, k) int32,
        shell spectra (N, F) float32.
    labels : numpy.ndarray
        (N,).

    Raises
    ------
    SimsslError
        If the number of labels does not match the number of particles.
    """
    parts = [as_model_inputs(model, source) for source in ([sources] if is_structure(sources) else sources)]
    counts = [len(part[0]) for part in parts]
    if isinstance(labels, (list, tuple)) and len(labels) == len(parts):
        labels = np.concatenate([np.broadcast_to(np.asarray(label), (count,)) for label, count in zip(labels, counts)])
    labels = np.asarray(labels).reshape(-1)
    if labels.shape != (sum(counts),):
        raise SimsslError(f"got {len(labels)} labels for {sum(counts)} particles in {len(parts)} frame(s)")
    arrays = concatenate_inputs(parts)
    return [torch.from_numpy(np.ascontiguousarray(a)) for a in arrays], labels


def choose_labeled(labels: np.ndarray, fraction: float, task: str, rng: np.random.Generator) -> np.ndarray:
    """Indices of the training particles: ``fraction`` of each class (at least one), or of all particles.

    Parameters
    ----------
    labels : numpy.ndarray
        (N,) labels.
    fraction : float
        In (0, 1]; others raise ``ValueError``.
    task : {'classification', 'regression'}
        Classification samples each class separately.
    rng : numpy.random.Generator
        Source of the choice.

    Returns
    -------
    numpy.ndarray
        Sorted int64 indices.
    """
    if not 0 < fraction <= 1:
        raise SimsslError(f"the labeled fraction (--fraction) must be in (0, 1], got {fraction}")
    groups = (
        [np.flatnonzero(labels == value) for value in np.unique(labels)]
        if task == "classification"
        else [np.arange(len(labels))]
    )
    return np.sort(
        np.concatenate(
            [rng.choice(group, size=max(1, round(fraction * len(group))), replace=False) for group in groups]
        )
    )


def finetune(
    model: Encoder,
    frames_or_neighborhoods,
    labels,
    task: str = "classification",
    fraction: float = 0.01,
    freeze: bool = True,
    epochs: int = 200,
    seed: int = 0,
    head: str = "linear",
    lr: float = 1e-2,
    batch_size: int = 256,
    device=None,
) -> FineTuned:
    """Train a head on ``fraction`` of the labeled particles; returns a :class:`FineTuned` with held-out metrics.

    Classification uses cross-entropy over the distinct label values; regression the MSE of
    standardized targets. ``metrics`` reports train and held-out accuracy (or RMSE).

    Parameters
    ----------
    model : Encoder
        The pretrained encoder (copied; the original is not changed).
    frames_or_neighborhoods : Frame, Neighborhoods, or a sequence of them
        The labeled data.
    labels : array_like or list
        As in :func:`neighborhoods_and_labels`.
    task : {'classification', 'regression'}
        What to predict.
    fraction : float
        Share of the particles used for training, in (0, 1].
    freeze : bool
        Train the head only (True) or the encoder too (at a tenth of ``lr``).
    epochs : int
        Passes over the training particles.
    seed : int
        Seeds the choice of training particles, the head's weights and the shuffling.
    head : {'linear', 'mlp'}
        The head's kind.
    lr : float
        AdamW learning rate of the head.
    batch_size : int
        Particles per step.
    device : str, torch.device or None
        Default: CUDA when available, else the CPU.

    Returns
    -------
    FineTuned
        In eval mode, on ``device``.
    """
    if task not in TASKS:
        raise SimsslError(f"task must be one of {TASKS}, got {task!r}")
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if value < 1:
            raise SimsslError(f"{name} (--{name.replace('_', '-')}) must be a positive number, got {value}")
    if not lr > 0:
        raise SimsslError(f"the learning rate must be positive, got {lr}")
    device = resolve_device(device)
    rng = np.random.default_rng(seed)
    arrays, labels = neighborhoods_and_labels(frames_or_neighborhoods, labels, model)
    if task == "classification":
        classes, targets = np.unique(labels, return_inverse=True)
        targets = torch.from_numpy(targets.astype(np.int64))
    else:
        classes, targets = None, torch.from_numpy(labels.astype(np.float32))
    train = torch.from_numpy(choose_labeled(labels, fraction, task, rng))
    torch.manual_seed(seed)
    encoder = copy.deepcopy(model).to(device)
    embeddings = encoder.embed(arrays, device=device, to_numpy=False)  # exact frozen features, also the standardization
    mean, std = embeddings[train].mean(0), embeddings[train].std(0, unbiased=False).clamp_min(1e-6)
    result = FineTuned(
        encoder,
        make_head(encoder.config.dim, len(classes) if classes is not None else 1, head),
        task,
        head,
        classes,
        mean,
        std,
    ).to(device)
    target_mean, target_std = (
        (0.0, 1.0)
        if task == "classification"
        else (float(targets[train].mean()), float(targets[train].std().clamp_min(1e-6)))
    )
    encoder.requires_grad_(not freeze)
    parameters = [p for p in result.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(parameters, lr=lr if freeze else lr / 10, weight_decay=1e-4)
    generator = torch.Generator().manual_seed(seed)
    tensors = [a.to(device) for a in arrays]
    for _ in range(epochs):
        order = train[torch.randperm(len(train), generator=generator)]
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            if freeze:
                embedding = embeddings[rows.to(device)]
            else:
                encoder.train()
                bonds, mask, center, neighbor, shells = (t[rows.to(device)] for t in tensors)
                embedding = encoder(bonds, mask.bool(), center.long(), neighbor.long(), shells)
            out = result.head_output(embedding)
            y = targets[rows].to(device)
            loss = (
                F.cross_entropy(out, y)
                if task == "classification"
                else F.mse_loss((out - target_mean) / target_std, (y - target_mean) / target_std)
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    encoder.requires_grad_(True)
    result.eval()
    result.metrics = score(
        result,
        encoder.embed(arrays, device=device, to_numpy=False) if not freeze else embeddings,
        targets.to(device),
        train,
    )
    return result


@torch.no_grad()
def score(result: FineTuned, embeddings: torch.Tensor, targets: torch.Tensor, train: torch.Tensor) -> dict:
    """Accuracy (classification) or RMSE (regression) on the labeled and on the held-out particles.

    Parameters
    ----------
    result : FineTuned
        The model whose head is scored.
    embeddings : torch.Tensor
        (N, D) embeddings of all particles.
    targets : torch.Tensor
        (N,) class indices (int64) or values (float32), on the embeddings' device.
    train : torch.Tensor
        Indices of the training particles.

    Returns
    -------
    dict
        ``labeled``, ``held_out`` (counts), ``train_<metric>`` and ``held_out_<metric>`` (NaN if empty).
    """
    held_out = torch.ones(len(targets), dtype=torch.bool)
    held_out[train] = False
    out = result.head_output(embeddings)
    name = "accuracy" if result.task == "classification" else "rmse"
    per = (out.argmax(1) == targets).float() if result.task == "classification" else (out - targets).square()
    metrics = {"labeled": int(len(train)), "held_out": int(held_out.sum())}
    for split, rows in (("train", ~held_out), ("held_out", held_out)):
        value = float(per[rows.to(per.device)].mean()) if rows.any() else float("nan")
        metrics[f"{split}_{name}"] = value if result.task == "classification" else value**0.5
    return metrics
