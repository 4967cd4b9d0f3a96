"""Frame selection: turn ``None``, an int, a slice or a ``"start:stop:step"`` string into a slice."""

from __future__ import annotations

import numpy as np

from ..errors import SimsslError


def parse_frames(frames) -> slice:
    """Normalize a frame selection; ``None`` means every frame, an int (or ``"7"``) one frame.

    Parameters
    ----------
    frames : None, int, slice or str
        A string is ``"start:stop:step"`` (parts may be empty) or one index.

    Returns
    -------
    slice

    Raises
    ------
    SimsslError
        For an unreadable string, a step of zero, or another type.

    Examples
    --------
    >>> parse_frames("0:10:2"), parse_frames(7), parse_frames(-1)
    (slice(0, 10, 2), slice(7, 8, None), slice(-1, None, None))
    """
    if frames is None:
        return slice(None)
    if isinstance(frames, slice):
        return frames
    if isinstance(frames, (int, np.integer)) and not isinstance(frames, bool):
        return slice(frames, frames + 1 if frames != -1 else None)
    if isinstance(frames, str):
        text = frames.strip()
        try:
            if ":" not in text:
                return parse_frames(int(text))
            parts = text.split(":")
            if len(parts) > 3:
                raise ValueError
            values = [int(p) if p.strip() else None for p in parts]
        except ValueError:
            raise SimsslError(
                f"cannot read the frame selection {frames!r}; use 'start:stop:step', e.g. '0:10:2'"
            ) from None
        if len(values) == 3 and values[2] == 0:
            raise SimsslError(f"the frame selection {frames!r} has a step of zero")
        return slice(*values)
    raise SimsslError(f"the frame selection {frames!r} is not an int, slice or 'start:stop:step' string")
