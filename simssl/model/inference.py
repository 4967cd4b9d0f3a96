"""Batched inference: embeddings of frames of any size with bounded memory, on CPU or GPU.

Neighborhood arrays stay on the host and travel to the device one chunk at a time, so device memory
is bounded by the batch size whatever N is; there is no Python loop over particles (only over
chunks). Bonds are made unit-free by :func:`simssl.neighbors.model_inputs`.
"""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import torch

from ..devices import resolve_device
from ..errors import SimsslError
from .gradients import equivariant_outputs

#: rough bytes of live intermediates per tuple per hidden unit (eager mode, float32)
_BYTES_PER_TUPLE_UNIT = 12
#: memory budget per batch: modest on CPU (cache friendly), large on GPU
_BUDGET = {"cpu": 64 * 2**20, "cuda": 2 * 2**30}


def default_device() -> torch.device:
    """CUDA when available, else CPU.

    Returns
    -------
    torch.device
    """
    return resolve_device(None)


def default_batch_size(config, device: torch.device) -> int:
    """Particles per batch keeping the per-tuple intermediates within the device's budget.

    Parameters
    ----------
    config : EncoderConfig
        Supplies ``k``, ``rank``, ``width`` and ``score_hidden``.
    device : torch.device
        CPU budgets are small (cache friendly); other devices get the GPU budget.

    Returns
    -------
    int
        Between 16 and 65536.
    """
    per_particle = _BYTES_PER_TUPLE_UNIT * config.k**config.rank * (config.width + config.score_hidden)
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


def neighborhood_arrays(model, source) -> list:
    """Model inputs ``[bonds, mask, center_types, neighbor_types]`` from Neighborhoods, a Frame, or arrays.

    Neighborhoods (and a Frame's, built with ``model.config.k`` neighbors) go through
    :func:`simssl.neighbors.model_inputs`, the one place where bonds become unit-free; a tuple/list
    ``(bonds, mask, center_types, neighbor_types)`` of arrays or tensors is taken as already unit-free.

    Parameters
    ----------
    model : Encoder
        Supplies ``config.k`` and ``config.n_types``.
    source : Frame, Neighborhoods, or tuple/list of 4 arrays or tensors
        Arrays: bonds (N, k, 3) float, mask (N, k) bool, center_types (N,) int, neighbor_types (N, k) int.

    Returns
    -------
    list
        The four arrays (numpy float32 bonds, bool mask, int32 types from Neighborhoods; given arrays as is).

    Raises
    ------
    SimsslError
        If the length scale is not positive or a type id is beyond the model's ``n_types``.
    ValueError
        If a tuple/list does not hold four arrays.
    """
    from ..neighbors import compute_neighborhoods, model_inputs

    if isinstance(source, (tuple, list)):
        arrays = list(source)
    elif not hasattr(source, "vectors") and not hasattr(source, "positions"):
        what = f"a {type(source).__name__}" + (f" of shape {source.shape}" if hasattr(source, "shape") else "")
        raise SimsslError(
            f"cannot embed {what}: give a Frame (e.g. simssl.make_frame(box, positions)), Neighborhoods, "
            "or a (bonds, mask, center_types, neighbor_types) tuple of unit-free model inputs"
        )
    else:
        if not hasattr(source, "vectors"):  # a Frame: build its neighborhoods
            source = compute_neighborhoods(source, k=model.config.k)
        if not source.scale > 0:
            raise SimsslError(f"the neighborhoods' length scale must be positive, got {source.scale}")
        arrays = list(model_inputs(source))
    if len(arrays) != 4:
        raise SimsslError(f"expected (bonds, mask, center_types, neighbor_types), got a sequence of {len(arrays)}")
    n_types = model.config.n_types
    for name, types in (("center", arrays[2]), ("neighbor", arrays[3])):
        if len(types) and int(types.max()) >= n_types:
            raise SimsslError(
                f"{name} type id {int(types.max())} is out of range: the model knows {n_types} particle type(s)"
            )
    return arrays


def _tensor(array) -> torch.Tensor:
    """A tensor view of a tensor, or a tensor copy of a (possibly read-only, e.g. freud-owned) numpy chunk."""
    return array if isinstance(array, torch.Tensor) else torch.from_numpy(np.array(array))


