"""The offline processor: frames -> one shared neighbor query -> per-particle analyzers -> writer.

Analyzers are small callables ``analyzer(frame, neighborhoods) -> {name: (N, ...) array}`` that
declare how many nearest neighbors they need; the processor queries freud once per frame for the
largest need, so the learned encoder and Steinhardt share one neighbor list.
"""

from __future__ import annotations

import os
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from tqdm.auto import tqdm

from .errors import SimsslError
from .frame import Frame
from .io import read_frames
from .io.writers import check_output_path, open_writer
from .neighbors import Neighborhoods, compute_neighborhoods, neighbor_average, truncate
from .steinhardt import DEFAULT_L, DEFAULT_NUM_NEIGHBORS, parse_degrees, steinhardt


class Analyzer(Protocol):
    """A per-particle computation the processor can run."""

    #: nearest neighbors this analyzer reads from the shared Neighborhoods (0 if it needs none)
    num_neighbors: int

    def __call__(self, frame: Frame, neighborhoods: Neighborhoods | None) -> dict[str, np.ndarray]: ...


@dataclass
class SteinhardtAnalyzer:
    """q_l (and optionally w_l, Lechner-Dellago averages, Voronoi weights) from freud."""

    l: tuple[int, ...] = DEFAULT_L
    wl: bool = False
    average: bool = False
    weighted: bool = False
    num_neighbors: int = DEFAULT_NUM_NEIGHBORS

    def __post_init__(self):
        self.l = parse_degrees(self.l)
        if self.weighted:
            self.num_neighbors = 0  # Voronoi builds its own neighbors

    def __call__(self, frame, neighborhoods):
        return steinhardt(frame, self.l, wl=self.wl, average=self.average, weighted=self.weighted, num_neighbors=self.num_neighbors, neighbors=neighborhoods)


#: frames at least this large are embedded with ``torch.compile`` on the CPU when ``compile`` is None:
#: compilation costs ~10-20 s once (then cached on disk) and makes the encoder ~7x faster.
COMPILE_MIN_PARTICLES = 20_000


@dataclass
class EmbeddingAnalyzer:
    """Per-particle order embeddings ``embedding`` (N, D) from a GA-attention encoder (:mod:`simssl.model`).

    ``compile``: True, False, or None to compile on the CPU for frames of at least
    ``COMPILE_MIN_PARTICLES`` particles (the choice depends on the frame size only, so a given frame
    always gets the same numerics). ``average`` also returns ``embedding_avg``, each particle's
    mean over itself and its neighbors (from the same model pass).
    """

    model: object
    device: str | None = None
    batch_size: int | None = None
    compile: bool | None = None
    average: bool = False

    @property
    def num_neighbors(self) -> int:
        return self.model.config.k

    def __call__(self, frame, neighborhoods):
        known = self.model.config.n_types
        if len(frame.type_names) > known:
            raise SimsslError(frame.where(f"the frame has {len(frame.type_names)} particle types but the model knows {known}"))
        if neighborhoods.k > self.num_neighbors:
            neighborhoods = truncate(neighborhoods, self.num_neighbors)
        compile = self.compile
        if compile is None:
            on_cpu = (self.device or ("cuda" if _cuda_available() else "cpu")).startswith("cpu")
            compile = on_cpu and frame.n_particles >= COMPILE_MIN_PARTICLES
        embedding = self.model.embed(neighborhoods, device=self.device, batch_size=self.batch_size, compile=compile)
        if not self.average:
            return {"embedding": embedding}
        return {"embedding": embedding, "embedding_avg": neighbor_average(embedding, neighborhoods)}


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def build_analyzers(
    steinhardt="4,6",
    wl: bool = False,
    average: bool = False,
    voronoi: bool = False,
    steinhardt_k: int = DEFAULT_NUM_NEIGHBORS,
    model=None,
    device=None,
    batch_size: int | None = None,
    compile: bool | None = None,
) -> list:
    """The analyzers ``simssl process`` runs for these options (``steinhardt="none"`` or empty: no Steinhardt).

    ``model``: None, ``"default"``, ``"random"`` (untrained, tests only), a checkpoint path, or a loaded
    Encoder. One place builds them for the command line, live analysis and distributed workers.
    """
    analyzers = []
    if steinhardt and str(steinhardt).lower() != "none":
        analyzers.append(SteinhardtAnalyzer(steinhardt, wl=wl, average=average, weighted=voronoi, num_neighbors=steinhardt_k))
    if model is not None:
        if isinstance(model, (str, os.PathLike)):
            from .model import load_model

            model = load_model(None if model == "default" else model, device=device)
        analyzers.append(EmbeddingAnalyzer(model, device=None if device is None else str(device), batch_size=batch_size, compile=compile, average=average))
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
    resumed: int = 0  #: frames found already done in an interrupted run's partial output (not counted above)
    running: RunningStats = field(default_factory=RunningStats, repr=False)

    @property
    def statistics(self) -> dict[str, tuple[float, float]]:
        """(mean, std) of every quantity over all recorded frames, particles and components."""
        return self.running.summary()

    def record(self, frame: Frame, quantities: dict[str, np.ndarray], writer=None) -> None:
        """Count a computed frame and write it (or keep it in :attr:`frames` without a writer)."""
        self.running.add(quantities)
        self.n_frames += 1
        self.n_particles += frame.n_particles
        if writer is not None:
            writer.write(frame, quantities)
        else:
            self.frames.append(quantities)

    def summary(self) -> str:
        lines = [f"{self.n_frames} frame(s), {self.n_particles} particle(s) in total" + (f" -> {self.output}" if self.output else "")]
        if self.resumed:
            lines[0] += f" ({self.resumed} earlier frame(s) kept from the interrupted run)"
        lines += [f"  {name:<14} mean {mean:10.5g}   std {std:10.5g}" for name, (mean, std) in self.statistics.items()]
        return "\n".join(lines)


