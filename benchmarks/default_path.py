"""Is the learned embedding as fast as freud Steinhardt on the path users actually take (no flags)?

One run per frame size (noisy FCC, sigma 0.05 nearest-neighbor distances; default 32,000 and
108,000 particles) measures, in particles per second (best of ``--rounds``, the paths interleaved
round by round so that a change of machine load hits them alike; each a complete call from a Frame,
neighbor queries included):

* ``freud Steinhardt l=4..12``: AABBQuery of the 12 nearest neighbors + ``freud.order.Steinhardt``
  for l = 4..12 (the baseline; nine degrees, 12 neighbors);
* ``model.embed(frame)``: the shipped default model, no flags (the fused C kernels on the CPU);
* ``simssl.Embedding(model).compute(frame)``: what ``simssl process --model default`` runs per frame;
* ``LiveAnalyzer(model=..., steinhardt=()).analyze(frame)``: what the LAMMPS, MDAnalysis and OVITO
  adapters run;
* the HOOMD adapter: ``OrderAnalyzer`` as a ``CustomWriter`` of a HOOMD simulation holding the
  frame, one ``simulation.run(1)`` per call (when HOOMD-blue is installed);
* ``SIMSSL_NATIVE=0``: the torch code alone (machines without a C compiler; the eager path);
* with ``--compiled``: ``model.embed(frame, compile=True)`` after its compilation (the default
  before the fused kernels).

Before the timed rounds it reports the first ``model.embed`` in a fresh interpreter: with empty
caches (the kernels' and inductor's: a first-ever run on a new machine) and with the cache the first
one left (any later process), and how much longer than a steady-state call each took.

    python benchmarks/default_path.py                      # 32,000 and 108,000 particles
    python benchmarks/default_path.py --sizes 4000 --rounds 1 --no-append   # a quick check
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import freud
import numpy as np
from common import report

import simssl
from simssl.analyses import AnalysisOptions, build_analyzers
from simssl.compute import analyze_frame
from simssl.devices import cpu_threads
from simssl.library.structures import crystal
from simssl.live import LiveAnalyzer
from simssl.plugins.ovito import ptm

HEADING = "## default_path"
DEFAULT_RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
BASELINE = "freud Steinhardt l=4..12 (12 NN)"
TORCH_CODE = "torch code only (SIMSSL_NATIVE=0: no C compiler; one round)"
FIRST_CALL = """
import time, simssl
from simssl.library.structures import crystal
frame = crystal("cF4-Cu", {n}, noise=0.05, seed=1)
model = simssl.load_model()
start = time.perf_counter()
model.embed(frame)
print(time.perf_counter() - start)
"""


def steinhardt(frame) -> None:
    """The baseline: freud's 12 nearest neighbors and Steinhardt q_l, l = 4..12."""
    query = freud.locality.AABBQuery(frame.box, frame.positions)
    nlist = query.query(frame.positions, dict(num_neighbors=12, exclude_ii=True)).toNeighborList()
    freud.order.Steinhardt(list(range(4, 13))).compute((frame.box, frame.positions), neighbors=nlist)


def torch_code(model, frame) -> None:
    """``model.embed(frame)`` without the fused kernels (``SIMSSL_NATIVE=0``)."""
    os.environ["SIMSSL_NATIVE"] = "0"
    try:
        model.embed(frame)
    finally:
        del os.environ["SIMSSL_NATIVE"]


def hoomd_step(model, frame):
    """A function running one step of a HOOMD simulation of ``frame`` with the OrderAnalyzer attached, or None."""
    try:
        import hoomd
    except ImportError:
        return None
    from simssl.plugins.hoomd import OrderAnalyzer

    simulation = hoomd.Simulation(device=hoomd.device.CPU(), seed=1)
    snapshot = hoomd.Snapshot()
    snapshot.configuration.box = [frame.box.Lx, frame.box.Ly, frame.box.Lz, frame.box.xy, frame.box.xz, frame.box.yz]
    snapshot.particles.N = frame.n_particles
    snapshot.particles.types = ["A"]
    snapshot.particles.position[:] = frame.box.wrap(frame.positions)
    simulation.create_state_from_snapshot(snapshot)
    analyzer = OrderAnalyzer(model=model, steinhardt=())
    simulation.operations.writers.append(hoomd.write.CustomWriter(action=analyzer, trigger=hoomd.trigger.Periodic(1)))
    return partial(simulation.run, 1)


def first_call_seconds(n: int, cache: str) -> float:
    """Seconds of the first ``model.embed`` in a fresh interpreter whose kernel and inductor caches are in ``cache``."""
    environment = dict(os.environ, SIMSSL_CACHE_DIR=cache, TORCHINDUCTOR_CACHE_DIR=cache)
    done = subprocess.run(
        [sys.executable, "-c", FIRST_CALL.format(n=n)], env=environment, capture_output=True, text=True, check=True
    )
    return float(done.stdout.strip().splitlines()[-1])


