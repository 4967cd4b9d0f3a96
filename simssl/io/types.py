"""Type names to integer ids, in a stable order (numeric names sorted as numbers: '2' before '10')."""

from __future__ import annotations

import numpy as np


def _name_order(name: str):
    return (not name.isdigit(), int(name) if name.isdigit() else 0, name)


def type_ids(names) -> tuple[np.ndarray, tuple[str, ...]]:
    """Map per-particle type names to (ids (N,) int32, sorted unique names).

    Parameters
    ----------
    names : array_like, (N,)
        Per-particle type names (converted to str).

    Returns
    -------
    ids : numpy.ndarray, (N,) int32
        Index of each particle's name in ``unique``.
    unique : tuple of str
        The distinct names, numeric names first and sorted as numbers.

    Examples
    --------
    >>> ids, unique = type_ids(["B", "A", "10", "2"])
    >>> ids.tolist(), unique
    ([3, 2, 1, 0], ('2', '10', 'A', 'B'))
    """
    unique, inverse = np.unique(np.asarray(names).astype(str), return_inverse=True)
    ordered = sorted(unique.tolist(), key=_name_order)
    rank = np.array([ordered.index(name) for name in unique.tolist()], dtype=np.int32)
    return rank[inverse.ravel()], tuple(ordered)
