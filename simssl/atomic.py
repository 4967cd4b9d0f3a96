"""One way to write a file: under a hidden temporary name beside the target, renamed into place on success.

A failure (an exception) removes the temporary file, so no half-written or clobbered output is
ever left behind; an existing target is replaced only with ``force``. While the file is written its
lock (:mod:`simssl.locking`) is held, so a second run aimed at the same file is refused instead of
deleting, resuming or replacing this one's work.
"""

from __future__ import annotations

import os
import tempfile

from .errors import SimsslError
from .locking import OutputLock


def partial_path(path) -> str:
    """The hidden file ``path`` is written to before it is complete: ``dir/.NAME.part.EXT`` (same extension).

    Parameters
    ----------
    path : str or os.PathLike
        The final file.

    Returns
    -------
    str
        An absolute path in the same directory.
    """
    directory, name = os.path.split(os.path.abspath(os.fspath(path)))
    stem, extension = os.path.splitext(name)
    return os.path.join(directory, f".{stem}{extension}.part{extension}")


def final_path(path) -> str | None:
    """The file a partial file (:func:`partial_path`) becomes when complete; None for any other path.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    str or None
        An absolute path.
    """
    path = os.path.abspath(os.fspath(path))
    directory, name = os.path.split(path)
    for ending in (".part" + os.path.splitext(name)[1], ".part"):  # .NAME.EXT.part.EXT, or .NAME.part without one
        final = os.path.join(directory, name[1 : -len(ending)])
        if name.startswith(".") and name.endswith(ending) and partial_path(final) == path:
            return final
    return None


def refuse_overwrite(path, force: bool) -> None:
    """Raise :class:`SimsslError` if ``path`` exists and ``force`` is off.

    Parameters
    ----------
    path : str or os.PathLike
        The file about to be written.
    force : bool
        Allow replacing an existing file.

    Raises
    ------
    SimsslError
        If ``path`` exists and ``force`` is False.
    """
    if os.path.exists(path) and not force:
        raise SimsslError(f"{os.fspath(path)}: exists; pass --force (force=True) to overwrite it")


class AtomicFile:
    """Context manager for writing ``path`` atomically: write to :attr:`temporary`, renamed on a clean exit.

    Parameters
    ----------
    path : str or os.PathLike
        The final file.
    force : bool
        Replace an existing ``path`` (otherwise :class:`SimsslError` before anything is written).
    keep_partial : bool
        Keep the temporary file when the body is interrupted (KeyboardInterrupt), so that a
        resumable writer can continue it; any other exception removes it, except one that ends a
        resumed run (``reuse_partial`` of an existing file): an earlier run's frames are kept.
    reuse_partial : bool
        Keep a temporary file found at the start (resume) instead of removing it.
    replace_partial : bool
        With ``keep_partial``: an interrupted run's temporary file found at the start may be
        discarded (``--force``); otherwise it is refused, so that finished work is never deleted
        silently. Files without ``keep_partial`` always replace stale temporaries.
    shared : bool
        Other processes may write the same file at the same time, with the same content (a cache):
        each writes a temporary of its own (``dir/.NAME.PID-RANDOM.part.EXT``), none removes
        another's, and the last rename wins. Implies ``force``; not with ``keep_partial``.

    Attributes
    ----------
    path : str
        The final file.
    temporary : str
        The hidden file written to (:func:`partial_path`).
    keep_partial : bool
        As given.
    keep_on_error : bool
        A resumed run's partial file holds earlier work: no failure deletes it.

    Raises
    ------
    OutputInUse
        If another live run holds ``path``'s lock (checked before anything else is looked at or
        touched; ``force`` does not override it).
    SimsslError
        If ``path`` exists without ``force``, its directory does not exist, or (with
        ``keep_partial``, without ``reuse_partial`` and ``replace_partial``) an interrupted run left
        its temporary file.

    Examples
    --------
    >>> with AtomicFile("report.json", force=True) as target:  # doctest: +SKIP
    ...     Path(target.temporary).write_text("{}")
    """

    def __init__(
        self,
        path,
        force: bool = False,
        keep_partial: bool = False,
        reuse_partial: bool = False,
        replace_partial: bool = False,
        shared: bool = False,
    ):
        self.path = os.fspath(path)
        directory = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(directory):
            raise SimsslError(f"{self.path}: the directory {directory} does not exist")
        # a shared file (a cache several processes may fill at once, all with the same content) takes no lock
        self._lock = None if shared else OutputLock(self.path)
        try:
            refuse_overwrite(self.path, force or shared)
            if shared:
                stem, extension = os.path.splitext(os.path.basename(self.path))
                handle, self.temporary = tempfile.mkstemp(suffix=f".part{extension}", prefix=f".{stem}.", dir=directory)
                os.close(handle)
            else:
                self.temporary = partial_path(self.path)
            self.keep_partial = keep_partial
            #: a resumed run's partial file holds earlier work: no failure deletes it
            self.keep_on_error = keep_partial and reuse_partial and os.path.exists(self.temporary)
            if not shared and not reuse_partial and os.path.exists(self.temporary):
                if keep_partial and not replace_partial:
                    raise SimsslError(
                        f"{self.path}: an interrupted run left its partial output {self.temporary}; continue it "
                        "with --resume (resume=True), or pass --force (force=True) to discard it and start over"
                    )
                os.remove(self.temporary)  # left by an earlier run that was killed (nobody holds the lock)
        except BaseException:
            self.unlock()
            raise

    def unlock(self) -> None:
        """Release the lock without finishing: for a writer whose own set-up failed after this one's.

        The ``with`` block releases it otherwise; releasing twice does nothing.
        """
        if self._lock is not None:
            self._lock.release()

    def __enter__(self) -> AtomicFile:
        return self

    def __exit__(self, kind, error, trace) -> bool:
        try:
            if kind is None:
                os.replace(self.temporary, self.path)
        finally:
            try:
                interrupted = kind is not None and issubclass(kind, KeyboardInterrupt) and self.keep_partial
                if os.path.exists(self.temporary) and not interrupted and not (kind is not None and self.keep_on_error):
                    os.remove(self.temporary)
            finally:
                self.unlock()
        return False
