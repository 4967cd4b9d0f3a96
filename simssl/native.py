"""Fused CPU kernels (``native.c``), compiled with the system C compiler on first use and cached on disk.

The encoder's pair attention and the shell spectra's density coefficients are sums over every
pair of bonds (or every bond and harmonic) of a particle. Written as torch operations they run as
dozens of elementwise passes over (particles, k, k, width) temporaries, which is memory bound and
~5x slower than the arithmetic needs (or, with ``torch.compile``, costs a minute of compilation in
a fresh environment). ``native.c`` does each sum in one pass per particle, with every
intermediate in registers; plain C99 without Python or torch headers, so it compiles in well under
a second. The torch code stays the reference, the path on GPUs and for training (autograd), and
the fallback where no C compiler is found (one warning).

There are two kinds of builds: the shell spectra and ball query kernels (:func:`library`), and one
encoder layer kernel per encoder configuration, its activation and widths compiled in as constants
(:func:`encoder_library`; the shipped model's takes ~0.6 s of one core to compile, the other ~0.3 s).
They are cached under ``$SIMSSL_CACHE_DIR`` (default ``$XDG_CACHE_HOME/simssl`` or ``~/.cache/simssl``),
keyed by the source, compiler, flags, configuration and CPU (they are built with ``-march=native``),
so a shared home directory serves machines of different CPUs correctly.
``SIMSSL_NATIVE=0`` disables the kernels. Work is split between the threads
:func:`simssl.devices.current_threads` gives (ctypes releases the GIL), piece by piece.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import platform
import subprocess
import sysconfig
import tempfile
import warnings
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from .atomic import AtomicFile
from .devices import current_threads

#: activations with a fused kernel (the names of :data:`simssl.model.layers.ACTIVATIONS`)
ACTIVATIONS = ("relu", "smooth_relu", "silu", "gelu", "tanh")
#: limits compiled into ``native.c``: per-tuple hidden units, shell windows, degree, bonds per particle, and
#: bonds (rounded up to :data:`LANES`) times score units in the pair kernel
MAX_HIDDEN, MAX_WINDOWS, MAX_DEGREE, MAX_BONDS, MAX_PARTNER_TERMS = 1024, 8, 32, 1024, 16384
#: floats per vector in ``native.c``: the encoder layers' widths are multiples of it (hidden units are padded)
LANES = 16
#: compiler flags; ``-march=native`` is dropped if the compiler refuses it
FLAGS = ("-O3", "-std=c99", "-ffp-contract=fast", "-fno-math-errno", "-fPIC", "-shared")
#: pieces per thread the rows of a kernel call are cut into, taken one after another by the threads
PIECES_PER_THREAD = 8

_int64, _float, _pointer = ctypes.c_int64, ctypes.c_float, ctypes.c_void_p
_LAYER_SIGNATURE = [_pointer] * 5 + [_float] + [_pointer] * 6 + [_float] + [_int64] * 5 + [_pointer]
_DENSITY_SIGNATURE = [_pointer, _pointer, _int64, _int64, _int64, _float, _pointer, _int64, _float, _pointer]
_DENSITY_SIGNATURE += [_int64, _int64, _int64, _pointer, _pointer]
_HOP_SIGNATURE = [_pointer, _pointer, _int64, _int64, _pointer, _int64, _float, _pointer, _int64]
_HOP_SIGNATURE += [_pointer, _pointer, _pointer, _int64, _int64, _int64, _pointer]
_BALL_SIGNATURE = [_pointer] * 6 + [_int64, _pointer, _pointer, ctypes.c_double] + [_int64] * 3 + [_pointer] * 3


def cache_dir() -> Path:
    """Where compiled kernels are kept: ``$SIMSSL_CACHE_DIR``, else ``$XDG_CACHE_HOME/simssl`` (``~/.cache/simssl``)."""
    configured = os.environ.get("SIMSSL_CACHE_DIR")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "simssl"


def _compiler() -> str:
    """The C compiler: ``$CC``, else the one Python was built with, else ``cc``."""
    return (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()[0]


def _cpu_identity() -> str:
    """What ``-march=native`` code depends on: the machine type and, on Linux, the CPU's feature flags."""
    try:
        flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags"))
    except (OSError, StopIteration):
        flags = platform.processor()
    return f"{platform.machine()} {flags}"


