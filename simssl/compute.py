"""Compute objects: the one path from a Frame (and its shared Neighborhoods) to per-particle quantities.

In the freud style, a compute object is configured once and then applied to frames:

>>> import simssl
>>> frame = simssl.read(simssl.example_path())
>>> hood = simssl.compute_neighborhoods(frame, k=16)
>>> list(simssl.Steinhardt(l=(4, 6), average=True).compute(frame, hood))
['q4', 'q6', 'q4_avg', 'q6_avg']
>>> values = simssl.Embedding(simssl.load_model(), average=True).compute(frame, hood)
>>> {name: value.shape for name, value in values.items()}
{'embedding': (4000, 32), 'embedding_avg': (4000, 32)}

Each declares the quantities it produces (``names``, known before any frame is seen), the
neighborhood it reads (``neighbors``: a spec of :mod:`simssl.neighbors`, e.g. the 12 nearest or
the model's neighborhoods) and the quantities of earlier computations it reads (``requires``), so
:func:`analyze_frame` builds each frame's neighborhoods from as few freud queries as possible
(:func:`~simssl.neighbors.plan_neighborhoods`: two for Steinhardt, the shipped model and
identification together) and hands every computation its view and the earlier results. No
computation queries freud itself inside a run. The offline processor, live analysis, the engine
adapters, ``compare``, ``finetune`` and the pretraining data all compute through these objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .bond_order import column_names, parse_degrees, steinhardt
from .defaults import AVERAGE_SUFFIX, STEINHARDT_DEGREES, STEINHARDT_NEIGHBORS
from .errors import SimsslError
from .frame import Frame
from .neighbors import (
    ModelView,
    Nearest,
    Neighborhoods,
    NeighborSpec,
    VoronoiCells,
    bond_weights,
    nearest_count,
    neighbor_average,
    plan_neighborhoods,
    reads,
    truncate,
)


class Compute(Protocol):
    """What the processor runs per frame (plain callables ``f(frame, neighborhoods) -> dict`` with a
    ``num_neighbors`` attribute are accepted too: they read that many nearest neighbors; only objects
    that declare ``requires`` are handed the earlier quantities).

    Attributes
    ----------
    neighbors : NeighborSpec or None
        The neighborhood this computation reads (:mod:`simssl.neighbors`: ``Nearest(k)``, ``Ball(r)``,
        ``ModelView(config)``, ``VoronoiCells()``); None if it reads none.
    requires : tuple of str
        Quantities of earlier computations of the same frame it reads.
    names : list of str
        The quantities it returns.
    """

    neighbors: NeighborSpec | None
    requires: tuple[str, ...]
    names: list[str]

    def compute(
        self, frame: Frame, neighborhoods: Neighborhoods | None = None, upstream: dict | None = None
    ) -> dict[str, np.ndarray]:
        """Per-particle quantities of ``frame``.

        Parameters
        ----------
        frame : Frame
        neighborhoods : Neighborhoods or None
            The view of :attr:`neighbors` (None: built here, from the frame).
        upstream : dict of str to numpy.ndarray, optional
            Earlier computations' quantities of this frame, holding :attr:`requires`.

        Returns
        -------
        dict of str to numpy.ndarray
            ``{name: array with N rows}``.
        """
        ...


def own_neighborhoods(frame: Frame, spec: NeighborSpec | None) -> Neighborhoods | None:
    """The view of ``spec`` for a computation called on its own, outside :func:`analyze_frame` (None: none)."""
    return None if spec is None else plan_neighborhoods(frame, [spec])[spec]


@dataclass(frozen=True)
class Steinhardt:
    """Steinhardt q_l (optionally w_l, Lechner-Dellago averages, Voronoi weights) computed by freud.

    Parameters
    ----------
    l : tuple of int, int or str
        The degrees, e.g. ``(4, 6)`` (the default) or ``"4,6,8"``; stored as a tuple of int.
    wl : bool
        Also the normalized w_l (``w4``, ...).
    average : bool
        Also the Lechner-Dellago averages (``q6_avg``, ...).
    weighted : bool
        Voronoi neighbors weighted by facet area instead of the ``num_neighbors`` nearest.
    num_neighbors : int
        Nearest neighbors per particle (12: FCC's first shell), at least 2; not used with ``weighted``.

    Raises
    ------
    SimsslError
        If the degrees are not distinct positive integers, or ``num_neighbors`` is below 2 (with one
        neighbor every q_l is 1, whatever the structure).
    """

    l: tuple[int, ...] = STEINHARDT_DEGREES
    wl: bool = False
    average: bool = False
    weighted: bool = False
    num_neighbors: int = STEINHARDT_NEIGHBORS

    #: quantities of earlier computations it reads: none
    requires = ()

    def __post_init__(self):
        object.__setattr__(self, "l", parse_degrees(self.l))
        if not self.weighted and self.num_neighbors < 2:
            k = self.num_neighbors
            raise SimsslError(
                f"--steinhardt-k {k} (num_neighbors={k}): "
                + (
                    "with one neighbor q_l is 1 for every particle, whatever the structure"
                    if k == 1
                    else "no neighbors"
                )
                + "; use 2 or more (12: FCC's first shell)"
            )

    @property
    def neighbors(self) -> NeighborSpec:
        """What it reads: the ``num_neighbors`` nearest, or Voronoi cells when ``weighted``."""
        return VoronoiCells() if self.weighted else Nearest(self.num_neighbors)

    @property
    def names(self) -> list[str]:
        """The quantities :meth:`compute` returns, in order (``['q4', 'q6', ...]``)."""
        return column_names(self.l, self.wl, self.average)

    def parameters(self) -> dict:
        """Everything that decides the results (JSON-like), for a run's record.

        Returns
        -------
        dict
            ``kind`` (``"Steinhardt"``) and every field.
        """
        return {
            "kind": "Steinhardt",
            "l": list(self.l),
            "wl": self.wl,
            "average": self.average,
            "weighted": self.weighted,
            "num_neighbors": self.num_neighbors,
        }

    def compute(
        self, frame: Frame, neighborhoods: Neighborhoods | None = None, upstream: dict | None = None
    ) -> dict[str, np.ndarray]:
        """``{name: float32 (N,)}`` for ``frame``.

        Parameters
        ----------
        frame : Frame
        neighborhoods : Neighborhoods or None
            The view of :attr:`neighbors`: at least :attr:`num_neighbors` nearest (its nearest are taken),
            or Voronoi cells with ``weighted`` (None: built here).
        upstream : dict, optional
            Not read.

        Returns
        -------
        dict of str to numpy.ndarray
            float32 (N,) columns in the order of :attr:`names`.

        Raises
        ------
        SimsslError
            If ``neighborhoods`` holds fewer than :attr:`num_neighbors` neighbors, or (``weighted``) the
            frame is not fully periodic.
        """
        neighborhoods = own_neighborhoods(frame, self.neighbors) if neighborhoods is None else neighborhoods
        return steinhardt(
            frame,
            self.l,
            wl=self.wl,
            average=self.average,
            weighted=self.weighted,
            num_neighbors=self.num_neighbors,
            neighbors=neighborhoods.nlist if self.weighted else neighborhoods,
        )

    __call__ = compute


@dataclass
class Embedding:
    """Per-particle order embeddings ``embedding`` float32 (N, D) of a GA-attention encoder (:mod:`simssl.model`).

    Parameters
    ----------
    model : simssl.model.Encoder
        A loaded encoder (see :func:`simssl.load_model`).
    device : str or None
        Torch device (default: CUDA when available).
    batch_size : int or None
        Particles per chunk (default: sized to bound memory).
    compile : bool or None
        ``torch.compile`` the encoder; None compiles on the CPU for frames of at least
        :data:`~simssl.defaults.COMPILE_MIN_PARTICLES` particles
        (:func:`simssl.embedding.embed`).
    average : bool
        Also ``embedding_avg``: each particle's mean over itself and its neighbors (the analogue of
        Lechner-Dellago averaging, from the same model pass).
    publish : tuple of str or None
        Which of its quantities a run writes (None: all). Identification reads ``embedding`` and
        ``embedding_avg`` from this object even when the run writes neither.

    Raises
    ------
    SimsslError
        If ``batch_size`` is below 1.
    """

    model: object
    device: str | None = None
    batch_size: int | None = None
    compile: bool | None = None
    average: bool = False
    publish: tuple[str, ...] | None = None

    #: quantities of earlier computations it reads: none
    requires = ()

    @property
    def neighbors(self) -> NeighborSpec:
        """What it reads: the model's neighborhoods (with its shell spectra)."""
        return ModelView(self.model.config)

    @property
    def provides(self) -> list[str]:
        """Everything :meth:`compute` returns: ``['embedding']`` (plus ``'embedding_avg'`` with ``average``)."""
        return ["embedding"] + (["embedding" + AVERAGE_SUFFIX] if self.average else [])

    @property
    def names(self) -> list[str]:
        """The quantities a run writes: :attr:`provides`, or those of them in ``publish``."""
        return [name for name in self.provides if self.publish is None or name in self.publish]

    def parameters(self) -> dict:
        """Everything that decides the results (JSON-like): the model's identity (a hash of its config and
        weights), averaging, device and compilation (they change round-off).

        Returns
        -------
        dict
            ``kind`` (``"Embedding"``), ``model`` (:func:`model_identity`), ``average``, ``device``, ``compile``.
        """
        return {
            "kind": "Embedding",
            "model": model_identity(self.model),
            "average": self.average,
            "device": self.device,
            "compile": self.compile,
        }

    def __post_init__(self):
        if self.batch_size is not None and self.batch_size < 1:
            raise SimsslError(f"the batch size must be a positive number of particles, got {self.batch_size}")
        if self.publish is not None:
            object.__setattr__(self, "publish", tuple(self.publish))

    def compute(
        self, frame: Frame, neighborhoods: Neighborhoods | None = None, upstream: dict | None = None
    ) -> dict[str, np.ndarray]:
        """``{'embedding': (N, D)[, 'embedding_avg': (N, D)]}`` float32 for ``frame``.

        Parameters
        ----------
        frame : Frame
        neighborhoods : Neighborhoods or None
            The view of :attr:`neighbors`, used when it is what the model reads (a wider k-nearest one is
            truncated); otherwise, or when None, the model's own neighborhoods are built here.
        upstream : dict, optional
            Not read.

        Returns
        -------
        dict of str to numpy.ndarray
            (N, D) float32 arrays, D the model's embedding width.

        Raises
        ------
        SimsslError
            If the model uses types and the frame has more than it knows.
        """
        config = self.model.config
        if config.n_types and len(frame.type_names) > config.n_types:
            raise SimsslError(
                frame.where(
                    f"the frame has {len(frame.type_names)} particle types but the model was trained with "
                    f"{config.n_types}; use a geometry-only model (n_types=0), such as the default "
                    "(`--model default`)"
                )
            )
        if neighborhoods is None or not reads(neighborhoods, config):
            neighborhoods = own_neighborhoods(frame, self.neighbors)
        elif config.cutoff is None and neighborhoods.k > config.k:
            neighborhoods = truncate(neighborhoods, config.k)
        embedding = self.model.embed(
            neighborhoods, device=self.device, batch_size=self.batch_size, compile=self.compile
        )
        if not self.average:
            return {"embedding": embedding}
        averaged = neighbor_average(embedding, neighborhoods, bond_weights(neighborhoods, config.taper))
        return {"embedding": embedding, "embedding" + AVERAGE_SUFFIX: averaged}

    __call__ = compute


