"""GA products and invariants: algebraic identities, safe gradients, and the reference package as an oracle."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from model_helpers import PROPERTY, random_rotation

from simssl.model import ga

MIRROR = np.diag([-1.0, 1.0, 1.0])


def _vectors(seed, *shape):
    return torch.as_tensor(np.random.default_rng(seed).normal(size=shape + (3,)), dtype=torch.float64)


@PROPERTY
@given(seed=st.integers(0, 2**32 - 1))
def test_pair_product_identities(seed):
    a, b = _vectors(seed, 2, 7).unbind(0)
    p = ga.product_vv(a, b)
    # scalar part is the dot product, bivector dual is the cross product, |ab| = |a||b|
    assert torch.allclose(p[..., 0], (a * b).sum(-1))
    assert torch.allclose(ga.bivector_dual(p), torch.linalg.cross(a, b))
    assert torch.allclose(ga.safe_norm(p), ga.safe_norm(a) * ga.safe_norm(b))
    # ba is the reverse of ab: same scalar, opposite bivector
    q = ga.product_vv(b, a)
    assert torch.allclose(q[..., 0], p[..., 0]) and torch.allclose(q[..., 1:], -p[..., 1:])


@PROPERTY
@given(seed=st.integers(0, 2**32 - 1))
def test_triplet_product_identities_and_handedness(seed):
    a, b, c = _vectors(seed, 3, 5).unbind(0)
    q = ga.product_ev(ga.product_vv(a, b), c)
    vector = (a * b).sum(-1, keepdim=True) * c - (a * c).sum(-1, keepdim=True) * b + (b * c).sum(-1, keepdim=True) * a
    assert torch.allclose(q[..., :3], vector)
    assert torch.allclose(q[..., 3], torch.linalg.det(torch.stack([a, b, c], -2)))
    mirror = torch.as_tensor(MIRROR)
    mirrored = ga.odd_invariants(ga.product_ev(ga.product_vv(a @ mirror, b @ mirror), c @ mirror))
    assert torch.allclose(mirrored[..., 0], ga.odd_invariants(q)[..., 0])  # |vector| is a true scalar
    assert torch.allclose(mirrored[..., 1], -q[..., 3])  # the trivector is a pseudoscalar


@PROPERTY
@given(seed=st.integers(0, 2**32 - 1), normalize=st.booleans())
def test_invariants_are_rotation_invariant(seed, normalize):
    rng = np.random.default_rng(seed)
    bonds = _vectors(seed, 2, 5)
    rotated = bonds @ torch.as_tensor(random_rotation(rng)).T
    for invariants in (ga.pair_invariants, ga.triplet_invariants):
        assert torch.allclose(invariants(bonds, normalize), invariants(rotated, normalize), atol=1e-12)


def test_normalized_pair_invariants_are_cosine_and_sine():
    bonds = _vectors(0, 1, 4)
    inv = ga.pair_invariants(bonds, normalize=True)
    assert inv.shape == (1, 4, 4, 4)
    assert torch.allclose(inv[..., 2] ** 2 + inv[..., 3] ** 2, torch.ones(1, 4, 4, dtype=torch.float64))


def test_zero_length_bonds_have_finite_gradients():
    bonds = torch.zeros(1, 3, 3, dtype=torch.float64)
    bonds[0, 0] = torch.tensor([1.0, 2.0, 0.5])
    bonds.requires_grad_(True)
    total = (
        ga.bond_invariants(bonds).sum()
        + ga.pair_invariants(bonds, normalize=True).sum()
        + ga.triplet_invariants(bonds, normalize=True).sum()
    )
    (grad,) = torch.autograd.grad(total, bonds)
    assert torch.isfinite(grad).all()


def test_gradcheck_invariants():
    bonds = _vectors(3, 2, 4).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda b: ga.pair_invariants(b, normalize=True), (bonds,))
    assert torch.autograd.gradcheck(lambda b: ga.triplet_invariants(b, normalize=True), (bonds,))


# --- independent oracle: the geometric-algebra-attention package (Spellings' reference code) ---


@PROPERTY
@given(seed=st.integers(0, 2**32 - 1))
def test_products_match_reference_package(seed):
    reference = pytest.importorskip("geometric_algebra_attention.pytorch").geometric_algebra
    a, b, c = _vectors(seed, 3, 6).unbind(0)
    p = ga.product_vv(a, b)
    assert torch.allclose(p, reference.vecvec(a, b))
    assert torch.allclose(ga.even_invariants(p), reference.vecvec_invariants(reference.vecvec(a, b)))
    assert torch.allclose(ga.bivector_dual(p), reference.vecvec_covariants(p))
    q = ga.product_ev(p, c)
    assert torch.allclose(q, reference.bivecvec(reference.vecvec(a, b), c))
    assert torch.allclose(ga.odd_invariants(q), reference.bivecvec_invariants(q))


def _reference_tuple_invariants(bonds, rank, normalize):
    """Invariants the reference VectorAttention layer feeds its value network (invariant_mode='full')."""
    reference = pytest.importorskip("geometric_algebra_attention.pytorch")
    seen = []

    def value_net(invariants):
        seen.append(invariants)
        return torch.zeros(invariants.shape[:-1] + (4,), dtype=invariants.dtype)

    layer = reference.VectorAttention(
        4,
        lambda v: v[..., :1],
        value_net,
        reduce=True,
        rank=rank,
        invariant_mode="full",
        include_normalized_products=normalize,
    ).double()
    layer((bonds, torch.zeros(bonds.shape[:-1] + (4,), dtype=bonds.dtype)))
    return seen[0]


@pytest.mark.parametrize("normalize", [False, True])
def test_pair_invariants_match_reference_layer(normalize):
    """|r_j|, |r_l|, r_j.r_l, |r_j ^ r_l| (and normalized versions) of every pair, as the reference computes them."""
    bonds = _vectors(11, 2, 5)
    expected = _reference_tuple_invariants(bonds, 2, normalize)
    lengths = ga.bond_invariants(bonds)[..., 0]
    ours = [lengths[:, :, None].expand(-1, -1, 5), lengths[:, None, :].expand(-1, 5, -1)]
    ours += list(ga.pair_invariants(bonds, normalize).unbind(-1))
    if normalize:
        ours += [torch.ones_like(ours[0])] * 2
    # the reference orders its columns differently: compare as sets of columns
    ours = sorted(ours, key=lambda column: float(column.sum()))
    theirs = sorted(expected.unbind(-1), key=lambda column: float(column.sum()))
    assert len(ours) == len(theirs)
    for mine, reference_column in zip(ours, theirs):
        assert torch.allclose(mine, reference_column, atol=1e-6)


def test_triplet_invariants_match_reference_layer():
    """Rank 3: |vector part| and the pseudoscalar of r_j r_l r_m appear among the reference's invariants."""
    bonds = _vectors(12, 1, 4)
    expected = _reference_tuple_invariants(bonds, 3, False)
    ours = ga.triplet_invariants(bonds)
    for column in ours.unbind(-1):
        assert any(torch.allclose(column, theirs, atol=1e-9) for theirs in expected.unbind(-1))
