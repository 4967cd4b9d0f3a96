"""Every simssl checkpoint file is read and written here: models by name or path, pretraining epochs, fine-tuned heads.

A file holds one payload of plain Python data (dicts, lists, str, numbers, bools) and tensors with a
``format`` tag, loadable with ``torch.load(weights_only=True)``, so reading never unpickles arbitrary
objects. :func:`read_checkpoint` is the one reader (it checks the tag against the kind expected);
:func:`write_payload` the one writer (atomic). ``"default"`` and ``"random"`` model names are resolved
here and nowhere else.
"""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path

import torch

from .atomic import AtomicFile
from .devices import resolve_device
from .errors import SimsslError
from .model.encoder import Encoder, EncoderConfig

#: format tag of a model file (:func:`save`, ``simssl pretrain``)
ENCODER = "simssl-encoder"
#: format tag of a pretraining epoch checkpoint (``OUT.checkpoints/epochNNNN.pt``)
PRETRAINING = "simssl-pretrain-checkpoint"
#: format tag of a fine-tuned model (encoder, standardization and head)
FINETUNED = "simssl-finetuned"
#: newest payload version this simssl reads (model files; the others carry none)
VERSION = 1
#: per format: what the file is called in errors when it is missing, what it should be, and what to give instead
KINDS = {
    ENCODER: (
        "model file",
        "simssl model checkpoint",
        "give a file written by simssl pretrain or model.save(), or 'default' or 'random'",
    ),
    PRETRAINING: (
        "checkpoint",
        "simssl pretraining checkpoint",
        "give a file of OUT.checkpoints/ written by an earlier simssl pretrain",
    ),
    FINETUNED: ("fine-tuned model file", "simssl fine-tuned model", "give a file written by simssl finetune"),
}

DEFAULT_MODEL = "default_model.pt"
#: name of the shipped model
DEFAULT = "default"
#: name of the untrained, randomly initialized model (for tests and smoke runs only)
RANDOM = "random"


def write_payload(path, payload: dict) -> None:
    """Write a checkpoint payload (a dict with a ``format`` tag) to ``path`` atomically (replaces ``path``).

    Parameters
    ----------
    path : str or PathLike
        Target file; an existing file is replaced.
    payload : dict
        Plain data and tensors only (so that :func:`read_checkpoint` can load it safely).
    """
    with AtomicFile(path, force=True) as target:
        torch.save(payload, target.temporary)


def write_checkpoint(path, config: dict, state_dict: dict, card: dict) -> None:
    """Write a model file (format :data:`ENCODER`) to ``path`` atomically.

    Parameters
    ----------
    path : str or PathLike
        Target file; an existing file is replaced.
    config : dict
        The EncoderConfig as a dict.
    state_dict : dict of str to torch.Tensor
        The weights; stored detached, on the CPU.
    card : dict
        JSON-like data that describes training data, task and metrics for whoever loads the file.

    Raises
    ------
    ValueError
        If ``card`` is not JSON-serializable.
    """
    try:
        json.dumps(card)
    except TypeError as error:
        raise ValueError(f"the model card must hold plain JSON-like data: {error}") from None
    write_payload(
        path,
        {
            "format": ENCODER,
            "version": VERSION,
            "config": dict(config),
            "state_dict": {name: tensor.detach().cpu() for name, tensor in state_dict.items()},
            "card": dict(card),
        },
    )


