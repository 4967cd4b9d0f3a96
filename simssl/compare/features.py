"""Per-particle feature matrices that :func:`~simssl.compare.report.compare` probes: Steinhardt and learned embeddings.

Both feature sets are "raw + neighbor-averaged", so neither side gets more context than the other:

* :func:`steinhardt_features`: 14 columns over the 12 nearest neighbors: q4, q6, q8, q10, q12,
  w4, w6 (normalized w_l), then the same seven Lechner-Dellago averaged (``q4_avg`` ... ``w6_avg``);
* :func:`embedding_features`: the encoder's embedding (D columns) followed by its neighbor average
  (D columns: mean over the particle and its ``k`` model neighbors), 2 D columns;
* :func:`multishell_steinhardt_features`: the multi-shell Steinhardt baseline of the benchmarks.
"""

from __future__ import annotations

import numpy as np

from ..compute import Embedding, Steinhardt
from ..defaults import AVERAGE_SUFFIX, STEINHARDT_DEGREES, STEINHARDT_NEIGHBORS
from ..frame import Frame

STEINHARDT_L = (4, 6, 8, 10, 12)
STEINHARDT_W = STEINHARDT_DEGREES
STEINHARDT_K = STEINHARDT_NEIGHBORS
STEINHARDT_COLUMNS = [
    f"{kind}{l}{suffix}"
    for suffix in ("", AVERAGE_SUFFIX)
    for kind, ls in (("q", STEINHARDT_L), ("w", STEINHARDT_W))
    for l in ls
]
#: the feature sets that ``compare`` probes, keyed as in ``Report.probes``, and how they read in tables and plots
PROBES = {"embedding": "embedding (raw + avg)", "steinhardt": "Steinhardt (q4..q12, w4, w6; raw + avg)"}


def steinhardt_features(frame: Frame) -> np.ndarray:
    """(N, 14) float32: the :data:`STEINHARDT_COLUMNS` of ``frame`` over its 12 nearest neighbors.

    Parameters
    ----------
    frame : Frame
        The snapshot.

    Returns
    -------
    numpy.ndarray
        (N, 14) float32, columns in the order of :data:`STEINHARDT_COLUMNS`.
    """
    columns = Steinhardt(l=STEINHARDT_L, wl=True, average=True, num_neighbors=STEINHARDT_K).compute(frame)
    return np.stack([columns[name] for name in STEINHARDT_COLUMNS], axis=1)


#: shells (nearest-neighbor counts) of the multi-shell Steinhardt baseline
MULTISHELL_K: tuple[int, ...] = (4, 8, 12, 18, 26, 42)
#: degrees of the multi-shell Steinhardt baseline
MULTISHELL_L: tuple[int, ...] = tuple(range(2, 13))


def multishell_steinhardt_features(frame: Frame) -> np.ndarray:
    """(N, 132) float32: q2..q12, raw and Lechner-Dellago averaged, over the 4, 8, 12, 18, 26 and 42 nearest.

    The strongest classical baseline measured on noisy crystals (0.98 at sigma 0.15 in
    ``benchmarks/noise_classification.py``): several radii, each with the average of the neighbors'
    q_lm taken before the invariant.

    Parameters
    ----------
    frame : Frame
        The snapshot (more than 42 particles).

    Returns
    -------
    numpy.ndarray
        (N, 2 x 11 x 6) float32; per shell the raw q_l then the averaged ones.
    """
    columns = []
    for k in MULTISHELL_K:
        values = Steinhardt(l=MULTISHELL_L, average=True, num_neighbors=k).compute(frame)
        columns += [values[name] for name in Steinhardt(l=MULTISHELL_L, average=True).names]
    return np.stack(columns, axis=1)


def embedding_features(model, frame: Frame, device=None, compile: bool | None = None) -> np.ndarray:
    """(N, 2 D) float32: the model's embeddings, then their neighbor averages (one forward pass).

    Parameters
    ----------
    model : Encoder
        The encoder (embedding size D).
    frame : Frame
        The snapshot.
    device : str, torch.device or None
        Where the encoder runs.
    compile : bool or None
        Use ``torch.compile`` (None: where it pays).

    Returns
    -------
    numpy.ndarray
        (N, 2 D) float32.
    """
    columns = Embedding(model, device=device, compile=compile, average=True).compute(frame)
    return np.concatenate([columns["embedding"], columns["embedding_avg"]], axis=1)
