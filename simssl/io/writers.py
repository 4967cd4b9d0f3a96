"""Output files: GSD (input frames + ``particles/simssl/<name>`` log arrays) and NPZ, written atomically.

Both writers fill a temporary file beside the target and rename it into place only when every frame
is written, so a failure never leaves a half-written or clobbered output.
"""

from __future__ import annotations

import os
import tempfile

import gsd.hoomd
import numpy as np

from ..errors import SimsslError
from ..frame import Frame

LOG_PREFIX = "particles/simssl/"
OUTPUT_FORMATS = {".gsd": "gsd", ".npz": "npz"}


def check_output_path(path, force: bool = False, inputs=()) -> str:
    """Refuse unknown extensions, an existing file without ``force``, and overwriting an input."""
    path = os.fspath(path)
    extension = os.path.splitext(path)[1].lower()
    if extension not in OUTPUT_FORMATS:
        raise SimsslError(f"{path}: output must end in .gsd or .npz, not {extension or '(no extension)'!r}")
    for source in inputs:
        if os.path.exists(path) and os.path.samefile(path, source):
            raise SimsslError(f"{path}: the output would overwrite the input; choose another name")
    if os.path.exists(path) and not force:
        raise SimsslError(f"{path}: exists; pass --force (force=True) to overwrite it")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise SimsslError(f"{path}: the directory {directory} does not exist")
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class _AtomicWriter:
    """Base: owns the temporary file and the final rename; subclasses add frames and finish."""

    suffix = ""

    def __init__(self, path: str):
        self.path = path
        handle, self.temporary = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".part" + self.suffix, dir=os.path.dirname(os.path.abspath(path)))
        os.close(handle)
        os.chmod(self.temporary, 0o666 & ~_umask())  # mkstemp makes 0600; outputs get the usual mode

    def __enter__(self):
        return self

    def __exit__(self, kind, error, trace):
        try:
            if kind is None:
                self._finish()
                os.replace(self.temporary, self.path)
        finally:
            if os.path.exists(self.temporary):
                os.remove(self.temporary)
        return False

    def write(self, frame: Frame, quantities: dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    def _finish(self) -> None:
        raise NotImplementedError


class GSDWriter(_AtomicWriter):
    """Frames with per-particle log arrays; gsd reads them as ``frame.log['particles/simssl/q6']``, OVITO as properties."""

    suffix = ".gsd"

    def __init__(self, path: str):
        super().__init__(path)
        self._file = gsd.hoomd.open(self.temporary, "w")

    def write(self, frame: Frame, quantities: dict[str, np.ndarray]) -> None:
        snapshot = gsd.hoomd.Frame()
        box = frame.box
        snapshot.configuration.box = [box.Lx, box.Ly, box.Lz, box.xy, box.xz, box.yz]
        snapshot.configuration.step = 0 if frame.step is None else frame.step
        snapshot.particles.N = frame.n_particles
        snapshot.particles.position = frame.positions
        snapshot.particles.typeid = frame.types.astype(np.uint32)
        snapshot.particles.types = list(frame.type_names)
        snapshot.log = {LOG_PREFIX + name: np.ascontiguousarray(value) for name, value in quantities.items()}
        self._file.append(snapshot)

    def _finish(self) -> None:
        self._file.close()

    def __exit__(self, kind, error, trace):
        if kind is not None:
            self._file.close()
        return super().__exit__(kind, error, trace)


class NPZWriter(_AtomicWriter):
    """One array per quantity with a leading frame axis.

    When every frame has the same particle count, ``data[name]`` has shape (frames, N, ...) and
    ``data['layout']`` is ``'stacked'``. Otherwise the frames are concatenated along the first axis,
    ``data['layout']`` is ``'ragged'``, and frame ``f`` is ``data[name][offsets[f]:offsets[f + 1]]``
    with ``offsets = data['frame_offsets']``. ``step``, ``frame`` (index in the input), ``n_particles``
    and ``box`` (Lx, Ly, Lz, xy, xz, yz) are stored per frame.
    """

    suffix = ".npz"

    def __init__(self, path: str):
        super().__init__(path)
        self._columns: dict[str, list[np.ndarray]] = {}
        self._meta: dict[str, list] = {"step": [], "frame": [], "n_particles": [], "box": []}

    def write(self, frame: Frame, quantities: dict[str, np.ndarray]) -> None:
        if self._columns and set(quantities) != set(self._columns):
            raise SimsslError(frame.where(f"quantities changed between frames: {sorted(quantities)} vs {sorted(self._columns)}"))
        for name, value in quantities.items():
            self._columns.setdefault(name, []).append(np.asarray(value))
        box = frame.box
        self._meta["step"].append(-1 if frame.step is None else frame.step)
        self._meta["frame"].append(-1 if frame.index is None else frame.index)
        self._meta["n_particles"].append(frame.n_particles)
        self._meta["box"].append([box.Lx, box.Ly, box.Lz, box.xy, box.xz, box.yz])

    def _finish(self) -> None:
        counts = np.asarray(self._meta["n_particles"], dtype=np.int64)
        stacked = len(set(counts.tolist())) <= 1
        arrays = {name: (np.stack(values) if stacked else np.concatenate(values)) for name, values in self._columns.items()}
        arrays.update({key: np.asarray(values) for key, values in self._meta.items()})
        arrays["layout"] = np.asarray("stacked" if stacked else "ragged")
        arrays["frame_offsets"] = np.concatenate([[0], np.cumsum(counts)])
        with open(self.temporary, "wb") as handle:
            np.savez(handle, **arrays)


def open_writer(path: str):
    """The writer for ``path``'s extension (call :func:`check_output_path` first)."""
    kind = OUTPUT_FORMATS[os.path.splitext(path)[1].lower()]
    return GSDWriter(path) if kind == "gsd" else NPZWriter(path)
