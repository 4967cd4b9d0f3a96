"""The structure library: bundled AFLOW prototypes and random space-group crystals, checked against known facts."""

from __future__ import annotations

import itertools

import freud
import numpy as np
import pytest

from simssl.bond_order import steinhardt
from simssl.errors import SimsslError
from simssl.library import structures
from simssl.library.structures import space_group_number
from simssl.neighbors import query_neighbor_list

PAPER_NAMES = {
    "cF4-Cu",
    "cI2-W",
    "cP1-Po",
    "cP46-Si",
    "hP2-Mg",
    "tP30-U",
    "cF8-C",
    "cI58-Mn",
    "cP20-Mn",
    "hP4-La",
    "tI4-Sn",
    "hR1-Hg",
}
RANDOM_GROUPS = [1, 2, 14, 62, 139, 166, 194, 221, 225, 227, 230]
FCC_Q6 = 0.57452
HCP_IDEAL_Q6 = 0.48476


def space_group_of(frame):
    """spglib's space-group number of a frame (box columns are its lattice vectors)."""
    return space_group_number(frame.box.to_matrix().T, frame.box.make_fractional(frame.positions))


def q6(frame, k):
    values = steinhardt(frame, l=6, num_neighbors=k)["q6"]
    assert np.ptp(values) < 1e-5  # a perfect crystal with one environment
    return float(values.mean())


def freud_q6(box, points, k):
    nlist = freud.locality.AABBQuery(box, points).query(points, dict(num_neighbors=k, exclude_ii=True)).toNeighborList()
    computer = freud.order.Steinhardt(6)
    computer.compute((box, points), neighbors=nlist)
    return float(np.mean(computer.particle_order))


def test_prototype_table():
    names = structures.prototype_names()
    assert len(names) >= 50 and names == sorted(set(names))
    assert len(structures.prototype_names("paper")) == 50
    assert len(structures.prototype_names("train")) == 6
    assert set(structures.prototype_names("train")) | set(structures.prototype_names("held_out")) == set(
        structures.prototype_names("paper")
    )
    assert PAPER_NAMES <= set(structures.prototype_names("paper"))
    pretrain, held_out = set(structures.prototype_names("pretrain")), set(structures.prototype_names("held_out"))
    assert pretrain.isdisjoint(held_out) and pretrain | held_out == set(names)
    assert set(structures.prototype_names("train")) <= pretrain
    with pytest.raises(SimsslError, match="unknown crystal prototype"):
        structures.unit_cell("cF4-Xx")
    with pytest.raises(SimsslError, match="subset"):
        structures.prototype_names("some")


@pytest.mark.parametrize("name", structures.prototype_names())
def test_prototype_cell_has_aflow_space_group(name):
    lattice, positions = structures.unit_cell(name)
    assert lattice.shape == (3, 3) and np.linalg.det(lattice) > 0
    assert positions.ndim == 2 and positions.shape[1] == 3 and np.all((positions >= 0) & (positions < 1))
    assert space_group_number(lattice, positions, symprec=1e-4) == structures.prototype_space_group(name)


def test_every_prototype_rescaled_and_replicated():
    for name in structures.prototype_names():
        frame = structures.crystal(name)
        assert frame.n_particles == pytest.approx(4096, rel=0.15), name
        assert frame.n_particles % len(structures.unit_cell(name)[1]) == 0
        distances = query_neighbor_list(frame, k=1).distances
        assert distances.min() == pytest.approx(1.0, abs=1e-5), name
        widths = 1 / np.linalg.norm(np.linalg.inv(frame.box.to_matrix()), axis=1)
        assert widths.max() / widths.min() < 1.7, name  # not too anisotropic


def test_small_and_large_particle_counts():
    assert structures.crystal("cP1-Po", n_particles=1000).n_particles == 1000
    assert structures.crystal("cF4-Cu", n_particles=32000).n_particles == 32000
    assert structures.crystal("cP240-C", n_particles=10).n_particles == 240  # at least one cell
    with pytest.raises(SimsslError, match="n_particles"):
        structures.crystal("cF4-Cu", n_particles=0)


