"""``simssl plot``: pictures of a processed file, learned order next to q6.

Up to four PNGs: embedding principal components against q6 for the first, middle and last frames;
the fraction of "ordered" particles over time; a 3D snapshot of the last frame; and, for files with
identification (``simssl identify`` or ``simssl process --identify``), the nuclei over time.

The ordered fraction: with identification, the fraction of particles whose identified structure is
not the liquid (``structure > 0``), next to the q6 threshold fraction and, where OVITO is installed,
the fraction OVITO's polyhedral template matching (PTM, default settings) does not call "Other".
Without identification, the fraction in k-means clusters of the embeddings whose mean q6 is high,
next to the q6 threshold fraction. :func:`order_series` gives the numbers without pictures.

The q6 threshold fits the quantity present (:func:`q6_rule`): Lechner-Dellago ``q6_avg`` above 0.35
by default; raw ``q6`` has no default, because its values in liquids and crystals overlap (a
Lennard-Jones liquid is half above 0.35), so without ``--q6-threshold`` no q6 fraction is drawn
and the figure says why.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np

from .atomic import refuse_overwrite
from .clustering import MIN_SILHOUETTE, choose_clusters, kmeans, principal_components
from .defaults import LOG_PREFIX, PLOT_MAX_CLUSTERS, Q6_AVG_THRESHOLD
from .errors import SimsslError
from .figures import pyplot, save_figure
from .locking import locked


@dataclass
class Processed:
    """Per-frame quantities of a processed file (and the last frame's positions for snapshots).

    Attributes
    ----------
    steps : numpy.ndarray
        (frames,) timestep of every frame.
    columns : dict of str to list of numpy.ndarray
        Per quantity name, one (N, ...) array per frame.
    last_positions : numpy.ndarray or None
        (N, 3) positions of the last frame (GSD files only).
    structure_names : tuple of str or None
        Names of the ``structure`` indices (index 0 is ``"liquid"``), from the run record of a file
        with identification; None otherwise.
    positions : list of numpy.ndarray or None
        (N, 3) positions of every frame (None when the file holds none).
    boxes : numpy.ndarray or None
        (frames, 6) boxes ``[Lx, Ly, Lz, xy, xz, yz]`` (GSD/HOOMD convention) of every frame.
    """

    steps: np.ndarray
    columns: dict[str, list[np.ndarray]]
    last_positions: np.ndarray | None
    structure_names: tuple[str, ...] | None = None
    positions: list[np.ndarray] | None = None
    boxes: np.ndarray | None = None


def load_processed(path) -> Processed:
    """Read a ``simssl process`` output (.gsd or .npz).

    Parameters
    ----------
    path : str or PathLike
        The processed file.

    Returns
    -------
    Processed

    Raises
    ------
    SimsslError
        If the file is missing, of another format, unreadable, or holds no simssl quantities.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise SimsslError(f"{path}: no such file")
    try:
        if path.lower().endswith(".npz"):
            return _current_names(_load_npz(path))
        if path.lower().endswith(".gsd"):
            return _current_names(_load_gsd(path))
    except SimsslError:
        raise
    except Exception as error:
        raise SimsslError(f"{path}: not a readable simssl output ({error})") from None
    raise SimsslError(f"{path}: simssl plot reads the .gsd or .npz files that simssl process writes")


#: quantities renamed since they were first written: old name -> name (files of 0.2 stay readable)
RENAMED = {"cluster": "nucleus"}


def _current_names(processed: Processed) -> Processed:
    """``processed`` with quantities of an older release under their current names (:data:`RENAMED`)."""
    for old, new in RENAMED.items():
        if old in processed.columns and new not in processed.columns:
            processed.columns[new] = processed.columns.pop(old)
    return processed


def _load_gsd(path: str) -> Processed:
    import gsd.hoomd

    with gsd.hoomd.open(path, "r") as trajectory:
        frames = list(trajectory)
    if not frames:
        raise SimsslError(f"{path}: has no frames")
    # simssl process writes particles/simssl/<name>; HOOMD's logger, particles/simssl/plugins/hoomd/OrderAnalyzer/<name>
    keys = {key.rsplit("/", 1)[-1]: key for key in frames[0].log if key.startswith(LOG_PREFIX)}
    if not keys:
        raise SimsslError(
            f"{path}: holds no simssl quantities (particles/simssl/...); was it written by simssl process?"
        )
    from .io.writers import read_fingerprint

    columns = {name: [np.asarray(f.log[key]) for f in frames] for name, key in keys.items()}
    positions = [np.asarray(f.particles.position, dtype=np.float32) for f in frames]
    return Processed(
        np.array([f.configuration.step for f in frames]),
        columns,
        positions[-1],
        _structure_names(read_fingerprint(frames[0].log)),
        positions,
        np.array([np.asarray(f.configuration.box, dtype=np.float64) for f in frames]),
    )


def _structure_names(record: dict | None) -> tuple[str, ...] | None:
    """The ``structure`` names of a run record with identification (None without)."""
    for item in (record or {}).get("analyzers", []):
        if item.get("kind") == "Identify":
            return tuple(item["structures"])
    return None


def _load_npz(path: str) -> Processed:
    from .io.writers import PER_PARTICLE_META

    data = np.load(path)
    offsets = data["frame_offsets"]
    # per frame, or the file's own data (positions, types, ids, type names): not quantities
    skip = {"step", "frame", "n_particles", "box", "layout", "frame_offsets", "fingerprint", "type_names"}
    ragged = str(data["layout"]) == "ragged"
    columns = {}
    for name in (key for key in data.files if key not in skip):
        values = data[name]
        columns[name] = (
            [values[offsets[i] : offsets[i + 1]] for i in range(len(offsets) - 1)] if ragged else list(values)
        )
    record = json.loads(str(data["fingerprint"])) if "fingerprint" in data.files else None
    positions = columns.pop("positions", None)  # every frame's: PTM, and the last one's snapshot
    for name in PER_PARTICLE_META:
        columns.pop(name, None)
    boxes = np.asarray(data["box"], dtype=np.float64) if positions is not None and "box" in data.files else None
    last = None if positions is None else np.asarray(positions[-1], dtype=np.float32)
    return Processed(data["step"], columns, last, _structure_names(record), positions, boxes)


@dataclass(frozen=True)
class Q6Rule:
    """Which q6 the ordered fractions read, and the threshold above which a particle counts as ordered.

    Attributes
    ----------
    name : str or None
        ``"q6_avg"``, ``"q6"``, or None when the file holds neither.
    threshold : float or None
        None: no q6 fraction is computed or drawn (raw q6 without an explicit threshold, or no q6).
    words : str
        What is drawn and why, for figures and the command line: ``"q6_avg > 0.35"`` or the reason
        there is no q6 curve.
    """

    name: str | None
    threshold: float | None
    words: str


#: why raw q6 gets no default threshold (figures, the command line, the README)
RAW_Q6_WORDS = (
    "no q6 curve: this file holds raw q6, whose values in liquids and crystals overlap (no threshold separates "
    f"them); process with --average for q6_avg (threshold {Q6_AVG_THRESHOLD}), or set one with --q6-threshold"
)


def q6_rule(columns, q6_threshold: float | None = None) -> Q6Rule:
    """The q6 and threshold that fit a file: ``q6_avg`` > 0.35 by default; raw ``q6`` only when a threshold is given.

    Parameters
    ----------
    columns : collection of str
        The file's quantities (:attr:`Processed.columns`).
    q6_threshold : float or None
        A threshold in (0, 1); None: the default for ``q6_avg`` (:data:`~simssl.defaults.Q6_AVG_THRESHOLD`),
        none for raw ``q6``.

    Returns
    -------
    Q6Rule

    Raises
    ------
    SimsslError
        For a threshold outside (0, 1) (q6 lies in [0, 1]; 0 and 1 would count every or no
        particle), or one given for a file without q6.
    """
    if q6_threshold is not None and not 0 < q6_threshold < 1:  # NaN fails both comparisons
        raise SimsslError(
            f"--q6-threshold {q6_threshold} (q6_threshold=) must lie between 0 and 1: q6 does, and 0 or 1 would "
            "call every particle or none ordered"
        )
    name = _q6_name(columns)
    if name is None:
        if q6_threshold is not None:
            raise SimsslError(
                "--q6-threshold (q6_threshold=) would be ignored: the file holds no q6 (process with --steinhardt "
                "including 6)"
            )
        return Q6Rule(None, None, "no q6 in this file")
    if name == "q6" and q6_threshold is None:
        return Q6Rule(name, None, RAW_Q6_WORDS)
    threshold = Q6_AVG_THRESHOLD if q6_threshold is None else float(q6_threshold)
    return Q6Rule(name, threshold, f"{name} > {threshold:g}")


def order_fractions(
    processed: Processed, n_clusters: int | None = None, q6_threshold: float | None = None, seed: int = 0
) -> dict:
    """Per frame: the fraction of particles above the q6 threshold, and in embedding clusters called ordered.

    The embeddings are clustered with k-means into ``n_clusters`` clusters, or, by default, into as
    many as the data support (:func:`~simssl.clustering.choose_clusters`: the best silhouette of
    2-4 clusters, or one cluster when no split is clear, as for a liquid or a single crystal). A
    cluster is called ordered when its mean q6 (``q6_avg`` if stored) is above the threshold of
    :func:`q6_rule`: the embeddings find the populations, the q6 threshold names them. No cluster
    count is forced on the data, so a perfect crystal is all ordered and a liquid all disordered.
    Without a threshold (raw q6 only) no cluster is named; each cluster's share is given instead.

    Parameters
    ----------
    processed : Processed
        The file's quantities; uses ``q6_avg`` (else ``q6``) and ``embedding`` when present.
    n_clusters : int or None
        k-means clusters, 1 to :data:`~simssl.defaults.PLOT_MAX_CLUSTERS` (and at most the particles);
        None chooses from the data.
    q6_threshold : float or None
        Particles (and clusters, by their mean) with q6 above it count as ordered (:func:`q6_rule`).
    seed : int
        Seed of k-means, the silhouette sample and the PCA.

    Returns
    -------
    dict
        ``q6_name`` (str or None) and ``q6_rule`` (:class:`Q6Rule`); with a threshold, ``q6``:
        (frames,) fractions; with embeddings, ``n_clusters``, ``silhouettes`` ({count: score},
        empty when forced), ``labels`` (one (N,) int32 array per frame), ``components`` (all
        particles, 2) float32, ``component_bounds`` (frames + 1,); with more than one cluster,
        ``shares`` ((frames, clusters): the fraction of particles in each), with q6 ``cluster_q6``
        (mean q6 per cluster), and with a threshold ``ordered_clusters`` (list of int) and
        ``clusters``: (frames,) fractions of particles in ordered clusters.

    Raises
    ------
    SimsslError
        For ``n_clusters`` out of range or given for a file without embeddings, and as :func:`q6_rule`.
    """
    rule = q6_rule(processed.columns, q6_threshold)
    q6_name = rule.name
    result = {"q6_name": q6_name, "q6_rule": rule}
    _check_clusters(processed, n_clusters)
    if rule.threshold is not None:
        result["q6"] = np.array([np.mean(q > rule.threshold) for q in processed.columns[q6_name]])
    if "embedding" in processed.columns:
        embeddings = np.concatenate(processed.columns["embedding"])
        if n_clusters is None:
            n_clusters, result["silhouettes"] = choose_clusters(embeddings, seed=seed)
        else:
            result["silhouettes"] = {}
        labels = kmeans(embeddings, n_clusters, seed=seed)[0] if n_clusters > 1 else np.zeros(len(embeddings), np.int32)
        result["n_clusters"] = n_clusters
        bounds = np.cumsum([0] + [len(e) for e in processed.columns["embedding"]])
        result["labels"] = [labels[bounds[i] : bounds[i + 1]] for i in range(len(bounds) - 1)]
        result["components"] = principal_components(embeddings, 2, seed=seed)
        result["component_bounds"] = bounds
        if n_clusters > 1:  # one cluster: the embeddings separate no populations, so they name none
            result["shares"] = np.array([np.bincount(l, minlength=n_clusters) / len(l) for l in result["labels"]])
        if q6_name and n_clusters > 1:
            q6 = np.concatenate(processed.columns[q6_name])
            means = [float(q6[labels == c].mean()) if np.any(labels == c) else float("nan") for c in range(n_clusters)]
            result["cluster_q6"] = means
        if rule.threshold is not None and n_clusters > 1:
            result["ordered_clusters"] = [c for c, mean in enumerate(result["cluster_q6"]) if mean > rule.threshold]
            result["clusters"] = np.array([np.isin(l, result["ordered_clusters"]).mean() for l in result["labels"]])
    return result


def _check_clusters(processed: Processed, n_clusters: int | None) -> None:
    """Refuse a cluster count that cannot be drawn, or one given for a file without embeddings (it would be ignored)."""
    if n_clusters is None:
        return
    if "embedding" not in processed.columns:
        raise SimsslError(
            "--clusters (n_clusters=) would be ignored: it groups embeddings, and the file holds none "
            "(process with --model to add them)"
        )
    most = min(PLOT_MAX_CLUSTERS, sum(len(e) for e in processed.columns["embedding"]))
    if not 1 <= n_clusters <= most:
        raise SimsslError(f"--clusters {n_clusters} (n_clusters=) must be between 1 and {most}")


#: the PNGs :func:`plot` writes, as suffixes of the processed file's name (the nuclei picture only
#: for files with identification)
PICTURES = ("_embedding_vs_q6.png", "_order_fraction.png", "_snapshot.png", "_nuclei.png")


def _q6_name(columns: dict) -> str | None:
    """The q6 column the fractions use: ``q6_avg`` if stored, else ``q6``, else None."""
    return "q6_avg" if "q6_avg" in columns else "q6" if "q6" in columns else None


def order_series(processed, q6_threshold: float | None = None, ptm: bool = True) -> dict:
    """Per frame: how much of the system is ordered (by identification, by q6, by PTM) and its nuclei.

    The numbers behind the order-fraction and nuclei pictures of :func:`plot` (and the table of
    ``simssl plot``), without pictures.

    Parameters
    ----------
    processed : Processed, str or PathLike
        The file's quantities, or the file (read with :func:`load_processed`).
    q6_threshold : float or None
        Particles with q6 (``q6_avg`` if stored) above it count as ordered in the ``q6`` series
        (:func:`q6_rule`: None is 0.35 for ``q6_avg`` and no series for raw ``q6``).
    ptm : bool
        Compute the ``ptm`` series (needs OVITO and the file's positions and boxes).

    Returns
    -------
    dict of str to numpy.ndarray or None
        Each (frames,): ``steps``; ``identified``, the fraction of particles whose identified
        structure is not the liquid (``structure > 0``; None without identification); ``q6``, the
        fraction above the threshold (None without one, see :func:`q6_rule`); ``ptm``, the fraction that OVITO's
        polyhedral template matching with default settings does not call "Other" (None without
        ovito, without positions or with ``ptm=False``, see :func:`ptm_fractions`);
        ``other``, the fraction identified as like none of the references (``structure == -1``; None without
        identification); ``largest_nucleus``, the largest nucleus in particles, and ``n_nuclei``, the number of
        nuclei (:func:`simssl.nuclei.order_summary`; None without ``nucleus``).
    """
    if not isinstance(processed, Processed):
        processed = load_processed(processed)
    columns = processed.columns
    rule = q6_rule(columns, q6_threshold)
    result = {
        "steps": np.asarray(processed.steps, dtype=np.int64),
        "identified": (
            np.array([np.mean(s > 0) if len(s) else 0.0 for s in columns["structure"]])
            if "structure" in columns
            else None
        ),
        "other": (
            np.array([np.mean(s < 0) if len(s) else 0.0 for s in columns["structure"]])
            if "structure" in columns
            else None
        ),
        "q6": None if rule.threshold is None else np.array([np.mean(q > rule.threshold) for q in columns[rule.name]]),
        "ptm": ptm_fractions(processed) if ptm else None,
        "largest_nucleus": None,
        "n_nuclei": None,
    }
    if "nucleus" in columns:
        from .nuclei import order_summary

        structures = columns.get("structure") or [c >= 0 for c in columns["nucleus"]]
        summaries = [order_summary(s, c) for s, c in zip(structures, columns["nucleus"])]
        for name in ("largest_nucleus", "n_nuclei"):
            result[name] = np.array([summary[name] for summary in summaries], dtype=np.int64)
    return result


def ptm_fractions(processed: Processed) -> np.ndarray | None:
    """(frames,) fraction of particles OVITO's PTM does not call "Other"; None where it cannot run.

    OVITO's ``PolyhedralTemplateMatchingModifier`` with its default settings (FCC, HCP and BCC
    templates, RMSD cutoff 0.1), on the positions and box of every frame.

    Parameters
    ----------
    processed : Processed
        Needs ``positions`` and ``boxes`` (both stored by ``simssl process`` in .gsd and .npz files) of
        three-dimensional boxes.

    Returns
    -------
    numpy.ndarray or None
        None when the ``ovito`` module cannot be imported or the file holds no 3D positions.
    """
    if processed.positions is None or processed.boxes is None or np.any(processed.boxes[:, 2] == 0):
        return None
    try:
        from ovito.modifiers import PolyhedralTemplateMatchingModifier
    except (ImportError, OSError):  # not installed, or installed without its shared libraries
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
    import freud
    from ovito.data import DataCollection
    from ovito.modifiers import PolyhedralTemplateMatchingModifier

    matrix = np.asarray(freud.box.Box.from_box(box).to_matrix(), dtype=np.float64)
    data = DataCollection()
    data.create_cell(np.column_stack([matrix, -0.5 * matrix.sum(axis=1)]), pbc=(True, True, True))  # centered
    data.create_particles(count=len(positions)).create_property("Position", data=positions)
    data.apply(PolyhedralTemplateMatchingModifier())
    return np.asarray(data.particles["Structure Type"])


#: file extensions of pictures: an ``out_dir`` ending in one is a file name given where a directory is asked for
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".pdf", ".svg")


