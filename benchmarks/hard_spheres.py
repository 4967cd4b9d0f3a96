"""Hard spheres from HOOMD-blue HPMC: equilibrated fluids at packing fractions 0.05-0.45 and a random-stacked crystal.

What self-assembly runs start from (a hard-sphere fluid) and what they end in (a close-packed crystal
whose layers stack at random): test systems for open-set identification (``identification.py
--parts fluids,stacking``). Diameter 1, ``--particles`` (~2,000) spheres per fluid and 4,000 in the
crystal, one CPU thread, cached as GSD files in ``--cache`` under a hash of everything that decides
them (``lammps_cache.cached_file``).

* Fluids, packing fraction 0.05, 0.1, 0.2, 0.3, 0.4, 0.45: the spheres start on a simple-cubic
  lattice at the target density (its spacing exceeds the diameter up to packing fraction pi/6 =
  0.52, so no compression is needed), the translation move size is tuned to 30 % acceptance
  during the first ``TUNE`` sweeps and then fixed, ``EQUILIBRATE`` sweeps melt and decorrelate the
  lattice, and ``FRAMES`` frames follow ``SPACING`` sweeps apart. The fluid is stable below
  freezing (0.494), so nothing may crystallize.
* Random-stacked crystal: close-packed layers in a random sequence (each fcc- or hcp-like at random,
  ``simssl.library.defects.random_stacking``), expanded to packing fraction 0.58 (in the solid,
  above melting at 0.545), then the same sweeps: a thermal hard-sphere crystal whose per-particle
  first-shell truth (fcc/hcp) is the stacking's (layers do not slide in these runs).

Every frame logs the sweeps so far, the move size and the accepted/rejected moves, so the table this
prints (steps, acceptance, mean squared displacement from the start) shows what equilibrated means.

    python benchmarks/hard_spheres.py                 # ~20 min the first time on a busy 2-core machine
    python benchmarks/hard_spheres.py --particles 500
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import gsd.hoomd
import numpy as np
from lammps_cache import cached_file

from simssl.library.defects import LAYER_SPACING, Stack, close_packed_stack, random_stacking

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".hard_sphere_cache"
PACKING_FRACTIONS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.45)
PARTICLES = 2000
TUNE = 2000  # sweeps of move-size tuning (to ACCEPTANCE), then the move size is fixed
ACCEPTANCE = 0.3
MAX_MOVE = 3.0  # largest translation move (diameters): dilute fluids would otherwise move box-wide
EQUILIBRATE = 20000  # sweeps after tuning, before the first frame
SPACING = 5000  # sweeps between frames
FRAMES = 4
CRYSTAL_PACKING = 0.58  # random-stacked crystal: in the solid (melting 0.545, close packing 0.7405)
STACK_LAYERS = 24
STACK_PARTICLES = 4000  # 24 layers of 168: a box about 12 x 12 x 21 diameters
CLOSE_PACKING = np.pi / np.sqrt(18)


def simple_cubic_start(n: int, packing_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Box rows (3, 3) and centered positions (n, 3): the first ``n`` sites of the smallest simple-cubic
    lattice with at least ``n`` sites, filling a cube at ``packing_fraction`` (diameter 1)."""
    edge = (n * np.pi / 6 / packing_fraction) ** (1 / 3)
    m = int(np.ceil(n ** (1 / 3)))
    if edge / m < 1:
        raise SystemExit(f"a simple-cubic start at packing fraction {packing_fraction} would overlap")
    sites = np.stack(np.meshgrid(*[np.arange(m)] * 3, indexing="ij"), -1).reshape(-1, 3)[:n]
    return np.eye(3) * edge, (sites + 0.5) * edge / m - edge / 2


def run_hpmc(box: np.ndarray, positions: np.ndarray, seed: int, path: Path) -> None:
    """Hard spheres (diameter 1) from ``positions`` in the orthorhombic ``box``: tune, equilibrate, write FRAMES.

    Each GSD frame stores positions, images and the box, and logs ``hpmc/sweeps``, ``hpmc/d``,
    ``hpmc/translate_moves`` (accepted, rejected since the move size was fixed, summed over runs) and ``hpmc/msd`` (mean
    squared displacement from ``positions``, diameters^2).
    """
    import hoomd

    sim = hoomd.Simulation(device=hoomd.device.CPU(), seed=seed)
    snapshot = hoomd.Snapshot()
    snapshot.configuration.box = [*np.diag(box), 0.0, 0.0, 0.0]
    snapshot.particles.N = len(positions)
    snapshot.particles.types = ["A"]
    snapshot.particles.position[:] = positions
    snapshot.particles.typeid[:] = 0
    sim.create_state_from_snapshot(snapshot)
    mc = hoomd.hpmc.integrate.Sphere(default_d=0.1, nselect=1)
    mc.shape["A"] = dict(diameter=1.0)
    sim.operations.integrator = mc
    tuner = hoomd.hpmc.tune.MoveSize.scale_solver(
        moves=["d"], target=ACCEPTANCE, trigger=hoomd.trigger.Periodic(50), max_translation_move=MAX_MOVE
    )
    sim.operations.tuners.append(tuner)
    sim.run(TUNE)
    sim.operations.tuners.remove(tuner)
    if mc.overlaps:
        raise SystemExit(f"{mc.overlaps} overlapping pairs after tuning")
    sim.run(EQUILIBRATE)
    moves = np.array(mc.translate_moves)  # HOOMD counts the moves of the last run() only
    with gsd.hoomd.open(path, "w") as trajectory:
        for index in range(FRAMES):
            if index:
                sim.run(SPACING)
                moves += mc.translate_moves
            state = sim.state.get_snapshot()
            frame = gsd.hoomd.Frame()
            frame.configuration.step = sim.timestep
            frame.configuration.box = [*np.diag(box), 0.0, 0.0, 0.0]
            frame.particles.N = state.particles.N
            frame.particles.types = ["A"]
            frame.particles.typeid = np.asarray(state.particles.typeid)
            frame.particles.position = np.asarray(state.particles.position, dtype=np.float32)
            frame.particles.image = np.asarray(state.particles.image)
            frame.particles.diameter = np.ones(state.particles.N, dtype=np.float32)
            unwrapped = state.particles.position + state.particles.image * np.diag(box)
            frame.log = {
                "hpmc/msd": np.array([np.mean(np.sum((unwrapped - positions) ** 2, axis=1))]),
                "hpmc/sweeps": np.array([sim.timestep]),
                "hpmc/d": np.array([mc.d["A"]]),
                "hpmc/translate_moves": moves.copy(),
            }
            trajectory.append(frame)
    if mc.overlaps:
        raise SystemExit(f"{mc.overlaps} overlapping pairs at the end of the run")


