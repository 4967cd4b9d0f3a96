"""Options that cannot be honoured are one sentence and exit 2, never silently changed (issue 11, items 6, 7, 16).

Each case runs through the Python API, the in-process command line and a subprocess.
"""

import subprocess
import sys

import freud
import gsd.hoomd
import numpy as np
import pytest

import simssl
from simssl.atomic import partial_path
from simssl.cli import main


@pytest.fixture(scope="module")
def one_frame(tmp_path_factory):
    path = tmp_path_factory.mktemp("options") / "one.gsd"
    box, points = freud.data.UnitCell.fcc().generate_system(4, sigma_noise=0.03, seed=1)
    with gsd.hoomd.open(str(path), "w") as out:
        frame = gsd.hoomd.Frame()
        frame.configuration.box = [box.Lx, box.Ly, box.Lz, 0, 0, 0]
        frame.particles.N = len(points)
        frame.particles.position = box.wrap(points).astype(np.float32)
        out.append(frame)
    return path


def one_sentence(stderr: str, *fragments: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("simssl: error:") and "Traceback" not in stderr, stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


CLI_CASES = {
    "k-below-model": (
        ["process", "{input}", "-o", "{out}", "--model", "random", "--k", "4"],
        ("--k 4", "Embedding 16"),
    ),
    "k-below-steinhardt": (["process", "{input}", "-o", "{out}", "--k", "8"], ("--k 8", "Steinhardt 12")),
    "batch-size-zero": (
        ["process", "{input}", "-o", "{out}", "--model", "random", "--batch-size", "0"],
        ("batch-size", "0"),
    ),
    "steinhardt-k-zero": (["process", "{input}", "-o", "{out}", "--steinhardt-k", "0"], ("steinhardt-k",)),
    "device-gpu": (
        ["process", "{input}", "-o", "{out}", "--model", "random", "--device", "gpu"],
        ("unknown device 'gpu'", "devices here: cpu"),
    ),
    "device-cuda-9": (
        ["process", "{input}", "-o", "{out}", "--model", "random", "--device", "cuda:9"],
        ("cuda:9", "devices here"),
    ),
    "compare-device-gpu": (
        ["compare", "{input}", "--groups", "0", "--model", "random", "-o", "{dir}", "--device", "gpu"],
        ("unknown device",),
    ),
    "info-frames-past-end": (["info", "{input}", "--frames", "10"], ("'10'", "contains no frames")),
}


def fill(arguments, one_frame, tmp_path):
    return [a.format(input=one_frame, out=tmp_path / "out.gsd", dir=tmp_path / "cmp") for a in arguments]


@pytest.mark.parametrize("case", sorted(CLI_CASES))
def test_cli_refuses(case, one_frame, tmp_path, capsys):
    arguments, fragments = CLI_CASES[case]
    assert main(fill(arguments, one_frame, tmp_path)) == 2
    one_sentence(capsys.readouterr().err, *fragments)
    assert not (tmp_path / "out.gsd").exists() and not list(tmp_path.glob(".*part*"))


@pytest.mark.parametrize("case", ["k-below-model", "device-gpu", "info-frames-past-end"])
def test_subprocess_refuses(case, one_frame, tmp_path):
    arguments, fragments = CLI_CASES[case]
    done = subprocess.run(
        [sys.executable, "-m", "simssl", *fill(arguments, one_frame, tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2
    one_sentence(done.stderr, *fragments)


def test_api_refuses(one_frame):
    model = simssl.load_model("random")
    with pytest.raises(simssl.SimsslError, match=r"--k 4 \(k=4\).*Embedding 16"):
        simssl.process(one_frame, analyzers=[simssl.Embedding(model)], k=4, progress=False)
    with pytest.raises(simssl.SimsslError, match="batch size must be a positive"):
        simssl.Embedding(model, batch_size=0)
    with pytest.raises(simssl.SimsslError, match="unknown device 'gpu'; devices here: cpu"):
        simssl.AnalysisOptions(model="random", device="gpu")
    frame = simssl.read(one_frame)
    with pytest.raises(simssl.SimsslError, match="devices here"):
        model.embed(frame, device="cuda:7")
    with pytest.raises(simssl.SimsslError, match="devices here"):
        simssl.load_model("random", device="gpu")


def test_cuda_on_a_cpu_only_torch_says_so(one_frame, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert main(["process", str(one_frame), "-o", "x.gsd", "--model", "random", "--device", "cuda"]) == 2
    one_sentence(capsys.readouterr().err, "'cuda' is not available", "CPU-only torch build", "devices here: cpu")


def test_info_points_at_an_interrupted_run(one_frame, tmp_path, capsys):
    output = tmp_path / "run.simssl.gsd"
    assert main(["process", str(one_frame), "-o", str(tmp_path / "done.gsd"), "--quiet"]) == 0
    (tmp_path / "done.gsd").rename(partial_path(output))
    assert main(["info", str(output)]) == 2
    one_sentence(capsys.readouterr().err, "no such file", ".run.simssl.gsd.part.gsd", "--resume")
    assert main(["process", str(one_frame), "-o", str(output), "--quiet"]) == 2  # not deleted silently either
    one_sentence(capsys.readouterr().err, "--resume", "--force")


def test_info_lists_quantities_record_and_both_tilt_forms(tmp_path, capsys):
    box = freud.box.Box(6.0, 6.0, 6.0, 0.5, 0.0, 0.25)
    points = box.make_absolute(np.random.default_rng(0).random((300, 3)))
    path = tmp_path / "tilted.gsd"
    with gsd.hoomd.open(str(path), "w") as out:
        frame = gsd.hoomd.Frame()
        frame.configuration.box = [box.Lx, box.Ly, box.Lz, box.xy, box.xz, box.yz]
        frame.particles.N = len(points)
        frame.particles.position = points.astype(np.float32)
        out.append(frame)
    output = tmp_path / "tilted.simssl.gsd"
    assert main(["process", str(path), "-o", str(output), "--model", "random", "--average", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["info", str(output)]) == 0
    printed = capsys.readouterr().out
    assert "tilt factors (HOOMD/GSD, dimensionless): xy=0.5 xz=0 yz=0.25" in printed
    assert "tilts (LAMMPS, absolute lengths):         xy=3 xz=0 yz=1.5" in printed
    assert "embedding_avg    shape (300, 32)  float32" in printed  # float32 like the embedding (item 11)
    assert "q6_avg           shape (300,)  float32" in printed
    assert f"made by simssl {simssl.__version__} from {path}" in printed


def test_import_simssl_cli_is_light():
    """``simssl --help`` must not wait for freud, matplotlib or torch (item 18: it took 1.3 s, mostly those)."""
    code = (
        "import sys, simssl.cli; print(sorted(m for m in ('freud', 'matplotlib', 'torch', 'gsd') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_the_readme_example_output_is_ignored_by_git():
    from pathlib import Path

    ignored = (Path(__file__).resolve().parents[1] / ".gitignore").read_text().split()
    assert "example.simssl.gsd" in ignored


@pytest.fixture(scope="module")
def labels(tmp_path_factory):
    path = tmp_path_factory.mktemp("labels") / "labels.npz"
    np.savez(path, frame_labels=np.array([0]))
    return path


NUMBERS = {
    "finetune-fraction-0": [
        "finetune",
        "--model",
        "random",
        "--data",
        "{input}",
        "--labels",
        "{labels}",
        "-o",
        "{out}",
        "--fraction",
        "0",
    ],
    "finetune-fraction-2": [
        "finetune",
        "--model",
        "random",
        "--data",
        "{input}",
        "--labels",
        "{labels}",
        "-o",
        "{out}",
        "--fraction",
        "2",
    ],
    "finetune-epochs-0": [
        "finetune",
        "--model",
        "random",
        "--data",
        "{input}",
        "--labels",
        "{labels}",
        "-o",
        "{out}",
        "--epochs",
        "0",
    ],
    "pretrain-epochs-0": ["pretrain", "--preset", "small", "-o", "{out}", "--epochs", "0", "--quiet"],
    "pretrain-checkpoint-every-negative": ["pretrain", "--preset", "small", "-o", "{out}", "--checkpoint-every", "-1"],
    "compare-folds-1": ["compare", "{input}", "--groups", "0", "--model", "random", "-o", "{dir}", "--folds", "1"],
    "process-workers-0": ["process", "{input}", "{input2}", "-o", "{dir}", "--workers", "0"],
}


@pytest.mark.parametrize("case", sorted(NUMBERS))
def test_out_of_range_numbers_are_one_sentence(case, one_frame, labels, tmp_path, capsys):
    """Issue 11, item 9: ``finetune --fraction 0`` and similar numbers raised plain tracebacks."""
    second = tmp_path / "second.gsd"
    second.write_bytes(one_frame.read_bytes())
    arguments = [
        a.format(input=one_frame, input2=second, labels=labels, out=tmp_path / "out.pt", dir=tmp_path / "d")
        for a in NUMBERS[case]
    ]
    assert main(arguments) == 2
    one_sentence(capsys.readouterr().err)
    assert not (tmp_path / "out.pt").exists()


def test_embed_says_what_it_accepts(one_frame):
    """Issue 11, item 10: ``model.embed(numpy_array)`` raised AttributeError about 'n_particles'."""
    model = simssl.load_model("random")
    positions = simssl.read(one_frame).positions
    with pytest.raises(simssl.SimsslError, match=r"cannot embed a ndarray of shape \(256, 3\): give a Frame"):
        model.embed(positions)
    frame = simssl.make_frame(simssl.read(one_frame).box, positions)  # the way the message shows
    assert model.embed(frame).shape == (256, 32)
