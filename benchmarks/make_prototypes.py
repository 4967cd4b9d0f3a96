"""Export the one-component AFLOW prototype unit cells of pyriodic-aflow to ``prototypes.json``.

The unit cells (lattice vectors and atomic coordinates) are facts from the AFLOW prototype
encyclopedia as packaged by pyriodic-structures 0.1 + pyriodic-aflow 0.1.1 (582 cells). Those
packages need ``pkg_resources`` and ``np.product``, so run this in a throwaway environment::

    python -m venv /tmp/pyr
    /tmp/pyr/bin/pip install 'setuptools<81' 'numpy<2' pyriodic-structures pyriodic-aflow
    /tmp/pyr/bin/python benchmarks/make_prototypes.py

Selection (deterministic): every cell whose particles all share one type, the first database row
per name (the row ``select ... where name = ? limit 1`` returns, as the seed paper's loader did).
Each entry is tagged with its role in the seed paper (Spellings et al.; the structure lists
``PYRIODIC_TRAIN_STRUCTURES`` / ``PYRIODIC_NOTRAIN_STRUCTURES`` of
klarh/flowws-structure-pretraining, 20221206_geom_pretraining.Makefile).

pyriodic stores Cartesian positions in float32; fractional coordinates within 1e-5 of a multiple
of 1/48 (special Wyckoff positions: 0, 1/8, 1/6, 1/4, 1/3, ...) are snapped to it exactly.

:data:`EXTRA` cells are added by hand where "the first row per name" hides a structure the library
needs: AFLOW's lonsdaleite (A_hP4_194_f) shares the name hP4-C with the three-coordinated cell the
first row gives, so hexagonal diamond enters as ``hP4-Si`` (lonsdaleite-type hexagonal silicon, Si-IV):
P6_3/mmc, 4f at z = 1/16 with the ideal c / a = sqrt(8/3), every bond the same length.
``python benchmarks/make_prototypes.py --extra`` adds them to the shipped file without pyriodic.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

PAPER_TRAIN = "cF4-Cu cI2-W cP1-Po cP46-Si hP2-Mg tP30-U".split()
PAPER_HELD_OUT = (
    "aP4-Cf cF136-Si cF8-C cI16-Li cI16-Si cI58-Mn cP20-Mn hP1-HgSn6-10 hP3-Se hP4-La hP6-C hP6-Sc "
    "hR1-Hg hR1-Po hR105-B hR12-B hR2-As hR2-C hR3-Sm mC12-Po mC16-C mC34-Pu mP16-Pu mP32-Se mP4-Te "
    "mP8-C mP84-P oC4-U oC8-Ga oC8-P oF128-S oF8-Pu oP16-C oP8-Np tI16-S tI2-In tI2-Pa tI4-Si tI4-Sn "
    "tI8-C tP12-C tP12-Si tP4-Np tP50-B"
).split()
SNAP = 48  # special positions are multiples of 1/48 in every AFLOW one-component cell
#: the shipped data file (simssl/library/prototypes.json), written from this script outside the package
OUTPUT = Path(__file__).resolve().parents[1] / "simssl" / "library" / "prototypes.json"


#: hand-made cells (see the module docstring): lattice rows in Angstrom and fractional positions
EXTRA = {
    "hP4-Si": dict(
        name="hP4-Si",
        space_group=194,
        paper=None,
        lattice=[[3.84, 0.0, 0.0], [-1.92, 3.84 * np.sqrt(3) / 2, 0.0], [0.0, 0.0, 3.84 * np.sqrt(8 / 3)]],
        positions=[[1 / 3, 2 / 3, 1 / 16], [2 / 3, 1 / 3, 9 / 16], [2 / 3, 1 / 3, 15 / 16], [1 / 3, 2 / 3, 7 / 16]],
    )
}


def lattice_rows(box) -> np.ndarray:
    """Lattice vectors as rows from a HOOMD box tuple (Lx, Ly, Lz, xy, xz, yz), round-off removed."""
    lx, ly, lz, xy, xz, yz = box
    rows = np.array([[lx, 0.0, 0.0], [xy * ly, ly, 0.0], [xz * lz, yz * lz, lz]])
    rows[np.abs(rows) < 1e-12 * np.abs(rows).max()] = 0.0
    return rows


def fractional(rows: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Fractional coordinates in [0, 1) of pyriodic's centered Cartesian positions, snapped to 1/48."""
    values = np.asarray(positions, dtype=np.float64) @ np.linalg.inv(rows) + 0.5
    snapped = np.round(values * SNAP) / SNAP
    values = np.where(np.abs(values - snapped) < 1e-5, snapped, values)
    return np.round(values % 1.0, 9) % 1.0


def write(entries: dict) -> None:
    """Write the table (header, then one line per prototype, sorted by name) to :data:`OUTPUT`."""
    header = dict(
        source="AFLOW prototype encyclopedia via pyriodic-structures + pyriodic-aflow 0.1.1; see make_prototypes.py",
        lattice="rows are the lattice vectors a, b, c (Angstrom, AFLOW's values)",
        positions="fractional coordinates in [0, 1)",
        paper="role in the seed paper: train, held_out or null",
    )
    lines = [json.dumps(entries[name], separators=(",", ":")) for name in sorted(entries)]
    OUTPUT.write_text(json.dumps(header, indent=1)[:-2] + ',\n "prototypes": [\n' + ",\n".join(lines) + "\n]}\n")
    print(
        f"wrote {len(entries)} prototypes "
        f"({sum(e['paper'] is not None for e in entries.values())} from the seed paper) to {OUTPUT}"
    )


def main() -> None:
    if "--extra" in sys.argv[1:]:  # add EXTRA to the shipped table (no pyriodic needed)
        entries = {entry["name"]: entry for entry in json.loads(OUTPUT.read_text())["prototypes"]}
        write(entries | {name: _rounded(entry) for name, entry in EXTRA.items()})
        return
    import pyriodic

    paper = {name: "train" for name in PAPER_TRAIN} | {name: "held_out" for name in PAPER_HELD_OUT}
    entries = {}
    for name, space_group, structure in pyriodic.db.query(
        "select name, space_group, structure from unit_cells order by rowid"
    ):
        if name in entries or len(np.unique(structure.types)) != 1:
            continue
        rows = lattice_rows(structure.box)
        entries[name] = dict(
            name=name,
            space_group=int(space_group),
            paper=paper.get(name),
            lattice=rows.tolist(),
            positions=fractional(rows, structure.positions).tolist(),
        )
    missing = sorted(set(paper) - set(entries))
    assert not missing, f"seed-paper structures missing from the database: {missing}"
    write(entries | {name: _rounded(entry) for name, entry in EXTRA.items()})


def _rounded(entry: dict) -> dict:
    """An :data:`EXTRA` cell with plain floats rounded like the exported ones."""
    return entry | dict(
        lattice=np.round(np.asarray(entry["lattice"], dtype=float), 12).tolist(),
        positions=np.round(np.asarray(entry["positions"], dtype=float), 9).tolist(),
    )


if __name__ == "__main__":
    main()