def map_batches(function, arrays, batch_size: int, device: torch.device, pad: bool, to_numpy: bool) -> dict:
    """Apply ``function`` (tensors -> dict of tensors) to consecutive row chunks of ``arrays`` and concatenate.

    With ``pad`` the last chunk is padded (masked-out rows) to ``batch_size``, so a compiled
    function sees one shape only. Outputs are numpy float32 (``to_numpy``) or tensors on ``device``.

    Parameters
    ----------
    function : callable
        ``function(*chunk) -> dict`` of tensors with the chunk's rows first.
    arrays : sequence of arrays or tensors
        Equal length N along axis 0.
    batch_size : int
        Rows per chunk.
    device : torch.device
        Where chunks are sent.
    pad : bool
        Pad the last chunk to ``batch_size``.
    to_numpy : bool
        Return numpy arrays instead of tensors.

    Returns
    -------
    dict
        Per name, float32 outputs of shape (N, ...).
    """
    n = len(arrays[0])
    outputs = {}
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        chunk = [_tensor(array[start:stop]).to(device, non_blocking=True) for array in arrays]
        if pad and stop - start < batch_size:
            chunk = [torch.cat([t, t.new_zeros((batch_size - (stop - start),) + t.shape[1:])]) for t in chunk]
        for name, value in function(*chunk).items():
            if name not in outputs:
                shape = (n,) + value.shape[1:]
                outputs[name] = np.empty(shape, np.float32) if to_numpy else value.new_empty(shape, dtype=torch.float32)
            value = value[: stop - start].float()
            outputs[name][start:stop] = value.cpu().numpy() if to_numpy else value
    return outputs


def _compiled_forward(model):
    """``torch.compile`` of the model's forward (static shapes), cached on the model.

    A higher ``realize_reads_threshold`` lets inductor fuse each per-tuple pre-activation into its
    consumer even when the activation reads it twice (smooth_relu, silu) instead of writing the
    (B, k, k, width) tensor to memory: ~2x faster for those activations.
    """
    compiled = model.__dict__.get("_compiled_forward")
    if compiled is None:
        compiled = model.__dict__["_compiled_forward"] = torch.compile(
            model.forward, dynamic=False, options={"realize_reads_threshold": 16}
        )
    return compiled


def run(model, source, function, device=None, batch_size=None, autocast=None, compile=False, to_numpy=True) -> dict:
    """Shared driver of :func:`embed` and :func:`equivariant`: coerce input, pick device, chunk, run in eval mode.

    ``function(bonds, mask, center_types, neighbor_types)`` maps one chunk (bonds in the model's
    dtype, mask bool) to a dict of tensors; the other parameters are those of :func:`embed`. The
    model's training mode is restored afterwards.
    """
    arrays = neighborhood_arrays(model, source)
    device = (
        resolve_device(device)
        if device is not None
        else (arrays[0].device if isinstance(arrays[0], torch.Tensor) else default_device())
    )
    batch_size = int(batch_size or default_batch_size(model.config, device))
    was_training = model.training
    model.to(device).eval()
    dtype = next(model.parameters()).dtype

    def typed(bonds, mask, center_types, neighbor_types):
        return function(bonds.to(dtype), mask.bool(), center_types, neighbor_types)

    try:
        with precision(autocast, device):
            return map_batches(typed, arrays, batch_size, device, pad=compile, to_numpy=to_numpy)
    finally:
        model.train(was_training)


def embed(model, source, device=None, batch_size=None, autocast=None, compile=False, to_numpy=True, average=False):
    """Per-particle embeddings (N, D) of a Frame, Neighborhoods, or (bonds, mask, center_types, neighbor_types).

    Deterministic (eval mode, no dropout). ``device``: default CUDA when available (tensor input:
    its own device). ``batch_size``: particles per chunk (default from a memory budget).
    ``autocast``: None, 'tf32' or 'bf16'. ``compile``: use ``torch.compile`` (faster on large
    frames after a one-off compilation; falls back to eager with a warning if it fails).
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
    compile : bool
        Use ``torch.compile``.
    to_numpy : bool
        Return numpy (True) or a tensor on the device.
    average : bool
        Average each embedding with its neighbors'.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        Embeddings, shape (N, D) float32.
    """
    if average:
        from ..neighbors import compute_neighborhoods, neighbor_average

        if isinstance(source, (tuple, list)):
            raise SimsslError("average=True needs a Frame or Neighborhoods: raw arrays carry no neighbor indices")
        if not hasattr(source, "vectors"):
            source = compute_neighborhoods(source, k=model.config.k)
        return neighbor_average(embed(model, source, device, batch_size, autocast, compile, to_numpy), source)
    forward = model.forward
    if compile:
        try:
            forward = _compiled_forward(model)
        except Exception as error:  # no C compiler, unsupported platform, ...
            warnings.warn(f"torch.compile failed ({error}); running eagerly", RuntimeWarning, stacklevel=2)
            compile = False

    @torch.inference_mode()
    def function(*inputs):
        return {"embedding": forward(*inputs)}

    try:
        return run(model, source, function, device, batch_size, autocast, compile, to_numpy)["embedding"]
    except SimsslError:
        raise
    except Exception as error:
        if not compile:
            raise
        warnings.warn(f"compiled forward failed ({error}); running eagerly", RuntimeWarning, stacklevel=2)
        return embed(model, source, device, batch_size, autocast, False, to_numpy)


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
        return equivariant_outputs(model, *inputs, create_graph=False)

    return run(model, source, function, device, batch_size, to_numpy=to_numpy)
