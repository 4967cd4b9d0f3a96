"""Where simssl computes: torch devices by name (an unknown or absent device is one sentence, not a
traceback), and how many CPU threads it uses.

Threads: every CPU path (the model, the fused kernels, freud's queries and Steinhardt) runs inside
:func:`cpu_threads_for_work`, which picks the count once per call from the cores actually free
(:func:`cpu_threads`). On a busy machine, or next to another process of a parallel run, OpenMP
threads that wait for each other at every operation are far slower than one thread (measured: a
4,000-particle identification on a loaded 2-core machine took 21.6 s with two torch threads, 3.7 s
with one; at load 3.5 on 2 cores the shipped model's embedding of 32,000 particles took 1.35 s with
its fused kernels and freud on two threads and torch on one, 2.38 s with torch on two as well).
The fused kernels and freud hand out work piece by piece (a slowed thread delays little), so they
use the count chosen (:func:`current_threads`); torch's operations around the fused kernels run on
one thread (:func:`torch_threads`).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time

from .errors import SimsslError

#: seconds a thread count decided by :func:`cpu_threads` is reused (the decision samples /proc)
THREADS_REUSED_FOR = 1.0
#: the thread count fixed by :func:`pin_threads` (a worker of a parallel run), or None: decide per call
_pinned: int | None = None
#: (time, threads) of the latest decision
_decided: tuple[float, int] = (float("-inf"), 0)
_active = threading.local()


def available_devices() -> list[str]:
    """The devices this torch build can run on here, e.g. ``['cpu']`` or ``['cpu', 'cuda', 'cuda:0', 'cuda:1']``.

    Returns
    -------
    list of str
    """
    import torch

    devices = ["cpu"]
    if torch.cuda.is_available():
        devices += ["cuda"] + [f"cuda:{index}" for index in range(torch.cuda.device_count())]
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        devices.append("mps")
    return devices


def resolve_device(device=None):
    """A usable ``torch.device``: ``device`` checked against what exists here, or CUDA when available, else the CPU.

    Parameters
    ----------
    device : str, torch.device or None
        A name such as ``"cpu"`` or ``"cuda:1"``, or a torch.device; None: CUDA when available, else the CPU.

    Returns
    -------
    torch.device

    Raises
    ------
    SimsslError
        Naming the devices that exist, for an unknown name (``"gpu"``), CUDA on a CPU-only torch build,
        a GPU index beyond the machine's count, or an absent or unsupported device type.
    """
    import torch

    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    here = ", ".join(available_devices())
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise SimsslError(f"unknown device {str(device)!r}; devices here: {here}") from None
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            build = "a CPU-only torch build" if torch.version.cuda is None else "no usable NVIDIA GPU"
            raise SimsslError(
                f"device {str(device)!r} is not available: this is {build} (torch {torch.__version__}); "
                f"devices here: {here}"
            )
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise SimsslError(
                f"device {str(device)!r} does not exist: this machine has {torch.cuda.device_count()} GPU(s); "
                f"devices here: {here}"
            )
    elif resolved.type == "mps" and "mps" not in available_devices():
        raise SimsslError(f"device {str(device)!r} is not available; devices here: {here}")
    elif resolved.type not in ("cpu", "cuda", "mps"):
        raise SimsslError(f"device {str(device)!r} is not supported by simssl; devices here: {here}")
    return resolved


def usable_cores() -> int:
    """The CPUs this process may run on (its affinity set where the platform has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _running_elsewhere() -> float | None:
    """Runnable threads of other processes on this process's cores now, or None where unknown (not Linux).

    /proc/loadavg counts the runnable threads of the whole machine; this process's own runnable
    threads (this one, and OpenMP workers still spinning after an operation) are not competition,
    and on a machine with more cores than this process may use, only its share of the others is.
    """
    try:
        with open("/proc/loadavg") as handle:
            running = int(handle.read().split()[3].split("/")[0])
        own = 0
        for task in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{task}/stat") as handle:
                    own += handle.read().rsplit(")", 1)[1].split()[0] == "R"
            except OSError:  # the thread ended meanwhile
                continue
    except (OSError, IndexError, ValueError):
        return None
    return max(0, running - max(own, 1)) * usable_cores() / (os.cpu_count() or usable_cores())


def cpu_threads() -> int:
    """Threads for simssl's CPU work now: the cores this process may use that other processes leave free.

    In order: the count fixed by :func:`pin_threads`; ``SIMSSL_THREADS`` if set; else the usable
    cores (:func:`usable_cores`, at most ``OMP_NUM_THREADS`` if that is set) less the threads of
    other processes running on them right now (Linux; elsewhere every usable core). A decision is
    reused for :data:`THREADS_REUSED_FOR` seconds.

    Returns
    -------
    int
        At least 1.
    """
    global _decided
    if _pinned is not None:
        return _pinned
    configured = os.environ.get("SIMSSL_THREADS", "").strip()
    if configured:
        try:
            return max(1, int(configured))
        except ValueError:
            raise SimsslError(f"SIMSSL_THREADS must be a number of threads, got {configured!r}") from None
    now = time.monotonic()
    if now - _decided[0] < THREADS_REUSED_FOR:
        return _decided[1]
    cores = usable_cores()
    limit = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    cores = min(cores, int(limit)) if limit.isdigit() and int(limit) > 0 else cores
    busy = _running_elsewhere() or 0.0
    threads = max(1, min(cores, round(usable_cores() - busy)))
    _decided = (now, threads)
    return threads


def pin_threads(threads: int) -> None:
    """Fix this process's CPU threads (torch and freud) for good, e.g. to 1 in a worker of a parallel run.

    Parameters
    ----------
    threads : int
        At least 1.
    """
    global _pinned
    _pinned = max(1, int(threads))
    _set_threads(_pinned)


def _set_threads(threads: int | None) -> None:
    """Set torch's and freud's thread counts (freud: None is all cores)."""
    import freud
    import torch

    torch.set_num_threads(threads or usable_cores())
    freud.parallel.set_num_threads(threads)


@contextlib.contextmanager
def cpu_threads_for_work(threads: int | None = None):
    """Run the body with ``threads`` (default :func:`cpu_threads`) torch and freud threads, then restore.

    Nested uses keep the outermost count. The fused kernels (:mod:`simssl.native`) follow torch's.

    Parameters
    ----------
    threads : int or None
        Threads for the body; None decides (:func:`cpu_threads`).
    """
    if getattr(_active, "depth", 0):
        _active.depth += 1
        try:
            yield
        finally:
            _active.depth -= 1
        return
    import freud
    import torch

    previous = torch.get_num_threads(), freud.parallel.get_num_threads()
    chosen = threads or cpu_threads()
    _set_threads(chosen)
    _active.depth, _active.threads = 1, chosen
    try:
        yield
    finally:
        _active.depth, _active.threads = 0, None
        torch.set_num_threads(previous[0])
        freud.parallel.set_num_threads(previous[1] or None)


def current_threads() -> int:
    """The threads of the :func:`cpu_threads_for_work` this thread is in, else :func:`cpu_threads`."""
    return getattr(_active, "threads", None) or cpu_threads()


@contextlib.contextmanager
def torch_threads(threads: int):
    """Run the body with ``threads`` torch threads, then restore the previous count.

    Parameters
    ----------
    threads : int
        At least 1.
    """
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
