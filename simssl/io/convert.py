"""Foreign objects become Frames here, and nowhere else.

Engine adapters (``simssl.plugins.hoomd``, ``.lammps``, ``.mdanalysis``, ``.ovito``) and the LAMMPS
dump reader only read their engine's state and hand it to one of these functions:

* :func:`frame_from_arrays`: raw engine arrays (numpy, torch or CUDA arrays) plus particle tags, in
  the centered (HOOMD/freud) box convention: what live HOOMD-blue analysis hands over;
* :func:`frame_from_mdanalysis`: an MDAnalysis ``Timestep`` (LAMMPS dumps, ``OrderEmbedding``);
* :func:`frame_from_ovito`: an OVITO ``DataCollection``;
* :func:`frame_from_lammps`: the current state of a running (serial) LAMMPS instance.

All of them end in :func:`~simssl.frame.make_frame` / :func:`~simssl.frame.frame_from_lattice`, so
every source gets the same validation, box handling and wrapping as the file readers.
"""

from __future__ import annotations

import freud
import numpy as np

from ..errors import SimsslError, located
from ..frame import Frame, box_from_parameters, frame_from_lattice, make_frame

#: ``source`` of frames made from a running LAMMPS
LAMMPS_SOURCE = "LAMMPS"
#: ``source`` of frames made from live engine arrays
LIVE_SOURCE = "live state"


def host_array(array) -> np.ndarray:
    """A numpy view/copy of a numpy array, a torch tensor (any device) or a ``__cuda_array_interface__`` array.

    Parameters
    ----------
    array : array_like
        Numpy arrays are returned as they are; anything else goes through ``numpy.asarray``.

    Returns
    -------
    numpy.ndarray
    """
    if isinstance(array, np.ndarray):
        return array
    if hasattr(array, "__cuda_array_interface__") or type(array).__module__.startswith("torch"):
        import torch

        tensor = array if isinstance(array, torch.Tensor) else torch.as_tensor(array, device="cuda")
        return tensor.detach().cpu().numpy()
    return np.asarray(array)


def frame_from_arrays(
    box, positions, types=None, tags=None, type_names=None, step: int | None = None, source: str = LIVE_SOURCE
) -> Frame:
    """A Frame from engine arrays, rows put in tag order (row ``t`` is the particle tagged ``t``).

    Parameters
    ----------
    box : freud.box.Box or sequence of 6 float
        A box or ``(Lx, Ly, Lz, xy, xz, yz)``, positions in its centered convention.
    positions : array_like, (N, 3)
        Numpy array, torch tensor or CUDA array.
    types : array_like of int, (N,), optional
        Type ids; None for one type.
    tags : array_like of int, (N,), optional
        Unique integers giving the particle order; None to keep the given order.
    type_names : sequence of str, optional
        Names of the type ids; None for ``'0'``, ``'1'``, ...
    step : int, optional
        The engine's timestep.
    source : str
        Named in error messages (default ``"live state"``).

    Returns
    -------
    Frame

    Raises
    ------
    SimsslError
        For an invalid box or arrays (see :func:`~simssl.frame.make_frame`).
    """
    positions = host_array(positions)
    types = None if types is None else host_array(types)
    if tags is not None:
        tags = np.asarray(host_array(tags))
        if tags.shape != (len(positions),) or len(np.unique(tags)) != len(tags):
            raise SimsslError(f"{source}: the {tags.size} particle tags are not {len(positions)} distinct integers")
        order = np.argsort(tags, kind="stable")
        positions = positions[order]
        types = None if types is None else types[order]
    box = box if isinstance(box, freud.box.Box) else box_from_parameters(box, source)
    return make_frame(box, positions, types, type_names, step=step, source=source)


def frame_from_mdanalysis(
    timestep,
    positions,
    types=None,
    type_names=None,
    source: str | None = None,
    index: int | None = None,
    periodic=(True, True, True),
    ids=None,
) -> Frame:
    """A Frame from an MDAnalysis ``Timestep`` and the positions of the atoms to analyze.

    ``timestep.triclinic_dimensions`` holds the lattice rows a, b, c with positions starting at the
    cell's lower corner; they are rotated into freud's upper-triangular box (freud's own MDAnalysis
    path misses the transpose for triclinic cells). The step is ``timestep.data['step']`` when the
    format has one.

    Parameters
    ----------
    timestep : MDAnalysis.coordinates.base.Timestep
        Gives the box and the step.
    positions : array_like, (N, 3)
        Positions of the atoms to analyze.
    types : numpy.ndarray, (N,) int32, optional
        Type ids, as from :func:`simssl.io.types.type_ids`.
    type_names : sequence of str, optional
        Their names, as from :func:`simssl.io.types.type_ids`.
    source, index : str or None, int or None
        File and frame, for error messages.
    periodic : sequence of 3 bool
        Per axis, as in :func:`~simssl.frame.make_frame` (default: all).
    ids : array_like of int, (N,), optional
        The file's particle ids, for messages, as in :func:`~simssl.frame.make_frame`.

    Returns
    -------
    Frame

    Raises
    ------
    SimsslError
        If the trajectory has no box, and for everything :func:`~simssl.frame.frame_from_lattice` refuses.
    """
    if timestep.dimensions is None:
        raise SimsslError(located("the trajectory has no box; simssl analyses periodic 3D cells", source, index))
    return frame_from_lattice(
        np.asarray(timestep.triclinic_dimensions, dtype=np.float64),
        positions,
        types=types,
        type_names=type_names,
        step=timestep.data.get("step"),
        source=source,
        index=index,
        periodic=periodic,
        ids=ids,
    )


