"""Engine-agnostic live analysis: engine state in, per-particle quantities out, in tag order.

Engine adapters (``simssl.plugins.hoomd``, ``simssl.plugins.lammps``) hand over box, positions,
type ids and particle tags each time they analyze; :class:`LiveAnalyzer` builds a validated
:class:`~simssl.frame.Frame` and runs the same analyzers as ``simssl process`` (one freud query
shared by Steinhardt and the encoder, which stays resident on its device), so live values equal
offline ones. The most recent results are kept for loggers.
"""

from __future__ import annotations

import freud
import numpy as np

from .frame import Frame, box_from_parameters, make_frame
from .pipeline import EmbeddingAnalyzer, SteinhardtAnalyzer, analyze_frame, build_analyzers
from .steinhardt import column_names


def host_array(array) -> np.ndarray:
    """A numpy view/copy of a numpy array, a torch tensor (any device) or a ``__cuda_array_interface__`` array."""
    if isinstance(array, np.ndarray):
        return array
    if hasattr(array, "__cuda_array_interface__") or type(array).__module__.startswith("torch"):
        import torch

        tensor = array if isinstance(array, torch.Tensor) else torch.as_tensor(array, device="cuda")
        return tensor.detach().cpu().numpy()
    return np.asarray(array)


class LiveAnalyzer:
    """Per-particle order quantities of a running simulation.

    Parameters
    ----------
    model: ``"default"`` (the shipped model), a checkpoint path, ``"random"`` (untrained, tests
        only), a loaded :class:`~simssl.model.Encoder`, or None for Steinhardt only.
    steinhardt: Steinhardt degrees (``q4``, ``q6``, ...); empty for none.
    k: neighbors per particle in the shared neighborhoods (at least what the analyses need).
    device: torch device for the model (default: CUDA when available).
    """

    def __init__(self, model="default", steinhardt=(4, 6), k: int = 16, device=None, compile: bool | None = None):
        self.analyzers = build_analyzers(steinhardt or "none", model=model, device=device, compile=compile)
        self.names: list[str] = []
        for analyzer in self.analyzers:
            self.names += column_names(analyzer.l) if isinstance(analyzer, SteinhardtAnalyzer) else ["embedding"]
        self.k = k
        self.latest: dict[str, np.ndarray] = {}
        self.step: int | None = None

    @property
    def model(self):
        """The encoder in use (None for Steinhardt only)."""
        return next((a.model for a in self.analyzers if isinstance(a, EmbeddingAnalyzer)), None)

    def analyze(self, frame: Frame) -> dict[str, np.ndarray]:
        """Compute every configured quantity of a Frame and keep it as :attr:`latest`."""
        self.latest = analyze_frame(frame, self.analyzers, k=self.k)
        self.step = frame.step
        return self.latest

    def compute(self, box, positions, types=None, tags=None, type_names=None, step: int | None = None) -> dict[str, np.ndarray]:
        """Analyze engine state; results are in tag order (row ``t`` belongs to the particle tagged ``t``).

        ``box``: a ``freud.box.Box`` or ``(Lx, Ly, Lz, xy, xz, yz)`` with positions in the centered
        (HOOMD) convention. ``positions``/``types``/``tags`` may be numpy arrays, torch tensors or
        CUDA arrays; ``tags`` (any unique integers) give the particle order of the results.
        """
        positions = host_array(positions)
        types = None if types is None else host_array(types)
        if tags is not None:
            order = np.argsort(host_array(tags), kind="stable")
            positions = positions[order]
            types = None if types is None else types[order]
        box = box if isinstance(box, freud.box.Box) else box_from_parameters(box, "live state", step)
        return self.analyze(make_frame(box, positions, types, type_names, step=step, source="live state"))
