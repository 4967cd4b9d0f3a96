"""Engine-agnostic live analysis: engine state in, per-particle quantities out, in tag order.

Engine adapters (``simssl.plugins.hoomd``, ``simssl.plugins.lammps``) hand over box, positions,
type ids and particle tags each time they analyze; :class:`LiveAnalyzer` builds a validated
:class:`~simssl.frame.Frame` and runs the same analyzers as ``simssl process`` (one neighbor plan
per frame, :func:`~simssl.neighbors.plan_neighborhoods`; the encoder stays resident on its device), so
live values equal offline ones. The most recent results are kept for loggers.

With ``identify=True`` every particle is also named after its nearest reference structure
(``structure``, ``structure_confidence``, ``structure_distance``) and assigned to a nucleus
(``nucleus``), as ``simssl identify`` does; :attr:`LiveAnalyzer.order` then holds the latest frame's
ordered fraction, number of nuclei and largest nucleus (:func:`~simssl.nuclei.order_summary`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .analyses import AnalysisOptions, build_analyzers
from .compute import Embedding, analyze_frame, names_of
from .defaults import STEINHARDT_DEGREES
from .devices import cpu_threads_for_work
from .frame import Frame
from .identify import Identify
from .io.convert import frame_from_arrays, host_array
from .io.records import live_record
from .nuclei import order_summary

__all__ = ["LiveAnalyzer", "host_array"]


class LiveAnalyzer:
    """Per-particle order quantities of a running simulation.

    Parameters
    ----------
    model : str, simssl.model.Encoder or None
        ``"default"`` (the shipped model), a checkpoint path, ``"random"`` (untrained, tests only),
        a loaded :class:`~simssl.model.Encoder`, or None for no ``embedding`` (Steinhardt only,
        or identification with the shipped model).
    steinhardt : tuple of int or str
        Steinhardt degrees (``q4``, ``q6``, ...; default ``(4, 6)``); empty or None for none.
    k : int or None
        Widen the frame's shared k-nearest query to at least ``k`` neighbors (default: exactly what the
        analyses read; :func:`~simssl.neighbors.plan_neighborhoods`).
    device : str or None
        Torch device for the model (default: CUDA when available).
    compile : bool or None
        ``torch.compile`` the encoder (None: no, the default; see :func:`simssl.embedding.embed`), as in
        :class:`~simssl.analyses.AnalysisOptions`.
    identify : bool
        Also identify every particle's structure and nucleus (:class:`~simssl.identify.Identify`:
        ``structure``, ``structure_confidence``, ``structure_distance``, ``nucleus``) with ``model``
        (the shipped model when ``model`` is None; ``embedding`` is then returned only when
        ``model`` is given).
    references : sequence of (str, path) or dict of str to path
        User reference structures for ``identify``: ``(name, trajectory path)`` pairs (or
        ``{name: path}``), as ``simssl identify --reference NAME=PATH``.

    Attributes
    ----------
    analyzers : list
        The compute objects (:func:`~simssl.analyses.build_analyzers`).
    names : list of str
        The quantities every call returns, e.g. ``['q4', 'q6', 'embedding']`` (with ``identify``
        also ``'structure'``, ``'structure_confidence'``, ``'structure_distance'``, ``'nucleus'``).
    k : int or None
        As given.
    latest : dict of str to numpy.ndarray
        The most recent results, for loggers (empty before the first call).
    step : int or None
        The step of the most recent frame.

    Raises
    ------
    SimsslError
        If there is nothing to compute, or the options are invalid (:class:`~simssl.analyses.AnalysisOptions`),
        e.g. ``references`` without ``identify``.
    """

    def __init__(
        self,
        model="default",
        steinhardt=STEINHARDT_DEGREES,
        k: int | None = None,
        device=None,
        compile: bool | None = None,
        identify: bool = False,
        references=(),
    ):
        self.analyzers = build_analyzers(
            AnalysisOptions(
                steinhardt=steinhardt or (),
                model=model,
                device=device,
                compile=compile,
                identify=identify,
                references=tuple(references.items() if isinstance(references, Mapping) else references or ()),
            )
        )
        #: the quantities every call returns, e.g. ``['q4', 'q6', 'embedding']``
        self.names: list[str] = names_of(self.analyzers)
        self.k = k
        self.latest: dict[str, np.ndarray] = {}
        self.step: int | None = None
        self._order: dict | None = None

    @property
    def structure_names(self) -> tuple[str, ...]:
        """Names of the ``structure`` indices (0 ``"liquid"``, last (-1) ``"other"``); empty without ``identify``."""
        identify = next((a for a in self.analyzers if isinstance(a, Identify)), None)
        return tuple(identify.structure_names) if identify is not None else ()

    @property
    def order(self) -> dict | None:
        """The latest frame's :func:`~simssl.nuclei.order_summary` (None without ``identify`` or before a frame).

        A dict: ``ordered_fraction`` (float), ``n_nuclei`` and ``largest_nucleus`` (int, particles).
        """
        return self._order

    @property
    def model(self):
        """The encoder in use, for embeddings or identification (None for Steinhardt only)."""
        return next((a.model for a in self.analyzers if isinstance(a, Embedding)), None)

    def run_record(self, source: str, format: str) -> dict:
        """The record of this live run that outputs store (:func:`simssl.io.records.live_record`).

        ``simssl info`` and ``simssl plot`` read it (:func:`simssl.io.read_processed`): the analyses
        with their parameters, the names of the ``structure`` indices included.

        Parameters
        ----------
        source : str
            The engine and run, in place of an input file (e.g. ``"HOOMD-blue 4.8.2 (live)"``).
        format : str
            The engine's name (``"hoomd"``, ``"lammps"``).

        Returns
        -------
        dict
            JSON-like: ``simssl``, ``input`` (``{"path": source}``), ``frames``, ``format``, ``box``,
            ``k``, ``keep_input``, ``analyzers``.
        """
        return live_record(self.analyzers, source, format, self.k)

    def analyze(self, frame: Frame) -> dict[str, np.ndarray]:
        """Compute every configured quantity of a Frame and keep it as :attr:`latest`.

        Parameters
        ----------
        frame : Frame

        Returns
        -------
        dict of str to numpy.ndarray
            ``{name: array with N rows}``, rows in the frame's order.
        """
        with cpu_threads_for_work():
            self.latest = analyze_frame(frame, self.analyzers, k=self.k)
        self.step = frame.step
        if "structure" in self.latest and "nucleus" in self.latest:
            self._order = order_summary(self.latest["structure"], self.latest["nucleus"])
        return self.latest

    def compute(
        self, box, positions, types=None, tags=None, type_names=None, step: int | None = None
    ) -> dict[str, np.ndarray]:
        """Analyze engine state; results are in tag order (row ``t`` belongs to the particle tagged ``t``).

        Parameters
        ----------
        box : freud.box.Box or sequence of 6 float
            A box or ``(Lx, Ly, Lz, xy, xz, yz)``, with positions in the centered (HOOMD) convention.
        positions : array_like, (N, 3)
            Numpy array, torch tensor or CUDA array.
        types : array_like of int, (N,), optional
            Type ids (numpy, torch or CUDA); None for one type.
        tags : array_like of int, (N,), optional
            Any unique integers (numpy, torch or CUDA): they give the particle order of the results.
        type_names : sequence of str, optional
            Names of the type ids (default ``'0'``, ``'1'``, ...).
        step : int, optional
            The engine's timestep.

        Returns
        -------
        dict of str to numpy.ndarray
            ``{name: array with N rows}`` (also kept as :attr:`latest`).

        Raises
        ------
        SimsslError
            For invalid state (see :func:`~simssl.io.convert.frame_from_arrays`).
        """
        return self.analyze(frame_from_arrays(box, positions, types, tags, type_names, step=step))
