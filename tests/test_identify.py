"""Structure identification, the ordered fraction and nuclei (simssl.identify, simssl.nuclei, ``simssl identify``)."""

from __future__ import annotations

import dataclasses
import json
import os

import gsd.hoomd
import numpy as np
import pytest
from model_helpers import random_rotation

import simssl
from simssl.cli import main
from simssl.frame import frame_from_lattice
from simssl.identify import LIQUID, OTHER, Identify, model_library
from simssl.io.writers import partial_path
from simssl.library.binaries import binary_crystal, solid_solution
from simssl.library.defects import FCC_HCP_TWIN, close_packed_stack, ideal_gas, polycrystal
from simssl.library.liquids import lennard_jones_liquid, soft_sphere_packing
from simssl.library.references import build_library, fit_temperature
from simssl.library.structures import crystal, random_crystal
from simssl.nuclei import nuclei, order_summary

COMMON = {"cF4-Cu": "fcc", "cI2-W": "bcc", "hP2-Mg": "hcp", "cF8-C": "diamond", "cP1-Po": "sc"}


@pytest.fixture(scope="module")
def identify(default_identify):
    return default_identify


def test_default_references_ship_with_the_model_and_name_the_liquid_first(identify):
    names = identify.structure_names
    assert names[0] == LIQUID and names[-1] == OTHER
    assert set(COMMON) <= set(names)
    assert identify.library.model == simssl.compute.model_identity(identify.model)["sha256"]
    # near-duplicates of simpler structures are reported as those (tI2-In is fcc stretched by 8 %)
    assert "tI2-In" not in names and identify.library.aliases["tI2-In"] == ["cF4-Cu"]


@pytest.mark.parametrize("name", sorted(COMMON))
def test_perfect_and_noisy_crystals_are_fully_ordered_and_named(identify, name):
    for noise in (0.0, 0.06):
        frame = crystal(name, 1500, noise=noise, seed=5)
        result = identify.compute(frame)
        expected = identify.structure_names.index(name)
        assert np.mean(result["structure"] == expected) >= (1.0 if noise == 0 else 0.97), (name, noise)
        summary = order_summary(result["structure"], result["nucleus"])
        assert summary["ordered_fraction"] >= (1.0 if noise == 0 else 0.98)
        assert summary["largest_nucleus"] >= 0.99 * frame.n_particles  # one grain spans the periodic crystal
    assert np.all(result["structure_confidence"] > 0.5) or noise > 0


def test_a_liquid_is_not_ordered(identify):
    frame = lennard_jones_liquid(1000, density=0.9, temperature=1.2, steps=600, seed=7)  # not a reference state
    result = identify.compute(frame)
    assert np.mean(result["structure"] == 0) >= 0.95
    assert order_summary(result["structure"], result["nucleus"])["largest_nucleus"] < 20


def test_identification_does_not_depend_on_orientation_or_order(identify):
    frame = crystal("hP2-Mg", 1200, noise=0.08, seed=3)
    base = identify.compute(frame)
    rotation = random_rotation(np.random.default_rng(1))
    permutation = np.random.default_rng(2).permutation(frame.n_particles)
    lattice = np.asarray(frame.box.to_matrix()).T @ rotation.T
    moved = frame_from_lattice(lattice, (frame.positions @ rotation.T)[permutation], type_names=("A",))
    other = identify.compute(moved)
    assert np.array_equal(other["structure"], base["structure"][permutation])
    np.testing.assert_allclose(other["structure_distance"], base["structure_distance"][permutation], rtol=1e-3)


def test_confidence_is_a_probability_and_tracks_noise(identify):
    cold = identify.compute(crystal("cI2-W", 1000, noise=0.02, seed=1))["structure_confidence"]
    hot = identify.compute(crystal("cI2-W", 1000, noise=0.14, seed=1))["structure_confidence"]
    assert np.all((cold > 0) & (cold <= 1)) and np.all((hot > 0) & (hot <= 1))
    assert cold.mean() > hot.mean()


