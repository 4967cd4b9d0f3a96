"""The OVITO modifier in real OVITO pipelines on real GSD and LAMMPS files: values equal `simssl process`."""

import importlib
import sys

import gsd.hoomd
import numpy as np
import pytest
from crystals import FCC_CUBIC, FCC_Q6, box_parameters, centered, lammps_dump_text, triclinic_fcc

import simssl
from simssl.checkpoints import load_model
from simssl.clustering import principal_components
from simssl.live import LiveAnalyzer

SMALL = np.array([[3.0, 0.0, 0.0], [1.0, 3.0, 0.0], [0.5, 0.5, 3.0]]) * FCC_CUBIC  # skewed 3x3x3 cells, 108 atoms


@pytest.fixture(scope="module")
def ovito_plugin():
    pytest.importorskip("ovito")
    from ovito.io import import_file

    from simssl.plugins import ovito as plugin

    return import_file, plugin


def offline(path, model, steinhardt):
    """`simssl process` results (one dict per frame) with the analyzers the modifier uses."""
    analyzers = LiveAnalyzer(model=model, steinhardt=steinhardt, k=16).analyzers
    return simssl.process(path, analyzers=analyzers, k=16, progress=False).frames


def test_import_without_ovito_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "ovito", None)  # makes `import ovito...` raise ImportError
    monkeypatch.setitem(sys.modules, "ovito.pipeline", None)
    monkeypatch.delitem(sys.modules, "simssl.plugins.ovito", raising=False)
    with pytest.raises(ImportError, match="pip install ovito"):
        importlib.import_module("simssl.plugins.ovito")


def test_gsd_pipeline_equals_process(ovito_plugin, tmp_path):
    """Two thermalized frames of a skewed two-type crystal; a checkpoint model that sees the types."""
    import_file, plugin = ovito_plugin
    rows, positions = triclinic_fcc(SMALL)
    rng = np.random.default_rng(3)
    path = tmp_path / "run.gsd"
    with gsd.hoomd.open(str(path), "w") as trajectory:
        for step in (0, 1000):
            frame = gsd.hoomd.Frame()
            frame.configuration.box, frame.configuration.step = box_parameters(rows), step
            frame.particles.N, frame.particles.types = len(positions), ["A", "B"]
            frame.particles.position = centered(rows, positions + rng.normal(0, 0.06, positions.shape))[1].astype(
                np.float32
            )
            frame.particles.typeid = (np.arange(len(positions)) % 3 == 0).astype(np.uint32)
            trajectory.append(frame)
    model = tmp_path / "two_types.pt"
    load_model("random", n_types=2, dim=8, blocks=1).save(model)

    pipeline = import_file(str(path))
    pipeline.modifiers.append(plugin.OrderModifier(model=str(model), clusters=2))
    particles = pipeline.compute(1).particles
    expected = offline(path, str(model), (4, 6))[1]
    for name in ("q4", "q6"):
        np.testing.assert_allclose(particles[name], expected[name], rtol=1e-5, atol=1e-6)
    embedding = np.asarray(particles["Embedding"])
    assert embedding.shape == (len(positions), 8)
    np.testing.assert_allclose(embedding, expected["embedding"], rtol=1e-4, atol=1e-5)
    scores = principal_components(expected["embedding"], 2)
    np.testing.assert_allclose(particles["Order PC1"], scores[:, 0], atol=1e-4)
    np.testing.assert_allclose(particles["Order PC2"], scores[:, 1], atol=1e-4)
    assert np.var(particles["Order PC1"]) >= np.var(particles["Order PC2"]) > 0
    assert set(np.unique(particles["Order Cluster"])) == {0, 1}


def test_triclinic_lammps_dump_gives_fcc_q6(ovito_plugin, tmp_path):
    """OVITO's own LAMMPS reader: cell origin at the lower corner, a skewed cell, a perfect crystal."""
    import_file, plugin = ovito_plugin
    rows, positions = triclinic_fcc()
    path = tmp_path / "fcc.lammpstrj"
    path.write_text(lammps_dump_text(rows, positions, np.ones(len(positions), int), step=700, origin=(-3.0, 2.0, 0.5)))
    pipeline = import_file(str(path))
    pipeline.modifiers.append(plugin.OrderModifier(model="random", steinhardt=(6,)))
    data = pipeline.compute(0)
    assert data.attributes["Timestep"] == 700
    np.testing.assert_allclose(data.particles["q6"], FCC_Q6, atol=1e-4)  # every particle, skewed cell
    np.testing.assert_allclose(data.particles["q6"], offline(path, "random", (6,))[0]["q6"], atol=1e-6)
    assert "Order Cluster" not in data.particles


def test_cell_without_periodicity_is_refused(ovito_plugin, tmp_path):
    import_file, plugin = ovito_plugin
    path = tmp_path / "cluster.xyz"
    path.write_text(
        "20\n\n" + "".join(f"A {x:.4f} {y:.4f} {z:.4f}\n" for x, y, z in np.random.default_rng(0).random((20, 3)) * 4)
    )
    pipeline = import_file(str(path))
    pipeline.modifiers.append(plugin.OrderModifier(model="random"))
    with pytest.raises(simssl.SimsslError, match="no simulation cell"):
        pipeline.compute()


def test_parameters(ovito_plugin):
    _, plugin = ovito_plugin
    assert plugin.OrderModifier(steinhardt="4,6,8").steinhardt == (4, 6, 8)
    assert plugin.OrderModifier(steinhardt=[6]).steinhardt == (6,)
    with pytest.raises(Exception, match="distinct positive integers"):
        plugin.OrderModifier(steinhardt=(6, 6))