def test_fcc_bcc_hcp_order_parameters():
    assert q6(structures.crystal("cF4-Cu"), 12) == pytest.approx(FCC_Q6, abs=1e-4)
    box, points = freud.data.UnitCell.bcc().generate_system(num_replicas=6)
    bcc = structures.crystal("cI2-W")
    for k in (8, 14):  # first shell, and first plus second shells
        assert q6(bcc, k) == pytest.approx(freud_q6(box, points, k), abs=1e-5)
    # AFLOW's hP2-Mg has magnesium's c/a = 1.6236, close to but not the ideal sqrt(8/3): compare with
    # an HCP crystal built here from the textbook basis with that c/a.
    (a, _, _), _, (_, _, c) = np.abs(structures.unit_cell("hP2-Mg")[0])
    hexagonal = freud.box.Box(Lx=1.0, Ly=np.sqrt(3) / 2, Lz=c / a, xy=-1 / np.sqrt(3))
    box, points = freud.data.UnitCell(hexagonal, [[1 / 3, 2 / 3, 0.25], [2 / 3, 1 / 3, 0.75]]).generate_system(
        num_replicas=8
    )
    mg = q6(structures.crystal("hP2-Mg"), 12)
    assert mg == pytest.approx(freud_q6(box, points, 12), abs=1e-5)
    assert mg == pytest.approx(HCP_IDEAL_Q6, abs=1e-3)


def test_frames_keep_the_prototype_symmetry():
    for name in ("cF4-Cu", "hP2-Mg", "tI4-Sn", "hR1-Hg", "mC34-Pu"):
        frame = structures.crystal(name, n_particles=500)
        assert space_group_of(frame) == structures.prototype_space_group(name)


def test_noise_has_the_requested_std():
    clean = structures.crystal("cF4-Cu")
    noisy = structures.crystal("cF4-Cu", noise=0.05, seed=7)
    displacement = np.asarray(noisy.box.wrap(noisy.positions - clean.positions))
    assert np.abs(displacement.mean(axis=0)).max() < 0.005
    assert displacement.std(axis=0) == pytest.approx([0.05] * 3, rel=0.05)
    with pytest.raises(SimsslError, match="noise"):
        structures.crystal("cF4-Cu", noise=-1.0)


def test_seeds_make_structures_reproducible():
    first = structures.crystal("tP30-U", noise=0.1, seed=3)
    assert np.array_equal(first.positions, structures.crystal("tP30-U", noise=0.1, seed=3).positions)
    assert not np.array_equal(first.positions, structures.crystal("tP30-U", noise=0.1, seed=4).positions)
    random = structures.random_crystal(62, n_particles=500, seed=5)
    again = structures.random_crystal(62, n_particles=500, seed=5)
    assert np.array_equal(random.positions, again.positions) and np.allclose(
        random.box.to_matrix(), again.box.to_matrix()
    )
    other = structures.random_crystal(62, n_particles=500, seed=6)
    assert not np.allclose(random.box.to_matrix(), other.box.to_matrix())


@pytest.mark.parametrize("group", RANDOM_GROUPS)
def test_random_crystal_has_the_requested_space_group(group):
    lattice, positions = structures.random_unit_cell(group, seed=group)
    assert space_group_number(lattice, positions, symprec=1e-5) == group
    frame = structures.random_crystal(group, n_particles=600, seed=group, noise=0.0)
    assert query_neighbor_list(frame, k=1).distances.min() == pytest.approx(1.0, abs=1e-5)
    assert space_group_of(frame) == group


def test_random_crystal_rejects_bad_groups():
    for group in (0, 231):
        with pytest.raises(SimsslError, match="1 to 230"):
            structures.random_crystal(group)


def test_library_yields_prototypes_then_space_groups():
    entries = list(
        itertools.islice(structures.library(noise=0.02, seed=1, n_particles=300), len(structures.prototype_names()) + 2)
    )
    names = [name for name, _ in entries]
    assert names == structures.prototype_names() + ["spacegroup-1", "spacegroup-2"]
    again = dict(itertools.islice(structures.library(noise=0.02, seed=1, n_particles=300), 3))
    assert all(np.array_equal(again[name].positions, frame.positions) for name, frame in entries[:3])
    only = list(structures.library(names=["cF4-Cu"], include_random=False, n_particles=100))
    assert [name for name, _ in only] == ["cF4-Cu"]


def test_held_out_space_groups_never_reach_pretraining():
    from simssl.training.dataset import training_space_groups

    held_out = set(structures.HELD_OUT_SPACE_GROUPS)
    pretrain_groups = {structures.prototype_space_group(name) for name in structures.prototype_names("pretrain")}
    assert len(held_out) >= 20 and held_out.isdisjoint(pretrain_groups)
    # one held-out group or more in every crystal system that has unused groups
    assert {structures.crystal_system(group) for group in held_out} == set(structures.SYSTEMS) - {"triclinic"}
    for seed in range(20):
        groups = training_space_groups(200, np.random.default_rng(seed))
        assert len(groups) >= 200 - len(held_out) and held_out.isdisjoint(groups)
    # the presets' draw (seed 0, 60 groups) holds none of them: the shipped models' data are unchanged
    assert len(training_space_groups(60, np.random.default_rng(0))) == 60
