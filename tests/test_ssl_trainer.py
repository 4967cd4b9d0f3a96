"""Pretraining (small preset): losses fall, checkpoints load, resume is exact, DDP runs; fine-tuning beats chance."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import freud
import numpy as np
import pytest
import torch

import simssl
from simssl import cli as commands
from simssl.training import trainer
from simssl.training.finetune import FineTuned, finetune

EPOCHS = trainer.PRESETS["small"].epochs


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One small-preset run with a checkpoint every epoch: (output path, log path, card)."""
    directory = tmp_path_factory.mktemp("pretrain")
    out, log = directory / "model.pt", directory / "metrics.jsonl"
    card = trainer.pretrain("small", out, seed=1, log=log, checkpoint_every=1, progress=False)
    return out, log, card


def test_small_preset_reduces_training_and_validation_loss(run):
    _, log, _ = run
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["epoch"] for r in records] == list(range(1, EPOCHS + 1))
    for record in records:
        assert {"epoch", "step", "lr", "seconds", "train", "val"} <= set(record)
        assert set(record["train"]) == set(record["val"]) == set(trainer.ALL_TASKS) | {"total"}
        assert all(np.isfinite(v) for v in record["val"].values())
    assert records[-1]["train"]["total"] < records[0]["train"]["total"]
    assert records[-1]["val"]["total"] < records[0]["val"]["total"]
    assert records[-1]["step"] > records[0]["step"] > 0 and records[-1]["seconds"] >= records[0]["seconds"]


def test_saved_model_loads_with_its_card(run):
    out, log, card = run
    model = simssl.load_model(out)
    assert model.config.cutoff == simssl.model.EncoderConfig.cutoff and model.config.dim == 16
    assert model.card["metrics"]["val"] == pytest.approx(card["metrics"]["val"])
    assert model.card["data"]["structures"] == ["cF4-Cu", "cI2-W", "cP1-Po"] and model.card["data"]["noise_levels"] == [
        0.03
    ]
    assert model.card["tasks"]["noisy_bond"]["weight"] == 1.0 and model.card["torch"] == torch.__version__
    best = min(json.loads(line)["val"]["total"] for line in log.read_text().splitlines())
    assert model.card["metrics"]["val"]["total"] == pytest.approx(best)
    assert model.embed(
        simssl.make_frame(*freud.data.UnitCell.fcc().generate_system(3, sigma_noise=0.02, seed=0))
    ).shape == (108, 16)


def test_resume_continues_at_the_right_epoch_and_matches_the_uninterrupted_run(run, tmp_path):
    out, _, _ = run
    log = tmp_path / "resumed.jsonl"
    checkpoint = out.with_name(out.name + ".checkpoints") / "epoch0002.pt"
    trainer.pretrain(out=tmp_path / "resumed.pt", resume=checkpoint, log=log, checkpoint_every=0, progress=False)
    assert [json.loads(line)["epoch"] for line in log.read_text().splitlines()] == list(range(3, EPOCHS + 1))
    full, resumed = simssl.load_model(out).state_dict(), simssl.load_model(tmp_path / "resumed.pt").state_dict()
    assert all(torch.equal(full[name], resumed[name]) for name in full)


def test_cli_pretrain_refuses_to_overwrite(run, capsys):
    out, _, _ = run
    assert commands.main(["pretrain", "--preset", "small", "--out", str(out), "--quiet"]) == 2
    assert "exists" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("torchrun") is None, reason="torchrun is not installed")
def test_ddp_with_torchrun_writes_a_checkpoint(tmp_path):
    out = tmp_path / "ddp.pt"
    command = [
        "torchrun",
        "--nproc_per_node",
        "2",
        "--master_port",
        "29517",
        "-m",
        "simssl.cli",
        "pretrain",
        "--preset",
        "small",
        "--epochs",
        "1",
        "--out",
        str(out),
        "--quiet",
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=240, env={**os.environ, "OMP_NUM_THREADS": "1"}
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    card = simssl.load_model(out).card
    assert card["world_size"] == 2 and card["metrics"]["epochs_run"] == 1
    assert (tmp_path / "ddp.pt.checkpoints" / "epoch0001.pt").exists()


def test_finetune_with_few_labels_beats_chance(run, tmp_path):
    """The small preset's 16 training steps leave a weak encoder, so 5% of the labels (77) rather than 1%."""
    out, _, _ = run
    model = simssl.load_model(out)

    def frames(seed):
        cells = (freud.data.UnitCell.fcc(), freud.data.UnitCell.bcc())
        return [
            simssl.make_frame(*cell.generate_system(n, sigma_noise=0.04, seed=seed + i))
            for i, (cell, n) in enumerate(zip(cells, (6, 7)))
        ]

    train = frames(0)
    result = finetune(model, train, ["fcc", "bcc"], fraction=0.05, epochs=100, seed=0)
    assert result.metrics["labeled"] == round(0.05 * 864) + round(0.05 * 686)
    assert result.metrics["held_out_accuracy"] > 0.6
    test = frames(10)
    accuracy = np.mean(np.concatenate([result.predict(frame) == label for frame, label in zip(test, ["fcc", "bcc"])]))
    assert accuracy > 0.6
    result.save(tmp_path / "head.pt")
    assert np.array_equal(FineTuned.load(tmp_path / "head.pt").predict(test[0]), result.predict(test[0]))


def test_cli_preset_names_match_the_trainer():
    from simssl.cli import PRESET_NAMES
    from simssl.training.trainer import PRESETS

    assert sorted(PRESET_NAMES) == sorted(PRESETS)
