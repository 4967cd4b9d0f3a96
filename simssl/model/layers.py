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

For inference on the CPU, encoders with rank-2 gated attention run each layer in one fused C kernel
(:func:`simssl.native.encoder_layer`, fed :meth:`GAAttention.fused_parameters`): the pair
invariants, both MLPs' hidden layers, the gate and the weighted sum, per pair in registers, with no
(B, k, k, width) temporary. The torch code here stays the definition (and the path for training,
GPUs, rank 3 and softmax weights); the two agree to float32 round-off.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from .. import native
from .ga import bivector_dual, product_vv

#: logit range kept by the softmax (see :func:`masked_softmax`)
SOFTMAX_RANGE = 30.0
#: bond weights below this count as 0 (keeps denormals out; far below float32 resolution of the sums)
WEIGHT_FLOOR = 1e-12


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


def tuple_weights(weights: torch.Tensor, rank: int, reduce: bool) -> torch.Tensor:
    """(B, k, ..., k) weight of every tuple: the product of its bonds' weights.

    Without ``reduce`` the first bond j owns the row (its softmax runs over the partners), so it
    enters only as real/padding: a row's common factor w_j would cancel in the normalization anyway.

    Parameters
    ----------
    weights : torch.Tensor
        Per-bond weights, shape (B, k), 0 on padding (envelope weights, or the mask as 0/1).
    rank : int
        Bonds per tuple (the number of k axes of the result).
    reduce : bool
        Whether the whole neighborhood's tuples compete (True) or each bond's row (False).
    """
    first = weights if reduce else (weights > 0).to(weights.dtype)
    result = _slot(first[..., None], 0, rank)
    for slot in range(1, rank):
        result = result * _slot(weights[..., None], slot, rank)
    return result[..., 0]


def masked_softmax(scores: torch.Tensor, weights: torch.Tensor, start: int) -> torch.Tensor:
    """Weighted softmax over axes ``start:``: ``w exp(s) / sum(w exp(s))``; entries of weight 0 get exactly 0.

    Weights multiply the exponentials, so an entry whose weight goes smoothly to 0 (a neighbor
    reaching the cutoff) leaves the softmax smoothly. Logits more than ``SOFTMAX_RANGE`` below the
    row maximum are raised to it (factors >= e^-30, ~1e-13): this keeps denormal numbers, which are
    very slow on x86 CPUs, out of the weights. Rows whose weights are all 0 give all 0.

    Parameters
    ----------
    scores : torch.Tensor
        Logits, shape (B, k, ..., k).
    weights : torch.Tensor
        Non-negative weights, same shape as ``scores`` (0: excluded).
    start : int
        First axis of the softmax; axes ``start:`` are normalized together.

    Returns
    -------
    torch.Tensor
        Attention weights, same shape as ``scores``.
    """
    flat, weights_flat = scores.flatten(start), weights.flatten(start)
    top = flat.masked_fill(weights_flat <= 0, torch.finfo(flat.dtype).min).amax(-1, keepdim=True)
    result = torch.exp((flat - top).clamp(-SOFTMAX_RANGE, 0.0)) * weights_flat
    return (result / result.sum(-1, keepdim=True).clamp_min(WEIGHT_FLOOR)).reshape(scores.shape)


