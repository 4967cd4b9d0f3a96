"""Binary prototypes, antisites and solid solutions (simssl.library.binaries), checked against known facts."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from crystals import ptm_types

from simssl.errors import SimsslError
from simssl.library import binaries
from simssl.neighbors import query_neighbor_list

#: International Tables space-group numbers of the structure types (types told apart)
SPACE_GROUPS = {
    "B1-NaCl": 225,
    "B2-CsCl": 221,
    "B3-ZnS": 216,
    "B4-ZnS": 186,
    "L1_2-Cu3Au": 221,
    "L1_0-CuAu": 123,
    "C15-MgCu2": 227,
    "C14-MgZn2": 194,
    "C32-AlB2": 191,
    "D2_d-CaCu5": 191,
    "D2_3-NaZn13": 226,
}
#: atoms of A and B per formula unit
FORMULA = {"L1_2-Cu3Au": (3, 1), "C15-MgCu2": (1, 2), "C14-MgZn2": (1, 2), "C32-AlB2": (1, 2), "D2_d-CaCu5": (1, 5)}
FORMULA |= {"D2_3-NaZn13": (1, 13)}


def spglib_number(lattice, fractional, types) -> int:
    import spglib

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # spglib 2.7+ announces its error-handling change
        dataset = spglib.get_symmetry_dataset((lattice, fractional, types), symprec=1e-3)
    return int(dataset.number)


def frame_space_group(frame) -> int:
    return spglib_number(frame.box.to_matrix().T, frame.box.make_fractional(frame.positions), frame.types)


def unlike_neighbors(frame, k: int) -> np.ndarray:
    """(N, k): whether each of a particle's k nearest neighbors has the other type."""
    bonds = query_neighbor_list(frame, k=k)
    return (frame.types[bonds.point_indices] != frame.types[bonds.query_point_indices]).reshape(frame.n_particles, k)


