"""XYZ and extended XYZ, read through ase; extXYZ ``Lattice`` gives the box, plain XYZ needs ``box=``."""

from __future__ import annotations

import freud
import numpy as np

from ..errors import SimsslError, located
from ..frame import box_from_parameters, frame_from_lattice, make_frame
from .types import type_ids


def as_box(box) -> freud.box.Box:
    """Accept a freud Box, ``L``, ``(Lx, Ly, Lz)`` or ``(Lx, Ly, Lz, xy, xz, yz)``."""
    if isinstance(box, freud.box.Box):
        return box
    values = np.atleast_1d(np.asarray(box, dtype=np.float64))
    if values.size == 1:
        values = np.repeat(values, 3)
    if values.size in (3, 6):
        return box_from_parameters(np.concatenate([values, np.zeros(6 - values.size)]))
    raise SimsslError(f"cannot build a box from {box!r}; give L, 'Lx,Ly,Lz' or 'Lx,Ly,Lz,xy,xz,yz'")


def open_xyz(path: str, selection: slice, box=None):
    """Return (None: unknown count, lazy iterator of Frames) for an XYZ/extXYZ file."""
    return None, _iterate(path, selection, None if box is None else as_box(box))


def _iterate(path, selection, box):
    import ase.io

    start = selection.start or 0
    step = selection.step or 1
    frames = ase.io.iread(path, index=selection, format="extxyz")
    position = 0
    while True:
        index = start + position * step if start >= 0 and step > 0 else None
        try:
            atoms = next(frames)
        except StopIteration:
            return
        except Exception as error:
            raise SimsslError(
                located(f"not a readable XYZ file (truncated or malformed?): {error}", path, index)
            ) from None
        position += 1
        yield _to_frame(atoms, path, index, box)


def _to_frame(atoms, path, index, box):
    types, type_names = type_ids(atoms.get_chemical_symbols())
    step = atoms.info.get("step", atoms.info.get("timestep"))
    kwargs = dict(types=types, type_names=type_names, step=step, source=path, index=index)
    if box is not None:
        return make_frame(box, atoms.positions, **kwargs)
    if not atoms.pbc.any() and not atoms.cell.any():
        raise SimsslError(
            located(
                "this XYZ frame has no lattice; give the box explicitly (box= in Python, --box on the command line)",
                path,
                index,
            )
        )
    if not atoms.cell.any() or abs(atoms.cell.volume) == 0:
        raise SimsslError(located("the box has zero volume (degenerate Lattice)", path, index))
    return frame_from_lattice(np.asarray(atoms.cell[:]), atoms.positions, **kwargs)