def gated_mean(scores: torch.Tensor, weights: torch.Tensor, start: int) -> torch.Tensor:
    """Weighted, gated mean over axes ``start:``: ``w sigmoid(s) / sum(w)``; entries of weight 0 get exactly 0.

    Unlike a softmax, no entry's share can exceed its weight over the total weight, whatever its
    score: a neighbor entering at the cutoff with weight w moves the result by at most ~w / sum(w).
    This is what keeps cutoff encoders continuous *and* well conditioned (a trained softmax can give
    a neighbor of weight 1e-10 most of the attention when its score is 30 higher than the rest).

    Parameters
    ----------
    scores : torch.Tensor
        Gate logits, shape (B, k, ..., k).
    weights : torch.Tensor
        Non-negative weights, same shape as ``scores`` (0: excluded).
    start : int
        First axis of the mean; axes ``start:`` are averaged together.

    Returns
    -------
    torch.Tensor
        Attention weights, same shape as ``scores`` (each row sums to at most 1).
    """
    total = weights.flatten(start).sum(-1).clamp_min(WEIGHT_FLOOR)
    return weights * torch.sigmoid(scores) / total.reshape(total.shape + (1,) * (scores.ndim - start))


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
    gated : bool
        Weights from :func:`gated_mean` (cutoff encoders) or :func:`masked_softmax` (k-nearest ones).
    """

    def __init__(
        self, n_in: int, n_invariants: int, score_width: int, rank: int, reduce: bool, activation: str, gated: bool
    ):
        super().__init__()
        self.rank = rank
        self.reduce = reduce
        self.gated = gated
        self.activation_name = activation
        self.activation = ACTIVATIONS[activation]
        self.score_in = TupleInput(n_in, n_invariants, score_width, rank)
        self.score_out = nn.Parameter(torch.empty(score_width).uniform_(-1, 1) / math.sqrt(score_width))

    def attention(self, x: torch.Tensor, invariants: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """Attention weights (B, k, ..., k); exactly zero on tuples containing a padded (weight 0) bond.

        Parameters
        ----------
        x : torch.Tensor
            Per-bond features, shape (B, k, n_in).
        invariants : torch.Tensor
            Tuple invariants, shape (B, k, ..., k, n_invariants).
        weights : torch.Tensor
            Per-bond weights, shape (B, k) float (envelope weights; 0 on padding). A bool mask is
            taken as 0/1 weights.
        """
        weights = weights.to(x.dtype)
        scores = (self.activation(self.score_in(x, invariants)) * self.score_out).sum(-1)
        normalize = gated_mean if self.gated else masked_softmax
        return normalize(scores, tuple_weights(weights, self.rank, self.reduce), start=1 if self.reduce else 2)

    def summed_axes(self) -> tuple[int, ...]:
        """Tuple axes the weighted sum runs over."""
        return tuple(range(1 if self.reduce else 2, self.rank + 1))


class GAAttention(TupleAttention):
    """Invariant attention: ``y = W_o sum_tuples a * act(W_in [f_j, f_l, q_jl]) + b_o``.

    Output (B, k, n_out) per bond (``reduce=False``, zero on padded bonds) or (B, n_out) per
    neighborhood (``reduce=True``).

    Parameters
    ----------
    n_in, n_invariants, score_width, rank, reduce, activation, gated
        As in :class:`TupleAttention`.
    width : int
        Hidden width of the value MLP.
    n_out : int
        Output features.
    """

    def __init__(
        self, n_in, n_invariants, width, score_width, n_out, rank=2, reduce=False, activation="relu", gated=False
    ):
        super().__init__(n_in, n_invariants, score_width, rank, reduce, activation, gated)
        self.value_in = TupleInput(n_in, n_invariants, width, rank)
        self.value_out = nn.Linear(width, n_out)

    def forward(self, x: torch.Tensor, invariants: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """(B, k, n_out) or, with ``reduce``, (B, n_out); inputs as in :meth:`TupleAttention.attention`."""
        attention = self.attention(x, invariants, weights)
        hidden = self.activation(self.value_in(x, invariants))
        pooled = (attention[..., None] * hidden).sum(self.summed_axes())
        out = self.value_out(pooled)
        return out if self.reduce else out * (weights > 0).to(out.dtype)[..., None]

    def fused_parameters(self) -> tuple[torch.Tensor, ...]:
        """The parameters as the fused kernel reads them (:func:`simssl.native.encoder_layer`; rank 2).

        Returns ``(linear (n_in, 2 H), bias (2 H,), invariant (2, H), score_out (S,), linear_out (V, n_out),
        bias_out (n_out,))``: the score and value MLPs' first layers, transposed, as first-slot units
        (score, then value) and then second-slot units; with S, V the score and value widths rounded up
        to :data:`simssl.native.LANES` and H = S + V. Padded units have zero weights, and zero weights
        in the score and value outputs, so they never count.
        """
        score, value = self.score_in, self.value_in
        widths = (score.invariant.shape[1], value.invariant.shape[1])
        padded = [native.lanes(width) for width in widths]
        hidden = sum(padded)
        linear = score.invariant.new_zeros((score.bond.in_features, 2 * hidden))
        bias = score.invariant.new_zeros(2 * hidden)
        invariant = score.invariant.new_zeros((2, hidden))
        score_out = score.invariant.new_zeros(padded[0])
        score_out[: widths[0]] = self.score_out
        linear_out = score.invariant.new_zeros((padded[1], self.value_out.out_features))
        linear_out[: widths[1]] = self.value_out.weight.T
        for layer, width, start in ((score, widths[0], 0), (value, widths[1], padded[0])):
            invariant[:, start : start + width] = layer.invariant
            for slot in range(2):
                units = slice(slot * hidden + start, slot * hidden + start + width)
                linear[:, units] = layer.bond.weight[slot * width : (slot + 1) * width].T
                bias[units] = layer.bond.bias[slot * width : (slot + 1) * width]
        return linear, bias, invariant, score_out, linear_out, self.value_out.bias


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
    gated : bool
        As in :class:`TupleAttention`.
    """

    def __init__(
        self,
        n_in,
        n_invariants,
        width,
        score_width,
        n_vectors,
        reduce=True,
        activation="relu",
        use_duals=True,
        gated=False,
    ):
        super().__init__(n_in, n_invariants, score_width, 2, reduce, activation, gated)
        self.n_vectors = n_vectors
        self.use_duals = use_duals
        self.value_in = TupleInput(n_in, n_invariants, width, 2)
        self.value_out = nn.Linear(width, n_vectors * (3 if use_duals else 2))

    def forward(self, x, invariants, weights, bonds):
        """Vectors (B, n_vectors, 3), or (B, k, n_vectors, 3) without ``reduce``.

        ``x`` (B, k, n_in), ``invariants`` (B, k, k, n_invariants), per-bond ``weights`` (B, k)
        (0 on padding) and the ``bonds`` (B, k, 3) whose frame the vectors are expressed in.
        """
        attention = self.attention(x, invariants, weights)
        coefficients = self.value_out(self.activation(self.value_in(x, invariants)))
        coefficients = coefficients.unflatten(-1, (-1, self.n_vectors)) * attention[..., None, None]
        # sum over l of c1 r_j + c2 r_l [+ c3 r_j x r_l], vectorized as einsums over the pair axes
        vectors = torch.einsum("bjlv,bjx->bjvx", coefficients[..., 0, :], bonds)
        vectors = vectors + torch.einsum("bjlv,blx->bjvx", coefficients[..., 1, :], bonds)
        if self.use_duals:
            duals = bivector_dual(product_vv(bonds[:, :, None, :], bonds[:, None, :, :]))
            vectors = vectors + torch.einsum("bjlv,bjlx->bjvx", coefficients[..., 2, :], duals)
        return vectors.sum(1) if self.reduce else vectors * (weights > 0).to(vectors.dtype)[..., None, None]
