"""Write ``simssl/library/binary_prototypes.json``: the unit cells of the binary (two-type) crystal prototypes.

The facts are the standard descriptions of each structure type (Strukturbericht designation, AFLOW
prototype label, space group, Wyckoff positions and free parameters, lattice constants of the
prototype compound; the AFLOW Library of Crystallographic Prototypes, Mehl et al., Comput. Mater.
Sci. 136, S1 (2017), and Pearson's Handbook). ``ase.spacegroup.crystal`` expands the Wyckoff
positions with the space group's operations; spglib must find the listed space group in the
result (with the two types told apart) and the composition must be the formula's, or nothing is
written. Type A is the first element of the formula (Na in NaCl, Cu in Cu3Au, Mg in MgCu2), type B
the second.

    python benchmarks/make_binary_prototypes.py            # rewrites the json
    python benchmarks/make_binary_prototypes.py --check    # exit 1 if the json differs from what this writes
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

OUTPUT = Path(__file__).resolve().parents[1] / "simssl" / "library" / "binary_prototypes.json"


@dataclass(frozen=True)
class Prototype:
    """One binary structure type as the tables give it.

    ``sites``: (type 0 = A or 1 = B, Wyckoff label, fractional coordinates of the representative)
    in the setting ``setting`` of ``ase.spacegroup`` (origin choice 1 for Fd-3m).
    """

    name: str
    strukturbericht: str
    aflow: str
    elements: tuple[str, str]
    formula: tuple[int, int]  # atoms of A and B per formula unit
    space_group: int
    cellpar: tuple[float, float, float, float, float, float]  # a, b, c (Angstrom), alpha, beta, gamma
    sites: tuple[tuple[int, str, tuple[float, float, float]], ...]
    setting: int = 1


CUBIC = (90.0, 90.0, 90.0)
HEXAGONAL = (90.0, 90.0, 120.0)
PROTOTYPES = (
    Prototype(
        "B1-NaCl", "B1", "AB_cF8_225_a_b", ("Na", "Cl"), (1, 1), 225, (5.64, 5.64, 5.64, *CUBIC),
        ((0, "4a", (0, 0, 0)), (1, "4b", (0.5, 0.5, 0.5))),
    ),
    Prototype(
        "B2-CsCl", "B2", "AB_cP2_221_a_b", ("Cs", "Cl"), (1, 1), 221, (4.12, 4.12, 4.12, *CUBIC),
        ((0, "1a", (0, 0, 0)), (1, "1b", (0.5, 0.5, 0.5))),
    ),
    Prototype(
        "B3-ZnS", "B3", "AB_cF8_216_a_c", ("Zn", "S"), (1, 1), 216, (5.41, 5.41, 5.41, *CUBIC),
        ((0, "4a", (0, 0, 0)), (1, "4c", (0.25, 0.25, 0.25))),
    ),
    Prototype(
        "B4-ZnS", "B4", "AB_hP4_186_b_b", ("Zn", "S"), (1, 1), 186, (3.82, 3.82, 6.26, *HEXAGONAL),
        ((0, "2b", (1 / 3, 2 / 3, 0)), (1, "2b", (1 / 3, 2 / 3, 0.375))),
    ),
    Prototype(
        "L1_2-Cu3Au", "L1_2", "AB3_cP4_221_a_c", ("Cu", "Au"), (3, 1), 221, (3.75, 3.75, 3.75, *CUBIC),
        ((0, "3c", (0, 0.5, 0.5)), (1, "1a", (0, 0, 0))),
    ),
    Prototype(
        "L1_0-CuAu", "L1_0", "AB_tP2_123_a_d", ("Cu", "Au"), (1, 1), 123, (2.80, 2.80, 3.67, *CUBIC),
        ((0, "1d", (0.5, 0.5, 0.5)), (1, "1a", (0, 0, 0))),
    ),
    Prototype(
        "C15-MgCu2", "C15", "AB2_cF24_227_a_d", ("Mg", "Cu"), (1, 2), 227, (7.04, 7.04, 7.04, *CUBIC),
        ((0, "8a", (0, 0, 0)), (1, "16d", (0.625, 0.625, 0.625))),
    ),
    Prototype(
        "C14-MgZn2", "C14", "AB2_hP12_194_f_ah", ("Mg", "Zn"), (1, 2), 194, (5.221, 5.221, 8.567, *HEXAGONAL),
        ((0, "4f", (1 / 3, 2 / 3, 0.0629)), (1, "2a", (0, 0, 0)), (1, "6h", (0.8305, 0.661, 0.25))),
    ),
    Prototype(
        "C32-AlB2", "C32", "AB2_hP3_191_a_d", ("Al", "B"), (1, 2), 191, (3.009, 3.009, 3.262, *HEXAGONAL),
        ((0, "1a", (0, 0, 0)), (1, "2d", (1 / 3, 2 / 3, 0.5))),
    ),
    Prototype(
        "D2_d-CaCu5", "D2_d", "AB5_hP6_191_a_cg", ("Ca", "Cu"), (1, 5), 191, (5.082, 5.082, 4.078, *HEXAGONAL),
        ((0, "1a", (0, 0, 0)), (1, "2c", (1 / 3, 2 / 3, 0)), (1, "3g", (0.5, 0, 0.5))),
    ),
    Prototype(
        "D2_3-NaZn13", "D2_3", "AB13_cF112_226_a_bi", ("Na", "Zn"), (1, 13), 226, (12.2836, 12.2836, 12.2836, *CUBIC),
        ((0, "8a", (0.25, 0.25, 0.25)), (1, "8b", (0, 0, 0)), (1, "96i", (0, 0.1806, 0.1192))),
    ),
)  # fmt: skip
SYMPREC = 1e-3  # Angstrom


def unit_cell(prototype: Prototype) -> dict:
    """The expanded cell of ``prototype`` as a json entry (lattice rows, fractional positions, types, sites)."""
    from ase.spacegroup import crystal

    atoms = crystal(
        [prototype.elements[t] for t, _, _ in prototype.sites],
        basis=[coordinates for _, _, coordinates in prototype.sites],
        spacegroup=prototype.space_group,
        setting=prototype.setting,
        cellpar=list(prototype.cellpar),
    )
    kinds = atoms.get_array("spacegroup_kinds")
    types = np.array([prototype.sites[k][0] for k in kinds])
    lattice = atoms.cell.array.copy()
    lattice[np.abs(lattice) < 1e-12] = 0.0
    return dict(
        name=prototype.name,
        strukturbericht=prototype.strukturbericht,
        aflow=prototype.aflow,
        elements=list(prototype.elements),
        space_group=prototype.space_group,
        lattice=np.round(lattice, 12).tolist(),
        positions=np.round(atoms.get_scaled_positions() % 1.0, 12).tolist(),
        types=types.tolist(),
        sites=[f"{prototype.elements[prototype.sites[k][0]]} {prototype.sites[k][1]}" for k in kinds],
    )


def checked(entry: dict, prototype: Prototype) -> dict:
    """``entry`` after spglib confirms its space group and its composition matches the formula."""
    import spglib

    types = np.asarray(entry["types"])
    counts = np.bincount(types, minlength=2)
    if counts[0] * prototype.formula[1] != counts[1] * prototype.formula[0]:
        raise SystemExit(f"{prototype.name}: {counts.tolist()} atoms of A and B, not the formula {prototype.formula}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        dataset = spglib.get_symmetry_dataset((entry["lattice"], entry["positions"], types), symprec=SYMPREC)
    if dataset is None or dataset.number != prototype.space_group:
        found = None if dataset is None else dataset.number
        raise SystemExit(f"{prototype.name}: spglib finds space group {found}, not {prototype.space_group}")
    return entry


def table() -> str:
    """The json text: a header saying where the numbers come from, then one entry per prototype."""
    header = dict(
        source="Strukturbericht / AFLOW prototype descriptions, expanded with ase.spacegroup and checked with spglib; "
        "see benchmarks/make_binary_prototypes.py",
        lattice="rows are the lattice vectors a, b, c (Angstrom, the prototype compound's)",
        positions="fractional coordinates in [0, 1)",
        types="0 = A (first element of the formula), 1 = B",
        sites="element and Wyckoff position of every atom",
    )
    entries = [checked(unit_cell(p), p) for p in PROTOTYPES]
    lines = ",\n".join(json.dumps(entry, separators=(",", ":")) for entry in entries)
    return json.dumps(header, indent=1)[:-2] + ',\n "prototypes": [\n' + lines + "\n ]\n}\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the shipped file instead of writing it")
    args = parser.parse_args(argv)
    text = table()
    if args.check:
        same = OUTPUT.exists() and OUTPUT.read_text() == text
        print(f"{OUTPUT}: {'up to date' if same else 'DIFFERS from what this script writes'}")
        return 0 if same else 1
    OUTPUT.write_text(text)
    print(f"wrote {len(PROTOTYPES)} binary prototypes to {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
