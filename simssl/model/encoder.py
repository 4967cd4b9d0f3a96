"""The Encoder: neighborhoods (bonds, mask, types) -> one rotation/permutation-invariant embedding per particle.

Architecture (after Spellings et al.): type features [onehot(t_j) - onehot(t_i), onehot(t_j) +
onehot(t_i)] -> ``blocks`` residual blocks of per-bond GA attention (pre-LayerNorm) -> a reducing
GA attention that pools the neighborhood into a D-vector. Optional heads: an invariant scalar
head whose bond-vector gradients give equivariant vectors/tensors (:mod:`.gradients`), and a
covariant vector head (:class:`~.layers.CovariantAttention`).

Reflections: at rank 2 every invariant (|r|, r.r', |r^r'|) is reflection-invariant, so mirrored
neighborhoods get the same embedding. At rank 3 the trivector det[r_j, r_l, r_m] flips sign, so
mirror images of chiral neighborhoods are told apart (achiral ones still match themselves).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from .. import native
from ..defaults import (
    ENCODER_CUTOFF,
    ENCODER_MAX_NEIGHBORS,
    ENCODER_NEIGHBORS,
    ENCODER_TAPER,
    SHELL_DEGREES,
    SHELL_TAPER,
)
from ..shells import spectrum_width
from ..smooth import envelope
from . import ga
from .gradients import equivariant_outputs
from .layers import ACTIVATIONS, WEIGHT_FLOOR, CovariantAttention, GAAttention


@dataclass(frozen=True)
class EncoderConfig:
    """Hyperparameters of an :class:`Encoder`; stored (as a plain dict) in every checkpoint.

    Each field is documented where it is declared. Invalid values raise ``ValueError``.
    """

    #: k nearest neighbors per particle (only when ``cutoff`` is None, as in checkpoints before cutoffs)
    k: int = ENCODER_NEIGHBORS
    dim: int = 32  #: embedding size D (and bond feature width)
    blocks: int = 3  #: residual per-bond attention blocks before the reducing attention
    rank: int = 2  #: 2: pairs of bonds; 3: triplets (sees handedness, ~k times slower)
    #: particle types the type features know; 0: geometry only (runs on frames with any number of types)
    n_types: int = 0
    #: neighborhood radius in units of ``shell_scale`` (:func:`simssl.neighbors.shell_scale`: the median over
    #: particles of the mean distance to their 12 nearest; continuous neighborhoods);
    #: None: the hard ``k`` nearest (discontinuous at distance ties; older checkpoints)
    cutoff: float | None = ENCODER_CUTOFF
    taper: float = ENCODER_TAPER  #: width of the envelope's smooth fall to 0 at ``cutoff`` (unit-free)
    #: cap on neighbors within the cutoff (the nearest are kept; only reached in very dense packings)
    max_neighbors: int = ENCODER_MAX_NEIGHBORS
    #: attention weights from a gated weighted mean (each bond's share bounded by its envelope weight:
    #: continuous and well conditioned) instead of a softmax (checkpoints before cutoffs)
    gated: bool = True
    #: outer radii (unit-free) of the shell spectra the embedding also reads (:mod:`simssl.shells`: the
    #: second, equivariant hop: multi-radius, neighbor-averaged bond-order spectra); () for none
    shells: tuple[float, ...] = ()
    shell_degrees: tuple[int, ...] = SHELL_DEGREES  #: spherical-harmonic degrees of the shell spectra
    shell_taper: float = SHELL_TAPER  #: width of each shell window's smooth fall to 0
    hidden: int | None = None  #: value-MLP width per tuple (default: dim)
    score_hidden: int = 16  #: score-MLP width per tuple
    activation: str = "relu"  #: one of layers.ACTIVATIONS
    normalize_products: bool = False  #: also feed the invariants of unit-normalized products
    dropout: float = 0.0  #: on each block's residual branch (training only)
    gradient_outputs: int = 0  #: invariant scalar heads whose gradients give equivariant vectors/tensors
    vector_outputs: int = 0  #: covariant vectors from a CovariantAttention head

    def __post_init__(self):
        if self.rank not in (2, 3):
            raise ValueError(f"rank must be 2 or 3, got {self.rank}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {self.activation!r}")
        for name in ("k", "dim", "score_hidden", "max_neighbors"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.n_types < 0:
            raise ValueError(f"n_types must be 0 (geometry only) or positive, got {self.n_types}")
        if self.cutoff is not None and not 0 < self.taper <= self.cutoff:
            raise ValueError(f"taper must be in (0, cutoff={self.cutoff}], got {self.taper}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        object.__setattr__(self, "shells", tuple(float(r) for r in self.shells))  # JSON lists -> tuples
        object.__setattr__(self, "shell_degrees", tuple(int(l) for l in self.shell_degrees))
        if self.shells and (min(self.shells) <= self.shell_taper or not self.shell_degrees):
            raise ValueError(f"shells {self.shells} must exceed shell_taper={self.shell_taper} and have degrees")
        if self.shells and self.gradient_outputs:
            raise ValueError("gradient_outputs need every input to depend on the bonds: use shells=() with them")

    @property
    def n_shell_features(self) -> int:
        """Columns of the shell spectra the model reads (0 without shells)."""
        return spectrum_width(self.shells, self.shell_degrees) if self.shells else 0

    @property
    def width(self) -> int:
        """Value-MLP width per tuple."""
        return self.hidden or self.dim

    def summary(self) -> str:
        """One line for reports, e.g. ``'cutoff 1.5, geometry only, D=32, 3 blocks, rank 2'``."""
        neighborhood = f"cutoff {self.cutoff}" if self.cutoff is not None else f"k={self.k} nearest"
        types = f"{self.n_types} type(s)" if self.n_types else "geometry only"
        shells = f", shell spectra at {'/'.join(f'{r:g}' for r in self.shells)}" if self.shells else ""
        return f"{neighborhood}, {types}, D={self.dim}, {self.blocks} blocks, rank {self.rank}{shells}"

    def to_dict(self) -> dict:
        """The fields as a plain dict (what checkpoints store)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, fields: dict) -> EncoderConfig:
        """The config a checkpoint stored; checkpoints from before cutoffs keep their k nearest and types.

        Parameters
        ----------
        fields : dict
            As :meth:`to_dict` wrote it (possibly by an older simssl).
        """
        if "cutoff" not in fields:  # written before continuous neighborhoods: k nearest, typed, softmax
            fields = {**fields, "cutoff": None, "n_types": fields.get("n_types", 1), "gated": False}
        return cls(**fields)


