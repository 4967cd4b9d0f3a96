"""The offline processor: reader -> one neighbor plan per frame -> compute objects -> writer.

The compute objects (:mod:`simssl.compute`) declare the neighborhoods they read;
:func:`~simssl.compute.analyze_frame` builds them once per frame from at most two freud queries
(:func:`~simssl.neighbors.plan_neighborhoods`). Distributed runs (:mod:`simssl.distributed`) call
:func:`process` per file.
"""

from __future__ import annotations

import os
from contextlib import nullcontext
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from .bond_order import parse_degrees
from .compute import (
    Embedding,
    Steinhardt,
    analyze_frame,
    check_neighbors,
)
from .defaults import STEINHARDT_DEGREES, STEINHARDT_NEIGHBORS
from .devices import cpu_threads_for_work, resolve_device
from .errors import SimsslError
from .frame import Frame
from .identify import Identify, identification, library_for
from .io import detect_format, read_frames
from .io.selection import parse_frames
from .io.writers import check_output_path, open_writer
from .nuclei import evenly_spaced, order_summary, shown_note
from .version import __version__


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


@dataclass
class RunningStats:
    """Mean and standard deviation of every quantity over all frames, particles and components.

    Attributes
    ----------
    sums : dict of str to numpy.ndarray
        Per quantity, (3,) float64: the count, sum and sum of squares of its finite values.
    """

    sums: dict[str, np.ndarray] = field(default_factory=dict)

    def add(self, quantities: dict[str, np.ndarray]) -> None:
        """Add one frame's quantities (non-finite values are skipped).

        Parameters
        ----------
        quantities : dict of str to array_like
            ``{name: array}`` of one frame.
        """
        for name, value in quantities.items():
            finite = np.asarray(value, dtype=np.float64)
            finite = finite[np.isfinite(finite)]
            self.sums[name] = self.sums.get(name, np.zeros(3)) + [finite.size, finite.sum(), np.square(finite).sum()]

    def summary(self) -> dict[str, tuple[float, float]]:
        """``{name: (mean, std)}`` so far (NaN for a quantity without finite values).

        Returns
        -------
        dict of str to tuple of 2 float
        """
        result = {}
        for name, (count, total, squares) in self.sums.items():
            mean = total / count if count else float("nan")
            result[name] = (mean, float(np.sqrt(max(squares / count - mean**2, 0.0))) if count else float("nan"))
        return result


#: per-particle labels, not measurements: left out of the mean/std statistics
CATEGORICAL = ("structure", "nucleus", "ordering")
#: at most this many structures and frames in :meth:`ProcessResult.summary`
SUMMARY_STRUCTURES = 6
SUMMARY_FRAMES = 20


