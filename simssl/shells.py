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

from . import native
from .defaults import SHELL_DEGREES, SHELL_RADII, SHELL_TAPER
from .smooth import envelope

#: particles per block of :meth:`ShellSpectra.add`: bounds its (block, width, harmonics) intermediates to ~50 MB
CHUNK = 2048


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
    spectra = ShellSpectra(hood.n_particles, hood.scale, radii, degrees, taper)
    spectra.add(hood.vectors, hood.indices)
    return spectra.spectra()


class ShellSpectra:
    """Shell spectra of a frame, fed a block of consecutive particles' bonds at a time.

    :meth:`add` turns each block's bonds into its particles' density coefficients and keeps of the
    bonds only what the hop needs (int32 neighbor indices and float32 unit-free lengths: 8 bytes a
    bond), so a caller that queries neighbors block by block never holds the padded bonds of the
    whole frame; :meth:`spectra` then runs the hop. Memory: the density coefficients, float32
    (C, N, H) with C windows and H = sum(2 l + 1) harmonics (~1.2 GB for a million particles with
    the default windows and degrees), plus 8 bytes a bond.

    Parameters
    ----------
    n : int
        Particles N of the frame.
    scale : float
        The frame's length unit (the unit of ``radii``).
    radii, degrees, taper
        As in :func:`shell_spectra`.
    """

    def __init__(self, n: int, scale: float, radii=SHELL_RADII, degrees=SHELL_DEGREES, taper: float = SHELL_TAPER):
        self.scale, self.radii, self.degrees, self.taper = scale, tuple(radii), tuple(degrees), taper
        #: float32 (C, N, H): per window, the density coefficients A_clm of every particle
        self.density = torch.empty((len(self.radii), n, sum(2 * l + 1 for l in self.degrees)))
        #: float32 (C, N): per window, 1 + sum_j g_c(r_ij)
        self.norms = torch.empty((len(self.radii), n))
        #: per :meth:`add` call: (first row, int32 CSR row starts (n + 1,), int32 neighbors (b,), float32
        #: unit-free lengths (b,)), the bonds of the hop
        self.blocks: list[tuple[int, torch.Tensor, torch.Tensor, torch.Tensor]] = []
        self.filled = 0  # particles added so far
        #: the fused C kernels (:mod:`simssl.native`) compute the coefficients and the hop (else torch)
        self.native = (
            native.library() is not None
            and len(self.radii) <= native.MAX_WINDOWS
            and max(self.degrees) <= native.MAX_DEGREE
        )

    def add(self, vectors: np.ndarray, indices: np.ndarray) -> None:
        """Add the next block of particles (rows ``filled`` onwards): their density coefficients and hop bonds.

        The density coefficients come from the fused C kernel (:func:`simssl.native.shell_density`),
        or from :func:`real_harmonics` in torch where it cannot be built.

        Parameters
        ----------
        vectors : numpy.ndarray
            float32 (n, w, 3): each particle's bond vectors r_ij in the frame's units (padding: zeros),
            all its neighbors within at least ``max(radii)``.
        indices : numpy.ndarray
            (n, w) neighbor indices j into the frame, -1 for padding.
        """
        n = len(indices)
        if n > self.density.shape[1] - self.filled:
            raise ValueError(f"bonds of {self.filled + n} particles added to shell spectra of {self.density.shape[1]}")
        if self.native and indices.shape[1] <= native.MAX_BONDS:
            native.shell_density(
                vectors,
                indices,
                self.scale,
                self.radii,
                self.taper,
                self.degrees,
                self.density,
                self.norms,
                self.filled,
            )
        else:
            self._density_torch(vectors, indices)
        mask = indices >= 0
        counts = mask.sum(1, dtype=np.int32)
        row_starts = np.concatenate([np.zeros(1, np.int32), np.cumsum(counts, dtype=np.int32)])
        lengths = np.linalg.norm(vectors[mask], axis=-1) / np.float32(self.scale)
        hop = (
            torch.from_numpy(row_starts),
            torch.from_numpy(indices[mask].astype(np.int32)),
            torch.from_numpy(lengths),
        )
        self.blocks.append((self.filled, *hop))
        self.filled += n

    def _density_torch(self, vectors: np.ndarray, indices: np.ndarray) -> None:
        """:meth:`add`'s density coefficients and norms in torch, ``CHUNK`` particles at a time (the reference)."""
        radius = torch.tensor(self.radii, dtype=torch.float32)[:, None, None]
        for offset in range(0, len(indices), CHUNK):
            rows = slice(offset, offset + CHUNK)
            bonds = torch.from_numpy(np.ascontiguousarray(vectors[rows]))
            mask = torch.from_numpy(indices[rows] >= 0)
            lengths = torch.from_numpy(np.linalg.norm(vectors[rows], axis=-1) / np.float32(self.scale))  # (n, w)
            harmonics = real_harmonics(
                bonds / torch.linalg.vector_norm(bonds, dim=-1, keepdim=True).clamp_min(1e-30), self.degrees
            )
            weights = envelope(lengths[None], radius, self.taper) * mask  # (C, n, w)
            own = slice(self.filled + offset, self.filled + offset + len(mask))  # these particles' rows of the frame
            self.norms[:, own] = 1 + weights.sum(-1)
            self.density[:, own] = torch.einsum("cnw,hnw->cnh", weights, harmonics) / self.norms[:, own, None]

    def spectra(self) -> np.ndarray:
        """The shell spectra float32 (N, 2 x C x len(degrees)) of every particle added (all N must be).

        The hop ``Abar_i = (A_i + sum_j g_ij A_j) / (1 + sum_j g_ij)``, then the invariants, particle by
        particle in the fused C kernel (:func:`simssl.native.shell_hop`), or in torch window by window
        and block by block as a sparse (block x N) product; no (N, H) temporary is made.
        """
        n = self.density.shape[1]
        if self.filled != n:
            raise ValueError(f"shell spectra of {n} particles, but bonds of {self.filled} were added")
        out = np.empty((n, len(self.radii), len(self.degrees), 2), np.float32)
        if self.native:
            for block in self.blocks:
                native.shell_hop(self.density, self.norms, self.radii, self.taper, self.degrees, block, out)
            return out.reshape(n, -1)
        for c, outer in enumerate(self.radii):
            density = self.density[c]
            for start, row_starts, neighbors, lengths in self.blocks:
                rows = slice(start, start + len(row_starts) - 1)
                weights = envelope(lengths, outer, self.taper)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)  # "sparse CSR support is in beta"
                    hop = torch.sparse_csr_tensor(
                        row_starts, neighbors, weights, (len(row_starts) - 1, n), check_invariants=False
                    )
                    averaged = hop @ density
                averaged += density[rows]
                averaged /= self.norms[c, rows, None]
                out[rows, c, :, 0] = invariants(density[rows], self.degrees).numpy()
                out[rows, c, :, 1] = invariants(averaged, self.degrees).numpy()
        return out.reshape(n, -1)


def invariants(coefficients: torch.Tensor, degrees) -> torch.Tensor:
    """Per degree l, ``sqrt(4 pi / (2l + 1) sum_m A_lm^2)``: (n, H) coefficients -> (n, len(degrees))."""
    columns, offset = [], 0
    for l in degrees:
        factor = math.sqrt(4 * math.pi / (2 * l + 1))
        columns.append(factor * torch.linalg.vector_norm(coefficients[:, offset : offset + 2 * l + 1], dim=-1))
        offset += 2 * l + 1
    return torch.stack(columns, dim=1)