def test_table_has_every_required_prototype_with_its_space_group():
    names = binaries.binary_prototype_names()
    assert names == list(SPACE_GROUPS)
    for name, number in SPACE_GROUPS.items():
        lattice, positions, types, sites = binaries.binary_unit_cell(name)
        assert binaries.binary_space_group(name) == number
        assert spglib_number(lattice, positions, types) == number, name
        assert len(sites) == len(types) and np.all((positions >= 0) & (positions < 1))
        a, b = FORMULA.get(name, (1, 1))
        assert np.bincount(types).tolist() == [len(types) * a // (a + b), len(types) * b // (a + b)], name


def test_unknown_prototype_is_one_sentence():
    with pytest.raises(SimsslError, match="unknown binary prototype 'B9-XY'"):
        binaries.binary_crystal("B9-XY")


@pytest.mark.parametrize("name", list(SPACE_GROUPS))
def test_replicated_crystal_keeps_symmetry_composition_and_unit_distance(name):
    crystal = binaries.binary_crystal(name, n_particles=300)
    frame = crystal.frame
    assert frame.type_names == ("A", "B")
    assert frame_space_group(frame) == SPACE_GROUPS[name]
    assert query_neighbor_list(frame, k=1).distances.min() == pytest.approx(1.0, abs=1e-5)
    a, b = FORMULA.get(name, (1, 1))
    assert np.sum(frame.types == 1) * a == np.sum(frame.types == 0) * b
    assert not crystal.antisite.any()
    # every particle of a site has the site's element (A or B), as the unit cell lists it
    _, _, types, sites = binaries.binary_unit_cell(name)
    site_type = {site: t for site, t in zip(sites, types)}
    assert np.array_equal(frame.types, [site_type[crystal.site_names[s]] for s in crystal.site])


@pytest.mark.parametrize(
    "name, k, unlike",
    [("B1-NaCl", 6, 6), ("B2-CsCl", 8, 8), ("B3-ZnS", 4, 4), ("B4-ZnS", 4, 4)],
)
def test_first_shell_is_all_unlike_in_ionic_and_tetrahedral_prototypes(name, k, unlike):
    frame = binaries.binary_crystal(name, n_particles=500).frame
    assert np.all(unlike_neighbors(frame, k).sum(axis=1) == unlike)


def test_cu3au_minority_is_surrounded_by_majority():
    frame = binaries.binary_crystal("L1_2-Cu3Au", n_particles=500).frame
    unlike = unlike_neighbors(frame, 12).sum(axis=1)
    assert np.all(unlike[frame.types == 1] == 12)  # Au: 12 Cu
    assert np.all(unlike[frame.types == 0] == 4)  # Cu: 4 Au, 8 Cu


@pytest.mark.parametrize("name, fraction", [("B2-CsCl", 0.1), ("L1_2-Cu3Au", 0.05), ("D2_3-NaZn13", 0.1)])
def test_antisite_fraction_is_honoured(name, fraction):
    clean = binaries.binary_crystal(name, n_particles=2000, seed=3)
    crystal = binaries.binary_crystal(name, n_particles=2000, antisites=fraction, seed=3)
    n = crystal.frame.n_particles
    assert crystal.antisite.sum() == 2 * round(fraction * n / 2)
    assert np.array_equal(crystal.antisite, crystal.frame.types != clean.frame.types)
    assert np.array_equal(np.bincount(crystal.frame.types), np.bincount(clean.frame.types))  # swaps keep composition
    assert np.array_equal(crystal.site, clean.site)


def test_too_many_antisites_for_the_minority_are_refused():
    with pytest.raises(SimsslError, match="at most 0.143 of them can be antisites"):
        binaries.binary_crystal("D2_3-NaZn13", n_particles=500, antisites=0.2)
    with pytest.raises(SimsslError, match="between 0 and 1"):
        binaries.binary_crystal("B2-CsCl", antisites=-0.1)


def test_noise_is_in_units_of_the_shortest_distance():
    clean = binaries.binary_crystal("C15-MgCu2", n_particles=3000).frame
    noisy = binaries.binary_crystal("C15-MgCu2", n_particles=3000, noise=0.1, seed=5).frame
    shift = clean.box.wrap(noisy.positions - clean.positions)
    assert shift.std() == pytest.approx(0.1, rel=0.03)


def test_solid_solution_has_the_composition_and_no_order():
    frame = binaries.solid_solution("cF4-Cu", n_particles=4000, fraction_b=0.25, noise=0.05, seed=2)
    assert frame.type_names == ("A", "B")
    assert np.sum(frame.types == 1) == round(0.25 * frame.n_particles)
    # Warren-Cowley short-range order of the first shell: 1 - P(B next to A) / x_B, zero for random placement
    bonds = query_neighbor_list(frame, k=12)
    around_a = frame.types[bonds.point_indices][frame.types[bonds.query_point_indices] == 0]
    assert abs(1 - around_a.mean() / 0.25) < 0.05
    # the geometry is the lattice's: every particle keeps 12 neighbors near distance 1
    assert np.median(bonds.distances) == pytest.approx(1.0, abs=0.05)


def test_solid_solution_refuses_a_fraction_outside_zero_to_one():
    with pytest.raises(SimsslError, match="fraction_b must be a fraction between 0 and 1, got 1.5"):
        binaries.solid_solution("cF4-Cu", fraction_b=1.5)


def test_ptm_finds_the_chemical_ordering_of_perfect_prototypes():
    """OVITO's PTM, an independent tool, sees each prototype's lattice and ordering where it has a template."""
    pytest.importorskip("ovito")
    from ovito.modifiers import PolyhedralTemplateMatchingModifier as PTM

    expected = {
        "B2-CsCl": (PTM.Type.BCC, {PTM.OrderingType.B2}),
        "L1_0-CuAu": (PTM.Type.FCC, {PTM.OrderingType.L10}),
        "L1_2-Cu3Au": (PTM.Type.FCC, {PTM.OrderingType.L12_A, PTM.OrderingType.L12_B}),
        "B3-ZnS": (PTM.Type.CUBIC_DIAMOND, {PTM.OrderingType.ZINCBLENDE_WURTZITE}),
        "B4-ZnS": (PTM.Type.HEX_DIAMOND, {PTM.OrderingType.ZINCBLENDE_WURTZITE}),
    }
    for name, (structure, orderings) in expected.items():
        frame = binaries.binary_crystal(name, n_particles=500).frame
        found, ordering = ptm_types(frame, ordering=True)
        assert np.all(found == int(structure)), name
        assert np.all(np.isin(ordering, [int(o) for o in orderings])), name
