"""CPU threads follow the cores actually free: one thread when other processes keep every core busy.

On a busy machine OpenMP threads that wait for each other at every operation are several times
slower than one thread, so every model path (``model.embed``, live analysis and the engine adapters)
decides its thread count per call from the load it sees.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import freud
import numpy as np
import pytest
import torch
from crystals import noisy_fcc

import simssl
from simssl import devices
from simssl.checkpoints import random_model
from simssl.live import LiveAnalyzer

CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1

pytestmark = pytest.mark.skipif(
    CORES < 2 or not os.path.exists("/proc/loadavg"), reason="needs 2+ cores and Linux's /proc/loadavg"
)


def running_now() -> int:
    """Runnable threads on the machine (the 4th field of /proc/loadavg)."""
    with open("/proc/loadavg") as handle:
        return int(handle.read().split()[3].split("/")[0])


@pytest.fixture
def busy_cores(monkeypatch):
    """Every core this process may use kept busy by another process for the test's duration."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(CORES)]
    try:
        deadline = time.monotonic() + 10
        while running_now() < CORES + 1 and time.monotonic() < deadline:  # the spinners have started
            time.sleep(0.05)
        monkeypatch.setattr(devices, "_decided", (float("-inf"), 0))  # no decision from before the load
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def threads_seen(model) -> list[tuple[int, int]]:
    """(torch, freud) thread counts in effect at each forward call of ``model`` (recorded into the returned list).

    freud's is what its queries, Steinhardt and the fused kernels use; torch's, what the torch code uses.
    """
    seen: list[tuple[int, int]] = []
    model.register_forward_pre_hook(
        lambda module, inputs: seen.append((torch.get_num_threads(), freud.parallel.get_num_threads()))
    )
    return seen


@pytest.mark.parametrize("kernels", ["fused", "torch"])
def test_busy_cores_leave_one_thread_to_embedding_and_live_analysis(busy_cores, monkeypatch, kernels):
    if kernels == "torch":
        monkeypatch.setenv("SIMSSL_NATIVE", "0")
    model = random_model(0)
    seen = threads_seen(model)
    frame = simssl.make_frame(*noisy_fcc(5, 0.05, seed=1))
    before = torch.get_num_threads(), freud.parallel.get_num_threads()
    model.embed(frame)
    LiveAnalyzer(model=model, steinhardt=(6,)).analyze(frame)
    assert seen and set(seen) == {(1, 1)}
    assert (torch.get_num_threads(), freud.parallel.get_num_threads()) == before  # restored after each call


def test_busy_cores_leave_one_thread_to_the_hoomd_adapter(busy_cores):
    hoomd = pytest.importorskip("hoomd", reason="HOOMD-blue is not installed")
    from simssl.plugins.hoomd import OrderAnalyzer

    model = random_model(0)
    seen = threads_seen(model)
    box, positions = noisy_fcc(5, 0.05, seed=2)
    simulation = hoomd.Simulation(device=hoomd.device.CPU(), seed=1)
    snapshot = hoomd.Snapshot()
    snapshot.configuration.box = [box.Lx, box.Ly, box.Lz, 0, 0, 0]
    snapshot.particles.N = len(positions)
    snapshot.particles.types = ["A"]
    snapshot.particles.position[:] = positions
    simulation.create_state_from_snapshot(snapshot)
    analyzer = OrderAnalyzer(model=model, steinhardt=(6,))
    simulation.operations.writers.append(hoomd.write.CustomWriter(action=analyzer, trigger=hoomd.trigger.Periodic(1)))
    simulation.run(2)
    assert seen and set(seen) == {(1, 1)}
    assert np.isfinite(analyzer.embedding).all()


def test_explicit_thread_counts_win(monkeypatch):
    monkeypatch.setenv("SIMSSL_THREADS", "3")
    assert devices.cpu_threads() == 3
    with devices.cpu_threads_for_work():
        assert torch.get_num_threads() == 3
        with devices.cpu_threads_for_work(1):  # nested: the outer choice holds
            assert torch.get_num_threads() == 3
    monkeypatch.setenv("SIMSSL_THREADS", "three")
    with pytest.raises(simssl.SimsslError, match="SIMSSL_THREADS"):
        devices.cpu_threads()