@dataclass
class ProcessResult:
    """What a run did: counts, per-quantity (mean, std), the output path, and in-memory results.

    :meth:`record` is the bookkeeping every driver shares (offline processor, live LAMMPS runs).

    Attributes
    ----------
    output : str or None
        The output file (None: results kept in :attr:`frames`).
    n_frames : int
        Frames computed (resumed ones included).
    n_particles : int
        Particles over all those frames.
    frames : list of dict of str to numpy.ndarray
        Results per frame, when no output file.
    resumed : int
        Of :attr:`n_frames`, those kept from an interrupted run's partial output.
    running : RunningStats
        The running sums behind :attr:`statistics`.
    order : list of dict
        Per frame with identification (``structure`` and ``nucleus``): its
        :func:`~simssl.nuclei.order_summary` (ordered fraction, number of nuclei, largest nucleus).
    structure_counts : dict of int to int
        Particles identified as each structure, over all frames, by structure index (-1: ``other``).
    structure_names : tuple of str
        Names of the structure indices (set by :func:`process` from its :class:`~simssl.identify.Identify`).
    """

    output: str | None = None
    n_frames: int = 0
    n_particles: int = 0
    frames: list[dict[str, np.ndarray]] = field(default_factory=list)  #: results per frame, when no output file
    resumed: int = 0  #: of :attr:`n_frames`, those kept from an interrupted run's partial output
    running: RunningStats = field(default_factory=RunningStats, repr=False)
    order: list[dict] = field(default_factory=list)
    structure_counts: dict[int, int] = field(default_factory=dict, repr=False)
    structure_names: tuple[str, ...] = ()

    @property
    def statistics(self) -> dict[str, tuple[float, float]]:
        """``{name: (mean, std)}`` of every quantity over all recorded frames, particles and components."""
        return self.running.summary()

    def record(self, frame: Frame, quantities: dict[str, np.ndarray], writer=None) -> None:
        """Count a computed frame and write it (or keep it in :attr:`frames` without a writer).

        Parameters
        ----------
        frame : Frame
        quantities : dict of str to numpy.ndarray
            ``{name: array with N rows}`` of ``frame``.
        writer : GSDWriter or NPZWriter, optional
            Where the frame goes (:func:`~simssl.io.writers.open_writer`).
        """
        self.count(frame.n_particles, quantities)
        if writer is not None:
            writer.write(frame, quantities)
        else:
            self.frames.append(quantities)

    def count(self, n_particles: int, quantities: dict[str, np.ndarray]) -> None:
        """Add one frame of ``n_particles`` to the counts and statistics.

        Parameters
        ----------
        n_particles : int
        quantities : dict of str to numpy.ndarray
        """
        categorical = {name: value for name, value in quantities.items() if name in CATEGORICAL}
        self.running.add({name: value for name, value in quantities.items() if name not in categorical})
        if "structure" in categorical and "nucleus" in categorical:
            self.order.append(order_summary(categorical["structure"], categorical["nucleus"]))
            indices, counts = np.unique(np.asarray(categorical["structure"], dtype=np.int64), return_counts=True)
            for index, count in zip(indices.tolist(), counts.tolist()):
                self.structure_counts[index] = self.structure_counts.get(index, 0) + count
        self.n_frames += 1
        self.n_particles += n_particles

    def summary(self) -> str:
        """Counts, output and per-quantity mean and std as text, one line per quantity."""
        lines = [
            f"{self.n_frames} frame(s), {self.n_particles} particle(s) in total"
            + (f" -> {self.output}" if self.output else "")
        ]
        if self.resumed:
            lines[0] += f" ({self.resumed} of them kept from the interrupted run)"
        lines += [f"  {name:<14} mean {mean:10.5g}   std {std:10.5g}" for name, (mean, std) in self.statistics.items()]
        return "\n".join(lines + self._order_lines())

    def _order_lines(self) -> list[str]:
        """The identification part of :meth:`summary`: structures over the run, then order per frame."""
        if not self.order:
            return []
        total = sum(self.structure_counts.values())
        shares = sorted(self.structure_counts.items(), key=lambda item: -item[1])
        names = self.structure_names  # names[-1] is "other", structure -1
        lines = [
            "  structures (all frames): "
            + ", ".join(
                f"{names[index] if -len(names) <= index < len(names) else index} {100 * count / total:.1f} %"
                for index, count in shares[:SUMMARY_STRUCTURES]
            ),
            "  frame  ordered fraction  nuclei  largest nucleus",
        ]
        shown = evenly_spaced(len(self.order), SUMMARY_FRAMES)
        lines += [
            f"  {i:5d}  {self.order[i]['ordered_fraction']:16.3f}  {self.order[i]['n_nuclei']:6d}  "
            f"{self.order[i]['largest_nucleus']:15d}"
            for i in shown
        ]
        return lines + [f"  {note}" for note in shown_note(len(shown), len(self.order))]


def process(
    input,
    output=None,
    *,
    analyzers=None,
    steinhardt=STEINHARDT_DEGREES,
    k: int | None = None,
    frames=None,
    format: str | None = None,
    box=None,
    force: bool = False,
    resume: bool = False,
    progress: bool = True,
    keep_input: bool = True,
) -> ProcessResult:
    """Compute per-particle quantities for every selected frame of ``input``.

    Every output records the run (:func:`run_fingerprint`: input, frame selection, analyzers with
    their parameters and model hash, version).

    Parameters
    ----------
    input : str or os.PathLike
        A trajectory (see :func:`simssl.io.read_frames`).
    output : str or os.PathLike, optional
        ``.gsd`` or ``.npz``: results stream to that file, written atomically; without it they are
        returned in ``ProcessResult.frames`` (one dict per frame).
    analyzers : list of compute objects, optional
        Default: Steinhardt q_l for the degrees in ``steinhardt``.
    steinhardt : tuple of int or str
        Degrees of the default analyzer (default ``(4, 6)``).
    k : int, optional
        Widen the shared neighborhoods to at least ``k`` nearest neighbors (analyzers otherwise get
        exactly what they declare); below what an analyzer reads is an error.
    frames : None, int, slice or str
        Frame selection (:func:`~simssl.io.selection.parse_frames`).
    format : str, optional
        ``"gsd"``, ``"lammpsdump"`` or ``"xyz"`` to override the extension.
    box : optional
        Box of XYZ inputs, as in :func:`simssl.io.read_frames`.
    force : bool
        Overwrite an existing output; without ``resume``, also discard an interrupted run's partial
        file (otherwise refused).
    resume : bool
        Continue a killed or interrupted run into a ``.gsd`` output: frames already in its partial
        file are kept, not recomputed, and the result equals an uninterrupted run. A resume whose
        record differs is refused, naming what differs.
    progress : bool
        Show a progress bar.
    keep_input : bool
        A ``.gsd`` output keeps a GSD input's other per-particle data and log arrays (earlier
        simssl quantities included) unless False.

    Returns
    -------
    ProcessResult

    Raises
    ------
    SimsslError
        For an empty analyzer list, ``resume`` without an output (or with a complete one and no
        ``force``), a too small ``k``, a refused output path, unreadable input, a partial output of
        another run, or a selection without frames.

    Examples
    --------
    >>> import simssl
    >>> result = process(simssl.example_path(), frames=0, progress=False)
    >>> result.n_frames, sorted(result.frames[0]), result.frames[0]["q6"].shape
    (1, ['q4', 'q6'], (4000,))
    """
    if analyzers is None:
        analyzers = [Steinhardt(steinhardt)]
    if not analyzers:
        raise SimsslError("nothing to compute: the list of analyzers is empty")
    input = os.fspath(input)
    if resume and (output is None or (os.path.exists(output) and not force)):
        raise SimsslError(
            "resume needs an output file"
            if output is None
            else f"{output}: is already complete; nothing to resume (pass --force to recompute it)"
        )
    check_neighbors(analyzers, k)
    if output is not None:
        output = check_output_path(output, force=force or resume, inputs=[input] if os.path.exists(input) else [])
    reader = read_frames(input, frames=frames, format=format, box=box)
    result = ProcessResult(output)
    result.structure_names = next((a.structure_names for a in analyzers if isinstance(a, Identify)), ())
    record = run_fingerprint(input, analyzers, frames, format, box, k, keep_input) if output else None
    writing = open_writer(output, resume, force, record, keep_input) if output is not None else nullcontext()
    # the bar starts once the output is ours (its lock taken): a refused run shows none
    with (
        writing as writer,
        tqdm(reader, total=reader.n_frames, unit="frame", desc=os.path.basename(input), disable=not progress) as bar,
    ):
        result.resumed = writer.n_written if writer is not None else 0
        if result.resumed:
            for n_particles, quantities in writer.written():
                result.count(n_particles, quantities)
        for position, frame in enumerate(bar):
            if position < result.resumed:
                if position == result.resumed - 1 and frame.output_step != writer.last_step:
                    raise SimsslError(
                        frame.where(
                            f"the partial output {writer.temporary} ends at step {writer.last_step}, "
                            f"not this frame's step {frame.output_step}: it belongs to another run"
                        )
                    )
                continue
            with cpu_threads_for_work():
                quantities = analyze_frame(frame, analyzers, k=k)
            result.record(frame, quantities, writer)
        if result.n_frames == 0:
            raise reader.empty_selection(frames)
    return result


