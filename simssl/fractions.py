"""How much of a system is ordered, frame by frame: by identification, by a q6 threshold, by clusters of
embeddings, by PTM.

:func:`order_series` gives the numbers ``simssl plot`` draws and tabulates; :func:`order_fractions`
the embedding clusters of a file without identification; :func:`q6_rule` the q6 threshold that fits
the quantity present: Lechner-Dellago ``q6_avg`` above 0.35 by default; raw ``q6`` has no default,
because its values in liquids and crystals overlap (a Lennard-Jones liquid is half above 0.35).
The PTM series comes from OVITO through the OVITO plugin (:func:`baseline_fractions`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .clustering import choose_clusters, kmeans, principal_components
from .defaults import PLOT_MAX_CLUSTERS, Q6_AVG_THRESHOLD
from .errors import SimsslError
from .io.processed import Processed, read_processed

#: entry-point group of order baselines that need another package (``ptm``: OVITO's PTM, in
#: :mod:`simssl.plugins.ovito`); each is a function ``(Processed) -> (frames,) fractions or None``
BASELINES = "simssl.baselines"


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
    name = q6_column(columns)
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
    check_clusters(processed, n_clusters)
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


def check_clusters(processed: Processed, n_clusters: int | None) -> None:
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


def q6_column(columns: dict) -> str | None:
    """The q6 column the fractions use: ``q6_avg`` if stored, else ``q6``, else None."""
    return "q6_avg" if "q6_avg" in columns else "q6" if "q6" in columns else None


def order_series(processed, q6_threshold: float | None = None, ptm: bool = True) -> dict:
    """Per frame: how much of the system is ordered (by identification, by q6, by PTM) and its nuclei.

    The numbers behind the order-fraction and nuclei pictures of :func:`plot` (and the table of
    ``simssl plot``), without pictures.

    Parameters
    ----------
    processed : Processed, str or PathLike
        The file's quantities, or the file (read with :func:`simssl.io.read_processed`).
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
        ovito, without positions or with ``ptm=False``, see :func:`simssl.plugins.ovito.ptm_fractions`);
        ``other``, the fraction identified as like none of the references (``structure == -1``; None without
        identification); ``largest_nucleus``, the largest nucleus in particles, and ``n_nuclei``, the number of
        nuclei (:func:`simssl.nuclei.order_summary`; None without ``nucleus``).
    """
    if not isinstance(processed, Processed):
        processed = read_processed(processed)
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
        "ptm": baseline_fractions("ptm", processed) if ptm else None,
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


def baseline_fractions(name: str, processed: Processed) -> np.ndarray | None:
    """(frames,) ordered fractions of the baseline ``name`` of group :data:`BASELINES`; None where it cannot run.

    The baselines live with the engine adapters, which the core never imports; installed simssl
    registers them as entry points. None when the baseline is not registered or its package (e.g.
    OVITO) cannot be imported, or when it has nothing to say about this file.
    """
    from importlib.metadata import entry_points

    found = entry_points(group=BASELINES, name=name)
    if not found:
        return None
    try:
        function = next(iter(found)).load()
    except (ImportError, OSError):  # not installed, or installed without its shared libraries
        return None
    return function(processed)
