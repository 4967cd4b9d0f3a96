"""Non-periodic and slab cells: no particle sees a periodic image across a non-periodic direction.

Clusters and slabs are written with their real writers (``ase.io.write`` extXYZ with ``pbc``, LAMMPS
dump text with ``ITEM: BOX BOUNDS`` flags) and read back; their surface particles must see only the
particles that are there (bond vectors equal raw position differences), interior ones keep the
bulk FCC q6, and the result differs from reading the same particles as fully periodic.
"""

from __future__ import annotations

import warnings

import ase
import ase.io
import freud
import numpy as np
import pytest
from crystals import FCC_Q6

import simssl
from simssl.bond_order import steinhardt
from simssl.errors import SimsslWarning
from simssl.frame import frame_from_lattice, make_frame

CELLS = 4  # 4 x 4 x 4 conventional FCC cells, lattice constant 1: 256 particles, box 4
FIRST_SHELL = 1 / np.sqrt(2)


@pytest.fixture(scope="module")
def crystal():
    """Perfect FCC positions in [0, 4)^3 (float64) and the box length."""
    box, points = freud.data.UnitCell.fcc().generate_system(CELLS)
    return np.asarray(points, dtype=np.float64) + box.Lx / 2, float(box.Lx)


def displacements(positions, length, periodic):
    """All pair vectors x_j - x_i, minimum image along the periodic axes only (orthogonal box)."""
    delta = positions[None, :, :] - positions[:, None, :]
    for axis in range(3):
        if periodic[axis]:
            delta[..., axis] -= length * np.round(delta[..., axis] / length)
    return delta


def interior(positions, length, periodic):
    """Particles with all 12 first-shell neighbors present (images only along periodic axes)."""
    distance = np.linalg.norm(displacements(positions, length, periodic), axis=-1)
    return np.sum(np.abs(distance - FIRST_SHELL) < 1e-6, axis=1) == 12


def assert_no_images(frame, raw, length, periodic, k=12):
    """Every bond vector is a raw difference of file positions (minimum image only where periodic)."""
    hood = simssl.compute_neighborhoods(frame, k=k)
    assert hood.mask.all()
    expected = displacements(raw, length, periodic)
    rows = np.broadcast_to(np.arange(frame.n_particles)[:, None], hood.indices.shape)
    np.testing.assert_allclose(hood.vectors, expected[rows, hood.indices], atol=2e-5)
    # and they are the k nearest among the particles that exist
    distances = np.linalg.norm(expected, axis=-1)
    np.fill_diagonal(distances, np.inf)
    kth = np.sort(distances, axis=1)[:, k - 1]
    assert np.all(np.linalg.norm(hood.vectors, axis=-1) <= kth[:, None] + 1e-5)


def assert_surface_differs(frame, raw, length, periodic):
    """Interior particles keep bulk q6, surface ones do not; the fully periodic reading differs."""
    q6 = steinhardt(frame, l=6)["q6"]
    inside = interior(raw, length, periodic)
    assert 0 < inside.sum() < len(raw)
    np.testing.assert_allclose(q6[inside], FCC_Q6, atol=1e-4)
    assert np.all(np.abs(q6[~inside] - FCC_Q6) > 1e-3)
    assert np.sum(np.abs(q6 - FCC_Q6) < 1e-3) == inside.sum()
    bulk = make_frame(freud.box.Box.cube(length), raw - length / 2)
    assert np.all(np.abs(steinhardt(bulk, l=6)["q6"] - FCC_Q6) < 1e-4)  # the periodic reading: all bulk


