"""Peak memory of ``simssl process`` with the encoder on one large frame.

Goal: <= 4 GB RSS for 1,000,000 particles on CPU.

Generates a noisy FCC frame of ``4 * cells**3`` particles (63 cells: 1,000,188 particles) as GSD in a
temporary directory, then runs ``simssl process IN -o OUT --model MODEL`` (Steinhardt q4, q6 and the
embedding) as a subprocess and reads its peak resident set size from ``getrusage(RUSAGE_CHILDREN)``.
``--model`` defaults to the shipped model (its shell spectra need a wide neighbor query: the
memory-hungry part). Appends the figures to ``benchmarks/RESULTS.md``.

    python benchmarks/process_memory.py                 # 1,000,188 particles
    python benchmarks/process_memory.py --cells 20      # a quick check (32,000 particles)
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import freud
import gsd.hoomd
import numpy as np
from common import entry_header, publish_entry

GOAL_BYTES = 4 * 10**9


def write_frame(path: Path, cells: int) -> int:
    box, points = freud.data.UnitCell.fcc().generate_system(cells, sigma_noise=0.05, seed=0)
    frame = gsd.hoomd.Frame()
    frame.configuration.box = [box.Lx, box.Ly, box.Lz, 0, 0, 0]
    frame.particles.N = len(points)
    frame.particles.position = box.wrap(points).astype(np.float32)
    with gsd.hoomd.open(str(path), "w") as trajectory:
        trajectory.append(frame)
    return len(points)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=63, help="FCC cells per side (default 63: 1,000,188 particles)")
    parser.add_argument("--model", default="default", help="model for --model (default: the shipped model)")
    parser.add_argument("--no-append", action="store_true", help="do not append to benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        source, output = Path(directory) / "big.gsd", Path(directory) / "big.simssl.gsd"
        n = write_frame(source, args.cells)
        command = [
            sys.executable,
            "-m",
            "simssl.cli",
            "process",
            str(source),
            "-o",
            str(output),
            "--model",
            args.model,
            "--quiet",
        ]
        start = time.perf_counter()
        subprocess.run(command, check=True)
        seconds = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # Linux reports KiB
        with gsd.hoomd.open(str(output)) as written:
            shape = written[0].log["particles/simssl/embedding"].shape
    verdict = "met" if peak <= GOAL_BYTES else "NOT met"
    entry = "\n".join(
        [
            *entry_header("process_memory.py", argv),
            f"- `simssl process` (q4, q6, embedding {shape}, model `{args.model}`) on one frame of {n:,} particles: "
            f"peak RSS {peak / 1e9:.2f} GB (goal <= 4 GB: {verdict}), wall time {seconds:.1f} s "
            f"({n / seconds:,.0f} particles/s end to end, start-up and compilation included)",
        ]
    )
    print(entry)
    if not args.no_append:
        publish_entry(Path(__file__).with_name("RESULTS.md"), "## process_memory", entry)
    return 0 if peak <= GOAL_BYTES else 1


if __name__ == "__main__":
    sys.exit(main())
