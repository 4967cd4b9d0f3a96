"""Covariant and gradient outputs rotate exactly with the input (R u, R T R^T); gradients pass gradcheck."""

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st
from model_helpers import (
    PROPERTY,
    TOLERANCE,
    as_tensors,
    model_for,
    random_neighborhoods,
    random_rotation,
    relative_error,
    run,
)

from simssl.embedding import equivariant

DTYPES = st.sampled_from([torch.float32, torch.float64])
ACTIVATIONS = st.sampled_from(["relu", "smooth_relu", "silu"])


def _rotated(rng, arrays):
    rotation = random_rotation(rng)
    bonds, *rest = arrays
    return rotation, (bonds @ rotation.T, *rest)


@PROPERTY
@given(seed=st.integers(0, 2**32 - 1), dtype=DTYPES, activation=ACTIVATIONS, normalize=st.booleans())
def test_covariant_head_rotates_with_input(seed, dtype, activation, normalize):
    rng = np.random.default_rng(seed)
    arrays = random_neighborhoods(rng, 5, int(rng.integers(3, 10)), max_padding=2)
    model = model_for(
        seed, dtype, dim=16, blocks=1, vector_outputs=3, activation=activation, normalize_products=normalize
    )
    rotation, rotated = _rotated(rng, arrays)
    vectors = run(model, arrays, dtype, model.vectors).numpy()
    assert vectors.shape == (5, 3, 3)
    assert relative_error(vectors @ rotation.T, run(model, rotated, dtype, model.vectors)) <= TOLERANCE[dtype]


@PROPERTY
@given(seed=st.integers(0, 2**32 - 1), dtype=DTYPES, activation=ACTIVATIONS, rank=st.sampled_from([2, 3]))
def test_gradient_outputs_rotate_with_input(seed, dtype, activation, rank):
    rng = np.random.default_rng(seed)
    arrays = random_neighborhoods(rng, 5, int(rng.integers(3, 8)), max_padding=2)
    model = model_for(seed, dtype, dim=16, blocks=1, rank=rank, gradient_outputs=2, activation=activation)
    rotation, rotated = _rotated(rng, arrays)
    before = run(model, arrays, dtype, model.equivariant_outputs)
    after = run(model, rotated, dtype, model.equivariant_outputs)
    u, t = before["vectors"].numpy(), before["tensors"].numpy()
    assert u.shape == (5, 2, 3) and t.shape == (5, 2, 3, 3)
    assert relative_error(before["scalars"], after["scalars"]) <= TOLERANCE[dtype]
    assert relative_error(u @ rotation.T, after["vectors"]) <= TOLERANCE[dtype]
    assert relative_error(rotation @ t @ rotation.T, after["tensors"]) <= TOLERANCE[dtype]


def test_gradient_tensor_is_symmetric_before_symmetrization():
    """sum_j r_j (x) dz/dr_j is symmetric for any rotation-invariant z: a check of invariance itself."""
    rng = np.random.default_rng(5)
    arrays = random_neighborhoods(rng, 4, 8, max_padding=2)
    model = model_for(5, torch.float64, dim=16, gradient_outputs=1, activation="silu")
    bonds, mask, center_types, neighbor_types = as_tensors(arrays, torch.float64)
    bonds.requires_grad_(True)
    z = model.gradient_head(model(bonds, mask, center_types, neighbor_types)).sum()
    (grad,) = torch.autograd.grad(z, bonds)
    raw = torch.einsum("bkx,bky->bxy", bonds, grad)
    assert torch.allclose(raw, raw.transpose(1, 2), atol=1e-12)
    assert torch.all(grad[~mask] == 0)  # padded bonds get exactly zero gradient


def test_gradcheck_float64():
    rng = np.random.default_rng(1)
    arrays = random_neighborhoods(rng, 2, 4, n_types=2, max_padding=1)
    model = model_for(
        1, torch.float64, dim=8, blocks=1, n_types=2, activation="silu", normalize_products=True, vector_outputs=1
    )
    bonds, mask, center_types, neighbor_types = as_tensors(arrays, torch.float64)
    bonds.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda b: model(b, mask, center_types, neighbor_types), (bonds,))
    assert torch.autograd.gradcheck(lambda b: model.vectors(b, mask, center_types, neighbor_types), (bonds,))
    weight = model.reduction.value_in.invariant
    assert torch.autograd.gradcheck(
        lambda w: torch.func.functional_call(
            model, {"reduction.value_in.invariant": w}, (bonds.detach(), mask, center_types, neighbor_types)
        ),
        (weight.detach().clone().requires_grad_(True),),
    )


def test_gradient_outputs_backpropagate_to_weights():
    """In training mode the gradient outputs keep their graph, so losses on u and T train the encoder."""
    rng = np.random.default_rng(2)
    model = model_for(2, torch.float64, dim=8, blocks=1, gradient_outputs=1, activation="smooth_relu").train()
    outputs = model.equivariant_outputs(*as_tensors(random_neighborhoods(rng, 3, 5), torch.float64))
    (outputs["vectors"].square().sum() + outputs["tensors"].square().sum()).backward()
    assert model.blocks[0].attention.value_in.bond.weight.grad.abs().sum() > 0


def test_batched_equivariant_outputs_match_direct_call():
    rng = np.random.default_rng(3)
    arrays = random_neighborhoods(rng, 9, 6, max_padding=2)
    model = model_for(3, torch.float32, dim=8, blocks=1, gradient_outputs=2)
    direct = run(model, arrays, torch.float32, model.equivariant_outputs)
    batched = equivariant(model, arrays, device="cpu", batch_size=4)
    for name in ("scalars", "vectors", "tensors"):
        assert batched[name].dtype == np.float32
        np.testing.assert_allclose(batched[name], direct[name].numpy(), rtol=1e-5, atol=1e-6)
