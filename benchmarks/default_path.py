"""Is the learned embedding as fast as freud Steinhardt on the path users actually take (no flags)?

One run per frame size (noisy FCC, sigma 0.05 nearest-neighbor distances; default 32,000 and
108,000 particles) measures, in particles per second (best of ``--rounds``, each a complete call
from a Frame, neighbor queries included):

* ``freud Steinhardt l=4..12``: AABBQuery of the 12 nearest neighbors + ``freud.order.Steinhardt``
  for l = 4..12 (the baseline; nine degrees, 12 neighbors);
* ``model.embed(frame)``: the shipped default model, no flags (on the CPU frames of 20,000+
  particles are compiled by default);
* ``simssl.Embedding(model).compute(frame)``: what ``simssl process --model default`` runs per frame;
* ``LiveAnalyzer(model="default", steinhardt=()).analyze(frame)``: what the HOOMD, LAMMPS,
  MDAnalysis and OVITO adapters run;
* ``model.embed(frame, compile=False)``: the eager path, for context.

Before the timed rounds it reports the first call's cost in a fresh interpreter, with an empty
inductor cache (a first-ever run) and with the cache the first one left (any later process).

    python benchmarks/default_path.py                      # 32,000 and 108,000 particles
    python benchmarks/default_path.py --sizes 4000 --rounds 1 --no-append   # a quick check
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from functools import partial
from pathlib import Path

import freud
import numpy as np
import torch
from results import best_rate, report

import simssl
from simssl.library.structures import crystal
from simssl.live import LiveAnalyzer

HEADING = "## default_path"
DEFAULT_RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
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


def first_call_seconds(n: int, cache: str) -> float:
    """Seconds of the first ``model.embed`` in a fresh interpreter using inductor cache folder ``cache``."""
    environment = dict(os.environ, TORCHINDUCTOR_CACHE_DIR=cache)
    done = subprocess.run(
        [sys.executable, "-c", FIRST_CALL.format(n=n)], env=environment, capture_output=True, text=True, check=True
    )
    return float(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="32000,108000", help="particles per frame, comma separated")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per measurement (default: 3)")
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS, help="markdown file to append to")
    parser.add_argument("--no-append", action="store_true", help="print only; do not append to the results file")
    args = parser.parse_args(argv)
    torch.set_num_threads(os.cpu_count() or 1)
    model = simssl.load_model()
    embedding = simssl.Embedding(model)
    live = LiveAnalyzer(model=model, steinhardt=())
    lines = [
        f"- model: the shipped default ({model.card.get('name', 'encoder')}; {model.config.summary()}); "
        f"torch threads {torch.get_num_threads()}",
        "",
    ]
    rows = []
    for n in (int(size) for size in args.sizes.split(",")):
        frame = crystal("cF4-Cu", n, noise=0.05, seed=1)
        with tempfile.TemporaryDirectory() as cache:
            cold, warm = first_call_seconds(n, cache), first_call_seconds(n, cache)
        model.embed(frame)  # this process's compilation, outside the timed rounds
        rates = {
            name: best_rate(partial(function, frame), frame.n_particles, rounds)
            for name, function, rounds in (
                ("freud Steinhardt l=4..12 (12 NN)", steinhardt, args.rounds),
                ("model.embed(frame)", model.embed, args.rounds),
                ("Embedding.compute (simssl process)", embedding.compute, args.rounds),
                ("LiveAnalyzer.analyze (adapters)", live.analyze, args.rounds),
                ("model.embed(frame, compile=False)", partial(model.embed, compile=False), 1),
            )
        }
        baseline = rates["freud Steinhardt l=4..12 (12 NN)"]
        hood = simssl.neighbors.model_neighborhoods(frame, model.config)
        print(f"{frame.n_particles} particles: first call {cold:.1f} s (cold cache), {warm:.1f} s (warm)", flush=True)
        for name, rate in rates.items():
            print(f"  {name}: {rate:,.0f} particles/s ({rate / baseline:.2f}x)", flush=True)
            rows.append(f"| {frame.n_particles:,} | {name} | {rate:,.0f} | {rate / baseline:.2f}x |")
        rows.append(
            f"| {frame.n_particles:,} | first `model.embed` in a new process: cold cache / warm cache | "
            f"{cold:.1f} s / {warm:.1f} s | - |"
        )
        mean_width = float(np.mean(hood.mask.sum(1)))
        lines.append(f"- {frame.n_particles:,} particles: {mean_width:.1f} neighbors within the cutoff on average")
    lines += [
        "",
        "| particles | path | particles/s | vs Steinhardt |",
        "|---:|---|---:|---:|",
        *rows,
    ]
    report("\n".join(lines), args.results, HEADING, "default_path.py", argv, append=not args.no_append)
    return 0


if __name__ == "__main__":
    sys.exit(main())
