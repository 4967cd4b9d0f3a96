"""Shared by the benchmark scripts: describe the machine and versions, and publish a result to RESULTS.md.

RESULTS.md holds the current result of each benchmark command: a new run replaces the entry of the
same command in its section (other commands' entries stay), so the page shows what the code does
now; earlier results live in git history.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import re
import sys
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


def publish_entry(path: Path, heading: str, entry: str) -> None:
    """Put ``entry`` in section ``heading`` of a markdown file (created if missing), atomically: it replaces
    the section's entry of the same command (its ``- command:`` line), or is appended to the section."""
    path = Path(path)
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.strip() == heading), None)
    if start is None:
        new_text = text.rstrip("\n") + f"\n\n{heading}\n\n{entry.rstrip()}\n"
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        entries = _entries("".join(lines[start + 1 : end]))
        command = _command(entry)
        kept = [old for old in entries if _command(old) != command or command is None]
        body = "\n\n".join(item.strip("\n") for item in [*kept, entry])
        after = "".join(lines[end:])
        new_text = "".join(lines[: start + 1]) + f"\n{body}\n" + (f"\n{after}" if after else "")
    partial = path.with_name(f".{path.name}.part")
    partial.write_text(new_text)
    os.replace(partial, path)


def _entries(section: str) -> list[str]:
    """A section's entries: the text from each ``### `` line to the next."""
    parts = re.split(r"(?m)^(?=### )", section)
    return [part for part in parts if part.startswith("### ")]


def _command(entry: str) -> str | None:
    """The ``- command:`` line of an entry (None without one)."""
    match = re.search(r"(?m)^- command: (.*)$", entry)
    return match.group(1).strip() if match else None


def publish(args, argv, lines: list[str], heading: str) -> None:
    """Print ``lines`` and, unless ``args.no_append``, publish them under ``heading`` in ``args.results``
    (:func:`publish_entry`), with the date, machine, command and versions (:func:`entry_header`)."""
    print("\n".join(lines))
    if args.no_append:
        return
    script = os.path.basename(sys.argv[0])
    publish_entry(args.results, heading, "\n".join(entry_header(script, argv) + lines))
    print(f"published in {args.results}")


def entry_header(script: str, argv=None) -> list[str]:
    """The first lines of a RESULTS.md entry: time stamp, machine, the exact command, versions."""
    import datetime
    import shlex

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
    """Print a benchmark's ``text`` and (``append``) publish it, with :func:`entry_header`, under ``heading``."""
    print(text)
    if append:
        publish_entry(results, heading, "\n".join(entry_header(script, argv) + [text]))
        print(f"published in {results}")
