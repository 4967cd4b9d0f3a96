"""Geometric-algebra attention layers over the tuples (pairs, or triplets at rank 3) of a particle's bonds.

Every layer scores and values a tuple of bonds (j, l[, m]) from its rotation invariants and the
bonds' features, then takes a softmax-weighted sum over tuples, after Spellings et al. The
per-tuple MLPs are arranged for speed:

* their first linear layer is split into per-bond terms ``W_a f_j + W_b f_l`` (computed k times,
  not k^rank times) plus a few invariant terms per tuple, so each tuple costs one broadcast add
  and one cheap nonlinearity per hidden unit;
* the value MLP's output layer is linear, so it is applied after the attention-weighted sum
  (``W_o sum_l a_jl h_jl``): no D x D matmul per tuple at all;
* the score MLP has its own narrow hidden layer, so the softmax weights are known before the wide
  value pass, which then fuses into a single reduction (with ``torch.compile``).

Padding is masked out of every softmax (weights exactly 0), so padded bonds change nothing.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from .ga import bivector_dual, product_vv

#: logit range kept by the softmax (see :func:`masked_softmax`)
SOFTMAX_RANGE = 30.0


def smooth_relu(x: torch.Tensor) -> torch.Tensor:
    """ReLU with a quadratic knee on [-1, 1]: continuously differentiable (for gradient outputs), no exp.

    Parameters
    ----------
    x : torch.Tensor
        Any shape; the result has the same shape.
    """
    knee = torch.clamp(x, -1.0, 1.0) + 1.0
    return 0.25 * knee * knee + torch.relu(x - 1.0)


ACTIVATIONS = {"relu": torch.relu, "smooth_relu": smooth_relu, "silu": F.silu, "gelu": F.gelu, "tanh": torch.tanh}


def _slot(terms: torch.Tensor, slot: int, rank: int) -> torch.Tensor:
    """View per-bond terms (B, k, W) so they broadcast along tuple axis ``slot`` of (B, k, ..., k, W)."""
    shape = [terms.shape[0]] + [terms.shape[1] if axis == slot else 1 for axis in range(rank)] + [terms.shape[-1]]
    return terms.reshape(shape)


def tuple_mask(mask: torch.Tensor, rank: int) -> torch.Tensor:
    """(B, k, ..., k) True where every bond of the tuple is real.

    Parameters
    ----------
    mask : torch.Tensor
        Real bonds, shape (B, k) bool.
    rank : int
        Bonds per tuple (the number of k axes of the result).
    """
    result = _slot(mask[..., None], 0, rank)
    for slot in range(1, rank):
        result = result & _slot(mask[..., None], slot, rank)
    return result[..., 0]


def masked_softmax(scores: torch.Tensor, valid: torch.Tensor, start: int) -> torch.Tensor:
    """Softmax over axes ``start:`` restricted to ``valid`` entries (others get exactly 0; rows with none: all 0).

    Logits more than ``SOFTMAX_RANGE`` below the row maximum are raised to it (weights >= e^-30,
    ~1e-13): this keeps denormal numbers, which are very slow on x86 CPUs, out of the weights.

    Parameters
    ----------
    scores : torch.Tensor
        Logits, shape (B, k, ..., k).
    valid : torch.Tensor
        Entries that take part, bool, same shape as ``scores``.
    start : int
        First axis of the softmax; axes ``start:`` are normalized together.

    Returns
    -------
    torch.Tensor
        Weights, same shape as ``scores``.
    """
    flat, valid_flat = scores.flatten(start), valid.flatten(start)
    top = flat.masked_fill(~valid_flat, torch.finfo(flat.dtype).min).amax(-1, keepdim=True)
    weights = torch.exp((flat - top).clamp(-SOFTMAX_RANGE, 0.0)) * valid_flat
    return (weights / weights.sum(-1, keepdim=True).clamp_min(1.0)).reshape(
        scores.shape
    )  # the sum is >= 1 if any is valid


class TupleInput(nn.Module):
    """First linear layer of a per-tuple MLP: per-bond terms broadcast over the tuple plus invariant terms.

    ``forward(x, invariants)`` with x (B, k, n_in) and invariants (B, k, ..., k, n_invariants)
    returns the pre-activation (B, k, ..., k, width) equal to ``Linear(concat(x_j, x_l, ..,
    invariants_jl..))`` without ever building that concatenation.

    Parameters
    ----------
    n_in : int
        Per-bond input features.
    n_invariants : int
        Invariant columns per tuple.
    width : int
        Output (hidden) width.
    rank : int
        Bonds per tuple (2 or 3).
    """

    def __init__(self, n_in: int, n_invariants: int, width: int, rank: int):
        super().__init__()
        self.rank = rank
        self.bond = nn.Linear(n_in, rank * width)
        bound = 1.0 / math.sqrt(rank * n_in + n_invariants)
        nn.init.uniform_(self.bond.weight, -bound, bound)
        self.invariant = nn.Parameter(torch.empty(n_invariants, width).uniform_(-bound, bound))

    def forward(self, x: torch.Tensor, invariants: torch.Tensor) -> torch.Tensor:
        """Pre-activation (B, k, ..., k, width) of ``x`` (B, k, n_in), ``invariants`` (B, k, ..., k, n_invariants)."""
        terms = self.bond(x).chunk(self.rank, dim=-1)
        z = _slot(terms[0], 0, self.rank)
        for slot in range(1, self.rank):
            z = z + _slot(terms[slot], slot, self.rank)
        for column in range(invariants.shape[-1]):  # a handful of scalar columns: pointwise, fusable
            z = z + invariants[..., column, None] * self.invariant[column]
        return z


class TupleAttention(nn.Module):
    """Softmax attention over bond tuples, scored by a narrow MLP on the tuples' invariants and features.

    ``reduce=False``: each bond j attends over its partners (l[, m]) -> weights (B, k, k^(rank-1)).
    ``reduce=True``: the whole neighborhood's tuples compete -> weights (B, k^rank).
    Subclasses turn the weights into invariant features or covariant vectors.

    Parameters
    ----------
    n_in : int
        Per-bond input features.
    n_invariants : int
        Invariant columns per tuple.
    score_width : int
        Hidden width of the score MLP.
    rank : int
        Bonds per tuple (2 or 3).
    reduce : bool
        Pool the whole neighborhood (True) or keep one output per bond (False).
    activation : str
        A key of :data:`ACTIVATIONS`.
    """

    def __init__(self, n_in: int, n_invariants: int, score_width: int, rank: int, reduce: bool, activation: str):
        super().__init__()
        self.rank = rank
        self.reduce = reduce
        self.activation = ACTIVATIONS[activation]
        self.score_in = TupleInput(n_in, n_invariants, score_width, rank)
        self.score_out = nn.Parameter(torch.empty(score_width).uniform_(-1, 1) / math.sqrt(score_width))

    def attention(self, x: torch.Tensor, invariants: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Attention weights (B, k, ..., k); exactly zero on tuples containing a padded bond.

        Parameters
        ----------
        x : torch.Tensor
            Per-bond features, shape (B, k, n_in).
        invariants : torch.Tensor
            Tuple invariants, shape (B, k, ..., k, n_invariants).
        mask : torch.Tensor
            Real bonds, shape (B, k) bool.
        """
        scores = (self.activation(self.score_in(x, invariants)) * self.score_out).sum(-1)
        return masked_softmax(scores, tuple_mask(mask, self.rank), start=1 if self.reduce else 2)

    def summed_axes(self) -> tuple[int, ...]:
        """Tuple axes the weighted sum runs over."""
        return tuple(range(1 if self.reduce else 2, self.rank + 1))


