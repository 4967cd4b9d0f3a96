"""The offline processor: outputs readable by gsd (and OVITO), equal to direct computation, CLI included."""

import subprocess
import sys

import freud
import gsd.hoomd
import numpy as np
import pytest
from crystals import FCC_Q6

import simssl
from simssl.cli import main


@pytest.fixture(scope="module")
def trajectory(tmp_path_factory):
    """Three frames of a noisy two-type FCC crystal with growing noise."""
    path = tmp_path_factory.mktemp("traj") / "noisy.gsd"
    with gsd.hoomd.open(str(path), "w") as out:
        for step, sigma in enumerate([0.0, 0.05, 0.1]):
            box, points = freud.data.UnitCell.fcc().generate_system(5, sigma_noise=sigma, seed=step)
            frame = gsd.hoomd.Frame()
            frame.configuration.box = [box.Lx, box.Ly, box.Lz, 0, 0, 0]
            frame.configuration.step = 1000 * step
            frame.particles.N = len(points)
            frame.particles.position = box.wrap(points).astype(np.float32)
            frame.particles.typeid = (np.arange(len(points)) % 2).astype(np.uint32)
            frame.particles.types = ["A", "B"]
            out.append(frame)
    return path


def test_gsd_output_holds_frames_and_log_arrays(trajectory, tmp_path):
    output = tmp_path / "out.gsd"
    result = simssl.process(trajectory, output, steinhardt=(4, 6, 8), progress=False)
    assert result.n_frames == 3 and result.n_particles == 3 * 500
    with gsd.hoomd.open(str(output)) as written, gsd.hoomd.open(str(trajectory)) as original:
        assert len(written) == 3
        for frame_out, frame_in, frame in zip(written, original, simssl.read_frames(trajectory)):
            np.testing.assert_array_equal(frame_out.particles.position, frame_in.particles.position)
            np.testing.assert_array_equal(frame_out.particles.typeid, frame_in.particles.typeid)
            assert frame_out.particles.types == ["A", "B"]
            assert frame_out.configuration.step == frame_in.configuration.step
            np.testing.assert_allclose(frame_out.configuration.box, frame_in.configuration.box)
            expected = simssl.steinhardt(frame, l=(4, 6, 8))
            quantities = [key for key in frame_out.log if key != "simssl/fingerprint"]  # the run record (frame 0)
            assert sorted(quantities) == sorted(f"particles/simssl/{name}" for name in expected)
            for name, values in expected.items():
                np.testing.assert_array_equal(frame_out.log[f"particles/simssl/{name}"], values)
    log = gsd.hoomd.read_log(str(output))
    assert log["log/particles/simssl/q6"].shape == (3, 500)
    q6 = log["log/particles/simssl/q6"].mean(axis=1)
    assert q6[0] == pytest.approx(FCC_Q6, abs=1e-4) and q6[0] > q6[1] > q6[2]
    mean, std = result.statistics["q6"]
    assert mean == pytest.approx(log["log/particles/simssl/q6"].mean(), rel=1e-5)
    assert std == pytest.approx(log["log/particles/simssl/q6"].std(), rel=1e-4)


def test_npz_stacked_output(trajectory, tmp_path):
    output = tmp_path / "out.npz"
    simssl.process(trajectory, output, frames="1:", progress=False)
    data = np.load(output)
    assert str(data["layout"]) == "stacked"
    assert data["q4"].shape == (2, 500) and data["q6"].shape == (2, 500)
    np.testing.assert_array_equal(data["step"], [1000, 2000])
    np.testing.assert_array_equal(data["frame"], [1, 2])
    np.testing.assert_array_equal(data["q6"][1], simssl.steinhardt(simssl.read(trajectory, 2), l=6)["q6"])


def test_npz_ragged_when_particle_counts_differ(tmp_path):
    path = tmp_path / "grow.gsd"
    with gsd.hoomd.open(str(path), "w") as out:
        for n in (3, 4):
            box, points = freud.data.UnitCell.fcc().generate_system(n, sigma_noise=0.03, seed=n)
            frame = gsd.hoomd.Frame()
            frame.configuration.box = [box.Lx, box.Ly, box.Lz, 0, 0, 0]
            frame.particles.N = len(points)
            frame.particles.position = box.wrap(points).astype(np.float32)
            out.append(frame)
    simssl.process(path, tmp_path / "out.npz", progress=False)
    data = np.load(tmp_path / "out.npz")
    assert str(data["layout"]) == "ragged"
    offsets = data["frame_offsets"]
    np.testing.assert_array_equal(offsets, [0, 108, 108 + 256])
    frames = list(simssl.read_frames(path))
    for i, frame in enumerate(frames):
        np.testing.assert_array_equal(data["q6"][offsets[i] : offsets[i + 1]], simssl.steinhardt(frame, l=6)["q6"])


def test_in_memory_results_and_custom_analyzers(trajectory):
    class CoordinationWithin:
        """A tiny analyzer: number of neighbors among the 16 nearest closer than 1.2 x scale."""

        num_neighbors = 16

        def __call__(self, frame, neighborhoods):
            distances = np.linalg.norm(neighborhoods.vectors, axis=-1)
            return {"coordination": (distances < 1.2 * neighborhoods.scale).sum(axis=1).astype(np.int32)}

    result = simssl.process(trajectory, analyzers=[simssl.Steinhardt((6,)), CoordinationWithin()], progress=False)
    assert len(result.frames) == 3 and result.output is None
    assert set(result.frames[0]) == {"q6", "coordination"}
    assert np.all(result.frames[0]["coordination"] == 12)  # perfect FCC first frame
    assert result.frames[2]["coordination"].std() > 0  # noisy last frame


