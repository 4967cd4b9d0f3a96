"""The one exception type simssl raises for bad input, so callers can catch it and the CLI can exit cleanly."""


class SimsslError(ValueError):
    """Bad input or an impossible request, described in one sentence that names the file, frame and problem."""


class OutputInUse(SimsslError):
    """An output that another live run (process or thread) is writing: the second run is refused, never mixed in."""


class SimsslWarning(UserWarning):
    """Input simssl analyzes, but not as the user may assume (e.g. non-periodic directions in a padded box)."""


def located(message: str, source: str | None = None, frame: int | None = None) -> str:
    """Prefix ``message`` with the file and frame it concerns, e.g. ``"run.gsd, frame 3: box has zero volume"``.

    Whitespace runs (including newlines from wrapped third-party errors) collapse so it stays one line.

    Parameters
    ----------
    message : str
        The problem (anything with a ``str``).
    source : str or None
        The file.
    frame : int or None
        The frame number in that file.

    Returns
    -------
    str

    Examples
    --------
    >>> located("box has zero volume", "run.gsd", 3)
    'run.gsd, frame 3: box has zero volume'
    """
    message = " ".join(str(message).split())
    where = []
    if source is not None:
        where.append(str(source))
    if frame is not None:
        where.append(f"frame {frame}")
    return f"{', '.join(where)}: {message}" if where else message
