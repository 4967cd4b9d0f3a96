"""Multi-task self-supervised pretraining of the encoder: presets, training loop, checkpoints, resume, DDP.

One run: build the data (library crystals and/or user trajectories), split it by environment,
train :class:`~simssl.training.tasks.MultiTask` (weighted sum of task losses) with AdamW and a cosine
or step schedule, validate every epoch, stop early when the validation loss stops improving, and
save the best encoder with a model card (:func:`simssl.checkpoints.save`).

Reproducibility: weights are initialized from ``seed``; each epoch's shuffling and corruption
generators are seeded from (seed, epoch, rank), and validation always uses the same corruption,
so a run resumed from an epoch checkpoint (model, optimizer, schedule, scaler, early-stopping
state, torch RNG) ends exactly where the uninterrupted run does.

Data parallel: launched by ``torchrun``, each rank trains on its shard of every epoch's
permutation under ``DistributedDataParallel`` (gloo on CPU, nccl on CUDA); metrics are averaged
over ranks and only rank 0 writes checkpoints, logs and the model.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch
import torch.distributed as dist

from ..atomic import refuse_overwrite
from ..checkpoints import PRETRAINING, read_checkpoint, save, write_payload
from ..defaults import SHELL_RADII
from ..devices import resolve_device
from ..errors import SimsslError
from ..locking import OutputLock
from ..model import Encoder, EncoderConfig
from . import dataset
from .tasks import MultiTask, build_task


@dataclass(frozen=True)
class TrainConfig:
    """Everything a pretraining run depends on besides seed, device and file paths.

    Fields without a comment: ``data`` (a :class:`~.dataset.DataSpec`), ``epochs``, ``batch_size``,
    ``lr`` and ``weight_decay`` (AdamW), ``step_epochs`` and ``step_gamma`` (the 'step' schedule),
    ``validation_fraction`` and ``grad_clip`` (gradient-norm clip).
    """

    encoder: dict = field(default_factory=dict)  #: EncoderConfig overrides (n_types comes from the data)
    data: dataset.DataSpec = field(default_factory=dataset.DataSpec)
    tasks: dict = field(default_factory=dict)  #: task name -> loss weight
    task_options: dict = field(default_factory=dict)  #: task name -> constructor options (noise, shift, ...)
    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-4
    schedule: str = "cosine"  #: 'cosine' (to 0 over all steps) or 'step' (x step_gamma every step_epochs)
    step_epochs: int = 5
    step_gamma: float = 0.5
    patience: int = 5  #: epochs without validation improvement before stopping
    validation_fraction: float = 0.1
    grad_clip: float = 1.0
    amp: str = "auto"  #: 'auto' (bf16, or fp16 + GradScaler, on CUDA; none on CPU), 'bf16', 'fp16', 'none'

    def to_dict(self) -> dict:
        """The config as plain nested dicts (what checkpoints and model cards store)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        """The inverse of :meth:`to_dict` (lists from JSON become tuples again)."""
        values = dict(values)
        data = dict(values.pop("data"))
        data["noise"] = tuple(data["noise"])
        data["prototypes"] = data["prototypes"] if isinstance(data["prototypes"], str) else tuple(data["prototypes"])
        return cls(data=dataset.DataSpec(**data), **values)


ALL_TASKS = {
    "noisy_bond": 1.0,
    "shift": 1.0,
    "denoising": 1.0,
    "distance_denoising": 1.0,
    "nearest_bond": 1.0,
    "autoencoder": 1.0,
    "frame_classification": 1.0,
}
TASK_OPTIONS = {
    "noisy_bond": {"noise": 0.5},
    "shift": {"shift": 0.1},
    "denoising": {"noise": 0.2},
    "distance_denoising": {"noise": 0.2},
    "autoencoder": {"bottleneck": 4, "bins": 16},
}

# the shipped model: the 16 prototypes outside the paper's held-out set + 60 random space-group crystals (none
# of structures.HELD_OUT_SPACE_GROUPS), noise 0-0.2 nearest-neighbor distances, 256 environments per frame
# (~97k); the continuous, geometry-only encoder (cutoff 1.5, envelope, gated attention) with shell spectra
# (the second hop); neighborhoods and spectra built once, width-bucketed batches; ~105 s per epoch on one
# CPU thread, 25 epochs (~45 min)
SHIPPED = TrainConfig(
    encoder=dict(dim=32, blocks=3, rank=2, shells=SHELL_RADII),
    data=dataset.DataSpec(
        prototypes="pretrain",
        random_space_groups=60,
        noise=(0.0, 0.05, 0.10, 0.15, 0.20),
        environments_per_frame=256,
    ),
    tasks=ALL_TASKS,
    task_options=TASK_OPTIONS,
    epochs=25,
    batch_size=64,
    lr=3e-3,
    patience=6,
)

