"""XYZ and extended XYZ, read through ase; extXYZ ``Lattice`` gives the box, plain XYZ needs ``box=``.

extXYZ ``pbc`` is honoured: non-periodic directions are analyzed without periodic images (see
:func:`simssl.frame.frame_from_lattice`); a cluster (``pbc="F F F"``) needs no ``Lattice``.

Type names are the file's own words, as in GSD files: chemical symbols, LAMMPS's type numbers
(``write_dump ... xyz``) or any name (``A``, ``solvent``). ase accepts only chemical symbols in its
``species`` column, so the comment-line parser hands ase that column under another name
(:data:`_TYPE_COLUMN`), which ase then keeps as a plain string array. A step comes from an extXYZ
``step``/``timestep`` key or from LAMMPS's comment line (``Atoms. Timestep: 700``).
"""

from __future__ import annotations

import re

import freud
import numpy as np

from ..errors import SimsslError, located
from ..frame import box_from_parameters, frame_from_lattice, make_frame, warn_nonperiodic
from .types import type_ids


def as_box(box) -> freud.box.Box:
    """Accept a freud Box, ``L``, ``(Lx, Ly, Lz)`` or ``(Lx, Ly, Lz, xy, xz, yz)``.

    Parameters
    ----------
    box : freud.box.Box, float or sequence of float
        A box, or 1, 3 or 6 numbers (missing tilts are 0).

    Returns
    -------
    freud.box.Box

    Raises
    ------
    SimsslError
        For another count of numbers, non-finite numbers or non-positive lengths.
    """
    if isinstance(box, freud.box.Box):
        return box
    values = np.atleast_1d(np.asarray(box, dtype=np.float64))
    if values.size == 1:
        values = np.repeat(values, 3)
    if values.size in (3, 6):
        return box_from_parameters(np.concatenate([values, np.zeros(6 - values.size)]))
    raise SimsslError(f"cannot build a box from {box!r}; give L, 'Lx,Ly,Lz' or 'Lx,Ly,Lz,xy,xz,yz'")


def open_xyz(path: str, selection: slice, box=None):
    """Return (None: unknown count, lazy iterator of Frames, frame counter) for an XYZ/extXYZ file (gzip too).

    Parameters
    ----------
    path : str
        The XYZ or extXYZ file.
    selection : slice
        Frames to read (:func:`~simssl.io.selection.parse_frames`).
    box : optional
        As :func:`as_box` takes it: required for plain XYZ, overrides an extXYZ lattice.

    Returns
    -------
    n_frames : None
    frames : iterator of Frame
        Raises :class:`SimsslError` for a truncated, malformed or invalid frame, and lets the
        ``EOFError`` of a gzip stream that ends early through (:func:`simssl.io.read_frames` says so).
    total : callable
        Counts the frames in the file (a scan of its count lines), only when called.

    Raises
    ------
    SimsslError
        For an invalid ``box``.
    """
    return None, _iterate(path, selection, None if box is None else as_box(box)), lambda: _count_frames(path)


#: keys that mark frames whose comment line states ``pbc`` or ``Lattice`` (ase drops both from ``atoms.info``)
_PBC_GIVEN = "_simssl_pbc_given"
_LATTICE_GIVEN = "_simssl_lattice_given"
#: the name under which ase reads the ``species`` column: a plain string column, any type name allowed
_TYPE_COLUMN = "_simssl_type"
#: the columns of an XYZ frame whose comment line has no ``Properties`` (ase's default)
_DEFAULT_PROPERTIES = "species:S:1:pos:R:3"
_CUT = re.compile(r"Frame has (\d+) atoms, expected (\d+)")
#: LAMMPS's ``write_dump ... xyz`` comment line: `` Atoms. Timestep: 700``
_LAMMPS_STEP = re.compile(r"^\s*Atoms\. Timestep:\s*(-?\d+)\s*$")


