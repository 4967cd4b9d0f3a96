"""Property tests: embeddings are invariant under rotations, permutations, translations, periodic images and padding.

Random neighborhoods and random weights (hypothesis draws the seeds); relative error <= 1e-5 in
float32 and <= 1e-10 in float64. Reflections: rank 2 is mirror-invariant; at rank 3 mirror images
of chiral neighborhoods differ (pseudoscalar) while achiral ones are unchanged.
"""

import freud
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from model_helpers import PROPERTY, TOLERANCE, model_for, random_neighborhoods, random_rotation, relative_error, run

from simssl.checkpoints import random_model
from simssl.frame import make_frame

DTYPES = st.sampled_from([torch.float32, torch.float64])
CONFIGS = st.fixed_dictionaries(
    {
        "rank": st.sampled_from([2, 2, 3]),
        "normalize_products": st.booleans(),
        "activation": st.sampled_from(["relu", "smooth_relu", "silu"]),
        "n_types": st.integers(1, 3),
        "blocks": st.integers(0, 2),
        "dim": st.sampled_from([8, 16]),
    }
)


def _setup(seed, config, n=6, max_padding=3):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(4, 9 if config["rank"] == 3 else 13))
    arrays = random_neighborhoods(rng, n, k, config["n_types"], max_padding)
    return rng, arrays


@PROPERTY
@given(seed=st.integers(0, 2**32 - 1), config=CONFIGS, dtype=DTYPES)
def test_rotation_invariance(seed, config, dtype):
    rng, arrays = _setup(seed, config)
    model = model_for(seed, dtype, **config)
    bonds, *rest = arrays
    rotated = (bonds @ random_rotation(rng).T, *rest)
    assert relative_error(run(model, arrays, dtype), run(model, rotated, dtype)) <= TOLERANCE[dtype]


@PROPERTY
@given(seed=st.integers(0, 2**32 - 1), config=CONFIGS, dtype=DTYPES)
def test_neighbor_permutation_invariance(seed, config, dtype):
    rng, arrays = _setup(seed, config)
    model = model_for(seed, dtype, **config)
    order = np.argsort(rng.random(arrays[1].shape), axis=1)  # an independent shuffle per particle (padding too)
    bonds, mask, center_types, neighbor_types = arrays
    shuffled = (
        np.take_along_axis(bonds, order[..., None], 1),
        np.take_along_axis(mask, order, 1),
        center_types,
        np.take_along_axis(neighbor_types, order, 1),
    )
    assert relative_error(run(model, arrays, dtype), run(model, shuffled, dtype)) <= TOLERANCE[dtype]


@PROPERTY
@given(seed=st.integers(0, 2**32 - 1), config=CONFIGS, dtype=DTYPES, extra=st.integers(1, 4))
def test_padding_changes_nothing(seed, config, dtype, extra):
    """Appending masked dummy neighbors (with garbage vectors and types) leaves every embedding unchanged."""
    rng, arrays = _setup(seed, config)
    model = model_for(seed, dtype, **config)
    bonds, mask, center_types, neighbor_types = arrays
    n = len(bonds)
    padded = (
        np.concatenate([bonds, rng.normal(size=(n, extra, 3)) * 5], 1),
        np.concatenate([mask, np.zeros((n, extra), bool)], 1),
        center_types,
        np.concatenate([neighbor_types, rng.integers(0, config["n_types"], size=(n, extra))], 1),
    )
    assert relative_error(run(model, arrays, dtype), run(model, padded, dtype)) <= TOLERANCE[dtype]


@PROPERTY
@given(seed=st.integers(0, 2**32 - 1), config=CONFIGS, dtype=DTYPES)
def test_batch_composition_changes_nothing(seed, config, dtype):
    """A particle's embedding does not depend on which other particles share its batch."""
    _, arrays = _setup(seed, config)
    model = model_for(seed, dtype, **config)
    whole = run(model, arrays, dtype)
    halves = np.concatenate([run(model, [a[:3] for a in arrays], dtype), run(model, [a[3:] for a in arrays], dtype)])
    assert relative_error(whole, halves) <= TOLERANCE[dtype]


