"""Label files of ``simssl compare --labels`` and ``simssl finetune --labels``: per-particle or per-frame labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import SimsslError


def read_labels(path, frames: int) -> np.ndarray | list:
    """Labels from an ``.npz`` or ``.npy`` file.

    An ``.npz`` holds ``labels`` (per particle, flat or (frames, N)) or ``frame_labels`` (one per
    frame); an ``.npy`` holds per-particle labels.

    Parameters
    ----------
    path : str or PathLike
        The label file.
    frames : int
        Number of frames (checked against ``frame_labels``).

    Returns
    -------
    numpy.ndarray or list
        Flat per-particle labels, or a list of one label per frame.

    Raises
    ------
    SimsslError
        If the file is missing or holds neither array, or the frame count does not match.
    """
    path = Path(path)
    if not path.exists():
        raise SimsslError(f"{path}: label file does not exist")
    if path.suffix == ".npy":
        return np.load(path, allow_pickle=False).reshape(-1)
    with np.load(path, allow_pickle=False) as data:
        if "frame_labels" in data:
            values = data["frame_labels"].reshape(-1)
            if len(values) != frames:
                raise SimsslError(f"{path}: {len(values)} frame labels for {frames} frame(s)")
            return list(values)
        if "labels" in data:
            return data["labels"].reshape(-1)
    raise SimsslError(f"{path}: expected an array 'labels' (per particle) or 'frame_labels' (per frame)")
