"""``simssl plot``: pictures of a processed file, learned order next to q6.

Three PNGs: embedding principal components against q6 for the first, middle and last frames; the
fraction of "ordered" particles over time, once from k-means clusters of the embeddings and once
from a q6 threshold; and a 3D snapshot of the last frame colored by cluster id.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from .atomic import refuse_overwrite
from .clustering import MIN_SILHOUETTE, choose_clusters, kmeans, principal_components
from .defaults import LOG_PREFIX
from .errors import SimsslError
from .figures import pyplot, save_figure


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
    """

    steps: np.ndarray
    columns: dict[str, list[np.ndarray]]
    last_positions: np.ndarray | None


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
            return _load_npz(path)
        if path.lower().endswith(".gsd"):
            return _load_gsd(path)
    except SimsslError:
        raise
    except Exception as error:
        raise SimsslError(f"{path}: not a readable simssl output ({error})") from None
    raise SimsslError(f"{path}: simssl plot reads the .gsd or .npz files that simssl process writes")


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
    columns = {name: [np.asarray(f.log[key]) for f in frames] for name, key in keys.items()}
    return Processed(
        np.array([f.configuration.step for f in frames]), columns, np.asarray(frames[-1].particles.position)
    )


def _load_npz(path: str) -> Processed:
    data = np.load(path)
    offsets = data["frame_offsets"]
    skip = {"step", "frame", "n_particles", "box", "layout", "frame_offsets", "fingerprint"}  # not per particle
    ragged = str(data["layout"]) == "ragged"
    columns = {}
    for name in (key for key in data.files if key not in skip):
        values = data[name]
        columns[name] = (
            [values[offsets[i] : offsets[i + 1]] for i in range(len(offsets) - 1)] if ragged else list(values)
        )
    return Processed(data["step"], columns, None)


def order_fractions(
    processed: Processed, n_clusters: int | None = None, q6_threshold: float = 0.35, seed: int = 0
) -> dict:
    """Per frame: the fraction of particles above the q6 threshold, and in embedding clusters called ordered.

    The embeddings are clustered with k-means into ``n_clusters`` clusters, or, by default, into as
    many as the data support (:func:`~simssl.clustering.choose_clusters`: the best silhouette of
    2-4 clusters, or one cluster when no split is clear, as for a liquid or a single crystal). A
    cluster is called ordered when its mean q6 (``q6_avg`` if stored) is above ``q6_threshold``:
    the embeddings find the populations, the q6 threshold names them. No cluster count is forced
    on the data, so a perfect crystal is all ordered and a liquid all disordered.

    Parameters
    ----------
    processed : Processed
        The file's quantities; uses ``q6_avg`` (else ``q6``) and ``embedding`` when present.
    n_clusters : int or None
        k-means clusters; None chooses from the data.
    q6_threshold : float
        Particles (and clusters, by their mean) with q6 above it count as ordered.
    seed : int
        Seed of k-means, the silhouette sample and the PCA.

    Returns
    -------
    dict
        ``q6_name`` (str or None); with q6, ``q6``: (frames,) fractions; with embeddings,
        ``n_clusters``, ``silhouettes`` ({count: score}, empty when forced), ``labels`` (one (N,)
        int32 array per frame), ``components`` (all particles, 2) float32, ``component_bounds``
        (frames + 1,); with both and more than one cluster, ``ordered_clusters`` (list of int),
        ``cluster_q6`` (mean q6 per cluster) and ``clusters``: (frames,) fractions of particles in
        ordered clusters.
    """
    q6_name = "q6_avg" if "q6_avg" in processed.columns else "q6" if "q6" in processed.columns else None
    result = {"q6_name": q6_name}
    if q6_name:
        result["q6"] = np.array([np.mean(q > q6_threshold) for q in processed.columns[q6_name]])
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
        if q6_name and n_clusters > 1:  # one cluster: the embeddings separate no populations, so they name none
            q6 = np.concatenate(processed.columns[q6_name])
            means = [float(q6[labels == c].mean()) if np.any(labels == c) else float("nan") for c in range(n_clusters)]
            result["cluster_q6"] = means
            result["ordered_clusters"] = [c for c, mean in enumerate(means) if mean > q6_threshold]
            result["clusters"] = np.array([np.isin(l, result["ordered_clusters"]).mean() for l in result["labels"]])
    return result


