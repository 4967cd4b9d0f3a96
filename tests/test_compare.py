"""simssl compare: embeddings vs Steinhardt on fcc vs bcc, the documented feature columns, PNG plots,
the report, and one-sentence CLI errors. The probes and metrics themselves: tests/test_probes.py."""

import ast
import json
from pathlib import Path

import numpy as np
import pytest

import simssl
import simssl.compare
from simssl.cli import main
from simssl.compare import STEINHARDT_COLUMNS, compare, steinhardt_features
from simssl.io.writers import open_writer
from simssl.library.structures import crystal

PNG = b"\x89PNG\r\n\x1a\n"


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


def test_report_says_how_folds_were_grouped(fcc_bcc):
    model = simssl.load_model("random")
    report = compare(fcc_bcc, [0, 1], model, folds=3)
    assert report.grouping == "block" and "grouped by spatial block" in report.table()
    assert report.to_dict()["grouping"] == "block"


def test_the_package_re_exports_every_public_name_of_its_modules():
    """``from simssl.compare import ...`` works for every public name defined in features, probes, report, figures."""
    for path in Path(simssl.compare.__file__).parent.glob("[!_]*.py"):
        defined = set()
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                defined.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                defined.update(t.id for t in targets if isinstance(t, ast.Name))
        public = {name for name in defined if not name.startswith("_")}
        assert public <= set(simssl.compare.__all__), (path.name, public - set(simssl.compare.__all__))
    assert all(hasattr(simssl.compare, name) for name in simssl.compare.__all__)
