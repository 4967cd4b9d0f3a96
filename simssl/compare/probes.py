"""Linear probes and their scores: logistic regression, ROC AUC and curves, cross-validation folds.

The question a user asks is "do the embeddings tell my classes apart better than q_l do?". Every
feature set gets the same probe, a multinomial logistic regression (:class:`LogisticRegression`),
scored by cross-validation (:func:`cross_validate`: accuracy and ROC AUC per fold) over folds that
keep test particles' neighbors out of training (:func:`grouped_folds`). Implemented with numpy, and
torch for the L-BFGS fit (no scikit-learn dependency); deterministic for a seed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch.nn import functional as F

from ..defaults import GROUPINGS
from ..errors import SimsslError

if TYPE_CHECKING:
    from ..frame import Frame

DEFAULT_L2 = 1e-4


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