def test_fit_temperature_recovers_a_known_softmax():
    rng = np.random.default_rng(0)
    distances = rng.uniform(0, 3, size=(20000, 4))
    probabilities = np.exp(-(distances**2) / 2.0)
    probabilities /= probabilities.sum(1, keepdims=True)
    labels = (rng.uniform(size=(20000, 1)) > probabilities.cumsum(1)).sum(1)
    assert fit_temperature(distances**2, labels) == pytest.approx(2.0, rel=0.1)


def test_user_references_become_structures(identify, tmp_path):
    """A random crystal of a space group the library lacks is named after the user's file."""
    reference = random_crystal(96, n_particles=800, seed=11)
    path = tmp_path / "mine.gsd"
    with gsd.hoomd.open(str(path), "w") as trajectory:
        snapshot = gsd.hoomd.Frame()
        snapshot.configuration.box = [*reference.box.L, reference.box.xy, reference.box.xz, reference.box.yz]
        snapshot.particles.N = reference.n_particles
        snapshot.particles.position = reference.positions
        trajectory.append(snapshot)
    mine = Identify(identify.model, references={"mine": list(simssl.read_frames(str(path)))}, progress=False)
    assert mine.structure_names[-2:] == ("mine", OTHER)
    noisy = simssl.frame_from_lattice(
        np.asarray(reference.box.to_matrix()).T,
        reference.positions + np.random.default_rng(4).normal(scale=0.03, size=reference.positions.shape),
        type_names=("A",),
    )
    assert np.mean(mine.compute(noisy)["structure"] == len(mine.structure_names) - 2) >= 0.95
    clash = Identify(identify.model, references={"liquid": [reference]}, progress=False)  # no reference I/O yet
    with pytest.raises(simssl.SimsslError, match="already a structure"):
        assert clash.structure_names  # the references are loaded, and checked, on first use


def test_nuclei_are_numbered_by_size_and_disordered_particles_get_minus_one():
    frame = soft_sphere_packing(1500, 0.45, seed=3)
    center = frame.positions[0]
    distance = np.linalg.norm(frame.box.wrap(frame.positions - center), axis=1)
    far = np.linalg.norm(frame.box.wrap(frame.positions - center - frame.box.L / 2), axis=1)  # half a box away
    ordered = (distance < 2.5) | (far < 1.8)
    ids = nuclei(frame, ordered)
    assert np.all(ids[~ordered] == -1)
    assert set(np.unique(ids[distance < 2.5])) == {0} and set(np.unique(ids[far < 1.8])) == {1}
    assert order_summary(np.where(ordered, 1, 0), ids) == {
        "ordered_fraction": pytest.approx(ordered.mean()),
        "n_nuclei": 2,
        "largest_nucleus": int((distance < 2.5).sum()),
    }
    assert np.all(nuclei(frame, np.zeros(frame.n_particles, bool)) == -1)


def test_build_library_merges_distortions_into_the_simpler_structure(default_model):
    model = default_model
    references = build_library(
        model,
        prototypes=["tI2-In", "cF4-Cu", "cI2-W"],
        disorder={"soft spheres": [soft_sphere_packing(600, 0.45, seed=seed) for seed in (1, 2)]},
        binaries=[],
        progress=False,
    )
    assert references.names == (LIQUID, "cI2-W", "cF4-Cu", OTHER)  # simplest first: space group 229, then 225
    assert references.aliases["tI2-In"] == ["cF4-Cu"]  # and the stacking polytypes, reported layer by layer
    assert set(references.aliases) == {"tI2-In", "hP4-La", "hR3-Sm"}
    assert 0 < references.temperature < 1e4
    assert np.array_equal(np.sort(references.labels), references.labels)
    result = references.classify(simssl.compare.embedding_features(model, crystal("tI2-In", 500, noise=0.05, seed=9)))
    assert np.mean(result["structure"] == 2) >= 0.99


def test_references_of_the_default_model_load_from_the_package(identify, tmp_path, monkeypatch):
    monkeypatch.setenv("SIMSSL_CACHE", str(tmp_path))
    loaded = model_library(identify.model, progress=False)
    assert loaded.names == identify.structure_names and not list(tmp_path.iterdir())  # nothing built or cached