def read_one_warning(path, axes, **kwargs):
    """All frames of ``path`` with exactly one SimsslWarning naming the non-periodic ``axes``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frames = list(simssl.read_frames(str(path), **kwargs))
    messages = [str(w.message) for w in caught if issubclass(w.category, SimsslWarning)]
    assert len(messages) == 1, messages
    assert f"not periodic along {axes}" in messages[0] and str(path) in messages[0]
    assert "padded" in messages[0] and "no periodic images" in messages[0]
    return frames


# --------------------------------------------------------------------------------------------
# extXYZ written by ase
# --------------------------------------------------------------------------------------------


def test_extxyz_cluster_without_cell(tmp_path, crystal):
    raw, length = crystal
    path = tmp_path / "cluster.xyz"
    atoms = ase.Atoms("Cu" * len(raw), positions=raw + 7.0, pbc=False)  # no cell at all
    ase.io.write(str(path), [atoms, atoms], format="extxyz")
    assert 'pbc="F F F"' in path.read_text() and "Lattice" not in path.read_text()
    frames = read_one_warning(path, "x, y, z")
    assert len(frames) == 2
    frame = frames[0]
    assert frame.periodic == (False, False, False)
    assert min(frame.box.Lx, frame.box.Ly, frame.box.Lz) > 2 * (length * np.sqrt(3))  # padded by the extent
    assert_no_images(frame, raw, length, (False, False, False))
    assert_surface_differs(frame, raw, length, (False, False, False))
    assert np.sum(np.abs(steinhardt(frame, l=6)["q6"] - FCC_Q6) < 1e-3) == 108  # only the 108 interior
    with pytest.warns(SimsslWarning, match="padded box"):
        result = simssl.process(str(path), progress=False)  # the whole pipeline, too
    assert np.sum(np.abs(result.frames[1]["q6"] - FCC_Q6) < 1e-3) == 108


def test_extxyz_cluster_with_cell(tmp_path, crystal):
    """pbc=False with a Lattice: the cell is ignored, nothing wraps, no images."""
    raw, length = crystal
    path = tmp_path / "cluster_cell.xyz"
    ase.io.write(str(path), ase.Atoms("Cu" * len(raw), positions=raw, cell=[length] * 3, pbc=False), format="extxyz")
    (frame,) = read_one_warning(path, "x, y, z")
    assert_no_images(frame, raw, length, (False, False, False))
    assert_surface_differs(frame, raw, length, (False, False, False))


@pytest.mark.parametrize("c", [0.0, 4.0], ids=["c-zero", "c-given"])
def test_extxyz_slab(tmp_path, crystal, c):
    raw, length = crystal
    path = tmp_path / "slab.xyz"
    atoms = ase.Atoms("Cu" * len(raw), positions=raw, cell=[length, length, c], pbc=[True, True, False])
    ase.io.write(str(path), atoms, format="extxyz")
    assert 'pbc="T T F"' in path.read_text()
    (frame,) = read_one_warning(path, "z")
    assert frame.periodic == (True, True, False)
    assert (frame.box.Lx, frame.box.Ly) == (length, length) and frame.box.Lz > 3 * length
    assert_no_images(frame, raw, length, (True, True, False))
    assert_surface_differs(frame, raw, length, (True, True, False))
    assert np.sum(np.abs(steinhardt(frame, l=6)["q6"] - FCC_Q6) < 1e-3) == 192  # all but the two faces


def test_extxyz_periodic_is_unchanged(tmp_path, crystal):
    """pbc=True (or a Lattice without pbc) stays fully periodic, without a warning."""
    raw, length = crystal
    path = tmp_path / "bulk.xyz"
    ase.io.write(str(path), ase.Atoms("Cu" * len(raw), positions=raw, cell=[length] * 3, pbc=True), format="extxyz")
    with warnings.catch_warnings():
        warnings.simplefilter("error", SimsslWarning)
        frame = simssl.read(str(path))
    assert frame.periodic == (True, True, True) and frame.box.Lx == length
    np.testing.assert_allclose(steinhardt(frame, l=6)["q6"], FCC_Q6, atol=1e-4)


# --------------------------------------------------------------------------------------------
# LAMMPS dumps: boundary flags from ITEM: BOX BOUNDS
# --------------------------------------------------------------------------------------------


def dump_text(raw, length, flags, steps=(0, 100)):
    lines = []
    for step in steps:
        lines += ["ITEM: TIMESTEP", str(step), "ITEM: NUMBER OF ATOMS", str(len(raw)), f"ITEM: BOX BOUNDS {flags}"]
        lines += [f"0.0 {length:.16e}"] * 3 + ["ITEM: ATOMS id type x y z"]
        lines += [f"{i + 1} 1 {x:.17g} {y:.17g} {z:.17g}" for i, (x, y, z) in enumerate(raw)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "flags, periodic, axes, n_bulk",
    [
        ("ff ff ff", (False, False, False), "x, y, z", 108),
        ("pp pp ff", (True, True, False), "z", 192),
        ("fs mm pp", (False, False, True), "x, y", 144),
    ],
)
def test_lammps_dump_boundaries(tmp_path, crystal, flags, periodic, axes, n_bulk):
    raw, length = crystal
    path = tmp_path / "run.lammpstrj"
    path.write_text(dump_text(raw, length, flags))
    frames = read_one_warning(path, axes)
    assert len(frames) == 2 and all(f.periodic == periodic for f in frames)
    assert_no_images(frames[1], raw, length, periodic)
    assert_surface_differs(frames[1], raw, length, periodic)
    assert np.sum(np.abs(steinhardt(frames[1], l=6)["q6"] - FCC_Q6) < 1e-3) == n_bulk


def test_lammps_dump_periodic_flags_unchanged(tmp_path, crystal):
    raw, length = crystal
    path = tmp_path / "bulk.lammpstrj"
    path.write_text(dump_text(raw, length, "pp pp pp"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", SimsslWarning)
        frame = simssl.read(str(path))
    assert frame.periodic == (True, True, True) and frame.box.Lz == pytest.approx(length)
    np.testing.assert_allclose(steinhardt(frame, l=6)["q6"], FCC_Q6, atol=1e-4)


def test_lammps_dump_triclinic_flags(tmp_path, crystal):
    """Triclinic headers carry 'xy xz yz' before the flags."""
    raw, length = crystal
    text = dump_text(raw, length, "pp pp ff", steps=(0,))
    text = text.replace("ITEM: BOX BOUNDS pp pp ff", "ITEM: BOX BOUNDS xy xz yz pp pp ff")
    text = text.replace(f"0.0 {length:.16e}\n", f"0.0 {length:.16e} 0.0\n")
    path = tmp_path / "tri.lammpstrj"
    path.write_text(text)
    (frame,) = read_one_warning(path, "z")
    assert frame.periodic == (True, True, False)
    assert_no_images(frame, raw, length, (True, True, False))


# --------------------------------------------------------------------------------------------
# The Frame itself: padding in any orientation, Voronoi refused
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "periodic", [(False, True, True), (True, False, True), (False, False, True), (True, True, False)]
)
def test_triclinic_padding_matches_brute_force(periodic):
    """Random points in a tilted box: neighbors are the brute-force nearest over periodic images only."""
    rng = np.random.default_rng(sum(periodic) + 3 * periodic[0])
    rows = np.array([[5.0, 0.0, 0.0], [1.5, 5.0, 0.0], [-1.0, 2.0, 5.0]])
    fractional = rng.uniform(0, 1, (150, 3))
    raw = fractional @ rows
    frame = frame_from_lattice(rows, raw, periodic=periodic)
    assert frame.periodic == periodic
    k = 8
    hood = simssl.compute_neighborhoods(frame, k=k)
    images = np.stack(np.meshgrid(*[[-1, 0, 1] if p else [0] for p in periodic], indexing="ij"), -1)
    shifts = images.reshape(-1, 3) @ rows  # only along periodic vectors
    delta = raw[None, :, None, :] - raw[:, None, None, :] + shifts[None, None, :, :]  # (N, N, images, 3)
    distance = np.linalg.norm(delta, axis=-1)
    distance[np.arange(150), np.arange(150)] = np.inf  # no self-bonds (self-images are > 5 away anyway)
    nearest = np.sort(distance.reshape(150, -1), axis=1)[:, :k]
    np.testing.assert_allclose(np.sort(np.linalg.norm(hood.vectors, axis=-1), axis=1), nearest, atol=1e-4)
    # the rotation to freud's form keeps distances, and each bond is one of the allowed displacements
    lengths = np.linalg.norm(hood.vectors, axis=-1)
    allowed = distance[np.arange(150)[:, None], hood.indices]  # (N, k, images)
    assert np.all(np.min(np.abs(allowed - lengths[..., None]), axis=-1) < 1e-4)


def test_make_frame_cluster_without_box():
    rng = np.random.default_rng(0)
    frame = make_frame(None, rng.uniform(-3, 3, (40, 3)), periodic=False)
    assert frame.periodic == (False, False, False) and frame.box.volume > 0
    with pytest.raises(simssl.SimsslError, match="no box"):
        make_frame(None, rng.uniform(-3, 3, (40, 3)))


def test_voronoi_refused_on_nonperiodic(tmp_path, crystal):
    raw, length = crystal
    frame = frame_from_lattice(np.diag([length, length, 0.0]), raw, periodic=(True, True, False), source="slab.xyz")
    with pytest.raises(simssl.SimsslError, match="Voronoi") as error:
        steinhardt(frame, weighted=True)
    message = str(error.value)
    assert "slab.xyz" in message and "not periodic along z" in message and "\n" not in message
    with pytest.raises(simssl.SimsslError, match="Voronoi"):
        simssl.Steinhardt(l=(6,), weighted=True).compute(frame)
    periodic = frame_from_lattice(np.diag([length] * 3), raw)
    assert steinhardt(periodic, l=6, weighted=True)["q6"].shape == (len(raw),)


def test_gsd_frames_stay_periodic(tmp_path, crystal):
    """GSD (HOOMD) has no pbc flag: always periodic, no warning."""
    import gsd.hoomd

    raw, length = crystal
    path = tmp_path / "bulk.gsd"
    with gsd.hoomd.open(str(path), "w") as trajectory:
        snapshot = gsd.hoomd.Frame()
        snapshot.configuration.box = [length, length, length, 0, 0, 0]
        snapshot.particles.N = len(raw)
        snapshot.particles.position = (raw - length / 2).astype(np.float32)
        trajectory.append(snapshot)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SimsslWarning)
        frame = simssl.read(str(path))
    assert frame.periodic == (True, True, True)


def test_cli_warns_in_one_line_and_info_names_the_open_directions(tmp_path, capsys):
    """The non-periodic warning is one ``simssl: warning:`` line on the command line; info says which axes."""

    from simssl.cli import main

    box, points = freud.data.UnitCell.fcc().generate_system(3, sigma_noise=0.0)
    path = tmp_path / "cluster.extxyz"
    ase.io.write(str(path), ase.Atoms("Cu" * len(points), positions=points, pbc=False), format="extxyz")
    assert main(["info", str(path)]) == 0
    captured = capsys.readouterr()
    warnings_printed = [line for line in captured.err.splitlines() if line]
    assert len(warnings_printed) == 1 and warnings_printed[0].startswith("simssl: warning:")
    assert "not periodic along x, y, z" in warnings_printed[0]
    assert "periodic: none (padded along x, y, z)" in captured.out