def analyze_frame(frame: Frame, analyzers, k: int | None = None) -> dict[str, np.ndarray]:
    """Run every analyzer on one frame, sharing a single freud neighbor query.

    The query asks for the most neighbors any analyzer needs, or ``k`` if that is more.
    """
    needed = max([analyzer.num_neighbors for analyzer in analyzers] + [k or 0])
    neighborhoods = compute_neighborhoods(frame, k=needed) if needed else None
    quantities: dict[str, np.ndarray] = {}
    for analyzer in analyzers:
        for name, value in analyzer(frame, neighborhoods).items():
            if name in quantities:
                raise SimsslError(f"two analyzers both produce {name!r}")
            if len(value) != frame.n_particles:
                raise SimsslError(frame.where(f"{name!r} has {len(value)} rows for {frame.n_particles} particles"))
            quantities[name] = value
    return quantities


def process(
    input,
    output=None,
    *,
    analyzers=None,
    steinhardt=DEFAULT_L,
    k: int | None = None,
    frames=None,
    format: str | None = None,
    box=None,
    force: bool = False,
    resume: bool = False,
    progress: bool = True,
) -> ProcessResult:
    """Compute per-particle quantities for every selected frame of ``input``.

    With ``output`` (``.gsd`` or ``.npz``) results stream to that file, written atomically; without
    it they are returned in ``ProcessResult.frames`` (one dict per frame). ``analyzers`` defaults to
    Steinhardt q_l for the degrees in ``steinhardt``. ``k`` widens the shared neighborhoods to at
    least ``k`` nearest neighbors (analyzers otherwise get exactly what they declare). ``resume``
    continues a killed or interrupted run into a ``.gsd`` output: frames already in its partial
    file are kept, not recomputed, and the result equals an uninterrupted run.
    """
    if analyzers is None:
        analyzers = [SteinhardtAnalyzer(steinhardt)]
    if not analyzers:
        raise SimsslError("nothing to compute: the list of analyzers is empty")
    input = os.fspath(input)
    if resume and (output is None or (os.path.exists(output) and not force)):
        raise SimsslError("resume needs an output file" if output is None else f"{output}: is already complete; nothing to resume (pass --force to recompute it)")
    if output is not None:
        output = check_output_path(output, force=force or resume, inputs=[input] if os.path.exists(input) else [])
    reader = read_frames(input, frames=frames, format=format, box=box)
    result = ProcessResult(output)
    bar = tqdm(reader, total=reader.n_frames, unit="frame", desc=os.path.basename(input), disable=not progress)
    with open_writer(output, resume) if output is not None else nullcontext() as writer, bar:
        result.resumed = writer.n_written if writer is not None else 0
        for position, frame in enumerate(bar):
            if position < result.resumed:
                if position == result.resumed - 1 and (frame.step or 0) != writer.last_step:
                    raise SimsslError(frame.where(f"the partial output {writer.temporary} ends at step {writer.last_step}, not this frame's step {frame.step}: it belongs to another run"))
                continue
            result.record(frame, analyze_frame(frame, analyzers, k=k), writer)
        if result.n_frames + result.resumed == 0:
            raise SimsslError(f"{input}: the frame selection {frames!r} contains no frames")
    return result