def plot(
    path,
    out_dir=None,
    n_clusters: int | None = None,
    q6_threshold: float | None = None,
    seed: int = 0,
    force: bool = True,
    series: dict | None = None,
) -> list[str]:
    """Render the PNGs for a processed file; returns their paths (written atomically, next to the file by default).

    Options are checked, and with ``force=False`` existing pictures refused, before anything is
    computed or drawn.

    Parameters
    ----------
    path : str or PathLike
        A ``simssl process`` or ``simssl identify`` output (.gsd or .npz).
    out_dir : str, PathLike or None
        Directory of the pictures (created if needed; default: the file's folder). It is always a
        directory, since up to four pictures are written, each named after the file; a name ending
        in a picture extension (``x.png``) is refused.
    n_clusters, q6_threshold, seed
        As in :func:`order_fractions` (``q6_threshold`` also as in :func:`order_series`; see :func:`q6_rule`).
    force : bool
        Overwrite existing pictures.
    series : dict or None
        The file's :func:`order_series` (with ``q6_threshold``), to reuse numbers already computed
        (PTM takes a while on large files); computed when needed and None.

    Returns
    -------
    list of str
        The pictures written, named after the file with the :data:`PICTURES` suffixes, in that
        order: the embedding-vs-q6 picture when the file holds q6 or embeddings, the order
        fraction, the snapshot of the last frame when the file holds positions (.gsd, and .npz
        from ``simssl process``), and the nuclei for files with identification (``nucleus``).

    Raises
    ------
    SimsslError
        For an unreadable file or one without q6, embeddings or identification, an ``out_dir``
        named like a picture, options out of range or that would be ignored (:func:`order_fractions`),
        and existing pictures without ``force``.
    """
    processed = load_processed(path)
    stem, wanted = planned_pictures(path, processed, out_dir, n_clusters, q6_threshold, force)
    if out_dir is not None:
        try:
            os.makedirs(out_dir, exist_ok=True)
        except OSError as error:
            raise SimsslError(f"{out_dir}: cannot create the output directory ({error.strerror})") from None
    pictures = [stem + suffix for suffix in PICTURES if wanted[suffix]]
    with locked(*pictures):  # held until every picture is written: a second plot of them is refused
        for picture in pictures:
            refuse_overwrite(picture, force)
        return _draw(processed, stem, wanted, n_clusters, q6_threshold, seed, series)


