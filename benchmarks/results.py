"""Shared by the benchmark scripts: describe the machine and versions, and append to RESULTS.md."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import time
from pathlib import Path


def machine_description() -> str:
    """Platform, CPU model, core count and current load (timings mean little without them)."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            model = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), model)
    except OSError:
        pass
    load = ", load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()) if hasattr(os, "getloadavg") else ""
    return f"{platform.platform()}, {model}, os.cpu_count()={os.cpu_count()}{load}"


def versions() -> str:
    """Versions of the packages whose speed the benchmarks measure."""
    names = {"simssl": "simssl", "freud": "freud-analysis", "gsd": "gsd", "numpy": "numpy", "torch": "torch"}
    parts = []
    for label, distribution in names.items():
        try:
            parts.append(f"{label} {importlib.metadata.version(distribution)}")
        except importlib.metadata.PackageNotFoundError:
            parts.append(f"{label} (not installed)")
    return ", ".join(parts + [f"Python {platform.python_version()}"])


def append_section(path: Path, heading: str, entry: str) -> None:
    """Append ``entry`` at the end of section ``heading`` of a markdown file (created if missing), atomically."""
    path = Path(path)
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.strip() == heading), None)
    if start is None:
        new_text = text.rstrip("\n") + f"\n\n{heading}\n\n{entry.rstrip()}\n"
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        after = "".join(lines[end:])
        new_text = "".join(lines[:end]).rstrip("\n") + f"\n\n{entry.rstrip()}\n" + (f"\n{after}" if after else "")
    partial = path.with_name(f".{path.name}.part")
    partial.write_text(new_text)
    os.replace(partial, path)


def entry_header(script: str, argv=None) -> list[str]:
    """The first lines of a RESULTS.md entry: time stamp, machine, the exact command, versions."""
    import datetime
    import shlex
    import sys

    arguments = sys.argv[1:] if argv is None else list(argv)
    command = " ".join(["python", f"benchmarks/{script}", *map(shlex.quote, arguments)])
    return [
        f"### {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"- machine: {machine_description()}",
        f"- command: `{command}`",
        f"- versions: {versions()}",
    ]


def best_rate(function, particles: int, rounds: int) -> float:
    """Particles per second of ``function()`` over ``particles`` particles, best of ``rounds``."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return particles / best


def report(text: str, results: Path, heading: str, script: str, argv=None, append: bool = True) -> None:
    """Print a benchmark's ``text`` and (``append``) add it, with :func:`entry_header`, under ``heading``."""
    print(text)
    if append:
        append_section(results, heading, "\n".join(entry_header(script, argv) + [text]))
        print(f"appended to {results}")
