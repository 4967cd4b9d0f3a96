"""Self-supervised tasks: targets match the corruption actually applied, vector heads are equivariant, losses train."""

from __future__ import annotations

import freud
import numpy as np
import pytest
import torch

import simssl
from simssl.model import Encoder, EncoderConfig
from simssl.training import dataset
from simssl.training.tasks import TASKS, MultiTask, build_task, encode, invariant_descriptor

CONFIG = EncoderConfig(dim=16, blocks=1, score_hidden=8)  # continuous (cutoff) neighborhoods of varying width
VECTOR_TASKS = ("shift", "denoising", "nearest_bond")


def crystal(cell, noise=0.03, seed=0):
    box, positions = cell.generate_system(3, sigma_noise=noise, seed=seed)
    return simssl.make_frame(box, positions)


@pytest.fixture(scope="module")
def batch():
    """48 noisy fcc/bcc environments; the last bond of every fourth one is padding."""
    frames = [
        ("fcc", 0.03, 0, crystal(freud.data.UnitCell.fcc())),
        ("bcc", 0.03, 1, crystal(freud.data.UnitCell.bcc(), seed=1)),
    ]
    data = dataset.build(frames, CONFIG, environments_per_frame=24, seed=0)
    batch = data.batch(torch.arange(len(data)))
    mask = batch.mask.clone()
    mask[::4, -1] = False
    return batch._replace(
        bonds=batch.bonds * mask[..., None], mask=mask, neighbor_types=batch.neighbor_types.masked_fill(~mask, -1)
    )


def make(name, seed=0):
    torch.manual_seed(seed)
    return Encoder(CONFIG), build_task(name, CONFIG, n_structures=2)


def prepare(task, batch, seed=0):
    return task.prepare(batch, torch.Generator().manual_seed(seed))


def random_orthogonal(seed, proper=True):
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if (np.linalg.det(q) > 0) != proper:
        q[:, 0] *= -1
    return torch.tensor(q, dtype=torch.float32)


