"""Do the features generalize to structures the model never saw?

Nearest-reference identification of the 44 held-out prototypes.

The seed paper's split (``prototype_names('held_out')``: 44 one-component AFLOW prototypes that the
paper did not train on). For every prototype a reference crystal (noise ``--reference-sigma``, 0.02
by default: clean crystals tie neighbor shells, which makes 12-NN Steinhardt values depend on
tie-breaking) gives a reference vector, the mean over its particles of the features; a test crystal
(a different noise draw at ``--sigma``, 0.05 by default) is then identified particle by particle as
the prototype whose reference is nearest. Features are standardized with the mean and standard
deviation of all reference particles; "nearest" is measured both as Euclidean distance and as
cosine similarity in that space. No training: the features alone must separate the structures.

Feature sets, as in ``noise_classification``: embeddings (raw + neighbor-averaged) of the frozen
model, Steinhardt (12 nearest neighbors; q4, q6, q8, q10, q12, w4, w6, raw + averaged) and
multi-shell Steinhardt (q2..q12 over the 4 to 42 nearest, raw + averaged).
Accuracy is over particles (each prototype contributes ~``--particles``); chance is 1/44. Prototypes
whose sites have different environments are summarized by one mean vector, so 100% is not expected.
Prints a markdown table and appends it under ``## heldout_prototypes`` in ``benchmarks/RESULTS.md``.

    python benchmarks/heldout_prototypes.py --model path/to/model.pt
    python benchmarks/heldout_prototypes.py --model small.pt --particles 300 --no-append
"""

from __future__ import annotations

import sys

import numpy as np
from common import publish
from noise_classification import cell, common_arguments, features, load, noisy_crystals

from simssl.library.structures import prototype_names

HEADING = "## heldout_prototypes"


def nearest_reference(reference: np.ndarray, reference_labels: np.ndarray, test: np.ndarray) -> dict[str, np.ndarray]:
    """Index of the nearest per-class mean reference for every test row, by two measures.

    The measures are Euclidean distance and cosine similarity.
    """
    mean, std = reference.mean(axis=0), reference.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    classes, codes, counts = np.unique(reference_labels, return_inverse=True, return_counts=True)
    centers = np.zeros((len(classes), reference.shape[1]))
    np.add.at(centers, codes, (reference - mean) / std)
    centers /= counts[:, None]
    standardized = (test - mean) / std
    squared = (standardized**2).sum(1)[:, None] - 2 * standardized @ centers.T + (centers**2).sum(1)[None, :]
    cosine = (standardized @ centers.T) / np.maximum(
        np.linalg.norm(standardized, axis=1)[:, None] * np.linalg.norm(centers, axis=1)[None, :], 1e-12
    )
    return {"euclidean": classes[squared.argmin(axis=1)], "cosine": classes[cosine.argmax(axis=1)]}


def reference_arguments(description: str):
    """The options of nearest-reference benchmarks: :func:`common_arguments` plus test and reference noise."""
    parser = common_arguments(description, particles=1000)
    parser.add_argument("--sigma", type=float, default=0.05, help="noise of the test crystals (default: 0.05)")
    parser.add_argument(
        "--reference-sigma", type=float, default=0.02, help="noise of the reference crystals (default: 0.02)"
    )
    return parser


def main(argv=None) -> int:
    args = reference_arguments(__doc__.split("\n\n")[0]).parse_args(argv)
    names = prototype_names("held_out")
    model = load(args)
    reference_frames, reference_labels = noisy_crystals(names, args.reference_sigma, args.particles, [args.seed, 0])
    test_frames, test_labels = noisy_crystals(names, args.sigma, args.particles, [args.seed, 1])
    reference, test = features(reference_frames, model, args), features(test_frames, model, args)
    accuracy, worst = {}, {}
    for name in reference:
        predictions = nearest_reference(reference[name], reference_labels, test[name])
        accuracy[name] = {metric: float(np.mean(found == test_labels)) for metric, found in predictions.items()}
        per_prototype = np.bincount(test_labels, weights=predictions["euclidean"] == test_labels) / np.bincount(
            test_labels
        )
        worst[name] = ", ".join(f"{names[i]} {per_prototype[i]:.2f}" for i in np.argsort(per_prototype)[:5])
    card = getattr(model, "card", {}) or {}
    lines = [
        f"- workload: {len(names)} held-out prototypes, ~{args.particles} particles each; "
        f"reference noise {args.reference_sigma:g}, "
        f"test noise {args.sigma:g} (another draw), in nearest-neighbor distances; chance {1 / len(names):.4f}",
        f"- model: `{args.model}` ({card.get('name', 'encoder')}, "
        f"{'trained' if card.get('trained', True) else 'UNTRAINED'}; "
        f"{model.config.summary()})",
        "- protocol: reference = mean standardized feature vector of the reference crystal; "
        "each test particle takes the nearest "
        "reference (standardized with all reference particles)",
        "",
        "| features | nearest (Euclidean) | nearest (cosine) | hardest five (Euclidean, per-prototype accuracy) |",
        "|---|---:|---:|---|",
        *(
            f"| {label} | {cell(accuracy[name]['euclidean'])} | {cell(accuracy[name]['cosine'])} | {worst[name]} |"
            for name, label in (
                ("embedding", f"embeddings, raw + avg ({2 * model.config.dim})"),
                ("steinhardt", "Steinhardt q4..q12, w4, w6, raw + avg (14)"),
                ("multishell", "multi-shell Steinhardt q2..q12 over 4..42 nearest, raw + avg (132)"),
            )
        ),
        "",
        "- embeddings vs Steinhardt (Euclidean): "
        f"{100 * (accuracy['embedding']['euclidean'] - accuracy['steinhardt']['euclidean']):+.1f} points",
    ]
    publish(args, argv, lines, HEADING)
    return 0


if __name__ == "__main__":
    sys.exit(main())
