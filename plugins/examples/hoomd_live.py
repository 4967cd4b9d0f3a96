"""Live order analysis of a Lennard-Jones crystal, melted and then quenched, in HOOMD-blue (4.x or 5.x).

An FCC crystal at number density 1.0 (reduced LJ units) is melted at kT = 2.0 and then quenched to
kT = 0.7, in the solid region of the LJ phase diagram at this density. simssl's OrderAnalyzer
runs as a HOOMD writer; HOOMD's GSD writer logs its per-particle q4, q6 and embeddings into the
trajectory, and the script reads them back with gsd to print the mean q6 of every frame.

Needs HOOMD-blue (``conda install -c conda-forge hoomd``) next to simssl. Run::

    python plugins/examples/hoomd_live.py --output hoomd_live.gsd
    mpirun -n 2 python plugins/examples/hoomd_live.py   # MPI: rank 0 gathers and analyzes
"""

import argparse

import gsd.hoomd
import hoomd
import numpy as np

from simssl.plugins.hoomd import NAMESPACE, OrderAnalyzer


def fcc_positions(cells: int, density: float):
    """Box length and positions of an FCC crystal of ``cells``^3 unit cells, centered on the origin."""
    a = (4 / density) ** (1 / 3)
    basis = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    corners = np.stack(np.meshgrid(*[np.arange(cells)] * 3, indexing="ij"), axis=-1).reshape(-1, 1, 3)
    length = cells * a
    return length, ((corners + basis).reshape(-1, 3) + 0.25) * a - length / 2


def build_simulation(cells: int, density: float, kT: float, seed: int):
    """An LJ crystal with a Bussi-thermostatted constant-volume integrator (HOOMD 4/5 API)."""
    simulation = hoomd.Simulation(device=hoomd.device.auto_select(), seed=seed)
    snapshot = hoomd.Snapshot(simulation.device.communicator)
    if snapshot.communicator.rank == 0:
        length, positions = fcc_positions(cells, density)
        snapshot.configuration.box = [length, length, length, 0, 0, 0]
        snapshot.particles.N = len(positions)
        snapshot.particles.types = ["A"]
        snapshot.particles.position[:] = positions
    simulation.create_state_from_snapshot(snapshot)

    lj = hoomd.md.pair.LJ(nlist=hoomd.md.nlist.Cell(buffer=0.4), default_r_cut=2.5)
    lj.params[("A", "A")] = dict(epsilon=1.0, sigma=1.0)
    thermostat = hoomd.md.methods.thermostats.Bussi(kT=kT)
    method = hoomd.md.methods.ConstantVolume(filter=hoomd.filter.All(), thermostat=thermostat)
    simulation.operations.integrator = hoomd.md.Integrator(dt=0.005, methods=[method], forces=[lj])
    simulation.state.thermalize_particle_momenta(filter=hoomd.filter.All(), kT=kT)
    return simulation, thermostat


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="hoomd_live.gsd", help="GSD trajectory to write (overwritten)")
    parser.add_argument(
        "--model", default="default", help="simssl model: default, random (untrained) or a checkpoint path"
    )
    parser.add_argument("--cells", type=int, default=8, help="FCC unit cells per box edge (4 particles each)")
    parser.add_argument("--melt-steps", type=int, default=5_000)
    parser.add_argument("--quench-steps", type=int, default=40_000)
    parser.add_argument("--period", type=int, default=1_000, help="steps between analyses and GSD frames")
    args = parser.parse_args(argv)

    simulation, thermostat = build_simulation(args.cells, density=1.0, kT=2.0, seed=1)

    analyzer = OrderAnalyzer(model=args.model, steinhardt=(4, 6))
    trigger = hoomd.trigger.Periodic(args.period)
    simulation.operations.writers.append(hoomd.write.CustomWriter(action=analyzer, trigger=trigger))
    logger = hoomd.logging.Logger(categories=["particle", "string"])
    logger.add(analyzer)  # q4, q6, embedding under log/particles/simssl/plugins/hoomd/OrderAnalyzer/; its record
    trajectory = hoomd.write.GSD(trigger=trigger, filename=args.output, mode="wb", logger=logger)
    simulation.operations.writers.append(trajectory)

    simulation.run(args.melt_steps, write_at_start=True)  # the first frame is the perfect crystal
    thermostat.kT = 0.7
    simulation.run(args.quench_steps)
    trajectory.flush()

    if simulation.device.communicator.rank == 0:
        log = gsd.hoomd.read_log(args.output)
        q6 = log[f"log/particles/{NAMESPACE}/q6"]
        embeddings = log[f"log/particles/{NAMESPACE}/embedding"]
        print(
            f"{args.output}: {len(q6)} frames of {q6.shape[1]} particles, "
            f"embeddings of dimension {embeddings.shape[-1]}"
        )
        for step, values in zip(log["configuration/step"], q6):
            print(f"step {step:>7d}   mean q6 {values.mean():.4f}")


if __name__ == "__main__":
    main()