def test_identify_command_writes_structures_and_summarizes_order(tmp_path, capsys):
    output = tmp_path / "out.gsd"
    assert main(["identify", "--example", "--frames", "0:20:19", "-o", str(output)]) == 0
    printed = capsys.readouterr().out
    assert "ordered fraction" in printed and "largest nucleus" in printed
    with gsd.hoomd.open(str(output)) as trajectory:
        first, last = trajectory[0].log, trajectory[1].log
        record = json.loads(bytes(first["simssl/fingerprint"]).decode())
    prefix = "particles/simssl/"
    assert {"q4", "q6", "structure", "structure_confidence", "structure_distance", "nucleus"} <= {
        key[len(prefix) :] for key in first if key.startswith(prefix)
    }
    assert "embedding" not in {key[len(prefix) :] for key in first}
    hot, cold = first[prefix + "structure"], last[prefix + "structure"]
    assert np.mean(hot > 0) < 0.1 < 0.5 < np.mean(cold > 0)  # the melt is disordered, the end crystalline
    structures = next(item for item in record["analyzers"] if item["kind"] == "Identify")["structures"]
    assert structures[0] == LIQUID
    assert main(["info", str(output)]) == 0
    assert "cF4-Cu" in capsys.readouterr().out


def test_process_identify_with_a_model_also_writes_embeddings(tmp_path):
    output = tmp_path / "out.npz"
    assert main(["process", "--example", "--frames", "19", "--identify", "--model", "default", "-o", str(output)]) == 0
    with np.load(output) as data:
        assert data["embedding"].shape == (1, 4000, 32) and data["structure"].dtype == np.int32


def test_references_without_identification_are_refused(tmp_path, capsys):
    path = simssl.example_path()
    assert main(["process", "--example", "--reference", str(path), "-o", str(tmp_path / "x.gsd")]) == 2
    assert "--identify" in capsys.readouterr().err
    assert (
        main(["identify", "--example", "--reference", str(tmp_path / "missing.gsd"), "-o", str(tmp_path / "y.gsd")])
        == 2
    )
    assert "no such reference file" in capsys.readouterr().err
    assert not (tmp_path / "x.gsd").exists() and not (tmp_path / "y.gsd").exists()


def test_types_do_not_change_identification(identify):
    """The default model is geometry-only: a binary labelling of the same positions is identified the same."""
    frame = crystal("cF4-Cu", 864, noise=0.05, seed=2)
    types = (np.arange(frame.n_particles) % 3 == 0).astype(np.int32)
    mixed = dataclasses.replace(frame, types=types, type_names=("A", "B"))
    one, two = identify.compute(frame), identify.compute(mixed)
    for name in ("structure", "nucleus"):
        np.testing.assert_array_equal(one[name], two[name])
    np.testing.assert_allclose(one["structure_distance"], two["structure_distance"], atol=1e-5)


def test_a_floating_crystallite_is_one_nucleus_with_a_disordered_skin(identify):
    """Non-periodic: a ball of fcc in vacuum (padded box, no images); its core is fcc and the largest nucleus."""
    bulk = crystal("cF4-Cu", 4000, seed=0)
    center = bulk.positions.mean(0)
    distance = np.linalg.norm(bulk.box.wrap(bulk.positions - center), axis=1)
    points = bulk.box.wrap(bulk.positions - center)[distance < 5.5]
    ball = frame_from_lattice(np.zeros((3, 3)), points, periodic=(False, False, False), type_names=("A",))
    result = identify.compute(ball)
    radius = np.linalg.norm(points - points.mean(0), axis=1)
    core = radius < 3.0
    fcc = identify.structure_names.index("cF4-Cu")
    assert np.all(result["structure"][core] == fcc)
    assert np.all(result["nucleus"][core] == 0)  # the core is one nucleus, the largest


