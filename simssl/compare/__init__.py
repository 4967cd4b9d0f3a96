"""Learned embeddings vs Steinhardt order parameters: linear probes, ROC AUC, cross-validation, plots.

One job per module:

* :mod:`.features`: the per-particle feature matrices compared (Steinhardt, multi-shell Steinhardt,
  embeddings);
* :mod:`.probes`: the logistic-regression probe, ROC AUC and curves, cross-validation folds and scores;
* :mod:`.report`: the :func:`compare` workflow, its :class:`Report` and ``report.json``;
* :mod:`.figures`: the pictures (ROC curves, embedding PCA).

Every public name of those modules is importable from here (``from simssl.compare import compare``).
"""

from .features import (
    MULTISHELL_K,
    MULTISHELL_L,
    PROBES,
    STEINHARDT_COLUMNS,
    STEINHARDT_K,
    STEINHARDT_L,
    STEINHARDT_W,
    embedding_features,
    multishell_steinhardt_features,
    steinhardt_features,
)
from .figures import PLOT_POINTS, plot_pca, plot_roc
from .probes import (
    DEFAULT_L2,
    LogisticRegression,
    ProbeScores,
    cross_validate,
    grouped_folds,
    one_thread,
    particle_labels,
    roc_auc,
    roc_curve,
    stratified_folds,
)
from .report import GROUPING_WORDS, OUTPUT_FILES, Report, compare, write_json

__all__ = [
    "DEFAULT_L2",
    "GROUPING_WORDS",
    "MULTISHELL_K",
    "MULTISHELL_L",
    "OUTPUT_FILES",
    "PLOT_POINTS",
    "PROBES",
    "STEINHARDT_COLUMNS",
    "STEINHARDT_K",
    "STEINHARDT_L",
    "STEINHARDT_W",
    "LogisticRegression",
    "ProbeScores",
    "Report",
    "compare",
    "cross_validate",
    "embedding_features",
    "grouped_folds",
    "multishell_steinhardt_features",
    "one_thread",
    "particle_labels",
    "plot_pca",
    "plot_roc",
    "roc_auc",
    "roc_curve",
    "steinhardt_features",
    "stratified_folds",
    "write_json",
]
