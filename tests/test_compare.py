"""simssl compare: probes and metrics against known answers (and scikit-learn when installed), stratified
folds, embeddings vs Steinhardt on fcc vs bcc, PNG plots, and one-sentence CLI errors."""

import json

import numpy as np
import pytest

import simssl
from simssl.cli import main
from simssl.compare import (
    STEINHARDT_COLUMNS,
    LogisticRegression,
    compare,
    particle_labels,
    roc_auc,
    roc_curve,
    steinhardt_features,
    stratified_folds,
)
from simssl.io.writers import open_writer
from simssl.library.structures import crystal

PNG = b"\x89PNG\r\n\x1a\n"


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


@pytest.fixture(scope="module")
def fcc_bcc():
    return [crystal("cF4-Cu", 500, noise=0.08, seed=1), crystal("cI2-W", 500, noise=0.08, seed=2)]


def test_steinhardt_features_are_the_documented_columns(fcc_bcc):
    features = steinhardt_features(fcc_bcc[0])
    assert features.shape == (fcc_bcc[0].n_particles, 14) and STEINHARDT_COLUMNS[:7] == [
        "q4",
        "q6",
        "q8",
        "q10",
        "q12",
        "w4",
        "w6",
    ]
    reference = simssl.steinhardt(fcc_bcc[0], l=(6, 12), wl=True, average=True)
    for name in ("q6", "q12", "w6", "q6_avg", "w6_avg"):
        np.testing.assert_array_equal(features[:, STEINHARDT_COLUMNS.index(name)], reference[name])


def test_compare_fcc_vs_bcc_with_plots(fcc_bcc, tmp_path):
    model = simssl.load_model("random")
    report = compare(fcc_bcc, [0, 1], model, folds=4, out_dir=tmp_path / "out")
    steinhardt, embedding = report.probes["steinhardt"], report.probes["embedding"]
    assert steinhardt.accuracy.mean() > 0.9 and steinhardt.auc.mean() > 0.9
    assert embedding.features == 2 * model.config.dim and len(embedding.accuracy) == 4
    assert report.counts == [fcc_bcc[0].n_particles, fcc_bcc[1].n_particles]
    written = json.loads((tmp_path / "out" / "report.json").read_text())
    assert written["probes"]["steinhardt"]["accuracy"]["mean"] == pytest.approx(steinhardt.accuracy.mean())
    for name in ("roc.png", "pca.png"):
        assert (tmp_path / "out" / name).read_bytes()[:8] == PNG
    assert "UNTRAINED" in report.table() and "Steinhardt" in report.table()


def write_frames(path, frames):
    with open_writer(str(path)) as writer:
        for frame in frames:
            writer.write(frame, {})
    return str(path)


@pytest.fixture(scope="module")
def small_files(tmp_path_factory):
    directory = tmp_path_factory.mktemp("compare_cli")
    return [
        write_frames(directory / f"{name}.gsd", [crystal(name, 100, noise=0.05, seed=s) for s in (1, 2)])
        for name in ("cF4-Cu", "cI2-W")
    ]


def test_cli_compare_groups_of_frames(small_files, tmp_path, capsys):
    assert (
        main(
            [
                "compare",
                *small_files,
                "--groups",
                "fcc,bcc",
                "--model",
                "random",
                "--out-dir",
                str(tmp_path),
                "--folds",
                "3",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "ROC AUC" in out and "Steinhardt" in out and str(tmp_path / "report.json") in out
    assert json.loads((tmp_path / "report.json").read_text())["classes"] == ["bcc", "fcc"]


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--groups=0,1,1"], "--groups gives 3 label(s) for 4 frame(s) in 2 file(s)"),
        (["--groups=1,1"], "every particle has the label '1'"),
        (["--groups=0,1", "--folds=1000"], "fewer than the 1000 folds"),
        (["--labels={tmp}/labels.npz"], "got 7 labels for"),
        (["--labels={tmp}/missing.npz"], "label file does not exist"),
    ],
)
def test_cli_bad_labels(small_files, tmp_path, capsys, arguments, message):
    np.savez(tmp_path / "labels.npz", labels=np.arange(7))
    arguments = [argument.format(tmp=tmp_path) for argument in arguments]
    assert main(["compare", *small_files, *arguments, "--model", "random", "--out-dir", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("simssl: error:") and message in error and error.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_folds_are_grouped_so_neighbors_do_not_leak():
    """Issue 11, item 19: per-particle folds put test particles' neighbors in the training set."""
    from simssl.compare import grouped_folds

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


def test_report_says_how_folds_were_grouped(fcc_bcc):
    model = simssl.load_model("random")
    report = compare(fcc_bcc, [0, 1], model, folds=3)
    assert report.grouping == "block" and "grouped by spatial block" in report.table()
    assert report.to_dict()["grouping"] == "block"
