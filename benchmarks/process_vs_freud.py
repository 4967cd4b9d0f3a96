"""How much does ``simssl process`` cost over calling freud directly? Steinhardt q4, q6 over 12 nearest neighbors.

One run generates a noisy-FCC GSD trajectory (``4 * cells**3`` particles per frame, a different noise
level and realization per frame) in a temporary directory, then times, in interleaved rounds:

* ``freud loop``: the bare loop a user would write: ``gsd.hoomd.open`` -> ``AABBQuery``
  (``num_neighbors=12, exclude_ii=True``) -> ``toNeighborList`` -> ``freud.order.Steinhardt([4, 6])``,
  results kept in memory (nothing written);
* ``simssl.process``: the Python API, ``simssl.process(in, out.gsd, steinhardt=(4, 6), progress=False)``,
  which also validates and wraps every frame and writes the output GSD;
* ``simssl CLI``: ``simssl process in.gsd -o out.gsd --quiet`` as a subprocess, interpreter start-up included;
* ``CLI start-up``: ``simssl --version`` as a subprocess (imports simssl, freud, ...; no work), for context.

It prints a markdown table (best and median seconds, ratios to the freud loop; goal: simssl/freud
<= 1.2), checks that simssl's q4/q6 equal the bare loop's, and appends the table with the date, the
machine, the command line and the versions under ``## process_vs_freud`` in ``benchmarks/RESULTS.md``.

    python benchmarks/process_vs_freud.py                        # 108,000 particles x 10 frames, 3 rounds
    python benchmarks/process_vs_freud.py --particles-cells 10 --frames 3 --rounds 1   # a quick check

Run it on a quiet machine: freud and simssl use every core.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import freud
import gsd.hoomd
import numpy as np
from common import entry_header, machine_description, publish_entry, versions

import simssl

L_VALUES = [4, 6]
NUM_NEIGHBORS = 12
HEADING = "## process_vs_freud"
DEFAULT_RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--particles-cells",
        type=int,
        default=30,
        help="FCC unit cells per side; 4*n^3 particles (default: 30 -> 108,000)",
    )
    parser.add_argument("--frames", type=int, default=10, help="frames in the trajectory (default: 10)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved repetitions of every method (default: 3)")
    parser.add_argument(
        "--noise",
        type=float,
        default=0.05,
        help="Gaussian noise of frame 0, in units of the lattice constant; frame i adds 0.01*i (default: 0.05)",
    )
    parser.add_argument(
        "--results", type=Path, default=DEFAULT_RESULTS, help=f"markdown file to append to (default: {DEFAULT_RESULTS})"
    )
    parser.add_argument("--no-append", action="store_true", help="print only; do not append to the results file")
    parser.add_argument(
        "--workdir",
        type=Path,
        help="directory for the trajectory and outputs (default: a temporary directory, removed afterwards)",
    )
    return parser.parse_args(argv)


def generate(path: Path, cells: int, n_frames: int, noise: float) -> int:
    """Write the noisy-FCC trajectory; returns the particle count per frame."""
    with gsd.hoomd.open(str(path), "w") as trajectory:
        for index in range(n_frames):
            box, points = freud.data.UnitCell.fcc().generate_system(cells, sigma_noise=noise + 0.01 * index, seed=index)
            frame = gsd.hoomd.Frame()
            frame.configuration.step = 1000 * index
            frame.configuration.box = [box.Lx, box.Ly, box.Lz, box.xy, box.xz, box.yz]
            frame.particles.N = len(points)
            frame.particles.types = ["A"]
            frame.particles.typeid = np.zeros(len(points), dtype=np.uint32)
            frame.particles.position = np.asarray(points, dtype=np.float32)
            trajectory.append(frame)
    return len(points)


def freud_loop(path: Path) -> list[np.ndarray]:
    """The baseline: read every frame with gsd, 12-NN neighbor list and Steinhardt q4, q6 with freud."""
    results = []
    with gsd.hoomd.open(str(path), "r") as trajectory:
        for frame in trajectory:
            box = freud.box.Box(*frame.configuration.box)
            points = frame.particles.position
            nlist = (
                freud.locality.AABBQuery(box, points)
                .query(points, dict(num_neighbors=NUM_NEIGHBORS, exclude_ii=True))
                .toNeighborList()
            )
            steinhardt = freud.order.Steinhardt(L_VALUES)
            steinhardt.compute((box, points), neighbors=nlist)
            results.append(np.array(steinhardt.particle_order, copy=True))
    return results


def simssl_command() -> list[str]:
    """The installed ``simssl`` console script, or ``python -m simssl.cli`` when it is not on PATH."""
    script = shutil.which("simssl")
    return [script] if script else [sys.executable, "-m", "simssl.cli"]


def run_cli(arguments: list[str]) -> None:
    completed = subprocess.run(simssl_command() + arguments, capture_output=True, text=True)
    if completed.returncode != 0:
        raise RuntimeError(f"simssl {' '.join(arguments)} failed ({completed.returncode}): {completed.stderr.strip()}")


def timed(function) -> float:
    gc.collect()
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def read_simssl_output(path: Path) -> list[np.ndarray]:
    with gsd.hoomd.open(str(path), "r") as trajectory:
        return [np.stack([frame.log[f"particles/simssl/q{l}"] for l in L_VALUES], axis=1) for frame in trajectory]


def max_difference(ours: list[np.ndarray], reference: list[np.ndarray]) -> float:
    if len(ours) != len(reference):
        return float("inf")
    worst = 0.0
    for a, b in zip(ours, reference):
        if a.shape != b.shape or not np.array_equal(np.isnan(a), np.isnan(b)):
            return float("inf")
        finite = ~np.isnan(a)
        worst = max(
            worst, float(np.max(np.abs(a[finite].astype(np.float64) - b[finite].astype(np.float64)), initial=0.0))
        )
    return worst


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.particles_cells < 2 or args.frames < 1 or args.rounds < 1:
        raise SystemExit("need --particles-cells >= 2, --frames >= 1 and --rounds >= 1")
    print(f"machine: {machine_description()}")
    print(f"versions: {versions()}")

    cleanup = None
    if args.workdir is None:
        cleanup = tempfile.TemporaryDirectory(prefix="simssl-bench-")
        workdir = Path(cleanup.name)
    else:
        workdir = args.workdir
        workdir.mkdir(parents=True, exist_ok=True)
    try:
        source = workdir / "trajectory.gsd"
        start = time.perf_counter()
        n_particles = generate(source, args.particles_cells, args.frames, args.noise)
        print(
            f"generated {args.frames} frames x {n_particles} particles ({source.stat().st_size / 1e6:.1f} MB) "
            f"in {time.perf_counter() - start:.1f} s"
        )

        api_output = workdir / "api.gsd"
        cli_output = workdir / "cli.gsd"

        def run_api():
            simssl.process(str(source), str(api_output), steinhardt=tuple(L_VALUES), progress=False, force=True)

        def run_subprocess():
            run_cli(["process", str(source), "-o", str(cli_output), "--quiet", "--force"])

        def run_startup():
            run_cli(["--version"])

        reference: list[np.ndarray] = []

        def run_freud():
            reference[:] = freud_loop(source)

        methods = {
            "freud loop": run_freud,
            "simssl.process (API)": run_api,
            "simssl CLI (subprocess)": run_subprocess,
            "CLI start-up only": run_startup,
        }
        times: dict[str, list[float]] = {name: [] for name in methods}
        names = list(methods)
        for round_index in range(args.rounds):
            # rotate the order every round so no method always runs first (cold caches) or last
            order = names[round_index % len(names) :] + names[: round_index % len(names)]
            for name in order:
                seconds = timed(methods[name])
                times[name].append(seconds)
                print(f"round {round_index + 1}/{args.rounds}: {name:<26} {seconds:8.3f} s", flush=True)

        difference_api = max_difference(read_simssl_output(api_output), reference)
        difference_cli = max_difference(read_simssl_output(cli_output), reference)
    finally:
        if cleanup is not None:
            cleanup.cleanup()

    total = n_particles * args.frames
    best_freud = min(times["freud loop"])
    median_freud = statistics.median(times["freud loop"])
    rows = [
        "| method | best (s) | median (s) | particles/s (best) | best / freud best | median / freud median |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, values in times.items():
        best, median = min(values), statistics.median(values)
        rate = f"{total / best:,.0f}" if name != "CLI start-up only" else "-"
        rows.append(
            f"| {name} | {best:.3f} | {median:.3f} | {rate} | {best / best_freud:.3f} | {median / median_freud:.3f} |"
        )
    table = "\n".join(rows)
    ratio_api = min(times["simssl.process (API)"]) / best_freud
    ratio_cli = min(times["simssl CLI (subprocess)"]) / best_freud
    verdict = (
        f"goal simssl/freud <= 1.2: API {ratio_api:.2f} ({'met' if ratio_api <= 1.2 else 'MISSED'}), "
        f"CLI {ratio_cli:.2f} ({'met' if ratio_cli <= 1.2 else 'MISSED'})"
    )
    check = f"q4/q6 max |simssl - freud loop|: API {difference_api:.3g}, CLI {difference_cli:.3g}"
    workload = (
        f"{args.frames} frames x {n_particles:,} particles "
        f"(FCC {args.particles_cells}^3 cells, noise {args.noise:g} + 0.01*frame), "
        f"Steinhardt l={L_VALUES}, {NUM_NEIGHBORS} nearest neighbors, {args.rounds} interleaved round(s)"
    )
    print()
    print(workload)
    print(table)
    print(check)
    print(verdict)

    if not args.no_append:
        entry = "\n".join(
            [
                *entry_header("process_vs_freud.py", argv),
                f"- workload: {workload}",
                f"- simssl CLI runs `{' '.join(os.path.basename(c) for c in simssl_command())} process ... --quiet` "
                "(interpreter start-up included); "
                "the freud loop writes nothing, simssl writes the output GSD",
                "",
                table,
                "",
                f"- {check}",
                f"- {verdict}",
            ]
        )
        publish_entry(args.results, HEADING, entry)
        print(f"appended to {args.results}")
    return 0 if max(difference_api, difference_cli) < 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