def interleaved_rates(paths: dict, particles: int, rounds: int, slow: tuple[str, ...]) -> dict[str, float]:
    """Particles per second of each path, best of ``rounds``, the paths taken in turn in every round;
    the ``slow`` ones (a minute a call at 108,000 particles) only in the last round."""
    best = dict.fromkeys(paths, float("inf"))
    for round_ in range(rounds):
        for name, function in paths.items():
            if name in slow and round_ < rounds - 1:
                continue
            start = time.perf_counter()
            function()
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: particles / seconds for name, seconds in best.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="32000,108000", help="particles per frame, comma separated")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per measurement (default: 3)")
    parser.add_argument(
        "--threads", type=int, help="CPU threads of simssl and freud (default: simssl picks the free cores per call)"
    )
    parser.add_argument("--compiled", action="store_true", help="also time model.embed(frame, compile=True)")
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS, help="markdown file to append to")
    parser.add_argument("--no-append", action="store_true", help="print only; do not append to the results file")
    args = parser.parse_args(argv)
    if args.threads:
        os.environ["SIMSSL_THREADS"] = str(args.threads)
        freud.parallel.set_num_threads(args.threads)
    model = simssl.load_model()
    embedding = simssl.Embedding(model)
    live = LiveAnalyzer(model=model, steinhardt=())
    steinhardt_only = build_analyzers(AnalysisOptions())  # simssl process: q4, q6
    identification = build_analyzers(AnalysisOptions(identify=True))  # simssl identify: q4, q6 and structures
    threads = f"{args.threads} (--threads)" if args.threads else f"{cpu_threads()} at the start (free cores)"
    lines = [f"- model: the shipped default ({model.card.get('name', 'encoder')}; {model.config.summary()})"]
    lines += [f"- CPU threads of simssl: {threads}; freud: {args.threads or 'all cores'}", ""]
    rows = []
    for n in (int(size) for size in args.sizes.split(",")):
        frame = crystal("cF4-Cu", n, noise=0.05, seed=1)
        with tempfile.TemporaryDirectory() as cache:
            cold, warm = first_call_seconds(n, cache), first_call_seconds(n, cache)
        paths = {
            BASELINE: partial(steinhardt, frame),
            "model.embed(frame)": partial(model.embed, frame),
            "Embedding.compute (simssl process)": partial(embedding.compute, frame),
            "LiveAnalyzer.analyze (LAMMPS, MDAnalysis, OVITO adapters)": partial(live.analyze, frame),
        }
        paths["simssl process, Steinhardt only (q4, q6)"] = partial(analyze_frame, frame, steinhardt_only)
        paths["simssl identify (q4, q6, structures, nuclei)"] = partial(analyze_frame, frame, identification)
        paths["OVITO PTM (default settings)"] = partial(ptm, frame)
        step = hoomd_step(model, frame)
        if step is not None:
            paths["HOOMD OrderAnalyzer, one simulation step"] = step
        paths[TORCH_CODE] = partial(torch_code, model, frame)
        if args.compiled:
            model.embed(frame, compile=True)  # the compilation, outside the timed rounds
            paths["model.embed(frame, compile=True) (the default before)"] = partial(model.embed, frame, compile=True)
        for name, function in paths.items():
            if name != TORCH_CODE:
                function()  # warm: the model, the kernels and the HOOMD simulation, outside the timed rounds
        rates = interleaved_rates(paths, frame.n_particles, args.rounds, slow=(TORCH_CODE,))
        baseline = rates[BASELINE]
        steady = frame.n_particles / rates["model.embed(frame)"]
        print(f"{frame.n_particles} particles: first call {cold:.1f} s (cold caches), {warm:.1f} s (warm)", flush=True)
        for name, rate in rates.items():
            print(f"  {name}: {rate:,.0f} particles/s ({rate / baseline:.2f}x)", flush=True)
            rows.append(f"| {frame.n_particles:,} | {name} | {rate:,.0f} | {rate / baseline:.2f}x |")
        rows.append(
            f"| {frame.n_particles:,} | first `model.embed` in a new process: empty caches / warm cache "
            f"(above a steady-state call of {steady:.2f} s) | {cold:.1f} s / {warm:.1f} s "
            f"(+{cold - steady:.1f} s / +{warm - steady:.1f} s) | - |"
        )
        hood = simssl.neighbors.model_neighborhoods(frame, model.config)
        mean_width = float(np.mean(hood.mask.sum(1)))
        lines.append(f"- {frame.n_particles:,} particles: {mean_width:.1f} neighbors within the cutoff on average")
    lines += [
        "- the previous stop (shipped model, torch.compile by default): model.embed 0.34x / 0.34x, simssl process "
        "0.33x / 0.31x, LiveAnalyzer 0.31x / 0.31x, eager 0.09x / 0.11x, first call +87 s / +93 s (32k / 108k)",
        "",
        "| particles | path | particles/s | vs Steinhardt |",
        "|---:|---|---:|---:|",
        *rows,
    ]
    report("\n".join(lines), args.results, HEADING, "default_path.py", argv, append=not args.no_append)
    return 0


if __name__ == "__main__":
    sys.exit(main())
