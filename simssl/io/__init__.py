"""Reading and writing files: trajectories through one entry point, :func:`read_frames`, with format detection in
one place; simssl's own outputs through :func:`read_processed` (:mod:`.processed`), their run records in
:mod:`.records`, and the writers in :mod:`.writers`."""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable, Iterator

from ..errors import SimsslError
from ..frame import Frame
from .gsd_reader import open_gsd
from .lammps_reader import open_lammps_dump
from .processed import Processed, read_processed
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


#: Compressions read transparently (by MDAnalysis and ase) for dumps and XYZ files, not for GSD.
COMPRESSED = (".gz",)


def detect_format(path, format: str | None = None) -> str:
    """The reader to use for ``path``: ``format`` if given, else from the extension (``.gz`` allowed but for GSD).

    Parameters
    ----------
    path : str or os.PathLike
        The trajectory file (need not exist).
    format : str, optional
        ``"gsd"``, ``"lammpsdump"``, ``"xyz"`` or ``"extxyz"``, any case.

    Returns
    -------
    str
        One of :data:`FORMATS`.

    Raises
    ------
    SimsslError
        For an unknown format or extension, or a compressed GSD file.
    """
    if format is not None:
        name = format.lower().replace("extxyz", "xyz")
        if name not in FORMATS:
            raise SimsslError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
        kind = name
    else:
        stem, extension = os.path.splitext(str(path))
        compressed = extension.lower() in COMPRESSED
        if compressed:
            extension = os.path.splitext(stem)[1]
        extension = extension.lower()
        if extension not in EXTENSIONS:
            known = ", ".join(sorted(EXTENSIONS))
            shown = extension + ".gz" if compressed else extension
            raise SimsslError(
                f"{path}: cannot tell the format from the extension {shown or '(none)'!r}; "
                f"use one of {known} (dumps and XYZ also gzip-compressed, e.g. .lammpstrj.gz) "
                "or pass --format (format= in Python)"
            )
        kind = EXTENSIONS[extension]
    if kind == "gsd" and str(path).lower().endswith(COMPRESSED):
        raise SimsslError(f"{path}: compressed GSD files cannot be read; decompress it first (gunzip)")
    return kind


def _is_empty(path) -> bool:
    """True when the file (decompressed) holds nothing but whitespace; reads only up to its first other byte."""
    opener = gzip.open if str(path).lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            while chunk := handle.read(1 << 16):
                if chunk.strip():
                    return False
    except (OSError, EOFError):  # not gzip after all, or damaged: the reader says what is wrong
        return False
    return True


class FrameReader:
    """A lazy, single-pass iterable of :class:`Frame` objects; ``len()`` works when the count is known.

    Parameters
    ----------
    path : str
        The trajectory file.
    n_frames : int or None
        The number of selected frames, None when the format does not tell it before reading (XYZ).
    frames : iterator of Frame
        The frames.
    total : int or callable
        The number of frames in the file, or a function that counts them (XYZ: a scan of the file,
        done only when :attr:`total_frames` is asked for).

    Attributes
    ----------
    path : str
    n_frames : int or None
        As given; ``len()`` raises TypeError when it is None.
    """

    def __init__(self, path, n_frames: int | None, frames: Iterator[Frame], total: int | Callable[[], int]):
        self.path = path
        self.n_frames = n_frames
        self._frames = frames
        self._total = total

    @property
    def total_frames(self) -> int:
        """The number of frames in the file, whatever the selection (for messages about the selection)."""
        if callable(self._total):
            self._total = self._total()
        return self._total

    def empty_selection(self, frames) -> SimsslError:
        """The error for a frame selection that selects nothing, naming the file's frame count.

        Parameters
        ----------
        frames : object
            The selection as given (``--frames``, ``frames=``).

        Returns
        -------
        SimsslError
            To be raised by the caller.
        """
        total = self.total_frames
        count = f"{total} frames (0 to {total - 1})" if total > 1 else "1 frame (0)" if total else "no frames"
        return SimsslError(f"{self.path}: the frame selection {frames!r} contains no frames; the file has {count}")

    def __iter__(self) -> Iterator[Frame]:
        return self._frames

    def __len__(self) -> int:
        if self.n_frames is None:
            raise TypeError("this format does not tell its frame count before it is read")
        return self.n_frames


