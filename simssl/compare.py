"""Learned embeddings vs Steinhardt order parameters: linear probes, ROC AUC, cross-validation, plots.

The question a user asks is "do the embeddings tell my classes apart better than q_l do?". Both
feature sets get the same probe, a multinomial logistic regression, scored by stratified k-fold
cross-validation (accuracy and ROC AUC, mean and standard deviation over folds). Everything is
implemented here with numpy and torch (no scikit-learn dependency) and is deterministic for a seed.

Feature sets (both "raw + neighbor-averaged", so neither side gets more context than the other):

* :func:`steinhardt_features`: 14 columns over the 12 nearest neighbors: q4, q6, q8, q10, q12,
  w4, w6 (normalized w_l), then the same seven Lechner-Dellago averaged (``q4_avg`` ... ``w6_avg``);
* :func:`embedding_features`: the encoder's embedding (D columns) followed by its neighbor average
  (D columns: mean over the particle and its ``k`` model neighbors), 2 D columns.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch.nn import functional as F

from .atomic import AtomicFile, refuse_overwrite
from .compute import Embedding, Steinhardt
from .defaults import AVERAGE_SUFFIX, GROUPINGS, STEINHARDT_DEGREES, STEINHARDT_NEIGHBORS
from .errors import SimsslError
from .figures import pyplot, save_figure
from .frame import Frame
from .locking import locked

STEINHARDT_L = (4, 6, 8, 10, 12)
STEINHARDT_W = STEINHARDT_DEGREES
STEINHARDT_K = STEINHARDT_NEIGHBORS
STEINHARDT_COLUMNS = [
    f"{kind}{l}{suffix}"
    for suffix in ("", AVERAGE_SUFFIX)
    for kind, ls in (("q", STEINHARDT_L), ("w", STEINHARDT_W))
    for l in ls
]
PROBES = {"embedding": "embedding (raw + avg)", "steinhardt": "Steinhardt (q4..q12, w4, w6; raw + avg)"}
DEFAULT_L2 = 1e-4
PLOT_POINTS = 20_000  # particles drawn in the PCA scatter plots
#: what ``compare(out_dir=...)`` writes there
OUTPUT_FILES = ("roc.png", "pca.png", "report.json")


def steinhardt_features(frame: Frame) -> np.ndarray:
    """(N, 14) float32: the :data:`STEINHARDT_COLUMNS` of ``frame`` over its 12 nearest neighbors.

    Parameters
    ----------
    frame : Frame
        The snapshot.

    Returns
    -------
    numpy.ndarray
        (N, 14) float32, columns in the order of :data:`STEINHARDT_COLUMNS`.
    """
    columns = Steinhardt(l=STEINHARDT_L, wl=True, average=True, num_neighbors=STEINHARDT_K).compute(frame)
    return np.stack([columns[name] for name in STEINHARDT_COLUMNS], axis=1)


#: shells (nearest-neighbor counts) of the multi-shell Steinhardt baseline
MULTISHELL_K: tuple[int, ...] = (4, 8, 12, 18, 26, 42)
#: degrees of the multi-shell Steinhardt baseline
MULTISHELL_L: tuple[int, ...] = tuple(range(2, 13))


def multishell_steinhardt_features(frame: Frame) -> np.ndarray:
    """(N, 132) float32: q2..q12, raw and Lechner-Dellago averaged, over the 4, 8, 12, 18, 26 and 42 nearest.

    The strongest classical baseline measured on noisy crystals (0.98 at sigma 0.15 in
    ``benchmarks/noise_classification.py``): several radii, each with the average of the neighbors'
    q_lm taken before the invariant.

    Parameters
    ----------
    frame : Frame
        The snapshot (more than 42 particles).

    Returns
    -------
    numpy.ndarray
        (N, 2 x 11 x 6) float32; per shell the raw q_l then the averaged ones.
    """
    columns = []
    for k in MULTISHELL_K:
        values = Steinhardt(l=MULTISHELL_L, average=True, num_neighbors=k).compute(frame)
        columns += [values[name] for name in Steinhardt(l=MULTISHELL_L, average=True).names]
    return np.stack(columns, axis=1)


def embedding_features(model, frame: Frame, device=None, compile: bool | None = None) -> np.ndarray:
    """(N, 2 D) float32: the model's embeddings, then their neighbor averages (one forward pass).

    Parameters
    ----------
    model : Encoder
        The encoder (embedding size D).
    frame : Frame
        The snapshot.
    device : str, torch.device or None
        Where the encoder runs.
    compile : bool or None
        Use ``torch.compile`` (None: where it pays).

    Returns
    -------
    numpy.ndarray
        (N, 2 D) float32.
    """
    columns = Embedding(model, device=device, compile=compile, average=True).compute(frame)
    return np.concatenate([columns["embedding"], columns["embedding_avg"]], axis=1)


@contextlib.contextmanager
def one_thread():
    """Run torch on one thread for a while (a context manager; the thread count is restored after).

    The probes' small full-batch steps are faster so, and much faster than two threads fighting
    other processes for a busy machine's cores.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