def test_resume_keeps_identification_and_refuses_changed_references(tmp_path, capsys):
    output, done = tmp_path / "out.gsd", tmp_path / "done.gsd"
    base = ["identify", "--example", "--steinhardt", "none", "--quiet"]
    assert main([*base, "--frames", "0:2", "-o", str(done)]) == 0
    os.replace(done, partial_path(str(output)))
    reference = tmp_path / "bcc.gsd"
    frame = crystal("cI2-W", 432, noise=0.02, seed=1)
    with gsd.hoomd.open(str(reference), "w") as trajectory:
        snapshot = gsd.hoomd.Frame()
        snapshot.configuration.box = [*frame.box.L, frame.box.xy, frame.box.xz, frame.box.yz]
        snapshot.particles.N = frame.n_particles
        snapshot.particles.position = frame.positions
        trajectory.append(snapshot)
    changed = [*base, "--frames", "0:2", "--resume", "-o", str(output), "--reference", f"mine={reference}"]
    assert main(changed) == 2  # other references: other structure indices, never mixed into one file
    assert "belongs to another run" in capsys.readouterr().err and not output.exists()
    same = ["identify", "--example", "--steinhardt", "none", "--frames", "0:2", "--resume"]
    assert main([*same, "-o", str(output)]) == 0
    summary = capsys.readouterr().out
    assert "(2 of them kept from the interrupted run)" in summary
    assert len([line for line in summary.splitlines() if line.strip().startswith(("0 ", "1 "))]) == 2


def test_other_is_the_last_name_and_numpy_indexing_names_every_particle(identify):
    """``structure == -1`` is ``other``: ``names[structure]`` never gives a crystal's name to it."""
    gas = ideal_gas(2000, density=1.0, seed=4)
    structure = identify.compute(gas)["structure"]
    named = np.asarray(identify.structure_names)[structure]
    assert set(named[structure == -1]) <= {OTHER}
    assert np.mean(structure > 0) <= 0.01  # an ideal gas is named no crystal (it is liquid or other)


def test_a_dilute_fluid_is_named_no_crystal(identify):
    """Self-assembly starts from such fluids: before the disorder kinds, 55 % of particles were a crystal."""
    from simssl.library.liquids import DISORDER_KINDS

    for frame in DISORDER_KINDS["hs_dilute"].frames(seed=9)[:2]:  # packing fractions 0.05 and 0.1, a fresh seed
        result = identify.compute(frame)
        assert np.mean(result["structure"] > 0) <= 0.01
        assert order_summary(result["structure"], result["nucleus"])["largest_nucleus"] <= 5


@pytest.mark.parametrize(("name", "other_name"), [("hP4-Si", "cF8-C"), ("cF8-C", "hP4-Si")])
def test_hexagonal_and_cubic_diamond_are_told_apart(identify, name, other_name):
    result = identify.compute(crystal(name, 1500, noise=0.08, seed=6))
    names = np.asarray(identify.structure_names)[result["structure"]]
    assert np.mean(names == name) >= 0.99 and np.mean(names == other_name) < 0.01


def test_close_packed_stacking_follows_each_particles_first_shell(identify):
    """An fcc|hcp|twin stack: the fcc layers next to a twin or an hcp block are fcc, as their own shells are."""
    stack = close_packed_stack(FCC_HCP_TWIN, 2400, noise=0.05, seed=3)
    names = np.asarray(identify.structure_names)[identify.compute(stack.frame)["structure"]]
    truth = np.where(stack.stacking == "fcc", "cF4-Cu", "hP2-Mg")
    assert np.mean(names == truth) >= 0.97
    assert "hP4-La" not in identify.structure_names  # stacking polytypes are reported layer by layer


def test_grain_boundaries_get_no_foreign_crystal_name(identify):
    """Particles near a grain boundary are fcc, hcp-like, liquid or other: never a crystal that is not there."""
    grains = polycrystal(n_grains=4, n_particles=6000, noise=0.02, seed=2)
    names = np.asarray(identify.structure_names)[identify.compute(grains.frame)["structure"]]
    boundary = grains.boundary_distance < 1.0
    assert np.mean(~np.isin(names[boundary], ["cF4-Cu", "hP2-Mg", LIQUID, OTHER])) <= 0.02
    assert np.mean(names[grains.boundary_distance > 3.0] == "cF4-Cu") >= 0.99


