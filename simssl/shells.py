"""Shell spectra: every particle's bond-order spectra over several radii, raw and neighbor-averaged.

The encoder's second, equivariant hop. For each smooth radial window c (an envelope that is 1 up
to ``radius - taper`` and falls to exactly 0 at ``radius``) and degree l, a particle's density
coefficients are ``A_clm(i) = sum_j g_c(r_ij) Y_lm(r_ij) / (1 + sum_j g_c(r_ij))`` (real,
orthonormal spherical harmonics). Neighbors then exchange these orientation-carrying features
before any invariant is taken: ``Abar_clm(i) = (A_clm(i) + sum_j g_c A_clm(j)) / (1 + sum_j g_c)``
(the Lechner-Dellago step, here with smooth weights), and the invariants are the rotation-invariant
norms ``sqrt(4 pi / (2l + 1) sum_m A_clm^2)`` of both: Steinhardt q_l generalized to smooth,
nested shells. In cubic environments every l <= 2 summary vanishes (the symmetry trap), so the
degrees reach 12. Every step is a continuous function of the positions (weights vanish at each
window's rim; the ``1 +`` keeps denominators away from 0), so the spectra do not jump at distance
ties, unlike k-nearest Steinhardt.

Measured on the noise benchmark's five crystals (logistic regression, 2,000 particles each): three
windows 1.2/1.5/1.9 with degrees 4..12 reach 0.978 at sigma 0.15, like the multi-shell k-nearest
Steinhardt baseline (0.978); without the averaging step 0.71; one window 0.71.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch

from .defaults import SHELL_DEGREES, SHELL_RADII, SHELL_TAPER
from .smooth import envelope

#: particles per chunk: bounds the (chunk, width, harmonics) intermediates to ~100 MB whatever N is
CHUNK = 4096


def real_harmonics(unit: torch.Tensor, degrees) -> torch.Tensor:
    """Real orthonormal spherical harmonics Y_lm of unit vectors for each degree in ``degrees``.

    Evaluated by the stable fully-normalized associated-Legendre recursion on polynomials (the
    azimuthal part comes from (x + iy)^m), so there is no division by sin(theta) and no loss of
    precision at the poles. Orthonormal: ``sum_m Y_lm(u)^2 = (2l + 1) / (4 pi)`` for every unit u.

    Parameters
    ----------
    unit : torch.Tensor
        Unit vectors, shape (..., 3).
    degrees : sequence of int
        Degrees l >= 0.

    Returns
    -------
    torch.Tensor
        Shape (sum(2 l + 1), ...): per degree, in order, its 2l + 1 rows (m = 0, then cos/sin pairs);
        harmonics first, so each one is contiguous.
    """
    x, y, z = unit.unbind(-1)
    lmax = max(degrees)
    wanted = set(degrees)
    cos_m, sin_m = [torch.ones_like(x)], [torch.zeros_like(x)]
    for _ in range(lmax):  # (x + iy)^m = rho^m (cos m phi + i sin m phi)
        cos, sin = cos_m[-1], sin_m[-1]
        cos_m.append(x * cos - y * sin)
        sin_m.append(x * sin + y * cos)
    columns: dict[int, list[torch.Tensor]] = {l: [] for l in wanted}
    diagonal = torch.full_like(x, math.sqrt(1 / (4 * math.pi)))  # normalized P_m^m / rho^m
    for m in range(lmax + 1):
        if m:
            diagonal = diagonal * math.sqrt((2 * m + 1) / (2 * m))
        previous, current = None, diagonal
        for l in range(m, lmax + 1):
            if l == m + 1:
                previous, current = current, math.sqrt(2 * m + 3) * z * current
            elif l > m + 1:
                a = math.sqrt((4 * l * l - 1) / (l * l - m * m))
                b = math.sqrt((2 * l + 1) * ((l - 1) ** 2 - m * m) / ((2 * l - 3) * (l * l - m * m)))
                previous, current = current, a * z * current - b * previous
            if l in wanted:
                scaled = current if m == 0 else math.sqrt(2) * current
                columns[l] += [scaled] if m == 0 else [scaled * cos_m[m], scaled * sin_m[m]]
    return torch.stack([column for l in degrees for column in columns[l]])


def spectrum_width(radii, degrees) -> int:
    """Columns of :func:`shell_spectra`: raw and averaged, per window and degree."""
    return 2 * len(radii) * len(degrees)


def shell_spectra(hood, radii=SHELL_RADII, degrees=SHELL_DEGREES, taper: float = SHELL_TAPER) -> np.ndarray:
    """Per-particle shell spectra (N, 2 x len(radii) x len(degrees)) float32 (see the module docstring).

    Parameters
    ----------
    hood : simssl.neighbors.Neighborhoods
        Every particle's neighbors within at least ``max(radii)`` (a cutoff query,
        :func:`simssl.neighbors.compute_neighborhoods`); ``hood.scale`` is the unit of ``radii``.
    radii : sequence of float
        Outer radius of each smooth window (unit-free).
    degrees : sequence of int
        Spherical-harmonic degrees l.
    taper : float
        Width of each window's fall to 0.

    Returns
    -------
    numpy.ndarray
        Per window, per degree: the raw invariant, then the neighbor-averaged one.
    """
    if hood.cutoff is None or hood.cutoff < max(radii):
        raise ValueError(f"shell spectra up to radius {max(radii)} need a cutoff query at least as wide")
    n, width = hood.mask.shape
    mask = torch.from_numpy(hood.mask)
    lengths = torch.from_numpy(np.linalg.norm(hood.vectors, axis=-1) / np.float32(hood.scale))  # (N, w) unit-free
    radius = torch.tensor(radii, dtype=lengths.dtype)[:, None, None]
    # density coefficients A (C, N, H), one particle chunk at a time: the chunk's harmonics serve every window
    density = torch.empty((len(radii), n, sum(2 * l + 1 for l in degrees)))
    norms = torch.empty((len(radii), n))
    for start in range(0, n, CHUNK):
        rows = slice(start, start + CHUNK)
        vectors = torch.tensor(hood.vectors[rows])
        harmonics = real_harmonics(
            vectors / torch.linalg.vector_norm(vectors, dim=-1, keepdim=True).clamp_min(1e-30), degrees
        )
        weights = envelope(lengths[rows][None], radius, taper) * mask[rows]  # (C, n, w)
        norms[:, rows] = 1 + weights.sum(-1)
        density[:, rows] = torch.einsum("cnw,hnw->cnh", weights, harmonics) / norms[:, rows, None]
    # the hop, window by window: (A_i + sum_j g_ij A_j) / (1 + sum_j g_ij) as one sparse (N x N) product
    row_starts = torch.cat(
        [torch.zeros(1, dtype=torch.int32), mask.sum(1, dtype=torch.int32).cumsum(0, dtype=torch.int32)]
    )
    neighbors = torch.from_numpy(hood.indices)[mask].to(torch.int32)  # int32 CSR: half the memory of int64
    columns = []
    for c, outer in enumerate(radii):
        bond_weights = (envelope(lengths, outer, taper) * mask)[mask]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "sparse CSR support is in beta"
            hop = torch.sparse_csr_tensor(row_starts, neighbors, bond_weights, (n, n), check_invariants=False)
            averaged = hop @ density[c]
        averaged += density[c]  # in place: for a million particles each (N, H) temporary is ~400 MB
        averaged /= norms[c, :, None]
        offset = 0
        for l in degrees:
            factor = math.sqrt(4 * math.pi / (2 * l + 1))
            for values in (density[c], averaged):
                columns.append(factor * torch.linalg.vector_norm(values[:, offset : offset + 2 * l + 1], dim=-1))
            offset += 2 * l + 1
    return torch.stack(columns, dim=1).numpy().astype(np.float32, copy=False)
