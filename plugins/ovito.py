"""Order embeddings, Steinhardt q_l and embedding-derived coloring as an OVITO pipeline modifier.

::

    from ovito.io import import_file
    from simssl.plugins.ovito import OrderModifier

    pipeline = import_file("run.gsd")
    pipeline.modifiers.append(OrderModifier(model="default", steinhardt=(4, 6), clusters=3))
    data = pipeline.compute(10)
    data.particles["q6"], data.particles["Embedding"], data.particles["Order PC1"], data.particles["Order Cluster"]

Installed with simssl, the modifier is also listed by the OVITO Pro application (entry point group
``OVITO.Modifier``). Each frame becomes a :class:`~simssl.frame.Frame` (OVITO's cell vectors and
origin rotated into freud's box, exactly as for any triclinic cell) and is analyzed by
:class:`simssl.live.LiveAnalyzer`, so values equal those of ``simssl process``. The module imports
OVITO at the top (the modifier must subclass ``ovito.pipeline.ModifierInterface``), so importing it
without OVITO raises an ImportError saying how to install it.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

try:
    from ovito.pipeline import ModifierInterface
    from traits.api import Range, Str, TraitType
except ImportError as error:
    raise ImportError(f"simssl.plugins.ovito needs the OVITO Python module ({error}); install it with `pip install ovito`") from error

from simssl.errors import SimsslError, located
from simssl.frame import frame_from_lattice
from simssl.clustering import kmeans, principal_components
from simssl.live import LiveAnalyzer
from simssl.steinhardt import parse_degrees

#: principal components of the embedding written as 'Order PC1', 'Order PC2'
N_COMPONENTS = 2


class Degrees(TraitType):
    """Steinhardt degrees: ``(4, 6)``, ``[4, 6]``, ``"4,6"`` or empty for none; stored as a tuple."""

    default_value = (4, 6)
    info_text = "distinct positive integers such as (4, 6) or '4,6', or () for none"

    def validate(self, object, name, value):
        if isinstance(value, (str, tuple, list)) and len(value) == 0:
            return ()
        try:
            return parse_degrees(value)
        except (SimsslError, TypeError, ValueError):
            self.error(object, name, value)


class OrderModifier(ModifierInterface):
    """Adds per-particle order quantities and embedding-derived coloring to each frame.

    Parameters (OVITO traits, editable in OVITO Pro): ``model`` (``"default"``, a checkpoint path or
    ``"random"`` for an untrained test model; the embedding is always computed, OVITO's own
    SteinhardtParametersModifier covers q_l alone), ``steinhardt`` degrees (``()`` for none),
    ``k`` neighbors per particle, and ``clusters`` (0: no clustering).

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
    k = Range(1, 256, 16, label="Neighbors per particle")
    clusters = Range(0, 64, 0, label="k-means clusters (0: none)")

    def modify(self, data, *, frame: int, **kwargs):
        live = _live_analyzer(self.model, self.steinhardt, self.k)
        results = live.analyze(_to_frame(data, frame))
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
    return LiveAnalyzer(model=model, steinhardt=steinhardt, k=k)


def _to_frame(data, frame: int):
    """A simssl Frame from an OVITO DataCollection: cell columns a, b, c plus origin; types by type id."""
    source, index = data.attributes.get("SourceFile"), data.attributes.get("SourceFrame", frame)
    cell = data.cell
    if cell is None or cell.is2D or not all(cell.pbc):
        problem = (
            "the data has no simulation cell" if cell is None
            else "the data is two-dimensional" if cell.is2D
            else "the cell is not periodic along " + ", ".join(axis for axis, periodic in zip("xyz", cell.pbc) if not periodic)
        )
        raise SimsslError(located(f"{problem}; simssl analyses periodic 3D cells", source, index))
    matrix = np.asarray(cell, dtype=np.float64)
    particles = data.particles
    types = type_names = None
    if particles.particle_types is not None:
        ordered = sorted(particles.particle_types.types, key=lambda t: t.id)
        types = np.searchsorted([t.id for t in ordered], np.asarray(particles.particle_types))
        type_names = [t.name or str(t.id) for t in ordered]
    return frame_from_lattice(
        matrix[:, :3].T,
        np.asarray(particles.positions),
        origin=matrix[:, 3],
        types=types,
        type_names=type_names,
        step=data.attributes.get("Timestep"),
        source=source,
        index=index,
    )

