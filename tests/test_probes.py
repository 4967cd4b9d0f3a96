"""simssl.compare.probes: the logistic-regression probe and metrics against known answers (and scikit-learn
when installed), stratified folds, folds grouped so that neighbors do not leak, labels per particle."""

import numpy as np
import pytest

import simssl
from simssl.compare.probes import (
    LogisticRegression,
    grouped_folds,
    particle_labels,
    roc_auc,
    roc_curve,
    stratified_folds,
)
from simssl.library.structures import crystal


def blobs(n=600, seed=0):
    """Three overlapping classes drawn from a known logistic model over skewed, badly scaled features."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)) * [1.0, 5.0, 0.2, 30.0] + [0.0, 3.0, -1.0, 100.0]
    weights = rng.normal(size=(4, 3)) * 2
    logits = (x - x.mean(0)) / x.std(0) @ weights
    return x, (logits + rng.gumbel(size=logits.shape)).argmax(1)


def test_logistic_regression_is_at_its_optimum_and_matches_sklearn():
    """Stationarity of the penalized likelihood (exact property of the optimum) and agreement with sklearn."""
    x, y = blobs()
    l2 = 1e-2
    probe = LogisticRegression(l2=l2).fit(x, y)
    standardized = (x - x.mean(0)) / x.std(0)
    residual = probe.predict_proba(x) - np.eye(3)[y]
    np.testing.assert_allclose(standardized.T @ residual / len(y) + l2 * probe.coef_.T, 0, atol=1e-5)
    np.testing.assert_allclose(residual.mean(0), 0, atol=1e-5)  # intercepts are unpenalized
    assert 0.7 < np.mean(probe.predict(x) == y) < 1.0  # overlapping classes: good, not perfect
    sklearn = pytest.importorskip("sklearn.linear_model")
    reference = sklearn.LogisticRegression(C=1 / (l2 * len(y)), tol=1e-10, max_iter=10_000).fit(standardized, y)
    np.testing.assert_allclose(probe.predict_proba(x), reference.predict_proba(standardized), atol=5e-5)


def test_logistic_regression_labels_and_separable_data():
    x = np.r_[np.linspace(-3, -1, 20), np.linspace(1, 3, 20)][:, None]
    labels = np.array(["liquid"] * 20 + ["solid"] * 20)
    probe = LogisticRegression().fit(x, labels)
    assert list(probe.classes_) == ["liquid", "solid"]
    assert list(probe.predict([[-2.0], [0.5], [2.0]])) == ["liquid", "solid", "solid"]
    with pytest.raises(simssl.SimsslError, match="at least two classes"):
        LogisticRegression().fit(x, np.zeros(40))


def test_roc_auc_known_cases():
    assert roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75  # the textbook example
    assert roc_auc([0, 1, 0, 1], [1, 2, 1, 2]) == 1.0
    assert roc_auc([0, 1, 0, 1], [2, 1, 2, 1]) == 0.0
    assert roc_auc([0, 1, 0, 1], [1, 1, 1, 1]) == 0.5  # ties count one half
    assert roc_auc([1, 2, 2], [0.5, 0.5, 0.9]) == 0.75  # larger label is positive; one tied pair
    scores = np.array([[0.3, 0.1, 0.4], [0.2, 0.7, 0.1], [0.3, 0.3, 0.4], [0.5, 0.1, 0.4]])
    assert roc_auc([0, 1, 2, 2], scores) == pytest.approx((0.5 + 1.0 + 0.75) / 3)  # one-vs-rest, macro


def test_roc_auc_and_curve_match_sklearn_with_ties():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, 500)
    scores = rng.integers(0, 6, (500, 3)) + labels[:, None] * np.eye(3)[labels] * 2
    fpr, tpr = roc_curve(labels == 1, scores[:, 1])
    assert (
        (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0, 0, 1, 1) and np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)
    )
    assert np.trapezoid(tpr, fpr) == pytest.approx(roc_auc(labels == 1, scores[:, 1]))  # area under the curve
    metrics = pytest.importorskip("sklearn.metrics")
    assert roc_auc(labels == 1, scores[:, 1]) == pytest.approx(metrics.roc_auc_score(labels == 1, scores[:, 1]))
    probabilities = (scores + 1) / (scores + 1).sum(1, keepdims=True)
    assert roc_auc(labels, probabilities) == pytest.approx(
        metrics.roc_auc_score(labels, probabilities, multi_class="ovr")
    )


def test_stratified_folds():
    labels = np.repeat([0, 1, 2], [50, 13, 7])
    fold = stratified_folds(labels, folds=5, seed=3)
    counts = np.array([[np.sum((fold == f) & (labels == c)) for f in range(5)] for c in range(3)])
    assert np.all(counts.max(1) - counts.min(1) <= 1) and counts.sum() == 70  # every class spread evenly
    sizes = np.bincount(fold)
    assert sizes.max() - sizes.min() <= 1
    np.testing.assert_array_equal(fold, stratified_folds(labels, folds=5, seed=3))
    assert not np.array_equal(fold, stratified_folds(labels, folds=5, seed=4))
    with pytest.raises(simssl.SimsslError, match="class 2 has 7 sample"):
        stratified_folds(labels, folds=8)


def test_particle_labels():
    np.testing.assert_array_equal(particle_labels([2, 3], [0, 1]), [0, 0, 1, 1, 1])  # one per frame
    np.testing.assert_array_equal(particle_labels([2, 3], [[5, 6], [7, 8, 9]]), [5, 6, 7, 8, 9])
    np.testing.assert_array_equal(particle_labels([2, 3], np.arange(5)), np.arange(5))
    with pytest.raises(simssl.SimsslError, match="frame 1 has 3 particles but 2 labels"):
        particle_labels([2, 3], [[5, 6], [7, 8]])
    with pytest.raises(simssl.SimsslError, match="got 4 labels for 5 particles"):
        particle_labels([2, 3], np.arange(4))


def test_folds_are_grouped_so_neighbors_do_not_leak():
    """Issue 11, item 19: per-particle folds put test particles' neighbors in the training set."""
    frames = [crystal("cF4-Cu", 4000, noise=0.05, seed=1), crystal("cI2-W", 4000, noise=0.05, seed=2)] * 3
    labels = np.concatenate([np.full(frame.n_particles, index % 2) for index, frame in enumerate(frames)])
    fold, grouping = grouped_folds(labels, frames, folds=3)
    assert grouping == "frame"
    bounds = np.cumsum([0] + [frame.n_particles for frame in frames])
    for start, stop in zip(bounds[:-1], bounds[1:]):
        assert len(np.unique(fold[start:stop])) == 1  # a whole frame in one fold
    fold, grouping = grouped_folds(labels[: bounds[2]], frames[:2], folds=3)  # one frame per class: blocks
    assert grouping == "block"
    frame = frames[0]
    hood = simssl.compute_neighborhoods(frame, k=12)
    own = fold[: frame.n_particles]
    crossing = (own[hood.indices] != own[:, None]).any(axis=1).mean()
    assert crossing < 0.6  # only particles near slab faces see other folds (per particle: nearly all would)
    per_particle, _ = grouped_folds(labels[: bounds[2]], frames[:2], folds=3, by="particle")
    assert (per_particle[: frame.n_particles][hood.indices] != per_particle[: frame.n_particles, None]).any(
        1
    ).mean() > 0.9
    with pytest.raises(simssl.SimsslError, match="fewer than the 3 folds"):
        grouped_folds(labels[: bounds[2]], frames[:2], folds=3, by="frame")
