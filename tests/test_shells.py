"""Shell spectra (the encoder's second hop): correct harmonics, correct spectra, one query, models that read them."""

from __future__ import annotations

import math
from dataclasses import replace

import freud
import numpy as np
import pytest
import torch
from crystals import noisy_fcc
from model_helpers import random_rotation
from scipy.special import sph_harm_y

import simssl
from simssl.checkpoints import random_model
from simssl.defaults import SHELL_DEGREES, SHELL_RADII, SHELL_TAPER
from simssl.errors import SimsslError
from simssl.neighbors import compute_neighborhoods, model_inputs, model_neighborhoods, reads
from simssl.shells import ShellSpectra, real_harmonics, shell_spectra, spectrum_width
from simssl.smooth import envelope


def unit_vectors(n: int, seed: int) -> torch.Tensor:
    vectors = torch.from_numpy(np.random.default_rng(seed).normal(size=(n, 3)))
    return vectors / vectors.norm(dim=1, keepdim=True)


def fcc(cells: int, sigma: float, seed: int = 0):
    """A noisy FCC Frame (invariance, ties and smoothness of shell models are in test_continuity.py)."""
    return simssl.make_frame(*noisy_fcc(cells, sigma, seed))


def test_harmonics_are_orthonormal_and_match_scipy():
    unit = unit_vectors(500, 0)
    harmonics = real_harmonics(unit, SHELL_DEGREES)
    assert harmonics.shape == (sum(2 * l + 1 for l in SHELL_DEGREES), 500)
    theta, phi = torch.arccos(unit[:, 2]).numpy(), torch.atan2(unit[:, 1], unit[:, 0]).numpy()
    offset = 0
    for l in SHELL_DEGREES:
        rows = harmonics[offset : offset + 2 * l + 1]
        # the addition theorem: sum_m Y_lm(u)^2 = (2l + 1) / 4 pi for every unit vector
        np.testing.assert_allclose((rows**2).sum(0).numpy(), (2 * l + 1) / (4 * math.pi), rtol=1e-12)
        # power spectrum of a sum of 30 bonds: the same as with scipy's complex harmonics
        complex_sum = sph_harm_y(l, np.arange(-l, l + 1)[None], theta[:30, None], phi[:30, None]).sum(0)
        np.testing.assert_allclose(
            float((rows[:, :30].sum(1) ** 2).sum()), np.sum(np.abs(complex_sum) ** 2), rtol=1e-10
        )
        offset += 2 * l + 1


def test_power_spectrum_is_rotation_invariant_and_degree_by_degree():
    unit = unit_vectors(40, 1)
    turned = unit @ torch.from_numpy(random_rotation(np.random.default_rng(2))).T
    before, after = real_harmonics(unit, (4, 6)).sum(1), real_harmonics(turned, (4, 6)).sum(1)
    for rows in (slice(0, 9), slice(9, 22)):
        assert float((before[rows] ** 2).sum()) == pytest.approx(float((after[rows] ** 2).sum()), rel=1e-12)
    assert not torch.allclose(before, after)  # the coefficients themselves rotate


def brute_force_spectra(frame, radii, degrees, taper, max_neighbors=None):
    """The spectra by the definition, with scipy's harmonics and explicit loops over windows and degrees."""
    hood = compute_neighborhoods(frame, cutoff=max(radii), max_neighbors=max_neighbors)
    bonds = hood.vectors / hood.scale
    lengths = np.linalg.norm(bonds, axis=-1)
    theta = np.arccos(np.clip(bonds[..., 2] / np.maximum(lengths, 1e-12), -1, 1))
    phi = np.arctan2(bonds[..., 1], bonds[..., 0])
    neighbors = np.maximum(hood.indices, 0)
    columns = []
    for radius in radii:
        weights = envelope(lengths, radius, taper) * hood.mask
        norm = 1 + weights.sum(1)
        for l in degrees:
            harmonics = sph_harm_y(l, np.arange(-l, l + 1)[None, None], theta[..., None], phi[..., None])
            raw = (weights[..., None] * harmonics).sum(1) / norm[:, None]
            averaged = (raw + (weights[..., None] * raw[neighbors]).sum(1)) / norm[:, None]
            for values in (raw, averaged):
                columns.append(np.sqrt(4 * np.pi / (2 * l + 1) * (np.abs(values) ** 2).sum(1)))
    return np.stack(columns, axis=1)


def test_spectra_match_their_definition():
    frame = fcc(5, 0.08, seed=3)
    radii, degrees = (1.2, 1.9), (3, 6, 12)
    spectra = shell_spectra(compute_neighborhoods(frame, cutoff=1.9), radii, degrees, SHELL_TAPER)
    assert spectra.shape == (frame.n_particles, spectrum_width(radii, degrees)) and spectra.dtype == np.float32
    np.testing.assert_allclose(spectra, brute_force_spectra(frame, radii, degrees, SHELL_TAPER), atol=2e-6)


