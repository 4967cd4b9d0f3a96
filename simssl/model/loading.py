"""Getting a model: the shipped default, a checkpoint file, or an untrained random model (by name).

``"default"`` and ``"random"`` are resolved here and nowhere else.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import torch

from ..errors import SimsslError
from .checkpoint import read_checkpoint
from .encoder import Encoder, EncoderConfig

DEFAULT_MODEL = "default_model.pt"
#: name of the shipped model
DEFAULT = "default"
#: name of the untrained, randomly initialized model (for tests and smoke runs only)
RANDOM = "random"


def default_model_path() -> Path:
    """Where the shipped default model lives: ``simssl/data/default_model.pt``."""
    return Path(str(resources.files("simssl.data").joinpath(DEFAULT_MODEL)))


def save(model: Encoder, path, card: dict | None = None) -> None:
    """Write ``model`` (config, weights, model card; ``card`` defaults to ``model.card``) to ``path`` atomically."""
    model.save(path, card=card)


def random_model(seed: int = 0, **config) -> Encoder:
    """An UNTRAINED encoder with seeded random weights, labelled as such in its card (tests, smoke runs)."""
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
    path_or_name: None or ``"default"`` (the shipped default model), ``"random"`` (a clearly
        labelled untrained model for tests; config overrides such as ``n_types=2`` may be given as
        keywords), or a checkpoint path (str or PathLike).
    device: torch device to move the model to (default: CPU).
    """
    if isinstance(path_or_name, str) and path_or_name == RANDOM:
        return random_model(**random_config).to(device or "cpu")
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
    model = Encoder(EncoderConfig(**payload["config"]), card=payload.get("card"))
    model.load_state_dict(payload["state_dict"])
    return model.to(device or "cpu").eval()
