"""Checkpoint files: config + weights + model card in one file, loadable with ``torch.load(weights_only=True)``.

Only plain Python data (dicts, lists, str, numbers, bools) and tensors are stored, so loading
never unpickles arbitrary objects. This module reads and writes payloads; it knows no Encoder
(:mod:`.loading` builds models from payloads), so the model package has no import cycle.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from ..atomic import AtomicFile
from ..errors import SimsslError

FORMAT = "simssl-encoder"
VERSION = 1


def write_checkpoint(path, config: dict, state_dict: dict, card: dict) -> None:
    """Write a model payload to ``path`` atomically (temporary file beside it, then rename; replaces ``path``).

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
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "config": dict(config),
        "state_dict": {name: tensor.detach().cpu() for name, tensor in state_dict.items()},
        "card": dict(card),
    }
    with AtomicFile(path, force=True) as target:
        torch.save(payload, target.temporary)


def read_checkpoint(path) -> dict:
    """The payload of a checkpoint file (``format``, ``version``, ``config``, ``state_dict``, ``card``), validated.

    Parameters
    ----------
    path : str or PathLike
        A checkpoint written by :func:`write_checkpoint`.

    Returns
    -------
    dict
        The payload, with tensors on the CPU.

    Raises
    ------
    SimsslError
        If the file is missing, unreadable, not a simssl checkpoint, or of a newer version.
    """
    path = Path(path)
    if not path.exists():
        raise SimsslError(f"{path}: model file does not exist")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # torch's own message advises weights_only=False: unsafe, and no help for a wrong file
        raise SimsslError(
            f"{path}: not a simssl model checkpoint (torch cannot load it as tensors and plain data); give a file "
            "written by simssl pretrain or model.save(), or 'default' or 'random'"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise SimsslError(f"{path}: not a simssl model checkpoint (format {FORMAT!r} expected)")
    if payload.get("version", 0) > VERSION:
        raise SimsslError(
            f"{path}: checkpoint version {payload['version']} is newer than this simssl understands ({VERSION})"
        )
    return payload