PRESETS = {
    # seconds: tests and smoke runs
    "small": TrainConfig(
        encoder=dict(dim=16, blocks=1, score_hidden=8),
        data=dataset.DataSpec(
            prototypes=("cF4-Cu", "cI2-W", "cP1-Po"), noise=(0.03,), n_particles=512, environments_per_frame=128
        ),
        tasks=ALL_TASKS,
        task_options=TASK_OPTIONS,
        epochs=4,
        batch_size=64,
        lr=5e-3,
        patience=4,
        validation_fraction=0.25,
    ),
    "default": SHIPPED,
    # the ablations: the shipped encoder without shell spectra (~36 min), and the k=16-nearest, typed, softmax
    # encoder of the default model shipped before shell spectra (40 epochs, ~1 h; reproduces that model)
    "continuous": replace(SHIPPED, encoder=dict(dim=32, blocks=3, rank=2)),
    "knn16": replace(
        SHIPPED, encoder=dict(k=16, dim=32, blocks=3, rank=2, cutoff=None, n_types=1, gated=False), epochs=40
    ),
    # a GPU run: wider, deeper, all space groups sampled, more noise draws
    "large": TrainConfig(
        encoder=dict(dim=64, blocks=4, rank=2, shells=SHELL_RADII),
        data=dataset.DataSpec(random_space_groups=120, noise=(0.02, 0.05, 0.08), draws=2, environments_per_frame=1024),
        tasks=ALL_TASKS,
        task_options=TASK_OPTIONS,
        epochs=60,
        batch_size=256,
        lr=1e-3,
        patience=8,
    ),
}


class Distributed:
    """This process's place in a ``torchrun`` launch (rank 0 of 1 without one).

    Read from the ``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK`` environment variables.
    """

    def __init__(self):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))

    @property
    def main(self) -> bool:
        """Whether this is rank 0 (the one that writes files)."""
        return self.rank == 0

    def start(self, device: torch.device) -> None:
        """Join the process group (nccl for a CUDA ``device``, else gloo) when there are several ranks."""
        if self.world > 1 and not dist.is_initialized():
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")

    def stop(self) -> None:
        """Leave the process group, if one was joined."""
        if self.world > 1 and dist.is_initialized():
            dist.destroy_process_group()

    def mean(self, values: dict[str, float]) -> dict[str, float]:
        """Average a dict of numbers over ranks (same keys on every rank).

        Parameters
        ----------
        values : dict of str to float

        Returns
        -------
        dict of str to float
            The same keys, values averaged over ranks.
        """
        if self.world == 1:
            return values
        tensor = torch.tensor(list(values.values()), dtype=torch.float64)
        dist.all_reduce(tensor)
        return dict(zip(values, (tensor / self.world).tolist()))


def pick_device(device, ranks: Distributed) -> torch.device:
    """The requested device; by default this rank's GPU when CUDA is available, else the CPU.

    Parameters
    ----------
    device : str, torch.device or None
        The requested device.
    ranks : Distributed
        Supplies the local rank (the GPU index).

    Returns
    -------
    torch.device
    """
    if device is not None:
        return resolve_device(device)
    return torch.device(f"cuda:{ranks.local_rank}") if torch.cuda.is_available() else torch.device("cpu")


