"""LAMMPS text dumps, read through MDAnalysis (scaled ``xs ys zs`` or unscaled ``x y z``, triclinic, gzip too).

MDAnalysis ignores the boundary flags of ``ITEM: BOX BOUNDS`` and silently drops a last frame cut
short, so both are read here from the file itself, cheaply: each frame's five header lines at
MDAnalysis' own frame offsets, and the last complete frame plus whatever follows it (at most one
frame of text; the rest of a big file is never read again in Python).
"""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import SimsslError, located
from ..frame import ALL_PERIODIC, warn_nonperiodic
from .convert import frame_from_mdanalysis
from .types import type_ids

#: ITEM: TIMESTEP, step, ITEM: NUMBER OF ATOMS, count, ITEM: BOX BOUNDS, three bounds, ITEM: ATOMS
HEADER_LINES = 9
COLUMNS_NEEDED = "it needs an 'id' column and x y z or xs ys zs columns; 'type' is optional (default: one type)"


def open_lammps_dump(path: str, selection: slice):
    """Return (number of selected frames, lazy iterator of Frames, frames in the file) for a LAMMPS dump.

    A frame cut short by the end of the file counts as a frame: reading it raises a
    :class:`SimsslError` saying what is missing (frames before it are read normally).

    Parameters
    ----------
    path : str
        The dump file (gzip-compressed too).
    selection : slice
        Frames to read (:func:`~simssl.io.selection.parse_frames`).

    Returns
    -------
    n_frames : int
    frames : iterator of Frame
        Reading raises :class:`SimsslError` for a frame that cannot be read, and warns once per
        non-periodic boundary combination (:func:`~simssl.frame.warn_nonperiodic`).
    total : int
        Frames in the file (a frame cut short by the end of the file included).

    Raises
    ------
    SimsslError
        If the file is not a readable LAMMPS dump (or its first frame is cut short).
    EOFError
        If a gzip-compressed file ends early (:func:`simssl.io.read_frames` says so).
    """
    import MDAnalysis

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # MDAnalysis guesses masses and dt; irrelevant here
            universe = MDAnalysis.Universe(path, format="LAMMPSDUMP")
        trajectory = universe.trajectory
        n_total = trajectory.n_frames
        offsets = list(trajectory._offsets)  # where each complete frame starts (MDAnalysis' own scan)
    except EOFError:
        raise
    except Exception as error:
        cut = _cut_first_frame(path)
        if cut is not None:
            raise SimsslError(located(f"frame 0 {cut}", path)) from None
        raise SimsslError(located(f"not a readable LAMMPS dump ({COLUMNS_NEEDED}): {error}", path)) from None
    truncated = _check_end(path, offsets, trajectory.n_atoms)
    n_frames = max(n_total, truncated[0] + 1) if truncated else n_total
    indices = range(n_frames)[selection]
    return len(indices), _iterate(universe, path, indices, offsets, truncated), n_frames


def _iterate(universe, path, indices, offsets, truncated):
    from MDAnalysis.lib.util import anyopen

    types, type_names = type_ids(universe.atoms.types)
    ids = np.asarray(universe.atoms.ids)  # rows are in id order: name particles by the file's own id
    warned = set()
    with anyopen(path) as handle:
        for index in indices:
            if truncated and index == truncated[0]:
                raise SimsslError(located(f"frame {index} {truncated[1]}", path))
            handle.seek(offsets[index])
            periodic = boundary_flags([handle.readline() for _ in range(5)][4])
            if not all(periodic) and periodic not in warned:
                warned.add(periodic)
                warn_nonperiodic(periodic, path)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    timestep = universe.trajectory[index]
            except Exception as error:
                raise SimsslError(located(f"cannot read this frame (truncated file?): {error}", path, index)) from None
            if timestep.dimensions is None:  # MDAnalysis' word for a box of zero lengths; a dump always has one
                raise SimsslError(located("the box has zero volume (its BOX BOUNDS have zero lengths)", path, index))
            # (for scaled xs/ys/zs dumps MDAnalysis subtracts the box's lower corner once more: a uniform
            # translation, invisible to every simssl quantity)
            yield frame_from_mdanalysis(
                timestep,
                timestep.positions,
                types,
                type_names,
                source=path,
                index=index,
                periodic=periodic,
                ids=ids,
            )


