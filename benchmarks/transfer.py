"""Does pretraining pay off when labels are scarce? Fine-tuning on 1% of the labels vs training from scratch.

Task: 4-class classification of noisy crystals, fcc (cF4-Cu), bcc (cI2-W), hcp (hP2-Mg) and simple
cubic (cP1-Po), ~``--particles`` (4,000) each, Gaussian noise sigma ``--sigma`` (0.12 nearest-neighbor
distances; at that noise single environments overlap and Steinhardt + LR reaches ~0.94 on five
classes with all labels). Only ``--fraction`` (1%, stratified: ~40 per class) of the particles are
labeled; every model is scored on all other particles (``simssl.training.finetune`` held-out accuracy):

* pretrained, frozen: the given model's encoder frozen, a linear head trained (``finetune(freeze=True)``);
* pretrained, unfrozen: the same, encoder and head trained together (``freeze=False``);
* scratch: the same architecture with random weights, encoder and head trained together, same
  labels, epochs and optimizer settings;
* for context, the same logistic regression (``simssl.compare.LogisticRegression``) on the same
  labeled particles' features: frozen raw + neighbor-averaged embeddings of the pretrained and of
  the random model (what ``finetune``'s raw-embedding head does not see), and Steinhardt (12
  neighbors; q4..q12, w4, w6, raw + averaged).

Each is repeated for ``--seeds`` draws of the labeled particles (and of the scratch initialization);
mean +- standard deviation. Goal: pretrained (frozen) >= scratch + 20 points. Prints a markdown table
and appends it under ``## transfer`` in ``benchmarks/RESULTS.md``.

    python benchmarks/transfer.py --model path/to/model.pt                 # minutes on 2 cores
    python benchmarks/transfer.py --model small.pt --particles 500 --fraction 0.05 --epochs 20 --seeds 1 --no-append
"""

from __future__ import annotations

import sys

import numpy as np
from common import publish
from noise_classification import common_arguments, load, noisy_crystals

from simssl.checkpoints import random_model
from simssl.compare import LogisticRegression, embedding_features, steinhardt_features
from simssl.training.finetune import choose_labeled, finetune

HEADING = "## transfer"
CLASSES = {"fcc": "cF4-Cu", "bcc": "cI2-W", "hcp": "hP2-Mg", "sc": "cP1-Po"}
GOAL_POINTS = 20.0


def probe_accuracy(x: np.ndarray, labels: np.ndarray, fraction: float, seed: int) -> float:
    """Held-out accuracy of logistic regression on per-particle features ``x``.

    It is trained on the labeled particles finetune would pick.
    """
    train = np.zeros(len(labels), dtype=bool)
    train[choose_labeled(labels, fraction, "classification", np.random.default_rng(seed))] = True  # finetune's own draw
    return float(np.mean(LogisticRegression().fit(x[train], labels[train]).predict(x[~train]) == labels[~train]))


def embeddings_of(model, frames, device) -> np.ndarray:
    """Frozen raw + neighbor-averaged embeddings of all frames, concatenated."""
    return np.concatenate([embedding_features(model, frame, device) for frame in frames])


def main(argv=None) -> int:
    parser = common_arguments(__doc__.split("\n\n")[0], particles=4000)
    parser.add_argument("--sigma", type=float, default=0.12, help="noise in nearest-neighbor distances (default: 0.12)")
    parser.add_argument("--fraction", type=float, default=0.01, help="fraction of labeled particles (default: 0.01)")
    parser.add_argument(
        "--epochs", type=int, default=200, help="fine-tuning epochs, the same for every model (default: 200)"
    )
    parser.add_argument(
        "--seeds",
        type=int,
        default=3,
        help="repetitions with different labeled particles and scratch weights (default: 3)",
    )
    args = parser.parse_args(argv)
    model = load(args)
    frames, labels = noisy_crystals(CLASSES.values(), args.sigma, args.particles, [args.seed, 0])
    settings = dict(fraction=args.fraction, epochs=args.epochs, device=args.device)
    runs = {
        "pretrained, frozen (linear head)": lambda seed: finetune(
            model, frames, labels, freeze=True, seed=seed, **settings
        ),
        "pretrained, unfrozen": lambda seed: finetune(model, frames, labels, freeze=False, seed=seed, **settings),
        "scratch (random init), unfrozen": lambda seed: finetune(
            random_model(seed, **model.config.to_dict()), frames, labels, freeze=False, seed=seed, **settings
        ),
    }
    pretrained_features = embeddings_of(model, frames, args.device)
    steinhardt = np.concatenate([steinhardt_features(frame) for frame in frames])
    probes = {
        "pretrained, frozen, raw + averaged + LR (context)": lambda seed: probe_accuracy(
            pretrained_features, labels, args.fraction, seed
        ),
        "scratch (random init), frozen, raw + averaged + LR (context)": lambda seed: probe_accuracy(
            embeddings_of(random_model(seed, **model.config.to_dict()), frames, args.device),
            labels,
            args.fraction,
            seed,
        ),
        "Steinhardt + LR (context)": lambda seed: probe_accuracy(steinhardt, labels, args.fraction, seed),
    }
    accuracy = {name: [] for name in [*runs, *probes]}
    labeled = 0
    for seed in range(args.seed, args.seed + args.seeds):
        for name, run in runs.items():
            result = run(seed)
            accuracy[name].append(result.metrics["held_out_accuracy"])
            labeled = result.metrics["labeled"]
            print(f"seed {seed}: {name}: {accuracy[name][-1]:.4f}", flush=True)
        for name, probe in probes.items():
            accuracy[name].append(probe(seed))
            print(f"seed {seed}: {name}: {accuracy[name][-1]:.4f}", flush=True)
    mean = {name: float(np.mean(values)) for name, values in accuracy.items()}
    gain = 100 * (mean["pretrained, frozen (linear head)"] - mean["scratch (random init), unfrozen"])
    card = getattr(model, "card", {}) or {}
    lines = [
        f"- task: {len(CLASSES)}-class noisy crystals ({', '.join(f'{k} {v}' for k, v in CLASSES.items())}), "
        f"sigma {args.sigma:g} nearest-neighbor distances, {len(labels)} particles; "
        f"{labeled} labeled ({args.fraction:g}, stratified), the rest held out",
        f"- model: `{args.model}` ({card.get('name', 'encoder')}, "
        f"{'trained' if card.get('trained', True) else 'UNTRAINED'}; "
        f"{model.config.summary()}); "
        f"simssl.training.finetune, {args.epochs} epochs, "
        f"default lr and batch size; {args.seeds} seed(s)",
        "",
        "| model | held-out accuracy (mean +- std) | per seed |",
        "|---|---:|---|",
        *(
            f"| {name} | {mean[name]:.4f} +- {np.std(values):.4f} | {', '.join(f'{v:.4f}' for v in values)} |"
            for name, values in accuracy.items()
        ),
        "",
        f"- pretrained (frozen) - scratch: {gain:+.1f} points "
        f"(goal >= {GOAL_POINTS:g}: {'met' if gain >= GOAL_POINTS else 'MISSED'})",
    ]
    publish(args, argv, lines, HEADING)
    return 0


if __name__ == "__main__":
    sys.exit(main())