def _draw(processed, stem: str, wanted: dict, n_clusters, q6_threshold, seed: int, series) -> list[str]:
    """Compute and write the pictures of :func:`plot` (options already checked, outputs locked)."""
    plt = pyplot()
    columns = processed.columns
    q6_name = _q6_name(columns)
    identified = "structure" in columns
    fractions = order_fractions(processed, n_clusters, q6_threshold, seed)
    n_clusters = fractions.get("n_clusters", 1)
    if series is None and (identified or "nucleus" in columns):
        series = order_series(processed, q6_threshold)
    written = []
    n_frames = len(processed.steps)
    shown = sorted({0, n_frames // 2, n_frames - 1})

    if wanted[PICTURES[0]]:
        figure, axes = plt.subplots(
            1, len(shown), figsize=(4.2 * len(shown), 3.8), squeeze=False, sharex=True, sharey=True
        )
        for axis, index in zip(axes[0], shown):
            if "components" in fractions:
                bounds = fractions["component_bounds"]
                pc1 = fractions["components"][bounds[index] : bounds[index + 1], 0]
                y = (
                    columns[q6_name][index]
                    if q6_name
                    else fractions["components"][bounds[index] : bounds[index + 1], 1]
                )
                axis.scatter(
                    pc1,
                    y,
                    c=fractions["labels"][index],
                    s=2,
                    cmap="coolwarm",
                    vmin=0,
                    vmax=max(n_clusters - 1, 1),
                    rasterized=True,
                )
                axis.set_xlabel("embedding PC1")
                axis.set_ylabel(q6_name or "embedding PC2")
            elif q6_name:
                axis.hist(columns[q6_name][index], bins=60, color="tab:blue")
                axis.set_xlabel(q6_name)
                axis.set_ylabel("particles")
            axis.set_title(f"frame {index} (step {processed.steps[index]})")
        if "components" in fractions:
            figure.suptitle(
                f"learned order (embedding PC1, colored by {_cluster_words(fractions)}) vs " + (q6_name or "PC2")
            )
        else:
            figure.suptitle(f"{q6_name} per particle (no embeddings in this file: process with --model to add them)")
        written.append(save_figure(figure, stem + PICTURES[0]))

    written.append(save_figure(order_fraction_figure(processed, fractions, series), stem + PICTURES[1]))

    if wanted[PICTURES[2]]:
        written.append(save_figure(snapshot_figure(processed, fractions), stem + PICTURES[2]))

    if wanted[PICTURES[3]]:
        figure, axis = plt.subplots(figsize=(6, 4))
        n_particles = len(columns["nucleus"][-1])
        largest = axis.plot(processed.steps, series["largest_nucleus"], "o-", color="tab:red", label="largest nucleus")
        axis.set_xlabel("step")
        axis.set_ylabel("largest nucleus (particles)", color="tab:red")
        axis.set_ylim(0, max(1, int(series["largest_nucleus"].max())) * 1.05)
        twin = axis.twinx()
        count = twin.plot(processed.steps, series["n_nuclei"], "s--", color="tab:gray", label="number of nuclei")
        twin.set_ylabel("number of nuclei", color="tab:gray")
        twin.set_ylim(0, max(1, int(series["n_nuclei"].max())) * 1.05)
        axis.legend(handles=largest + count, fontsize=8, loc="center right")
        axis.set_title(
            f"nuclei: clusters of neighboring ordered particles (structure > 0), {n_particles} particles", fontsize=9
        )
        written.append(save_figure(figure, stem + PICTURES[3]))
    return written


def planned_pictures(
    path, processed: Processed, out_dir=None, n_clusters=None, q6_threshold=None, force: bool = True
) -> tuple[str, dict[str, bool]]:
    """What :func:`plot` will write, after refusing everything it would refuse (before anything slow is done).

    Parameters
    ----------
    path : str or PathLike
        The processed file.
    processed : Processed
        Its quantities (:func:`load_processed`).
    out_dir, n_clusters, q6_threshold, force
        As in :func:`plot`.

    Returns
    -------
    stem : str
        The pictures' path without the :data:`PICTURES` suffix.
    wanted : dict of str to bool
        Per suffix, whether that picture is drawn.

    Raises
    ------
    SimsslError
        As :func:`plot` does, but for reading and drawing.
    """
    if out_dir is not None and os.path.splitext(os.fspath(out_dir))[1].lower() in IMAGE_EXTENSIONS:
        raise SimsslError(
            f"{out_dir}: -o (out_dir=) is the directory of the pictures, not a picture: simssl plot writes up to "
            "four PNGs, each named after the input; give a directory, e.g. -o figures"
        )
    columns = processed.columns
    if not {"q6", "q6_avg", "embedding", "structure"} & set(columns):
        raise SimsslError(
            f"{path}: holds {', '.join(columns)} but neither q6 nor embeddings nor identified structures, which "
            "simssl plot draws; process it with --steinhardt including 6, with --model, or with simssl identify"
        )
    rule = q6_rule(columns, q6_threshold)
    _check_clusters(processed, n_clusters)
    stem = os.path.join(out_dir or os.path.dirname(os.path.abspath(path)), os.path.splitext(os.path.basename(path))[0])
    wanted = {
        PICTURES[0]: bool(rule.name) or "embedding" in columns,
        PICTURES[1]: True,
        PICTURES[2]: processed.last_positions is not None,
        PICTURES[3]: "nucleus" in columns,
    }
    for suffix in PICTURES:
        if wanted[suffix]:
            refuse_overwrite(stem + suffix, force)
    return stem, wanted


def _wrapped_words(text: str, width: int = 90) -> str:
    """``text`` broken into lines of at most ``width`` characters, for notes on figures."""
    import textwrap

    return "\n".join(textwrap.wrap(text, width))


def order_fraction_figure(processed: Processed, fractions: dict, series: dict | None = None):
    """The ordered fraction over time: identified (with PTM next to it) or by embedding cluster, and by q6.

    The q6 curve follows :func:`q6_rule`; where there is none (raw q6 without a threshold) the
    figure says why. Without identification, embedding clusters are named ordered by their mean
    q6, or, without a threshold, each cluster's share is drawn.

    Parameters
    ----------
    processed : Processed
    fractions : dict
        :func:`order_fractions` of the file.
    series : dict or None
        :func:`order_series` of the file (needed with identification).

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = pyplot()
    rule, q6_name = fractions["q6_rule"], fractions["q6_name"]
    figure, axis = plt.subplots(figsize=(6, 4))
    threshold = rule.threshold
    if "structure" in processed.columns:  # identification names the ordered particles: no k-means fraction here
        axis.plot(processed.steps, series["identified"], "o-", label="identified ordered (structure > 0)")
        if series["other"] is not None and np.any(series["other"] > 0):
            axis.plot(processed.steps, series["other"], "x-", color="tab:purple", label="other: like no reference")
        if series["q6"] is not None:
            axis.plot(processed.steps, series["q6"], "s--", label=f"per particle: {rule.words}")
        if series["ptm"] is not None:
            axis.plot(processed.steps, series["ptm"], "^:", label="PTM (OVITO defaults): not 'Other'")
    else:
        if "clusters" in fractions:
            axis.plot(
                processed.steps,
                fractions["clusters"],
                "o-",
                label=f"in {_cluster_words(fractions)} with mean {q6_name} > {threshold:g}",
            )
        elif "shares" in fractions:  # clusters, but no threshold to name them: each one's share
            for cluster, share in enumerate(fractions["shares"].T):
                mean = fractions.get("cluster_q6")
                axis.plot(
                    processed.steps,
                    share,
                    "o-",
                    label=f"embedding cluster {cluster}" + (f" (mean {q6_name} {mean[cluster]:.2f})" if mean else ""),
                )
            axis.set_ylabel("fraction of particles in each embedding cluster")
        if "q6" in fractions:
            axis.plot(processed.steps, fractions["q6"], "s--", label=f"per particle: {rule.words}")
        if fractions.get("n_clusters") == 1:
            axis.text(
                0.02, 0.97, f"embeddings: {_cluster_words(fractions)}", transform=axis.transAxes, fontsize=7, va="top"
            )
    if threshold is None and q6_name:  # say on the figure why there is no q6 curve
        axis.text(0.02, 0.02, _wrapped_words(rule.words), transform=axis.transAxes, fontsize=7, va="bottom")
    axis.set_xlabel("step")
    if not axis.get_ylabel():
        axis.set_ylabel("fraction of particles called ordered")
    axis.set_ylim(-0.02, 1.02)
    if axis.get_legend_handles_labels()[0]:
        axis.legend(fontsize=8)
    return figure


def snapshot_figure(processed: Processed, fractions: dict):
    """The snapshot: the middle slab of the last frame in 3D, to scale, colored by structure, cluster or q6.

    Lengths are equal on all three axes (the box aspect is the slab's extent), the axes are
    labeled, and a colorbar (q6, clusters) or legend (structures) says what the colors mean.

    Parameters
    ----------
    processed : Processed
        Needs :attr:`Processed.last_positions`.
    fractions : dict
        :func:`order_fractions` of the file (cluster labels, the q6 rule).

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = pyplot()
    columns, positions = processed.columns, processed.last_positions
    figure = plt.figure(figsize=(6.2, 5.2))
    axis = figure.add_subplot(projection="3d")
    slab = middle_slab(positions)
    shown = positions[slab]
    x, y, z = shown.T
    q6_name, n_clusters = fractions.get("q6_name"), fractions.get("n_clusters", 1)
    if "structure" in columns:
        _scatter_structures(axis, (x, y, z), columns["structure"][-1][slab], processed.structure_names)
        words = "identified structure"
    elif n_clusters > 1:
        points = axis.scatter(
            x,
            y,
            z,
            c=fractions["labels"][-1][slab],
            s=4,
            cmap="coolwarm",
            vmin=0,
            vmax=n_clusters - 1,
            depthshade=False,
            rasterized=True,
        )
        figure.colorbar(points, ax=axis, shrink=0.6, pad=0.1, ticks=range(n_clusters), label="embedding cluster")
        words = "embedding cluster"
    elif q6_name:
        points = axis.scatter(
            x, y, z, c=np.asarray(columns[q6_name][-1])[slab], s=4, cmap="viridis", depthshade=False, rasterized=True
        )
        figure.colorbar(points, ax=axis, shrink=0.6, pad=0.1, label=q6_name)
        words = q6_name
    else:
        axis.scatter(x, y, z, s=4, color="tab:blue", depthshade=False, rasterized=True)
        words = f"nothing ({_cluster_words(fractions)})"
    low, high = shown.min(axis=0), shown.max(axis=0)
    extent = np.maximum(high - low, 1e-6 * max(float((high - low).max()), 1e-12))
    for set_limits, a, b in zip((axis.set_xlim, axis.set_ylim, axis.set_zlim), low, low + extent):
        set_limits(a, b)
    axis.set_box_aspect(extent)  # one length unit is as long on every axis
    axis.set_xlabel("x")
    axis.set_ylabel("y")
    axis.set_zlabel("z")
    axis.set_title(
        f"last frame (step {processed.steps[-1]}), middle slab ({slab.sum()} of {len(slab)} particles),"
        "\ncolored by " + words,
        fontsize=9,
    )
    return figure


#: most structures the snapshot's legend names one by one (the rarer ones share a color)
SNAPSHOT_STRUCTURES = 7
_STRUCTURE_COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:brown", "tab:pink", "tab:olive")


def _scatter_structures(axis, xyz, structure: np.ndarray, names) -> None:
    """Scatter particles colored by identified structure (liquid faint gray, ``other`` (-1) purple), with a legend."""
    x, y, z = xyz
    structure = np.asarray(structure)

    def name(index: int) -> str:
        if index == -1:
            return "other"
        return names[index] if names is not None and 0 <= index < len(names) else f"structure {index}"

    present, counts = np.unique(structure, return_counts=True)
    ordered = [(count, index) for index, count in zip(present, counts) if index > 0]
    ordered.sort(key=lambda item: (-item[0], item[1]))
    groups = []
    if 0 in present:
        groups.append((structure == 0, f"{name(0)} ({np.sum(structure == 0)})", "lightgray", 0.3))
    if -1 in present:
        groups.append((structure == -1, f"other ({np.sum(structure == -1)})", "tab:purple", 0.6))
    for rank, (count, index) in enumerate(ordered[:SNAPSHOT_STRUCTURES]):
        groups.append((structure == index, f"{name(index)} ({count})", _STRUCTURE_COLORS[rank], 1.0))
    rest = [index for _, index in ordered[SNAPSHOT_STRUCTURES:]]
    if rest:
        chosen = np.isin(structure, rest)
        groups.append((chosen, f"{len(rest)} other structures ({chosen.sum()})", "black", 1.0))
    for chosen, label, color, alpha in groups:
        axis.scatter(
            x[chosen],
            y[chosen],
            z[chosen],
            s=4,
            color=color,
            alpha=alpha,
            label=label,
            depthshade=False,
            rasterized=True,
        )
    axis.legend(fontsize=7, markerscale=3, loc="upper left", title="structure (particles)", title_fontsize=7)


#: share of the z extent shown by the snapshot (a slab through the middle, so the inside is visible)
SLAB = 0.2


def middle_slab(positions: np.ndarray) -> np.ndarray:
    """(N,) bool: the particles within the middle :data:`SLAB` of the z extent (all of them for small frames)."""
    z = positions[:, 2]
    if len(z) <= 2000:
        return np.ones(len(z), dtype=bool)
    middle, half = (z.max() + z.min()) / 2, SLAB * (z.max() - z.min()) / 2
    return np.abs(z - middle) <= half


def _cluster_words(fractions: dict) -> str:
    """How the embedding clusters were chosen, for titles and legends."""
    count, scores = fractions["n_clusters"], fractions.get("silhouettes", {})
    if not scores:
        return f"{count} k-means cluster(s) (--clusters {count})"
    best = max(scores.values())
    if count == 1:
        return f"one cluster (no clear split: best silhouette {best:.2f} < {MIN_SILHOUETTE})"
    return f"{count} embedding clusters (silhouette {best:.2f})"