#: the PNGs :func:`plot` writes, as suffixes of the processed file's name
PICTURES = ("_embedding_vs_q6.png", "_order_fraction.png", "_snapshot.png")


def plot(
    path, out_dir=None, n_clusters: int | None = None, q6_threshold: float = 0.35, seed: int = 0, force: bool = True
) -> list[str]:
    """Render the PNGs for a processed file; returns their paths (written atomically, next to the file by default).

    With ``force=False`` existing pictures are refused before anything is drawn.

    Parameters
    ----------
    path : str or PathLike
        A ``simssl process`` output (.gsd or .npz).
    out_dir : str, PathLike or None
        Folder of the pictures (created if needed; default: the file's folder).
    n_clusters, q6_threshold, seed
        As in :func:`order_fractions`.
    force : bool
        Overwrite existing pictures.

    Returns
    -------
    list of str
        The pictures written, named after the file with the :data:`PICTURES` suffixes (no snapshot
        for .npz files, which hold no positions).
    """
    plt = pyplot()
    processed = load_processed(path)
    if not {"q6", "q6_avg", "embedding"} & set(processed.columns):
        raise SimsslError(
            f"{path}: holds {', '.join(processed.columns)} but neither q6 nor embeddings, which simssl plot draws; "
            "process it with --steinhardt including 6, or with --model"
        )
    fractions = order_fractions(processed, n_clusters, q6_threshold, seed)
    n_clusters = fractions.get("n_clusters", 1)
    if out_dir is not None:
        try:
            os.makedirs(out_dir, exist_ok=True)
        except OSError as error:
            raise SimsslError(f"{out_dir}: cannot create the output directory ({error.strerror})") from None
    stem = os.path.join(out_dir or os.path.dirname(os.path.abspath(path)), os.path.splitext(os.path.basename(path))[0])
    for suffix in PICTURES:
        refuse_overwrite(stem + suffix, force)
    written = []
    n_frames = len(processed.steps)
    shown = sorted({0, n_frames // 2, n_frames - 1})
    q6_name = fractions["q6_name"]

    figure, axes = plt.subplots(1, len(shown), figsize=(4.2 * len(shown), 3.8), squeeze=False, sharex=True, sharey=True)
    for axis, index in zip(axes[0], shown):
        if "components" in fractions:
            bounds = fractions["component_bounds"]
            pc1 = fractions["components"][bounds[index] : bounds[index + 1], 0]
            y = (
                processed.columns[q6_name][index]
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
            axis.hist(processed.columns[q6_name][index], bins=60, color="tab:blue")
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

    figure, axis = plt.subplots(figsize=(6, 4))
    if "clusters" in fractions:
        axis.plot(
            processed.steps,
            fractions["clusters"],
            "o-",
            label=f"in {_cluster_words(fractions)} with mean {q6_name} > {q6_threshold}",
        )
    if "q6" in fractions:
        axis.plot(processed.steps, fractions["q6"], "s--", label=f"per particle: {q6_name} > {q6_threshold}")
    if fractions.get("n_clusters") == 1:
        axis.text(
            0.02, 0.97, f"embeddings: {_cluster_words(fractions)}", transform=axis.transAxes, fontsize=7, va="top"
        )
    axis.set_xlabel("step")
    axis.set_ylabel("fraction of particles called ordered")
    axis.set_ylim(-0.02, 1.02)
    axis.legend(fontsize=8)
    written.append(save_figure(figure, stem + PICTURES[1]))

    if processed.last_positions is not None:
        figure = plt.figure(figsize=(5.5, 5))
        axis = figure.add_subplot(projection="3d")
        by_cluster = fractions.get("n_clusters", 1) > 1 or not q6_name
        color = fractions["labels"][-1] if by_cluster and "labels" in fractions else processed.columns[q6_name][-1]
        slab = middle_slab(processed.last_positions)
        x, y, z = processed.last_positions[slab].T
        color = None if color is None else np.asarray(color)[slab]
        axis.scatter(x, y, z, c=color, s=4, cmap="coolwarm", depthshade=False, rasterized=True)
        axis.set_title(
            f"last frame (step {processed.steps[-1]}), middle slab ({slab.sum()} of {len(slab)} particles),"
            "\ncolored by " + ("embedding cluster" if by_cluster else q6_name),
            fontsize=9,
        )
        written.append(save_figure(figure, stem + PICTURES[2]))
    return written


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