class LogisticRegression:
    """Multinomial logistic regression on standardized features, L2-penalized, fitted by full-batch L-BFGS.

    Minimizes ``mean cross-entropy + l2 / 2 * |W|^2`` (intercepts unpenalized) in float64: a strictly
    convex problem started from zero, so the fit is deterministic. ``l2 = 1 / (C n)`` matches
    scikit-learn's ``LogisticRegression(C=C)`` on the same standardized data.

    Parameters
    ----------
    l2 : float
        The L2 penalty.
    max_iter : int
        L-BFGS iterations.

    Attributes
    ----------
    classes_ : numpy.ndarray
        The sorted distinct labels (after :meth:`fit`).
    coef_ : numpy.ndarray
        (classes, F) float64 weights on standardized features.
    intercept_ : numpy.ndarray
        (classes,) float64.
    mean_, scale_ : numpy.ndarray
        (F,) float64 standardization.

    Examples
    --------
    >>> import numpy as np
    >>> from simssl.compare import LogisticRegression
    >>> x = np.array([[0.0], [0.1], [1.0], [1.1]])
    >>> LogisticRegression().fit(x, ["a", "a", "b", "b"]).predict([[0.05], [1.05]]).tolist()
    ['a', 'b']
    """

    def __init__(self, l2: float = DEFAULT_L2, max_iter: int = 500):
        self.l2, self.max_iter = float(l2), int(max_iter)

    def fit(self, x, y) -> LogisticRegression:
        """Fit to features ``x`` (N, F) and labels ``y`` (N,); returns ``self``.

        Raises ``SimsslError`` on non-finite features or fewer than two classes.
        """
        x = np.asarray(x, dtype=np.float64)
        if not np.all(np.isfinite(x)):
            raise SimsslError(f"{np.sum(~np.isfinite(x).all(axis=1))} sample(s) have NaN or infinite features")
        self.classes_, targets = np.unique(np.asarray(y), return_inverse=True)
        if len(self.classes_) < 2:
            raise SimsslError(f"a classifier needs at least two classes, got only {self.classes_.tolist()}")
        self.mean_ = x.mean(axis=0)
        std = x.std(axis=0)
        self.scale_ = np.where(std > 0, std, 1.0)
        inputs = torch.from_numpy((x - self.mean_) / self.scale_)
        targets = torch.from_numpy(targets.astype(np.int64))
        weight = torch.zeros(x.shape[1], len(self.classes_), dtype=torch.float64, requires_grad=True)
        bias = torch.zeros(len(self.classes_), dtype=torch.float64, requires_grad=True)
        optimizer = torch.optim.LBFGS(
            [weight, bias],
            lr=1,
            max_iter=self.max_iter,
            history_size=20,
            tolerance_grad=1e-7,
            tolerance_change=1e-10,
            line_search_fn="strong_wolfe",
        )

        def closure():
            optimizer.zero_grad()
            loss = F.cross_entropy(inputs @ weight + bias, targets) + 0.5 * self.l2 * weight.square().sum()
            loss.backward()
            return loss

        with one_thread():
            optimizer.step(closure)
        self.coef_, self.intercept_ = weight.detach().numpy().T.copy(), bias.detach().numpy().copy()
        return self

    def decision_function(self, x) -> np.ndarray:
        """Logits (N, classes) float64 of features ``x`` (N, F), in the order of ``classes_``."""
        return ((np.asarray(x, dtype=np.float64) - self.mean_) / self.scale_) @ self.coef_.T + self.intercept_

    def predict_proba(self, x) -> np.ndarray:
        """Class probabilities (N, classes) float64 of features ``x`` (N, F): the softmax of the logits."""
        logits = self.decision_function(x)
        logits -= logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        return probabilities / probabilities.sum(axis=1, keepdims=True)

    def predict(self, x) -> np.ndarray:
        """The most probable class of every row of ``x`` (N, F), as the original label values, (N,)."""
        return self.classes_[self.decision_function(x).argmax(axis=1)]


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks of ``values``, ties sharing the mean of their ranks."""
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    return (ends - (counts - 1) / 2.0)[inverse.reshape(-1)]


def _binary_auc(positive: np.ndarray, scores: np.ndarray) -> float:
    """Mann-Whitney U / (n_pos n_neg): the probability that a random positive outscores a random negative."""
    n_positive = int(positive.sum())
    n_negative = len(positive) - n_positive
    if n_positive == 0 or n_negative == 0:
        raise SimsslError("ROC AUC needs both positive and negative samples")
    rank_sum = _average_ranks(scores)[positive].sum()
    return float((rank_sum - n_positive * (n_positive + 1) / 2.0) / (n_positive * n_negative))


def roc_auc(labels, scores) -> float:
    """ROC AUC from ranks, binary or one-vs-rest macro-averaged.

    Parameters
    ----------
    labels : array_like
        (N,) labels.
    scores : array_like
        (N,) for two classes (the larger label is positive), or (N, classes) whose columns follow
        the sorted distinct labels (one-vs-rest macro average).

    Returns
    -------
    float

    Raises
    ------
    SimsslError
        If the shapes and the number of classes do not match, or a class has no positive or no
        negative samples.
    """
    labels, scores = np.asarray(labels), np.asarray(scores, dtype=np.float64)
    classes = np.unique(labels)
    if scores.ndim == 1:
        if len(classes) != 2:
            raise SimsslError(f"binary ROC AUC needs exactly two classes, got {len(classes)}")
        return _binary_auc(labels == classes[1], scores)
    if scores.shape != (len(labels), len(classes)):
        raise SimsslError(
            f"scores of shape {scores.shape} do not match {len(labels)} samples of {len(classes)} classes"
        )
    return float(np.mean([_binary_auc(labels == value, scores[:, column]) for column, value in enumerate(classes)]))


def roc_curve(positive, scores) -> tuple[np.ndarray, np.ndarray]:
    """(false positive rate, true positive rate) at every distinct threshold, from (0, 0) to (1, 1).

    Parameters
    ----------
    positive : array_like
        (N,) bool, the positive samples.
    scores : array_like
        (N,) scores; larger means more positive.

    Returns
    -------
    fpr, tpr : numpy.ndarray
        Equal-length float64 arrays.
    """
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    ordered, hits = np.asarray(scores)[order], np.asarray(positive, dtype=bool)[order]
    cuts = np.r_[np.flatnonzero(np.diff(ordered)), len(ordered) - 1]
    true_positives = np.cumsum(hits)[cuts]
    false_positives = cuts + 1 - true_positives
    return np.r_[0.0, false_positives / false_positives[-1]], np.r_[0.0, true_positives / true_positives[-1]]


def stratified_folds(labels, folds: int = 5, seed: int = 0) -> np.ndarray:
    """Fold id (0 .. folds-1) per sample, stratified by class.

    Samples are shuffled within each class and dealt round-robin, so every fold holds each class
    in proportion (counts differ by at most one) and fold sizes balance.

    Parameters
    ----------
    labels : array_like
        (N,) labels.
    folds : int
        At least 2, and at most the smallest class's count.
    seed : int
        Seed of the shuffle.

    Returns
    -------
    numpy.ndarray
        (N,) int64.
    """
    labels = np.asarray(labels)
    classes, counts = np.unique(labels, return_counts=True)
    if folds < 2:
        raise SimsslError(f"cross-validation needs at least 2 folds, got {folds}")
    if counts.min() < folds:
        raise SimsslError(
            f"class {classes[counts.argmin()].item()!r} has {counts.min()} sample(s), fewer than the {folds} folds"
        )
    shuffled = np.random.default_rng(seed).permutation(len(labels))
    dealt = shuffled[np.argsort(labels[shuffled], kind="stable")]  # grouped by class, random within
    fold = np.empty(len(labels), dtype=np.int64)
    fold[dealt] = np.arange(len(labels)) % folds
    return fold


#: how each grouping of folds (:data:`~simssl.defaults.GROUPINGS`, see :func:`grouped_folds`) reads in the report
GROUPING_WORDS = {
    "frame": "grouped by frame (whole frames per fold)",
    "block": "grouped by spatial block (slabs of each frame)",
    "particle": "stratified per particle (neighbors shared between folds: optimistic)",
}


def grouped_folds(
    labels, frames: list[Frame], folds: int = 5, seed: int = 0, by: str = "auto"
) -> tuple[np.ndarray, str]:
    """Fold id per particle such that test particles' neighbors are not in the training folds.

    Features are neighbor-averaged, so a particle's features carry its neighbors' structure: with
    folds drawn per particle (``by="particle"``, :func:`stratified_folds`) every test particle has
    neighbors in the training set, and the probes are scored on leaked information.

    Parameters
    ----------
    labels : numpy.ndarray
        (N,) labels of all particles of ``frames``, concatenated in frame order.
    frames : list of Frame
        The frames the particles come from (their positions place the blocks).
    folds : int
        Number of folds, at least 2.
    seed : int
        Seed of the assignment of frames to folds.
    by : str
        ``"frame"``: whole frames per fold (stratified by each frame's most common label);
        ``"block"``: each frame cut into ``folds`` slabs along its first box vector, slab i in fold
        i (only particles at slab faces have neighbors in other folds); ``"particle"``: per-particle
        stratified folds (leaks; for comparison only); ``"auto"``: frames when every class spans
        at least ``folds`` frames, else blocks.

    Returns
    -------
    (numpy.ndarray, str)
        (N,) int64 fold ids and the grouping used.
    """
    labels = np.asarray(labels)
    if by not in GROUPINGS:
        raise SimsslError(f"folds can be grouped by {', '.join(GROUPINGS)}, not {by!r}")
    if folds < 2:
        raise SimsslError(f"cross-validation needs at least 2 folds, got {folds}")
    if by == "particle":
        return stratified_folds(labels, folds, seed), by
    classes, counts = np.unique(labels, return_counts=True)
    if counts.min() < folds:
        raise SimsslError(
            f"class {classes[counts.argmin()].item()!r} has {counts.min()} sample(s), fewer than the {folds} folds"
        )
    bounds = np.cumsum([0] + [frame.n_particles for frame in frames])
    dominant = np.array([_most_common(labels[a:b]) for a, b in zip(bounds[:-1], bounds[1:])])
    frames_per_class = [int(np.sum(dominant == value)) for value in classes]
    if by == "auto":
        by = "frame" if min(frames_per_class) >= folds else "block"
    fold = np.empty(len(labels), dtype=np.int64)
    if by == "frame":
        if min(frames_per_class) < folds:
            value = classes[int(np.argmin(frames_per_class))]
            raise SimsslError(
                f"class {value.item()!r} is the main label of {min(frames_per_class)} frame(s), fewer than the "
                f"{folds} folds: folds grouped by frame need more frames (or --folds-by block)"
            )
        shuffled = np.random.default_rng(seed).permutation(len(frames))
        dealt = shuffled[np.argsort(dominant[shuffled], kind="stable")]  # grouped by class, random within
        for position, index in enumerate(dealt):
            fold[bounds[index] : bounds[index + 1]] = position % folds
    else:
        for index, frame in enumerate(frames):
            fractional = frame.box.make_fractional(frame.positions)[:, 0]
            fold[bounds[index] : bounds[index + 1]] = np.clip((fractional * folds).astype(np.int64), 0, folds - 1)
    for value in classes:
        missing = [f for f in range(folds) if not np.any((labels == value) & (fold != f))]
        if missing:
            raise SimsslError(
                f"with folds grouped by {by}, class {value.item()!r} has no training particles when fold "
                f"{missing[0]} is tested; use fewer --folds or more frames of that class"
            )
    return fold, by


def _most_common(values: np.ndarray):
    found, counts = np.unique(values, return_counts=True)
    return found[int(np.argmax(counts))]


@dataclass
class ProbeScores:
    """Cross-validated scores of one feature set: per-fold accuracy and ROC AUC, out-of-fold probabilities.

    Attributes
    ----------
    features : int
        Feature columns F.
    accuracy, auc : numpy.ndarray
        (folds,) float64.
    probabilities : numpy.ndarray
        (N, classes) float64 out-of-fold class probabilities.
    """

    features: int
    accuracy: np.ndarray
    auc: np.ndarray
    probabilities: np.ndarray = field(repr=False)

    def summary(self) -> dict:
        """JSON-like scores: feature count, and mean, std and per-fold values of accuracy and ROC AUC."""
        return {
            "features": self.features,
            **{
                name: {"mean": float(values.mean()), "std": float(values.std()), "folds": values.tolist()}
                for name, values in (("accuracy", self.accuracy), ("roc_auc", self.auc))
            },
        }


def cross_validate(features, labels, fold, l2: float = DEFAULT_L2) -> ProbeScores:
    """Scores of :class:`LogisticRegression` on ``features`` for ``labels``, each fold held out in turn.

    Parameters
    ----------
    features : array_like
        (N, F) features.
    labels : array_like
        (N,) labels.
    fold : array_like
        (N,) int fold id per sample, e.g. from :func:`stratified_folds`.
    l2 : float
        The probe's L2 penalty.

    Returns
    -------
    ProbeScores
    """
    features, labels, fold = np.asarray(features), np.asarray(labels), np.asarray(fold)
    classes, folds = np.unique(labels), int(fold.max()) + 1
    probabilities = np.empty((len(labels), len(classes)))
    accuracy, auc = np.empty(folds), np.empty(folds)
    for index in range(folds):
        test = fold == index
        probe = LogisticRegression(l2).fit(features[~test], labels[~test])
        probabilities[test] = probe.predict_proba(features[test])
        accuracy[index] = np.mean(classes[probabilities[test].argmax(axis=1)] == labels[test])
        auc[index] = roc_auc(labels[test], probabilities[test][:, 1] if len(classes) == 2 else probabilities[test])
    return ProbeScores(features.shape[1], accuracy, auc, probabilities)


def particle_labels(counts: Sequence[int], labels) -> np.ndarray:
    """One label per particle from labels given per particle or per frame.

    Parameters
    ----------
    counts : sequence of int
        Particles per frame.
    labels : array_like, sequence or scalar
        A flat array over all frames' particles, or a sequence with one entry per frame (a
        per-particle array, or one label for the whole frame); a scalar labels a single frame.

    Returns
    -------
    numpy.ndarray
        (sum(counts),).

    Raises
    ------
    SimsslError
        If the number of labels does not match.
    """
    total = int(sum(counts))
    if not hasattr(labels, "__len__") or isinstance(labels, str):  # one label for a single frame
        labels = [labels]
    if not (isinstance(labels, np.ndarray) and labels.size == total) and len(labels) == len(counts):
        parts = []
        for index, (label, count) in enumerate(zip(labels, counts)):
            label = np.asarray(label).reshape(-1)
            if label.size not in (1, count):
                raise SimsslError(f"frame {index} has {count} particles but {label.size} labels")
            parts.append(np.broadcast_to(label, (count,)))
        return np.concatenate(parts)
    labels = np.asarray(labels).reshape(-1)
    if labels.size != total:
        raise SimsslError(f"got {labels.size} labels for {total} particles in {len(counts)} frame(s)")
    return labels


@dataclass
class Report:
    """What :func:`compare` found: class counts and cross-validated scores per feature set.

    Attributes
    ----------
    classes : list
        Distinct labels, sorted.
    counts : list of int
        Particles per class.
    frames, folds, seed : int
        As in :func:`compare`.
    model : dict
        The encoder's name, whether it is trained, and its config.
    probes : dict of str to ProbeScores
        Keyed by the names in :data:`PROBES`.
    files : list of str
        Files written (with ``out_dir``).
    """

    classes: list
    counts: list[int]
    frames: int
    folds: int
    seed: int
    model: dict
    probes: dict[str, ProbeScores]
    files: list[str] = field(default_factory=list)
    grouping: str = "particle"  #: how folds were drawn (see :func:`grouped_folds`)

    def to_dict(self) -> dict:
        """JSON-like report (what ``report.json`` holds)."""
        return {
            "frames": self.frames,
            "particles": int(sum(self.counts)),
            "classes": self.classes,
            "counts": self.counts,
            "folds": self.folds,
            "grouping": self.grouping,
            "seed": self.seed,
            "model": self.model,
            "probes": {name: scores.summary() for name, scores in self.probes.items()},
            "files": self.files,
        }

    def table(self) -> str:
        """A plain-text table: one row per feature set, accuracy and ROC AUC as mean +- std over folds."""
        width = max(len(label) for label in PROBES.values())
        classes = ", ".join(f"{value}: {count}" for value, count in zip(self.classes, self.counts))
        model = f"{self.model.get('name', 'encoder')}" + ("" if self.model.get("trained", True) else " (UNTRAINED)")
        lines = [
            f"{sum(self.counts)} particles in {self.frames} frame(s); classes {classes}; model {model}; "
            f"{self.folds}-fold cross-validation {GROUPING_WORDS[self.grouping]}, multinomial logistic regression",
            f"{'features':<{width}}  {'columns':>7}  {'accuracy':>15}  {'ROC AUC':>15}",
        ]
        for name, scores in self.probes.items():
            lines.append(
                f"{PROBES[name]:<{width}}  {scores.features:>7}  "
                f"{scores.accuracy.mean():>6.4f} +- {scores.accuracy.std():.4f}"
                f"  {scores.auc.mean():>6.4f} +- {scores.auc.std():.4f}"
            )
        return "\n".join(lines)


def compare(
    frames: Frame | Iterable[Frame],
    labels,
    model,
    folds: int = 5,
    seed: int = 0,
    out_dir=None,
    device=None,
    l2: float = DEFAULT_L2,
    force: bool = True,
    folds_by: str = "auto",
) -> Report:
    """Cross-validated linear probes of ``model``'s embeddings and of Steinhardt features on the same labels.

    ``labels``: per particle (a flat array over all frames, or one array per frame), or one label per
    frame (e.g. two groups of frames). With ``out_dir``, also writes ``roc.png`` (out-of-fold ROC
    curves of both probes, one-vs-rest per class when there are more than two),
    ``pca.png`` (embedding principal components colored by label and by q6) and ``report.json``;
    with ``force=False`` existing files there are refused before any work is done, and so are files
    that another live run is writing (their locks are held until the report is written).

    Parameters
    ----------
    frames : Frame or iterable of Frame
        The labeled snapshots.
    labels : array_like or sequence
        Per particle or per frame, as :func:`particle_labels` reads them; at least two classes.
    model : Encoder
        The encoder whose embeddings are probed.
    folds : int
        Cross-validation folds.
    seed : int
        Seed of the folds and of the PCA plot's sample.
    out_dir : str, PathLike or None
        Where the pictures and ``report.json`` go (None: nothing is written).
    device : str, torch.device or None
        Where the encoder runs.
    l2 : float
        The probes' L2 penalty.
    force : bool
        Overwrite existing output files.
    folds_by : str
        How folds are grouped so that no test particle's neighbors train the probe: ``"auto"``
        (frames when there are enough, else spatial blocks), ``"frame"``, ``"block"`` or
        ``"particle"`` (the leaky per-particle split); see :func:`grouped_folds`.

    Returns
    -------
    Report
    """
    frames = [frames] if isinstance(frames, Frame) else list(frames)
    if not frames:
        raise SimsslError("no frames to compare")
    labels = particle_labels([frame.n_particles for frame in frames], labels)
    classes, counts = np.unique(labels, return_counts=True)
    if len(classes) < 2:
        raise SimsslError(f"every particle has the label {classes[0].item()!r}; comparing needs at least two classes")
    fold, grouping = grouped_folds(labels, frames, folds, seed, by=folds_by)
    files = [os.path.join(out_dir, name) for name in OUTPUT_FILES] if out_dir is not None else []
    if files:
        os.makedirs(out_dir, exist_ok=True)
    with locked(*files):  # held until the report is written: a second compare into out_dir is refused
        for path in files:
            refuse_overwrite(path, force)
        features = {
            "embedding": np.concatenate([embedding_features(model, frame, device) for frame in frames]),
            "steinhardt": np.concatenate([steinhardt_features(frame) for frame in frames]),
        }
        card = getattr(model, "card", None) or {}
        report = Report(
            classes.tolist(),
            counts.tolist(),
            len(frames),
            folds,
            seed,
            {
                "name": card.get("name", "encoder"),
                "trained": card.get("trained", True),
                "config": model.config.to_dict(),
            },
            {name: cross_validate(values, labels, fold, l2) for name, values in features.items()},
            grouping=grouping,
        )
        if out_dir is not None:
            q6 = features["steinhardt"][:, STEINHARDT_COLUMNS.index("q6")]
            report.files = [
                plot_roc(report, labels, files[0]),
                plot_pca(features["embedding"][:, : model.config.dim], labels, q6, files[1], seed),
                files[2],
            ]
            write_json(report.to_dict(), files[2])
    return report


def plot_roc(report: Report, labels: np.ndarray, path: str) -> str:
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
    from .clustering import principal_components

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


def write_json(data: dict, path: str) -> str:
    """Write ``data`` as indented JSON through a partial file renamed into place.

    Parameters
    ----------
    data : dict
        JSON-serializable data.
    path : str
        Target file; replaced if it exists.

    Returns
    -------
    str
        ``path``.
    """
    with AtomicFile(path, force=True) as target, open(target.temporary, "w") as handle:
        json.dump(data, handle, indent=2)
        handle.write("\n")
    return path
