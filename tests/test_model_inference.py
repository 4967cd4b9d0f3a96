"""Batched inference: input kinds, chunking, determinism, unit-free bonds and clear errors."""

import numpy as np
import pytest
import torch
from model_helpers import model_for, random_neighborhoods, run

import simssl
from simssl.checkpoints import random_model
from simssl.embedding import default_batch_size
from simssl.errors import SimsslError
from simssl.frame import make_frame
from simssl.neighbors import compute_neighborhoods, model_neighborhoods


@pytest.fixture(scope="module")
def frame():
    import freud

    box, positions = freud.data.UnitCell.fcc().generate_system(3, sigma_noise=0.05, seed=1)
    return make_frame(box, positions)


def test_embed_frame_neighborhoods_and_arrays_agree(frame):
    model = random_model(0)
    neighborhoods = model_neighborhoods(frame, model.config)
    from_frame = model.embed(frame, device="cpu")
    assert from_frame.dtype == np.float32 and from_frame.shape == (frame.n_particles, model.config.dim)
    np.testing.assert_array_equal(from_frame, model.embed(neighborhoods))
    arrays = (
        neighborhoods.vectors / neighborhoods.scale,
        neighborhoods.mask,
        neighborhoods.center_types,
        neighborhoods.neighbor_types,
    )
    np.testing.assert_allclose(from_frame, model.embed(arrays), rtol=1e-6, atol=1e-6)
    tensors = [torch.as_tensor(np.asarray(a)) for a in arrays]
    on_device = model.embed(tensors, to_numpy=False)
    assert isinstance(on_device, torch.Tensor) and on_device.dtype == torch.float32
    np.testing.assert_allclose(on_device.numpy(), from_frame, rtol=1e-6, atol=1e-6)


def test_chunking_and_eval_mode_are_deterministic():
    arrays = random_neighborhoods(np.random.default_rng(0), 50, 8, max_padding=3)
    model = model_for(1, dim=16, dropout=0.5).train()
    whole = model.embed(arrays, batch_size=50)
    assert model.training  # embed restores the mode it found
    np.testing.assert_allclose(model.embed(arrays, batch_size=7), whole, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(model.embed(arrays, batch_size=50), whole)
    np.testing.assert_allclose(run(model.eval(), arrays).numpy(), whole, rtol=1e-6, atol=1e-6)


def test_bf16_autocast_is_close_to_float32():
    arrays = random_neighborhoods(np.random.default_rng(2), 20, 8)
    model = model_for(2, dim=16)
    exact = model.embed(arrays)
    approximate = model.embed(arrays, autocast="bf16")
    assert approximate.dtype == np.float32
    assert np.linalg.norm(approximate - exact) / np.linalg.norm(exact) < 0.05
    np.testing.assert_allclose(model.embed(arrays, autocast="tf32"), exact, rtol=1e-2, atol=1e-2)
    with pytest.raises(ValueError, match="autocast"):
        model.embed(arrays, autocast="fp8")


def test_default_batch_size_is_bounded():
    small, large = random_model(0).config, random_model(0, rank=3).config
    cpu = torch.device("cpu")
    assert 16 <= default_batch_size(large, cpu, 32) < default_batch_size(small, cpu, 16) <= 65536
    assert default_batch_size(small, cpu, 32) < default_batch_size(small, cpu, 16)


def test_out_of_range_types_are_clear_errors(frame):
    two_types = make_frame(frame.box, frame.positions, np.arange(frame.n_particles) % 2)
    with pytest.raises(SimsslError, match="type id 1 .* 1 particle type"):
        random_model(0, n_types=1).embed(two_types)


def test_geometry_only_models_ignore_types(frame):
    """The default kind of model (n_types=0) describes geometry: any number of types, same embeddings."""
    model = random_model(0)
    assert model.config.n_types == 0
    labelled = make_frame(frame.box, frame.positions, np.arange(frame.n_particles) % 3)
    np.testing.assert_array_equal(model.embed(labelled), model.embed(frame))


def test_particles_without_neighbors_get_zero_embedding():
    bonds, mask, center_types, neighbor_types = random_neighborhoods(np.random.default_rng(3), 3, 5)
    mask[1] = False
    bonds[1] = 0.0
    neighbor_types[1] = -1
    embedding = model_for(3, dim=8).embed((bonds, mask, center_types, neighbor_types))
    assert np.all(np.isfinite(embedding))
    np.testing.assert_array_equal(embedding[1], model_for(3, dim=8).reduction.value_out.bias.detach().numpy())


@pytest.mark.slow
def test_compiled_embedding_matches_eager(frame):
    """torch.compile (what the processor uses on large CPU frames) computes the same embeddings."""
    import warnings

    model = random_model(3, dim=8, blocks=1)
    neighborhoods = model_neighborhoods(frame, model.config)
    eager = model.embed(neighborhoods, device="cpu", batch_size=40)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # a silent fallback to eager would hide a broken compile
        compiled = model.embed(neighborhoods, device="cpu", batch_size=40, compile=True)
    np.testing.assert_allclose(compiled, eager, rtol=1e-4, atol=1e-5)


def test_neighbor_averaged_embeddings(frame):
    """average=True is the envelope-weighted mean over each particle and its neighbors (k nearest: plain mean)."""
    model = random_model(4, dim=8, blocks=1)
    neighborhoods = model_neighborhoods(frame, model.config)
    raw = model.embed(neighborhoods)
    averaged = model.embed(frame, average=True)
    assert averaged.shape == raw.shape
    i = 17
    real = neighborhoods.mask[i]
    lengths = np.linalg.norm(neighborhoods.vectors[i, real], axis=-1) / neighborhoods.scale
    x = np.clip((lengths - (model.config.cutoff - model.config.taper)) / model.config.taper, 0, 1)
    weights = 1 - (10 * x**3 - 15 * x**4 + 6 * x**5)  # the C2 smoothstep envelope, written out
    assert 0 < weights.min() < 1 == weights.max()  # some neighbors sit in the taper
    expected = (raw[i] + weights @ raw[neighborhoods.indices[i, real]]) / (1 + weights.sum())
    np.testing.assert_allclose(averaged[i], expected, rtol=1e-5, atol=1e-6)
    knn = random_model(4, dim=8, blocks=1, cutoff=None, k=12)
    nearest = compute_neighborhoods(frame, k=12)
    plain = knn.embed(nearest)
    np.testing.assert_allclose(
        knn.embed(frame, average=True)[i], (plain[i] + plain[nearest.indices[i]].sum(axis=0)) / 13, rtol=1e-5, atol=1e-6
    )
    on_device = model.embed(neighborhoods, average=True, to_numpy=False)
    np.testing.assert_allclose(on_device.numpy(), averaged, rtol=1e-5, atol=1e-6)
    assert np.var(averaged, axis=0).sum() < np.var(raw, axis=0).sum()  # averaging smooths
    with pytest.raises(SimsslError, match="neighbor indices"):
        model.embed(
            (neighborhoods.vectors, neighborhoods.mask, neighborhoods.center_types, neighborhoods.neighbor_types),
            average=True,
        )


def test_a_large_frame_is_not_compiled_by_default():
    """Issue 24 item 9: one 32k frame took 18 s compiled (64 s the first time) against 6.6 s eager; the default
    path no longer compiles, whatever the frame size (the fused kernels or the torch code run as they are)."""
    from simssl.library.structures import crystal

    model = simssl.load_model("random")
    model.embed(crystal("cF4-Cu", 21000, noise=0.05, seed=1))  # above the old 20,000-particle threshold
    assert "_compiled_forward" not in model.__dict__