def frame_from_ovito(data, frame: int | None = None) -> Frame:
    """A Frame from an OVITO DataCollection: cell columns a, b, c plus origin; types numbered by OVITO type id.

    Parameters
    ----------
    data : ovito.data.DataCollection
        Source file, frame and timestep are taken from its attributes when present.
    frame : int, optional
        The frame index for messages when ``data`` has no ``SourceFrame`` attribute.

    Returns
    -------
    Frame

    Raises
    ------
    SimsslError
        If the data has no cell, is two-dimensional or not periodic along every axis.
    """
    source, index = data.attributes.get("SourceFile"), data.attributes.get("SourceFrame", frame)
    cell = data.cell
    if cell is None or cell.is2D or not all(cell.pbc):
        problem = (
            "the data has no simulation cell"
            if cell is None
            else "the data is two-dimensional"
            if cell.is2D
            else "the cell is not periodic along "
            + ", ".join(axis for axis, periodic in zip("xyz", cell.pbc) if not periodic)
        )
        raise SimsslError(located(f"{problem}; simssl analyses periodic 3D cells", source, index))
    matrix = np.asarray(cell, dtype=np.float64)
    particles = data.particles
    types = type_names = None
    if particles.particle_types is not None:
        ordered = sorted(particles.particle_types.types, key=lambda t: t.id)
        types = np.searchsorted([t.id for t in ordered], np.asarray(particles.particle_types))
        type_names = [t.name or str(t.id) for t in ordered]
    return frame_from_lattice(
        matrix[:, :3].T,
        np.asarray(particles.positions),
        origin=matrix[:, 3],
        types=types,
        type_names=type_names,
        step=data.attributes.get("Timestep"),
        source=source,
        index=index,
    )


def check_lammps_supported(lmp) -> None:
    """Refuse what simssl cannot analyze correctly: several MPI ranks, 2D systems, non-periodic boxes.

    Parameters
    ----------
    lmp : lammps.lammps
        A LAMMPS instance (its Python module).

    Raises
    ------
    SimsslError
        For each of those cases.
    """
    ranks = lmp.extract_setting("world_size")
    if ranks > 1:
        raise SimsslError(
            f"{LAMMPS_SOURCE}: LAMMPS runs on {ranks} MPI ranks; simssl's live analysis is serial only "
            "(gathering atoms from the ranks is not implemented)"
        )
    if lmp.extract_setting("dimension") != 3:
        raise SimsslError(f"{LAMMPS_SOURCE}: the system is two-dimensional; simssl analyses 3D systems only")
    periodic = lmp.extract_box()[5]
    if not all(periodic):
        raise SimsslError(
            f"{LAMMPS_SOURCE}: the box is not periodic in {''.join(a for a, p in zip('xyz', periodic) if not p)}; "
            "simssl analyses fully periodic boxes only"
        )


def frame_from_lammps(lmp) -> Frame:
    """The current state of a serial LAMMPS instance as a Frame, atoms sorted by id.

    Positions, types and ids are read in place (``lmp.numpy.extract_atom``, first ``nlocal`` rows)
    and gathered in id order, the only copy taken of LAMMPS' arrays. The restricted-triclinic box
    (``a = (lx, 0, 0)``, ``b = (xy, ly, 0)``, ``c = (xz, yz, lz)`` from the lower corner ``boxlo``)
    becomes freud's box and positions are shifted into its centered convention. Type ``t`` becomes
    type id ``t - 1`` named ``str(t)``; the step is the LAMMPS timestep.

    Parameters
    ----------
    lmp : lammps.lammps
        A serial LAMMPS instance with a periodic 3D box.

    Returns
    -------
    Frame

    Raises
    ------
    SimsslError
        As :func:`check_lammps_supported`, and for invalid state (:func:`~simssl.frame.frame_from_lattice`).
    """
    check_lammps_supported(lmp)
    boxlo, boxhi, xy, yz, xz, _, _ = lmp.extract_box()
    lx, ly, lz = np.subtract(boxhi, boxlo)
    rows = [[lx, 0.0, 0.0], [xy, ly, 0.0], [xz, yz, lz]]
    n = lmp.extract_global("nlocal")
    ids = lmp.numpy.extract_atom("id")[:n]
    order = np.argsort(ids, kind="stable")
    return frame_from_lattice(
        rows,
        lmp.numpy.extract_atom("x")[:n][order],
        origin=boxlo,
        types=lmp.numpy.extract_atom("type")[:n][order] - 1,
        type_names=[str(t) for t in range(1, lmp.extract_global("ntypes") + 1)],
        step=lmp.extract_global("ntimestep"),
        source=LAMMPS_SOURCE,
        ids=ids[order],
    )
