"""simssl: per-particle order analysis of particle simulations.

Read trajectories (GSD, LAMMPS dumps, XYZ/extXYZ) into :class:`Frame` objects, build freud
neighborhoods, compute Steinhardt baselines and learned order embeddings, and write them next to
the trajectory. See the README for the command line.
"""

import importlib

from .compute import Embedding, EmbeddingAnalyzer, Steinhardt, SteinhardtAnalyzer, analyze_frame
from .data import example_path
from .errors import SimsslError
from .frame import Frame, frame_from_lattice, make_frame
from .io import read, read_frames
from .neighbors import Neighborhoods, compute_neighborhoods
from .processor import AnalysisOptions, ProcessResult, RunOptions, process
from .steinhardt import steinhardt

__version__ = "0.1.0"

#: another name of :func:`read_frames` (``for frame in simssl.frames(path)``)
frames = read_frames


def __getattr__(name):
    """``simssl.load_model`` and ``simssl.model`` import torch only when first used."""
    if name in ("load_model", "model"):
        model = importlib.import_module(".model", __name__)
        return model if name == "model" else model.load_model
    raise AttributeError(f"module 'simssl' has no attribute {name!r}")


__all__ = [
    "AnalysisOptions",
    "Embedding",
    "EmbeddingAnalyzer",
    "Frame",
    "Neighborhoods",
    "ProcessResult",
    "RunOptions",
    "SimsslError",
    "Steinhardt",
    "SteinhardtAnalyzer",
    "analyze_frame",
    "compute_neighborhoods",
    "example_path",
    "frame_from_lattice",
    "frames",
    "load_model",
    "make_frame",
    "process",
    "read",
    "read_frames",
    "steinhardt",
]