class GAAttention(TupleAttention):
    """Invariant attention: ``y = W_o sum_tuples a * act(W_in [f_j, f_l, q_jl]) + b_o``.

    Output (B, k, n_out) per bond (``reduce=False``, zero on padded bonds) or (B, n_out) per
    neighborhood (``reduce=True``).

    Parameters
    ----------
    n_in, n_invariants, score_width, rank, reduce, activation
        As in :class:`TupleAttention`.
    width : int
        Hidden width of the value MLP.
    n_out : int
        Output features.
    """

    def __init__(self, n_in, n_invariants, width, score_width, n_out, rank=2, reduce=False, activation="relu"):
        super().__init__(n_in, n_invariants, score_width, rank, reduce, activation)
        self.value_in = TupleInput(n_in, n_invariants, width, rank)
        self.value_out = nn.Linear(width, n_out)

    def forward(self, x: torch.Tensor, invariants: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(B, k, n_out) or, with ``reduce``, (B, n_out); inputs as in :meth:`TupleAttention.attention`."""
        weights = self.attention(x, invariants, mask)
        hidden = self.activation(self.value_in(x, invariants))
        pooled = (weights[..., None] * hidden).sum(self.summed_axes())
        out = self.value_out(pooled)
        return out if self.reduce else out * mask[..., None]


class CovariantAttention(TupleAttention):
    """Vector-valued (rotation-covariant) rank-2 attention for vector targets.

    Each pair (j, l) proposes ``c1 r_j + c2 r_l + c3 (r_j x r_l)`` per output vector, with invariant
    coefficients c from a value MLP; the attention-weighted sum rotates exactly with the bonds.
    ``r_j x r_l`` is the dual of the bivector r_j ^ r_l, a pseudovector: under a reflection the
    output is not simply mirrored unless ``use_duals=False``. Output (B, k, n_vectors, 3) or
    (B, n_vectors, 3) with ``reduce``.

    Parameters
    ----------
    n_in, n_invariants, score_width, activation
        As in :class:`TupleAttention` (the rank is always 2).
    width : int
        Hidden width of the value MLP.
    n_vectors : int
        Output vectors.
    reduce : bool
        Pool the whole neighborhood (default) or keep one output per bond.
    use_duals : bool
        Include the ``r_j x r_l`` term.
    """

    def __init__(
        self, n_in, n_invariants, width, score_width, n_vectors, reduce=True, activation="relu", use_duals=True
    ):
        super().__init__(n_in, n_invariants, score_width, 2, reduce, activation)
        self.n_vectors = n_vectors
        self.use_duals = use_duals
        self.value_in = TupleInput(n_in, n_invariants, width, 2)
        self.value_out = nn.Linear(width, n_vectors * (3 if use_duals else 2))

    def forward(self, x, invariants, mask, bonds):
        """Vectors (B, n_vectors, 3), or (B, k, n_vectors, 3) without ``reduce``.

        ``x`` (B, k, n_in), ``invariants`` (B, k, k, n_invariants), ``mask`` (B, k) bool and the
        ``bonds`` (B, k, 3) whose frame the vectors are expressed in.
        """
        weights = self.attention(x, invariants, mask)
        coefficients = self.value_out(self.activation(self.value_in(x, invariants)))
        coefficients = coefficients.unflatten(-1, (-1, self.n_vectors)) * weights[..., None, None]
        # sum over l of c1 r_j + c2 r_l [+ c3 r_j x r_l], vectorized as einsums over the pair axes
        vectors = torch.einsum("bjlv,bjx->bjvx", coefficients[..., 0, :], bonds)
        vectors = vectors + torch.einsum("bjlv,blx->bjvx", coefficients[..., 1, :], bonds)
        if self.use_duals:
            duals = bivector_dual(product_vv(bonds[:, :, None, :], bonds[:, None, :, :]))
            vectors = vectors + torch.einsum("bjlv,bjlx->bjvx", coefficients[..., 2, :], duals)
        return vectors.sum(1) if self.reduce else vectors * mask[..., None, None]
