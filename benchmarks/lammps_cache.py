"""Simulation outputs cached under a hash of their input: LAMMPS dumps (``thermal_crystals.py``, ``nucleation.py``,
``lj_systems.py``) and HOOMD GSD files (``hard_spheres.py``)."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from pathlib import Path

import simssl.library
from simssl.plugins.lammps import start_lammps

#: simssl's shipped potential files and this folder (data files in the caches), named by absolute path in inputs
POTENTIALS = Path(simssl.library.__file__).parent / "potentials"
HERE = Path(__file__).resolve().parent


def portable(key: str) -> str:
    """``key`` with the checkout-specific paths (shipped potentials, this folder) replaced by names, so a
    cache key means the same simulation in every clone."""
    return key.replace(str(POTENTIALS), "<simssl potentials>").replace(str(HERE), "<benchmarks>")


def cached_file(cache: Path, stem: str, key: str, suffix: str, make: Callable[[Path], None]) -> tuple[Path, float]:
    """The file ``cache/<stem>-<hash of key><suffix>`` (made now if missing) and the seconds spent making it.

    Parameters
    ----------
    cache : Path
        Folder of the files (git-ignored: it gets a ``.gitignore`` of ``*``).
    stem : str
        Start of the file name.
    key : str
        Everything that decides the file's content (a simulation's input): what the hash identifies.
    suffix : str
        File name ending (``".lammpstrj"``, ``".gsd"``).
    make : callable
        ``make(partial)`` writes the file at ``partial``; it is renamed when ``make`` returns, so a failed
        run leaves nothing behind.
    """
    digest = hashlib.sha1(portable(key).encode()).hexdigest()[:12]
    path = Path(cache) / f"{stem}-{digest}{suffix}"
    if path.exists():
        return path, 0.0
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.parent / ".gitignore").write_text("*\n")
    partial = path.with_suffix(".part")
    start = time.perf_counter()
    try:
        make(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)  # left only if the run failed
    return path, time.perf_counter() - start


def cached_dump(cache: Path, stem: str, commands: str, dump_and_run: str) -> tuple[Path, float]:
    """The dump ``cache/<stem>-<hash of commands>.lammpstrj`` (made now if missing) and the seconds of MD spent.

    Parameters
    ----------
    cache : Path
        Folder of the dumps (git-ignored).
    stem : str
        Start of the file name.
    commands : str
        The LAMMPS input up to the dump: what the hash identifies.
    dump_and_run : str
        The dump and run commands, with ``{dump}`` where the (temporary) dump file goes.
    """

    def run(partial: Path) -> None:
        lmp = start_lammps(cmdargs=["-log", "none", "-screen", "none"])
        lmp.commands_string(commands + dump_and_run.format(dump=partial))
        lmp.close()

    return cached_file(cache, stem, commands, ".lammpstrj", run)