def autocast_dtype(amp: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype of ``amp`` on ``device`` (None: full float32).

    Parameters
    ----------
    amp : {'auto', 'bf16', 'fp16', 'none'}
        As :attr:`TrainConfig.amp`; other values raise ``ValueError``.
    device : torch.device
        'auto' means no autocast except on CUDA.

    Returns
    -------
    torch.dtype or None
    """
    if amp == "none" or (amp == "auto" and device.type != "cuda"):
        return None
    if amp == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if amp in ("bf16", "fp16"):
        return torch.bfloat16 if amp == "bf16" else torch.float16
    raise ValueError(f"amp must be 'auto', 'bf16', 'fp16' or 'none', got {amp!r}")


def epoch_generator(seed: int, epoch: int, stream: int) -> torch.Generator:
    """A generator seeded from (seed, epoch, stream): the same numbers after a resume.

    Parameters
    ----------
    seed, epoch, stream : int
        The run's seed, the epoch (-1 for validation) and the stream (0: shuffling, 1 + rank:
        corruption).

    Returns
    -------
    torch.Generator
        A CPU generator.
    """
    return torch.Generator().manual_seed((seed * 1_000_003 + epoch) * 1_009 + stream)


def git_commit() -> str | None:
    """The simssl source tree's git commit, if it is a git checkout."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def build_model(config: TrainConfig, data: dataset.EnvironmentSet) -> MultiTask:
    """Encoder (a typed one knows every type in the data; the default is geometry only) plus the task heads.

    Parameters
    ----------
    config : TrainConfig
        Encoder overrides, tasks, weights and task options.
    data : EnvironmentSet
        Supplies the types seen and the number of structures.

    Returns
    -------
    MultiTask
    """
    typed = config.encoder.get("n_types", EncoderConfig.n_types) > 0
    encoder = Encoder(EncoderConfig(**{**config.encoder, "n_types": max(data.n_types, 1) if typed else 0}))
    tasks = {
        name: build_task(name, encoder.config, len(data.structures), **config.task_options.get(name, {}))
        for name in config.tasks
    }
    return MultiTask(encoder, tasks, config.tasks)


def make_schedule(config: TrainConfig, optimizer, steps_per_epoch: int):
    """Per-step LR schedule: cosine to zero over the run, or a step decay every ``step_epochs``.

    Parameters
    ----------
    config : TrainConfig
        ``schedule`` ('cosine' or 'step'; others raise ``ValueError``), ``epochs``, ``step_epochs``,
        ``step_gamma``.
    optimizer : torch.optim.Optimizer
        The optimizer to schedule.
    steps_per_epoch : int
        Optimizer steps per epoch.

    Returns
    -------
    torch.optim.lr_scheduler.LRScheduler
    """
    if config.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, config.epochs * steps_per_epoch))
    if config.schedule == "step":
        return torch.optim.lr_scheduler.StepLR(
            optimizer, step_size=max(1, config.step_epochs * steps_per_epoch), gamma=config.step_gamma
        )
    raise ValueError(f"schedule must be 'cosine' or 'step', got {config.schedule!r}")