class Geometry(NamedTuple):
    """Rotation invariants of one batch of neighborhoods, computed once and shared by all layers."""

    bonds: torch.Tensor  # (B, k, 3), unit-free
    weights: torch.Tensor  # (B, k) envelope weights in [0, 1] (the mask as 0/1 without a cutoff), 0 on padding
    lengths: torch.Tensor  # (B, k, 1) |r_j|
    pairs: torch.Tensor | None  # (B, k, k, P) invariants of r_j r_l (None for the fused kernels)
    tuples: torch.Tensor | None  # (B, k, .., k, Q) invariants the attention layers see (= pairs at rank 2)


def geometry(bonds: torch.Tensor, mask: torch.Tensor, config: EncoderConfig, pairs: bool = True) -> Geometry:
    """Bond weights, bond, pair and (at rank 3) triplet invariants; at rank 3 each triplet also sees its pairs.

    Parameters
    ----------
    bonds : torch.Tensor
        Unit-free bond vectors, shape (B, k, 3).
    mask : torch.Tensor
        Real bonds, shape (B, k) bool.
    config : EncoderConfig
        Supplies ``rank``, ``normalize_products`` and the envelope (``cutoff``, ``taper``).
    pairs : bool
        Compute the pair (and triplet) invariants; False leaves ``pairs`` and ``tuples`` None (the
        fused kernels compute them per pair themselves).

    Returns
    -------
    Geometry
        ``tuples`` is (B, k, k, P) at rank 2 and (B, k, k, k, 3 P + T) at rank 3, where P and T are
        2 (4 with ``normalize``).
    """
    rank, normalize = config.rank, config.normalize_products
    lengths = ga.bond_invariants(bonds)
    weights = mask.to(bonds.dtype)
    if config.cutoff is not None:
        weights = weights * envelope(lengths[..., 0], config.cutoff, config.taper)
        weights = weights * (weights > WEIGHT_FLOOR)  # no denormals; far below float32 resolution
    if not pairs:
        return Geometry(bonds, weights, lengths, None, None)
    pairs = ga.pair_invariants(bonds, normalize)
    tuples = pairs
    if rank == 3:
        k = bonds.shape[1]
        shape = (bonds.shape[0], k, k, k, pairs.shape[-1])
        tuples = torch.cat(
            [
                pairs[:, :, :, None].expand(shape),  # (j, l)
                pairs[:, :, None, :].expand(shape),  # (j, m)
                pairs[:, None, :, :].expand(shape),  # (l, m)
                ga.triplet_invariants(bonds, normalize),
            ],
            dim=-1,
        )
    return Geometry(bonds, weights, lengths, pairs, tuples)