def _build(source: bytes, target: Path, defines: tuple[str, ...]) -> None:
    """Compile ``source`` with ``-D`` ``defines`` into the shared library ``target`` (atomically, each process
    under a temporary name of its own: concurrent processes may build the same library at once).

    Raises
    ------
    OSError or subprocess.CalledProcessError
        If no compiler runs or it fails both with and without ``-march=native``.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as directory, AtomicFile(target, shared=True) as output:
        source_path = Path(directory) / "native.c"
        source_path.write_bytes(source)
        command = [_compiler(), *FLAGS, *(f"-D{define}" for define in defines), str(source_path)]
        command += ["-o", output.temporary, "-lm"]
        try:
            subprocess.run([*command[:1], "-march=native", *command[1:]], check=True, capture_output=True)
        except subprocess.CalledProcessError:
            subprocess.run(command, check=True, capture_output=True)


def _disabled() -> bool:
    """``SIMSSL_NATIVE=0``: the torch code runs everywhere."""
    return os.environ.get("SIMSSL_NATIVE", "1").strip() == "0"


def library() -> ctypes.CDLL | None:
    """The shell spectra and ball query kernels (built on the first call of a process whose cache lacks them), or None.

    None while ``SIMSSL_NATIVE=0``, or when no C compiler works (then a ``RuntimeWarning`` says so
    once and the torch code runs instead).
    """
    return None if _disabled() else _load(())


def lanes(width: int) -> int:
    """``width`` rounded up to whole vectors (:data:`LANES`): the encoder kernels' padded widths."""
    return -(-width // LANES) * LANES


def encoder_library(activation: str, dim: int, score_width: int, value_width: int) -> ctypes.CDLL | None:
    """The encoder layer kernel of one configuration, its widths compiled in as constants; None as :func:`library`.

    Parameters
    ----------
    activation : str
        One of :data:`ACTIVATIONS`.
    dim : int
        Feature width D, a multiple of :data:`LANES`.
    score_width, value_width : int
        The score and value MLPs' hidden widths, padded (:func:`lanes`).
    """
    if _disabled() or library() is None:
        return None
    defines = (f"ENCODER_ACTIVATION={activation.upper()}", f"ENCODER_DIM={dim}")
    return _load((*defines, f"ENCODER_SCORE={score_width}", f"ENCODER_VALUE={value_width}"))


@functools.cache
def _load(defines: tuple[str, ...]) -> ctypes.CDLL | None:
    """The build of ``native.c`` with ``defines``, compiled or loaded from the cache once per process."""
    source = resources.files("simssl").joinpath("native.c").read_bytes()
    parts = [source, _compiler(), " ".join(FLAGS), " ".join(defines), _cpu_identity()]
    key = hashlib.sha256(b"\0".join(part if isinstance(part, bytes) else part.encode() for part in parts))
    name = f"native-{key.hexdigest()[:20]}.so"
    try:
        target = cache_dir() / name
        if not target.exists():
            try:
                _build(source, target, defines)
            except PermissionError:  # an unwritable cache: this process's own temporary folder
                target = Path(tempfile.mkdtemp(prefix="simssl-")) / name
                _build(source, target, defines)
        loaded = ctypes.CDLL(str(target))
    except (OSError, subprocess.CalledProcessError) as error:
        detail = getattr(error, "stderr", b"") or b""
        warnings.warn(
            f"simssl's fused CPU kernels could not be built with {_compiler()!r} ({error}"
            f"{': ' + detail.decode(errors='replace').strip()[:300] if detail else ''}); the slower torch code runs",
            RuntimeWarning,
            stacklevel=3,
        )
        return None
    if defines:
        loaded.encoder_layer.argtypes, loaded.encoder_layer.restype = _LAYER_SIGNATURE, ctypes.c_int
    else:
        loaded.shell_density.argtypes, loaded.shell_density.restype = _DENSITY_SIGNATURE, ctypes.c_int
        loaded.shell_hop.argtypes, loaded.shell_hop.restype = _HOP_SIGNATURE, None
        loaded.ball_query.argtypes, loaded.ball_query.restype = _BALL_SIGNATURE, ctypes.c_int64
    return loaded


def usable(tensor: torch.Tensor) -> bool:
    """Whether the fused kernels can stand in for the torch code on ``tensor``'s computation (in inference).

    They can for float32 CPU tensors outside autocast and ``torch.compile`` tracing (a compiled
    model compiles the torch code), once the library is built. They compute no gradients: callers
    also check ``torch.is_grad_enabled()``.
    """
    compiling = getattr(getattr(torch, "compiler", None), "is_compiling", lambda: False)()
    return (
        tensor.device.type == "cpu"
        and tensor.dtype == torch.float32
        and not compiling
        and not _autocast()
        and library() is not None
    )


def _autocast() -> bool:
    """Whether CPU autocast is on (the fused kernels compute in float32 only)."""
    try:
        return torch.is_autocast_enabled("cpu")
    except TypeError:  # torch < 2.4
        return torch.is_autocast_cpu_enabled()


@functools.cache
def _executor(workers: int) -> ThreadPoolExecutor:
    """A pool of ``workers`` threads (one pool per size asked for, kept for the process)."""
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="simssl-native")


