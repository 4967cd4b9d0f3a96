"""One writer per output: an advisory lock that a second run aimed at the same file is refused by.

The lock of ``dir/NAME`` is the hidden file ``dir/.NAME.lock``, locked with ``flock`` for as long
as a run writes ``NAME`` and removed when the run ends (finished, failed or interrupted). The kernel
releases the lock when its process dies, so a run killed with ``kill -9`` leaves at most an
unlocked lock file, which never blocks anyone: the next run takes it over (a ``--resume`` of the
killed run included) and removes it when done. The holder writes its process id (and host) into
the file, so a refused run can say who holds the output.

Locks are per process and per thread: a thread may take a lock it already holds again (a run
holds its outputs while the atomic writes inside it lock each file), another thread of the same
process is refused like another process. A forked child does not inherit its parent's locks.
Where the platform has no ``fcntl`` (Windows) or the filesystem refuses locks (``ENOLCK``,
``EOPNOTSUPP`` on some network filesystems), one warning says that outputs are not protected,
and runs go on as before.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import threading
import time
import warnings
from dataclasses import dataclass

from .errors import OutputInUse, SimsslError, SimsslWarning

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

#: a held lock is tried again for this long before the run is refused: it covers a holder that has
#: not yet written its process id, and ``simssl info`` probing the lock at that very moment
RETRY_SECONDS = 0.2
_BUSY = (errno.EWOULDBLOCK, errno.EAGAIN)


@dataclass
class _Held:
    """A lock this process holds: the thread that took it, its open lock file, how often it was taken."""

    thread: int
    fd: int | None
    count: int


_held: dict[str, _Held] = {}
_mutex = threading.Lock()
_warned = False


def lock_path(path) -> str:
    """The lock file of ``path``: ``dir/.NAME.lock`` beside it (the directory resolved, so every spelling agrees).

    Parameters
    ----------
    path : str or os.PathLike
        An output file.

    Returns
    -------
    str
    """
    directory, name = os.path.split(os.path.abspath(os.fspath(path)))
    return os.path.join(os.path.realpath(directory), f".{name}.lock")


class OutputLock:
    """Hold the lock of an output from construction until :meth:`release` (or the end of a ``with`` block).

    Parameters
    ----------
    path : str or os.PathLike
        The output; its directory must exist.

    Attributes
    ----------
    path : str
        The output.
    lock_file : str
        :func:`lock_path` of it.

    Raises
    ------
    OutputInUse
        If another live process, or another thread of this one, holds it.
    SimsslError
        If the lock file cannot be created (e.g. a directory without write permission).

    Examples
    --------
    >>> with OutputLock("out.gsd"):  # doctest: +SKIP
    ...     pass  # a second ``OutputLock("out.gsd")`` in another process raises OutputInUse here
    """

    def __init__(self, path):
        self.path = os.fspath(path)
        self.lock_file = lock_path(self.path)
        self._released = False
        thread = threading.get_ident()
        with _mutex:
            held = _held.get(self.lock_file)
            if held is not None:
                if held.thread != thread:
                    raise OutputInUse(_refusal(self.path, f"another thread of process {os.getpid()}"))
                held.count += 1
                return
            _held[self.lock_file] = _Held(thread, _acquire(self.path, self.lock_file), 1)

    def release(self) -> None:
        """Give the lock up (once; later calls do nothing); the last release removes the lock file."""
        if self._released:
            return
        self._released = True
        with _mutex:
            held = _held.get(self.lock_file)
            if held is None:  # a forked child: the lock stayed its parent's
                return
            held.count -= 1
            if held.count:
                return
            del _held[self.lock_file]
            if held.fd is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.lock_file)  # while still locked: no other run holds this file
                os.close(held.fd)

    def __enter__(self) -> OutputLock:
        return self

    def __exit__(self, kind, error, trace) -> bool:
        self.release()
        return False


@contextlib.contextmanager
def locked(*paths):
    """Hold the locks of every path for the ``with`` block (a run that writes several files).

    Parameters
    ----------
    *paths : str or os.PathLike
        The outputs.

    Raises
    ------
    OutputInUse
        If any of them is held elsewhere (those already taken are released first).
    """
    with contextlib.ExitStack() as stack:
        for path in paths:
            stack.enter_context(OutputLock(path))
        yield


def holder(path) -> str | None:
    """Who is writing ``path`` now (e.g. ``"process 4242"``), or None when no live process holds its lock.

    Parameters
    ----------
    path : str or os.PathLike
        An output.

    Returns
    -------
    str or None
    """
    if fcntl is None:
        return None
    try:
        fd = os.open(lock_path(path), os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as error:
        return (_read_holder(fd) or "process id unknown") if error.errno in _BUSY else None
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _acquire(path: str, lock_file: str) -> int | None:
    """Open and lock ``lock_file``, write this process's id into it; its descriptor (None: locks do not work here)."""
    if fcntl is None:
        _warn_unprotected(path, "this platform has no fcntl")
        return None
    deadline = time.monotonic() + RETRY_SECONDS
    while True:
        try:
            fd = os.open(lock_file, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        except OSError as error:
            directory = os.path.dirname(lock_file)
            if not os.path.isdir(directory):
                raise SimsslError(f"{path}: the directory {directory} does not exist") from None
            raise SimsslError(f"{path}: cannot create its lock file {lock_file} ({error.strerror})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            who = _read_holder(fd)
            os.close(fd)
            if error.errno not in _BUSY:  # ENOLCK, EOPNOTSUPP, ...: this filesystem has no working locks
                with contextlib.suppress(OSError):
                    os.unlink(lock_file)
                _warn_unprotected(path, error.strerror or str(error))
                return None
            if time.monotonic() >= deadline:
                raise OutputInUse(_refusal(path, who)) from None
            time.sleep(RETRY_SECONDS / 10)
            continue
        if _still_linked(fd, lock_file):
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()} {socket.gethostname()}\n".encode())
            return fd
        os.close(fd)  # its holder removed it after we opened it: lock the file now at that name


def _still_linked(fd: int, lock_file: str) -> bool:
    """Whether the open ``fd`` is still the file named ``lock_file``."""
    try:
        named = os.stat(lock_file)
    except FileNotFoundError:
        return False
    opened = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (opened.st_dev, opened.st_ino)


def _read_holder(fd: int) -> str | None:
    """``"process PID"`` (``"... on HOST"`` from another host) as the holder wrote it; None if unreadable."""
    try:
        pid, _, host = os.pread(fd, 256, 0).decode().strip().partition(" ")
    except (OSError, UnicodeDecodeError):
        return None
    if not pid.isdigit():
        return None
    return f"process {pid}" + (f" on {host}" if host and host != socket.gethostname() else "")


def _refusal(path: str, who: str | None) -> str:
    """The one sentence that refuses a run whose output another run holds."""
    return (
        f"{path}: is in use by another simssl run ({who or 'process id unknown'}); wait for it to end "
        "or write somewhere else (--force does not override a running writer)"
    )


def _warn_unprotected(path: str, reason: str) -> None:
    """One warning per process: outputs cannot be locked here."""
    global _warned
    if not _warned:
        _warned = True
        warnings.warn(
            f"{path}: cannot lock outputs here ({reason}); nothing stops two runs from writing the same file",
            SimsslWarning,
            stacklevel=4,
        )


def _forget_inherited_locks() -> None:
    """In a forked child: drop the parent's lock files (the parent keeps its locks) and start a fresh mutex."""
    global _mutex
    _mutex = threading.Lock()
    for held in _held.values():
        if held.fd is not None:
            os.close(held.fd)
    _held.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_inherited_locks)
