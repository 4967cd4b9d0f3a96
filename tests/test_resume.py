"""A processing run killed with SIGKILL resumes with --resume to exactly the uninterrupted output."""

import os
import signal
import subprocess
import sys
import time

import freud
import gsd.hoomd
import numpy as np
import pytest

import simssl
from simssl.cli import main
from simssl.io.writers import partial_path

N_FRAMES = 10


@pytest.fixture(scope="module")
def trajectory(tmp_path_factory):
    """Enough work per frame (6,912 particles, Steinhardt l=2..12 with w_l and averages) to be killed mid-run."""
    path = tmp_path_factory.mktemp("resume") / "long.gsd"
    with gsd.hoomd.open(str(path), "w") as out:
        for step in range(N_FRAMES):
            box, points = freud.data.UnitCell.fcc().generate_system(12, sigma_noise=0.02 + 0.01 * step, seed=step)
            frame = gsd.hoomd.Frame()
            frame.configuration.box = [box.Lx, box.Ly, box.Lz, 0, 0, 0]
            frame.configuration.step = 100 * step
            frame.particles.N = len(points)
            frame.particles.position = box.wrap(points).astype(np.float32)
            out.append(frame)
    return path


def frames_written(path) -> int:
    try:
        with gsd.hoomd.open(str(path), "r") as partial:
            return len(partial)
    except Exception:  # not created yet, or its first frame is being written
        return 0


def test_kill_then_resume_equals_uninterrupted(trajectory, tmp_path):
    arguments = ["process", str(trajectory), "--steinhardt", "2,4,6,8,10,12", "--wl", "--average", "--quiet"]
    reference = tmp_path / "reference.gsd"
    assert main(arguments + ["-o", str(reference)]) == 0

    output = tmp_path / "resumed.gsd"
    run = subprocess.Popen([sys.executable, "-m", "simssl.cli", *arguments, "-o", str(output)])
    deadline = time.monotonic() + 120
    while frames_written(partial_path(str(output))) < 3 and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert run.poll() is None, "the run finished before it could be killed; give it more work"
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    assert not output.exists()  # a killed run leaves no output, only its hidden partial file
    kept = frames_written(partial_path(str(output)))
    assert 3 <= kept < N_FRAMES

    assert main(arguments + ["-o", str(output), "--resume"]) == 0
    assert not os.path.exists(partial_path(str(output)))
    with gsd.hoomd.open(str(reference)) as expected, gsd.hoomd.open(str(output)) as resumed:
        assert len(resumed) == len(expected) == N_FRAMES
        for a, b in zip(expected, resumed):
            assert a.configuration.step == b.configuration.step
            np.testing.assert_array_equal(a.particles.position, b.particles.position)
            assert sorted(a.log) == sorted(b.log)
            for key in a.log:
                np.testing.assert_array_equal(a.log[key], b.log[key])


def test_resume_refuses_what_it_cannot_continue(trajectory, tmp_path):
    done = tmp_path / "done.gsd"
    simssl.process(trajectory, done, frames="0:2", progress=False)
    with pytest.raises(simssl.SimsslError, match="nothing to resume"):
        simssl.process(trajectory, done, frames="0:2", resume=True, progress=False)
    with pytest.raises(simssl.SimsslError, match=r"\.gsd outputs"):
        simssl.process(trajectory, tmp_path / "out.npz", resume=True, progress=False)
    # a partial file from another trajectory (different steps) is refused, not silently mixed in
    other = tmp_path / "other.gsd"
    os.replace(done, partial_path(str(other)))
    with pytest.raises(simssl.SimsslError, match="another run"):
        simssl.process(trajectory, other, frames="5:8", resume=True, progress=False)


def test_without_resume_a_stale_partial_is_replaced(trajectory, tmp_path):
    output = tmp_path / "fresh.gsd"
    with open(partial_path(str(output)), "wb") as stale:
        stale.write(b"garbage from a killed run")
    simssl.process(trajectory, output, frames="0:2", progress=False)
    with gsd.hoomd.open(str(output)) as written:
        assert len(written) == 2
