"""simssl: per-particle order analysis of particle simulations.

Read trajectories (GSD, LAMMPS dumps, XYZ/extXYZ) into :class:`Frame` objects, build freud
neighborhoods, compute Steinhardt baselines and learned order embeddings, and write them next to
the trajectory. See the README for the command line.

Every name below is imported on first use, so ``import simssl`` (and ``simssl --help``) stays fast;
freud, matplotlib and torch load only when something needs them.
"""

import importlib

from .errors import SimsslError, SimsslWarning
from .version import __version__

#: public name -> (module, attribute); ``frames`` is another name of ``read_frames``
_EXPORTS = {
    "AnalysisOptions": (".analyses", "AnalysisOptions"),
    "Embedding": (".compute", "Embedding"),
    "Frame": (".frame", "Frame"),
    "Identify": (".identify", "Identify"),
    "Neighborhoods": (".neighbors", "Neighborhoods"),
    "ProcessResult": (".processor", "ProcessResult"),
    "RunOptions": (".processor", "RunOptions"),
    "Steinhardt": (".compute", "Steinhardt"),
    "analyze_frame": (".compute", "analyze_frame"),
    "compute_neighborhoods": (".neighbors", "compute_neighborhoods"),
    "default_model_path": (".checkpoints", "default_model_path"),
    "embed": (".embedding", "embed"),
    "equivariant": (".embedding", "equivariant"),
    "example_path": (".data", "example_path"),
    "frame_from_lattice": (".frame", "frame_from_lattice"),
    "frames": (".io", "read_frames"),
    "load_model": (".checkpoints", "load_model"),
    "make_frame": (".frame", "make_frame"),
    "process": (".processor", "process"),
    "random_model": (".checkpoints", "random_model"),
    "read": (".io", "read"),
    "read_processed": (".io", "read_processed"),
    "read_frames": (".io", "read_frames"),
    "save": (".checkpoints", "save"),
    "steinhardt": (".bond_order", "steinhardt"),
}
#: submodules reachable as attributes without an import statement (``simssl.model.Encoder``)
_SUBMODULES = {
    "analyses",
    "checkpoints",
    "cli",
    "compare",
    "compute",
    "embedding",
    "identify",
    "io",
    "live",
    "model",
    "neighbors",
    "nuclei",
    "processor",
    "training",
}


def __getattr__(name):
    """Import the module behind a public name on first access, and cache it."""
    if name in _EXPORTS:
        module, attribute = _EXPORTS[name]
        value = getattr(importlib.import_module(module, __name__), attribute)
    elif name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'simssl' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS) | _SUBMODULES)


__all__ = ["SimsslError", "SimsslWarning", "__version__", *sorted(_EXPORTS)]
