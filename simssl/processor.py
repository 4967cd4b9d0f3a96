"""The offline processor: reader -> one shared neighbor query per frame -> compute objects -> writer.

The compute objects (:mod:`simssl.compute`) declare how many nearest neighbors they need; the
processor queries freud once per frame for the largest need, so the learned encoder and Steinhardt
share one neighbor list. Distributed runs (:mod:`simssl.distributed`) call :func:`process` per file.
"""

from __future__ import annotations

import os
from contextlib import nullcontext
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from .bond_order import parse_degrees
from .compute import Embedding, EmbeddingAnalyzer, Steinhardt, SteinhardtAnalyzer, analyze_frame, check_neighbors
from .defaults import STEINHARDT_DEGREES, STEINHARDT_NEIGHBORS
from .devices import resolve_device
from .errors import SimsslError
from .frame import Frame
from .io import detect_format, read_frames
from .io.selection import parse_frames
from .io.writers import check_output_path, open_writer
from .version import __version__


@dataclass(frozen=True)
class AnalysisOptions:
    """What to compute for every frame: one frozen, hashable value shared by the CLI, live analysis and workers.

    Parameters
    ----------
    steinhardt: tuple of int (or ``"4,6"``), Steinhardt degrees; ``()`` or None for no Steinhardt.
    wl: bool, also normalized w_l.
    average: bool, also Lechner-Dellago averages and, with a model, ``embedding_avg``.
    voronoi: bool, Steinhardt over Voronoi neighbors weighted by facet area.
    steinhardt_k: int, nearest neighbors for Steinhardt.
    model: None (no embeddings), ``"default"``, ``"random"`` (untrained, tests only), a checkpoint
        path, or a loaded :class:`~simssl.model.Encoder`; names and paths are resolved by
        :func:`simssl.load_model` when the analyzers are built.
    device: str or None, torch device of the model.
    batch_size: int or None, particles per model batch.
    compile: bool or None, ``torch.compile`` the encoder (None: on the CPU for large frames).
    """

    steinhardt: tuple[int, ...] = STEINHARDT_DEGREES
    wl: bool = False
    average: bool = False
    voronoi: bool = False
    steinhardt_k: int = STEINHARDT_NEIGHBORS
    model: object = None
    device: str | None = None
    batch_size: int | None = None
    compile: bool | None = None

    def __post_init__(self):
        degrees = () if self.steinhardt is None or len(self.steinhardt) == 0 else parse_degrees(self.steinhardt)
        object.__setattr__(self, "steinhardt", degrees)
        if isinstance(self.model, os.PathLike):
            object.__setattr__(self, "model", os.fspath(self.model))
        if self.device is not None:
            resolve_device(self.device)  # an unknown or absent device: one sentence, before any work
            object.__setattr__(self, "device", str(self.device))
        for name in ("batch_size", "steinhardt_k"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise SimsslError(f"{name.replace('_', '-')} must be a positive number, got {value}")


def build_analyzers(options: AnalysisOptions | None = None, **fields) -> list:
    """The compute objects a run with these options uses (fields as in :class:`AnalysisOptions`).

    One place builds them for the command line, live analysis and distributed workers; a model
    given by name or path is loaded here.
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
    if options.model is not None:
        model = options.model
        if isinstance(model, str):
            from .model import load_model

            model = load_model(model, device=options.device)
        analyzers.append(
            Embedding(
                model,
                device=options.device,
                batch_size=options.batch_size,
                compile=options.compile,
                average=options.average,
            )
        )
    if not analyzers:
        raise SimsslError("nothing to compute: give a model, Steinhardt degrees, or both")
    return analyzers


@dataclass
class RunningStats:
    """Mean and standard deviation of every quantity over all frames, particles and components."""

    sums: dict[str, np.ndarray] = field(default_factory=dict)

    def add(self, quantities: dict[str, np.ndarray]) -> None:
        for name, value in quantities.items():
            finite = np.asarray(value, dtype=np.float64)
            finite = finite[np.isfinite(finite)]
            self.sums[name] = self.sums.get(name, np.zeros(3)) + [finite.size, finite.sum(), np.square(finite).sum()]

    def summary(self) -> dict[str, tuple[float, float]]:
        result = {}
        for name, (count, total, squares) in self.sums.items():
            mean = total / count if count else float("nan")
            result[name] = (mean, float(np.sqrt(max(squares / count - mean**2, 0.0))) if count else float("nan"))
        return result


@dataclass
class ProcessResult:
    """What a run did: counts, per-quantity (mean, std), the output path, and in-memory results.

    :meth:`record` is the bookkeeping every driver shares (offline processor, live LAMMPS runs).
    """

    output: str | None = None
    n_frames: int = 0
    n_particles: int = 0
    frames: list[dict[str, np.ndarray]] = field(default_factory=list)  #: results per frame, when no output file
    resumed: int = 0  #: of :attr:`n_frames`, those kept from an interrupted run's partial output
    running: RunningStats = field(default_factory=RunningStats, repr=False)

    @property
    def statistics(self) -> dict[str, tuple[float, float]]:
        """(mean, std) of every quantity over all recorded frames, particles and components."""
        return self.running.summary()

    def record(self, frame: Frame, quantities: dict[str, np.ndarray], writer=None) -> None:
        """Count a computed frame and write it (or keep it in :attr:`frames` without a writer)."""
        self.count(frame.n_particles, quantities)
        if writer is not None:
            writer.write(frame, quantities)
        else:
            self.frames.append(quantities)

    def count(self, n_particles: int, quantities: dict[str, np.ndarray]) -> None:
        """Add one frame of ``n_particles`` to the counts and statistics."""
        self.running.add(quantities)
        self.n_frames += 1
        self.n_particles += n_particles

    def summary(self) -> str:
        lines = [
            f"{self.n_frames} frame(s), {self.n_particles} particle(s) in total"
            + (f" -> {self.output}" if self.output else "")
        ]
        if self.resumed:
            lines[0] += f" ({self.resumed} of them kept from the interrupted run)"
        lines += [f"  {name:<14} mean {mean:10.5g}   std {std:10.5g}" for name, (mean, std) in self.statistics.items()]
        return "\n".join(lines)


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

    With ``output`` (``.gsd`` or ``.npz``) results stream to that file, written atomically; without
    it they are returned in ``ProcessResult.frames`` (one dict per frame). ``analyzers`` defaults to
    Steinhardt q_l for the degrees in ``steinhardt``. ``k`` widens the shared neighborhoods to at
    least ``k`` nearest neighbors (analyzers otherwise get exactly what they declare). ``resume``
    continues a killed or interrupted run into a ``.gsd`` output: frames already in its partial
    file are kept, not recomputed, and the result equals an uninterrupted run. Every output records
    the run (:func:`run_fingerprint`: input, frame selection, analyzers with their parameters and
    model hash, version); a resume whose record differs is refused, naming what differs. Without
    ``resume`` an interrupted run's partial file is refused too, unless ``force``. A ``.gsd``
    output keeps a GSD input's other per-particle data and log arrays (earlier simssl quantities
    included) unless ``keep_input`` is False.
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
    record = run_fingerprint(input, analyzers, frames, format, box, k, keep_input) if output else None
    bar = tqdm(reader, total=reader.n_frames, unit="frame", desc=os.path.basename(input), disable=not progress)
    writing = open_writer(output, resume, force, record, keep_input) if output is not None else nullcontext()
    with writing as writer, bar:
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
                            f"not this frame's step {frame.step}: it belongs to another run"
                        )
                    )
                continue
            result.record(frame, analyze_frame(frame, analyzers, k=k), writer)
        if result.n_frames == 0:
            raise empty_selection(input, frames)
    return result


def empty_selection(path, frames) -> SimsslError:
    """The error for a frame selection that selects nothing (shared by ``process`` and ``info``)."""
    return SimsslError(f"{path}: the frame selection {frames!r} contains no frames")


def run_fingerprint(input, analyzers, frames=None, format=None, box=None, k=None, keep_input=True) -> dict:
    """The record of a run (JSON-like) that decides its output: what a resume must match.

    Input path, size and modification time; the frame selection; format, box and ``k``; every
    analyzer's parameters (the model by a hash of its config and weights); the simssl version.
    """
    stat = os.stat(input)
    selection = parse_frames(frames)
    if box is not None and hasattr(box, "Lx"):
        box = [box.Lx, box.Ly, box.Lz, box.xy, box.xz, box.yz]
    describe = [
        item.parameters()
        if hasattr(item, "parameters")
        else {"kind": f"{type(item).__module__}.{type(item).__qualname__}"}
        for item in analyzers
    ]
    return {
        "simssl": __version__,
        "input": {"path": os.path.abspath(input), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns},
        "frames": [selection.start, selection.stop, selection.step],
        "format": detect_format(input, format),
        "box": None if box is None else [float(x) for x in np.atleast_1d(box)],
        "k": k,
        "keep_input": keep_input,
        "analyzers": describe,
    }


@dataclass(frozen=True)
class RunOptions:
    """How :func:`process` reads and writes one input: the keyword arguments of :func:`process` as one frozen value.

    ``frames`` (None, an int or ``"start:stop:step"``), ``format``, ``box`` (XYZ only, a tuple of
    numbers), ``k`` (widen the shared neighborhoods), ``force`` and ``resume``.
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
        """The keyword arguments of :func:`process`."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


__all__ = [
    "AnalysisOptions",
    "RunOptions",
    "Embedding",
    "EmbeddingAnalyzer",
    "ProcessResult",
    "RunningStats",
    "Steinhardt",
    "SteinhardtAnalyzer",
    "analyze_frame",
    "build_analyzers",
    "process",
]