def _split(function, rows: int, threads: int) -> None:
    """Run ``function(first, last)`` over row ranges covering ``range(rows)`` on ``threads`` threads (the calling
    one included), which take the ranges one after another, so a thread slowed by other processes delays little."""
    pieces = min(rows, threads * PIECES_PER_THREAD) if threads > 1 else 1
    bounds = np.linspace(0, rows, pieces + 1).astype(np.int64)
    ranges = iter(zip(bounds[:-1].tolist(), bounds[1:].tolist()))  # next() on it is atomic under the GIL

    def work() -> None:
        for first, last in ranges:
            function(first, last)

    helpers = [_executor(threads - 1).submit(work) for _ in range(min(threads, pieces) - 1)]
    work()
    for helper in helpers:
        helper.result()


def _address(array) -> int:
    """Data pointer of a contiguous torch tensor or numpy array."""
    return array.data_ptr() if isinstance(array, torch.Tensor) else array.ctypes.data


def encoder_layer(
    features: torch.Tensor,
    bonds: torch.Tensor,
    weights: torch.Tensor,
    norm: tuple[torch.Tensor, torch.Tensor, float],
    attention: tuple[torch.Tensor, ...],
    activation: str,
    reduce: bool,
    floor: float,
    uniform: bool = False,
) -> torch.Tensor | None:
    """One encoder layer (a residual block, or with ``reduce`` the reducing attention) in the fused kernel.

    See ``encoder_layer`` in ``native.c`` for the arithmetic; it is that of
    :class:`simssl.model.encoder.Block` and :meth:`simssl.model.encoder.Encoder.pool` with gated
    rank-2 :class:`~simssl.model.layers.GAAttention`.

    Parameters
    ----------
    features : torch.Tensor
        float32 (B, k, D) contiguous per-bond features; a residual block updates them in place.
    bonds : torch.Tensor
        float32 (B, k, 3) unit-free bond vectors.
    weights : torch.Tensor
        float32 (B, k) bond weights, 0 on padding.
    norm : tuple
        ``(weight (D,), bias (D,), eps)`` of the layer's LayerNorm.
    attention : tuple of torch.Tensor
        :meth:`simssl.model.layers.GAAttention.fused_parameters`: first layers (D + 1, 2 H) and their
        bias (2 H,), invariant weights (2, H), score output weights (S,), value output layer (V, D) and
        its bias (D,), with S, V multiples of :data:`LANES` and H = S + V.
    activation : str
        One of :data:`ACTIVATIONS`.
    reduce : bool
        The reducing attention (returns the pooled (B, D)) rather than a residual block (returns None).
    floor : float
        Lower bound of the total weights (:data:`simssl.model.layers.WEIGHT_FLOOR`).
    uniform : bool
        Every bond of a particle has the same features (the first block of a geometry-only model): their
        LayerNorm and first layers are computed once per particle (the same numbers).

    Returns
    -------
    torch.Tensor or None
        float32 (B, D) with ``reduce``, else None.
    """
    batch, k, dim = features.shape
    score_width = attention[3].shape[0]
    value_width = attention[2].shape[1] - score_width
    if dim % LANES or score_width % LANES or value_width % LANES or score_width + value_width > MAX_HIDDEN:
        raise ValueError(f"the fused kernel needs widths that are multiples of {LANES}, at most {MAX_HIDDEN} in all")
    kernel = encoder_library(activation, dim, score_width, value_width).encoder_layer
    if k > MAX_BONDS or -(-k // LANES) * LANES * score_width > MAX_PARTNER_TERMS:
        raise ValueError(f"the fused kernel handles at most {MAX_PARTNER_TERMS} bonds x score units per particle")
    if not (features.is_contiguous() and features.dtype == torch.float32):
        raise ValueError("the fused kernel updates contiguous float32 features in place")
    inputs = [t.detach().contiguous() for t in (bonds, weights, norm[0], norm[1])]
    parameters = [t.detach().contiguous() for t in attention]
    pooled = torch.empty((batch, dim), dtype=torch.float32) if reduce else features.new_empty(0)
    addresses = [_address(t) for t in inputs]
    weights_addresses = [_address(t) for t in parameters]

    def run(first: int, last: int) -> None:
        failed = kernel(
            _address(features), *addresses, norm[2], *weights_addresses, floor, first, last, k, int(reduce),
            int(uniform), _address(pooled),
        )  # fmt: skip
        if failed:
            raise MemoryError("the encoder layer kernel could not allocate its scratch memory")

    _split(run, batch, current_threads())
    return pooled if reduce else None


def shell_density(
    vectors: np.ndarray,
    indices: np.ndarray,
    scale: float,
    radii,
    taper: float,
    degrees,
    density: torch.Tensor,
    norms: torch.Tensor,
    offset: int,
) -> None:
    """Write a block's shell density coefficients and norms into the frame's arrays (see ``native.c``).

    Parameters
    ----------
    vectors : numpy.ndarray
        float32 (n, w, 3) bond vectors of the block's particles, in the frame's units (padding: zeros).
    indices : numpy.ndarray
        (n, w) neighbor indices, -1 for padding.
    scale : float
        The frame's length unit.
    radii : sequence of float
        Outer radius of each window (unit-free).
    taper : float
        Width of each window's fall to 0.
    degrees : sequence of int
        Spherical-harmonic degrees.
    density : torch.Tensor
        float32 (C, N, H) contiguous: the frame's density coefficients; rows ``offset`` to ``offset + n``
        are written.
    norms : torch.Tensor
        float32 (C, N) contiguous: ``1 + sum_j g_c``, rows as ``density``.
    offset : int
        The block's first row in the frame.
    """
    lib = library()
    n, width = indices.shape
    if len(radii) > MAX_WINDOWS or max(degrees) > MAX_DEGREE or width > MAX_BONDS:
        raise ValueError(
            f"the fused kernel handles at most {MAX_WINDOWS} windows, degree {MAX_DEGREE} and {MAX_BONDS} bonds"
        )
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    indices = np.ascontiguousarray(indices, dtype=np.int64)
    radii = np.asarray(radii, dtype=np.float32)
    degrees = np.asarray(degrees, dtype=np.int64)

    def run(first: int, last: int) -> None:
        failed = lib.shell_density(
            _address(vectors), _address(indices), first, last, width, scale, _address(radii), len(radii),
            taper, _address(degrees), len(degrees), offset, density.shape[1], _address(density), _address(norms),
        )  # fmt: skip
        if failed:
            raise MemoryError("the shell density kernel could not allocate its lane sums")

    _split(run, n, current_threads())


def shell_hop(
    density: torch.Tensor,
    norms: torch.Tensor,
    radii,
    taper: float,
    degrees,
    block: tuple[int, torch.Tensor, torch.Tensor, torch.Tensor],
    out: np.ndarray,
) -> None:
    """Write a block's shell spectra (raw and neighbor-averaged invariants) into ``out`` (see ``native.c``).

    Parameters
    ----------
    density, norms : torch.Tensor
        The frame's float32 (C, N, H) density coefficients and (C, N) norms, contiguous.
    radii, taper, degrees
        As in :func:`shell_density`.
    block : tuple
        ``(first row, int32 CSR row starts (n + 1,), int32 neighbors (b,), float32 unit-free lengths (b,))``:
        the hop bonds of n consecutive particles (:attr:`simssl.shells.ShellSpectra.blocks`).
    out : numpy.ndarray
        float32 (N, C, len(degrees), 2) contiguous: the block's rows are written.
    """
    lib = library()
    offset, row_starts, neighbors, lengths = block
    radii = np.asarray(radii, dtype=np.float32)
    degrees = np.asarray(degrees, dtype=np.int64)
    n_windows, n_all, n_harmonics = density.shape

    def run(first: int, last: int) -> None:
        lib.shell_hop(
            _address(density), _address(norms), n_all, n_harmonics, _address(radii), n_windows, taper,
            _address(degrees), len(degrees), _address(row_starts), _address(neighbors), _address(lengths),
            offset, first, last, _address(out),
        )  # fmt: skip

    _split(run, len(row_starts) - 1, current_threads())


class CellList:
    """A frame's particles in a cell list, for ball queries of radius ``r_max`` (``ball_query`` in ``native.c``).

    The cells cover the periodic box in fractional coordinates, each at least ``r_max`` across; only
    occupied cells are stored (sorted keys), so a small cluster in a huge box costs no more than in
    a tight one. Bond vectors are the minimum images of the float32 positions, computed in double.

    Parameters
    ----------
    matrix : numpy.ndarray
        (3, 3) box matrix whose columns are the box vectors (``freud.box.Box.to_matrix()``), 3D.
    positions : numpy.ndarray
        float32 (N, 3).
    r_max : float
        The query radius, below half the box's smallest plane distance.
    """

    def __init__(self, matrix: np.ndarray, positions: np.ndarray, r_max: float):
        self.matrix = np.ascontiguousarray(matrix, dtype=np.float64)
        self.inverse = np.ascontiguousarray(np.linalg.inv(self.matrix))
        self.positions = np.ascontiguousarray(positions, dtype=np.float32)
        self.r_max = float(r_max)
        volume = abs(np.linalg.det(self.matrix))
        columns = self.matrix.T
        planes = [volume / np.linalg.norm(np.cross(columns[(a + 1) % 3], columns[(a + 2) % 3])) for a in range(3)]
        self.dims = np.array([min(2**20, max(1, int(plane // self.r_max))) for plane in planes], dtype=np.int64)
        fractional = self.positions.astype(np.float64) @ self.inverse.T + 0.5
        fractional -= np.floor(fractional)
        self.cells = np.ascontiguousarray(np.minimum((fractional * self.dims).astype(np.int64), self.dims - 1))
        keys = (self.cells[:, 0] * self.dims[1] + self.cells[:, 1]) * self.dims[2] + self.cells[:, 2]
        self.order = np.argsort(keys, kind="stable")
        self.keys, starts = np.unique(keys[self.order], return_index=True)
        self.starts = np.append(starts, len(keys)).astype(np.int64)
        #: expected bonds per particle, for the first guess of the output size (updated as queries run)
        self.expected = len(self.positions) / volume * 4 / 3 * np.pi * self.r_max**3

    def query(self, first: int, last: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Bonds of particles ``first`` to ``last``: int64 counts (n,), int32 neighbors (b,), float32 vectors (b, 3).

        Bonds are grouped by particle, in order; no self-bonds.
        """
        pieces = {}

        def run(start: int, stop: int) -> None:
            pieces[start] = self._query(first + start, first + stop)

        _split(run, last - first, current_threads())
        return tuple(np.concatenate(parts) for parts in zip(*(pieces[start] for start in sorted(pieces))))

    def _query(self, first: int, last: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`query` of one piece, in the calling thread."""
        lib = library()
        counts = np.empty(last - first, dtype=np.int64)
        capacity = int((last - first) * (1.25 * self.expected + 8))
        while True:
            points = np.empty(capacity, dtype=np.int32)
            vectors = np.empty((capacity, 3), dtype=np.float32)
            found = lib.ball_query(
                _address(self.positions), _address(self.matrix), _address(self.inverse), _address(self.dims),
                _address(self.cells), _address(self.keys), len(self.keys), _address(self.starts),
                _address(self.order), self.r_max, first, last, capacity, _address(counts), _address(points),
                _address(vectors),
            )  # fmt: skip
            if found <= capacity:
                self.expected = max(self.expected, found / max(1, last - first))
                return counts, points[:found], vectors[:found]
            capacity = found