def type_features(
    center_types: torch.Tensor, neighbor_types: torch.Tensor, mask: torch.Tensor, n_types: int
) -> torch.Tensor:
    """[onehot(t_j) - onehot(t_i), onehot(t_j) + onehot(t_i)] per bond, (B, k, 2 n_types); t_j = 0 on padding.

    Parameters
    ----------
    center_types : torch.Tensor
        Center type ids, shape (B,) integer.
    neighbor_types : torch.Tensor
        Neighbor type ids, shape (B, k) integer (-1 on padding).
    mask : torch.Tensor
        Real bonds, shape (B, k) bool.
    n_types : int
        Number of particle types (one-hot width).

    Returns
    -------
    torch.Tensor
        Shape (B, k, 2 n_types), integer (cast by the caller).
    """
    neighbor = F.one_hot(neighbor_types.long().clamp_min(0), n_types) * mask[..., None]
    center = F.one_hot(center_types.long(), n_types)[:, None, :]
    return torch.cat([neighbor - center, neighbor + center], dim=-1)


class Block(nn.Module):
    """Pre-norm residual block: f <- f + dropout(GAAttention([LayerNorm(f), |r|], invariants)).

    Parameters
    ----------
    config : EncoderConfig
        Width, rank, activation and dropout of the block.
    n_invariants : int
        Invariant columns per tuple (last axis of ``Geometry.tuples``).
    """

    def __init__(self, config: EncoderConfig, n_invariants: int):
        super().__init__()
        self.norm = nn.LayerNorm(config.dim)
        self.attention = GAAttention(
            config.dim + 1,
            n_invariants,
            config.width,
            config.score_hidden,
            config.dim,
            config.rank,
            reduce=False,
            activation=config.activation,
            gated=config.gated,
        )
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, features: torch.Tensor, geo: Geometry) -> torch.Tensor:
        """Updated per-bond features (B, k, D) from ``features`` (B, k, D) and the batch's ``geo``."""
        x = torch.cat([self.norm(features), geo.lengths], dim=-1)
        return features + self.dropout(self.attention(x, geo.tuples, geo.weights))

    def fused(self, features: torch.Tensor, geo: Geometry, uniform: bool = False) -> None:
        """:meth:`forward` in place on contiguous float32 ``features`` (B, k, D), by the fused kernel
        (:func:`simssl.native.encoder_layer`; inference, rank-2 gated attention); ``uniform``: every bond of a
        particle has the same features."""
        native.encoder_layer(
            features,
            geo.bonds,
            geo.weights,
            (self.norm.weight, self.norm.bias, self.norm.eps),
            self.attention.fused_parameters(),
            self.attention.activation_name,
            reduce=False,
            floor=WEIGHT_FLOOR,
            uniform=uniform,
        )


