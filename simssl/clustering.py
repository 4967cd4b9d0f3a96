"""Small, dependency-free unsupervised tools for embeddings: principal components and k-means.

Deterministic for a given seed, vectorized over points, so plots and OVITO colorings are reproducible.
"""

from __future__ import annotations

import numpy as np

from .errors import SimsslError


def principal_components(x: np.ndarray, n_components: int = 2, fit_rows: int = 200_000, seed: int = 0) -> np.ndarray:
    """Project rows of ``x`` (N, D) onto its first principal components (fitted on a row sample).

    Signs are fixed (largest loading positive) so the same data always gives the same picture.

    Parameters
    ----------
    x : array_like
        (N, D) points.
    n_components : int
        Components kept.
    fit_rows : int
        The components are fitted on a random sample of at most this many rows.
    seed : int
        Seed of that sample.

    Returns
    -------
    numpy.ndarray
        (N, n_components) float32.
    """
    x = np.asarray(x, dtype=np.float64)
    sample = x if len(x) <= fit_rows else x[np.random.default_rng(seed).choice(len(x), fit_rows, replace=False)]
    mean = sample.mean(axis=0)
    _, _, components = np.linalg.svd(sample - mean, full_matrices=False)
    components = components[:n_components]
    components *= np.sign(components[np.arange(len(components)), np.abs(components).argmax(axis=1)])[:, None]
    return ((x - mean) @ components.T).astype(np.float32)


def kmeans(
    x: np.ndarray, n_clusters: int, seed: int = 0, iterations: int = 100, fit_rows: int = 200_000
) -> tuple[np.ndarray, np.ndarray]:
    """k-means++ then Lloyd iterations on a row sample; returns (labels (N,), centers (n_clusters, D)).

    Clusters are numbered by decreasing size (on the fitted sample), so ids are stable across runs.

    Parameters
    ----------
    x : array_like
        (N, D) points.
    n_clusters : int
        Between 1 and N; others raise ``SimsslError``.
    seed : int
        Seed of the sample and the k-means++ start.
    iterations : int
        At most this many Lloyd iterations.
    fit_rows : int
        Fit on a random sample of at most this many rows; every point is then labelled.

    Returns
    -------
    labels : numpy.ndarray
        (N,) int32 cluster ids.
    centers : numpy.ndarray
        (n_clusters, D) float64.

    Examples
    --------
    >>> import numpy as np
    >>> from simssl.clustering import kmeans
    >>> labels, centers = kmeans(np.array([[0.0], [0.1], [5.0], [5.1], [5.2]]), 2)
    >>> labels.tolist()
    [1, 1, 0, 0, 0]
    """
    x = np.asarray(x, dtype=np.float64)
    if not 1 <= n_clusters <= len(x):
        raise SimsslError(f"n_clusters must be between 1 and the number of points ({len(x)}), got {n_clusters}")
    rng = np.random.default_rng(seed)
    sample = x if len(x) <= fit_rows else x[rng.choice(len(x), fit_rows, replace=False)]
    centers = sample[[rng.integers(len(sample))]]
    for _ in range(1, n_clusters):  # k-means++: new centers far from the chosen ones
        distance = _squared_distances(sample, centers).min(axis=1)
        probabilities = distance / distance.sum() if distance.sum() > 0 else None
        centers = np.vstack([centers, sample[rng.choice(len(sample), p=probabilities)]])
    labels = np.zeros(len(sample), dtype=np.int64)
    for step in range(iterations):
        new_labels = _squared_distances(sample, centers).argmin(axis=1)
        if step and np.array_equal(new_labels, labels):
            break
        labels = new_labels
        counts = np.bincount(labels, minlength=n_clusters)
        membership = np.zeros((n_clusters, len(sample)))
        membership[labels, np.arange(len(sample))] = 1.0
        sums = membership @ sample
        centers = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], centers)
    order = np.argsort(-np.bincount(labels, minlength=n_clusters), kind="stable")
    centers = centers[order]
    return _squared_distances(x, centers).argmin(axis=1).astype(np.int32), centers


