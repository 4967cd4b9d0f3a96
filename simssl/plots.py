"""``simssl plot``: pictures of a processed file, learned order next to q6 (the numbers: :mod:`simssl.fractions`).

Up to four PNGs: embedding principal components against q6 for the first, middle and last frames;
the fraction of "ordered" particles over time; a 3D snapshot of the last frame; and, for files with
identification (``simssl identify`` or ``simssl process --identify``), the nuclei over time.

The ordered fraction: with identification, the fraction of particles whose identified structure is
not the liquid (``structure > 0``), next to the q6 threshold fraction and, where OVITO is installed,
the fraction OVITO's polyhedral template matching (PTM, default settings) does not call "Other".
Without identification, the fraction in k-means clusters of the embeddings whose mean q6 is high,
next to the q6 threshold fraction (:func:`~simssl.fractions.q6_rule`: without a threshold that fits
the file's q6, no q6 fraction is drawn and the figure says why).
"""

from __future__ import annotations

import os

import numpy as np

from .atomic import refuse_overwrite
from .clustering import MIN_SILHOUETTE
from .errors import SimsslError
from .figures import pyplot, save_figure
from .fractions import check_clusters, order_fractions, order_series, q6_column, q6_rule
from .io.processed import Processed, read_processed
from .locking import locked

#: the PNGs :func:`plot` writes, as suffixes of the processed file's name (the nuclei picture only
#: for files with identification)
PICTURES = ("_embedding_vs_q6.png", "_order_fraction.png", "_snapshot.png", "_nuclei.png")


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
    processed = read_processed(path)
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
    q6_name = q6_column(columns)
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
        Its quantities (:func:`simssl.io.read_processed`).
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
    check_clusters(processed, n_clusters)
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
