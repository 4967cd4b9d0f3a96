"""Rebuild the shipped identification references of the default model (``simssl/library/default_references.npz``).

Run after the default model changes (its references are tied to its weights by a hash: references
of another model are never used, they would be rebuilt and cached instead)::

    python benchmarks/make_references.py            # minutes on 2 idle cores (+ ~9 min of MD the first time)
    python benchmarks/make_references.py --check    # rebuild in memory and compare with the shipped file

Everything is seeded (noise draws, stackings, disorder kinds, k-means); thread counts may change the last bits of
the embeddings, so ``--check`` compares names and merges exactly and centers to 1e-3.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from simssl.checkpoints import load_model
from simssl.library import shipped_references_path
from simssl.library.references import Library, build_library


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the shipped file instead of writing it")
    args = parser.parse_args(argv)
    path = shipped_references_path()
    references = build_library(load_model(None))
    print(f"{len(references.names)} structures, {len(references.centers)} centers, T {references.temperature:.4g}")
    print("merged:", ", ".join(f"{name} -> {'/'.join(into)}" for name, into in references.aliases.items()))
    if not args.check:
        references.save(path)
        print(f"wrote {path}")
        return 0
    shipped = Library.load(path)
    same = (
        shipped is not None
        and shipped.names == references.names
        and shipped.aliases == references.aliases
        and shipped.centers.shape == references.centers.shape
        and np.allclose(shipped.centers, references.centers, atol=1e-3)
        and np.allclose(shipped.radii, references.radii, atol=1e-3)
    )
    print("same as the shipped references" if same else "DIFFERENT from the shipped references")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
