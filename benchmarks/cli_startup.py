"""How long ``simssl --help`` takes, now and at an older revision, in one run (issue 11, item 18).

The older revision is checked out into a temporary git worktree and run with ``PYTHONPATH`` pointing
at it, so both use the same interpreter and packages. Each command runs ``--repeat`` times; the
median wall time is reported, with the heavy packages each one imports.

    python benchmarks/cli_startup.py --baseline be9f391
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import entry_header, publish_entry

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("freud", "matplotlib", "torch", "gsd", "MDAnalysis")


def timed(source: Path, repeat: int) -> tuple[float, list[str]]:
    """Median seconds of ``python -m simssl.cli --help`` with ``source`` first on the path, and what it imported."""
    env = {**os.environ, "PYTHONPATH": str(source)}
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "simssl.cli", "--help"], env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    probe = f"import sys, simssl.cli; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", probe], env=env, check=True, capture_output=True, text=True)
    return statistics.median(times), loaded.stdout.split()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="be9f391", help="git revision to compare with (default: be9f391)")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        old = Path(directory) / "old"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old), args.baseline],
            check=True,
            capture_output=True,
        )
        try:
            before, before_loaded = timed(old, args.repeat)
            now, now_loaded = timed(ROOT, args.repeat)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)], check=True)
    rows = [
        "| revision | `simssl --help` median (s) | heavy packages imported |",
        "|---|---:|---|",
        f"| {args.baseline} | {before:.3f} | {', '.join(before_loaded) or 'none'} |",
        f"| working tree | {now:.3f} | {', '.join(now_loaded) or 'none'} |",
        f"| ratio | {before / now:.1f}x faster | |",
    ]
    entry = "\n".join(entry_header("cli_startup.py") + ["", *rows])
    print(entry)
    publish_entry(ROOT / "benchmarks" / "RESULTS.md", "## cli_startup", entry)


if __name__ == "__main__":
    main()
