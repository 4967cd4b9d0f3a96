"""Run records: what a run computed, from what and how, kept in every output it writes.

A run record is a JSON-like dict: ``simssl`` (version), ``input`` (path, size and modification time
of the input file, or the live engine), ``frames``, ``format``, ``box``, ``k``, ``keep_input`` and
``analyzers`` (each compute object's ``parameters()``: the model by a hash of its config and weights,
identification with the names behind its ``structure`` and ``ordering`` indices). Every writer of
records goes through this module: ``simssl process`` (:func:`file_record`), the live analyzers of
HOOMD and LAMMPS (:func:`live_record`); and every reader: ``simssl info``, ``simssl plot``
(:func:`simssl.io.read_processed`) and ``--resume`` (:func:`refuse_other_run`).

Where a record is kept: in a ``.gsd`` output, the first frame's log at :data:`RECORD_KEY` (JSON as
uint8 bytes); a HOOMD ``OrderAnalyzer`` logs it as the string loggable ``.../OrderAnalyzer/fingerprint``
(NUL-terminated int8); in an ``.npz`` output, the array ``fingerprint`` (JSON text).
"""

from __future__ import annotations

import json
import os

import numpy as np

from ..errors import SimsslError
from ..version import __version__

#: the run record's name: the array of an .npz output, the last part of every GSD log key of one
RECORD_NAME = "fingerprint"
#: GSD log key of the run record that ``simssl process`` stores in the first frame
RECORD_KEY = f"simssl/{RECORD_NAME}"
NPZ_RECORD = RECORD_NAME


def live_record(analyzers, source: str, format: str, k: int | None = None) -> dict:
    """The record of a live run inside an engine.

    Parameters
    ----------
    analyzers : list of compute objects
    source : str
        The engine and run, in place of an input file (e.g. ``"HOOMD-blue 4.8.2 (live)"``).
    format : str
        The engine's name (``"hoomd"``, ``"lammps"``).
    k : int or None
        The width asked of the shared neighborhoods.

    Returns
    -------
    dict
        The keys of every run record (module docstring); ``input`` is ``{"path": source}``.
    """
    return _record(analyzers, {"path": source}, None, format, None, k, False)


def file_record(input, analyzers, frames=None, format=None, box=None, k=None, keep_input=True) -> dict:
    """The record of a run over a file: what decides its output, so what a resume must match.

    Parameters
    ----------
    input : str
        An existing input file (its absolute path, size and modification time are recorded).
    analyzers : list of compute objects
    frames, format, box, k, keep_input
        As in :func:`simssl.process`.

    Returns
    -------
    dict
        The keys of every run record (module docstring).
    """
    from . import detect_format
    from .selection import parse_frames

    stat = os.stat(input)
    selection = parse_frames(frames)
    if box is not None and hasattr(box, "Lx"):
        box = [box.Lx, box.Ly, box.Lz, box.xy, box.xz, box.yz]
    return _record(
        analyzers,
        {"path": os.path.abspath(input), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns},
        [selection.start, selection.stop, selection.step],
        detect_format(input, format),
        None if box is None else [float(x) for x in np.atleast_1d(box)],
        k,
        keep_input,
    )


def _record(analyzers, input: dict, frames, format: str, box, k, keep_input: bool) -> dict:
    return {
        "simssl": __version__,
        "input": input,
        "frames": frames,
        "format": format,
        "box": box,
        "k": k,
        "keep_input": keep_input,
        "analyzers": describe_analyzers(analyzers),
    }


def describe_analyzers(analyzers) -> list[dict]:
    """Each compute object's ``parameters()`` (its class name for plain callables): the record's ``analyzers``."""
    return [
        item.parameters()
        if hasattr(item, "parameters")
        else {"kind": f"{type(item).__module__}.{type(item).__qualname__}"}
        for item in analyzers
    ]


def record_text(record: dict) -> str:
    """A run record as JSON text with sorted keys (what every output stores)."""
    return json.dumps(record, sort_keys=True)


def encode_record(record: dict) -> np.ndarray:
    """A run record as a GSD log array: (bytes,) uint8 of :func:`record_text`."""
    return np.frombuffer(record_text(record).encode(), dtype=np.uint8)


def record_from_log(log: dict) -> dict | None:
    """The run record in a GSD frame's ``log`` (None if it has none).

    :data:`RECORD_KEY` first, then any other ``simssl/.../fingerprint`` key (HOOMD's logger).

    Parameters
    ----------
    log : dict
        A GSD frame's ``log``.
    """
    keys = [RECORD_KEY] + sorted(k for k in log if k.startswith("simssl/") and k.endswith(f"/{RECORD_NAME}"))
    value = next((log[key] for key in keys if key in log), None)
    if value is None:
        return None
    return json.loads(np.ascontiguousarray(value).view(np.uint8).tobytes().rstrip(b"\0").decode())


def record_from_npz(data) -> dict | None:
    """The run record of an opened .npz output (None if it has none)."""
    return json.loads(str(data[NPZ_RECORD])) if NPZ_RECORD in data.files else None


def identification(record: dict | None) -> dict | None:
    """The identification entry of a run record's ``analyzers`` (None without identification)."""
    return next((item for item in (record or {}).get("analyzers", []) if item.get("kind") == "Identify"), None)


def structure_names(record: dict | None) -> tuple[str, ...] | None:
    """The names of the ``structure`` indices (0 ``"liquid"``, last ``"other"``); None without identification."""
    item = identification(record)
    return None if item is None else tuple(item["structures"])


def refuse_other_run(partial: str, previous: dict | None, current: dict) -> None:
    """Raise unless the partial output was made by a run with this same record, saying what differs.

    Parameters
    ----------
    partial : str
        The partial output, named in the message.
    previous : dict or None
        Its stored run record (None: an older simssl wrote none).
    current : dict
        This run's record.

    Raises
    ------
    SimsslError
        If ``previous`` is None or differs from ``current``.
    """
    if previous is None:
        raise SimsslError(
            f"{partial}: the partial output has no run record (an older simssl wrote it); "
            "start over with --force instead of --resume"
        )
    if previous == current:
        return
    differences = _differences(previous, current)
    raise SimsslError(
        f"{partial}: the partial output belongs to another run ({'; '.join(differences[:4])}); "
        "resume with the same input and options, or start over with --force"
    )


def _differences(old, new, where: str = "") -> list[str]:
    """Human-readable ``key: old -> new`` lines of two JSON-like values."""
    if isinstance(old, dict) and isinstance(new, dict):
        return [
            line
            for key in sorted(set(old) | set(new), key=str)
            for line in _differences(old.get(key), new.get(key), f"{where}.{key}" if where else str(key))
        ]
    if isinstance(old, list) and isinstance(new, list) and where.endswith("analyzers"):
        pairs = [
            (old[i] if i < len(old) else None, new[i] if i < len(new) else None) for i in range(max(len(old), len(new)))
        ]
        return [line for index, (a, b) in enumerate(pairs) for line in _differences(a, b, f"{where}[{index}]")]
    if old == new:
        return []

    def short(value):
        text = json.dumps(value)
        return text if len(text) <= 40 else text[:37] + "..."

    return [f"{where}: {short(old)} then, {short(new)} now"]