def _key(kind: str, **parameters) -> str:
    run = dict(tune=TUNE, acceptance=ACCEPTANCE, max_move=MAX_MOVE, equilibrate=EQUILIBRATE, spacing=SPACING)
    return json.dumps(dict(kind=kind, frames=FRAMES, **run, **parameters), sort_keys=True)


def fluid(packing_fraction: float, cache: Path = CACHE, n: int = PARTICLES, seed: int = 0) -> tuple[Path, float]:
    """The cached GSD file of an equilibrated hard-sphere fluid (made now if missing) and the seconds spent."""
    box, positions = simple_cubic_start(n, packing_fraction)
    return cached_file(
        cache,
        f"fluid-{packing_fraction:g}",
        _key("fluid", packing_fraction=packing_fraction, n=n, seed=seed),
        ".gsd",
        lambda partial: run_hpmc(box, positions, seed + 1, partial),
    )


def stacked_crystal(cache: Path = CACHE, n: int = STACK_PARTICLES, seed: int = 0) -> tuple[Path, float, Stack]:
    """The cached GSD file of a random-stacked hard-sphere crystal at CRYSTAL_PACKING, the seconds spent, and
    the construction (``simssl.library.defects.Stack``: first-shell truth and layer of every particle, in
    the file's order)."""
    sequence = random_stacking(STACK_LAYERS, seed=seed)
    stack = close_packed_stack(sequence, n_particles=n)
    scale = (CLOSE_PACKING / CRYSTAL_PACKING) ** (1 / 3)  # nearest-neighbor distance at the packing fraction
    box = np.asarray(stack.frame.box.to_matrix()).T * scale
    path, seconds = cached_file(
        cache,
        "random-stacked",
        _key("stack", sequence=sequence, n=n, seed=seed, packing=CRYSTAL_PACKING, layer=LAYER_SPACING),
        ".gsd",
        lambda partial: run_hpmc(box, stack.frame.positions.astype(np.float64) * scale, seed + 1, partial),
    )
    return path, seconds, stack


def statistics(path: Path) -> dict[str, float]:
    """Sweeps, move size and acceptance (after tuning), and the mean squared displacement (diameters^2) from
    the start at the first frame and between the first and last frames, from a run's GSD file."""
    with gsd.hoomd.open(path, "r") as trajectory:
        first, last = trajectory[0], trajectory[-1]
    edges = np.asarray(first.configuration.box[:3])
    unwrapped = [f.particles.position + f.particles.image * edges for f in (first, last)]
    accepted, rejected = last.log["hpmc/translate_moves"]
    return dict(
        sweeps=int(last.log["hpmc/sweeps"][0]),
        d=float(last.log["hpmc/d"][0]),
        acceptance=accepted / (accepted + rejected),
        msd_start=float(first.log["hpmc/msd"][0]),
        msd_frames=float(np.mean(np.sum((unwrapped[1] - unwrapped[0]) ** 2, axis=1))),
    )


def table(runs) -> list[str]:
    """Markdown rows: per run (label, GSD path, seconds spent), its sweeps, acceptance and displacements."""
    lines = [
        "| system | sweeps | move size d | acceptance | MSD start to frame 1 | MSD frame 1 to last | made in |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for label, path, seconds in runs:
        s = statistics(path)
        cells = [str(s["sweeps"]), f"{s['d']:.3f}", f"{s['acceptance']:.3f}", f"{s['msd_start']:.3g}"]
        cells += [f"{s['msd_frames']:.3g}", f"{seconds:.0f} s" if seconds else "cached"]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--particles", type=int, default=PARTICLES, help=f"spheres (default: {PARTICLES})")
    parser.add_argument("--seed", type=int, default=0, help="seed of the Monte Carlo moves (default: 0)")
    parser.add_argument("--cache", type=Path, default=CACHE, help=f"folder of the GSD files (default: {CACHE})")
    args = parser.parse_args(argv)
    runs = [(f"fluid {phi:g}", *fluid(phi, args.cache, args.particles, args.seed)) for phi in PACKING_FRACTIONS]
    runs.append((f"random-stacked crystal {CRYSTAL_PACKING:g}", *stacked_crystal(args.cache, seed=args.seed)[:2]))
    print("\n".join(table(runs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
