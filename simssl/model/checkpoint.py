"""Checkpoints: config + weights + model card in one file, loadable with ``torch.load(weights_only=True)``.

Only plain Python data (dicts, lists, str, numbers, bools) and tensors are stored, so loading
never unpickles arbitrary objects.
"""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path

import torch

from ..errors import SimsslError
from .encoder import Encoder, EncoderConfig

FORMAT = "simssl-encoder"
VERSION = 1
DEFAULT_MODEL = "default_model.pt"
#: name of the untrained, randomly initialized model (for tests and smoke runs only)
RANDOM = "random"


def default_model_path() -> Path:
    """Where the shipped default model lives: ``simssl/data/default_model.pt``."""
    return Path(str(resources.files("simssl.data").joinpath(DEFAULT_MODEL)))


def save(model: Encoder, path, card: dict | None = None) -> None:
    """Write ``model`` (config, weights, model card) to ``path`` atomically (temporary file, then rename).

    ``card`` (default: ``model.card``) must be JSON-like: it describes training data, task and
    metrics for whoever loads the file.
    """
    card = dict(model.card if card is None else card)
    try:
        json.dumps(card)
    except TypeError as error:
        raise ValueError(f"the model card must hold plain JSON-like data: {error}") from None
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "config": model.config.to_dict(),
        "state_dict": {name: tensor.detach().cpu() for name, tensor in model.state_dict().items()},
        "card": card,
    }
    path = Path(path)
    partial = path.with_name(path.name + ".part")
    torch.save(payload, partial)
    os.replace(partial, path)


def random_model(seed: int = 0, **config) -> Encoder:
    """An UNTRAINED encoder with seeded random weights, labelled as such in its card (tests, smoke runs)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = Encoder(EncoderConfig(**config), card={"name": RANDOM, "trained": False, "description": "randomly initialized, untrained weights"})
    return model.eval()


def load_model(path_or_name=None, device=None, **random_config) -> Encoder:
    """Load an encoder in eval mode: None -> the shipped default model; a path; or ``"random"``.

    ``"random"`` builds a clearly labelled untrained model (config overrides such as ``n_types=2``
    may be given); it exists for tests and must be asked for explicitly.
    """
    if path_or_name == RANDOM:
        return random_model(**random_config).to(device or "cpu")
    if random_config:
        raise TypeError(f"config overrides {sorted(random_config)} apply only to load_model('random')")
    if path_or_name is None:
        path = default_model_path()
        if not path.exists():
            raise SimsslError(
                f"no default model is shipped yet ({path} is missing): train one with `simssl pretrain` and pass its "
                "path, or use load_model('random') for an untrained model"
            )
    else:
        path = Path(path_or_name)
        if not path.exists():
            raise SimsslError(f"{path}: model file does not exist")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise SimsslError(f"{path}: not a readable simssl model checkpoint ({error})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise SimsslError(f"{path}: not a simssl model checkpoint (format {FORMAT!r} expected)")
    if payload.get("version", 0) > VERSION:
        raise SimsslError(f"{path}: checkpoint version {payload['version']} is newer than this simssl understands ({VERSION})")
    model = Encoder(EncoderConfig(**payload["config"]), card=payload.get("card"))
    model.load_state_dict(payload["state_dict"])
    return model.to(device or "cpu").eval()
