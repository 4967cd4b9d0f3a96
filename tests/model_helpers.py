"""Shared helpers of the model tests: random neighborhoods, rotations, models and error measures."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import settings

from simssl.checkpoints import random_model

#: small example counts keep the whole model suite fast on 2 cores
#: the same examples on every run (derandomized): property tests cannot make CI flaky
PROPERTY = settings(max_examples=20, deadline=None, derandomize=True)
#: relative tolerance of exact-arithmetic identities per dtype
TOLERANCE = {torch.float32: 1e-5, torch.float64: 1e-10}


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    """A uniformly random proper rotation matrix (det +1)."""
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def random_neighborhoods(rng: np.random.Generator, n: int, k: int, n_types: int = 1, max_padding: int = 0):
    """(bonds, mask, center_types, neighbor_types) numpy arrays with random bonds and trailing padding.

    Bond lengths lie in [0.7, 1.45]: inside the default cutoff (1.5), mostly at full envelope weight.
    """
    directions = rng.normal(size=(n, k, 3))
    bonds = directions / np.linalg.norm(directions, axis=-1, keepdims=True) * rng.uniform(0.7, 1.45, size=(n, k, 1))
    padding = rng.integers(0, max_padding + 1, size=n)
    mask = np.arange(k)[None, :] < (k - np.minimum(padding, k - 1))[:, None]
    bonds[~mask] = 0.0
    center_types = rng.integers(0, n_types, size=n)
    neighbor_types = np.where(mask, rng.integers(0, n_types, size=(n, k)), -1)
    return bonds, mask, center_types, neighbor_types


def as_tensors(arrays, dtype=torch.float32):
    """Torch versions of (bonds, mask, center_types, neighbor_types) with bonds in ``dtype``."""
    bonds, mask, center_types, neighbor_types = arrays
    return (
        torch.as_tensor(bonds, dtype=dtype),
        torch.as_tensor(mask),
        torch.as_tensor(center_types),
        torch.as_tensor(neighbor_types),
    )


def model_for(seed: int, dtype=torch.float32, **config):
    """A seeded random encoder in eval mode and the given dtype."""
    return random_model(seed, **config).to(dtype)


def run(model, arrays, dtype=torch.float32, method=None):
    """Call ``model`` (or one of its methods) on numpy neighborhoods without gradients."""
    with torch.no_grad():
        return (method or model)(*as_tensors(arrays, dtype))


def relative_error(a, b) -> float:
    """||a - b|| / ||a|| over whole arrays."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a), 1e-300))