def test_noisy_bond_labels_mark_exactly_the_noised_bonds(batch):
    _, task = make("noisy_bond")
    inputs, labels = prepare(task, batch)
    moved = (inputs.bonds - batch.bonds).norm(dim=-1) > 0
    assert torch.equal(moved, labels.bool())
    assert torch.equal(labels.sum(1).long(), batch.mask.sum(1) // 2)  # half of the real bonds
    assert not labels[~batch.mask].any() and torch.all(inputs.bonds[~batch.mask] == 0)
    assert torch.equal(prepare(task, batch, 0)[1], labels) and not torch.equal(
        prepare(task, batch, 1)[1], labels
    )  # seeded


def test_shift_and_denoising_targets_undo_the_corruption(batch):
    _, shift = make("shift")
    inputs, vector = prepare(shift, batch)
    assert torch.allclose(inputs.bonds[batch.mask], (batch.bonds + vector[:, None])[batch.mask])
    assert torch.all(inputs.bonds[~batch.mask] == 0) and vector.std() == pytest.approx(shift.shift, rel=0.3)
    _, denoising = make("denoising")
    inputs, displacement = prepare(denoising, batch)
    assert torch.allclose(inputs.bonds + displacement, batch.bonds, atol=1e-6)
    assert displacement[batch.mask].std() == pytest.approx(denoising.noise, rel=0.2)
    _, distance = make("distance_denoising")
    inputs, lengths = prepare(distance, batch)
    assert torch.allclose(lengths, batch.bonds.norm(dim=-1)) and not torch.allclose(inputs.bonds, batch.bonds)


def test_nearest_bond_target_is_the_removed_nearest_bond(batch):
    _, task = make("nearest_bond")
    inputs, nearest = prepare(task, batch)
    lengths = batch.bonds.norm(dim=-1).masked_fill(~batch.mask, np.inf)
    assert torch.allclose(nearest.norm(dim=-1), lengths.min(1).values)
    assert torch.equal(inputs.mask.sum(1), batch.mask.sum(1) - 1)
    assert torch.all(
        inputs.bonds.norm(dim=-1)[inputs.mask] >= nearest.norm(dim=-1)[:, None].expand_as(inputs.mask)[inputs.mask]
    )


def test_autoencoder_descriptor_is_invariant_and_frame_target_is_the_structure(batch):
    _, task = make("autoencoder")
    _, descriptor = prepare(task, batch)
    assert descriptor.shape == (len(batch.bonds), task.lengths + task.bins)
    assert torch.allclose(descriptor[:, task.lengths :].sum(1), torch.ones(len(batch.bonds)))
    permutation = torch.randperm(batch.bonds.shape[1], generator=torch.Generator().manual_seed(0))
    rotated = (batch.bonds @ random_orthogonal(0).T)[:, permutation]
    invariant = invariant_descriptor(rotated, batch.mask[:, permutation], task.bins, task.lengths)
    assert torch.allclose(invariant, descriptor, atol=1e-5)
    _, frame = make("frame_classification")
    assert torch.equal(prepare(frame, batch)[1], batch.structure) and set(batch.structure.tolist()) == {0, 1}


@pytest.mark.parametrize("proper", [True, False], ids=["rotation", "reflection"])
@pytest.mark.parametrize("name", VECTOR_TASKS)
def test_vector_heads_are_equivariant(batch, name, proper):
    encoder, task = make(name)
    inputs, _ = prepare(task, batch)
    with torch.no_grad():
        for seed in range(3):
            rotation = random_orthogonal(seed, proper)
            out = task(encode(encoder, inputs))
            turned = task(encode(encoder, inputs._replace(bonds=inputs.bonds @ rotation.T)))
            assert torch.allclose(turned, out @ rotation.T, atol=1e-5 * float(out.abs().max()) + 1e-6)


@pytest.mark.parametrize("name", sorted(TASKS))
def test_each_task_loss_is_finite_and_decreases(batch, name):
    encoder, task = make(name)
    inputs, targets = prepare(task, batch)
    parameters = list(encoder.parameters()) + list(task.parameters())
    optimizer = torch.optim.Adam(parameters, lr=1e-2)
    losses = []
    for _ in range(16):
        loss = task.loss(task(encode(encoder, inputs)), targets, inputs)
        assert torch.isfinite(loss)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert min(losses[-3:]) < losses[0] - 1e-3, losses


def test_multitask_gives_each_task_a_slice_and_one_loss(batch):
    torch.manual_seed(0)
    encoder = Encoder(CONFIG)
    weights = {name: 1.0 + i for i, name in enumerate(sorted(TASKS))}
    model = MultiTask(encoder, {name: build_task(name, CONFIG, 2) for name in weights}, weights)
    inputs, targets, bounds = model.prepare(batch, torch.Generator().manual_seed(0))
    assert len(inputs.bonds) == len(batch.bonds)
    edges = sorted(bounds[name] for name, task in model.tasks.items() if not task.whole_batch)
    assert len(edges) == model.n_slices == len(TASKS) - 1
    assert edges[0][0] == 0 and edges[-1][1] == len(batch.bonds) and all(a[1] == b[0] for a, b in zip(edges, edges[1:]))
    # frame classification reads every row, corrupted ones included, against the rows' own structures
    assert bounds["frame_classification"] == (0, len(batch.bonds))
    assert torch.equal(targets["frame_classification"], inputs.structure) and torch.equal(
        inputs.structure, batch.structure
    )
    assert not torch.equal(inputs.bonds, batch.bonds)
    losses = model(inputs, targets, bounds)
    assert set(losses) == set(TASKS) and all(torch.isfinite(loss) for loss in losses.values())
    total = float(model.total(losses).detach())
    assert total == pytest.approx(sum(weights[name] * float(loss.detach()) for name, loss in losses.items()), rel=1e-6)
