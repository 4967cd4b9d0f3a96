"""The embedding side of the encoder: sources (Frames, Neighborhoods, arrays) -> model inputs -> batched outputs.

:func:`as_model_inputs` is the one place where what a user passes becomes the five tensors
:class:`~simssl.model.Encoder` reads (bonds made unit-free by :func:`simssl.neighbors.model_inputs`);
:func:`embed` and :func:`equivariant` run the model over a frame of any size with bounded memory, on CPU
or GPU: the inputs stay on the host and travel to the device one chunk at a time, so device memory is
bounded by the batch size whatever N is; there is no Python loop over particles (only over chunks).
"""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import torch

from .devices import cpu_threads_for_work, resolve_device, torch_threads
from .errors import SimsslError
from .model.gradients import equivariant_outputs

#: rough bytes of live intermediates per tuple per hidden unit (eager mode, float32)
_BYTES_PER_TUPLE_UNIT = 12
#: rough bytes per bond per feature or hidden unit of the fused CPU kernels (features, first-layer terms, copies)
_BYTES_PER_BOND_UNIT = 8
#: compiled chunks have widths rounded up to a multiple of this (few shapes, little padding)
WIDTH_STEP = 4
#: the model inputs with a neighbor axis (bonds, mask, neighbor_types): trimmed to each chunk's width
NEIGHBOR_AXIS = (0, 1, 3)
#: memory budget per batch: modest on CPU (cache friendly), large on GPU
_BUDGET = {"cpu": 64 * 2**20, "cuda": 2 * 2**30}


def default_device() -> torch.device:
    """CUDA when available, else CPU.

    Returns
    -------
    torch.device
    """
    return resolve_device(None)