def test_chemical_ordering_of_binary_crystals_and_solid_solutions(default_model):
    ordered = Identify(default_model, ordering=True, progress=False)
    orderings = np.asarray(ordered.ordering_names)
    assert orderings[0] == "disordered" and orderings[-1] == "none"
    for name in ("B2-CsCl", "B1-NaCl", "L1_2-Cu3Au"):
        result = ordered.compute(binary_crystal(name, 1200, noise=0.05, seed=8).frame)
        assert np.mean(orderings[result["ordering"]] == name) >= 0.95, name
        geometry = {"B2-CsCl": "cI2-W", "B1-NaCl": "cP1-Po", "L1_2-Cu3Au": "cF4-Cu"}[name]
        assert np.mean(np.asarray(ordered.structure_names)[result["structure"]] == geometry) >= 0.95  # the lattice
    random = ordered.compute(solid_solution("cI2-W", 1200, fraction_b=0.5, noise=0.05, seed=8))
    assert np.mean(orderings[random["ordering"]] == "disordered") >= 0.95
    one_type = ordered.compute(crystal("cI2-W", 1000, noise=0.05, seed=8))
    assert np.all(one_type["ordering"] == -1)  # no chemistry to order: "none"


def test_identify_ordering_on_the_command_line(tmp_path, capsys):
    path = tmp_path / "b2.gsd"
    frame = binary_crystal("B2-CsCl", 1000, noise=0.05, seed=1).frame
    with gsd.hoomd.open(str(path), "w") as trajectory:
        snapshot = gsd.hoomd.Frame()
        snapshot.configuration.box = [*frame.box.L, frame.box.xy, frame.box.xz, frame.box.yz]
        snapshot.particles.N = frame.n_particles
        snapshot.particles.position = frame.positions
        snapshot.particles.types = list(frame.type_names)
        snapshot.particles.typeid = frame.types
        trajectory.append(snapshot)
    output = tmp_path / "out.npz"
    assert main(["identify", str(path), "--ordering", "-o", str(output), "--quiet"]) == 0
    with np.load(output) as data:
        ordering = data["ordering"][0]
    assert main(["info", str(output)]) == 0
    printed = capsys.readouterr().out
    assert "B2-CsCl" in printed and "disordered" in printed
    record = json.loads(str(np.load(output)["fingerprint"]))
    names = next(item for item in record["analyzers"] if item["kind"] == "Identify")["orderings"]
    assert np.mean(np.asarray(names)[ordering] == "B2-CsCl") >= 0.95
    assert main(["process", str(path), "--ordering", "-o", str(tmp_path / "x.npz")]) == 2
    assert "--identify" in capsys.readouterr().err


def test_a_crystal_name_its_neighbors_do_not_share_is_not_given(identify):
    """A bcc environment planted in an fcc crystal (its features, the fcc particle's neighbors): alone, it is no bcc
    grain; named so without the neighbors, ``other`` with them (it is not within fcc's spread either)."""
    from simssl.library.references import Featurizer
    from simssl.neighbors import Nearest, nearest_bonds, plan_neighborhoods

    featurize = Featurizer(identify.model)
    fcc = crystal("cF4-Cu", 1000, noise=0.03, seed=2)
    features = featurize(fcc)
    features[7] = featurize(crystal("cI2-W", 1000, noise=0.03, seed=2))[7]
    spec = Nearest(12)
    vectors, neighbors = nearest_bonds(plan_neighborhoods(fcc, [spec])[spec], 12)
    names = np.asarray(identify.structure_names)
    alone = identify.library.classify(features)["structure"]
    together = identify.library.classify(features, vectors, neighbors)["structure"]
    assert names[alone[7]] == "cI2-W" and names[together[7]] == OTHER
    assert np.all(names[np.delete(together, 7)] == "cF4-Cu")


def test_the_one_object_form_reads_no_references_until_used(default_model):
    identify = Identify(default_model, progress=False)
    assert "library" not in vars(identify) and "stages" not in vars(identify)  # constructing reads no file
    assert identify.structure_names[0] == "liquid" and "library" in vars(identify)
