"""The fused C kernels (simssl.native) compute what the torch code and the definitions compute.

Every comparison runs the same inputs through both paths: the kernels (the default on the CPU) and
the torch code (``SIMSSL_NATIVE=0``, the path of training, GPUs and machines without a C compiler),
or a float64 implementation of the definition written out here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import freud
import numpy as np
import pytest
import torch
from crystals import noisy_fcc
from model_helpers import random_neighborhoods
from scipy.special import sph_harm_y

import simssl
from simssl import native
from simssl.checkpoints import random_model
from simssl.defaults import SHELL_DEGREES, SHELL_RADII, SHELL_TAPER
from simssl.neighbors import compute_neighborhoods, model_neighborhoods
from simssl.shells import ShellSpectra
from simssl.smooth import envelope

#: relative difference allowed between the kernels and the torch code or the float64 definition (float32 round-off)
EQUAL = 1e-5

pytestmark = pytest.mark.skipif(native.library() is None, reason="no C compiler: the fused kernels are not built")


@pytest.fixture(params=["kernels", "torch"])
def path(request, monkeypatch):
    """Run the test body with the fused kernels, and again with the torch code."""
    if request.param == "torch":
        monkeypatch.setenv("SIMSSL_NATIVE", "0")
    return request.param


def relative(values: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Per row ||values - reference|| / ||reference||."""
    return np.linalg.norm(values - reference, axis=1) / np.linalg.norm(reference, axis=1)


def definition_spectra(frame, radii, degrees, taper) -> np.ndarray:
    """Shell spectra by their definition in float64: scipy's complex harmonics, windows, hop, invariants.

    (Complex and real harmonics give the same invariants: the change of basis is unitary, and the
    hop is linear.)
    """
    hood = compute_neighborhoods(frame, cutoff=max(radii))
    bonds = hood.vectors.astype(np.float64) / hood.scale
    lengths = np.linalg.norm(bonds, axis=-1)
    theta = np.arccos(np.clip(bonds[..., 2] / np.maximum(lengths, 1e-12), -1, 1))
    phi = np.arctan2(bonds[..., 1], bonds[..., 0])
    neighbors = np.maximum(hood.indices, 0)
    spectra = np.empty((frame.n_particles, len(radii), len(degrees), 2))
    for c, radius in enumerate(radii):
        weights = envelope(lengths, radius, taper) * hood.mask
        norm = 1 + weights.sum(1)
        for d, l in enumerate(degrees):
            harmonics = sph_harm_y(l, np.arange(-l, l + 1)[None, None], theta[..., None], phi[..., None])
            raw = (weights[..., None] * harmonics).sum(1) / norm[:, None]
            averaged = (raw + (weights[..., None] * raw[neighbors]).sum(1)) / norm[:, None]
            for column, values in enumerate((raw, averaged)):
                spectra[:, c, d, column] = np.sqrt(4 * np.pi / (2 * l + 1) * (np.abs(values) ** 2).sum(1))
    return spectra.reshape(frame.n_particles, -1)


@pytest.mark.parametrize("periodic", [True, False])
def test_shell_spectra_match_the_float64_definition(path, periodic):
    """The shipped model's windows and degrees, bulk and a floating ball (surface particles lack neighbors)."""
    box, positions = noisy_fcc(5, 0.08, seed=3)
    frame = (
        simssl.make_frame(box, positions)
        if periodic
        else simssl.make_frame(None, positions[np.linalg.norm(positions, axis=1) < 3.3], periodic=False)
    )
    hood = compute_neighborhoods(frame, cutoff=max(SHELL_RADII))
    spectra = ShellSpectra(frame.n_particles, hood.scale)
    assert spectra.native == (path == "kernels")
    spectra.add(hood.vectors, hood.indices)
    expected = definition_spectra(frame, SHELL_RADII, SHELL_DEGREES, SHELL_TAPER)
    assert relative(spectra.spectra(), expected).max() <= EQUAL


def test_the_shipped_model_embeds_as_its_torch_layers_do(monkeypatch):
    """End to end from a Frame: queries, spectra and encoder by the kernels against the torch code."""
    model = simssl.load_model()
    frame = simssl.make_frame(*noisy_fcc(10, 0.1, seed=7))
    bonds = torch.from_numpy(model_neighborhoods(frame, model.config).vectors[:2])
    assert model.fused(bonds)
    fused = model.embed(frame)
    monkeypatch.setenv("SIMSSL_NATIVE", "0")
    assert not model.fused(bonds)
    reference = model.embed(frame)
    assert relative(fused, reference).max() <= EQUAL