class Trainer:
    """State of one pretraining run.

    :meth:`fit` trains it, :meth:`save_checkpoint` / :meth:`load_checkpoint` persist it.

    Parameters
    ----------
    config : TrainConfig
        The run's configuration.
    data : EnvironmentSet
        All environments (split here into training and validation).
    seed : int
        Seeds the weights, the split and every epoch's generators.
    device : str, torch.device or None
        Default: this rank's GPU when CUDA is available, else the CPU.
    progress : bool
        Show progress bars (rank 0 only).

    Raises
    ------
    SimsslError
        If the validation split is too small for the number of tasks and ranks.
    """

    def __init__(
        self, config: TrainConfig, data: dataset.EnvironmentSet, seed: int = 0, device=None, progress: bool = True
    ):
        self.config, self.data, self.seed, self.progress = config, data, seed, progress
        self.ranks = Distributed()
        self.device = pick_device(device, self.ranks)
        self.ranks.start(self.device)
        self.dtype = autocast_dtype(config.amp, self.device)
        torch.manual_seed(seed)
        self.model = build_model(config, data).to(self.device)
        self.train_indices, self.val_indices = dataset.split(len(data), config.validation_fraction, seed)
        if len(self.val_indices) // self.ranks.world < self.model.n_slices:
            raise SimsslError(
                f"the validation split ({len(self.val_indices)} environments) is too small for "
                f"{self.model.n_slices} tasks on {self.ranks.world} rank(s): "
                "use more data or a larger validation fraction"
            )
        self.steps_per_epoch = dataset.n_batches(
            len(self.train_indices), config.batch_size, self.ranks.world, self.model.n_slices
        )
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        self.schedule = make_schedule(config, self.optimizer, self.steps_per_epoch)
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.dtype == torch.float16)
        self.parallel = self.model
        if self.ranks.world > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.parallel = torch.nn.parallel.DistributedDataParallel(
                self.model, device_ids=ids, find_unused_parameters=False
            )
        self.epoch = 0  # completed epochs
        self.step = 0
        self.history: list[dict] = []
        self.best = {"loss": float("inf"), "epoch": 0, "state": None, "bad_epochs": 0}
        self.elapsed = 0.0  # seconds of previous segments of a resumed run

    def autocast(self):
        """The run's autocast context (a null context without mixed precision)."""
        return torch.autocast(self.device.type, dtype=self.dtype) if self.dtype is not None else nullcontext()

    def losses(self, batch, generator) -> dict[str, torch.Tensor]:
        """{task: loss} of one clean batch (Environments), corrupted with ``generator`` (torch.Generator)."""
        inputs, targets, bounds = self.model.prepare(batch, generator)
        targets = {name: value.to(self.device, non_blocking=True) for name, value in targets.items()}
        with self.autocast():
            return self.parallel(inputs.to(self.device), targets, bounds)

    def train_epoch(self) -> dict[str, float]:
        """One pass over this rank's shard; returns the mean per-task (and total) training loss over ranks."""
        from tqdm.auto import tqdm

        self.model.train()
        shuffle = epoch_generator(self.seed, self.epoch, 0)
        corrupt = epoch_generator(self.seed, self.epoch, 1 + self.ranks.rank)
        sums: dict[str, float] = {}
        bar = tqdm(
            dataset.batches(
                self.data,
                self.train_indices,
                self.config.batch_size,
                shuffle,
                self.ranks.rank,
                self.ranks.world,
                self.model.n_slices,
            ),
            total=self.steps_per_epoch,
            desc=f"epoch {self.epoch + 1}/{self.config.epochs}",
            unit="batch",
            disable=not (self.progress and self.ranks.main),
            leave=False,
        )
        for batch in bar:
            losses = self.losses(batch, corrupt)
            total = self.model.total(losses)
            self.optimizer.zero_grad(set_to_none=True)
            self.scaler.scale(total).backward()
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
            self.scaler.step(self.optimizer)
            self.scaler.update()
            self.schedule.step()
            self.step += 1
            for name, value in {**losses, "total": total}.items():
                sums[name] = sums.get(name, 0.0) + float(value.detach())
            bar.set_postfix(loss=f"{float(total.detach()):.4f}")
        return self.ranks.mean({name: value / max(1, self.steps_per_epoch) for name, value in sums.items()})

    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        """Per-task (and total) validation loss with a fixed corruption, weighted by batch size, averaged over ranks."""
        self.model.eval()
        corrupt = epoch_generator(self.seed, -1, 1 + self.ranks.rank)
        sums: dict[str, float] = {}
        count = 0
        for batch in dataset.batches(
            self.data,
            self.val_indices,
            self.config.batch_size,
            None,
            self.ranks.rank,
            self.ranks.world,
            self.model.n_slices,
        ):
            losses = self.losses(batch, corrupt)
            for name, value in {**losses, "total": self.model.total(losses)}.items():
                sums[name] = sums.get(name, 0.0) + float(value) * len(batch.bonds)
            count += len(batch.bonds)
        return self.ranks.mean({name: value / max(1, count) for name, value in sums.items()})

    def fit(self, checkpoint_every: int = 0, checkpoint_dir: Path | None = None, log: Path | None = None) -> dict:
        """Train until ``config.epochs`` or early stopping; returns the last epoch's record.

        Parameters
        ----------
        checkpoint_every : int
            Save a checkpoint every this many epochs (0: never; needs ``checkpoint_dir``).
        checkpoint_dir : pathlib.Path or None
            Where ``epochNNNN.pt`` checkpoints go.
        log : pathlib.Path or None
            A JSON-lines file that gets one record per epoch (appended).

        Returns
        -------
        dict
            ``epoch``, ``step``, ``lr``, ``seconds``, ``train`` and ``val`` (per-task losses).
        """
        start = time.perf_counter()
        record = self.history[-1] if self.history else {}
        while self.epoch < self.config.epochs and self.best["bad_epochs"] < self.config.patience:
            train = self.train_epoch()
            val = self.validate()
            self.epoch += 1
            if val["total"] < self.best["loss"]:
                state = {
                    name: tensor.detach().cpu().clone() for name, tensor in self.model.encoder.state_dict().items()
                }
                self.best = {"loss": val["total"], "epoch": self.epoch, "state": state, "bad_epochs": 0}
            else:
                self.best["bad_epochs"] += 1
            record = {
                "epoch": self.epoch,
                "step": self.step,
                "lr": self.schedule.get_last_lr()[0],
                "seconds": round(self.elapsed + time.perf_counter() - start, 3),
                "train": train,
                "val": val,
            }
            self.history.append(record)
            if self.ranks.main:
                if log is not None:
                    with open(log, "a") as stream:
                        stream.write(json.dumps(record) + "\n")
                if checkpoint_dir is not None and checkpoint_every and (self.epoch % checkpoint_every == 0):
                    self.save_checkpoint(
                        checkpoint_dir / f"epoch{self.epoch:04d}.pt", seconds=self.elapsed + time.perf_counter() - start
                    )
        self.elapsed += time.perf_counter() - start
        return record

    def best_encoder(self) -> Encoder:
        """The encoder with the weights of the best validation epoch."""
        encoder = copy.deepcopy(self.model.encoder).cpu()
        if self.best["state"] is not None:
            encoder.load_state_dict(self.best["state"])
        return encoder.eval()

    def save_checkpoint(self, path: Path, seconds: float) -> None:
        """Everything needed for an exact resume, written atomically (loadable with weights_only).

        Parameters
        ----------
        path : pathlib.Path
            Target file (parent folders are created).
        seconds : float
            Training time so far, stored for the model card.
        """
        payload = {
            "format": PRETRAINING,
            "config": self.config.to_dict(),
            "seed": self.seed,
            "epoch": self.epoch,
            "step": self.step,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "schedule": self.schedule.state_dict(),
            "scaler": self.scaler.state_dict(),
            "best": self.best,
            "history": self.history,
            "seconds": seconds,
            "rng": {
                "torch": torch.get_rng_state(),
                "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            },
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        write_payload(path, payload)

    def load_checkpoint(self, payload: dict) -> None:
        """Restore the state :meth:`save_checkpoint` saved (a :func:`~simssl.checkpoints.read_checkpoint` payload)."""
        self.model.load_state_dict(payload["model"])
        self.optimizer.load_state_dict(payload["optimizer"])
        self.schedule.load_state_dict(payload["schedule"])
        self.scaler.load_state_dict(payload["scaler"])
        self.epoch, self.step, self.best, self.history = (
            payload["epoch"],
            payload["step"],
            payload["best"],
            payload["history"],
        )
        self.elapsed = payload["seconds"]
        torch.set_rng_state(payload["rng"]["torch"])
        if payload["rng"]["cuda"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(payload["rng"]["cuda"])


def load_data(
    config: TrainConfig,
    data_files=(),
    seed: int = 0,
    library: bool = True,
    progress: bool = False,
    read_options: dict | None = None,
) -> dataset.EnvironmentSet:
    """The run's EnvironmentSet: library crystals (unless ``library`` is False) and the frames of ``data_files``.

    Parameters
    ----------
    config : TrainConfig
        Its ``data`` spec and the encoder's ``k``.
    data_files : iterable of str
        User trajectories, one structure per file.
    seed : int
        Seed of the library and of the subsampling.
    library : bool
        Include the library crystals of ``config.data``.
    progress : bool
        Show a progress bar.
    read_options : dict or None
        Keyword arguments of :func:`simssl.read_frames` for ``data_files``.

    Returns
    -------
    EnvironmentSet
    """
    from itertools import chain

    sources = chain(
        dataset.library_frames(config.data, seed) if library else (), dataset.user_frames(data_files, read_options)
    )
    return dataset.build(
        sources,
        EncoderConfig(**config.encoder),
        environments_per_frame=config.data.environments_per_frame,
        seed=seed,
        progress=progress,
    )


def model_card(trainer: Trainer, data: dataset.EnvironmentSet, wall_seconds: float) -> dict:
    """The final model's card: data, tasks, hyperparameters, metrics, provenance.

    ``wall_seconds`` is this invocation's time (data included); ``train_seconds`` sums the
    training time of every segment of a resumed run.

    Parameters
    ----------
    trainer : Trainer
        A trained run.
    data : EnvironmentSet
        Its data.
    wall_seconds : float
        This invocation's time.

    Returns
    -------
    dict
        Plain JSON-like data.
    """
    last = trainer.history[-1] if trainer.history else {}
    best = next((r for r in trainer.history if r["epoch"] == trainer.best["epoch"]), last)
    return {
        "name": "simssl-pretrained",
        "trained": True,
        "description": "GA-attention encoder pretrained with self-supervised tasks (simssl pretrain)",
        "data": data.summary(),
        "tasks": {
            name: {"weight": weight, **trainer.config.task_options.get(name, {})}
            for name, weight in trainer.config.tasks.items()
        },
        "hyperparameters": trainer.config.to_dict(),
        "seed": trainer.seed,
        "world_size": trainer.ranks.world,
        "metrics": {
            "best_epoch": trainer.best["epoch"],
            "epochs_run": trainer.epoch,
            "steps": trainer.step,
            "train": best.get("train", {}),
            "val": best.get("val", {}),
            "final_train": last.get("train", {}),
            "final_val": last.get("val", {}),
        },
        "wall_seconds": round(wall_seconds, 2),
        "train_seconds": round(trainer.elapsed, 2),
        "device": str(trainer.device),
        "torch": str(torch.__version__),
        "git_commit": git_commit(),
    }


def pretrain(
    config: TrainConfig | str = "default",
    out="model.pt",
    data_files=(),
    seed: int = 0,
    device=None,
    resume=None,
    checkpoint_every: int = 1,
    log=None,
    epochs: int | None = None,
    library: bool = True,
    progress: bool = True,
    read_options: dict | None = None,
    force: bool = True,
) -> dict:
    """Pretrain an encoder and save it to ``out``; returns the model card.

    ``config``: a preset name or TrainConfig; ``resume``: a checkpoint written by an earlier run
    (its config and seed are used; ``epochs`` may extend it); ``read_options``: how ``data_files``
    are read (``frames``, ``format``, ``box`` of :func:`simssl.read_frames`). Checkpoints go to
    ``<out>.checkpoints/epochNNNN.pt`` every ``checkpoint_every`` epochs (0: never). Rank 0 holds
    ``out``'s lock (:mod:`simssl.locking`) for the whole run, so a second run aimed at the same
    model is refused (:class:`~simssl.errors.OutputInUse`) before it builds any data.

    Parameters
    ----------
    config : TrainConfig or str
        A TrainConfig or a name of :data:`PRESETS`.
    out : str or PathLike
        Where the best encoder is saved.
    data_files : iterable of str
        User trajectories to train on besides (or instead of) the library.
    seed : int
        Seed of the run (ignored with ``resume``).
    device : str, torch.device or None
        Default: this rank's GPU when CUDA is available, else the CPU.
    resume : str, PathLike or None
        A pretraining checkpoint to continue from.
    checkpoint_every : int
        Epochs between checkpoints (0: never).
    log : str, PathLike or None
        A JSON-lines file with one record per epoch.
    epochs : int or None
        Override ``config.epochs``.
    library : bool
        Train on the library crystals of ``config.data``.
    progress : bool
        Show progress bars.
    read_options : dict or None
        How ``data_files`` are read.
    force : bool
        Replace an existing ``out`` (otherwise refused before any data is built).

    Returns
    -------
    dict
        The model card.
    """
    if epochs is not None and epochs < 1:
        raise SimsslError(f"--epochs must be a positive number, got {epochs}")
    if checkpoint_every < 0:
        raise SimsslError(f"--checkpoint-every must be 0 (never) or a positive number, got {checkpoint_every}")
    payload = read_checkpoint(resume, PRETRAINING) if resume is not None else None
    if payload is not None:
        config, seed = TrainConfig.from_dict(payload["config"]), payload["seed"]
    elif isinstance(config, str):
        if config not in PRESETS:
            raise SimsslError(f"unknown preset {config!r}; choose from {', '.join(PRESETS)}")
        config = PRESETS[config]
    if epochs is not None:
        config = replace(config, epochs=epochs)
    out = Path(out)
    main = Distributed().main
    with OutputLock(out) if main else nullcontext():  # rank 0 writes: it holds ``out`` for the run
        refuse_overwrite(out, force)
        start = time.perf_counter()
        data = load_data(
            config, data_files, seed, library=library, progress=progress and main, read_options=read_options
        )
        trainer = Trainer(config, data, seed=seed, device=device, progress=progress)
        try:
            if payload is not None:
                trainer.load_checkpoint(payload)
            elif log is not None and trainer.ranks.main:
                Path(log).write_text("")
            trainer.fit(checkpoint_every, out.with_name(out.name + ".checkpoints"), None if log is None else Path(log))
            card = model_card(trainer, data, time.perf_counter() - start)
            if trainer.ranks.main:
                save(trainer.best_encoder(), out, card=card)
        finally:
            trainer.ranks.stop()
    return card
