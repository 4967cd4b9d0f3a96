"""The smooth envelope every continuous neighborhood weight uses (encoder bonds, shell windows, averages)."""

from __future__ import annotations


def envelope(lengths, cutoff: float, taper: float):
    """Smooth bond weights: 1 up to ``cutoff - taper``, then a C2 smoothstep down to exactly 0 at ``cutoff``.

    The weight and its first two derivatives vanish at the cutoff, so a neighbor crossing it changes
    nothing abruptly (the construction MACE/NequIP/ACE use). Pure arithmetic, so it works on numpy
    arrays and torch tensors alike (and is differentiable under autograd).

    Parameters
    ----------
    lengths : numpy.ndarray or torch.Tensor
        Unit-free bond lengths, any shape.
    cutoff : float
        Where the weight reaches 0 (unit-free).
    taper : float
        Width of the smooth fall, 0 < taper <= cutoff.

    Returns
    -------
    Same type and shape as ``lengths``, values in [0, 1].
    """
    y = ((cutoff - lengths) / taper).clip(0.0, 1.0)  # 1 - smoothstep(x) = smoothstep(1 - x): no cancellation at the rim
    return y * y * y * (10.0 + y * (6.0 * y - 15.0))
