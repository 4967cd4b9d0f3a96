"""Outputs people can use (issue 11, items 11-13): float32 quantities, NPZ positions/types/ids, and a
processed GSD that keeps what its input held."""

import gsd.hoomd
import numpy as np
import pytest
from crystals import SKEW, lammps_dump_text, triclinic_fcc

import simssl
from simssl.cli import main


@pytest.fixture(scope="module")
def dump(tmp_path_factory):
    """A two-type dump whose ids are sparse and listed out of order (as LAMMPS writes after deletions)."""
    rows, positions = triclinic_fcc(SKEW)
    rng = np.random.default_rng(4)
    positions = positions + rng.normal(0, 0.03, positions.shape)
    types = 1 + rng.integers(0, 2, len(positions))
    text = lammps_dump_text(rows, positions, types, step=700, order=rng.permutation(len(positions)))
    lines = text.splitlines()
    start = lines.index(next(line for line in lines if line.startswith("ITEM: ATOMS"))) + 1
    for i in range(start, len(lines)):  # ids 1..N -> 10, 13, 16, ... (sparse)
        fields = lines[i].split()
        fields[0] = str(10 + 3 * (int(fields[0]) - 1))
        lines[i] = " ".join(fields)
    path = tmp_path_factory.mktemp("outputs") / "sparse.lammpstrj"
    path.write_text("\n".join(lines) + "\n")
    return path, positions, types


def test_npz_holds_positions_types_and_the_files_ids(dump, tmp_path):
    path, positions, types = dump
    output, model = tmp_path / "out.npz", tmp_path / "two_types.pt"
    simssl.load_model("random", n_types=2).save(model)  # the shipped model knows one type (issue 12)
    assert main(["process", str(path), "-o", str(output), "--model", str(model), "--quiet", "--average"]) == 0
    frame = simssl.read(path)
    with np.load(output) as data:
        np.testing.assert_array_equal(data["ids"][0], 10 + 3 * np.arange(len(positions)))  # file ids, sorted
        np.testing.assert_array_equal(data["types"][0], types - 1)
        assert data["type_names"].tolist() == ["1", "2"]
        np.testing.assert_array_equal(data["positions"][0], frame.positions)
        assert data["step"].tolist() == [700]
        assert data["embedding"].dtype == np.float32 and data["embedding_avg"].dtype == np.float32  # item 11
        # rows of the quantities are the rows of ids: q6 of id 10 is row 0 of a direct computation
        np.testing.assert_allclose(data["q6"][0], simssl.steinhardt(frame, l=(6,))["q6"], rtol=1e-5)


def test_reprocessing_a_processed_gsd_keeps_its_data(tmp_path):
    """Velocities, images, diameters and earlier simssl quantities of a GSD input survive; same names are replaced."""
    source = tmp_path / "input.gsd"
    rng = np.random.default_rng(0)
    frames = list(simssl.read_frames(simssl.example_path(), frames="0:2"))
    with gsd.hoomd.open(str(source), "w") as out:
        for frame in frames:
            snapshot = gsd.hoomd.Frame()
            b = frame.box
            snapshot.configuration.box = [b.Lx, b.Ly, b.Lz, b.xy, b.xz, b.yz]
            snapshot.configuration.step = frame.step
            snapshot.particles.N = frame.n_particles
            snapshot.particles.position = frame.positions
            snapshot.particles.velocity = rng.normal(size=(frame.n_particles, 3)).astype(np.float32)
            snapshot.particles.image = rng.integers(-2, 3, (frame.n_particles, 3)).astype(np.int32)
            snapshot.particles.diameter = np.full(frame.n_particles, 1.1, np.float32)
            snapshot.log = {"particles/md/pair/LJ/energies": rng.random(frame.n_particles)}
            out.append(snapshot)
    first = tmp_path / "first.gsd"
    second = tmp_path / "second.gsd"
    assert main(["process", str(source), "-o", str(first), "--steinhardt", "4,6", "--quiet"]) == 0
    assert main(["process", str(first), "-o", str(second), "--steinhardt", "6,8", "--model", "random", "--quiet"]) == 0
    with gsd.hoomd.open(str(source)) as a, gsd.hoomd.open(str(first)) as b, gsd.hoomd.open(str(second)) as c:
        for original, once, twice in zip(a, b, c):
            for attribute in ("velocity", "image", "diameter"):
                np.testing.assert_array_equal(
                    getattr(twice.particles, attribute), getattr(original.particles, attribute)
                )
            np.testing.assert_array_equal(
                twice.log["particles/md/pair/LJ/energies"], original.log["particles/md/pair/LJ/energies"]
            )
            np.testing.assert_array_equal(twice.log["particles/simssl/q4"], once.log["particles/simssl/q4"])  # kept
            assert "particles/simssl/q8" in twice.log and "particles/simssl/embedding" in twice.log  # added
    dropped = tmp_path / "dropped.gsd"
    assert main(["process", str(first), "-o", str(dropped), "--steinhardt", "6", "--drop-input-data", "--quiet"]) == 0
    with gsd.hoomd.open(str(dropped)) as d:
        assert sorted(k for k in d[0].log if k.startswith("particles/")) == ["particles/simssl/q6"]
        assert not np.any(d[0].particles.velocity)


def test_one_step_convention_for_formats_without_steps(tmp_path):
    """Plain XYZ has no steps: every output records the frame's index in the file (GSD and NPZ alike)."""
    import ase
    import ase.io

    rows, positions = triclinic_fcc(np.diag(np.diag(SKEW)))
    path = tmp_path / "plain.xyz"
    ase.io.write(str(path), [ase.Atoms("Cu" * len(positions), positions=positions)] * 3, format="xyz")
    box = ",".join(str(v) for v in np.diag(rows))
    for suffix in (".gsd", ".npz"):
        assert (
            main(["process", str(path), "--box", box, "--frames", "1:3", "-o", str(tmp_path / f"o{suffix}"), "--quiet"])
            == 0
        )
    with gsd.hoomd.open(str(tmp_path / "o.gsd")) as out:
        assert [int(f.configuration.step) for f in out] == [1, 2]
    with np.load(tmp_path / "o.npz") as data:
        assert data["step"].tolist() == [1, 2] and data["frame"].tolist() == [1, 2]
