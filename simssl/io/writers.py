"""Output files: GSD (input frames + ``particles/simssl/<name>`` log arrays) and NPZ, written atomically.

Both writers fill a hidden partial file beside the target (``.NAME.part.gsd``) and rename it into
place only when every frame is written, so a failure never leaves a half-written or clobbered
output. GSD frames are flushed as they are written, so a run that was killed can be resumed: its
partial file holds every frame completed before the kill. A writer holds the output's lock
(:mod:`simssl.locking`) from its construction to the end of its ``with`` block, the whole run: a
second writer of the same output is refused before it looks at the partial file.
"""

from __future__ import annotations

import os

import gsd.hoomd
import numpy as np

from ..atomic import AtomicFile, partial_path, refuse_overwrite
from ..defaults import LOG_PREFIX
from ..errors import SimsslError
from ..frame import Frame
from .processed import PER_PARTICLE_META, log_quantities
from .records import NPZ_RECORD, RECORD_KEY, encode_record, record_from_log, record_text, refuse_other_run

__all__ = ["GSDWriter", "LOG_PREFIX", "NPZWriter", "check_output_path", "open_writer", "partial_path"]
OUTPUT_FORMATS = {".gsd": "gsd", ".npz": "npz"}


def check_output_path(path, force: bool = False, inputs=()) -> str:
    """Refuse unknown extensions, an existing file without ``force``, and overwriting an input.

    Parameters
    ----------
    path : str or os.PathLike
        The output file, ``.gsd`` or ``.npz``.
    force : bool
        Allow replacing an existing file (never an input).
    inputs : iterable of str
        Existing input files the output must not be.

    Returns
    -------
    str
        ``path`` as a str.

    Raises
    ------
    SimsslError
        For another extension, an existing file without ``force``, an input, or a missing directory.
    """
    path = os.fspath(path)
    extension = os.path.splitext(path)[1].lower()
    if extension not in OUTPUT_FORMATS:
        raise SimsslError(f"{path}: output must end in .gsd or .npz, not {extension or '(no extension)'!r}")
    for source in inputs:
        if os.path.exists(path) and os.path.samefile(path, source):
            raise SimsslError(f"{path}: the output would overwrite the input; choose another name")
    refuse_overwrite(path, force)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise SimsslError(f"{path}: the directory {directory} does not exist")
    return path


