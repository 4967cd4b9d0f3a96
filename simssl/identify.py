"""Per-particle structure identification: the nearest reference environment in embedding space.

References are the encoder's features (embedding and its neighbor average, standardized) of:

* every prototype of the crystal library (:mod:`simssl.library.structures`), at Gaussian noise
  :data:`REFERENCE_NOISE` (0 to 0.12 of the shortest distance, so hot crystals find their cold
  selves), one center per distinct site (orbit) and noise level;
* disordered configurations (:mod:`simssl.library.liquids`: Lennard-Jones liquids and soft-sphere
  packings), k-means centers, under the name ``"liquid"``, always structure 0, so that "none of
  these" is an answer and ``structure > 0`` means ordered;
* optionally, user frames (``--reference mycrystal.gsd``), k-means centers under their own name.

**Resolution.** Some prototypes are slight distortions or stackings of simpler ones (tI2-In is
fcc stretched by 8 %, tP4-Np a distorted bcc, hR3-Sm and hP4-La mix fcc- and hcp-like sites). At the
noise of a crystal near melting their environments cannot be told apart, and forcing a choice
named most hot fcc particles "tI2-In". So a site whose features at noise :data:`RESOLUTION_NOISE`
lie closer to a site of a simpler prototype (higher space-group number, then fewer atoms per cell)
than its own particles' spread is reported as that simpler structure; :attr:`References.aliases`
records every such merge. A prototype whose sites all merge disappears from the names.

**Confidence.** ``structure_confidence`` is the softmax over structures of ``-d_s^2 / T``, with d_s
the distance to structure s's nearest center and T fitted (maximum likelihood) on fresh noise draws
of every prototype at :data:`CALIBRATION_NOISE` and a fresh liquid: a calibrated probability on
data like the references, not on everything a user may bring.

References are built once per model (a few minutes on a CPU) and cached: the default model's ship
in the package (``simssl/library/default_references.npz``), others go to :func:`cache_directory`.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field, replace

import numpy as np
from tqdm.auto import tqdm

from .atomic import AtomicFile
from .cache import cache_directory
from .compute import Embedding, model_identity
from .defaults import AVERAGE_SUFFIX
from .errors import OutputInUse, SimsslError, SimsslWarning
from .frame import Frame
from .neighbors import Neighborhoods

#: name of the disordered reference, always structure 0
LIQUID = "liquid"
#: Gaussian noise (in shortest distances) of the reference crystals
REFERENCE_NOISE: tuple[float, ...] = (0.0, 0.04, 0.08, 0.12)
#: noise at which two sites that cannot be told apart are merged (see the module docstring)
RESOLUTION_NOISE = 0.12
#: noise of the calibration draws that fit the confidence temperature
CALIBRATION_NOISE = 0.1
#: particles per reference crystal (at least 4 per site)
REFERENCE_PARTICLES = 600
#: k-means centers of the disordered references and of each user reference
LIQUID_CENTERS = 16
USER_CENTERS = 8
#: rows classified at once (bounds the (rows, centers) distance matrix)
CHUNK = 8192
#: names of the per-particle outputs
OUTPUT_NAMES: tuple[str, ...] = ("structure", "structure_confidence", "structure_distance")
#: bump when the reference recipe changes: cached references of another version are rebuilt
RECIPE_VERSION = 1


@dataclass(frozen=True)
class References:
    """Reference centers in standardized feature space and the structure each one names.

    Attributes
    ----------
    names : tuple of str
        Structure names; ``names[0]`` is ``"liquid"``.
    centers : numpy.ndarray
        (M, F) float32 standardized centers, sorted by label.
    labels : numpy.ndarray
        (M,) int32 index into ``names`` of every center.
    mean, std : numpy.ndarray
        (F,) float32: the standardization of raw features.
    temperature : float
        Of the confidence softmax.
    aliases : dict of str to list of str
        Per library prototype merged (wholly or in part) into simpler structures: those structures.
    model : str
        sha256 of the model (:func:`simssl.compute.model_identity`) the features come from.
    """

    names: tuple[str, ...]
    centers: np.ndarray
    labels: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    temperature: float
    aliases: dict = field(default_factory=dict)
    model: str = ""

    def distances(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every row's distance to each structure's nearest center, and its nearest center overall.

        Parameters
        ----------
        features : numpy.ndarray
            (N, F) raw features (embedding, then its neighbor average).

        Returns
        -------
        distances : numpy.ndarray
            (N, S) float32, standardized units (from the expanded square: ~1e-3 absolute error near 0).
        nearest : numpy.ndarray
            (N,) int64 index into :attr:`centers`.
        """
        starts = np.flatnonzero(np.r_[True, np.diff(self.labels) != 0])
        squared_norms = (self.centers**2).sum(1)
        result = np.empty((len(features), len(self.names)), dtype=np.float32)
        nearest = np.empty(len(features), dtype=np.int64)
        for start in range(0, len(features), CHUNK):
            z = self.standardize(features[start : start + CHUNK])
            squared = (z**2).sum(1)[:, None] - 2 * z @ self.centers.T + squared_norms[None]
            nearest[start : start + CHUNK] = squared.argmin(1)
            result[start : start + CHUNK] = np.sqrt(np.maximum(np.minimum.reduceat(squared, starts, axis=1), 0))
        return result, nearest

    def digest(self) -> str:
        """sha256 (hex) of what decides :meth:`classify`: names, centers, labels, standardization, temperature."""
        import hashlib

        digest = hashlib.sha256(json.dumps([list(self.names), self.aliases, self.temperature]).encode())
        for array in (self.centers, self.labels, self.mean, self.std):
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()

    def standardize(self, features: np.ndarray) -> np.ndarray:
        """(N, F) float32 features in the references' standardized units."""
        return (np.asarray(features, dtype=np.float32) - self.mean) / self.std

    def classify(self, features: np.ndarray) -> dict[str, np.ndarray]:
        """``structure`` (N,) int32, ``structure_confidence`` and ``structure_distance`` (N,) float32.

        The structure is that of the nearest center; its distance is computed directly from the
        difference (exact to float32 round-off even at 0, unlike the expanded square).

        Parameters
        ----------
        features : numpy.ndarray
            (N, F) raw features.
        """
        distances, nearest = self.distances(features)
        structure = self.labels[nearest].astype(np.int32)
        exact = np.linalg.norm(self.standardize(features) - self.centers[nearest], axis=1).astype(np.float32)
        return dict(zip(OUTPUT_NAMES, (structure, _confidence(distances, structure, self.temperature), exact)))

    def save(self, path) -> None:
        """Write to ``path`` (.npz) atomically."""
        meta = {"names": list(self.names), "aliases": self.aliases, "model": self.model, "recipe": RECIPE_VERSION}
        with AtomicFile(path, force=True) as target:
            with open(target.temporary, "wb") as handle:
                np.savez(
                    handle,
                    centers=self.centers,
                    labels=self.labels,
                    mean=self.mean,
                    std=self.std,
                    temperature=np.float64(self.temperature),
                    meta=np.asarray(json.dumps(meta)),
                )

    @classmethod
    def load(cls, path) -> References:
        """Read what :meth:`save` wrote."""
        with np.load(path) as data:
            meta = json.loads(str(data["meta"]))
            return cls(
                names=tuple(meta["names"]),
                centers=data["centers"],
                labels=data["labels"],
                mean=data["mean"],
                std=data["std"],
                temperature=float(data["temperature"]),
                aliases=meta["aliases"],
                model=meta["model"],
            )

    def with_user_references(self, features: dict[str, np.ndarray]) -> References:
        """These references plus k-means centers of user features, one new structure per name.

        Parameters
        ----------
        features : dict of str to numpy.ndarray
            ``{name: (n, F) raw features}``; a name already present is refused.
        """
        from .clustering import kmeans

        names, centers, labels = list(self.names), [self.centers], [self.labels]
        for name, rows in features.items():
            if name in names:
                raise SimsslError(f"reference name {name!r} is already a structure; rename the file or use NAME=PATH")
            count = max(1, min(USER_CENTERS, len(rows) // 50))
            centers.append(((kmeans(rows, count, seed=0)[1] - self.mean) / self.std).astype(np.float32))
            labels.append(np.full(count, len(names), dtype=np.int32))
            names.append(name)
        return replace(self, names=tuple(names), centers=np.concatenate(centers), labels=np.concatenate(labels))


def _confidence(distances: np.ndarray, structure: np.ndarray, temperature: float) -> np.ndarray:
    """(N,) float32 softmax probability of ``structure`` over the structures, logits ``-distance^2 / temperature``."""
    logits = -(distances.astype(np.float64) ** 2) / temperature
    logits -= logits.max(1, keepdims=True)
    weights = np.exp(logits)
    return (np.take_along_axis(weights, structure[:, None].astype(np.int64), 1)[:, 0] / weights.sum(1)).astype(
        np.float32
    )


def fit_temperature(distances: np.ndarray, labels: np.ndarray) -> float:
    """The softmax temperature that maximizes the likelihood of ``labels`` (log grid, 10^-2 .. 10^4).

    Parameters
    ----------
    distances : numpy.ndarray
        (N, S) distances to each structure.
    labels : numpy.ndarray
        (N,) true structure indices.
    """
    squared = distances.astype(np.float64) ** 2
    true = squared[np.arange(len(labels)), labels]
    best, best_loss = 1.0, np.inf
    for temperature in np.logspace(-2, 4, 241):
        logits = -squared / temperature
        top = logits.max(1)
        loss = np.mean(top + np.log(np.exp(logits - top[:, None]).sum(1)) + true / temperature)
        if loss < best_loss:
            best, best_loss = float(temperature), loss
    return best


def _simplicity(name: str) -> tuple[int, int]:
    """Sort key of library prototypes, simplest first: higher space-group number, then fewer atoms per cell."""
    from .library.structures import prototype_space_group, unit_cell

    return -prototype_space_group(name), len(unit_cell(name)[1])


def _orbits(clean: np.ndarray, n_basis: int) -> np.ndarray:
    """(N,) orbit id of every particle of a clean crystal: sites whose features coincide share one."""
    sites = np.arange(len(clean)) % n_basis
    site_means = np.stack([clean[sites == s].mean(0) for s in range(n_basis)])
    scale = max(float(np.abs(site_means).max()), 1e-12)
    _, orbit_of_site = np.unique(np.round(site_means / scale, 3), axis=0, return_inverse=True)
    return orbit_of_site.reshape(-1)[sites]


def build_references(
    model, prototypes=None, seed: int = 0, device=None, progress: bool = True, liquids=None, calibration_liquid=None
) -> References:
    """References of ``model`` for the crystal library and the disordered set (see the module docstring).

    Parameters
    ----------
    model : simssl.model.Encoder
    prototypes : sequence of str or None
        Library prototype names (default: all).
    seed : int
        Seed of every noise draw and liquid.
    device : str or None
        Torch device of the model.
    progress : bool
        Show a progress bar.
    liquids : list of Frame or None
        The disordered references (default: :func:`~simssl.library.liquids.liquid_frames`).
    calibration_liquid : Frame or None
        The liquid of the calibration set (default: a fresh Lennard-Jones liquid).

    Returns
    -------
    References
    """
    from .clustering import kmeans
    from .library.liquids import lennard_jones_liquid, liquid_frames
    from .library.structures import crystal, prototype_names, unit_cell

    names = sorted(prototype_names("all") if prototypes is None else list(prototypes), key=_simplicity)
    featurize = Featurizer(model, device)
    work = tqdm(total=len(names) * (len(REFERENCE_NOISE) + 1) + 2, desc="references", disable=not progress)
    crystal_rows, keys = [], []  # per (prototype, noise): features and (prototype index, level, orbit per row)
    site_orbits = []  # per prototype: the orbit of each basis site
    calibration, calibration_owners = [], []  # per fresh draw: its features and prototype index (-1: liquid)
    for index, name in enumerate(names):
        n_basis = len(unit_cell(name)[1])
        size, clean = _fitting_crystal(name, max(REFERENCE_PARTICLES, 4 * n_basis), featurize, [seed, index, 0])
        orbits = _orbits(clean, n_basis)
        site_orbits.append(orbits[:n_basis])
        for level, noise in enumerate(REFERENCE_NOISE):
            rows = clean if noise == 0 else featurize(crystal(name, size, noise=noise, seed=[seed, index, level]))
            crystal_rows.append(rows)
            keys.append((index, level, orbits))
            work.update()
        calibration.append(featurize(crystal(name, size, noise=CALIBRATION_NOISE, seed=[seed, index, 99])))
        calibration_owners.append(index)
        work.update()
    liquid = np.concatenate([featurize(frame) for frame in (liquid_frames(seed) if liquids is None else liquids)])
    work.update()
    if calibration_liquid is None:
        calibration_liquid = lennard_jones_liquid(density=0.88, temperature=1.1, seed=seed * 100 + 99)
    calibration.append(featurize(calibration_liquid))
    calibration_owners.append(-1)
    work.update()
    work.close()

    everything = np.concatenate([*crystal_rows, liquid])
    mean = everything.mean(0).astype(np.float32)
    std = np.where(everything.std(0) > 0, everything.std(0), 1).astype(np.float32)

    # one center per (prototype, orbit, noise); the spread of each orbit at the resolution noise
    centers, orbit_ids, spreads = [], [], {}
    resolution_level = REFERENCE_NOISE.index(RESOLUTION_NOISE)
    for rows, (index, level, orbits) in zip(crystal_rows, keys):
        z = (rows - mean) / std
        for orbit in np.unique(orbits):
            members = z[orbits == orbit]
            center = members.mean(0)
            centers.append(center)
            orbit_ids.append((index, int(orbit), level))
            if level == resolution_level:
                spreads[index, int(orbit)] = (len(centers) - 1, float(np.sqrt(((members - center) ** 2).sum(1).mean())))
    centers = np.asarray(centers, dtype=np.float32)
    label_of, aliases = _merge_similar_sites(spreads, centers, names)
    kept = sorted({label for label in label_of.values()})
    structure_names = (LIQUID, *(names[i] for i in kept))
    position = {prototype: s + 1 for s, prototype in enumerate(kept)}
    labels = np.array([position[label_of[index, orbit]] for index, orbit, _ in orbit_ids], dtype=np.int32)
    liquid_centers = ((kmeans(liquid, min(LIQUID_CENTERS, len(liquid)), seed=seed)[1] - mean) / std).astype(np.float32)
    centers = np.concatenate([liquid_centers, centers])
    labels = np.concatenate([np.zeros(len(liquid_centers), dtype=np.int32), labels])
    order = np.argsort(labels, kind="stable")
    references = References(
        names=structure_names,
        centers=np.ascontiguousarray(centers[order]),
        labels=labels[order],
        mean=mean,
        std=std,
        temperature=1.0,
        aliases=aliases,
        model=model_identity(model)["sha256"],
    )
    # calibration: every particle of a fresh draw should be named as its site's orbit is
    truth = []
    for rows, index in zip(calibration, calibration_owners):
        if index < 0:
            truth.append(np.zeros(len(rows), dtype=np.int64))
            continue
        orbit_of_row = site_orbits[index][np.arange(len(rows)) % len(site_orbits[index])]
        truth.append(np.array([position[label_of[index, int(orbit)]] for orbit in orbit_of_row], dtype=np.int64))
    temperature = fit_temperature(references.distances(np.concatenate(calibration))[0], np.concatenate(truth))
    return replace(references, temperature=temperature)


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
    label_of : dict
        ``{(prototype index, orbit): prototype index it is reported as}``.
    aliases : dict of str to list of str
        Per prototype with merged sites: the prototypes they are reported as.
    """
    label_of, aliases = {}, {}
    for (index, orbit), (row, spread) in spreads.items():  # simplest prototypes first
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
    return label_of, aliases


def _fitting_crystal(name: str, size: int, featurize, seed) -> tuple[int, np.ndarray]:
    """The clean prototype's size and features, doubling ``size`` until its box holds the model's neighborhoods
    (molecular crystals need more particles)."""
    from .library.structures import crystal

    for _ in range(6):
        try:
            return size, featurize(crystal(name, size, seed=seed))
        except SimsslError:
            size *= 2
    raise SimsslError(f"prototype {name}: no reference crystal of up to {size} particles holds the neighborhoods")


class Featurizer:
    """Raw identification features of a frame: the embedding and its neighbor average, (N, 2 D) float32."""

    def __init__(self, model, device=None, batch_size=None, compile=None):
        self.embedding = Embedding(model, device=device, batch_size=batch_size, compile=compile, average=True)

    def __call__(self, frame, neighborhoods=None) -> np.ndarray:
        columns = self.embedding.compute(frame, neighborhoods)
        return np.concatenate([columns["embedding"], columns["embedding_avg"]], axis=1)


def references_for(model, device=None, progress: bool = True) -> References:
    """The library references of ``model``: shipped (default model), cached, or built now and cached.

    Parameters
    ----------
    model : simssl.model.Encoder
    device : str or None
    progress : bool
        Show a progress bar while building.
    """
    from .library import shipped_references_path

    digest = model_identity(model)["sha256"]
    shipped = shipped_references_path()
    candidates = [shipped, cache_directory() / f"references-{digest[:16]}-v{RECIPE_VERSION}.npz"]
    for path in candidates:
        if path.exists():
            references = References.load(path)
            if references.model == digest:
                return references
    references = build_references(model, device=device, progress=progress)
    try:
        candidates[1].parent.mkdir(parents=True, exist_ok=True)
        references.save(candidates[1])
    except OutputInUse:
        pass  # another process is caching these same references right now
    except OSError as error:
        warnings.warn(f"could not cache the references in {candidates[1]} ({error})", SimsslWarning, stacklevel=2)
    return references


class Identify:
    """Per-particle structure identification: the nearest reference environment of the structure library.

    For every particle: ``structure`` (int32 index into :attr:`structure_names`; 0 is ``"liquid"``),
    ``structure_confidence`` (calibrated probability, float32) and ``structure_distance`` (to the
    nearest reference, in standardized feature units, float32). See this module's docstring for the
    references, the resolution between similar prototypes and the calibration.

    Identification is a stage of a run: :class:`~simssl.compute.Embedding` (``average=True``) ->
    ``Identify(library)`` -> :class:`~simssl.nuclei.Nuclei`; it reads the embedding and its neighbor
    average of the stage before it by name (:func:`identification` builds the three). Given a model
    instead of a library, it is the whole of it in one object: the model's library is loaded on first
    use (shipped, cached or built, see :func:`references_for`) and :meth:`compute` runs the three
    stages on a frame by itself.

    Parameters
    ----------
    library : References or simssl.model.Encoder
        The references, or a loaded encoder (see :func:`simssl.load_model`) for the one-object form.
    references : dict of str to list of Frame, or None
        One-object form: user reference structures, ``{name: frames}`` (every particle of the frames
        is that structure), added to the library's.
    device, batch_size, compile
        One-object form: as in :class:`simssl.compute.Embedding`.
    embedding : bool
        One-object form: also return ``embedding`` (and ``embedding_avg`` with ``average``).
    average : bool
        With ``embedding``: also ``embedding_avg``.
    progress : bool
        Show a progress bar when the library references of a new model are built (minutes, once).

    Attributes
    ----------
    library : References
        The references in use.
    model : simssl.model.Encoder or None
        The one-object form's model.
    stages : list or None
        The one-object form's compute objects (:func:`identification`).
    """

    #: identification reads no neighborhoods itself (its inputs are the embedding and its neighbor average)
    neighbors = None

    def __init__(
        self,
        library,
        references: dict | None = None,
        device: str | None = None,
        batch_size: int | None = None,
        compile: bool | None = None,
        embedding: bool = False,
        average: bool = False,
        progress: bool = True,
    ):
        #: the model of the one-object form (None for a stage)
        self.model = None if isinstance(library, References) else library
        if self.model is None and references:
            raise SimsslError("user references need the model that featurizes them: give Identify the model")
        #: the references in use
        self.library = (
            library if self.model is None else library_for(self.model, references, device=device, progress=progress)
        )
        self.stages = (
            identification(
                self.model,
                self.library,
                device=device,
                batch_size=batch_size,
                compile=compile,
                embedding=embedding,
                average=average,
            )
            if self.model is not None
            else None
        )

    @property
    def requires(self) -> tuple[str, ...]:
        """The quantities of the stage before it that it reads (none in the one-object form)."""
        return () if self.model is not None else ("embedding", "embedding" + AVERAGE_SUFFIX)

    @property
    def structure_names(self) -> tuple[str, ...]:
        """Names of the ``structure`` indices; index 0 is ``"liquid"``."""
        return self.library.names

    @property
    def names(self) -> list[str]:
        """The quantities :meth:`compute` returns (in the one-object form, those of all three stages)."""
        if self.model is not None:
            return [name for stage in self.stages for name in stage.names]
        return list(OUTPUT_NAMES)

    def parameters(self) -> dict:
        """Everything that decides the results (JSON-like), the structure names included (``simssl info`` shows them).

        Returns
        -------
        dict
            ``kind`` (``"Identify"``), ``references`` (sha256 of the references), ``model`` (the sha256 their
            features come from), ``structures``, ``aliases``, ``temperature``; in the one-object form also
            ``stages``, the parameters of the Embedding and Nuclei it runs.
        """
        library = self.library
        record = {
            "kind": "Identify",
            "references": library.digest(),
            "model": library.model,
            "structures": list(library.names),
            "aliases": library.aliases,
            "temperature": library.temperature,
        }
        if self.model is not None:
            record["stages"] = [stage.parameters() for stage in self.stages if stage is not self.stages[1]]
        return record

    def compute(
        self, frame: Frame, neighborhoods: Neighborhoods | None = None, upstream: dict | None = None
    ) -> dict[str, np.ndarray]:
        """The quantities of :attr:`names` for ``frame``.

        Parameters
        ----------
        frame : Frame
        neighborhoods : None
            Not read.
        upstream : dict of str to numpy.ndarray
            ``embedding`` and ``embedding_avg`` (N, D) of this frame (not needed in the one-object form).
        """
        if self.model is not None:
            from .compute import analyze_frame

            return analyze_frame(frame, self.stages)
        missing = [name for name in self.requires if name not in (upstream or {})]
        if missing:
            raise SimsslError(
                f"Identify reads {', '.join(missing)} of an Embedding stage: run it with simssl.analyze_frame(frame, "
                "simssl.identify.identification(model)), or give Identify the model"
            )
        features = np.concatenate([upstream[name] for name in self.requires], axis=1)
        return self.library.classify(features)

    __call__ = compute


def library_for(model, references: dict | None = None, device=None, progress: bool = True) -> References:
    """The model's library references (:func:`references_for`) plus user structures ``{name: frames}``.

    Parameters
    ----------
    model : simssl.model.Encoder
    references : dict of str to list of Frame, or None
        User structures: every particle of the frames is that structure.
    device : str or None
    progress : bool
        Show a progress bar while building the library references of a new model.
    """
    library = references_for(model, device=device, progress=progress)
    if not references:
        return library
    featurize = Featurizer(model, device)
    return library.with_user_references(
        {name: np.concatenate([featurize(frame) for frame in frames]) for name, frames in references.items()}
    )


def identification(
    model,
    library: References | None = None,
    *,
    device=None,
    batch_size=None,
    compile=None,
    embedding: bool = False,
    average: bool = False,
    nuclei: bool = True,
) -> list:
    """The compute objects of structure identification: Embedding -> Identify -> Nuclei.

    Parameters
    ----------
    model : simssl.model.Encoder
    library : References or None
        Default: :func:`library_for` of the model.
    device, batch_size, compile
        As in :class:`simssl.compute.Embedding`.
    embedding : bool
        The run writes ``embedding`` (and ``embedding_avg`` with ``average``) too.
    average : bool
        With ``embedding``: also ``embedding_avg``.
    nuclei : bool
        Also the nuclei of ordered neighbors (:class:`~simssl.nuclei.Nuclei`).

    Returns
    -------
    list
        Run them with :func:`simssl.analyze_frame` or ``simssl.process(..., analyzers=...)``.
    """
    from .compute import Embedding
    from .nuclei import Nuclei

    written = (("embedding", "embedding" + AVERAGE_SUFFIX) if average else ("embedding",)) if embedding else ()
    stages = [
        Embedding(model, device=device, batch_size=batch_size, compile=compile, average=True, publish=written),
        Identify(library_for(model, device=device) if library is None else library),
    ]
    return stages + ([Nuclei()] if nuclei else [])
