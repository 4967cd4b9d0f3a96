"""Is every kind of disorder what it claims, and what does it cost? Builds every kind of
``simssl.library.liquids.DISORDER_KINDS`` (held-out ones too) from scratch and measures its frames.

Per kind: particles and frames, number density (and g/cm^3 for the Stillinger-Weber kinds, in
Angstrom), the first minimum of g(r) and the mean coordination within it (per state point), the mean tetrahedral order
q_tet of the four nearest neighbors, the mean q6 (12 nearest), the fraction OVITO calls crystalline
(PTM with its default RMSD cutoff; adaptive CNA plus diamond identification; the largest over the
frames), and the CPU seconds of MD that built it (serial: run with ``OMP_NUM_THREADS=1``). Two more
rows check state points by superheating: an fcc crystal at the WCA and Hertzian state points melts
within a short run, so these states lie above the crystal's melting line.

Each kind is rebuilt into the cache that ``simssl.library.liquids.disorder_frames`` reads (``--cache``;
default ``simssl.cache.cache_directory()``), so a later reference build skips the MD. Prints a
markdown table and appends it under ``## disorder_kinds`` in ``benchmarks/RESULTS.md``.

    OMP_NUM_THREADS=1 python benchmarks/disorder_kinds.py            # every kind, ~10 min of serial MD
    OMP_NUM_THREADS=1 python benchmarks/disorder_kinds.py --kinds sw_si mw_water --no-append
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
from common import report

from simssl.library import checks
from simssl.library.liquids import DISORDER_KINDS, disorder_frames
from simssl.library.md import Hertzian, LennardJones

HEADING = "## disorder_kinds"
HERE = Path(__file__).resolve().parent
#: grams per mole of the Stillinger-Weber kinds' particles (number density in A^-3 -> g/cm^3)
MOLAR_MASS = {"Si": 28.0855, "W": 18.015}
AVOGADRO = 6.02214076e23
#: (name, potential, number density, temperature, time step, steps) of the superheating checks
SUPERHEATED = (
    ("WCA, density 0.85, T = 1.0", LennardJones(2 ** (1 / 6)), 0.85, 1.0, 0.004, 4000),
    ("Hertzian, density 1.0, T = 0.01", Hertzian(), 1.0, 0.01, 0.02, 4000),
)
#: radii (Angstrom) of the fixed-radius coordination numbers of the Stillinger-Weber kinds
RADII = (2.97, 3.1, 3.5)
#: particles of the superheated crystals (7^3 fcc cells)
FCC_PARTICLES = 1372


def superheating_rows() -> list[str]:
    """One table row per :data:`SUPERHEATED` state: PTM's crystalline fraction of an fcc start before and after."""
    rows = []
    for label, potential, density, temperature, dt, steps in SUPERHEATED:
        before, after = checks.superheated_fcc(potential, density, temperature, dt, steps, n_particles=FCC_PARTICLES)
        rows.append(f"| {label} | {FCC_PARTICLES} | {before:.2f} | {after:.3f} after {steps} steps |")
    return rows


def states(frames) -> list[list]:
    """``frames`` grouped by state point: number densities within 2 % (constant-pressure runs fluctuate)."""
    groups: list[list] = []
    for frame in frames:
        density = checks.number_density(frame)
        match = next((g for g in groups if abs(checks.number_density(g[0]) / density - 1) < 0.02), None)
        match.append(frame) if match is not None else groups.append([frame])
    return groups


def measure(name: str, frames) -> str:
    """The table row of one kind (first shell per state point, the rest averaged or the worst over frames)."""
    density = np.mean([checks.number_density(frame) for frame in frames])
    element = frames[0].type_names[0]
    if element in MOLAR_MASS:
        density_text = f"{density:.4f} A^-3 ({density * MOLAR_MASS[element] / AVOGADRO * 1e24:.3f} g/cm^3)"
    else:
        density_text = f"{density:.4f}"
    shells = np.array([checks.first_shell(group) for group in states(frames)])
    fractions = [checks.crystalline_fractions(frame) for frame in frames]
    kind = DISORDER_KINDS[name]
    tetrahedral, q6 = np.mean([checks.tetrahedrality(f) for f in frames]), np.mean([checks.mean_q6(f) for f in frames])
    return (
        f"| {name} | {kind.family}{' (held out)' if kind.held_out else ''} | {frames[0].n_particles} | "
        f"{len(frames)} | {density_text} | {' / '.join(f'{r:.3g}' for r in shells[:, 0])} | "
        f"{' / '.join(f'{n:.1f}' for n in shells[:, 1])} | {tetrahedral:.3f} | {q6:.3f} | "
        f"{max(f['ptm'] for f in fractions):.3f} | {max(f['cna'] for f in fractions):.3f} |"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kinds", nargs="+", choices=list(DISORDER_KINDS), help="only these kinds (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", type=Path, help="cache folder (sets SIMSSL_CACHE; default: simssl's cache)")
    parser.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--no-append", action="store_true", help="print only; do not append to the results file")
    args = parser.parse_args(argv)
    if args.cache is not None:
        os.environ["SIMSSL_CACHE"] = str(args.cache)
    names = args.kinds or list(DISORDER_KINDS)
    rows, network, cost = [], [], {}
    for name in names:
        kind = DISORDER_KINDS[name]
        kind.cache_path(args.seed).unlink(missing_ok=True)  # built from scratch, timed, and cached
        cpu, wall = time.process_time(), time.perf_counter()
        frames = disorder_frames([name], seed=args.seed, progress=False)[name]
        cost[name] = (time.process_time() - cpu, time.perf_counter() - wall)
        print(f"{name}: {cost[name][0]:.1f} s CPU, {cost[name][1]:.1f} s wall", flush=True)
        rows.append(measure(name, frames) + f" {kind.engine} | {cost[name][0]:.0f} |")
        if frames[0].type_names[0] in MOLAR_MASS:
            counts = " | ".join(f"{checks.coordination(frames, radius):.2f}" for radius in RADII)
            network.append(f"| {name} | {counts} |")
    total = sum(cpu for cpu, _ in cost.values())
    lines = [
        f"- workload: {len(names)} kinds of disorder, seed {args.seed}; building all of them: {total:.0f} s of CPU "
        f"({sum(wall for _, wall in cost.values()):.0f} s wall), serial",
        "",
        "| kind | family | particles | frames | number density | r at g(r)'s first minimum | coordination "
        "| q_tet | q6 | crystalline, PTM | crystalline, a-CNA | engine | build CPU s |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|",
        *rows,
        "",
        "Coordination of the Stillinger-Weber kinds within fixed radii (liquid silicon's first minimum is shallow: "
        "g ~ 0.9-1 from 2.9 to 3.4 A):",
        "",
        "| kind | " + " | ".join(f"within {radius:g} A" for radius in RADII) + " |",
        "|---|" + "---:|" * len(RADII),
        *network,
        "",
        "Superheating checks (the state point lies above the melting line if the crystal melts):",
        "",
        "| state | particles | fcc start, PTM crystalline | after |",
        "|---|---:|---:|---|",
        *superheating_rows(),
    ]
    report("\n".join(lines), args.results, HEADING, "disorder_kinds.py", argv, append=not args.no_append)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
