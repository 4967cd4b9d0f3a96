"""Torch devices by name, checked once: an unknown or absent device is one sentence, not a traceback."""

from __future__ import annotations

from .errors import SimsslError


def available_devices() -> list[str]:
    """The devices this torch build can run on here, e.g. ``['cpu']`` or ``['cpu', 'cuda', 'cuda:0', 'cuda:1']``.

    Returns
    -------
    list of str
    """
    import torch

    devices = ["cpu"]
    if torch.cuda.is_available():
        devices += ["cuda"] + [f"cuda:{index}" for index in range(torch.cuda.device_count())]
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        devices.append("mps")
    return devices


def resolve_device(device=None):
    """A usable ``torch.device``: ``device`` checked against what exists here, or CUDA when available, else the CPU.

    Parameters
    ----------
    device : str, torch.device or None
        A name such as ``"cpu"`` or ``"cuda:1"``, or a torch.device; None: CUDA when available, else the CPU.

    Returns
    -------
    torch.device

    Raises
    ------
    SimsslError
        Naming the devices that exist, for an unknown name (``"gpu"``), CUDA on a CPU-only torch build,
        a GPU index beyond the machine's count, or an absent or unsupported device type.
    """
    import torch

    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    here = ", ".join(available_devices())
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise SimsslError(f"unknown device {str(device)!r}; devices here: {here}") from None
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            build = "a CPU-only torch build" if torch.version.cuda is None else "no usable NVIDIA GPU"
            raise SimsslError(
                f"device {str(device)!r} is not available: this is {build} (torch {torch.__version__}); "
                f"devices here: {here}"
            )
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise SimsslError(
                f"device {str(device)!r} does not exist: this machine has {torch.cuda.device_count()} GPU(s); "
                f"devices here: {here}"
            )
    elif resolved.type == "mps" and "mps" not in available_devices():
        raise SimsslError(f"device {str(device)!r} is not available; devices here: {here}")
    elif resolved.type not in ("cpu", "cuda", "mps"):
        raise SimsslError(f"device {str(device)!r} is not supported by simssl; devices here: {here}")
    return resolved