class ShellHead(nn.Module):
    """Shell spectra (B, F) -> a D-vector added to the embedding: Linear, activation, Linear.

    The spectra are rotation invariant already, so any function of them keeps the embedding invariant.
    """

    def __init__(self, config: EncoderConfig):
        super().__init__()
        self.hidden = nn.Linear(config.n_shell_features, config.width)
        self.out = nn.Linear(config.width, config.dim)
        self.activation = ACTIVATIONS[config.activation]

    def forward(self, shells: torch.Tensor) -> torch.Tensor:
        """(B, D) from shell spectra (B, F)."""
        return self.out(self.activation(self.hidden(shells)))


def covariant_apply(head: CovariantAttention, features: torch.Tensor, geo: Geometry) -> torch.Tensor:
    """A covariant head on per-bond ``features`` (B, k, D): vectors in the frame of ``geo.bonds``.

    Parameters
    ----------
    head : CovariantAttention
        The vector head.
    features : torch.Tensor
        Per-bond features, shape (B, k, D).
    geo : Geometry
        The batch's invariants and bonds.

    Returns
    -------
    torch.Tensor
        Shape (B, n_vectors, 3) (a reducing head) or (B, k, n_vectors, 3).
    """
    return head(torch.cat([features, geo.lengths], dim=-1), geo.pairs, geo.weights, geo.bonds)