def default_batch_size(config, device: torch.device, width: int, fused: bool = False) -> int:
    """Particles per batch keeping the intermediates within the device's budget.

    The torch code holds per-tuple intermediates (k^rank of them per particle); the fused CPU
    kernels (:meth:`~simssl.model.encoder.Encoder.fused`) hold only per-bond ones, so their batches
    are larger (fewer calls, the same cache use: they work one particle at a time).

    Parameters
    ----------
    config : EncoderConfig
        Supplies ``rank``, ``dim``, ``width`` and ``score_hidden``.
    device : torch.device
        CPU budgets are small (cache friendly); other devices get the GPU budget.
    width : int
        Bonds per neighborhood (padded).
    fused : bool
        The batches run in the fused CPU kernels.

    Returns
    -------
    int
        Between 16 and 65536.
    """
    if fused:
        per_particle = _BYTES_PER_BOND_UNIT * width * (config.dim + 2 * (config.width + config.score_hidden))
    else:
        per_particle = _BYTES_PER_TUPLE_UNIT * width**config.rank * (config.width + config.score_hidden)
    return int(max(16, min(65536, _BUDGET.get(device.type, _BUDGET["cuda"]) // per_particle)))


@contextlib.contextmanager
def precision(autocast: str | None, device: torch.device):
    """Reduced-precision context: None (exact float32), 'tf32' (TF32 matmuls) or 'bf16' (bfloat16 autocast).

    Parameters
    ----------
    autocast : {None, 'tf32', 'bf16'}
        The precision mode; anything else raises ``ValueError``.
    device : torch.device
        Device whose autocast is used for 'bf16'.
    """
    if autocast is None:
        yield
    elif autocast == "bf16":
        with torch.autocast(device.type, dtype=torch.bfloat16):
            yield
    elif autocast == "tf32":
        previous = torch.get_float32_matmul_precision()
        torch.set_float32_matmul_precision("high")
        try:
            yield
        finally:
            torch.set_float32_matmul_precision(previous)
    else:
        raise ValueError(f"autocast must be None, 'tf32' or 'bf16', got {autocast!r}")


def is_structure(source) -> bool:
    """Whether ``source`` is one Frame or one Neighborhoods (not arrays, not a sequence of frames)."""
    from .frame import Frame
    from .neighbors import Neighborhoods

    return isinstance(source, (Frame, Neighborhoods))


def neighborhoods_of(model, source):
    """The Neighborhoods ``model`` reads of a Frame (built by :func:`simssl.neighbors.model_neighborhoods`), or
    ``source`` itself if it is Neighborhoods.

    Parameters
    ----------
    model : Encoder
        Supplies the neighborhood definition (``model.config``).
    source : Frame or Neighborhoods

    Raises
    ------
    SimsslError
        If ``source`` is neither.
    """
    from .frame import Frame
    from .neighbors import Neighborhoods, model_neighborhoods

    if isinstance(source, Neighborhoods):
        return source
    if isinstance(source, Frame):
        return model_neighborhoods(source, model.config)
    what = f"a {type(source).__name__}" + (f" of shape {source.shape}" if hasattr(source, "shape") else "")
    raise SimsslError(
        f"cannot embed {what}: give a Frame (e.g. simssl.make_frame(box, positions)), Neighborhoods, "
        "or a (bonds, mask, center_types, neighbor_types[, shells]) tuple of unit-free model inputs"
    )


def as_model_inputs(model, source) -> list:
    """The five model inputs ``[bonds, mask, center_types, neighbor_types, shells]`` of a Frame, Neighborhoods, arrays.

    The one place where what a user passes becomes model inputs. A Frame gets the neighborhoods the
    model reads (:func:`simssl.neighbors.model_neighborhoods`); Neighborhoods go through
    :func:`simssl.neighbors.model_inputs`, the one place where bonds become unit-free; a tuple/list
    ``(bonds, mask, center_types, neighbor_types[, shells])`` of arrays or tensors is taken as already
    unit-free. A geometry-only model (``n_types=0``) ignores types.

    Parameters
    ----------
    model : Encoder
        Supplies the neighborhood definition and ``config.n_types``.
    source : Frame, Neighborhoods, or tuple/list of 4 or 5 arrays or tensors
        Arrays: bonds (N, k, 3) float, mask (N, k) bool, center_types (N,) int, neighbor_types (N, k) int,
        and shell spectra (N, F) float for models with shells.

    Returns
    -------
    list
        The five arrays (numpy float32 bonds, bool mask, int32 types, float32 shells from Neighborhoods;
        given arrays as is, with an (N, 0) ``shells`` appended to four).

    Raises
    ------
    SimsslError
        If ``source`` is none of these, the length scale is not positive, the neighborhoods or shell
        spectra are not the ones the model reads, or a type id is beyond the model's ``n_types``.
    """
    from .neighbors import model_inputs, reads

    if isinstance(source, (tuple, list)):
        arrays = list(source)
    else:
        source = neighborhoods_of(model, source)
        if not source.scale > 0:
            raise SimsslError(f"the neighborhoods' length scale must be positive, got {source.scale}")
        if not reads(source, model.config, exact=True):
            wanted = model.config.summary().split(", D=")[0]
            given = f"cutoff={source.cutoff}" if source.cutoff is not None else f"{source.k} neighbors"
            given += ", shell spectra" if source.shells is not None else ""
            raise SimsslError(
                f"these neighborhoods ({given}) are not the ones the model reads ({wanted}): pass the Frame, or "
                "simssl.neighbors.model_neighborhoods(frame, model.config)"
            )
        arrays = list(model_inputs(source))
    if len(arrays) == 4:
        arrays.append(np.zeros((len(arrays[0]), 0), np.float32))
    if len(arrays) != 5:
        raise SimsslError(
            f"expected (bonds, mask, center_types, neighbor_types[, shells]), got a sequence of {len(arrays)}"
        )
    if arrays[4].shape[-1] != model.config.n_shell_features:
        raise SimsslError(
            f"the model reads {model.config.n_shell_features} shell-spectrum columns, the inputs have "
            f"{arrays[4].shape[-1]}: pass the Frame, or simssl.neighbors.model_neighborhoods(frame, model.config)"
        )
    n_types = model.config.n_types
    for name, types in (("center", arrays[2]), ("neighbor", arrays[3])) if n_types else ():
        if len(types) and int(types.max()) >= n_types:
            raise SimsslError(
                f"{name} type id {int(types.max())} is out of range: the model knows {n_types} particle type(s)"
            )
    return arrays


def _tensor(array) -> torch.Tensor:
    """A tensor as is, or a numpy chunk as a tensor (copied only if it is not already a writable, contiguous array)."""
    if isinstance(array, torch.Tensor):
        return array
    array = np.ascontiguousarray(array)
    return torch.from_numpy(array if array.flags.writeable else array.copy())


def map_batches(function, arrays, batch_size: int, device: torch.device, pad: bool, to_numpy: bool) -> dict:
    """Apply ``function`` (tensors -> dict of tensors) to row chunks of ``arrays`` and gather the results.

    Rows are visited in order of neighbor count, so each chunk holds neighborhoods of similar
    width and is trimmed to its widest (pair work grows with the width squared, and cutoff
    neighborhoods vary in width); results go back to their own rows. With ``pad`` (compiled
    functions) the chunk's width is rounded up to a multiple of :data:`WIDTH_STEP` and the last
    chunk is padded with masked-out rows to ``batch_size``, so a compiled function meets few shapes.

    Parameters
    ----------
    function : callable
        ``function(bonds, mask, center_types, neighbor_types, shells) -> dict`` of tensors with the chunk's rows first.
    arrays : sequence of 5 arrays or tensors
        ``(bonds (N, k, 3), mask (N, k), center_types (N,), neighbor_types (N, k), shells (N, F))``.
    batch_size : int
        Rows per chunk.
    device : torch.device
        Where chunks are sent.
    pad : bool
        Pad chunks to few shapes (for ``torch.compile``).
    to_numpy : bool
        Return numpy arrays instead of tensors.

    Returns
    -------
    dict
        Per name, float32 outputs of shape (N, ...), in the rows' original order.
    """
    n, k = arrays[1].shape[:2]
    mask = np.asarray(arrays[1].cpu() if isinstance(arrays[1], torch.Tensor) else arrays[1], dtype=bool)
    counts = mask.sum(1)
    left_packed = bool(np.all(mask[:, :-1] >= mask[:, 1:])) if k > 1 else True
    order = np.argsort(counts, kind="stable") if left_packed else np.arange(n)
    outputs = {}
    for start in range(0, n, batch_size):
        rows = order[start : start + batch_size]
        width = int(counts[rows].max(initial=1)) if left_packed else k
        if pad:
            width = min(k, -(-max(width, 1) // WIDTH_STEP) * WIDTH_STEP)
        index = torch.as_tensor(rows) if isinstance(arrays[0], torch.Tensor) else rows
        chunk = [_tensor(array[index]) for array in arrays]
        chunk = [t[:, :width] if column in NEIGHBOR_AXIS else t for column, t in enumerate(chunk)]
        chunk = [t.to(device, non_blocking=True) for t in chunk]
        if pad and len(rows) < batch_size:
            chunk = [torch.cat([t, t.new_zeros((batch_size - len(rows),) + t.shape[1:])]) for t in chunk]
        for name, value in function(*chunk).items():
            if name not in outputs:
                shape = (n,) + value.shape[1:]
                outputs[name] = np.empty(shape, np.float32) if to_numpy else value.new_empty(shape, dtype=torch.float32)
            value = value[: len(rows)].float()
            if to_numpy:
                outputs[name][rows] = value.cpu().numpy()
            else:
                outputs[name][torch.as_tensor(rows, device=value.device)] = value
    return outputs


def _compiled_forward(model):
    """``torch.compile`` of the model's forward (dynamic shapes: one compilation serves every batch and
    neighborhood width), cached on the model; inductor also caches it on disk for later processes.

    A higher ``realize_reads_threshold`` lets inductor fuse each per-tuple pre-activation into its
    consumer even when the activation reads it twice (smooth_relu, silu) instead of writing the
    (B, k, k, width) tensor to memory: ~2x faster for those activations.
    """
    compiled = model.__dict__.get("_compiled_forward")
    if compiled is None:
        compiled = model.__dict__["_compiled_forward"] = torch.compile(
            model.forward, dynamic=True, options={"realize_reads_threshold": 16}
        )
    return compiled


def target_device(device, arrays) -> torch.device:
    """Where inference runs: ``device`` if given, else the device of tensor inputs, else the default.

    Parameters
    ----------
    device : str, torch.device or None
    arrays : sequence of arrays or tensors
        The model inputs.
    """
    if device is not None:
        return resolve_device(device)
    return arrays[0].device if isinstance(arrays[0], torch.Tensor) else default_device()


def run(
    model, source, function, device=None, batch_size=None, autocast=None, compile=False, to_numpy=True, fused=False
) -> dict:
    """Shared driver of :func:`embed` and :func:`equivariant`: coerce input, pick device, chunk, run in eval mode.

    ``function(bonds, mask, center_types, neighbor_types, shells)`` maps one chunk (bonds and shells in
    the model's dtype, mask bool) to a dict of tensors; ``fused``: it runs without gradients, so an
    encoder that can (:meth:`~simssl.model.encoder.Encoder.fused`) gets the fused kernels' batch size; the
    other parameters are those of :func:`embed`. The model's training mode is restored afterwards.
    """
    arrays = as_model_inputs(model, source)
    device = target_device(device, arrays)
    was_training = model.training
    model.to(device).eval()
    dtype = next(model.parameters()).dtype
    fused = fused and not compile and model.fused(torch.empty(0, dtype=dtype, device=device))
    batch_size = int(batch_size or default_batch_size(model.config, device, arrays[0].shape[1], fused))

    def typed(bonds, mask, center_types, neighbor_types, shells):
        return function(bonds.to(dtype), mask.bool(), center_types, neighbor_types, shells.to(dtype))

    try:  # the fused kernels use the threads chosen; torch's small operations around them one (devices.py)
        with precision(autocast, device), torch_threads(1) if fused else contextlib.nullcontext():
            return map_batches(typed, arrays, batch_size, device, pad=compile, to_numpy=to_numpy)
    finally:
        model.train(was_training)


def embed(model, source, device=None, batch_size=None, autocast=None, compile=None, to_numpy=True, average=False):
    """Per-particle embeddings (N, D) of a Frame, Neighborhoods, or (bonds, mask, center_types, neighbor_types).

    Deterministic (eval mode, no dropout). ``device``: default CUDA when available (tensor input:
    its own device). ``batch_size``: particles per chunk (default from a memory budget).
    ``autocast``: None, 'tf32' or 'bf16'. ``compile``: use ``torch.compile`` (an opt-in: None, the
    default, never compiles; on the CPU the fused kernels of :mod:`simssl.native` run faster than
    the compiled torch code and build in under a second, where compilation costs a minute in a
    fresh environment; falls back to eager with a warning if it fails).
    Returns float32 numpy, or a float32 tensor on the device with ``to_numpy=False``.
    ``average=True`` returns, per particle, the mean embedding of the particle and its neighbors
    (the analogue of Lechner-Dellago averaged q_l; needs a Frame or Neighborhoods).

    Parameters
    ----------
    model : Encoder
        The encoder (moved to ``device``).
    source : Frame, Neighborhoods, or tuple/list
        A tuple/list is ``(bonds, mask, center_types, neighbor_types)``: unit-free bonds (N, k, 3),
        mask (N, k) bool, type ids (N,) and (N, k), as numpy arrays or tensors.
    device : str, torch.device or None
        Where to run.
    batch_size : int or None
        Particles per chunk.
    autocast : {None, 'tf32', 'bf16'}
        Reduced precision.
    compile : bool or None
        Use ``torch.compile`` (None or False: no).
    to_numpy : bool
        Return numpy (True) or a tensor on the device.
    average : bool
        Average each embedding with its neighbors'.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        Embeddings, shape (N, D) float32.
    """
    with cpu_threads_for_work():
        return _embed(model, source, device, batch_size, autocast, compile, to_numpy, average)


def _embed(model, source, device, batch_size, autocast, compile, to_numpy, average):
    """:func:`embed` inside its thread choice (parameters as there)."""
    if average:
        from .neighbors import bond_weights, neighbor_average

        if isinstance(source, (tuple, list)):
            raise SimsslError("average=True needs a Frame or Neighborhoods: raw arrays carry no neighbor indices")
        source = neighborhoods_of(model, source)
        values = _embed(model, source, device, batch_size, autocast, compile, to_numpy, False)
        return neighbor_average(values, source, bond_weights(source, model.config.taper))
    arrays = as_model_inputs(model, source)
    compile = bool(compile)
    forward = model  # through __call__: hooks registered on the model run
    if compile:
        try:
            forward = _compiled_forward(model)
        except Exception as error:  # no C compiler, unsupported platform, ...
            warnings.warn(f"torch.compile failed ({error}); running eagerly", RuntimeWarning, stacklevel=3)
            compile = False

    @torch.inference_mode()
    def function(*inputs):
        return {"embedding": forward(*inputs)}

    try:
        return run(model, arrays, function, device, batch_size, autocast, compile, to_numpy, fused=True)["embedding"]
    except SimsslError:
        raise
    except Exception as error:
        if not compile:
            raise
        warnings.warn(f"compiled forward failed ({error}); running eagerly", RuntimeWarning, stacklevel=3)
        return _embed(model, arrays, device, batch_size, autocast, False, to_numpy, False)


def equivariant(model, source, device=None, batch_size=None, to_numpy=True) -> dict:
    """Batched :func:`~simssl.model.gradients.equivariant_outputs` (scalars, vectors, tensors) of a whole frame.

    Parameters
    ----------
    model : Encoder
        An encoder with a gradient head (``gradient_outputs = n > 0``).
    source, device, batch_size, to_numpy
        As in :func:`embed`.

    Returns
    -------
    dict
        ``'scalars'`` (N, n), ``'vectors'`` (N, n, 3), ``'tensors'`` (N, n, 3, 3), float32.
    """

    def function(*inputs):
        return equivariant_outputs(model, *inputs[:4], create_graph=False)  # gradient models read no shells

    return run(model, source, function, device, batch_size, to_numpy=to_numpy)
