"""Distributed processing on a real dask LocalCluster: outputs identical to the single-process path."""

import freud
import gsd.hoomd
import numpy as np
import pytest

from simssl.cli import main

pytest.importorskip("dask.distributed")


def write_trajectory(path, seed, n_frames=2):
    with gsd.hoomd.open(str(path), "w") as out:
        for step in range(n_frames):
            box, points = freud.data.UnitCell.fcc().generate_system(4, sigma_noise=0.05, seed=seed * 10 + step)
            frame = gsd.hoomd.Frame()
            frame.configuration.box = [box.Lx, box.Ly, box.Lz, 0, 0, 0]
            frame.configuration.step = step
            frame.particles.N = len(points)
            frame.particles.position = box.wrap(points).astype(np.float32)
            out.append(frame)


def test_local_cluster_matches_single_process_and_isolates_failures(tmp_path, capsys):
    inputs = tmp_path / "runs"
    inputs.mkdir()
    for seed in range(3):
        write_trajectory(inputs / f"run{seed}.gsd", seed)
    (inputs / "broken.gsd").write_bytes(b"not a gsd file")
    options = ["--steinhardt", "4,6", "--average", "--model", "random", "--quiet"]

    code = main(
        [
            "process",
            str(inputs / "*.gsd"),
            "-o",
            str(tmp_path / "out"),
            "--scheduler",
            "local",
            "--workers",
            "2",
            *options,
        ]
    )
    assert code == 2  # one input failed ...
    assert "broken.gsd" in capsys.readouterr().err
    for seed in range(3):  # ... and every other input was still written, byte for byte as alone
        single = tmp_path / f"single{seed}.gsd"
        assert main(["process", str(inputs / f"run{seed}.gsd"), "-o", str(single), *options]) == 0
        assert (tmp_path / "out" / f"run{seed}.simssl.gsd").read_bytes() == single.read_bytes()
    assert not (tmp_path / "out" / "broken.simssl.gsd").exists()


def test_several_inputs_need_an_output_directory(tmp_path, capsys):
    for seed in range(2):
        write_trajectory(tmp_path / f"r{seed}.gsd", seed, n_frames=1)
    assert main(["process", str(tmp_path / "r0.gsd"), str(tmp_path / "r1.gsd"), "-o", str(tmp_path / "x.gsd")]) == 2
    assert "directory" in capsys.readouterr().err