def test_ovito_reads_the_output(trajectory, tmp_path):
    ovito_io = pytest.importorskip("ovito.io")
    output = tmp_path / "out.gsd"
    simssl.process(trajectory, output, progress=False)
    pipeline = ovito_io.import_file(str(output))
    assert pipeline.num_frames == 3
    data = pipeline.compute(2)
    q6 = np.asarray(data.particles["simssl_q6"])  # OVITO names log array particles/simssl/q6 "simssl_q6"
    expected = gsd.hoomd.read_log(str(output))["log/particles/simssl/q6"][2]
    np.testing.assert_allclose(q6, expected)


def test_cli_process_summary_and_exit_code(trajectory, tmp_path, capsys):
    """The summary, exit code and quantities; the run record is a non-particle log entry (tested in test_resume)."""
    output = tmp_path / "cli.gsd"
    assert (
        main(
            ["process", str(trajectory), "-o", str(output), "--steinhardt", "6", "--average", "--wl", "--frames", "0:2"]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "2 frame(s), 1000 particle(s)" in printed and "q6_avg" in printed and "w6" in printed
    log = gsd.hoomd.read_log(str(output))
    assert set(k for k in log if k.startswith("log/particles/")) == {
        "log/particles/simssl/q6",
        "log/particles/simssl/w6",
        "log/particles/simssl/q6_avg",
        "log/particles/simssl/w6_avg",
    }
    assert main(["process", str(trajectory), "-o", str(output), "--quiet", "--force"]) == 0
    assert capsys.readouterr().out == ""


@pytest.mark.slow
def test_console_script_runs_the_bundled_example(tmp_path):
    if not simssl.example_path().exists():
        pytest.fail("the bundled example trajectory is missing from the package")
    output = tmp_path / "example.simssl.gsd"
    arguments = [
        "process",
        "--example",
        "-o",
        str(output),
        "--model",
        "default",
        "--frames",
        "::4",
        "--quiet",
    ]  # the README's main job
    done = subprocess.run([sys.executable, "-m", "simssl.cli", *arguments], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    log = gsd.hoomd.read_log(str(output))
    q6 = log["log/particles/simssl/q6"].mean(axis=1)
    assert len(q6) == 5 and q6[-1] > q6[0] + 0.1  # the example crystallizes
    embedding = log["log/particles/simssl/embedding"]
    assert embedding.shape == (5, 4000, 32) and np.all(np.isfinite(embedding))
    # the shipped model tells the melt from the crystal: frame-mean embeddings move apart
    assert np.linalg.norm(embedding[-1].mean(0) - embedding[0].mean(0)) > 5 * embedding[-1].std(0).mean() / np.sqrt(
        4000
    )


def test_info_command(trajectory, capsys):
    assert main(["info", str(trajectory)]) == 0
    printed = capsys.readouterr().out
    assert "500 particles" in printed and "3 frame(s)" in printed


def test_embeddings_join_the_processor(trajectory, tmp_path):
    """An encoder is one more analyzer: it writes particles/simssl/embedding, on any number of types."""
    pytest.importorskip("torch")
    from simssl.checkpoints import load_model

    model = load_model("random", n_types=2, dim=8, blocks=1)  # a typed model
    output = tmp_path / "embedded.gsd"
    # a geometry-only model (like the default) runs on the two-type frames; a one-type model refuses them
    geometric = tmp_path / "geometric.gsd"
    assert (
        main(["process", str(trajectory), "-o", str(geometric), "--frames", "0:2", "--quiet", "--model", "random"]) == 0
    )
    with gsd.hoomd.open(str(geometric)) as written:
        assert written[1].log["particles/simssl/embedding"].shape == (500, 32)
    with pytest.raises(simssl.SimsslError, match="2 particle types but the model was trained with 1"):
        simssl.Embedding(load_model("random", n_types=1)).compute(simssl.read(trajectory, 1))
    result = simssl.process(
        trajectory,
        output,
        analyzers=[simssl.Steinhardt((6,)), simssl.Embedding(model, average=True)],
        frames="0:2",
        progress=False,
    )
    assert result.n_frames == 2
    with gsd.hoomd.open(str(output)) as written:
        embedding = written[1].log["particles/simssl/embedding"]
        assert embedding.shape == (500, 8) and embedding.dtype == np.float32
        np.testing.assert_allclose(embedding, model.embed(simssl.read(trajectory, 1)), rtol=1e-5, atol=1e-6)
        assert np.ptp(embedding, axis=0).max() > 1e-3  # noisy frame: environments differ
        averaged = written[1].log["particles/simssl/embedding_avg"]
        np.testing.assert_allclose(
            averaged, model.embed(simssl.read(trajectory, 1), average=True), rtol=1e-5, atol=1e-6
        )
    # identical environments (one type, k=12 = the complete FCC shell) give identical embeddings
    box, points = freud.data.UnitCell.fcc().generate_system(4)
    perfect = simssl.make_frame(box, points)
    shell = load_model("random", cutoff=None, k=12, dim=8, blocks=1)
    assert np.ptp(shell.embed(simssl.compute_neighborhoods(perfect, k=12)), axis=0).max() < 1e-4
