"""Test systems with defects (simssl.library.defects): stackings, polycrystals, slabs, gases and glasses."""

from __future__ import annotations

import numpy as np
import pytest
from crystals import ptm_types

from simssl.errors import SimsslError
from simssl.library import defects
from simssl.neighbors import query_neighbor_list


def neighbor_distances(frame, k):
    return query_neighbor_list(frame, k=k).distances.reshape(frame.n_particles, k)


def test_stacking_truth_of_the_classic_sequences():
    assert set(defects.stacking_truth("ABC" * 4)) == {"fcc"}
    assert set(defects.stacking_truth("AB" * 4)) == {"hcp"}
    assert defects.stacking_truth("ABAC").tolist() == ["fcc", "hcp", "fcc", "hcp"]  # dhcp: half and half
    # a twin plane is an hcp-like layer in fcc: ...ABCABCBACBA...
    truth = defects.stacking_truth("ABCABCBACBAC")
    assert truth.tolist().count("hcp") == 2 and truth[5] == "hcp" and truth[11] == "hcp"


@pytest.mark.parametrize("bad", ["ABBC", "ABCA", "ABD", "A", ""])
def test_impossible_stackings_are_one_sentence(bad):
    with pytest.raises(SimsslError, match="stacking"):
        defects.close_packed_stack(bad)


def test_perfect_abc_stack_is_fcc_by_ptm_and_by_truth():
    pytest.importorskip("ovito")
    stack = defects.close_packed_stack("ABC" * 4, n_particles=1200)
    assert stack.frame.n_particles == 12 * len(np.flatnonzero(stack.layer == 0))
    assert set(stack.stacking) == {"fcc"}
    assert np.all(ptm_types(stack.frame) == 1)  # PTM FCC
    distances = neighbor_distances(stack.frame, 12)
    assert np.allclose(distances, 1.0, atol=1e-5)  # a perfect close packing: 12 neighbors at 1


def test_fcc_hcp_twin_stack_truth_agrees_with_ptm_particle_by_particle():
    pytest.importorskip("ovito")
    stack = defects.close_packed_stack(defects.FCC_HCP_TWIN, n_particles=3100)
    found = ptm_types(stack.frame)
    assert np.array_equal(np.where(found == 1, "fcc", np.where(found == 2, "hcp", "other")), stack.stacking)
    assert 0.2 < np.mean(stack.stacking == "hcp") < 0.5


def test_noise_moves_particles_but_not_the_truth():
    clean = defects.close_packed_stack(defects.FCC_HCP_TWIN, n_particles=1200)
    noisy = defects.close_packed_stack(defects.FCC_HCP_TWIN, n_particles=1200, noise=0.05, seed=1)
    assert np.array_equal(clean.stacking, noisy.stacking)
    assert clean.frame.box.wrap(noisy.frame.positions - clean.frame.positions).std() == pytest.approx(0.05, rel=0.1)


def test_random_stacking_is_periodic_reproducible_and_half_hcp():
    sequence = defects.random_stacking(400, seed=4)
    assert all(sequence[i] != sequence[i - 1] for i in range(len(sequence)))
    assert sequence == defects.random_stacking(400, seed=4) != defects.random_stacking(400, seed=5)
    assert 0.4 < np.mean(defects.stacking_truth(sequence) == "hcp") < 0.6
    with pytest.raises(SimsslError, match="at least 3 layers"):
        defects.random_stacking(2)


def test_polycrystal_grains_density_and_boundaries():
    grains = defects.polycrystal(n_grains=6, n_particles=6000, seed=2)
    frame = grains.frame
    assert set(grains.grain.tolist()) == set(range(6))
    assert query_neighbor_list(frame, k=1).distances.min() >= defects.MIN_DISTANCE
    assert 0.9 * np.sqrt(2) < frame.n_particles / frame.box.volume <= np.sqrt(2) * 1.001  # fcc density, minus a few
    # far from every boundary plane the lattice is perfect: 12 neighbors at 1, all of the same grain (farther
    # than 1 + MIN_DISTANCE: a particle deleted at a boundary lies within MIN_DISTANCE of its plane)
    bonds = query_neighbor_list(frame, k=12)
    deep = grains.boundary_distance > 1 + defects.MIN_DISTANCE
    distances = bonds.distances.reshape(-1, 12)
    same = (grains.grain[bonds.point_indices] == grains.grain[bonds.query_point_indices]).reshape(-1, 12)
    assert deep.mean() > 0.2
    assert np.allclose(distances[deep], 1.0, atol=1e-4) and same[deep].all()
    # at the boundaries they are not: many particles there lack a perfect shell
    near = grains.boundary_distance < 0.5
    assert np.mean(np.abs(distances[near] - 1).max(axis=1) > 0.05) > 0.5


def test_polycrystal_grain_cores_are_fcc_and_boundaries_are_not_by_ptm():
    pytest.importorskip("ovito")
    grains = defects.polycrystal(n_grains=4, n_particles=4000, noise=0.02, seed=3)
    fcc = ptm_types(grains.frame) == 1
    assert fcc[grains.boundary_distance > 1 + defects.MIN_DISTANCE].mean() > 0.99
    assert fcc[grains.boundary_distance < 0.5].mean() < 0.6


def test_slab_has_two_free_surfaces():
    film = defects.slab(n_particles=2000, layers=10)
    frame = film.frame
    assert frame.periodic == (True, True, False)
    assert frame.n_particles == 10 * len(np.flatnonzero(film.depth == 0)) // 2
    coordination = (neighbor_distances(frame, 12) < 1.1).sum(axis=1)
    assert np.all(coordination[film.depth == 0] == 8)  # (001) surface: 4 in-plane + 4 below
    assert np.all(coordination[film.depth > 0.9] == 12)
    assert sorted(np.unique(np.round(film.depth, 4)))[:3] == pytest.approx([0, 0.7071, 1.4142], abs=1e-4)


def test_ideal_gas_density_and_randomness():
    gas = defects.ideal_gas(3000, density=0.2, seed=1)
    assert gas.n_particles == 3000 and gas.n_particles / gas.box.volume == pytest.approx(0.2)
    # Poisson points: the nearest-neighbor distance has mean Gamma(4/3) (4 pi rho / 3)^(-1/3)
    expected = 0.8930 * (4 * np.pi * 0.2 / 3) ** (-1 / 3)
    assert query_neighbor_list(gas, k=1).distances.mean() == pytest.approx(expected, rel=0.05)
    with pytest.raises(SimsslError, match="the density must be a positive number"):
        defects.ideal_gas(10, density=0)


def test_amorphous_packing_is_dense_and_not_crystalline():
    pytest.importorskip("ovito")
    packing = defects.amorphous_packing(600, packing_fraction=0.63, seed=1)
    assert packing.n_particles * np.pi / 6 / packing.box.volume == pytest.approx(0.63)
    assert query_neighbor_list(packing, k=1).distances.min() > 0.95  # jammed: barely overlapping
    assert np.mean(ptm_types(packing, rmsd_cutoff=0.1) != 0) < 0.05  # PTM (OVITO's cutoff): hardly any crystal
    with pytest.raises(SimsslError, match="above close packing"):
        defects.amorphous_packing(10, packing_fraction=0.75)
