"""The one matplotlib set-up (headless Agg backend) and atomic PNG saving, shared by ``plot`` and ``compare``."""

from __future__ import annotations

from .atomic import AtomicFile


def pyplot():
    """``matplotlib.pyplot`` on the non-interactive Agg backend (imported on first use: it is slow to import)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(figure, path: str, dpi: int = 110) -> str:
    """Save ``figure`` as a PNG at ``path`` atomically (replacing an existing file), close it, return ``path``.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        The figure (closed afterwards, even on failure).
    path : str
        Target file.
    dpi : int
        Resolution.

    Returns
    -------
    str
        ``path``.
    """
    plt = pyplot()
    try:
        with AtomicFile(path, force=True) as target:
            figure.savefig(target.temporary, dpi=dpi, bbox_inches="tight", format="png")
    finally:
        plt.close(figure)
    return path
