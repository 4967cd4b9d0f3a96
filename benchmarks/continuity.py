"""Is the embedding a well-behaved order parameter? Invariance round-off, exact ties and the Lipschitz constant.

For each ``--model`` (default: the shipped one; pass an older checkpoint to compare), on float32
frames, per particle (maximum over particles):

* ``rotation + translation + permutation``: a noisy FCC cluster (2048 particles, sigma 0.05,
  non-periodic), rotated, translated and permuted: max ||e' - e|| / ||e||;
* ``perfect crystal spread``: perfect FCC, BCC and simple-cubic crystals (every particle
  equivalent, neighbor distances tied exactly): max ||e_i - mean|| / ||mean||;
* ``C(delta)``: every particle of a noisy FCC crystal (sigma 0.08) moved by exactly delta
  nearest-neighbor distances in a random direction: max ||e' - e|| / ||e|| / delta, for delta from
  1e-2 down to 1e-5. A continuous embedding keeps C(delta) bounded as delta shrinks; a jump (a hard
  neighbor cut meeting a tie) makes it grow like 1/delta.

    python benchmarks/continuity.py
    python benchmarks/continuity.py --model simssl/data/default_model.pt --model /tmp/old_default.pt
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import freud
import numpy as np
from common import report

import simssl

HEADING = "## continuity"
DEFAULT_RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
DELTAS = (1e-2, 1e-3, 1e-4, 1e-5)


def relative_change(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Per particle ||after - before|| / ||before||."""
    return np.linalg.norm(after - before, axis=1) / np.linalg.norm(before, axis=1)


def invariance_error(model, rng) -> float:
    """Largest relative change of a noisy FCC cluster's embeddings under rotation, translation and permutation."""
    _, positions = freud.data.UnitCell.fcc().generate_system(8, scale=np.sqrt(2), sigma_noise=0.05, seed=1)
    positions = (positions - positions.mean(0)).astype(np.float32)
    before = model.embed(simssl.make_frame(None, positions, periodic=False))
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    order = rng.permutation(len(positions))
    moved = (positions.astype(np.float64) @ (q * np.sign(np.diag(r))).T + rng.normal(size=3) * 7)[order]
    after = np.empty_like(before)
    after[order] = model.embed(simssl.make_frame(None, moved.astype(np.float32), periodic=False))
    return float(relative_change(before, after).max())


def perfect_spread(model, cell: str) -> float:
    """Largest relative deviation from the mean embedding in a perfect crystal."""
    box, positions = getattr(freud.data.UnitCell, cell)().generate_system(6)
    embedding = model.embed(simssl.make_frame(box, positions))
    return float(relative_change(embedding.mean(0, keepdims=True), embedding).max())


def lipschitz(model, delta: float, rng) -> float:
    """max over particles of (relative embedding change) / delta for moves of exactly delta."""
    box, positions = freud.data.UnitCell.fcc().generate_system(6, scale=np.sqrt(2), sigma_noise=0.08, seed=5)
    before = model.embed(simssl.make_frame(box, positions))
    steps = rng.normal(size=positions.shape)
    moved = positions + steps * (delta / np.linalg.norm(steps, axis=1, keepdims=True))
    return float(relative_change(before, model.embed(simssl.make_frame(box, moved))).max() / delta)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", action="append", help="model(s) to measure (default: the shipped one)")
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS, help="markdown file to append to")
    parser.add_argument("--no-append", action="store_true", help="print only; do not append to the results file")
    args = parser.parse_args(argv)
    rows = []
    for name in args.model or ["default"]:
        model = simssl.load_model(name)
        rng = np.random.default_rng(0)
        cells = [
            f"`{name}` ({model.config.summary()})",
            f"{invariance_error(model, rng):.1e}",
            *(f"{perfect_spread(model, cell):.1e}" for cell in ("fcc", "bcc", "sc")),
            *(f"{lipschitz(model, delta, rng):.3g}" for delta in DELTAS),
        ]
        rows.append("| " + " | ".join(cells) + " |")
        print(rows[-1], flush=True)
    lines = [
        "",
        "| model | rotation + translation + permutation | perfect FCC spread | perfect BCC spread | "
        "perfect SC spread | " + " | ".join(f"C({delta:g})" for delta in DELTAS) + " |",
        "|---|" + "---:|" * (4 + len(DELTAS)),
        *rows,
    ]
    report("\n".join(lines), args.results, HEADING, "continuity.py", argv, append=not args.no_append)
    return 0


if __name__ == "__main__":
    sys.exit(main())