class Encoder(nn.Module):
    """Rotation-, permutation- and translation-invariant GA-attention encoder of particle neighborhoods.

    ``forward(bonds, mask, center_types, neighbor_types)`` takes unit-free bonds (B, k, 3) and
    returns embeddings (B, D). Use :meth:`embed` for Frames / Neighborhoods of any size.

    Parameters
    ----------
    config : EncoderConfig or None
        Hyperparameters (default: ``EncoderConfig()``).
    card : dict or None
        Model card: plain JSON-like data saved in checkpoints (default: empty).

    Examples
    --------
    >>> import torch
    >>> from simssl.model import Encoder, EncoderConfig
    >>> model = Encoder(EncoderConfig(k=4, dim=8, blocks=1)).eval()
    >>> bonds, mask = torch.randn(5, 4, 3), torch.ones(5, 4, dtype=torch.bool)
    >>> model(bonds, mask, torch.zeros(5, dtype=torch.long), torch.zeros(5, 4, dtype=torch.long)).shape
    torch.Size([5, 8])
    """

    def __init__(self, config: EncoderConfig | None = None, card: dict | None = None):
        super().__init__()
        self.config = config = config or EncoderConfig()
        #: model card: where the weights came from (plain JSON-like data, saved in checkpoints)
        self.card = dict(card or {})
        n_pair = 4 if config.normalize_products else 2
        n_tuple = n_pair if config.rank == 2 else 4 * n_pair
        # geometry-only models start every bond from one learned vector; typed ones from type features
        self.type_embedding = nn.Linear(2 * config.n_types, config.dim) if config.n_types else None
        self.bond_start = None if config.n_types else nn.Parameter(torch.randn(config.dim) / math.sqrt(config.dim))
        self.blocks = nn.ModuleList(Block(config, n_tuple) for _ in range(config.blocks))
        self.final_norm = nn.LayerNorm(config.dim)
        self.reduction = GAAttention(
            config.dim + 1,
            n_tuple,
            config.width,
            config.score_hidden,
            config.dim,
            config.rank,
            reduce=True,
            activation=config.activation,
            gated=config.gated,
        )
        # the shell spectra (second hop) enter the embedding through a small MLP
        self.shell_head = ShellHead(config) if config.shells else None
        self.gradient_head = nn.Linear(config.dim, config.gradient_outputs) if config.gradient_outputs else None
        self.vector_head = (
            CovariantAttention(
                config.dim + 1,
                n_pair,
                config.width,
                config.score_hidden,
                config.vector_outputs,
                activation=config.activation,
                gated=config.gated,
            )
            if config.vector_outputs
            else None
        )

    def extra_repr(self) -> str:
        """The config, and a warning when the weights are untrained (shown by ``repr``)."""
        trained = "" if self.card.get("trained", True) else ", UNTRAINED (random weights)"
        return f"{self.config}{trained}"

    def initial_features(self, bonds, mask, center_types, neighbor_types) -> torch.Tensor:
        """Per-bond features (B, k, D) before the first block: the learned start vector, or type features.

        Parameters are those of :meth:`forward`.
        """
        if self.type_embedding is None:  # geometry only: types are ignored
            return self.bond_start.to(bonds.dtype).expand(bonds.shape[:2] + (self.config.dim,))
        return self.type_embedding(
            type_features(center_types, neighbor_types, mask, self.config.n_types).to(bonds.dtype)
        )

    def bond_features(self, bonds, mask, center_types, neighbor_types) -> tuple[torch.Tensor, Geometry]:
        """Per-bond features (B, k, D) after the residual blocks, normalized, and the batch's Geometry.

        Parameters are those of :meth:`forward`.
        """
        geo = geometry(bonds, mask, self.config)
        features = self.initial_features(bonds, mask, center_types, neighbor_types)
        for block in self.blocks:
            features = block(features, geo)
        return self.final_norm(features), geo

    def fused(self, bonds: torch.Tensor) -> bool:
        """Whether :meth:`forward` runs on ``bonds`` (B, k, 3) in the fused CPU kernels (:mod:`simssl.native`).

        It does for rank-2 gated attention on the invariants r_j . r_l and |r_j ^ r_l| with a kernel
        activation and widths that fill whole vectors, without active dropout, on float32 CPU tensors
        (:func:`simssl.native.usable`), when no gradient is asked for (``torch.no_grad``,
        ``torch.inference_mode``, as :meth:`embed` runs); the result is that of the torch code to
        float32 round-off, several times faster.
        """
        config = self.config
        return (
            config.rank == 2
            and config.gated
            and not config.normalize_products
            and config.activation in native.ACTIVATIONS
            and config.dim % native.LANES == 0
            and not (self.training and config.dropout > 0)
            and native.usable(bonds)
            and native.encoder_library(
                config.activation, config.dim, native.lanes(config.score_hidden), native.lanes(config.width)
            )
            is not None
        )

    def _fused_forward(self, bonds, mask, center_types, neighbor_types, shells) -> torch.Tensor:
        """:meth:`forward` by the fused kernels: every block, then the reducing attention (see :meth:`fused`)."""
        geo = geometry(bonds, mask, self.config, pairs=False)
        features = self.initial_features(bonds, mask, center_types, neighbor_types).contiguous().clone()
        for index, block in enumerate(self.blocks):  # a geometry-only model's bonds all start alike
            block.fused(features, geo, uniform=index == 0 and self.type_embedding is None)
        embedding = native.encoder_layer(
            features,
            geo.bonds,
            geo.weights,
            (self.final_norm.weight, self.final_norm.bias, self.final_norm.eps),
            self.reduction.fused_parameters(),
            self.reduction.activation_name,
            reduce=True,
            floor=WEIGHT_FLOOR,
        )
        return self._with_shells(embedding, shells)

    def pool(self, features: torch.Tensor, geo: Geometry, shells: torch.Tensor | None = None) -> torch.Tensor:
        """The embedding (B, D): the reducing attention over per-bond ``features`` (plus the shell head).

        Parameters
        ----------
        features : torch.Tensor
            Per-bond features, (B, k, D), as :meth:`bond_features` returns them.
        geo : Geometry
            The batch's invariants.
        shells : torch.Tensor or None
            Shell spectra (B, ``config.n_shell_features``); required by models with ``shells``.
        """
        return self._with_shells(
            self.reduction(torch.cat([features, geo.lengths], dim=-1), geo.tuples, geo.weights), shells
        )

    def _with_shells(self, embedding: torch.Tensor, shells: torch.Tensor | None) -> torch.Tensor:
        """``embedding`` (B, D) plus the shell head's vector of ``shells`` (B, F), for models with shells."""
        if self.shell_head is None:
            return embedding
        if shells is None or shells.shape[-1] != self.config.n_shell_features:
            got = "none" if shells is None else f"{shells.shape[-1]} columns"
            raise ValueError(f"this model reads {self.config.n_shell_features} shell-spectrum columns, got {got}")
        return embedding + self.shell_head(shells.to(embedding.dtype))

    def forward(self, bonds, mask, center_types, neighbor_types, shells=None) -> torch.Tensor:
        """Embeddings (B, D) of unit-free bonds (B, k, 3) with mask (B, k) and type ids (B,), (B, k).

        Parameters
        ----------
        bonds : torch.Tensor
            Unit-free bond vectors, shape (B, k, 3), in the model's dtype.
        mask : torch.Tensor
            Real (not padded) bonds, shape (B, k) bool.
        center_types : torch.Tensor
            Center type ids, shape (B,) integer, each < ``config.n_types``.
        neighbor_types : torch.Tensor
            Neighbor type ids, shape (B, k) integer (-1 on padding).
        shells : torch.Tensor or None
            Shell spectra (B, F) (:func:`simssl.shells.shell_spectra`), for models with ``shells``.

        Returns
        -------
        torch.Tensor
            Embeddings, shape (B, D) with D = ``config.dim``.
        """
        if not torch.is_grad_enabled() and self.fused(bonds):
            return self._fused_forward(bonds, mask, center_types, neighbor_types, shells)
        return self.pool(*self.bond_features(bonds, mask, center_types, neighbor_types), shells)

    def vectors(self, bonds, mask, center_types, neighbor_types) -> torch.Tensor:
        """Covariant vector outputs (B, vector_outputs, 3) of the vector head; they rotate with the bonds.

        Parameters are those of :meth:`forward`. Raises ``ValueError`` without a vector head.
        """
        if self.vector_head is None:
            raise ValueError("this encoder has no vector head (EncoderConfig.vector_outputs = 0)")
        return covariant_apply(self.vector_head, *self.bond_features(bonds, mask, center_types, neighbor_types))

    def equivariant_outputs(self, bonds, mask, center_types, neighbor_types, create_graph=None) -> dict:
        """Gradient-based equivariant outputs; see :func:`simssl.model.gradients.equivariant_outputs`.

        Parameters
        ----------
        bonds, mask, center_types, neighbor_types
            As in :meth:`forward`.
        create_graph : bool or None
            Keep the autograd graph (default: ``self.training``).

        Returns
        -------
        dict of str to torch.Tensor
            ``'scalars'`` (B, n), ``'vectors'`` (B, n, 3), ``'tensors'`` (B, n, 3, 3).
        """
        return equivariant_outputs(self, bonds, mask, center_types, neighbor_types, create_graph=create_graph)

    def embed(self, source, device=None, batch_size=None, autocast=None, compile=None, to_numpy=True, average=False):
        """Embeddings (N, D) float32 of a Frame, Neighborhoods or arrays: :func:`simssl.embedding.embed` of this model.

        A convenience (``model = simssl.load_model(); model.embed(frame)``); the batching, devices and
        Frame handling live on the embedding side (:mod:`simssl.embedding`), imported on first use.

        Parameters
        ----------
        source : Frame, Neighborhoods, or tuple/list
            A tuple/list is ``(bonds, mask, center_types, neighbor_types)`` with unit-free bonds
            (N, k, 3).
        device, batch_size, autocast, compile, to_numpy, average
            As in :func:`simssl.embedding.embed`.

        Returns
        -------
        numpy.ndarray or torch.Tensor
            (N, D) float32.
        """
        from ..embedding import embed  # the embedding side; this module stays torch only

        return embed(self, source, device, batch_size, autocast, compile, to_numpy, average)

    def save(self, path, card: dict | None = None) -> None:
        """Write config, weights and model card (default: :attr:`card`) to ``path``: :func:`simssl.checkpoints.save`.

        A convenience; the file I/O lives in :mod:`simssl.checkpoints`, imported on first use.

        Parameters
        ----------
        path : str or PathLike
            Target checkpoint file; replaced atomically if it exists.
        card : dict or None
            JSON-like model card (default: :attr:`card`).
        """
        from ..checkpoints import save  # file I/O lives outside the model package

        save(self, path, card)
