"""The MDAnalysis analysis class on real LAMMPS dumps.

Exact triclinic boxes, equal to `simssl process`, parallel = serial.
"""

import pickle
import warnings

import MDAnalysis
import numpy as np
import pytest
from crystals import FCC_CUBIC, FCC_Q6, lammps_dump_text, triclinic_fcc

import simssl
from simssl.live import LiveAnalyzer
from simssl.plugins.mdanalysis import OrderEmbedding

SMALL = np.array([[3.0, 0.0, 0.0], [1.0, 3.0, 0.0], [0.5, 0.5, 3.0]]) * FCC_CUBIC  # skewed 3x3x3 cells, 108 atoms
STEPS = (0, 100, 200)
pytestmark = pytest.mark.filterwarnings("ignore:Reader has no dt information")  # MDAnalysis, on every frame read


def universe(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MDAnalysis guesses masses
        return MDAnalysis.Universe(str(path), format="LAMMPSDUMP")


def offline(path, **settings):
    """`simssl process` results (one dict per frame) with the analyzers OrderEmbedding would use."""
    analyzers = LiveAnalyzer(**settings).analyzers
    return simssl.process(path, analyzers=analyzers, k=settings.get("k"), progress=False).frames


@pytest.fixture(scope="module")
def perfect_dump(tmp_path_factory):
    rows, positions = triclinic_fcc()
    path = tmp_path_factory.mktemp("md") / "fcc.lammpstrj"
    path.write_text(lammps_dump_text(rows, positions, np.ones(len(positions), int), step=500))
    return path


@pytest.fixture(scope="module")
def noisy_dump(tmp_path_factory):
    """Three thermalized frames of the small skewed crystal (no ties among the 16 nearest neighbors)."""
    rows, positions = triclinic_fcc(SMALL)
    rng = np.random.default_rng(5)
    path = tmp_path_factory.mktemp("md") / "noisy.lammpstrj"
    types = np.ones(len(positions), int)
    path.write_text(
        "".join(
            lammps_dump_text(rows, positions + rng.normal(0, 0.06, positions.shape), types, step=step) for step in STEPS
        )
    )
    return path


def test_triclinic_fcc_equals_process(perfect_dump):
    analysis = OrderEmbedding(universe(perfect_dump).atoms, model="random", steinhardt=(6,)).run()
    results = analysis.results
    assert results.q6.shape == (1, 256) and results.embedding.shape == (1, 256, 32)
    np.testing.assert_allclose(results.q6, FCC_Q6, atol=1e-4)  # freud's own MDAnalysis path gives 0.417 here
    expected = offline(perfect_dump, model="random", steinhardt=(6,))[0]
    np.testing.assert_array_equal(results.q6[0], expected["q6"])
    np.testing.assert_array_equal(results.embedding[0], expected["embedding"])
    np.testing.assert_array_equal(results.steps, [500])
    np.testing.assert_array_equal(results.frames, [0])
    assert pickle.loads(pickle.dumps(analysis))._live is None  # workers get settings, not the loaded model


@pytest.mark.parametrize("backend", ["multiprocessing", "dask"])
def test_parallel_backends_equal_serial(noisy_dump, backend):
    if backend == "dask":
        pytest.importorskip("dask")
    atoms = universe(noisy_dump).atoms
    serial = OrderEmbedding(atoms, model="random", steinhardt=(4, 6)).run().results
    parallel = OrderEmbedding(atoms, model="random", steinhardt=(4, 6)).run(backend=backend, n_workers=2).results
    assert sorted(parallel) == sorted(serial) == ["embedding", "frames", "q4", "q6", "steps"]
    for name in serial:
        np.testing.assert_array_equal(parallel[name], serial[name])
    np.testing.assert_array_equal(parallel.steps, STEPS)
    assert serial.q6.shape == (3, 108) and np.ptp(serial.q6) > 0.01


def test_atomgroup_subset_has_neighbors_among_itself(tmp_path):
    """Rock salt: the type-1 atoms alone are a perfect FCC crystal; with type 2 present they are not."""
    rows, sites = triclinic_fcc(SMALL)
    fractional = (sites + [FCC_CUBIC / 2, 0, 0]) @ np.linalg.inv(rows) % 1.0  # octahedral sites, wrapped
    positions = np.vstack([sites, fractional @ rows])
    types = np.repeat([1, 2], len(sites))
    both, alone = tmp_path / "rocksalt.lammpstrj", tmp_path / "sublattice.lammpstrj"
    both.write_text(lammps_dump_text(rows, positions, types))
    alone.write_text(lammps_dump_text(rows, sites, types[: len(sites)]))

    results = OrderEmbedding(universe(both).select_atoms("type 1"), model="random", steinhardt=(6,)).run().results
    assert results.q6.shape == (1, len(sites))
    np.testing.assert_allclose(results.q6, FCC_Q6, atol=1e-4)
    expected = offline(alone, model="random", steinhardt=(6,))[0]
    np.testing.assert_array_equal(results.q6[0], expected["q6"])
    np.testing.assert_array_equal(results.embedding[0], expected["embedding"])
    mixed = OrderEmbedding(universe(both).atoms, model=None, steinhardt=(6,)).run().results
    assert np.abs(mixed.q6 - FCC_Q6).max() > 0.05


def test_boxless_trajectories_and_updating_groups_are_refused():
    u = MDAnalysis.Universe.empty(20, trajectory=True)
    u.atoms.positions = np.random.default_rng(0).random((20, 3)) * 5
    with pytest.raises(simssl.SimsslError, match="no box"):
        OrderEmbedding(u.atoms, model=None).run()
    with pytest.raises(simssl.SimsslError, match="updating=True"):
        OrderEmbedding(u.select_atoms("prop x > 1", updating=True), model=None)