def _mirrored(arrays):
    bonds, *rest = arrays
    return (bonds * np.array([-1.0, 1.0, 1.0]), *rest)


@PROPERTY
@given(seed=st.integers(0, 2**32 - 1), dtype=DTYPES)
def test_rank2_is_reflection_invariant(seed, dtype):
    rng, arrays = _setup(seed, {"rank": 2, "n_types": 1})
    model = model_for(seed, dtype, rank=2)
    assert relative_error(run(model, arrays, dtype), run(model, _mirrored(arrays), dtype)) <= TOLERANCE[dtype]


@PROPERTY
@given(seed=st.integers(0, 2**32 - 1))
def test_rank3_sees_handedness_of_chiral_neighborhoods_only(seed):
    dtype = torch.float64
    rng = np.random.default_rng(seed)
    model = model_for(seed, dtype, rank=3, dim=16)
    chiral = random_neighborhoods(rng, 4, 6)
    # mirror images differ by far more than float64 round-off (a random model's sensitivity varies with the seed)
    assert relative_error(run(model, chiral, dtype), run(model, _mirrored(chiral), dtype)) > 1e-6
    # an achiral neighborhood (symmetric under x -> -x) is a permutation of its own mirror image
    half = rng.normal(size=(4, 3, 3))
    achiral = (
        np.concatenate([half, half * np.array([-1.0, 1.0, 1.0])], 1),
        np.ones((4, 6), bool),
        np.zeros(4, int),
        np.zeros((4, 6), int),
    )
    assert relative_error(run(model, achiral, dtype), run(model, _mirrored(achiral), dtype)) <= TOLERANCE[dtype]


# --- whole frames through simssl.neighbors: particle permutations, translations, periodic images ---


def _gas_frame(seed, n=320):
    """A random periodic configuration (no exact distance ties) with two particle types."""
    rng = np.random.default_rng(seed)
    box = freud.box.Box(8.0, 9.0, 10.0, 0.2, 0.1, 0.0)
    positions = box.make_absolute(rng.random((n, 3)))
    return box, positions, rng.integers(0, 2, n)


@pytest.fixture(scope="module")
def frame_model():
    return random_model(3, n_types=2).double()


def _embed(model, box, positions, types):
    return model.embed(make_frame(box, positions, types), device="cpu")


@pytest.mark.parametrize("seed", [0, 1])
def test_particle_permutation_translation_and_periodic_images(frame_model, seed):
    box, positions, types = _gas_frame(seed)
    reference = _embed(frame_model, box, positions, types)
    rng = np.random.default_rng(seed + 100)
    order = rng.permutation(len(positions))
    assert relative_error(reference[order], _embed(frame_model, box, positions[order], types[order])) <= 1e-5
    shifted = positions + rng.normal(size=3) * 3
    assert relative_error(reference, _embed(frame_model, box, shifted, types)) <= 1e-5
    images = positions + rng.integers(-2, 3, size=(len(positions), 3)) @ box.to_matrix().T  # whole box vectors
    assert relative_error(reference, _embed(frame_model, box, images, types)) <= 1e-5


def test_embedding_is_unit_free(frame_model):
    """Scaling a whole frame (box and positions) leaves embeddings unchanged: bonds are divided by the frame's scale."""
    box, positions, types = _gas_frame(2)
    scaled_box = freud.box.Box(*(2.5 * np.array([box.Lx, box.Ly, box.Lz])), box.xy, box.xz, box.yz)
    assert (
        relative_error(
            _embed(frame_model, box, positions, types), _embed(frame_model, scaled_box, 2.5 * positions, types)
        )
        <= 1e-5
    )
