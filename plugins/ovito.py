"""Order embeddings, Steinhardt q_l and embedding-derived coloring as an OVITO pipeline modifier.

::

    from ovito.io import import_file
    from simssl.plugins.ovito import OrderModifier

    pipeline = import_file("run.gsd")
    pipeline.modifiers.append(OrderModifier(model="default", steinhardt=(4, 6), clusters=3))
    data = pipeline.compute(10)
    data.particles["q6"], data.particles["Embedding"], data.particles["Order PC1"], data.particles["Order Cluster"]

Installed with simssl, the modifier is also listed by the OVITO Pro application (entry point group
``OVITO.Modifier``). Each frame becomes a :class:`~simssl.frame.Frame` through
:func:`simssl.io.convert.frame_from_ovito` (OVITO's cell vectors and origin rotated into freud's
box, exactly as for any triclinic cell) and is analyzed by
:class:`simssl.live.LiveAnalyzer`, so values equal those of ``simssl process``. The module imports
OVITO at the top (the modifier must subclass ``ovito.pipeline.ModifierInterface``), so importing it
without OVITO raises an ImportError saying how to install it.

The untrained baselines simssl is compared with live here too: OVITO's polyhedral template matching
(:func:`ptm`; :func:`ptm_fractions`, the ``ptm`` series of ``simssl plot``, registered as the entry
point ``ptm`` of group ``simssl.baselines``), adaptive CNA and IdentifyDiamond. Each takes a Frame
and returns OVITO's own per-particle structure type (the modifier's ``Type`` enumeration as int).
Frames are centered (freud), OVITO cells have a corner origin: :func:`ovito_data` shifts the cell,
never the positions. Padded (non-periodic) frames are passed as periodic: their padding is wider
than any of these modifiers' neighbor shells.
"""

from __future__ import annotations

from functools import lru_cache

import freud
import numpy as np

try:
    from ovito.data import DataCollection
    from ovito.modifiers import CommonNeighborAnalysisModifier as CNA
    from ovito.modifiers import IdentifyDiamondModifier as Diamond
    from ovito.modifiers import PolyhedralTemplateMatchingModifier as PTM
    from ovito.pipeline import ModifierInterface
    from traits.api import Range, Str, TraitType
except ImportError as error:
    raise ImportError(
        f"simssl.plugins.ovito needs the OVITO Python module ({error}); install it with `pip install ovito`"
    ) from error

from simssl.bond_order import parse_degrees
from simssl.clustering import kmeans, principal_components
from simssl.defaults import STEINHARDT_DEGREES
from simssl.errors import SimsslError
from simssl.frame import make_frame
from simssl.io.convert import frame_from_ovito
from simssl.io.processed import Processed
from simssl.live import LiveAnalyzer

#: principal components of the embedding written as 'Order PC1', 'Order PC2'
N_COMPONENTS = 2


class Degrees(TraitType):
    """Steinhardt degrees: ``(4, 6)``, ``[4, 6]``, ``"4,6"`` or empty for none; stored as a tuple."""

    default_value = STEINHARDT_DEGREES
    info_text = "distinct positive integers such as (4, 6) or '4,6', or () for none"

    def validate(self, object, name, value):
        """The degrees of ``value`` as a tuple of int (``()`` for an empty value); traits errors otherwise."""
        if isinstance(value, (str, tuple, list)) and len(value) == 0:
            return ()
        try:
            return parse_degrees(value)
        except (SimsslError, TypeError, ValueError):
            self.error(object, name, value)


class OrderModifier(ModifierInterface):
    """Adds per-particle order quantities and embedding-derived coloring to each frame.

    Parameters
    ----------
    model : str
        ``"default"``, a checkpoint path or ``"random"`` for an untrained test model; the embedding
        is always computed (OVITO's own SteinhardtParametersModifier covers q_l alone).
    steinhardt : tuple of int
        Steinhardt degrees (``()`` for none); also ``[4, 6]`` or ``"4,6"``.
    k : int
        Neighbors per particle, 1-256.
    clusters : int
        k-means clusters, 0-64 (0: no clustering).

    All are OVITO traits, editable in OVITO Pro.

    Output particle properties: ``q4``, ``q6``, ... (one per degree), ``Embedding`` (D components),
    ``Order PC1`` and ``Order PC2`` (the embedding's first principal components, for color coding),
    and with ``clusters = n > 0`` ``Order Cluster`` (k-means labels 0..n-1 of the embedding).
    Principal axes and clusters are fitted on each frame separately: signs are fixed (each axis
    points along its largest loading) and clusters are numbered by decreasing size, but the axes follow
    the frame's own variance, so colors compare best between frames of similar composition.
    Periodic 3D cells only; particle types are numbered in order of OVITO's type ids.
    """

    model = Str("default", label="Model (default, random, or a checkpoint path)")
    steinhardt = Degrees(label="Steinhardt degrees l")
    k = Range(0, 256, 0, label="At least this many nearest neighbors (0: what the analyses read)")
    clusters = Range(0, 64, 0, label="k-means clusters (0: none)")

    def modify(self, data, *, frame: int, **kwargs):
        """Add the output properties to ``data`` (an ``ovito.data.DataCollection``) of frame number ``frame``."""
        live = _live_analyzer(self.model, self.steinhardt, self.k)
        results = live.analyze(frame_from_ovito(data, frame))
        particles = data.particles_
        for name, values in results.items():
            particles.create_property("Embedding" if name == "embedding" else name, data=values)
        embedding = results["embedding"]
        scores = principal_components(embedding, min(N_COMPONENTS, embedding.shape[1]))
        for component in range(scores.shape[1]):
            particles.create_property(f"Order PC{component + 1}", data=scores[:, component])
        if self.clusters:
            labels, _ = kmeans(embedding, self.clusters)  # numbered by decreasing cluster size
            particles.create_property("Order Cluster", data=labels)


@lru_cache(maxsize=2)
def _live_analyzer(model: str, steinhardt: tuple[int, ...], k: int) -> LiveAnalyzer:
    """One resident analyzer (and loaded model) per setting, shared by all pipelines and frames."""
    return LiveAnalyzer(model=model, steinhardt=steinhardt, k=k or None)


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


def ptm_fractions(processed: Processed) -> np.ndarray | None:
    """(frames,) fraction of particles PTM with OVITO's defaults does not call "Other"; None without 3D positions.

    OVITO's defaults: fcc, hcp and bcc templates, RMSD cutoff 0.1, on the positions and box of every frame.

    Parameters
    ----------
    processed : simssl.io.Processed
        Needs ``positions`` and ``boxes`` (both stored by ``simssl process`` in .gsd and .npz files) of
        three-dimensional boxes.
    """
    if processed.positions is None or processed.boxes is None or np.any(processed.boxes[:, 2] == 0):
        return None
    frames = [make_frame(freud.box.Box.from_box(box), xyz) for box, xyz in zip(processed.boxes, processed.positions)]
    return np.array([np.mean(ptm(frame) != int(PTM.Type.OTHER)) if frame.n_particles else 0.0 for frame in frames])
