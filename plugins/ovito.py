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

PTM, the baseline of ``simssl plot``'s ordered fractions, is here too (:func:`ptm_fractions`,
registered as the ``ptm`` entry point of group ``simssl.baselines``).
"""

from __future__ import annotations

from functools import lru_cache

import freud
import numpy as np

try:
    from ovito.data import DataCollection
    from ovito.modifiers import PolyhedralTemplateMatchingModifier
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


def ptm_fractions(processed: Processed) -> np.ndarray | None:
    """(frames,) fraction of particles OVITO's PTM does not call "Other"; None without 3D positions.

    OVITO's ``PolyhedralTemplateMatchingModifier`` with its default settings (FCC, HCP and BCC
    templates, RMSD cutoff 0.1), on the positions and box of every frame.

    Parameters
    ----------
    processed : simssl.io.Processed
        Needs ``positions`` and ``boxes`` (both stored by ``simssl process`` in .gsd and .npz files) of
        three-dimensional boxes.
    """
    if processed.positions is None or processed.boxes is None or np.any(processed.boxes[:, 2] == 0):
        return None
    other = int(PolyhedralTemplateMatchingModifier.Type.OTHER)
    return np.array(
        [
            np.mean(ptm_types(box, positions) != other) if len(positions) else 0.0
            for box, positions in zip(processed.boxes, processed.positions)
        ]
    )


def ptm_types(box, positions: np.ndarray) -> np.ndarray:
    """(N,) int: OVITO's PTM structure type of every particle (default settings; 0 is "Other").

    Parameters
    ----------
    box : sequence of 6 float
        ``[Lx, Ly, Lz, xy, xz, yz]`` (GSD/HOOMD convention, centered on the origin).
    positions : numpy.ndarray
        (N, 3).
    """
    matrix = np.asarray(freud.box.Box.from_box(box).to_matrix(), dtype=np.float64)
    data = DataCollection()
    data.create_cell(np.column_stack([matrix, -0.5 * matrix.sum(axis=1)]), pbc=(True, True, True))  # centered
    data.create_particles(count=len(positions)).create_property("Position", data=positions)
    data.apply(PolyhedralTemplateMatchingModifier())
    return np.asarray(data.particles["Structure Type"])
