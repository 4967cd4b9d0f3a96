"""Which analyses a run computes: :class:`AnalysisOptions` and the compute objects they build.

One frozen value of options is shared by the command line, live analysis (HOOMD, LAMMPS) and
distributed workers; :func:`build_analyzers` turns it into compute objects (:mod:`simssl.compute`,
:mod:`simssl.identify`, :mod:`simssl.nuclei`), loading a model given by name or path.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from .bond_order import parse_degrees
from .compute import Embedding, Steinhardt
from .defaults import STEINHARDT_DEGREES, STEINHARDT_NEIGHBORS
from .devices import resolve_device
from .errors import SimsslError
from .identify import identification, library_for
from .io import read_frames

__all__ = ["AnalysisOptions", "build_analyzers"]


@dataclass(frozen=True)
class AnalysisOptions:
    """What to compute for every frame: one frozen, hashable value shared by the CLI, live analysis and workers.

    Parameters
    ----------
    steinhardt : tuple of int, str or None
        Steinhardt degrees (or ``"4,6"``); ``()`` or None for no Steinhardt. Default ``(4, 6)``.
    wl : bool
        Also normalized w_l.
    average : bool
        Also Lechner-Dellago averages and, with a model, ``embedding_avg``.
    voronoi : bool
        Steinhardt over Voronoi neighbors weighted by facet area.
    steinhardt_k : int or None
        Nearest neighbors for Steinhardt (None: 12, FCC's first shell). Given with Voronoi neighbors
        or without Steinhardt degrees it would be ignored, and is refused.
    model : str, os.PathLike, simssl.model.Encoder or None
        None (no embeddings), ``"default"``, ``"random"`` (untrained, tests only), a checkpoint
        path (stored as str), or a loaded :class:`~simssl.model.Encoder`; names and paths are
        resolved by :func:`simssl.load_model` when the analyzers are built.
    device : str or None
        Torch device of the model, checked here (:func:`~simssl.devices.resolve_device`).
    batch_size : int or None
        Particles per model batch (only with ``model`` or ``identify``).
    compile : bool or None
        ``torch.compile`` the encoder (None: no, the default; see :func:`simssl.embedding.embed`; only
        with ``model`` or ``identify``).
    identify : bool
        Also identify every particle's structure and its nucleus (:class:`~simssl.identify.Identify`:
        ``structure``, ``structure_confidence``, ``structure_distance``, ``nucleus``), with ``model``
        (default: the shipped model); ``embedding`` is then written only when ``model`` is given.
    ordering : bool
        With ``identify``: also ``ordering``, the chemical ordering of two-type frames
        (:class:`~simssl.identify.Identify`).
    references : tuple of (str, str)
        User reference structures for ``identify``: ``(name, trajectory path)`` pairs, every particle of
        every frame of the file being that structure.

    Raises
    ------
    SimsslError
        For invalid Steinhardt degrees or neighbor counts (:class:`~simssl.compute.Steinhardt`), an
        unknown or absent device, ``batch_size`` below 1, references without ``identify``, and options
        that would be ignored: ``batch_size`` or ``compile`` without a model, ``steinhardt_k`` with
        ``voronoi`` or without degrees, ``wl`` without degrees.
    """

    steinhardt: tuple[int, ...] = STEINHARDT_DEGREES
    wl: bool = False
    average: bool = False
    voronoi: bool = False
    steinhardt_k: int | None = None
    model: object = None
    device: str | None = None
    batch_size: int | None = None
    compile: bool | None = None
    identify: bool = False
    ordering: bool = False
    references: tuple[tuple[str, str], ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "references", tuple((str(n), os.fspath(p)) for n, p in self.references))
        if self.references and not self.identify:
            raise SimsslError("reference structures are for identification: add --identify (identify=True)")
        if self.ordering and not self.identify:
            raise SimsslError("chemical ordering is part of identification: add --identify (identify=True)")
        empty = self.steinhardt is None or (np.ndim(self.steinhardt) == 1 and len(self.steinhardt) == 0)
        degrees = () if empty else parse_degrees(self.steinhardt)
        object.__setattr__(self, "steinhardt", degrees)
        self._refuse_ignored()
        if self.steinhardt_k is None:
            object.__setattr__(self, "steinhardt_k", STEINHARDT_NEIGHBORS)
        if degrees:  # the neighbor count is checked where Steinhardt is defined, before any work
            Steinhardt(degrees, weighted=self.voronoi, num_neighbors=self.steinhardt_k)
        if isinstance(self.model, os.PathLike):
            object.__setattr__(self, "model", os.fspath(self.model))
        if self.device is not None:
            resolve_device(self.device)  # an unknown or absent device: one sentence, before any work
            object.__setattr__(self, "device", str(self.device))
        if self.batch_size is not None and self.batch_size < 1:
            raise SimsslError(f"batch-size must be a positive number, got {self.batch_size}")

    def _refuse_ignored(self) -> None:
        """One sentence for an option that nothing would read (so it cannot silently change nothing)."""
        if self.model is None and not self.identify:
            given = [
                f"--{name.replace('_', '-')} ({name}=)"
                for name in ("batch_size", "compile")
                if getattr(self, name) is not None
            ]
            if given:
                raise SimsslError(
                    f"{' and '.join(given)} apply to the model, and no model runs: add --model or --identify "
                    "(model=, identify=True), or leave them out"
                )
        if self.steinhardt_k is not None and (self.voronoi or not self.steinhardt):
            why = (
                "--voronoi (voronoi=True) takes the Voronoi neighbors"
                if self.steinhardt
                else "--steinhardt none computes no Steinhardt"
            )
            raise SimsslError(f"--steinhardt-k (steinhardt_k=) would be ignored: {why}; leave it out")
        if self.wl and not self.steinhardt:
            raise SimsslError("--wl (wl=True) would be ignored: --steinhardt none computes no Steinhardt; leave it out")


def build_analyzers(options: AnalysisOptions | None = None, **fields) -> list:
    """The compute objects a run with these options uses (fields as in :class:`AnalysisOptions`).

    One place builds them for the command line, live analysis and distributed workers; a model
    given by name or path is loaded here.

    Parameters
    ----------
    options : AnalysisOptions, optional
        What to compute.
    **fields
        :class:`AnalysisOptions` fields, instead of ``options``.

    Returns
    -------
    list
        A :class:`~simssl.compute.Steinhardt` (when degrees are given), then an
        :class:`~simssl.compute.Embedding` (when a model is given or with ``identify``), then with ``identify``
        an :class:`~simssl.identify.Identify` and a :class:`~simssl.nuclei.Nuclei`
        (:func:`~simssl.identify.identification`).

    Raises
    ------
    SimsslError
        If there is nothing to compute (no degrees and no model).
    TypeError
        If both ``options`` and keyword fields are given.
    """
    if options is None:
        options = AnalysisOptions(**fields)
    elif fields:
        raise TypeError("give AnalysisOptions or keyword fields, not both")
    analyzers = []
    if options.steinhardt:
        analyzers.append(
            Steinhardt(
                options.steinhardt,
                wl=options.wl,
                average=options.average,
                weighted=options.voronoi,
                num_neighbors=options.steinhardt_k,
            )
        )
    if options.model is not None or options.identify:
        model = "default" if options.model is None else options.model
        if isinstance(model, str):
            from .checkpoints import load_model

            model = load_model(model, device=options.device)
        device = dict(device=options.device, batch_size=options.batch_size, compile=options.compile)
        if options.identify:
            library = library_for(model, _reference_frames(options.references), device=options.device)
            return analyzers + identification(
                model,
                library,
                **device,
                embedding=options.model is not None,
                average=options.average,
                ordering=options.ordering,
            )
        analyzers.append(Embedding(model, **device, average=options.average))
    if not analyzers:
        raise SimsslError("nothing to compute: give a model, Steinhardt degrees, or both")
    return analyzers


def _reference_frames(references) -> dict:
    """``{name: frames}`` of the user reference files ``((name, path), ...)``; a file without frames is refused."""
    frames = {}
    for name, path in references:
        frames[name] = list(read_frames(path))
        if not frames[name]:
            raise SimsslError(f"{path}: the reference file has no frames")
    return frames