class _AtomicWriter(AtomicFile):
    """Base: an :class:`~simssl.atomic.AtomicFile` that keeps its partial file when interrupted (for
    ``resume``) and finishes the file format before the rename; subclasses add frames."""

    def __init__(self, path: str, resume: bool = False, force: bool = False):
        # ``force`` is checked again once the lock is ours: a run that finished meanwhile is not replaced silently
        super().__init__(path, force=force, keep_partial=True, reuse_partial=resume, replace_partial=force)

    def __exit__(self, kind, error, trace):
        if kind is None:
            try:
                self._finish()
            except Exception as failure:  # the partial file is removed, then the failure propagates
                super().__exit__(type(failure), failure, failure.__traceback__)
                raise
        return super().__exit__(kind, error, trace)

    def write(self, frame: Frame, quantities: dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    def _finish(self) -> None:
        raise NotImplementedError


class GSDWriter(_AtomicWriter):
    """Frames with per-particle log arrays.

    gsd reads them as ``frame.log['particles/simssl/q6']``, OVITO as particle properties.

    Parameters
    ----------
    path : str
        The ``.gsd`` output (:func:`check_output_path` refuses bad names before any work).
    resume : bool
        Continue the partial file of an interrupted run.
    force : bool
        Replace an existing output, and discard an interrupted run's partial file, instead of
        refusing to start.
    fingerprint : dict, optional
        The run record (JSON-like), stored in the first frame's log and compared on ``resume``.
    keep_input : bool
        Carry a GSD input's other particle data and log arrays into the output (:attr:`Frame.extra`).

    Attributes
    ----------
    n_written : int
        Frames already in the partial file of an interrupted run (resume).
    last_step : int or None
        The step of the last of those.
    previous_fingerprint : dict or None
        The run record of the partial file (None: none stored), see :mod:`simssl.io.records`.

    Raises
    ------
    SimsslError
        If the partial file cannot be resumed or belongs to another run, and as
        :class:`~simssl.atomic.AtomicFile`.
    """

    def __init__(
        self,
        path: str,
        resume: bool = False,
        force: bool = False,
        fingerprint: dict | None = None,
        keep_input: bool = True,
    ):
        super().__init__(path, resume, force)
        #: carry a GSD input's other particle data and log arrays into the output (:attr:`Frame.extra`)
        self.keep_input = keep_input
        #: frames already in the partial file of an interrupted run (resume), and the last one's step
        self.n_written, self.last_step = 0, None
        #: the run record of the partial file (None: none stored), see :mod:`simssl.io.records`
        self.previous_fingerprint: dict | None = None
        self.fingerprint = fingerprint
        try:
            if resume and os.path.exists(self.temporary):
                self._read_partial(fingerprint)
            self._file = gsd.hoomd.open(self.temporary, "a" if self.n_written else "w")
        except BaseException:
            self.unlock()  # refused or failed before the ``with`` block: the partial file is left as it was
            raise

    def _read_partial(self, fingerprint: dict | None) -> None:
        """Count an interrupted run's frames in its partial file; refuse one that cannot be resumed or is another's."""
        try:
            with gsd.hoomd.open(self.temporary, "r") as done:
                self.n_written = len(done)
                self.last_step = done[-1].configuration.step if self.n_written else None
                self.previous_fingerprint = record_from_log(done[0].log) if self.n_written else None
        except Exception as error:
            raise SimsslError(
                f"{self.temporary}: the partial output cannot be resumed ({error}); "
                "run again without --resume, with --force"
            ) from None
        if self.n_written and fingerprint is not None:  # refused before the file is touched
            refuse_other_run(self.temporary, self.previous_fingerprint, fingerprint)

    def written(self):
        """``(n_particles, {name: array})`` of every frame already in the partial file (for the run's summary).

        Yields
        ------
        tuple of (int, dict of str to numpy.ndarray)
        """
        with gsd.hoomd.open(self.temporary, "r") as done:
            for index in range(self.n_written):
                snapshot = done[index]
                yield int(snapshot.particles.N), log_quantities(snapshot.log)

    def write(self, frame: Frame, quantities: dict[str, np.ndarray]) -> None:
        """Append ``frame`` with ``quantities`` as ``particles/simssl/<name>`` log arrays, flushed to disk.

        Parameters
        ----------
        frame : Frame
        quantities : dict of str to numpy.ndarray
            ``{name: array with N rows}``.
        """
        snapshot = gsd.hoomd.Frame()
        box = frame.box
        snapshot.configuration.box = [box.Lx, box.Ly, box.Lz, box.xy, box.xz, box.yz]
        snapshot.configuration.step = frame.output_step
        snapshot.particles.N = frame.n_particles
        snapshot.particles.position = frame.positions
        snapshot.particles.typeid = frame.types.astype(np.uint32)
        snapshot.particles.types = list(frame.type_names)
        carried = (frame.extra or {}) if self.keep_input else {}
        for attribute, value in carried.get("particles", {}).items():  # velocities, images, ... of a GSD input
            setattr(snapshot.particles, attribute, value)
        log = {key: value for key, value in carried.get("log", {}).items() if key != RECORD_KEY}
        log.update({LOG_PREFIX + name: np.ascontiguousarray(value) for name, value in quantities.items()})
        snapshot.log = log
        if self.fingerprint is not None and self.n_written == 0 and len(self._file) == 0:
            snapshot.log[RECORD_KEY] = encode_record(self.fingerprint)
        self._file.append(snapshot)
        self._file.flush()  # every completed frame is on disk, so a killed run can resume

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
    and ``box`` (Lx, Ly, Lz, xy, xz, yz) are stored per frame; ``positions`` float32 (N, 3),
    ``types`` int32 (N,) (names in ``type_names``) and ``ids`` int64 (N,) (the file's own particle
    ids, e.g. LAMMPS ``id``; the row index for GSD and XYZ) per particle, in the rows of the
    quantities (for LAMMPS dumps: sorted by id). ``fingerprint`` is the run record (JSON text).

    Parameters
    ----------
    path : str
        The ``.npz`` output (:func:`check_output_path` refuses bad names before any work).
    resume : bool
        Must be False: NPZ files are written in one piece at the end.
    force : bool
        Replace an existing output, and discard an interrupted run's partial file, instead of
        refusing to start.
    fingerprint : dict, optional
        The run record (JSON-like), stored as ``fingerprint``.
    keep_input : bool
        Accepted for the common writer signature; unused.

    Raises
    ------
    SimsslError
        With ``resume``, and as :class:`~simssl.atomic.AtomicFile`.
    """

    def __init__(
        self,
        path: str,
        resume: bool = False,
        force: bool = False,
        fingerprint: dict | None = None,
        keep_input: bool = True,
    ):
        if resume:
            raise SimsslError(
                f"{path}: --resume works with .gsd outputs; .npz files are written in one piece at the end"
            )
        super().__init__(path, force=force)
        self.n_written, self.last_step = 0, None
        self.fingerprint = fingerprint
        self._columns: dict[str, list[np.ndarray]] = {}
        self._meta: dict[str, list] = {
            "step": [],
            "frame": [],
            "n_particles": [],
            "box": [],
            "positions": [],
            "types": [],
            "ids": [],
        }
        self._type_names: tuple[str, ...] | None = None

    def write(self, frame: Frame, quantities: dict[str, np.ndarray]) -> None:
        """Collect one frame (the file is written when the ``with`` block ends).

        Parameters
        ----------
        frame : Frame
        quantities : dict of str to numpy.ndarray
            ``{name: array with N rows}``.

        Raises
        ------
        SimsslError
            If the quantity names or the type names differ from the first frame's.
        """
        if self._columns and set(quantities) != set(self._columns):
            raise SimsslError(
                frame.where(f"quantities changed between frames: {sorted(quantities)} vs {sorted(self._columns)}")
            )
        for name, value in quantities.items():
            self._columns.setdefault(name, []).append(np.asarray(value))
        box = frame.box
        self._meta["step"].append(frame.output_step)
        self._meta["positions"].append(frame.positions)
        self._meta["types"].append(frame.types)
        self._meta["ids"].append(frame.particle_ids)
        if self._type_names is not None and tuple(frame.type_names) != self._type_names:
            raise SimsslError(frame.where(f"the type names changed between frames: {frame.type_names}"))
        self._type_names = tuple(frame.type_names)
        self._meta["frame"].append(-1 if frame.index is None else frame.index)
        self._meta["n_particles"].append(frame.n_particles)
        self._meta["box"].append([box.Lx, box.Ly, box.Lz, box.xy, box.xz, box.yz])

    def _finish(self) -> None:
        counts = np.asarray(self._meta["n_particles"], dtype=np.int64)
        stacked = len(set(counts.tolist())) <= 1
        per_particle = {**self._columns, **{key: self._meta[key] for key in PER_PARTICLE_META}}
        arrays = {
            name: (np.stack(values) if stacked else np.concatenate(values)) for name, values in per_particle.items()
        }
        arrays.update({key: np.asarray(values) for key, values in self._meta.items() if key not in PER_PARTICLE_META})
        arrays["type_names"] = np.asarray(self._type_names or ())
        arrays["layout"] = np.asarray("stacked" if stacked else "ragged")
        arrays["frame_offsets"] = np.concatenate([[0], np.cumsum(counts)])
        if self.fingerprint is not None:
            arrays[NPZ_RECORD] = np.asarray(record_text(self.fingerprint))
        with open(self.temporary, "wb") as handle:
            np.savez(handle, **arrays)


def open_writer(
    path: str, resume: bool = False, force: bool = False, fingerprint: dict | None = None, keep_input: bool = True
):
    """The writer for ``path``'s extension (call :func:`check_output_path` first).

    Parameters
    ----------
    path : str
        ``.gsd`` or ``.npz`` output.
    resume : bool
        Continue the partial file of an interrupted run (``.gsd`` only).
    force : bool
        Replace an existing output, and discard an interrupted run's partial file, instead of
        refusing to start.
    fingerprint : dict, optional
        The run record (JSON-like) stored with the output, compared on ``resume``.
    keep_input : bool
        GSD outputs carry a GSD input's other particle data (velocities, images, orientations,
        diameters, charges, masses, bodies, ...) and its log arrays, earlier simssl quantities
        included (same-named ones are replaced by this run's).

    Returns
    -------
    GSDWriter or NPZWriter
        A context manager.
    """
    extension = os.path.splitext(path)[1].lower()
    if extension not in OUTPUT_FORMATS:
        raise SimsslError(f"{path}: output must end in .gsd or .npz, not {extension or '(no extension)'!r}")
    kind = OUTPUT_FORMATS[extension]
    return (GSDWriter if kind == "gsd" else NPZWriter)(path, resume, force, fingerprint, keep_input)
