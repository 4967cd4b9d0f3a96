"""Zero-shot space groups: do the features identify crystals of space groups pretraining never saw?

The question of arXiv 2512.13989, asked of frozen features without any training. The 21 groups of
``simssl.library.structures.HELD_OUT_SPACE_GROUPS`` (three or more per crystal system) never
appear in pretraining: no random crystal of them is drawn and no pretraining prototype has them.
For every group, random one-component crystals (``random_unit_cell``: random cell, random general
positions; ~``--particles`` particles) give two tasks, each scored as in ``heldout_prototypes``
(each test particle takes the nearest per-group mean reference, standardized with all reference
particles; accuracy over particles, chance 1/21):

* structure: the reference is one crystal at noise ``--reference-sigma`` (0.02), the test is
  another noise draw of the same crystal at ``--sigma`` (0.05): does the feature name an unseen
  structure from one clean look at it?
* symmetry: the reference is a *different* random crystal of the same group (other cell, other
  sites): does the feature see the group itself? (Much harder: two crystals of one group can have
  unrelated local environments.)

Feature sets as in ``noise_classification``: embeddings (raw + neighbor-averaged), Steinhardt
(12 nearest, 14 columns) and multi-shell Steinhardt (132 columns). Appends under
``## zero_shot_space_groups`` in ``benchmarks/RESULTS.md``.

    python benchmarks/zero_shot_space_groups.py --model path/to/model.pt
    python benchmarks/zero_shot_space_groups.py --model random --particles 300 --no-append
"""

from __future__ import annotations

import sys

import numpy as np
from common import publish
from heldout_prototypes import nearest_reference, reference_arguments
from noise_classification import cell, features, load

from simssl.errors import SimsslError
from simssl.library.structures import HELD_OUT_SPACE_GROUPS, random_unit_cell, replicated

HEADING = "## zero_shot_space_groups"


def unit_cell(group: int, seed: int):
    """A random unit cell of ``group`` (the first of seeds ``[seed, group, attempt]`` that builds)."""
    for attempt in range(16):
        try:
            return random_unit_cell(group, np.random.default_rng([seed, group, attempt]))
        except (SimsslError, ValueError, RuntimeError):
            continue
    raise SimsslError(f"no random crystal of space group {group} could be built")


def crystals(cells: dict, sigma: float, n_particles: int, seed: int) -> tuple[list, np.ndarray]:
    """One noisy crystal per group (noise drawn from ``[seed, group]``) and each particle's group index."""
    frames = [
        replicated(*cells[group], n_particles, sigma, np.random.default_rng([seed, group]), f"space group {group}")
        for group in cells
    ]
    return frames, np.concatenate([np.full(frame.n_particles, index) for index, frame in enumerate(frames)])


def main(argv=None) -> int:
    args = reference_arguments(__doc__.split("\n\n")[0]).parse_args(argv)
    model = load(args)
    groups = HELD_OUT_SPACE_GROUPS
    test_cells = {group: unit_cell(group, args.seed) for group in groups}
    other_cells = {group: unit_cell(group, args.seed + 1000) for group in groups}
    test_frames, test_labels = crystals(test_cells, args.sigma, args.particles, args.seed + 1)
    test = features(test_frames, model, args)
    accuracy = {}
    for task, cells in (("structure", test_cells), ("symmetry", other_cells)):
        frames, labels = crystals(cells, args.reference_sigma, args.particles, args.seed + 2)
        reference = features(frames, model, args)
        for name in reference:
            found = nearest_reference(reference[name], labels, test[name])
            accuracy[task, name] = float(np.mean(found["euclidean"] == test_labels))
            print(f"{task}: {name} {accuracy[task, name]:.4f}", flush=True)
    card = getattr(model, "card", {}) or {}
    lines = [
        f"- workload: {len(groups)} held-out space groups ({', '.join(map(str, groups))}), one random crystal "
        f"each, ~{args.particles} particles; reference noise {args.reference_sigma:g}, test noise {args.sigma:g}; "
        f"nearest mean reference (Euclidean, standardized); chance {1 / len(groups):.4f}",
        f"- model: `{args.model}` ({card.get('name', 'encoder')}, "
        f"{'trained' if card.get('trained', True) else 'UNTRAINED'}; {model.config.summary()})",
        "",
        "| features | structure (same crystal, new noise) | symmetry (another crystal of the group) |",
        "|---|---:|---:|",
        *(
            f"| {label} | {cell(accuracy['structure', name])} | {cell(accuracy['symmetry', name])} |"
            for name, label in (
                ("embedding", f"embeddings, raw + avg ({2 * model.config.dim})"),
                ("steinhardt", "Steinhardt, 12 nearest (14)"),
                ("multishell", "multi-shell Steinhardt (132)"),
            )
        ),
    ]
    publish(args, argv, lines, HEADING)
    return 0


if __name__ == "__main__":
    sys.exit(main())