def boundary_flags(line: str) -> tuple[bool, bool, bool]:
    """Periodicity per axis from an ``ITEM: BOX BOUNDS [xy xz yz] xx yy zz`` line: only ``pp`` is periodic.

    Old dumps without flags count as periodic, as LAMMPS' default boundary is.

    Parameters
    ----------
    line : str
        The ``ITEM: BOX BOUNDS`` line of a frame.

    Returns
    -------
    tuple of 3 bool

    Examples
    --------
    >>> boundary_flags("ITEM: BOX BOUNDS xy xz yz pp pp fm")
    (True, True, False)
    """
    tokens = line.split()[3:]
    flags = [token for token in tokens if token not in ("xy", "xz", "yz")]
    if len(flags) != 3:
        return ALL_PERIODIC
    return tuple(flag.lower() == "pp" for flag in flags)


def _cut_frame(lines: list[str], expected_atoms: int | None = None) -> str | None:
    """What is missing from a frame whose text (``lines``) runs to the end of the file; None if nothing is there."""
    lines = [line for line in lines if line.strip()]
    if not lines:
        return None
    if not lines[0].startswith("ITEM: TIMESTEP"):
        return (
            f"is malformed: the {len(lines)} line(s) after the last complete frame do not start with "
            f"'ITEM: TIMESTEP' (first: {lines[0].strip()[:40]!r}); a frame with a different atom count?"
        )
    try:
        n_atoms = int(lines[3])
    except (IndexError, ValueError):
        return f"is truncated: its header stops after {len(lines)} of {HEADER_LINES} lines"
    if len(lines) < HEADER_LINES:
        return f"is truncated: its header stops after {len(lines)} of {HEADER_LINES} lines (0 of {n_atoms} atom lines)"
    atoms = len(lines) - HEADER_LINES
    if atoms < n_atoms:
        return f"is truncated: {atoms} of {n_atoms} atom lines"
    if expected_atoms is not None and n_atoms != expected_atoms:
        return f"has {n_atoms} atoms where the frames before have {expected_atoms} (atom counts may not change)"
    return None


def _cut_first_frame(path: str) -> str | None:
    """Why the first frame cannot be read when it is cut short (the file is then a single partial frame)."""
    from MDAnalysis.lib.util import anyopen

    try:
        with anyopen(path) as handle:
            lines = handle.read().splitlines()
    except Exception:
        return None
    cut = _cut_frame(lines)
    return None if cut is None or "malformed" in cut else cut


def _check_end(path: str, offsets: list[int], n_atoms: int) -> tuple[int, str] | None:
    """``(frame index, problem)`` when the file ends in the middle of a frame, else None.

    Reads the last complete frame (to find where it ends and to check that its last atom line has
    every column) and the text after it, which MDAnalysis drops without a word.
    """
    from MDAnalysis.lib.util import anyopen

    lines_per_frame = HEADER_LINES + n_atoms
    with anyopen(path) as handle:
        if offsets:
            handle.seek(offsets[-1])
            last = [handle.readline() for _ in range(lines_per_frame)]
            columns = len(last[HEADER_LINES - 1].split()) - 2
            fields = len(last[-1].split())
            if n_atoms and fields < columns:
                return len(offsets) - 1, (
                    f"is truncated: its last atom line has {fields} of {columns} columns (the file ends in it)"
                )
        rest = handle.read().splitlines()
    cut = _cut_frame(rest, n_atoms if offsets else None)
    return None if cut is None else (len(offsets), cut)