def model_identity(model) -> dict:
    """``{'name': ..., 'sha256': ...}``: the model card's name and a hash of the config and every weight.

    Parameters
    ----------
    model : simssl.model.Encoder

    Returns
    -------
    dict
        ``name`` (the card's, default ``"encoder"``) and ``sha256`` (hex digest).
    """
    import hashlib
    import json

    digest = hashlib.sha256(json.dumps(model.config.to_dict(), sort_keys=True).encode())
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return {"name": model.card.get("name", "encoder"), "sha256": digest.hexdigest()}


def neighbor_spec(item) -> NeighborSpec | None:
    """What a computation reads: its ``neighbors`` spec, or ``Nearest(num_neighbors)`` for a plain callable."""
    if hasattr(item, "neighbors"):
        return item.neighbors
    count = getattr(item, "num_neighbors", 0)
    return Nearest(count) if count else None


def check_neighbors(computes, k: int | None) -> None:
    """Refuse a neighborhood width ``k`` below the nearest neighbors a computation reads (it would be silently widened).

    Parameters
    ----------
    computes : iterable of compute objects
    k : int or None
        The requested width; None accepts anything.

    Raises
    ------
    SimsslError
        If ``k`` is below the most nearest neighbors any computation reads (:func:`~simssl.neighbors.nearest_count`).
    """
    needs = {type(item).__name__: count for item in computes if (count := nearest_count(neighbor_spec(item)))}
    if k is not None and needs and k < max(needs.values()):
        wanted = ", ".join(f"{name} {count}" for name, count in needs.items())
        raise SimsslError(
            f"--k {k} (k={k}) is fewer nearest neighbors than the analyses read ({wanted}); omit it or raise it"
        )


