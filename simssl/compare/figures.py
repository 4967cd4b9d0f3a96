"""The pictures of ``compare``: out-of-fold ROC curves and embedding principal components (matplotlib, lazily)."""

from __future__ import annotations

import numpy as np

from ..figures import pyplot, save_figure
from .features import PROBES
from .probes import _binary_auc, roc_curve

PLOT_POINTS = 20_000  # particles drawn in the PCA scatter plots


def plot_roc(report, labels: np.ndarray, path: str) -> str:
    """Out-of-fold ROC curves of every probe: one panel per class (one-vs-rest), one panel when binary.

    Parameters
    ----------
    report : Report
        Supplies the classes and the out-of-fold probabilities.
    labels : numpy.ndarray
        (N,) labels, in the probabilities' row order.
    path : str
        The picture's file.

    Returns
    -------
    str
        ``path``.
    """
    plt = pyplot()
    shown = report.classes[1:] if len(report.classes) == 2 else report.classes
    columns = min(len(shown), 4)
    rows = -(-len(shown) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.8 * columns, 3.6 * rows), squeeze=False, layout="constrained")
    for axis, value in zip(axes.flat, shown):
        column = report.classes.index(value)
        for name, scores in report.probes.items():
            fpr, tpr = roc_curve(labels == value, scores.probabilities[:, column])
            axis.plot(
                fpr,
                tpr,
                label=(
                    f"{PROBES[name].split(' (')[0]} "
                    f"(AUC {_binary_auc(labels == value, scores.probabilities[:, column]):.3f})"
                ),
            )
        axis.plot([0, 1], [0, 1], ":", color="gray")
        axis.set(
            xlabel="false positive rate",
            ylabel="true positive rate",
            title=f"{value} vs " + ("rest" if len(shown) > 1 else str(report.classes[0])),
        )
        axis.legend(fontsize=7, loc="lower right")
    for axis in list(axes.flat)[len(shown) :]:
        axis.set_visible(False)
    figure.suptitle(f"linear probes, {report.folds}-fold out-of-fold predictions")
    return save_figure(figure, path)


def plot_pca(embeddings: np.ndarray, labels: np.ndarray, q6: np.ndarray, path: str, seed: int = 0) -> str:
    """Embedding PC1 vs PC2 (a seeded sample of at most :data:`PLOT_POINTS` particles), colored by label and by q6.

    Parameters
    ----------
    embeddings : numpy.ndarray
        (N, D) embeddings.
    labels : numpy.ndarray
        (N,) labels.
    q6 : numpy.ndarray
        (N,) q6 values.
    path : str
        The picture's file.
    seed : int
        Seed of the sample and of the PCA.

    Returns
    -------
    str
        ``path``.
    """
    from ..clustering import principal_components

    plt = pyplot()
    rows = np.random.default_rng(seed).permutation(len(labels))[:PLOT_POINTS]
    components = principal_components(embeddings, 2, seed=seed)[rows]
    classes, codes = np.unique(labels[rows], return_inverse=True)
    figure, axes = plt.subplots(1, 2, figsize=(10, 4.2), sharex=True, sharey=True, layout="constrained")
    for code, value in enumerate(classes):
        chosen = codes == code
        axes[0].scatter(*components[chosen].T, s=2, color=plt.cm.tab10(code % 10), label=str(value), rasterized=True)
    axes[0].legend(title="label", markerscale=4, fontsize=7)
    points = axes[1].scatter(*components.T, c=q6[rows], s=2, cmap="viridis", rasterized=True)
    figure.colorbar(points, ax=axes[1], label="q6")
    for axis, title in zip(axes, ("by label", "by q6")):
        axis.set(xlabel="embedding PC1", ylabel="embedding PC2", title=title)
    return save_figure(figure, path)
