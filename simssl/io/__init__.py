"""Trajectory readers: one entry point, :func:`read_frames`, and format detection in one place."""

from __future__ import annotations

import os
from collections.abc import Iterator

from ..errors import SimsslError
from ..frame import Frame
from .gsd_reader import open_gsd
from .lammps_reader import open_lammps_dump
from .selection import parse_frames
from .xyz_reader import as_box, open_xyz

#: File extensions (lower case) and the format each means.
EXTENSIONS = {
    ".gsd": "gsd",
    ".lammpstrj": "lammpsdump",
    ".dump": "lammpsdump",
    ".lammpsdump": "lammpsdump",
    ".xyz": "xyz",
    ".extxyz": "xyz",
}
FORMATS = ("gsd", "lammpsdump", "xyz")


def detect_format(path, format: str | None = None) -> str:
    """The reader to use for ``path``: ``format`` if given, else from the extension."""
    if format is not None:
        name = format.lower().replace("extxyz", "xyz")
        if name not in FORMATS:
            raise SimsslError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
        return name
    extension = os.path.splitext(str(path))[1].lower()
    if extension not in EXTENSIONS:
        known = ", ".join(sorted(EXTENSIONS))
        raise SimsslError(
            f"{path}: cannot tell the format from the extension {extension or '(none)'!r}; "
            f"use one of {known} or pass format="
        )
    return EXTENSIONS[extension]


class FrameReader:
    """A lazy, single-pass iterable of :class:`Frame` objects; ``len()`` works when the count is known."""

    def __init__(self, path, n_frames: int | None, frames: Iterator[Frame]):
        self.path = path
        self.n_frames = n_frames
        self._frames = frames

    def __iter__(self) -> Iterator[Frame]:
        return self._frames

    def __len__(self) -> int:
        if self.n_frames is None:
            raise TypeError("this format does not tell its frame count before it is read")
        return self.n_frames


def read_frames(path, frames=None, format: str | None = None, box=None) -> FrameReader:
    """Lazily read the selected frames of a trajectory.

    Parameters
    ----------
    path: a ``.gsd``, LAMMPS dump (``.lammpstrj``, ``.dump``, ``.lammpsdump``) or ``.xyz``/``.extxyz`` file.
    frames: ``None`` (all), an int, a slice or a ``"start:stop:step"`` string.
    format: ``"gsd"``, ``"lammpsdump"`` or ``"xyz"`` to override the extension.
    box: for XYZ files: ``L``, ``(Lx, Ly, Lz)``, ``(Lx, Ly, Lz, xy, xz, yz)`` or a ``freud.box.Box``;
        required for plain XYZ, which has no lattice, and overrides an extXYZ lattice.

    Missing, unreadable or invalid input raises :class:`simssl.SimsslError` naming file, frame and problem.
    """
    path = os.fspath(path)
    kind = detect_format(path, format)
    if not os.path.exists(path):
        raise SimsslError(f"{path}: no such file")
    if os.path.isdir(path):
        raise SimsslError(f"{path}: is a directory, not a trajectory file")
    selection = parse_frames(frames)
    if box is not None and kind != "xyz":
        raise SimsslError(f"{path}: box= applies to XYZ files only; {kind} files carry their own box")
    if kind == "gsd":
        count, iterator = open_gsd(path, selection)
    elif kind == "lammpsdump":
        count, iterator = open_lammps_dump(path, selection)
    else:
        count, iterator = open_xyz(path, selection, box)
    return FrameReader(path, count, iterator)


def read(path, frame: int = 0, **kwargs) -> Frame:
    """Read one frame (default: the first) of a trajectory."""
    for item in read_frames(path, frames=frame, **kwargs):
        return item
    raise SimsslError(f"{path}: has no frame {frame}")


__all__ = ["FORMATS", "FrameReader", "as_box", "detect_format", "read", "read_frames"]
