"""Getting a model: the shipped default, a checkpoint file, or an untrained random model (by name).

``"default"`` and ``"random"`` are resolved here and nowhere else.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import torch

from ..devices import resolve_device
from ..errors import SimsslError
from .checkpoint import read_checkpoint
from .encoder import Encoder, EncoderConfig

DEFAULT_MODEL = "default_model.pt"
#: name of the shipped model
DEFAULT = "default"
#: name of the untrained, randomly initialized model (for tests and smoke runs only)
RANDOM = "random"


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
    model.save(path, card=card)


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
