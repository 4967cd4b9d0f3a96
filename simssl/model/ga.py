"""Geometric-algebra products of bond vectors in 3D and their rotation invariants.

Conventions follow the ``geometric-algebra-attention`` package (tested against it): an even
multivector is stored as (1, e12, e13, e23), an odd one as (e1, e2, e3, e123). Every invariant is
built on :func:`safe_norm`, whose gradient is finite (zero) at zero length, so padded (zero) bonds
never produce NaN gradients.
"""

from __future__ import annotations

import torch

#: smallest product norm used when normalizing products (as in the reference package)
NORM_FLOOR = 1e-7


def safe_norm(x: torch.Tensor, dim: int = -1, keepdim: bool = False) -> torch.Tensor:
    """Euclidean norm along ``dim`` with a zero (not NaN) gradient at zero length.

    Parameters
    ----------
    x : torch.Tensor
        Any shape, floating point.
    dim : int
        Axis to reduce.
    keepdim : bool
        Keep the reduced axis (with size 1).

    Returns
    -------
    torch.Tensor
        ``x``'s shape without (or, with ``keepdim``, with size 1 along) ``dim``.
    """
    squared = (x * x).sum(dim, keepdim=keepdim)
    positive = squared > 0
    return torch.where(positive, torch.sqrt(torch.where(positive, squared, torch.ones_like(squared))), 0.0)


def product_vv(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Geometric product of two vectors: scalar a.b and bivector a^b, as (..., 4) in (1, e12, e13, e23).

    Parameters
    ----------
    a, b : torch.Tensor
        Vectors, shapes (..., 3) that broadcast together.

    Returns
    -------
    torch.Tensor
        Even multivectors, shape (..., 4).
    """
    a1, a2, a3 = a.unbind(-1)
    b1, b2, b3 = b.unbind(-1)
    return torch.stack([a1 * b1 + a2 * b2 + a3 * b3, a1 * b2 - a2 * b1, a1 * b3 - a3 * b1, a2 * b3 - a3 * b2], dim=-1)


def product_ev(p: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """Product of an even multivector (1, e12, e13, e23) with a vector: (..., 4) in (e1, e2, e3, e123).

    Applied to ``product_vv(a, b)`` this gives the rank-3 product abc; its e123 part is the
    pseudoscalar det[a, b, c], which changes sign under reflection.

    Parameters
    ----------
    p : torch.Tensor
        Even multivectors, shape (..., 4).
    c : torch.Tensor
        Vectors, shape (..., 3), broadcasting with ``p``.

    Returns
    -------
    torch.Tensor
        Odd multivectors, shape (..., 4).
    """
    s, b12, b13, b23 = p.unbind(-1)
    c1, c2, c3 = c.unbind(-1)
    return torch.stack(
        [
            s * c1 + b12 * c2 + b13 * c3,
            s * c2 - b12 * c1 + b23 * c3,
            s * c3 - b13 * c1 - b23 * c2,
            b12 * c3 - b13 * c2 + b23 * c1,
        ],
        dim=-1,
    )


def bivector_dual(p: torch.Tensor) -> torch.Tensor:
    """Vector dual to the bivector part of (1, e12, e13, e23): for p = ab it is the cross product a x b.

    Parameters
    ----------
    p : torch.Tensor
        Even multivectors, shape (..., 4).

    Returns
    -------
    torch.Tensor
        Vectors, shape (..., 3).
    """
    return torch.stack([p[..., 3], -p[..., 2], p[..., 1]], dim=-1)


def even_invariants(p: torch.Tensor) -> torch.Tensor:
    """Rotation invariants (scalar, |bivector|) of an even multivector, shape (..., 2).

    Parameters
    ----------
    p : torch.Tensor
        Even multivectors, shape (..., 4).
    """
    return torch.stack([p[..., 0], safe_norm(p[..., 1:4])], dim=-1)


def odd_invariants(q: torch.Tensor) -> torch.Tensor:
    """Rotation invariants (|vector|, trivector) of an odd multivector, shape (..., 2).

    The trivector is a pseudoscalar: it is invariant under rotations but flips under reflections.

    Parameters
    ----------
    q : torch.Tensor
        Odd multivectors, shape (..., 4).
    """
    return torch.stack([safe_norm(q[..., 0:3]), q[..., 3]], dim=-1)


def _normalized(invariants: torch.Tensor, magnitude: torch.Tensor) -> torch.Tensor:
    """Append ``invariants / magnitude`` (the invariants of the unit product) to ``invariants``."""
    return torch.cat([invariants, invariants / magnitude.clamp_min(NORM_FLOOR)[..., None]], dim=-1)


def bond_invariants(bonds: torch.Tensor) -> torch.Tensor:
    """Per-bond invariant |r_j|, shape (..., k, 1).

    Parameters
    ----------
    bonds : torch.Tensor
        Bond vectors, shape (..., k, 3).
    """
    return safe_norm(bonds, keepdim=True)


def pair_invariants(bonds: torch.Tensor, normalize: bool = False) -> torch.Tensor:
    """Invariants of r_j r_l for every ordered pair of bonds: (B, k, k, 2) = (r_j.r_l, |r_j^r_l|).

    With ``normalize`` the invariants of the unit product r_j r_l / (|r_j| |r_l|) (cosine and sine of
    the bond angle) are appended, giving 4 columns. |r_j| and |r_l| are per-bond quantities
    (:func:`bond_invariants`); models add them per bond, not per pair, to save work.

    Parameters
    ----------
    bonds : torch.Tensor
        Bond vectors, shape (B, k, 3).
    normalize : bool
        Also append the invariants of the unit products.

    Returns
    -------
    torch.Tensor
        Shape (B, k, k, 2), or (B, k, k, 4) with ``normalize``.
    """
    invariants = even_invariants(product_vv(bonds[:, :, None, :], bonds[:, None, :, :]))
    if not normalize:
        return invariants
    lengths = safe_norm(bonds)
    return _normalized(invariants, lengths[:, :, None] * lengths[:, None, :])


def triplet_invariants(bonds: torch.Tensor, normalize: bool = False) -> torch.Tensor:
    """Invariants of r_j r_l r_m for every ordered triplet: (B, k, k, k, 2) = (|vector part|, det).

    The second column is the pseudoscalar (handedness). With ``normalize`` the invariants of the
    unit product are appended (4 columns).

    Parameters
    ----------
    bonds : torch.Tensor
        Bond vectors, shape (B, k, 3).
    normalize : bool
        Also append the invariants of the unit products.

    Returns
    -------
    torch.Tensor
        Shape (B, k, k, k, 2), or (B, k, k, k, 4) with ``normalize``.
    """
    pairs = product_vv(bonds[:, :, None, :], bonds[:, None, :, :])
    invariants = odd_invariants(product_ev(pairs[:, :, :, None, :], bonds[:, None, None, :, :]))
    if not normalize:
        return invariants
    lengths = safe_norm(bonds)
    magnitude = lengths[:, :, None, None] * lengths[:, None, :, None] * lengths[:, None, None, :]
    return _normalized(invariants, magnitude)