def test_perfect_fcc_first_window_is_steinhardt_q6():
    """The 1.2 window of perfect FCC holds exactly its 12 nearest, each at weight g: q_l x 12 g / (1 + 12 g)."""
    frame = fcc(4, 0.0)
    spectra = shell_spectra(compute_neighborhoods(frame, cutoff=1.9), (1.2,), (4, 6), SHELL_TAPER)
    nlist = (
        freud.locality.AABBQuery(frame.box, frame.positions)
        .query(frame.positions, dict(num_neighbors=12, exclude_ii=True))
        .toNeighborList()
    )
    q = freud.order.Steinhardt(l=[4, 6]).compute((frame.box, frame.positions), neighbors=nlist).particle_order
    weight = float(envelope(np.float64(1.0), 1.2, SHELL_TAPER))  # the nearest-neighbor distance is the length unit here
    assert 0.5 < weight < 1
    np.testing.assert_allclose(spectra[:, [0, 2]], q * 12 * weight / (1 + 12 * weight), rtol=1e-5)
    # every site of a perfect crystal is the same: raw and averaged spectra tie exactly across particles
    assert np.ptp(spectra, axis=0).max() < 1e-5


def test_spectra_need_a_wide_enough_query():
    frame = fcc(4, 0.0)
    with pytest.raises(ValueError, match="cutoff query at least as wide"):
        shell_spectra(compute_neighborhoods(frame, cutoff=1.5), SHELL_RADII)
    with pytest.raises(ValueError, match="bonds of 0 were added"):
        ShellSpectra(frame.n_particles, 1.0).spectra()


def by_neighbor(hood):
    """(indices, vectors) with each row's bonds sorted by neighbor index (padding last)."""
    order = np.argsort(np.where(hood.mask, hood.indices, hood.n_particles), axis=1)
    return np.take_along_axis(hood.indices, order, 1), np.take_along_axis(hood.vectors, order[..., None], 1)


@pytest.mark.parametrize("periodic", [True, False])
def test_one_query_block_by_block_gives_the_spectra_and_the_encoders_own_query(monkeypatch, shell_model, periodic):
    """model_neighborhoods reads one wide query a few particles at a time (neighborhoods span blocks, both
    nearest-neighbor caps bite): the spectra are those of the definition, the bonds those of the encoder's own query."""
    box, positions = noisy_fcc(5, 0.1, seed=4)
    if periodic:
        frame = simssl.make_frame(box, positions)
    else:  # a floating ball: surface particles have fewer neighbors
        frame = simssl.make_frame(None, positions[np.linalg.norm(positions, axis=1) < 3.3], periodic=False)
    monkeypatch.setattr("simssl.neighbors.QUERY_CHUNK", 37)
    monkeypatch.setattr("simssl.shells.CHUNK", 11)
    monkeypatch.setattr("simssl.neighbors.SHELL_MAX_NEIGHBORS", 30)  # of FCC's 42 within 1.9
    config = replace(shell_model.config, max_neighbors=14)  # of FCC's 18 within 1.5
    hood = model_neighborhoods(frame, config)
    expected = brute_force_spectra(frame, config.shells, config.shell_degrees, config.shell_taper, max_neighbors=30)
    np.testing.assert_allclose(hood.shells, expected, atol=2e-6)
    direct = compute_neighborhoods(frame, cutoff=config.cutoff, max_neighbors=14)
    assert hood.cutoff == direct.cutoff == config.cutoff and hood.scale == direct.scale and hood.k == direct.k == 14
    assert hood.mask.all() == periodic  # the ball's surface particles have fewer than 14 within 1.5
    for mine, theirs in zip(by_neighbor(hood), by_neighbor(direct)):  # rows list neighbors in any order
        np.testing.assert_array_equal(mine, theirs)
    assert not np.any(hood.vectors[~hood.mask]) and np.all(hood.indices[~hood.mask] == -1)
    np.testing.assert_array_equal(hood.neighbor_types, np.where(hood.mask, 0, -1))


@pytest.fixture(scope="module")
def shell_model():
    return random_model(0, dim=16, blocks=1, shells=SHELL_RADII)


def test_a_shell_model_reads_its_spectra(shell_model):
    frame = fcc(5, 0.05, seed=5)
    hood = model_neighborhoods(frame, shell_model.config)
    assert hood.shells.shape == (frame.n_particles, shell_model.config.n_shell_features)
    assert reads(hood, shell_model.config, exact=True)
    assert not reads(compute_neighborhoods(frame, cutoff=1.5), shell_model.config)
    embeddings = shell_model.embed(frame)
    np.testing.assert_array_equal(shell_model.embed(hood), embeddings)
    # the spectra matter: the same bonds with other spectra give other embeddings
    bonds, mask, center, neighbor, shells = model_inputs(hood)
    changed = shell_model.embed((bonds, mask, center, neighbor, shells[::-1].copy()))
    assert np.abs(changed - embeddings).max() > 1e-3
    with pytest.raises(SimsslError, match="shell-spectrum columns"):
        shell_model.embed((bonds, mask, center, neighbor))
    with pytest.raises(SimsslError, match="not the ones the model reads"):
        shell_model.embed(compute_neighborhoods(frame, cutoff=1.5))
    with pytest.raises(ValueError, match="shell-spectrum columns"):
        shell_model(
            torch.from_numpy(bonds), torch.from_numpy(mask), torch.from_numpy(center), torch.from_numpy(neighbor)
        )


def test_gradient_outputs_refuse_shells():
    with pytest.raises(ValueError, match="gradient_outputs"):
        random_model(0, shells=SHELL_RADII, gradient_outputs=2)
