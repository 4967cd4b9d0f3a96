"""How far can this encoder go on noise_classification at all? A supervised reference point.

The noise_classification goal asks for >= 0.95 accuracy at sigma 0.15 from frozen self-supervised
embeddings. This script trains the same architecture as ``--model`` (k, D, blocks, rank), from
random weights, *with the benchmark's own labels*: frame classification of exactly the five test
structures (fcc, bcc, hcp, sc, cubic diamond) at the noise ``--train-sigma`` (0.15), two noise
draws of ~4096 particles each, every environment used; then it scores the resulting embeddings
with noise_classification's protocol (fresh train/test noise draws, raw + neighbor-averaged
embeddings, logistic regression) next to Steinhardt features. A self-supervised model that never
saw these labels should not be expected to beat this number; if it is below the goal, the limit
lies in the architecture and neighborhood size, not in the pretraining.

    python benchmarks/supervised_bound.py                      # ~5 min on 2 cores
    python benchmarks/supervised_bound.py --epochs 2 --particles 500 --sigmas 0.15 --no-append
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
from common import publish
from noise_classification import STRUCTURES, cell, common_arguments, features, load, noisy_crystals

from simssl.checkpoints import load_model
from simssl.compare import LogisticRegression, embedding_features
from simssl.training import dataset, trainer

HEADING = "## supervised_bound"


def train_supervised(architecture: dict, sigma: float, epochs: int, seed: int, device) -> object:
    """The encoder of ``architecture`` trained only on frame classification of the benchmark's structures."""
    config = replace(
        trainer.PRESETS["default"],
        encoder={key: v for key, v in architecture.items() if key not in ("gradient_outputs", "vector_outputs")},
        data=dataset.DataSpec(prototypes=tuple(STRUCTURES.values()), noise=(sigma,), draws=2),
        tasks={"frame_classification": 1.0},
        task_options={},
        epochs=epochs,
        patience=epochs,
    )
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "supervised.pt"
        trainer.pretrain(config, out=out, seed=seed, device=device, checkpoint_every=0, progress=False)
        return load_model(out, device=device)


def main(argv=None) -> int:
    parser = common_arguments(__doc__.split("\n\n")[0], particles=4000)
    parser.add_argument(
        "--sigmas", default="0.10,0.12,0.15", help="test noise levels, comma separated (default: 0.10,0.12,0.15)"
    )
    parser.add_argument(
        "--train-sigma", type=float, default=0.15, help="noise of the supervised training crystals (default: 0.15)"
    )
    parser.add_argument("--epochs", type=int, default=8, help="supervised training epochs (default: 8)")
    args = parser.parse_args(argv)
    reference = load(args)
    model = train_supervised(reference.config.to_dict(), args.train_sigma, args.epochs, args.seed, args.device)
    rows = []
    for step, sigma in enumerate(float(s) for s in args.sigmas.split(",")):
        train_frames, train_labels = noisy_crystals(STRUCTURES.values(), sigma, args.particles, [args.seed, step, 0])
        test_frames, test_labels = noisy_crystals(STRUCTURES.values(), sigma, args.particles, [args.seed, step, 1])
        train, test = features(train_frames, reference, args), features(test_frames, reference, args)
        train["supervised"], test["supervised"] = (
            np.concatenate([embedding_features(model, frame, args.device, args.compile) for frame in frames])
            for frames in (train_frames, test_frames)
        )
        scores = {
            name: float(np.mean(LogisticRegression().fit(train[name], train_labels).predict(test[name]) == test_labels))
            for name in ("supervised", "embedding", "steinhardt")
        }
        print(f"sigma {sigma:g}: " + ", ".join(f"{k} {v:.4f}" for k, v in scores.items()), flush=True)
        rows.append(
            f"| {sigma:.2f} | {cell(scores['supervised'])} | {cell(scores['embedding'])} | "
            f"{cell(scores['steinhardt'])} |"
        )
    lines = [
        f"- supervised: the architecture of `{args.model}` "
        f"({reference.config.summary()}) "
        f"trained from scratch on frame classification of {', '.join(STRUCTURES)} at sigma {args.train_sigma:g} "
        f"(2 draws x ~4096 particles, {args.epochs} epochs, default-preset optimizer); "
        "scored as in noise_classification "
        f"(~{args.particles} particles per structure, raw + averaged embeddings, logistic regression)",
        "",
        f"| sigma | supervised + LR | `{args.model}` + LR | Steinhardt + LR |",
        "|---:|---:|---:|---:|",
        *rows,
    ]
    publish(args, argv, lines, HEADING)
    return 0


if __name__ == "__main__":
    sys.exit(main())
