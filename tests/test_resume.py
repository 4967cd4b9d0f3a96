"""A processing run killed with SIGKILL resumes with --resume to exactly the uninterrupted output."""

import json
import os
import signal
import subprocess
import sys
import time

import gsd.hoomd
import numpy as np
import pytest
from crystals import frames_written, write_noisy_trajectory

import simssl
from simssl.cli import main
from simssl.io.writers import partial_path

N_FRAMES = 10


@pytest.fixture(scope="module")
def trajectory(tmp_path_factory):
    """Enough work per frame (6,912 particles, Steinhardt l=2..12 with w_l and averages) to be killed mid-run."""
    path = tmp_path_factory.mktemp("resume") / "long.gsd"
    return write_noisy_trajectory(path, 12, [0.02 + 0.01 * step for step in range(N_FRAMES)], range(N_FRAMES))


@pytest.mark.slow
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


def test_without_resume_a_partial_is_refused_and_force_replaces_it(trajectory, tmp_path):
    """Re-running after an interruption must not silently delete the finished frames (issue 11, item 2)."""
    output = tmp_path / "fresh.gsd"
    with open(partial_path(str(output)), "wb") as stale:
        stale.write(b"frames of a killed run")
    with pytest.raises(simssl.SimsslError, match=r"--resume .*--force"):
        simssl.process(trajectory, output, frames="0:2", progress=False)
    assert open(partial_path(str(output)), "rb").read() == b"frames of a killed run"  # untouched
    simssl.process(trajectory, output, frames="0:2", force=True, progress=False)
    with gsd.hoomd.open(str(output)) as written:
        assert len(written) == 2


@pytest.fixture(scope="module")
def small_trajectory(tmp_path_factory):
    """A short trajectory (6 frames of 500 particles) and a second one with other frames."""
    return [
        write_noisy_trajectory(
            tmp_path_factory.mktemp("resume-options") / name, 5, [0.05] * 6, range(offset, offset + 6)
        )
        for name, offset in (("run.gsd", 0), ("other.gsd", 50))
    ]


def interrupted(source, output, options: list[str], frames: int = 3) -> None:
    """The partial output an interrupted ``process`` run with ``options`` leaves after ``frames`` frames."""
    done = output.with_name("done-" + output.name)
    assert main(["process", str(source), "-o", str(done), "--frames", f"0:{frames}", "--quiet", *options]) == 0
    os.replace(done, partial_path(str(output)))


BASE = ["--model", "random", "--average"]


@pytest.mark.parametrize(
    "changed, differs",
    [
        (["--average"], "analyzers[1]"),  # no --model: embeddings would be missing from later frames
        (["--model", "default", "--average"], "sha256"),  # another model
        (["--model", "random", "--average", "--steinhardt", "4,6,8"], "analyzers[0].l"),
        (["--model", "random"], "average"),
    ],
    ids=["no-model", "other-model", "more-degrees", "no-average"],
)
def test_resume_refuses_other_options(small_trajectory, tmp_path, capsys, changed, differs):
    """Issue 11, item 1: a resume with other options would mix two runs in one file."""
    run, _ = small_trajectory
    output = tmp_path / "out.gsd"
    interrupted(run, output, BASE)
    # the interrupted run's own record says frames 0:3; resume asks for all: tell the resume the same selection
    assert main(["process", str(run), "-o", str(output), "--frames", "0:3", "--resume", "--quiet", *changed]) == 2
    message = capsys.readouterr().err
    assert "belongs to another run" in message and differs in message, message
    assert not output.exists() and os.path.exists(partial_path(str(output)))


def test_resume_refuses_another_input_and_frames(small_trajectory, tmp_path, capsys):
    run, other = small_trajectory
    output = tmp_path / "out.gsd"
    interrupted(run, output, BASE)
    assert main(["process", str(other), "-o", str(output), "--frames", "0:3", "--resume", "--quiet", *BASE]) == 2
    assert "input.path" in capsys.readouterr().err
    assert main(["process", str(run), "-o", str(output), "--frames", "0:6", "--resume", "--quiet", *BASE]) == 2
    assert "frames" in capsys.readouterr().err


def test_resume_with_the_same_options_summarizes_every_frame(small_trajectory, tmp_path, capsys):
    run, _ = small_trajectory
    output, reference = tmp_path / "out.gsd", tmp_path / "reference.gsd"
    assert main(["process", str(run), "-o", str(reference), "--frames", "0:3", *BASE]) == 0
    expected = capsys.readouterr().out
    interrupted(run, output, BASE)
    assert main(["process", str(run), "-o", str(output), "--frames", "0:3", "--resume", *BASE]) == 0
    summary = capsys.readouterr().out
    assert "3 frame(s), 1500 particle(s)" in summary and "(3 of them kept from the interrupted run)" in summary
    # every statistic equals the uninterrupted run's: all frames counted, not only the new ones
    assert summary.split("\n", 1)[1] == expected.split("\n", 1)[1]
    with gsd.hoomd.open(str(output)) as written:
        record = json.loads(np.asarray(written[0].log["simssl/fingerprint"]).tobytes().decode())
    assert record["input"]["path"] == str(run) and record["analyzers"][1]["model"]["name"] == "random"


@pytest.mark.slow
def test_kill_during_resume_then_resume_again(trajectory, tmp_path):
    """Issue 11: a kill -9 during a --resume itself, then another --resume, gives the uninterrupted result."""
    arguments = ["process", str(trajectory), "--steinhardt", "2,4,6,8,10,12", "--wl", "--average", "--quiet"]
    reference = tmp_path / "reference.gsd"
    assert main(arguments + ["-o", str(reference)]) == 0
    output = tmp_path / "twice.gsd"
    partial = partial_path(str(output))
    for extra, at_least in (([], 2), (["--resume"], 5)):
        run = subprocess.Popen([sys.executable, "-m", "simssl.cli", *arguments, "-o", str(output), *extra])
        deadline = time.monotonic() + 120
        while frames_written(partial) < at_least and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert run.poll() is None, "the run finished before it could be killed; give it more work"
        os.kill(run.pid, signal.SIGKILL)
        run.wait()
        assert not output.exists()
    assert 5 <= frames_written(partial) < N_FRAMES
    assert main(arguments + ["-o", str(output), "--resume"]) == 0
    with gsd.hoomd.open(str(reference)) as expected, gsd.hoomd.open(str(output)) as resumed:
        assert len(resumed) == len(expected) == N_FRAMES
        for a, b in zip(expected, resumed):
            assert a.configuration.step == b.configuration.step
            for key in a.log:
                np.testing.assert_array_equal(a.log[key], b.log[key])