def _comment_parser(line: str) -> dict:
    """ase's extXYZ comment-line parser, remembering whether the line sets ``pbc``, with types read as text.

    The ``species`` column is renamed :data:`_TYPE_COLUMN` in ``Properties`` so that ase stores its
    words as they are instead of refusing names that are not chemical symbols; LAMMPS's comment line
    gives the step.
    """
    from ase.io.extxyz import key_val_str_to_dict

    lammps = _LAMMPS_STEP.match(line)
    info = {"step": int(lammps.group(1))} if lammps else key_val_str_to_dict(line)
    info[_PBC_GIVEN], info[_LATTICE_GIVEN] = "pbc" in info, "Lattice" in info
    fields = str(info.get("Properties", _DEFAULT_PROPERTIES)).split(":")
    fields[::3] = [_TYPE_COLUMN if name == "species" else name for name in fields[::3]]
    info["Properties"] = ":".join(fields)
    return info


def _iterate(path, selection, box):
    import ase.io

    start = selection.start or 0
    step = selection.step or 1
    frames = ase.io.iread(path, index=selection, format="extxyz", properties_parser=_comment_parser)
    position = 0
    warned = set()
    while True:
        index = start + position * step if start >= 0 and step > 0 else None
        try:
            atoms = next(frames)
        except StopIteration:
            return
        except EOFError:
            raise
        except Exception as error:
            raise SimsslError(_read_error(error, path, index)) from None
        position += 1
        frame = _to_frame(atoms, path, index, box)
        if not frame.fully_periodic and frame.periodic not in warned:
            warned.add(frame.periodic)
            warn_nonperiodic(frame.periodic, path)
        yield frame


def _read_error(error, path, index) -> str:
    """One sentence for ase's error: a frame cut short by the end of the file says what is missing."""
    message = str(error)
    cut = _CUT.search(message)
    if cut or "generator raised StopIteration" in message:  # atom lines, or the comment line, missing
        if index is None:  # a negative selection: the cut frame is the file's last one
            index = _count_frames(path) - 1
        missing = f"{cut.group(1)} of {cut.group(2)} atom lines" if cut else "its comment line is missing"
        return located(f"frame {index} is truncated: {missing}", path)
    if "Expected xyz header" in message:  # ase scans the whole file before the first frame: no frame to name
        return located(
            "not a readable XYZ file (an atom-count line was expected: does a frame have more or fewer "
            f"atom lines than its count says?): {message}",
            path,
        )
    return located(f"not a readable XYZ frame: {message}", path, index)


def _count_frames(path) -> int:
    """Frames in an XYZ file as ase's scan counts them (a cut last frame too); only for messages."""
    count = 0
    with _open(path) as handle:
        while (line := handle.readline()).strip():
            count += 1
            try:
                atoms = int(line)
            except ValueError:
                break
            for _ in range(atoms + 1):
                handle.readline()
    return count


def _open(path):
    import gzip

    return gzip.open(path, "rt") if str(path).lower().endswith(".gz") else open(path)


def _to_frame(atoms, path, index, box):
    names = atoms.arrays.get(_TYPE_COLUMN)  # absent when the file gives atomic numbers (``Z``) instead
    types, type_names = type_ids(atoms.get_chemical_symbols() if names is None else names)
    step = atoms.info.get("step", atoms.info.get("timestep"))
    pbc_given = bool(atoms.info.pop(_PBC_GIVEN, False))
    has_cell = bool(atoms.info.pop(_LATTICE_GIVEN, False))  # a Lattice of zeros too: a zero-volume box
    # pbc: stated in the comment line, or implied by a Lattice (ase: all True); plain XYZ has neither
    periodic = tuple(bool(p) for p in atoms.pbc) if pbc_given or has_cell else (True, True, True)
    kwargs = dict(types=types, type_names=type_names, step=step, source=path, index=index, periodic=periodic)
    if box is not None:
        return make_frame(box, atoms.positions, given_box=True, **kwargs)
    if not any(periodic):  # a cluster: its box comes from the particles' extent
        return frame_from_lattice(np.asarray(atoms.cell[:]), atoms.positions, **kwargs)
    if not has_cell:
        raise SimsslError(
            located(
                "this XYZ frame has no lattice; give the box explicitly (box= in Python, --box on the command line)",
                path,
                index,
            )
        )
    if all(periodic) and abs(atoms.cell.volume) == 0:
        raise SimsslError(located("the box has zero volume (degenerate Lattice)", path, index))
    return frame_from_lattice(np.asarray(atoms.cell[:]), atoms.positions, **kwargs)
