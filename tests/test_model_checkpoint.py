"""Checkpoints: config + weights + card round-trip through torch.load(weights_only=True); clear errors otherwise."""

import numpy as np
import pytest
import torch
from model_helpers import model_for, random_neighborhoods, run

import simssl.checkpoints as checkpoints
from simssl.checkpoints import load_model, save
from simssl.errors import SimsslError
from simssl.model import Encoder, EncoderConfig


def test_round_trip_reproduces_outputs_config_and_card(tmp_path):
    model = model_for(
        4, dim=16, blocks=2, rank=3, n_types=2, normalize_products=True, gradient_outputs=1, vector_outputs=2
    )
    model.card = {"name": "unit-test", "trained": True, "metrics": {"auc": 0.9}}
    path = tmp_path / "model.pt"
    model.save(path)
    payload = torch.load(path, weights_only=True)  # plain data only: no pickled classes
    assert payload["config"] == model.config.to_dict() and isinstance(payload["config"], dict)
    loaded = load_model(path)
    assert loaded.config == model.config and loaded.card == model.card and not loaded.training
    arrays = random_neighborhoods(np.random.default_rng(0), 4, 6, n_types=2, max_padding=2)
    assert torch.equal(run(model, arrays), run(loaded, arrays))
    assert torch.equal(run(model, arrays, method=model.vectors), run(loaded, arrays, method=loaded.vectors))
    assert not (tmp_path / "model.pt.part").exists()


def test_card_argument_overrides_and_must_be_plain_data(tmp_path):
    model = model_for(0, dim=8)
    save(model, tmp_path / "a.pt", card={"name": "custom"})
    assert load_model(tmp_path / "a.pt").card == {"name": "custom"}
    with pytest.raises(ValueError, match="JSON"):
        save(model, tmp_path / "b.pt", card={"bad": object()})
    assert not (tmp_path / "b.pt").exists()


def test_default_model_missing_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(checkpoints, "default_model_path", lambda: tmp_path / "default_model.pt")
    with pytest.raises(SimsslError, match="no default model"):
        load_model()


def test_random_model_is_explicit_labelled_and_seeded():
    first, second = load_model("random"), load_model("random", n_types=2)
    assert first.card["trained"] is False and "UNTRAINED" in repr(first)
    assert second.config.n_types == 2
    assert torch.equal(load_model("random").reduction.value_out.weight, first.reduction.value_out.weight)
    with pytest.raises(TypeError):
        load_model(None, n_types=2)


def test_bad_files_are_clear_errors(tmp_path):
    with pytest.raises(SimsslError, match="does not exist"):
        load_model(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(SimsslError, match="junk.pt"):
        load_model(tmp_path / "junk.pt")
    torch.save({"state_dict": {}}, tmp_path / "other.pt")
    with pytest.raises(SimsslError, match="not a simssl model"):
        load_model(tmp_path / "other.pt")


def test_config_validation():
    with pytest.raises(ValueError, match="rank"):
        EncoderConfig(rank=4)
    with pytest.raises(ValueError, match="activation"):
        EncoderConfig(activation="swishy")
    assert Encoder(EncoderConfig(hidden=24)).config.width == 24
    with pytest.raises(ValueError, match="n_types"):
        EncoderConfig(n_types=-1)
    with pytest.raises(ValueError, match="taper"):
        EncoderConfig(cutoff=1.5, taper=2.0)


def test_checkpoints_from_before_cutoffs_load_as_k_nearest_typed_models(tmp_path):
    """A config written before continuous neighborhoods (no cutoff field) keeps its k nearest and type features."""
    old = model_for(5, dim=8, blocks=1, cutoff=None, n_types=1, k=6, gated=False)
    fields = {
        key: value for key, value in old.config.to_dict().items() if key not in ("cutoff", "taper", "max_neighbors")
    }
    path = tmp_path / "old.pt"
    checkpoints.write_checkpoint(path, fields, old.state_dict(), {"name": "old"})
    loaded = load_model(path)
    assert loaded.config.cutoff is None and loaded.config.k == 6 and loaded.config.n_types == 1
    arrays = random_neighborhoods(np.random.default_rng(1), 5, 6, max_padding=2)
    assert torch.equal(run(old, arrays), run(loaded, arrays))