def analyze_frame(frame: Frame, computes, k: int | None = None) -> dict[str, np.ndarray]:
    """Run every compute object on one frame, in order, from one neighbor plan.

    The neighborhoods all of them read are built once (:func:`~simssl.neighbors.plan_neighborhoods`:
    one k-nearest and one ball query at most), and each computation also sees the quantities of the
    ones before it (``upstream``), so identification reads the embedding rather than computing it again.

    Parameters
    ----------
    frame : Frame
    computes : sequence of compute objects
        Compute objects (or callables ``f(frame, neighborhoods)`` with ``num_neighbors``).
    k : int or None
        Query at least this many nearest neighbors.

    Returns
    -------
    dict of str to numpy.ndarray
        ``{name: array with N rows}``: every computation's ``names`` (all of a plain callable's results).

    Raises
    ------
    SimsslError
        If two computations produce one name, a required quantity is missing, or a result does not have N rows.
    """
    specs = [neighbor_spec(item) for item in computes]
    views = plan_neighborhoods(frame, specs, k)
    values: dict[str, np.ndarray] = {}
    published: list[str] = []
    for item, spec in zip(computes, specs):
        missing = [name for name in getattr(item, "requires", ()) if name not in values]
        if missing:
            raise SimsslError(
                f"{type(item).__name__} reads {', '.join(missing)}, which no earlier computation produces"
            )
        hood = views[spec] if spec is not None else None
        run = getattr(item, "compute", item)
        results = run(frame, hood, values) if hasattr(item, "requires") else run(frame, hood)
        for name, value in results.items():
            if name in values:
                raise SimsslError(f"two analyzers both produce {name!r}")
            if len(value) != frame.n_particles:
                raise SimsslError(frame.where(f"{name!r} has {len(value)} rows for {frame.n_particles} particles"))
            values[name] = value
        published += getattr(item, "names", list(results))
    return {name: values[name] for name in published}


def names_of(computes) -> list[str]:
    """The quantities a list of compute objects produces, in order (plain callables contribute none).

    Parameters
    ----------
    computes : iterable of compute objects

    Returns
    -------
    list of str
    """
    return [name for item in computes for name in getattr(item, "names", ())]
