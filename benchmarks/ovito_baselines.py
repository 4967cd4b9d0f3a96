"""The untrained baselines the accuracy benchmarks compare with: OVITO's PTM, adaptive CNA and IdentifyDiamond.

Each function takes a simssl Frame and returns OVITO's own per-particle structure type (the
modifier's ``Type`` enumeration as int), so every benchmark maps them to its classes in one place
of its own. Frames are centered (freud), OVITO cells have a corner origin: :func:`ovito_data`
shifts the cell, never the positions. Padded (non-periodic) frames are passed as periodic: their
padding is wider than any of these modifiers' neighbor shells.
"""

from __future__ import annotations

import numpy as np
from ovito.data import DataCollection
from ovito.modifiers import CommonNeighborAnalysisModifier as CNA
from ovito.modifiers import IdentifyDiamondModifier as Diamond
from ovito.modifiers import PolyhedralTemplateMatchingModifier as PTM

#: OVITO's default PTM RMSD cutoff (0 disables the cutoff)
PTM_DEFAULT_CUTOFF = 0.1
#: PTM structures enabled by default in OVITO
PTM_DEFAULT_STRUCTURES = (PTM.Type.FCC, PTM.Type.HCP, PTM.Type.BCC)


def ovito_data(frame) -> DataCollection:
    """An OVITO DataCollection of ``frame``: its cell (periodic), positions and, with several types, particle types.

    Parameters
    ----------
    frame : simssl.frame.Frame

    Returns
    -------
    ovito.data.DataCollection
    """
    data = DataCollection()
    box = np.asarray(frame.box.to_matrix(), dtype=np.float64)
    data.create_cell(np.column_stack([box, -0.5 * box.sum(axis=1)]), pbc=(True, True, True))  # freud boxes are centered
    particles = data.create_particles(count=frame.n_particles)
    particles.create_property("Position", data=frame.positions)
    if len(frame.type_names) > 1:
        types = particles.create_property("Particle Type", data=frame.types + 1)  # OVITO type ids start at 1
        for index, name in enumerate(frame.type_names):
            types.add_type_id(index + 1, particles, name=name)
    return data


def ptm(frame, rmsd_cutoff: float = PTM_DEFAULT_CUTOFF, structures=PTM_DEFAULT_STRUCTURES, ordering: bool = False):
    """OVITO's polyhedral template matching of every particle.

    Parameters
    ----------
    frame : simssl.frame.Frame
    rmsd_cutoff : float
        PTM's RMSD cutoff (OVITO's default 0.1; 0: none, every particle gets its best template).
    structures : iterable of PolyhedralTemplateMatchingModifier.Type
        The templates enabled (default: OVITO's, fcc, hcp and bcc).
    ordering : bool
        Also return PTM's chemical ordering type (needs several particle types).

    Returns
    -------
    numpy.ndarray or tuple of numpy.ndarray
        (N,) int structure types (``PTM.Type``; 0 is Other), and with ``ordering`` also (N,) int ordering
        types (``PTM.OrderingType``: 0 none, 1 pure, 2 L1_0, 3 L1_2 (A), 4 L1_2 (B), 5 B2, 6 zincblende
        or wurtzite, 7 boron nitride).
    """
    modifier = PTM(rmsd_cutoff=rmsd_cutoff, output_ordering=ordering)
    enabled = {int(t) for t in structures}
    for structure in modifier.structures:
        structure.enabled = structure.id in enabled
    data = ovito_data(frame)
    data.apply(modifier)
    found = np.asarray(data.particles["Structure Type"]).astype(np.int64)
    return (found, np.asarray(data.particles["Ordering Type"]).astype(np.int64)) if ordering else found


def adaptive_cna(frame) -> np.ndarray:
    """(N,) int: adaptive common neighbor analysis (``CNA.Type``: 0 Other, 1 fcc, 2 hcp, 3 bcc, 4 icosahedral)."""
    data = ovito_data(frame)
    data.apply(CNA(mode=CNA.Mode.AdaptiveCutoff))
    return np.asarray(data.particles["Structure Type"]).astype(np.int64)


def identify_diamond(frame) -> np.ndarray:
    """(N,) int: OVITO's IdentifyDiamond (``Diamond.Type``: 0 Other, 1-3 cubic diamond and its first and second
    neighbors, 4-6 hexagonal diamond and its first and second neighbors)."""
    data = ovito_data(frame)
    data.apply(Diamond())
    return np.asarray(data.particles["Structure Type"]).astype(np.int64)
