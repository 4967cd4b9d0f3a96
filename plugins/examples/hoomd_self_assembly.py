"""Self-assembly watched live: a Lennard-Jones liquid quenched in HOOMD-blue crystallizes while simssl logs its order.

2,048 LJ particles at number density 1.0 are melted at kT = 2.5 (3,000 steps), then quenched to
kT = 0.45, deep in the solid region: crystals nucleate within ~10,000 steps and grow through most of
the box within 40,000 (about two to three minutes on 2 CPU cores; nucleation is random, so the
onset varies from run to run). simssl's OrderAnalyzer runs as a HOOMD writer every 2,000 steps
and HOOMD's GSD writer logs its q4, q6 and embeddings into the trajectory at the same steps. The
script prints the logged order per frame and runs ``simssl plot``: the fraction of ordered particles
rises over time. ``--small`` runs 256 particles for a few hundred steps (a smoke test: no crystal).

Needs HOOMD-blue (``conda install -c conda-forge hoomd``) next to simssl. Run::

    python plugins/examples/hoomd_self_assembly.py --output quench.gsd    # then see quench.order_*.png
    python plugins/examples/hoomd_self_assembly.py --small --output small.gsd
"""

from __future__ import annotations

import argparse
import time

import gsd.hoomd
import hoomd
import numpy as np

from simssl.cli import main as simssl_main
from simssl.plugins.hoomd import NAMESPACE, OrderAnalyzer

#: full run and --small run: (fcc cells per edge, melt steps, quench steps, steps between frames)
SIZES = {"full": (8, 3_000, 40_000, 2_000), "small": (4, 200, 600, 200)}


def liquid(
    cells: int, density: float, kT: float, seed: int
) -> tuple[hoomd.Simulation, hoomd.md.methods.thermostats.Bussi]:
    """LJ particles on an FCC lattice of ``cells``^3 unit cells, with a Bussi NVT integrator at ``kT``.

    Melt it by running.
    """
    a = (4 / density) ** (1 / 3)
    basis = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]]) + 0.25
    corners = np.stack(np.meshgrid(*[np.arange(cells)] * 3, indexing="ij"), axis=-1).reshape(-1, 1, 3)
    length = cells * a
    simulation = hoomd.Simulation(device=hoomd.device.auto_select(), seed=seed)
    snapshot = hoomd.Snapshot(simulation.device.communicator)
    if snapshot.communicator.rank == 0:
        snapshot.configuration.box = [length] * 3 + [0, 0, 0]
        snapshot.particles.N = 4 * cells**3
        snapshot.particles.types = ["A"]
        snapshot.particles.position[:] = (corners + basis).reshape(-1, 3) * a - length / 2
    simulation.create_state_from_snapshot(snapshot)
    lj = hoomd.md.pair.LJ(nlist=hoomd.md.nlist.Cell(buffer=0.4), default_r_cut=2.5)
    lj.params[("A", "A")] = dict(epsilon=1.0, sigma=1.0)
    thermostat = hoomd.md.methods.thermostats.Bussi(kT=kT)
    method = hoomd.md.methods.ConstantVolume(filter=hoomd.filter.All(), thermostat=thermostat)
    simulation.operations.integrator = hoomd.md.Integrator(dt=0.005, methods=[method], forces=[lj])
    simulation.state.thermalize_particle_momenta(filter=hoomd.filter.All(), kT=kT)
    return simulation, thermostat


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="quench.gsd", help="GSD trajectory to write (overwritten)")
    parser.add_argument(
        "--model", default="default", help="simssl model: default, random (untrained) or a checkpoint path"
    )
    parser.add_argument(
        "--small", action="store_true", help="256 particles, 800 steps: a smoke test that runs in seconds"
    )
    args = parser.parse_args(argv)
    cells, melt_steps, quench_steps, period = SIZES["small" if args.small else "full"]

    simulation, thermostat = liquid(cells, density=1.0, kT=2.5, seed=2)
    analyzer = OrderAnalyzer(model=args.model, steinhardt=(4, 6))
    simulation.operations.writers.append(
        hoomd.write.CustomWriter(action=analyzer, trigger=hoomd.trigger.Periodic(period))
    )
    logger = hoomd.logging.Logger(categories=["particle", "string"])  # "string": the run record, for simssl info
    logger.add(analyzer)
    trajectory = hoomd.write.GSD(trigger=hoomd.trigger.Periodic(period), filename=args.output, mode="wb", logger=logger)

    start = time.perf_counter()
    simulation.run(melt_steps)  # melt the lattice; the trajectory starts with the liquid
    simulation.operations.writers.append(trajectory)
    thermostat.kT = 0.45
    simulation.run(quench_steps, write_at_start=True)
    trajectory.flush()
    seconds = time.perf_counter() - start

    if simulation.device.communicator.rank != 0:
        return
    log = gsd.hoomd.read_log(args.output)
    q6 = log[f"log/particles/{NAMESPACE}/q6"]
    print(
        f"{args.output}: {len(q6)} frames of {q6.shape[1]} particles in {seconds:.0f} s "
        f"(melt at kT 2.5, quench to kT 0.45 from step {melt_steps})"
    )
    for step, values in zip(log["configuration/step"], q6):
        print(f"step {step:>7d}   mean q6 {values.mean():.4f}   q6 > 0.45: {np.mean(values > 0.45):.3f}")
    simssl_main(["plot", args.output, "--q6-threshold", "0.45", "--force"])  # reads HOOMD's logged quantities


if __name__ == "__main__":
    main()
