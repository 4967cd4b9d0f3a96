"""Identification references: the encoder's features of the structure library, and the open-set rule
that names a particle from them.

A :class:`Library` holds, in the encoder's feature space (the embedding and its neighbor average,
standardized), reference centers of:

* every crystal prototype of :mod:`simssl.library.structures`, at Gaussian noise
  :data:`REFERENCE_NOISE` (0 to 0.12 of the shortest distance, so hot crystals find their cold
  selves), one center per distinct site (orbit) and noise level;
* close-packed stackings (:func:`simssl.library.defects.close_packed_stack`, random sequences):
  each particle is fcc or hcp by its own first shell (its layer's neighbors above and below), as
  PTM and CNA say, whatever the layers further away; the stacking polytypes of the prototype table
  (:data:`STACKING_POLYTYPES`: dhcp, Sm type) are reported that way, site by site, not by name;
* every kind of disorder of :mod:`simssl.library.liquids` that is not held out (simple, dense,
  supercooled and glassy, network-forming, gas-like), k-means centers under the name ``"liquid"``,
  always structure 0;
* optionally, user frames (``--reference mycrystal.gsd``), k-means centers under their own name.

**Resolution.** Some prototypes are slight distortions of simpler ones (tI2-In is fcc stretched by
8 %, tP4-Np a distorted bcc). At the noise of a crystal near melting their environments cannot be
told apart, and forcing a choice named most hot fcc particles "tI2-In". So a site whose features at
noise :data:`RESOLUTION_NOISE` lie closer to a site of a simpler prototype (higher space-group
number, then fewer atoms per cell) than its own particles' spread is reported as that simpler
structure; :attr:`Library.aliases` records every merge.

**The open set.** A particle is named after the structure of its nearest center only when it lies
within that structure's own spread: its acceptance radius, the :data:`ACCEPTANCE_QUANTILE` quantile
of the distances of fresh calibration draws of that structure (crystals at noise
:data:`CALIBRATION_NOISE`, up to the hottest reference level; fresh frames of every disorder kind) to
their structure. Farther out it is ``other`` (structure :data:`OTHER_INDEX`, -1): like none of the
references. By construction about 1 - ACCEPTANCE_QUANTILE of such draws are rejected; measured
false-reject rates on real hot crystals are in ``benchmarks/RESULTS.md``.

**Confidence.** ``structure_confidence`` is a softmax over the structures, logits ``-d_s^2 / T``
with d_s the distance to structure s's nearest center, plus ``other`` with logit ``-r_c^2 / T``
(r_c the acceptance radius of the nearest structure c), so the most probable answer is the one
given. T is fitted (maximum likelihood) on the calibration draws.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace

import numpy as np
from tqdm.auto import tqdm

from ..atomic import AtomicFile
from ..compute import Embedding, model_identity
from ..errors import SimsslError

#: name of the disordered reference, always structure 0
LIQUID = "liquid"
#: name of the answer "like none of the references", always the last name
OTHER = "other"
#: the structure index of ``other`` in outputs (``names[-1]`` is ``"other"``, so ``names[structure]`` names it)
OTHER_INDEX = -1
#: Gaussian noise (in shortest distances) of the reference crystals
REFERENCE_NOISE: tuple[float, ...] = (0.0, 0.04, 0.08, 0.12)
#: noise at which two sites that cannot be told apart are merged (see the module docstring)
RESOLUTION_NOISE = 0.12
#: noise of the fresh crystal draws that calibrate the acceptance radii and the confidence temperature; the
#: hottest is hotter than any reference level: Gaussian draws are not thermal motion, and LAMMPS crystals at
#: their melting point lay beyond the 0.995 quantile of noise-0.12 draws for 4-7 % of particles (0.1-0.9 %
#: with 0.14 in the draws; ``benchmarks/identification.py``)
CALIBRATION_NOISE: tuple[float, ...] = (0.06, 0.12, 0.14)
#: a structure's acceptance radius is this quantile of its calibration draws' distances
ACCEPTANCE_QUANTILE = 0.995
#: particles per reference crystal (at least 4 per site)
REFERENCE_PARTICLES = 600
#: prototypes that are stackings of close-packed layers: identified layer by layer as fcc or hcp
STACKING_POLYTYPES: tuple[str, ...] = ("hP4-La", "hR3-Sm")
#: the library structures a close-packed layer with unlike (cubic) and like (hexagonal) neighbor layers is named
STACKING_NAMES = {"fcc": "cF4-Cu", "hcp": "hP2-Mg"}
#: a particle named hcp whose first shell is this centrosymmetric (:func:`centrosymmetry` below it) is fcc:
#: an fcc first shell is centrosymmetric (0), an hcp one is not (0.65-1.4 for LAMMPS hcp up to its melting
#: point, 1 % below 0.65; fcc particles next to a twin or an hcp layer, which the wider view calls hcp, sit
#: near 0.1-0.5 at noise 0.05)
FCC_CENTROSYMMETRY = 0.55
#: neighbors of a close-packed first shell
FIRST_SHELL = 12
#: a crystal name stands only where at least this many of the particle's FIRST_SHELL nearest carry it too (or,
#: for fcc and hcp, either close-packed name): a crystal is extended. Measured: thermal LJ grain boundaries
#: named a crystal that is not there fall from 4.1 % to 0.6 %, a free surface's from 5.0 % to 0, crystals at
#: their melting point keep every particle's name
CONSISTENT_NEIGHBORS = 4
#: chemical ordering: the name of randomly placed types, and of "no answer" (no crystal, or not two types)
DISORDERED = "disordered"
NO_ORDERING = "none"
#: ranks at which the like-type fraction of a particle's nearest neighbors makes its chemical signature
ORDERING_RANKS: tuple[int, ...] = (4, 6, 8, 12, 14, 18)
#: noise of the binary crystals whose sites' signatures are the ordering references
ORDERING_NOISE: tuple[float, ...] = (0.0, 0.05, 0.1)
#: antisite fractions (A and B swapped) of those crystals
ORDERING_ANTISITES: tuple[float, ...] = (0.0, 0.05, 0.1)
#: particles per binary reference crystal
ORDERING_PARTICLES = 1000
#: added (in quadrature) to every spread of a (first-shell averaged) signature
ORDERING_FLOOR = 0.03
#: a particle's score for an ordering is capped here before it is averaged with its neighbors' (an antisite's
#: own score must not outvote its twelve neighbors)
ORDERING_CAP = 25.0
#: a particle whose best averaged score is above this fits no ordering: ``none`` (the 0.999 quantile of a
#: chi-square of len(ORDERING_RANKS) degrees of freedom)
ORDERING_REJECT = 22.5
#: random close-packed stackings per noise level, their layers, particles, and the layers around a particle
#: whose stacking makes one reference environment (its own, two above, two below)
STACKINGS = 3
STACKING_LAYERS = 24
STACKING_PARTICLES = 1500
STACKING_CONTEXT = 2
#: k-means centers per disorder kind and per user reference
DISORDER_CENTERS = 8
USER_CENTERS = 8
#: rows classified at once (bounds the (rows, centers) distance matrix)
CHUNK = 8192
#: names of the per-particle outputs
OUTPUT_NAMES: tuple[str, ...] = ("structure", "structure_confidence", "structure_distance")
#: bump when the reference recipe changes: cached libraries of another version are rebuilt
RECIPE_VERSION = 2


@dataclass(frozen=True)
class Library:
    """Reference centers in standardized feature space, the structure each names, and acceptance radii.

    Attributes
    ----------
    names : tuple of str
        Structure names; ``names[0]`` is ``"liquid"``, ``names[-1]`` is ``"other"`` (index -1 in outputs).
    centers : numpy.ndarray
        (M, F) float32 standardized centers, sorted by label.
    labels : numpy.ndarray
        (M,) int32 index into ``names`` of every center (never ``other``).
    mean, std : numpy.ndarray
        (F,) float32: the standardization of raw features.
    radii : numpy.ndarray
        (S,) float32 acceptance radius of every structure but ``other`` (S = len(names) - 1).
    temperature : float
        Of the confidence softmax.
    aliases : dict of str to list of str
        Per library prototype merged (wholly or in part) into other structures: those structures.
    model : str
        sha256 of the model (:func:`simssl.compute.model_identity`) the features come from.
    """

    names: tuple[str, ...]
    centers: np.ndarray
    labels: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    radii: np.ndarray
    temperature: float
    aliases: dict = field(default_factory=dict)
    model: str = ""
    #: chemical orderings: ``orderings[0]`` is ``"disordered"``, then the binary prototypes, ``orderings[-1]``
    #: ``"none"``; ``ordering_sites`` holds per binary site (S of them) ``mean`` and ``spread`` (S, R) of its
    #: signature (:func:`chemical_signature`), ``ordering`` (S,) its prototype's index, ``type`` (S,) 0 for the
    #: formula's first element, 1 for the second, ``geometry`` (S,) the structure its particles are named
    orderings: tuple[str, ...] = (DISORDERED, NO_ORDERING)
    ordering_sites: dict = field(default_factory=dict)

    def standardize(self, features: np.ndarray) -> np.ndarray:
        """(N, F) float32 features in the library's standardized units."""
        return (np.asarray(features, dtype=np.float32) - self.mean) / self.std

    def distances(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every row's distance to each structure's nearest center, and its nearest center overall.

        Parameters
        ----------
        features : numpy.ndarray
            (N, F) raw features (embedding, then its neighbor average).

        Returns
        -------
        distances : numpy.ndarray
            (N, S) float32 over the S named structures (not ``other``), standardized units (from the
            expanded square: ~1e-3 absolute error near 0).
        nearest : numpy.ndarray
            (N,) int64 index into :attr:`centers`.
        """
        starts = np.flatnonzero(np.r_[True, np.diff(self.labels) != 0])
        squared_norms = (self.centers**2).sum(1)
        result = np.empty((len(features), len(self.names) - 1), dtype=np.float32)
        nearest = np.empty(len(features), dtype=np.int64)
        for start in range(0, len(features), CHUNK):
            z = self.standardize(features[start : start + CHUNK])
            squared = z @ self.centers.T  # |z - c|^2 = |z|^2 - 2 z.c + |c|^2, in place: one (rows, M) array
            squared *= -2
            squared += squared_norms
            squared += (z**2).sum(1)[:, None]
            nearest[start : start + CHUNK] = squared.argmin(1)
            result[start : start + CHUNK] = np.sqrt(np.maximum(np.minimum.reduceat(squared, starts, axis=1), 0))
        return result, nearest

    def classify(
        self, features: np.ndarray, first_shells: np.ndarray | None = None, neighbors: np.ndarray | None = None
    ) -> dict[str, np.ndarray]:
        """``structure`` (N,) int32 (-1: ``other``), ``structure_confidence`` and ``structure_distance`` (N,) float32.

        The structure is that of the nearest center if the row lies within its acceptance radius,
        else ``other``; the distance (to the nearest center) is computed from the difference, exact to
        float32 round-off even at 0. With ``first_shells``, a particle named hcp whose own first shell
        is centrosymmetric is fcc (:data:`FCC_CENTROSYMMETRY`): the stacking of close-packed layers
        follows each particle's first shell, as PTM and CNA do. With ``neighbors``, a crystal name that
        fewer than :data:`CONSISTENT_NEIGHBORS` of the particle's nearest share becomes the crystal most
        of them carry, where the particle is within that crystal's acceptance radius, else ``other``.

        Parameters
        ----------
        features : numpy.ndarray
            (N, F) raw features.
        first_shells : numpy.ndarray, optional
            (N, FIRST_SHELL, 3) bond vectors of every particle's nearest neighbors.
        neighbors : numpy.ndarray, optional
            (N, FIRST_SHELL) indices of those neighbors (rows of the same frame).
        """
        distances, nearest = self.distances(features)
        nearest_structure = self.labels[nearest].astype(np.int64)
        exact = np.linalg.norm(self.standardize(features) - self.centers[nearest], axis=1).astype(np.float32)
        accepted = exact <= self.radii[nearest_structure]
        structure = np.where(accepted, nearest_structure, OTHER_INDEX).astype(np.int32)
        logits = open_set_logits(distances, self.radii[nearest_structure], self.temperature)
        chosen = np.where(accepted, nearest_structure, logits.shape[1] - 1)
        confidence = softmax_at(logits, chosen)
        if first_shells is not None and STACKING_NAMES["hcp"] in self.names and STACKING_NAMES["fcc"] in self.names:
            hcp, fcc = self.names.index(STACKING_NAMES["hcp"]), self.names.index(STACKING_NAMES["fcc"])
            rows = np.flatnonzero(structure == hcp)
            structure[rows[centrosymmetry(first_shells[rows]) < FCC_CENTROSYMMETRY]] = fcc
        if neighbors is not None:
            structure, confidence = self._consistent(structure, confidence, distances, logits, neighbors)
        return dict(zip(OUTPUT_NAMES, (structure, confidence, exact)))

    def _consistent(self, structure, confidence, distances, logits, neighbors) -> tuple[np.ndarray, np.ndarray]:
        """``structure`` with crystal names too few neighbors share (:data:`CONSISTENT_NEIGHBORS`) replaced: by
        the crystal most of its neighbors carry when the particle lies within that crystal's acceptance radius
        (a thermally distorted particle of its grain), else by ``other``; confidences follow."""
        close_packed = np.isin(structure, [self.names.index(n) for n in STACKING_NAMES.values() if n in self.names])
        shared = (structure[neighbors] == structure[:, None]) | (close_packed[neighbors] & close_packed[:, None])
        lonely = np.flatnonzero((structure > 0) & (shared.sum(1) < CONSISTENT_NEIGHBORS))
        if not len(lonely):
            return structure, confidence
        around = structure[neighbors[lonely]]
        counts = np.stack([(around == s).sum(1) for s in range(len(self.names) - 1)], 1)
        counts[:, 0] = 0  # the liquid is no grain to join
        majority = counts.argmax(1)
        joins = (majority > 0) & (distances[lonely, majority] <= self.radii[majority])
        replacement = np.where(joins, majority, OTHER_INDEX)
        structure, confidence = structure.copy(), confidence.copy()
        structure[lonely] = replacement
        column = np.where(joins, majority, logits.shape[1] - 1)
        confidence[lonely] = softmax_at(logits[lonely], column)
        return structure.astype(np.int32), confidence

    def order(self, structure: np.ndarray, neighborhoods, features: np.ndarray) -> np.ndarray:
        """(N,) int32 chemical ordering: index into :attr:`orderings` (0 ``disordered``, -1 ``none``).

        Only particles named a crystal in a frame of exactly two types get one. A particle's chemical
        signature (:func:`chemical_signature`) is compared with every site of its own type of each
        binary prototype, under both ways of mapping the frame's two
        types onto the prototype's elements, and with the signature the same frame has when its types
        are shuffled (``disordered``: a random solid solution of this very geometry and composition);
        the score is the squared distance in units of each reference's spread, plus the squared feature
        distance to that site's own geometric centers in units of their spread (so prototypes of one
        chemistry, such as the C15 and C14 Laves phases, are told apart by their stackings where the
        structure names merge them; ``disordered`` takes the nearest site's). Scores, capped at
        :data:`ORDERING_CAP`, take their median over the particle and its first shell; the lowest wins,
        unless it is above :data:`ORDERING_REJECT` (``none``: no reference fits).

        Parameters
        ----------
        structure : numpy.ndarray
            (N,) structure indices (:meth:`classify`).
        neighborhoods : simssl.neighbors.Neighborhoods
            A k-nearest query at least ``max(ORDERING_RANKS)`` wide.
        features : numpy.ndarray
            (N, F) raw features (as :meth:`classify` reads them).
        """
        result = np.full(len(structure), OTHER_INDEX, dtype=np.int32)
        types = np.asarray(neighborhoods.center_types)
        if neighborhoods.n_types != 2 or len(np.unique(types)) != 2 or not self.ordering_sites:
            return result
        ranked = ranked_neighbors(neighborhoods)
        signature = chemical_signature(ranked, types)
        shuffled_types = np.random.default_rng(0).permutation(types)
        shuffled = chemical_signature(ranked, shuffled_types)
        sites = self.ordering_sites
        scores = np.full((len(structure), 1 + 2 * (len(self.orderings) - 2)), np.inf)
        for kind in (0, 1):  # disordered: the shuffled frame's signatures of particles of this type
            null = shuffled[shuffled_types == kind]
            variance = null.var(0) + ORDERING_FLOOR**2
            rows = types == kind
            scores[rows, 0] = (((signature[rows] - null.mean(0)) ** 2) / variance).sum(1)
        z = self.standardize(features)
        crystal = structure > 0
        nearest_shape = np.full(len(structure), np.inf)
        for site in range(len(sites["mean"])):
            variance = sites["spread"][site] ** 2 + ORDERING_FLOOR**2
            chemistry = (((signature - sites["mean"][site]) ** 2) / variance).sum(1)
            shape = (
                np.linalg.norm(z[:, None] - sites["shape"][site][None], axis=-1).min(1) / sites["shape_spread"][site]
            ) ** 2
            nearest_shape = np.minimum(nearest_shape, shape)
            for swap in (0, 1):  # frame type 0 is the formula's first element, or its second
                rows = crystal & (types == sites["type"][site] ^ swap)
                column = 1 + 2 * (int(sites["ordering"][site]) - 1) + swap
                scores[rows, column] = np.minimum(scores[rows, column], chemistry[rows] + shape[rows])
        scores[:, 0] += nearest_shape  # disordered: the geometry of the nearest site, whatever its chemistry
        capped = np.minimum(scores, ORDERING_CAP)
        smoothed = np.median(np.concatenate([capped[:, None], capped[ranked[:, :FIRST_SHELL]]], axis=1), axis=1)
        best = smoothed.argmin(1)
        ordering = np.where(best == 0, 0, 1 + (best - 1) // 2)
        fits = crystal & (smoothed.min(1) <= ORDERING_REJECT)
        result[fits] = ordering[fits]
        return result

    def digest(self) -> str:
        """sha256 (hex) of what decides :meth:`classify`: names, centers, labels, standardization, radii, T."""
        digest = hashlib.sha256(
            json.dumps([list(self.names), self.aliases, self.temperature, list(self.orderings)]).encode()
        )
        for array in (self.centers, self.labels, self.mean, self.std, self.radii, *self.ordering_sites.values()):
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()

    def save(self, path) -> None:
        """Write to ``path`` (.npz) atomically."""
        meta = {
            "names": list(self.names),
            "aliases": self.aliases,
            "model": self.model,
            "recipe": RECIPE_VERSION,
            "orderings": list(self.orderings),
        }
        with AtomicFile(path, force=True) as target:
            with open(target.temporary, "wb") as handle:
                np.savez(
                    handle,
                    centers=self.centers,
                    labels=self.labels,
                    mean=self.mean,
                    std=self.std,
                    radii=self.radii,
                    temperature=np.float64(self.temperature),
                    meta=np.asarray(json.dumps(meta)),
                    **{f"ordering_{key}": value for key, value in self.ordering_sites.items()},
                )

    @classmethod
    def load(cls, path) -> Library | None:
        """Read what :meth:`save` wrote; None for a file of another recipe version (to be rebuilt)."""
        with np.load(path) as data:
            meta = json.loads(str(data["meta"]))
            if meta.get("recipe") != RECIPE_VERSION:
                return None
            return cls(
                names=tuple(meta["names"]),
                centers=data["centers"],
                labels=data["labels"],
                mean=data["mean"],
                std=data["std"],
                radii=data["radii"],
                temperature=float(data["temperature"]),
                aliases=meta["aliases"],
                model=meta["model"],
                orderings=tuple(meta["orderings"]),
                ordering_sites={key[9:]: data[key] for key in data.files if key.startswith("ordering_")},
            )

    def with_user_references(self, features: dict[str, np.ndarray]) -> Library:
        """This library plus k-means centers of user features, one new structure per name.

        A user structure's acceptance radius is the :data:`ACCEPTANCE_QUANTILE` quantile of its own
        rows' distances to its centers (the frames a user gives are all the spread it knows), and at
        least the median acceptance radius of the library's crystals (a perfect crystal's rows have no
        spread at all, yet its hot self must still be named).

        Parameters
        ----------
        features : dict of str to numpy.ndarray
            ``{name: (n, F) raw features}``; a name already present (``other`` included) is refused.
        """
        from ..clustering import kmeans

        names, centers, labels, radii = list(self.names[:-1]), [self.centers], [self.labels], [self.radii]
        for name, rows in features.items():
            if name in names or name == OTHER:
                raise SimsslError(f"reference name {name!r} is already a structure; rename the file or use NAME=PATH")
            count = max(1, min(USER_CENTERS, len(rows) // 50))
            mine = ((kmeans(rows, count, seed=0)[1] - self.mean) / self.std).astype(np.float32)
            spread = np.linalg.norm(self.standardize(rows)[:, None] - mine[None], axis=-1).min(1)
            centers.append(mine)
            labels.append(np.full(count, len(names), dtype=np.int32))
            floor = np.median(self.radii[1:]) if len(self.radii) > 1 else 0.0
            radii.append(np.float32([max(np.quantile(spread, ACCEPTANCE_QUANTILE), floor)]))
            names.append(name)
        return replace(
            self,
            names=(*names, OTHER),
            centers=np.concatenate(centers),
            labels=np.concatenate(labels),
            radii=np.concatenate(radii).astype(np.float32),
        )


def centrosymmetry(vectors: np.ndarray) -> np.ndarray:
    """(n,) float64: how far each first shell is from centrosymmetric, dimensionless.

    The sum of the six smallest ``|r_j + r_l|^2`` over pairs of the bonds, divided by the mean
    ``|r|^2`` (Kelchner's centrosymmetry parameter, made unit-free): 0 for a perfect fcc shell, about 1
    for hcp, continuous in the positions.

    Parameters
    ----------
    vectors : numpy.ndarray
        (n, FIRST_SHELL, 3) bond vectors of each particle's nearest neighbors.
    """
    v = np.asarray(vectors, dtype=np.float64)
    pairs = ((v[:, :, None] + v[:, None, :]) ** 2).sum(-1)
    upper = np.triu_indices(v.shape[1], 1)
    smallest = np.partition(pairs[:, upper[0], upper[1]], FIRST_SHELL // 2 - 1, axis=1)[:, : FIRST_SHELL // 2]
    return smallest.sum(1) / np.maximum((v**2).sum(-1).mean(1), 1e-30)


def ranked_neighbors(neighborhoods) -> np.ndarray:
    """(N, max(ORDERING_RANKS)) int64: every particle's nearest neighbors, nearest first.

    Parameters
    ----------
    neighborhoods : simssl.neighbors.Neighborhoods
        A k-nearest query at least ``max(ORDERING_RANKS)`` wide.
    """
    width = max(ORDERING_RANKS)
    if neighborhoods.k < width:
        raise SimsslError(
            f"chemical ordering reads the {width} nearest neighbors; the neighborhoods hold {neighborhoods.k}"
        )
    lengths = np.where(neighborhoods.mask, np.linalg.norm(neighborhoods.vectors, axis=-1), np.inf)
    order = np.argsort(lengths, axis=1, kind="stable")[:, :width]
    return np.take_along_axis(neighborhoods.indices, order, 1)


def chemical_signature(ranked: np.ndarray, types: np.ndarray) -> np.ndarray:
    """(N, len(ORDERING_RANKS)) float64: every particle's chemical signature, averaged over its first shell.

    For each rank n of :data:`ORDERING_RANKS`, the fraction of a particle's n nearest neighbors that
    share its type (rock salt's first six are all unlike, CsCl's first eight, a random solid
    solution's are as like as the composition), then the mean of that over the particle and its
    :data:`FIRST_SHELL` nearest neighbors (Lechner-Dellago style), so an antisite here and there
    moves it little.

    Parameters
    ----------
    ranked : numpy.ndarray
        (N, max(ORDERING_RANKS)) neighbor indices, nearest first (:func:`ranked_neighbors`).
    types : numpy.ndarray
        (N,) type ids.
    """
    like = types[ranked] == types[:, None]
    ranks = np.asarray(ORDERING_RANKS)
    own = np.cumsum(like, axis=1)[:, ranks - 1] / ranks
    return (own + own[ranked[:, :FIRST_SHELL]].sum(1)) / (1 + FIRST_SHELL)


def open_set_logits(distances: np.ndarray, other_radius: np.ndarray, temperature: float) -> np.ndarray:
    """(N, S + 1) float64 logits: ``-d_s^2 / T`` per structure, then ``other``'s ``-r^2 / T``.

    Parameters
    ----------
    distances : numpy.ndarray
        (N, S) distances to each structure.
    other_radius : numpy.ndarray
        (N,) acceptance radius of each row's nearest structure.
    temperature : float
    """
    squared = np.concatenate([distances, np.asarray(other_radius)[:, None]], axis=1).astype(np.float64) ** 2
    return -squared / temperature


def softmax_at(logits: np.ndarray, index: np.ndarray) -> np.ndarray:
    """(N,) float32 softmax probability of column ``index`` (N,) of each row of ``logits`` (N, C)."""
    logits = logits - logits.max(1, keepdims=True)
    weights = np.exp(logits)
    return (np.take_along_axis(weights, np.asarray(index)[:, None], 1)[:, 0] / weights.sum(1)).astype(np.float32)


def fit_temperature(logit_numerators: np.ndarray, labels: np.ndarray) -> float:
    """The softmax temperature that maximizes the likelihood of ``labels`` (log grid, 10^-2 .. 10^4).

    Parameters
    ----------
    logit_numerators : numpy.ndarray
        (N, C) squared distances: the logits are ``-logit_numerators / T``.
    labels : numpy.ndarray
        (N,) true columns.
    """
    squared = logit_numerators.astype(np.float64)
    true = squared[np.arange(len(labels)), labels]
    best, best_loss = 1.0, np.inf
    for temperature in np.logspace(-2, 4, 241):
        logits = -squared / temperature
        top = logits.max(1)
        loss = np.mean(top + np.log(np.exp(logits - top[:, None]).sum(1)) + true / temperature)
        if loss < best_loss:
            best, best_loss = float(temperature), loss
    return best


class Featurizer:
    """Raw identification features of a frame: the embedding and its neighbor average, (N, 2 D) float32.

    The same :class:`~simssl.compute.Embedding` stage a run uses, so references and particles are
    featurized alike.
    """

    def __init__(self, model, device=None, batch_size=None, compile=None):
        self.embedding = Embedding(model, device=device, batch_size=batch_size, compile=compile, average=True)

    def __call__(self, frame) -> np.ndarray:
        columns = self.embedding.compute(frame)
        return np.concatenate([columns["embedding"], columns["embedding_avg"]], axis=1)


class _Rows:
    """Featurized reference rows: per row its features, the key of the center it feeds (a calibration row's:
    the noise of its draw) and the key of its true structure, keys kept once each and rows by integer id."""

    def __init__(self):
        self.features: list[np.ndarray] = []
        self.group_ids: list[np.ndarray] = []
        self.truth_ids: list[np.ndarray] = []
        self.groups: dict = {}  # key -> id
        self.truths: dict = {}

    def add(self, features: np.ndarray, groups, truths) -> None:
        """Add rows (n, F) with their per-row group keys (or None) and truth keys."""
        self.features.append(features)
        self.group_ids.append(
            np.array([-1 if g is None else self.groups.setdefault(g, len(self.groups)) for g in groups])
        )
        self.truth_ids.append(np.array([self.truths.setdefault(k, len(self.truths)) for k in truths]))

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(features (n, F), group ids (n,), truth ids (n,))`` of every row added."""
        return np.concatenate(self.features), np.concatenate(self.group_ids), np.concatenate(self.truth_ids)


def _simplicity(name: str) -> tuple[int, int]:
    """Sort key of library prototypes, simplest first: higher space-group number, then fewer atoms per cell."""
    from .structures import prototype_space_group, unit_cell

    return -prototype_space_group(name), len(unit_cell(name)[1])


def _orbits(clean: np.ndarray, n_basis: int) -> np.ndarray:
    """(N,) orbit id of every particle of a clean crystal: sites whose features coincide share one."""
    sites = np.arange(len(clean)) % n_basis
    site_means = np.stack([clean[sites == s].mean(0) for s in range(n_basis)])
    scale = max(float(np.abs(site_means).max()), 1e-12)
    _, orbit_of_site = np.unique(np.round(site_means / scale, 3), axis=0, return_inverse=True)
    return orbit_of_site.reshape(-1)[sites]


def _fitting_crystal(name: str, size: int, featurize, seed) -> tuple[int, np.ndarray]:
    """The clean prototype's size and features, doubling ``size`` until its box holds the model's neighborhoods
    (molecular crystals need more particles)."""
    from .structures import crystal

    for _ in range(6):
        try:
            return size, featurize(crystal(name, size, seed=seed))
        except SimsslError:
            size *= 2
    raise SimsslError(f"prototype {name}: no reference crystal of up to {size} particles holds the neighborhoods")


def _crystal_rows(names, featurize, seed, work, references: _Rows, calibration: _Rows) -> None:
    """Reference and calibration rows of the prototypes ``names``: groups ``(name, orbit, level)``, truth
    ``(name, orbit)``."""
    from .structures import crystal, unit_cell

    for index, name in enumerate(names):
        n_basis = len(unit_cell(name)[1])
        size, clean = _fitting_crystal(name, max(REFERENCE_PARTICLES, 4 * n_basis), featurize, [seed, index, 0])
        orbits = _orbits(clean, n_basis)
        truth = [(name, int(orbit)) for orbit in orbits]
        for level, noise in enumerate(REFERENCE_NOISE):
            rows = clean if noise == 0 else featurize(crystal(name, size, noise=noise, seed=[seed, index, level]))
            references.add(rows, [(name, int(orbit), level) for orbit in orbits], truth)
            work.update()
        for draw, noise in enumerate(CALIBRATION_NOISE):
            rows = featurize(crystal(name, size, noise=noise, seed=[seed, index, 99, draw]))
            calibration.add(rows, [noise] * len(rows), truth)
            work.update()


def _binary_rows(names, featurize, seed, work, references: _Rows, calibration: _Rows) -> None:
    """Geometry rows of the binary prototypes ``names`` (types ignored: the model is geometry-only), as
    :func:`_crystal_rows` gives them for one-component prototypes; a site orbit is a Wyckoff site."""
    from .binaries import binary_crystal

    for index, name in enumerate(names):
        for level, noise in enumerate(REFERENCE_NOISE):
            draw = binary_crystal(name, REFERENCE_PARTICLES, noise=noise, seed=[seed, 5, index, level])
            references.add(
                featurize(draw.frame), [(name, int(s), level) for s in draw.site], [(name, int(s)) for s in draw.site]
            )
            work.update()
        for level, noise in enumerate(CALIBRATION_NOISE):
            draw = binary_crystal(name, REFERENCE_PARTICLES, noise=noise, seed=[seed, 5, index, 99, level])
            calibration.add(
                featurize(draw.frame), [noise] * draw.frame.n_particles, [(name, int(s)) for s in draw.site]
            )
            work.update()


def _ordering_sites(names, orderings, geometry_of_site, shape_of_site, seed) -> dict:
    """The ordering references: per Wyckoff site of every binary prototype ``names``, the mean and spread of
    its particles' chemical signatures over :data:`ORDERING_NOISE` and :data:`ORDERING_ANTISITES`, its type,
    prototype and geometry, and its own geometric centers (before any merge) with their spread.

    Parameters
    ----------
    names : list of str
        Binary prototype names.
    orderings : tuple of str
        The ordering names (``names`` among them).
    geometry_of_site : callable
        ``(prototype, site) -> structure index`` its particles are named.
    shape_of_site : callable
        ``(prototype, site) -> (centers (levels, F), spread)``: its standardized feature centers at
        :data:`REFERENCE_NOISE` and their particles' RMS distance to them.
    seed : int
    """
    from ..neighbors import Nearest, plan_neighborhoods
    from .binaries import binary_crystal

    spec = Nearest(max(ORDERING_RANKS))
    columns = {key: [] for key in ("mean", "spread", "ordering", "type", "geometry", "shape", "shape_spread")}
    for index, name in enumerate(names):
        draws = [
            binary_crystal(name, ORDERING_PARTICLES, noise=noise, antisites=antisites, seed=[seed, 6, index, level])
            for level, (noise, antisites) in enumerate(
                (noise, antisites) for noise in ORDERING_NOISE for antisites in ORDERING_ANTISITES
            )
        ]
        signatures = np.concatenate(
            [
                chemical_signature(ranked_neighbors(plan_neighborhoods(d.frame, [spec])[spec]), d.frame.types)
                for d in draws
            ]
        )
        sites = np.concatenate([np.where(d.antisite, -1, d.site) for d in draws])  # antisites: no site's truth
        for site in np.unique(sites[sites >= 0]):
            rows = signatures[sites == site]
            columns["mean"].append(rows.mean(0))
            columns["spread"].append(rows.std(0))
            columns["ordering"].append(orderings.index(name))
            columns["type"].append(int(draws[0].frame.types[np.flatnonzero(draws[0].site == site)[0]]))
            columns["geometry"].append(geometry_of_site(name, int(site)))
            shape, shape_spread = shape_of_site(name, int(site))
            columns["shape"].append(shape)
            columns["shape_spread"].append(shape_spread)
    dtypes = {"ordering": np.int32, "type": np.int32, "geometry": np.int32, "shape": np.float32}
    return {key: np.asarray(value, dtype=dtypes.get(key, np.float64)) for key, value in columns.items()}


def _stacking_rows(featurize, seed, work, references: _Rows, calibration: _Rows) -> None:
    """Rows of random close-packed stackings: groups ``('stacking', context, level)``, truth the first shell's
    fcc/hcp name (:data:`STACKING_NAMES`), ``context`` the fcc/hcp letters of the layers around the particle."""
    from .defects import close_packed_stack, random_stacking, stacking_truth

    for draw in range(STACKINGS + 1):
        sequence = random_stacking(STACKING_LAYERS, seed=[seed, 7, draw])
        letters = np.array([kind[0] for kind in stacking_truth(sequence)])  # 'f' or 'h' per layer
        window = np.arange(-STACKING_CONTEXT, STACKING_CONTEXT + 1)
        context = ["".join(letters[(layer + window) % len(letters)]) for layer in range(len(letters))]
        levels = list(enumerate(REFERENCE_NOISE)) if draw < STACKINGS else [(None, CALIBRATION_NOISE[-1])]
        for level, noise in levels:
            stack = close_packed_stack(sequence, STACKING_PARTICLES, noise=noise, seed=[seed, 7, draw, level or 0])
            rows = featurize(stack.frame)
            truth = [STACKING_NAMES[kind] for kind in stack.stacking]
            if level is None:
                calibration.add(rows, [noise] * len(rows), truth)
            else:
                references.add(rows, [("stacking", context[layer], level) for layer in stack.layer], truth)
            work.update()


def _disorder_rows(frames: dict, featurize, work, references: _Rows, calibration: _Rows) -> None:
    """Rows of the disorder kinds ``{kind: frames}``: all frames but the last are references (group: the
    kind), the last one calibrates; truth :data:`LIQUID`."""
    for kind, kind_frames in frames.items():
        if len(kind_frames) < 2:
            raise SimsslError(f"disorder kind {kind!r} needs two frames or more (references and calibration)")
        for position, frame in enumerate(kind_frames):
            rows = featurize(frame)
            target = calibration if position == len(kind_frames) - 1 else references
            target.add(rows, [kind if target is references else 0.0] * len(rows), [LIQUID] * len(rows))
        work.update()


def build_library(
    model, prototypes=None, disorder=None, binaries=None, seed: int = 0, device=None, progress: bool = True
) -> Library:
    """The identification library of ``model`` (see the module docstring).

    Parameters
    ----------
    model : simssl.model.Encoder
    prototypes : sequence of str or None
        Crystal prototypes (default: every one of the table but :data:`STACKING_POLYTYPES`).
    disorder : dict of str to list of Frame, or None
        Disordered frames by kind, two or more per kind (default: every kind of
        :func:`simssl.library.liquids.disorder_frames` that is not held out).
    binaries : sequence of str or None
        Binary prototypes (:mod:`simssl.library.binaries`, default: all): their geometries join the crystals
        (after every one-component prototype in simplicity, so rock salt's is simple cubic's) and their
        sites are the chemical ordering references.
    seed : int
        Seed of every noise draw and stacking.
    device : str or None
        Torch device of the model.
    progress : bool
        Show progress bars.

    Returns
    -------
    Library
    """
    from .binaries import binary_prototype_names, binary_space_group
    from .liquids import disorder_frames
    from .structures import prototype_names

    if prototypes is None:
        prototypes = [name for name in prototype_names("all") if name not in STACKING_POLYTYPES]
    binary_names = sorted(binary_prototype_names() if binaries is None else binaries, key=binary_space_group)[::-1]
    names = sorted(prototypes, key=_simplicity) + binary_names
    if disorder is None:
        disorder = disorder_frames(seed=seed, progress=progress)
    featurize = Featurizer(model, device)
    references, calibration = _Rows(), _Rows()
    steps = len(names) * (len(REFERENCE_NOISE) + len(CALIBRATION_NOISE)) + (STACKINGS + 1) * len(REFERENCE_NOISE)
    with tqdm(total=steps + len(disorder), desc="identification references", disable=not progress) as work:
        _crystal_rows(names[: len(names) - len(binary_names)], featurize, seed, work, references, calibration)
        _binary_rows(binary_names, featurize, seed, work, references, calibration)
        if STACKING_NAMES["fcc"] in names and STACKING_NAMES["hcp"] in names:
            _stacking_rows(featurize, seed, work, references, calibration)
        _disorder_rows(disorder, featurize, work, references, calibration)
    features, group_ids, truth_ids = references.arrays()
    mean = features.mean(0).astype(np.float32)
    std = np.where(features.std(0) > 0, features.std(0), 1).astype(np.float32)
    z = (features - mean) / std
    groups, truths = list(references.groups), list(references.truths)

    # one center per group; the crystal sites that cannot be told apart from a simpler one's are merged
    counts = np.bincount(group_ids, minlength=len(groups)).astype(np.float64)
    centers = np.stack([np.bincount(group_ids, z[:, f], len(groups)) for f in range(z.shape[1])], 1) / counts[:, None]
    spread = np.sqrt(np.bincount(group_ids, ((z - centers[group_ids]) ** 2).sum(1), len(groups)) / counts)
    centers_before_merge = centers.astype(np.float32)
    resolution = REFERENCE_NOISE.index(RESOLUTION_NOISE)
    sites = {
        (names.index(key[0]), key[1]): (row, float(spread[row]))
        for row, key in enumerate(groups)
        if isinstance(key, tuple) and key[0] in names and key[2] == resolution
    }
    name_of_site, aliases = _merge_similar_sites(sites, centers, names)
    for polytype in STACKING_POLYTYPES:
        aliases[polytype] = [STACKING_NAMES["fcc"], STACKING_NAMES["hcp"]]
    first_row = np.unique(group_ids, return_index=True)[1]
    reported = [_reported(truths[truth_ids[row]], name_of_site) for row in first_row]
    structure_names = (LIQUID, *(name for name in names if name in set(reported)), OTHER)
    index = {name: position for position, name in enumerate(structure_names)}
    labels = np.array([index[name] for name in reported], dtype=np.int32)
    centers, labels = _disorder_kmeans(z, group_ids, groups, centers.astype(np.float32), labels, seed)
    order = np.argsort(labels, kind="stable")
    library = Library(
        names=structure_names,
        centers=np.ascontiguousarray(centers[order]),
        labels=labels[order],
        mean=mean,
        std=std,
        radii=np.zeros(len(structure_names) - 1, dtype=np.float32),
        temperature=1.0,
        aliases=aliases,
        model=model_identity(model)["sha256"],
    )
    orderings = (DISORDERED, *binary_names, NO_ORDERING)
    row_of = {key: row for row, key in enumerate(groups)}

    def shape_of_site(name, site):
        rows = [row_of[name, site, level] for level in range(len(REFERENCE_NOISE))]
        return centers_before_merge[rows], float(np.sqrt(np.mean(spread[rows] ** 2)))

    sites = _ordering_sites(
        binary_names, orderings, lambda name, site: index[name_of_site[name, site]], shape_of_site, seed
    )
    library = replace(library, orderings=orderings, ordering_sites=sites if binary_names else {})
    features, noise_ids, truth_ids = calibration.arrays()
    truths = list(calibration.truths)
    truth = np.array([index[_reported(truths[k], name_of_site)] for k in range(len(truths))], dtype=np.int64)
    noise = np.array(list(calibration.groups), dtype=np.float64)[noise_ids]
    return calibrated(library, features, truth[truth_ids], noise <= RESOLUTION_NOISE)


def _reported(truth, name_of_site: dict) -> str:
    """The structure name a truth key is reported as: a crystal site ``(prototype, orbit)`` by the
    resolution rule, anything else (a stacking's fcc/hcp name, :data:`LIQUID`) as it is."""
    return name_of_site[truth] if isinstance(truth, tuple) else truth


def _disorder_kmeans(z, group_ids, groups, centers, labels, seed) -> tuple[np.ndarray, np.ndarray]:
    """Centers with every disorder kind's (a group keyed by its name) one mean center replaced by
    :data:`DISORDER_CENTERS` k-means centers of its rows."""
    from ..clustering import kmeans

    crystal = [row for row, key in enumerate(groups) if isinstance(key, tuple)]
    new_centers, new_labels = [centers[crystal]], [labels[crystal]]
    for row, key in enumerate(groups):
        if isinstance(key, tuple):
            continue
        members = z[group_ids == row]
        count = min(DISORDER_CENTERS, len(members))
        new_centers.append(kmeans(members, count, seed=seed)[1].astype(np.float32))
        new_labels.append(np.full(count, labels[row], dtype=np.int32))
    return np.concatenate(new_centers), np.concatenate(new_labels)


def calibrated(library: Library, features: np.ndarray, truth: np.ndarray, temperature_rows=None) -> Library:
    """``library`` with acceptance radii and confidence temperature fitted on calibration rows.

    The radii take every row; the temperature only ``temperature_rows`` (default: all): the draws at
    noise up to the hottest reference level, since the hottest draws, beyond what real crystals at
    their melting point look like, would make every answer look less sure than it measures to be.

    Parameters
    ----------
    library : Library
    features : numpy.ndarray
        (n, F) raw features of fresh draws of the library's structures.
    truth : numpy.ndarray
        (n,) their structure indices.
    temperature_rows : numpy.ndarray, optional
        (n,) bool: the rows the temperature is fitted on.

    Raises
    ------
    SimsslError
        If a structure has no calibration rows.
    """
    distances, nearest = library.distances(features)
    radii = np.zeros(len(library.names) - 1, dtype=np.float32)
    for structure in range(len(radii)):
        own = distances[truth == structure, structure]
        if len(own) == 0:
            raise SimsslError(f"no calibration draws of {library.names[structure]!r}")
        radii[structure] = np.quantile(own, ACCEPTANCE_QUANTILE)
    squared = -open_set_logits(distances, radii[library.labels[nearest]], 1.0)
    rows = slice(None) if temperature_rows is None else np.asarray(temperature_rows, dtype=bool)
    return replace(library, radii=radii, temperature=fit_temperature(squared[rows], truth[rows]))


def _merge_similar_sites(spreads: dict, centers: np.ndarray, names: list[str]) -> tuple[dict, dict]:
    """The resolution rule (module docstring): which prototype each site orbit is reported as.

    Parameters
    ----------
    spreads : dict
        ``{(prototype index, orbit): (row of its center at the resolution noise, spread of its particles)}``,
        prototypes indexed simplest first.
    centers : numpy.ndarray
        (M, F) standardized centers.
    names : list of str
        Prototype names, simplest first.

    Returns
    -------
    name_of_site : dict
        ``{(prototype name, orbit): name of the prototype it is reported as}``.
    aliases : dict of str to list of str
        Per prototype with merged sites: the prototypes they are reported as.
    """
    label_of, aliases = {}, {}
    for (index, orbit), (row, spread) in sorted(spreads.items()):  # simplest prototypes first
        simpler = [(other_row, key) for key, (other_row, _) in spreads.items() if key[0] < index]
        label_of[index, orbit] = index
        if simpler:
            gaps = np.linalg.norm(centers[[r for r, _ in simpler]] - centers[row], axis=1)
            nearest = int(gaps.argmin())
            if gaps[nearest] < spread:
                label_of[index, orbit] = label_of[simpler[nearest][1]]
                merged = aliases.setdefault(names[index], [])
                if names[label_of[index, orbit]] not in merged:
                    merged.append(names[label_of[index, orbit]])
    return {(names[index], orbit): names[label] for (index, orbit), label in label_of.items()}, aliases
