"""The conversion layer: each foreign object gives the Frame the file reader gives.

Foreign objects: arrays + tags, MDAnalysis, OVITO, LAMMPS.
"""

import warnings

import numpy as np
import pytest
from crystals import SKEW, lammps_dump_text, triclinic_fcc, write_gsd

import simssl
from simssl.io import convert

rows, positions = triclinic_fcc(SKEW)
rng = np.random.default_rng(5)
types = rng.integers(0, 2, len(positions))
noisy = positions + rng.normal(0, 0.05, positions.shape)


def assert_same_frame(frame, reference, atol=1e-5):
    """Same box, types and particles in the same rows (positions equal up to a uniform shift and wrapping)."""
    np.testing.assert_allclose(
        frame.box.to_matrix(), reference.box.to_matrix(), atol=1e-6
    )  # LAMMPS dumps print boxes to ~7 digits
    np.testing.assert_array_equal(frame.types, reference.types)
    assert frame.type_names == reference.type_names
    shift = reference.box.wrap(frame.positions - reference.positions)
    assert np.abs(shift - shift.mean(axis=0)).max() <= atol
    np.testing.assert_array_equal(
        simssl.steinhardt(frame, l=(6,))["q6"].round(4), simssl.steinhardt(reference, l=(6,))["q6"].round(4)
    )


@pytest.fixture(scope="module")
def gsd_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("convert") / "noisy.gsd"
    write_gsd(path, rows, noisy, types=types, type_names=("A", "B"), steps=(7,))
    return path


@pytest.fixture(scope="module")
def dump_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("convert") / "noisy.lammpstrj"
    path.write_text(lammps_dump_text(rows, noisy, types + 1, step=7, order=rng.permutation(len(noisy))))
    return path


def test_engine_arrays_with_tags(gsd_file):
    reference = simssl.read(gsd_file)
    order = rng.permutation(reference.n_particles)
    tags = 10 + 2 * np.arange(reference.n_particles)  # sparse tags, memory order shuffled
    frame = convert.frame_from_arrays(
        reference.box,
        reference.positions[order],
        reference.types[order],
        tags[order],
        type_names=reference.type_names,
        step=7,
    )
    assert_same_frame(frame, reference, atol=0)
    assert frame.step == 7 and frame.source == convert.LIVE_SOURCE
    box = (reference.box.Lx, reference.box.Ly, reference.box.Lz, reference.box.xy, reference.box.xz, reference.box.yz)
    assert_same_frame(
        convert.frame_from_arrays(box, reference.positions, reference.types, type_names=reference.type_names),
        reference,
        atol=0,
    )


def test_torch_arrays_are_accepted(gsd_file):
    import torch

    reference = simssl.read(gsd_file)
    frame = convert.frame_from_arrays(
        reference.box,
        torch.from_numpy(reference.positions),
        torch.from_numpy(reference.types),
        type_names=reference.type_names,
    )
    assert_same_frame(frame, reference, atol=0)


def test_mdanalysis_timestep(dump_file):
    import MDAnalysis

    from simssl.io.types import type_ids

    reference = simssl.read(dump_file)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        universe = MDAnalysis.Universe(str(dump_file), format="LAMMPSDUMP")
    ids, names = type_ids(universe.atoms.types)
    frame = convert.frame_from_mdanalysis(universe.trajectory[0], universe.atoms.positions, ids, names, source="dump")
    assert_same_frame(frame, reference)
    assert frame.step == reference.step == 7


def test_ovito_data_collection(gsd_file):
    ovito_io = pytest.importorskip("ovito.io", reason="OVITO is not installed (pip install ovito)")
    reference = simssl.read(gsd_file)
    data = ovito_io.import_file(str(gsd_file)).compute(0)
    assert_same_frame(convert.frame_from_ovito(data, 0), reference)


def test_lammps_instance(tmp_path):
    from crystals import lammps_data_text

    lammps = pytest.importorskip("simssl.plugins.lammps")
    (tmp_path / "crystal.data").write_text(lammps_data_text(rows, noisy))
    lmp = lammps.start_lammps(cmdargs=["-log", "none", "-screen", "none"])
    try:
        lmp.commands_string(f"""
units lj
atom_style atomic
boundary p p p
read_data {tmp_path / "crystal.data"}
write_dump all custom {tmp_path / "state.lammpstrj"} id type x y z modify format float %.17g
""")
        frame = convert.frame_from_lammps(lmp)
    finally:
        lmp.close()
    reference = simssl.read(tmp_path / "state.lammpstrj")
    assert_same_frame(frame, reference)
    assert frame.source == convert.LAMMPS_SOURCE


def test_engine_tags_must_name_every_particle_once(gsd_file):
    """Three tags for five positions silently kept three particles; duplicate tags were accepted."""
    reference = simssl.read(gsd_file)
    positions = reference.positions[:5]
    with pytest.raises(simssl.SimsslError, match="3 particle tags are not 5 distinct integers"):
        convert.frame_from_arrays(reference.box, positions, tags=[0, 1, 2])
    with pytest.raises(simssl.SimsslError, match="5 particle tags are not 5 distinct"):
        convert.frame_from_arrays(reference.box, positions, tags=[0, 1, 1, 2, 3])


def test_options_accept_one_degree_and_numpy_frame_indices(gsd_file):
    assert simssl.AnalysisOptions(steinhardt=6).steinhardt == (6,)
    assert simssl.read(gsd_file, frame=np.int64(0)).n_particles == len(noisy)
