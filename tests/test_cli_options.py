"""One command line: every sub-command takes the shared options with one meaning, and one error handler."""

import subprocess
import sys

import numpy as np
import pytest
from crystals import SKEW, triclinic_fcc

import simssl
from simssl.cli import build_parser, main

READERS = ["process", "info", "compare", "pretrain", "finetune"]  # every command that reads trajectories
ALL = ["process", "info", "plot", "compare", "pretrain", "finetune"]
SHARED = {
    "-o/--output": ["process", "plot", "compare", "pretrain", "finetune"],
    "--force": ["process", "plot", "compare", "pretrain", "finetune"],
    "--quiet": ["process", "plot", "compare", "pretrain", "finetune"],
    "--seed": ["plot", "compare", "pretrain", "finetune"],
    "--model": ["process", "compare", "finetune"],
    "--device": ["process", "compare", "pretrain", "finetune"],
}


def subparser(name):
    parser = build_parser()
    return next(action for action in parser._subparsers._group_actions if action.dest == "command").choices[name]


def option(parser, flag):
    return next((action for action in parser._actions if flag in action.option_strings), None)


@pytest.mark.parametrize("command", READERS)
def test_reader_options_everywhere(command):
    parser = subparser(command)
    for flag in ("--format", "--box", "--frames"):
        action = option(parser, flag)
        assert action is not None, f"{command} lacks {flag}"
        assert action.help == option(subparser("process"), flag).help  # one definition, one meaning
    assert option(parser, "--format").choices == simssl.io.FORMATS


@pytest.mark.parametrize("flag, commands", SHARED.items())
def test_shared_options(flag, commands):
    first = flag.split("/")[-1]
    for command in commands:
        action = option(subparser(command), first)
        assert action is not None, f"{command} lacks {flag}"
        if flag == "-o/--output":
            assert "-o" in action.option_strings
    if flag == "--seed":  # what is seeded differs per command; the option's type and default do not
        assert {(option(subparser(c), first).type, option(subparser(c), first).default) for c in commands} == {(int, 0)}
    elif flag != "-o/--output":
        helps = {option(subparser(command), first).help.split(" (default")[0] for command in commands}
        assert len(helps) == 1, helps


@pytest.mark.parametrize(
    "command, old", [("pretrain", "--out"), ("finetune", "--out"), ("compare", "--out-dir"), ("plot", "--out-dir")]
)
def test_old_spellings_are_aliases(command, old):
    parser = subparser(command)
    assert option(parser, old) is option(parser, "--output")


def test_compare_help_names_the_default_model():
    assert "default: default, the shipped model" in option(subparser("compare"), "--model").help


@pytest.fixture(scope="module")
def plain_xyz(tmp_path_factory):
    """Two plain XYZ files (no lattice): an FCC and a BCC-like noisy crystal; they need --box."""
    directory = tmp_path_factory.mktemp("xyz")
    rows, positions = triclinic_fcc(np.diag(np.diag(SKEW)))
    rng = np.random.default_rng(0)
    paths = []
    for name, noise in (("a", 0.02), ("b", 0.12)):
        points = positions + rng.normal(0, noise, positions.shape)
        text = f"{len(points)}\nplain\n" + "".join(f"Ar {x:.8f} {y:.8f} {z:.8f}\n" for x, y, z in points)
        path = directory / f"{name}.xyz"
        path.write_text(text)
        paths.append(path)
    return paths, ",".join(f"{v:.12g}" for v in np.diag(rows))


def test_box_and_format_work_for_compare_and_info(plain_xyz, tmp_path, capsys):
    paths, box = plain_xyz
    assert main(["info", str(paths[0]), "--box", box]) == 0
    assert "1 frame(s)" in capsys.readouterr().out
    assert (
        main(["compare", *map(str, paths), "--groups", "0,1", "--model", "random", "-o", str(tmp_path), "--folds", "2"])
        == 2
    )  # no box
    assert "has no lattice; give the box explicitly" in capsys.readouterr().err
    arguments = [
        "compare",
        *map(str, paths),
        "--groups",
        "0,1",
        "--model",
        "random",
        "-o",
        str(tmp_path / "cmp"),
        "--folds",
        "2",
        "--box",
        box,
    ]
    assert main(arguments + ["--quiet"]) == 0
    assert (tmp_path / "cmp" / "report.json").exists()
    assert main(arguments + ["--quiet"]) == 2  # exists: refused without --force
    assert "exists; pass --force" in capsys.readouterr().err
    assert main(arguments + ["--quiet", "--force"]) == 0


def test_finetune_reads_with_box_and_saves_atomically(plain_xyz, tmp_path, capsys):
    paths, box = plain_xyz
    labels = tmp_path / "labels.npz"
    np.savez(labels, frame_labels=np.array([0, 1]))
    output = tmp_path / "head.pt"
    arguments = [
        "finetune",
        "--model",
        "random",
        "--data",
        *map(str, paths),
        "--box",
        box,
        "--labels",
        str(labels),
        "-o",
        str(output),
        "--fraction",
        "0.2",
        "--epochs",
        "3",
    ]
    assert main(arguments) == 0
    assert output.exists() and not list(tmp_path.glob(".*part*"))
    assert main(arguments) == 2 and "exists; pass --force" in capsys.readouterr().err


def test_plot_refuses_to_overwrite_without_force(tmp_path, capsys):
    source = tmp_path / "ex.simssl.gsd"
    assert main(["process", "--example", "--frames", "0:20:10", "-o", str(source), "--quiet"]) == 0
    assert main(["plot", str(source), "--quiet"]) == 0
    pictures = sorted(tmp_path.glob("*.png"))
    assert len(pictures) == 3
    stamps = [p.stat().st_mtime_ns for p in pictures]
    assert main(["plot", str(source)]) == 2 and "exists; pass --force" in capsys.readouterr().err
    assert [p.stat().st_mtime_ns for p in pictures] == stamps
    assert main(["plot", str(source), "--force", "--quiet"]) == 0


@pytest.mark.slow
def test_python_m_simssl_and_one_error_handler(tmp_path):
    """``python -m simssl`` is the command; a missing file is one sentence and exit 2 for every reader."""
    for command in (["info"], ["compare", "--groups", "0", "--model", "random", "-o", str(tmp_path)]):
        done = subprocess.run(
            [sys.executable, "-m", "simssl", *command, str(tmp_path / "missing.gsd")],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 2, done.stderr
        assert done.stderr.strip() == f"simssl: error: {tmp_path / 'missing.gsd'}: no such file"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "simssl",
            "pretrain",
            "--preset",
            "small",
            "--data",
            str(tmp_path / "missing.gsd"),
            "--no-library",
            "-o",
            str(tmp_path / "m.pt"),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2 and "no such file" in done.stderr and "Traceback" not in done.stderr
