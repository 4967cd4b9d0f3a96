"""LAMMPS runs whose dumps are cached under a hash of their input (``thermal_crystals.py``, ``nucleation.py``)."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from simssl.plugins.lammps import start_lammps


def cached_dump(cache: Path, stem: str, commands: str, dump_and_run: str) -> tuple[Path, float]:
    """The dump ``cache/<stem>-<hash of commands>.lammpstrj`` (made now if missing) and the seconds of MD spent.

    Parameters
    ----------
    cache : Path
        Folder of the dumps (git-ignored: it gets a ``.gitignore`` of ``*``).
    stem : str
        Start of the file name.
    commands : str
        The LAMMPS input up to the dump: what the hash identifies.
    dump_and_run : str
        The dump and run commands, with ``{dump}`` where the (temporary) dump file goes; written
        under a ``.part`` name and renamed when LAMMPS finishes, so a failed run leaves no dump.
    """
    digest = hashlib.sha1(commands.encode()).hexdigest()[:12]
    path = Path(cache) / f"{stem}-{digest}.lammpstrj"
    if path.exists():
        return path, 0.0
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.parent / ".gitignore").write_text("*\n")
    partial = path.with_suffix(".part")
    start = time.perf_counter()
    try:
        lmp = start_lammps(cmdargs=["-log", "none", "-screen", "none"])
        lmp.commands_string(commands + dump_and_run.format(dump=partial))
        lmp.close()
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)  # left only if the run failed
    return path, time.perf_counter() - start