def _squared_distances(x: np.ndarray, centers: np.ndarray) -> np.ndarray:
    squared = (x**2).sum(axis=1)[:, None] - 2 * x @ centers.T + (centers**2).sum(axis=1)[None, :]
    return np.maximum(squared, 0.0)  # the expansion can dip below zero by round-off


def silhouette(x: np.ndarray, labels: np.ndarray, sample: int = 2000, seed: int = 0) -> float:
    """Mean silhouette coefficient of a clustering (on a seeded sample of at most ``sample`` rows).

    For each point, ``(b - a) / max(a, b)`` with ``a`` its mean distance to its own cluster and ``b``
    to the nearest other cluster: near 1 for compact, well separated clusters, near 0 when a split
    cuts through one population.

    Parameters
    ----------
    x : numpy.ndarray
        (N, D) points.
    labels : numpy.ndarray
        (N,) cluster ids; at least two distinct.
    sample, seed : int
        Rows used (the cost is quadratic in them) and the seed of their choice.

    Returns
    -------
    float
    """
    rows = np.random.default_rng(seed).permutation(len(x))[:sample]
    points, ids = np.asarray(x, dtype=np.float64)[rows], np.asarray(labels)[rows]
    clusters = np.unique(ids)
    if len(clusters) < 2:
        raise ValueError("a silhouette needs at least two clusters")
    squared = (points**2).sum(1)
    distances = np.sqrt(np.maximum(squared[:, None] + squared[None, :] - 2 * points @ points.T, 0.0))
    mean_to = np.stack([distances[:, ids == c].sum(1) for c in clusters], axis=1)
    sizes = np.array([np.sum(ids == c) for c in clusters], dtype=np.float64)
    own = np.searchsorted(clusters, ids)
    own_size = sizes[own] - 1
    a = np.where(own_size > 0, mean_to[np.arange(len(ids)), own] / np.maximum(own_size, 1), 0.0)
    other = mean_to / sizes
    other[np.arange(len(ids)), own] = np.inf
    b = other.min(1)
    scores = np.where(own_size > 0, (b - a) / np.maximum(np.maximum(a, b), 1e-300), 0.0)
    return float(scores.mean())


#: below this best silhouette the data are called one population (Kaufman & Rousseeuw: < 0.5 is weak structure)
MIN_SILHOUETTE = 0.5
#: rows (a seeded sample) on which the number of clusters is chosen
CHOICE_ROWS = 5000


def choose_clusters(
    x: np.ndarray, candidates=(2, 3, 4), seed: int = 0, min_silhouette: float = MIN_SILHOUETTE
) -> tuple[int, dict]:
    """The number of k-means clusters the data support: the candidate with the best silhouette, or 1.

    One cluster is the answer when no split reaches ``min_silhouette``: a liquid or a perfect
    crystal is one population, and forcing two clusters on it would invent a second phase.

    Parameters
    ----------
    x : numpy.ndarray
        (N, D) points.
    candidates : sequence of int
        Cluster counts tried.
    seed : int
        Seed of k-means and of the silhouette sample.
    min_silhouette : float
        Smallest silhouette that counts as real structure.

    Returns
    -------
    (int, dict)
        The chosen count and the silhouette of every candidate tried.
    """
    scores = {}
    x = np.asarray(x)[np.random.default_rng(seed).permutation(len(x))[:CHOICE_ROWS]]  # the choice needs no more
    for count in candidates:
        labels, _ = kmeans(x, count, seed=seed)
        scores[count] = silhouette(x, labels, seed=seed) if len(np.unique(labels)) > 1 else 0.0
    best = max(scores, key=scores.get)
    return (best if scores[best] >= min_silhouette else 1), scores