def read_checkpoint(path, format: str = ENCODER) -> dict:
    """The payload of a checkpoint file of the given ``format``, validated, with tensors on the CPU.

    Parameters
    ----------
    path : str or PathLike
        A file written by :func:`write_payload` (or :func:`write_checkpoint`).
    format : str
        The kind expected: :data:`ENCODER` (a model file: ``format``, ``version``, ``config``,
        ``state_dict``, ``card``), :data:`PRETRAINING` or :data:`FINETUNED`.

    Returns
    -------
    dict

    Raises
    ------
    SimsslError
        If the file is missing, unreadable, not a checkpoint of ``format``, or of a newer version.
    """
    missing, kind, hint = KINDS[format]
    path = Path(path)
    if not path.exists():
        raise SimsslError(f"{path}: {missing} does not exist")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # torch's own message advises weights_only=False: unsafe, and no help for a wrong file
        raise SimsslError(f"{path}: not a {kind} (torch cannot load it as tensors and plain data); {hint}") from None
    if not isinstance(payload, dict) or payload.get("format") != format:
        raise SimsslError(f"{path}: not a {kind} (format {format!r} expected); {hint}")
    if payload.get("version", 0) > VERSION:
        raise SimsslError(
            f"{path}: checkpoint version {payload['version']} is newer than this simssl understands ({VERSION})"
        )
    return payload


def default_model_path() -> Path:
    """Where the shipped default model lives: ``simssl/data/default_model.pt``.

    Returns
    -------
    pathlib.Path
        The path (the file may be missing if no default model is shipped).
    """
    return Path(str(resources.files("simssl.data").joinpath(DEFAULT_MODEL)))


def save(model: Encoder, path, card: dict | None = None) -> None:
    """Write ``model`` (config, weights, model card; ``card`` defaults to ``model.card``) to ``path`` atomically.

    Parameters
    ----------
    model : Encoder
        The model to save.
    path : str or PathLike
        Target checkpoint file; replaced if it exists.
    card : dict or None
        JSON-like model card (default: ``model.card``).
    """
    write_checkpoint(path, model.config.to_dict(), model.state_dict(), dict(model.card if card is None else card))


def random_model(seed: int = 0, **config) -> Encoder:
    """An UNTRAINED encoder with seeded random weights, labelled as such in its card (tests, smoke runs).

    The global torch random state is left unchanged.

    Parameters
    ----------
    seed : int
        Seed of the weights.
    **config
        :class:`EncoderConfig` fields, e.g. ``n_types=2``.

    Returns
    -------
    Encoder
        In eval mode, on the CPU.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = Encoder(
            EncoderConfig(**config),
            card={"name": RANDOM, "trained": False, "description": "randomly initialized, untrained weights"},
        )
    return model.eval()


def load_model(path_or_name=None, device=None, **random_config) -> Encoder:
    """Load an encoder in eval mode.

    Parameters
    ----------
    path_or_name : None, str or PathLike
        None or ``"default"`` (the shipped default model), ``"random"`` (a clearly labelled
        untrained model for tests), or a checkpoint path.
    device : str, torch.device or None
        Torch device to move the model to (default: CPU).
    **random_config
        :class:`EncoderConfig` overrides such as ``n_types=2``; only with ``"random"``.

    Returns
    -------
    Encoder
        In eval mode.

    Raises
    ------
    SimsslError
        If the default model is not shipped, or the checkpoint is missing or invalid.
    TypeError
        If config overrides are given for anything but ``"random"``.
    """
    if isinstance(path_or_name, str) and path_or_name == RANDOM:
        return random_model(**random_config).to(resolve_device(device or "cpu"))
    if random_config:
        raise TypeError(f"config overrides {sorted(random_config)} apply only to load_model('random')")
    if path_or_name is None or (isinstance(path_or_name, str) and path_or_name == DEFAULT):
        path = default_model_path()
        if not path.exists():
            raise SimsslError(
                f"no default model is shipped yet ({path} is missing): train one with `simssl pretrain` and pass its "
                "path, or use load_model('random') for an untrained model"
            )
    else:
        path = Path(os.fspath(path_or_name))
    payload = read_checkpoint(path)
    model = Encoder(EncoderConfig.from_dict(payload["config"]), card=payload.get("card"))
    model.load_state_dict(payload["state_dict"])
    return model.to(resolve_device(device or "cpu")).eval()
