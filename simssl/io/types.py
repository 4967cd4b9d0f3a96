"""Type names to integer ids, in a stable order (numeric names sorted as numbers: '2' before '10')."""

from __future__ import annotations

import numpy as np


def _name_order(name: str):
    return (not name.isdigit(), int(name) if name.isdigit() else 0, name)


def type_ids(names) -> tuple[np.ndarray, tuple[str, ...]]:
    """Map per-particle type names to (ids (N,) int32, sorted unique names)."""
    unique, inverse = np.unique(np.asarray(names).astype(str), return_inverse=True)
    ordered = sorted(unique.tolist(), key=_name_order)
    rank = np.array([ordered.index(name) for name in unique.tolist()], dtype=np.int32)
    return rank[inverse.ravel()], tuple(ordered)