@pytest.mark.parametrize(
    "config",
    [
        dict(activation="smooth_relu", dim=16, blocks=1, score_hidden=8),  # padded score units
        dict(activation="silu", dim=48, hidden=20, blocks=2),  # padded value units, three lanes of features
        dict(activation="gelu", dim=16, blocks=1, n_types=2),  # typed start features
        dict(activation="tanh", dim=32, blocks=1, score_hidden=32, hidden=64),
        dict(activation="relu", dim=32),  # the default model's widths, compiled as a copy of their own
    ],
)
def test_fused_layers_match_the_torch_layers(config):
    """Every activation, padded and unpadded widths; neighborhoods with padding and bonds beyond the cutoff."""
    model = random_model(3, **config)
    rng = np.random.default_rng(4)
    bonds, mask, center, neighbor = random_neighborhoods(rng, 60, 21, n_types=2, max_padding=6)
    bonds[:, :3] *= 1.1  # some bonds in the envelope's fall, some (>= 1.5) at weight 0
    inputs = [torch.from_numpy(a) for a in (bonds.astype(np.float32), mask, center, neighbor)]
    with torch.no_grad():
        assert model.fused(inputs[0])
        fused = model(*inputs).numpy()
        with torch.enable_grad():  # the torch code: what training differentiates
            reference = model(*inputs)
        assert reference.requires_grad
    assert relative(fused, reference.detach().numpy()).max() <= EQUAL


def pairs(counts: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(b, 2) (query particle, neighbor) of bonds grouped by query particle."""
    return np.stack([np.repeat(np.arange(len(counts)), counts), points], axis=1)


def sorted_bonds(bond_pairs: np.ndarray, vectors: np.ndarray):
    order = np.lexsort((bond_pairs[:, 1], bond_pairs[:, 0]))
    return bond_pairs[order], vectors[order]


def fcc_frame():
    box, positions = noisy_fcc(6, 0.05, seed=1)
    return box, positions, 1.9


def triclinic():
    box = freud.box.Box(10, 11, 12, 0.3, -0.2, 0.5)
    return box, box.wrap(np.random.default_rng(0).uniform(-6, 6, (3000, 3))).astype(np.float32), 2.3


def two_cells_across():
    box = freud.box.Box(5, 5, 5, 0.1, 0, 0)
    return box, box.wrap(np.random.default_rng(1).uniform(-3, 3, (500, 3))).astype(np.float32), 1.9


def cluster_in_a_huge_box():
    box = freud.box.Box.cube(1000)
    positions = np.random.default_rng(2).normal(size=(2000, 3)) * 5 + 499  # across the periodic boundary
    return box, box.wrap(positions).astype(np.float32), 1.5


@pytest.mark.parametrize("system", [fcc_frame, triclinic, two_cells_across, cluster_in_a_huge_box])
def test_cell_list_finds_freuds_bonds(system):
    box, positions, r_max = system()
    cells = native.CellList(box.to_matrix(), positions, r_max)
    counts, points, vectors = cells.query(0, len(positions))
    nlist = (
        freud.locality.AABBQuery(box, positions).query(positions, dict(r_max=r_max, exclude_ii=True)).toNeighborList()
    )
    mine = sorted_bonds(pairs(counts, points), vectors)
    theirs = sorted_bonds(np.stack([nlist.query_point_indices, nlist.point_indices], axis=1), nlist.vectors)
    assert len(mine[0]) == len(theirs[0]) > len(positions)
    np.testing.assert_array_equal(mine[0], theirs[0])
    np.testing.assert_allclose(mine[1], theirs[1], atol=1e-6 * r_max)
    part = cells.query(100, 300)  # any range of query particles
    np.testing.assert_array_equal(part[0], counts[100:300])
    np.testing.assert_array_equal(part[1], points[counts[:100].sum() : counts[:300].sum()])


RUN = """
import warnings, numpy as np, simssl
from simssl import native
from simssl.library.structures import crystal
warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    library = native.library()
frame = crystal("cF4-Cu", 500, noise=0.05, seed=1)
np.save({out!r}, simssl.load_model().embed(frame))
print(library is not None, [str(w.message) for w in caught])
"""


def run_python(tmp_path: Path, name: str, **environment) -> tuple[str, np.ndarray]:
    """stdout of :data:`RUN` in a fresh interpreter with ``environment`` added, and the embeddings it saved."""
    out = tmp_path / f"{name}.npy"
    done = subprocess.run(
        [sys.executable, "-c", RUN.format(out=str(out))],
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout, np.load(out)


@pytest.mark.slow
def test_built_once_per_cache_and_without_a_compiler_the_torch_code_runs(tmp_path):
    cache = tmp_path / "cache"
    first, embedded = run_python(tmp_path, "first", SIMSSL_CACHE_DIR=str(cache))
    assert first.startswith("True []")
    built = sorted(cache.glob("native-*.so"))
    assert len(built) == 2 and not list(cache.glob(".*"))  # spectra and queries, the model's layers; no temporary
    stamps = [library.stat().st_mtime_ns for library in built]
    again, _ = run_python(tmp_path, "again", SIMSSL_CACHE_DIR=str(cache))
    assert again.startswith("True []") and sorted(cache.glob("native-*.so")) == built  # loaded, not rebuilt
    assert [library.stat().st_mtime_ns for library in built] == stamps
    message, fallback = run_python(tmp_path, "none", SIMSSL_CACHE_DIR=str(tmp_path / "empty"), CC="false")
    assert message.startswith("False") and "could not be built" in message and "torch code runs" in message
    assert relative(embedded, fallback).max() <= EQUAL