def read_frames(path, frames=None, format: str | None = None, box=None) -> FrameReader:
    """Lazily read the selected frames of a trajectory.

    Non-periodic directions (extXYZ ``pbc``, LAMMPS boundaries other than ``pp``) are analyzed in a
    padded box without periodic images.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.gsd``, LAMMPS dump (``.lammpstrj``, ``.dump``, ``.lammpsdump``) or ``.xyz``/``.extxyz`` file;
        dumps and XYZ files may be gzip-compressed (``.lammpstrj.gz``, ``.xyz.gz``, ...).
    frames : None, int, slice or str
        ``None`` (all), an int, a slice or a ``"start:stop:step"`` string.
    format : str, optional
        ``"gsd"``, ``"lammpsdump"`` or ``"xyz"`` to override the extension.
    box : float, sequence of float or freud.box.Box, optional
        For XYZ files only: ``L``, ``(Lx, Ly, Lz)``, ``(Lx, Ly, Lz, xy, xz, yz)`` or a ``freud.box.Box``;
        required for plain XYZ, which has no lattice, and overrides an extXYZ lattice.

    Returns
    -------
    FrameReader

    Raises
    ------
    SimsslError
        Naming file, frame and problem, for missing, empty, truncated, unreadable or invalid input
        (some only when the frame is read), or ``box`` with a format other than XYZ.

    Warns
    -----
    SimsslWarning
        Once per file with non-periodic directions (:class:`simssl.errors.SimsslWarning`).

    Examples
    --------
    >>> import simssl
    >>> reader = read_frames(simssl.example_path(), frames="0:2")
    >>> len(reader), [frame.n_particles for frame in reader]
    (2, [4000, 4000])
    """
    path = os.fspath(path)
    kind = detect_format(path, format)
    if not os.path.exists(path):
        raise SimsslError(f"{path}: no such file")
    if os.path.isdir(path):
        raise SimsslError(f"{path}: is a directory, not a trajectory file")
    if _is_empty(path):
        raise SimsslError(f"{path}: the file is empty")
    selection = parse_frames(frames)
    if box is not None and kind != "xyz":
        raise SimsslError(f"{path}: box= applies to XYZ files only; {kind} files carry their own box")
    try:
        if kind == "gsd":
            count, iterator, total = open_gsd(path, selection)
        elif kind == "lammpsdump":
            count, iterator, total = open_lammps_dump(path, selection)
        else:
            count, iterator, total = open_xyz(path, selection, box)
    except EOFError:  # the readers let a gzip stream that ends early through: it is said here, once
        raise SimsslError(_truncated_gzip(path)) from None
    return FrameReader(path, count, _gzip_cut_is_truncation(path, iterator), total)


def _gzip_cut_is_truncation(path: str, frames: Iterator[Frame]) -> Iterator[Frame]:
    """``frames``, with a gzip stream that ends early (``EOFError``) reported as a truncated file."""
    try:
        yield from frames
    except EOFError:
        raise SimsslError(_truncated_gzip(path)) from None


def _truncated_gzip(path) -> str:
    """The message for a gzip-compressed file cut short (its stream ends before gzip's end-of-stream marker)."""
    return (
        f"{path}: the compressed file is truncated: its gzip stream ends early (cut while being written, copied "
        "or downloaded), so its frames cannot be read"
    )


def read(path, frame: int = 0, **kwargs) -> Frame:
    """Read one frame (default: the first) of a trajectory.

    Parameters
    ----------
    path : str or os.PathLike
        As in :func:`read_frames`.
    frame : int
        The frame index (negative counts from the end).
    **kwargs
        ``format`` and ``box`` as in :func:`read_frames`.

    Returns
    -------
    Frame

    Raises
    ------
    SimsslError
        As :func:`read_frames`, and when the file has no such frame.
    """
    reader = read_frames(path, frames=frame, **kwargs)
    for item in reader:
        return item
    raise reader.empty_selection(frame)


__all__ = ["FORMATS", "FrameReader", "Processed", "as_box", "detect_format", "read", "read_frames", "read_processed"]
