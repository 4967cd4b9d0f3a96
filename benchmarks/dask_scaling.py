"""How well does distributed processing scale? 8 trajectories on a dask LocalCluster with 1 vs 2 workers.

Generates ``--inputs`` noisy-FCC GSD trajectories, processes them all with
``simssl.distributed.process_many`` (Steinhardt l=4..12 with averages, plus the encoder with
``--model``) on 1 and then 2 single-threaded local workers, timing each run including cluster
start-up, and checks that both runs wrote byte-identical outputs. Goal on 2 cores: >= 1.7x.

    python benchmarks/dask_scaling.py                      # 8 x (4 frames x 13,500 particles)
    python benchmarks/dask_scaling.py --model random       # with the encoder (default architecture)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import freud
import gsd.hoomd
import numpy as np
from common import entry_header, publish_entry

from simssl.distributed import process_many

GOAL = 1.7


def write_inputs(directory: Path, n_inputs: int, n_frames: int, cells: int) -> list[str]:
    paths = []
    for index in range(n_inputs):
        path = directory / f"run{index}.gsd"
        with gsd.hoomd.open(str(path), "w") as out:
            for step in range(n_frames):
                box, points = freud.data.UnitCell.fcc().generate_system(
                    cells, sigma_noise=0.03 + 0.01 * step, seed=100 * index + step
                )
                frame = gsd.hoomd.Frame()
                frame.configuration.box = [box.Lx, box.Ly, box.Lz, 0, 0, 0]
                frame.configuration.step = step
                frame.particles.N = len(points)
                frame.particles.position = box.wrap(points).astype(np.float32)
                out.append(frame)
        paths.append(str(path))
    return paths


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=8)
    parser.add_argument("--frames", type=int, default=4)
    parser.add_argument("--cells", type=int, default=15, help="FCC cells per side (15: 13,500 particles)")
    parser.add_argument("--model", help="also embed with this model (e.g. 'random': the default architecture)")
    parser.add_argument("--no-append", action="store_true")
    args = parser.parse_args(argv)
    analyzer_options = dict(steinhardt="4,6,8,10,12", average=True, model=args.model)
    with tempfile.TemporaryDirectory() as directory:
        directory = Path(directory)
        sources = write_inputs(directory, args.inputs, args.frames, args.cells)
        seconds, outputs = {}, {}
        for workers in (1, 2):
            target = directory / f"out{workers}"
            start = time.perf_counter()
            results = process_many(sources, target, workers=workers, analyzer_options=analyzer_options, progress=False)
            seconds[workers] = time.perf_counter() - start
            failed = [s for s, r in results.items() if isinstance(r, Exception)]
            if failed:
                raise SystemExit(f"failed inputs: {failed}")
            outputs[workers] = [p.read_bytes() for p in sorted(target.iterdir())]
        identical = outputs[1] == outputs[2]
    speedup = seconds[1] / seconds[2]
    entry = "\n".join(
        [
            *entry_header("dask_scaling.py", argv),
            f"- workload: {args.inputs} trajectories x {args.frames} frames x {4 * args.cells**3:,} particles; "
            "Steinhardt l=4..12 + averages" + (f", embeddings (model `{args.model}`)" if args.model else ""),
            "",
            "| local workers | wall (s), cluster start-up included | speed-up |",
            "|---:|---:|---:|",
            f"| 1 | {seconds[1]:.1f} | 1.00 |",
            f"| 2 | {seconds[2]:.1f} | {speedup:.2f} |",
            "",
            f"- outputs of the two runs byte-identical: {identical}; "
            f"goal speed-up >= {GOAL}: {'met' if speedup >= GOAL else 'NOT met'}",
        ]
    )
    print(entry)
    if not args.no_append:
        publish_entry(Path(__file__).with_name("RESULTS.md"), "## dask_scaling", entry)
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