def run_fingerprint(input, analyzers, frames=None, format=None, box=None, k=None, keep_input=True) -> dict:
    """The record of a run (JSON-like) that decides its output: what a resume must match.

    Input path, size and modification time; the frame selection; format, box and ``k``; every
    analyzer's parameters (the model by a hash of its config and weights); the simssl version.

    Parameters
    ----------
    input : str
        An existing input file.
    analyzers : list of compute objects
        Described by their ``parameters()``, or by their class name.
    frames, format, box, k, keep_input
        As in :func:`process`.

    Returns
    -------
    dict
        Keys ``simssl``, ``input``, ``frames``, ``format``, ``box``, ``k``, ``keep_input``, ``analyzers``.
    """
    stat = os.stat(input)
    selection = parse_frames(frames)
    if box is not None and hasattr(box, "Lx"):
        box = [box.Lx, box.Ly, box.Lz, box.xy, box.xz, box.yz]
    return {
        "simssl": __version__,
        "input": {"path": os.path.abspath(input), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns},
        "frames": [selection.start, selection.stop, selection.step],
        "format": detect_format(input, format),
        "box": None if box is None else [float(x) for x in np.atleast_1d(box)],
        "k": k,
        "keep_input": keep_input,
        "analyzers": describe_analyzers(analyzers),
    }


def describe_analyzers(analyzers) -> list[dict]:
    """Each compute object's ``parameters()`` (its class name for plain callables): the run record's ``analyzers``."""
    return [
        item.parameters()
        if hasattr(item, "parameters")
        else {"kind": f"{type(item).__module__}.{type(item).__qualname__}"}
        for item in analyzers
    ]


@dataclass(frozen=True)
class RunOptions:
    """How :func:`process` reads and writes one input: the keyword arguments of :func:`process` as one frozen value.

    Parameters
    ----------
    frames : None, int or str
        Frame selection, e.g. ``"start:stop:step"``.
    format : str or None
        Input format (default: from the extension).
    box : tuple of float or None
        XYZ only; numbers are stored as a tuple of float (a freud box is kept as it is).
    k : int or None
        Widen the shared neighborhoods.
    force, resume, keep_input : bool
        As in :func:`process`.
    """

    frames: object = None
    format: str | None = None
    box: tuple[float, ...] | None = None
    k: int | None = None
    force: bool = False
    resume: bool = False
    keep_input: bool = True

    def __post_init__(self):
        if self.box is not None and not hasattr(self.box, "Lx"):
            object.__setattr__(self, "box", tuple(float(x) for x in np.atleast_1d(self.box)))

    def as_kwargs(self) -> dict:
        """The keyword arguments of :func:`process`.

        Returns
        -------
        dict
            ``{field: value}`` of every field.
        """
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


__all__ = [
    "AnalysisOptions",
    "RunOptions",
    "Embedding",
    "ProcessResult",
    "RunningStats",
    "Steinhardt",
    "analyze_frame",
    "build_analyzers",
    "process",
]
