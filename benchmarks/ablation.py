"""Which ingredients of the order embedding buy what: one table over the noise and held-out benchmarks.

Each row is one feature set; every column is measured in this one run with the protocols of
``noise_classification`` (logistic regression on separate noise draws of fcc, bcc, hcp, sc and
cubic diamond; accuracy at each ``--sigmas``) and ``heldout_prototypes`` (nearest mean reference of
the 44 held-out prototypes, Euclidean, test noise 0.05). Rows:

* every ``--row LABEL=PATH`` (repeatable; PATH may be 'default', 'random' or
  'random-shells', untrained with shell spectra): embeddings, raw + neighbor-averaged;
* the fixed shell spectra alone (``simssl.shells``: three smooth windows, degrees 2..12), with
  and without their neighbor-averaging hop: what the second hop buys without any learning;
* multi-shell and 12-neighbor Steinhardt: the classical references.

Prints a markdown table and appends it under ``## ablation`` in ``benchmarks/RESULTS.md``.

    python benchmarks/ablation.py --row shipped=default --row continuous=c.pt --row shells=s.pt
    python benchmarks/ablation.py --row random=random --particles 300 --sigmas 0.15 --no-append
"""

from __future__ import annotations

import sys

import numpy as np
from common import publish
from heldout_prototypes import nearest_reference
from noise_classification import STRUCTURES, cell, common_arguments, noisy_crystals

from simssl.checkpoints import load_model, random_model
from simssl.compare import LogisticRegression, embedding_features, multishell_steinhardt_features, steinhardt_features
from simssl.defaults import SHELL_DEGREES, SHELL_RADII
from simssl.library.structures import prototype_names
from simssl.neighbors import compute_neighborhoods
from simssl.shells import shell_spectra

HEADING = "## ablation"


def spectra(frame, averaged: bool) -> np.ndarray:
    """The default shell spectra of ``frame``; without ``averaged`` only the raw (pre-hop) columns."""
    values = shell_spectra(compute_neighborhoods(frame, cutoff=max(SHELL_RADII)), SHELL_RADII, SHELL_DEGREES)
    return values if averaged else values[:, 0::2]


def model_from(spec: str):
    """``'default'``, ``'random'``, ``'random-shells'`` or a checkpoint path -> an encoder."""
    if spec == "random-shells":
        return random_model(0, shells=SHELL_RADII)
    return load_model(None if spec == "default" else spec)


def feature_sets(models: dict, device, compile) -> dict:
    """Row label -> function(frame) -> (N, F) features."""
    rows = {
        f"{label}: embeddings, raw + avg": (
            lambda frame, model=model: embedding_features(model, frame, device, compile)
        )
        for label, model in models.items()
    }
    rows["shell spectra (fixed), with the averaging hop"] = lambda frame: spectra(frame, True)
    rows["shell spectra (fixed), no hop"] = lambda frame: spectra(frame, False)
    rows["multi-shell Steinhardt (132)"] = multishell_steinhardt_features
    rows["Steinhardt, 12 nearest (14)"] = steinhardt_features
    return rows


def stacked(function, frames) -> np.ndarray:
    return np.concatenate([function(frame) for frame in frames])


def main(argv=None) -> int:
    parser = common_arguments(__doc__.split("\n\n")[0], particles=2000)
    parser.add_argument(
        "--row", dest="models", action="append", default=[], help="LABEL=PATH: a model row (repeatable)"
    )
    parser.add_argument("--sigmas", default="0.1,0.12,0.15", help="noise levels, comma separated")
    parser.add_argument("--heldout-particles", type=int, default=500, help="particles per held-out prototype")
    args = parser.parse_args(argv)
    sigmas = [float(s) for s in args.sigmas.split(",")]
    models = {label: model_from(path) for label, path in (spec.rsplit("=", 1) for spec in args.models)}
    rows = feature_sets(models, args.device, args.compile)
    scores = {label: {} for label in rows}
    for step, sigma in enumerate(sigmas):
        train, train_labels = noisy_crystals(STRUCTURES.values(), sigma, args.particles, [args.seed, step, 0])
        test, test_labels = noisy_crystals(STRUCTURES.values(), sigma, args.particles, [args.seed, step, 1])
        for label, function in rows.items():
            probe = LogisticRegression().fit(stacked(function, train), train_labels)
            scores[label][sigma] = float(np.mean(probe.predict(stacked(function, test)) == test_labels))
            print(f"sigma {sigma:g}: {label} {scores[label][sigma]:.4f}", flush=True)
    names = prototype_names("held_out")
    reference, reference_labels = noisy_crystals(names, 0.02, args.heldout_particles, [args.seed, 0])
    test, test_labels = noisy_crystals(names, 0.05, args.heldout_particles, [args.seed, 1])
    for label, function in rows.items():
        found = nearest_reference(stacked(function, reference), reference_labels, stacked(function, test))
        scores[label]["heldout"] = float(np.mean(found["euclidean"] == test_labels))
        print(f"held-out: {label} {scores[label]['heldout']:.4f}", flush=True)
    lines = [
        f"- noise: {', '.join(STRUCTURES)}, ~{args.particles} particles each, train/test separate draws, "
        "logistic regression; held-out: 44 prototypes, "
        f"~{args.heldout_particles} particles each, nearest mean reference (Euclidean), test noise 0.05",
        *(f"- `{label}`: {model.config.summary()}" for label, model in models.items()),
        "",
        "| features | " + " | ".join(f"noise sigma {s:g}" for s in sigmas) + " | held-out prototypes |",
        "|---|" + "---:|" * (len(sigmas) + 1),
        *(
            f"| {label} | " + " | ".join(cell(scores[label][key]) for key in [*sigmas, "heldout"]) + " |"
            for label in rows
        ),
    ]
    publish(args, argv, lines, HEADING)
    return 0


if __name__ == "__main__":
    sys.exit(main())
