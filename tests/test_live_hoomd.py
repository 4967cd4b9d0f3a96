"""The HOOMD-blue adapter: imports without HOOMD, and (where HOOMD is installed) logs offline-equal values.

HOOMD-blue ships through conda-forge only; CI installs the CPU wheel from ``../shared/wheels`` (see
``.ci/run``), elsewhere the tests that run a simulation skip. The rest run everywhere; the
simulation tests of every adapter path are in ``test_hoomd_runs.py``.
"""

import importlib
import importlib.util
import py_compile
import sys
from pathlib import Path

import gsd.hoomd
import numpy as np
import pytest

import simssl
import simssl.plugins

HOOMD_MISSING = "HOOMD-blue is not installed (conda-forge only; CI installs ../shared/wheels/hoomd-*.whl)"
EXAMPLE = Path(__file__).resolve().parents[1] / "plugins" / "examples" / "hoomd_live.py"


@pytest.fixture
def without_hoomd(monkeypatch):
    """A fresh ``simssl.plugins.hoomd`` imported while ``import hoomd`` fails, installed or not."""
    monkeypatch.setitem(sys.modules, "hoomd", None)
    monkeypatch.delitem(sys.modules, "simssl.plugins.hoomd", raising=False)
    monkeypatch.delattr(simssl.plugins, "hoomd", raising=False)
    return importlib.import_module("simssl.plugins.hoomd")


def test_imports_without_hoomd(without_hoomd):
    assert without_hoomd.NAMESPACE == "simssl/plugins/hoomd/OrderAnalyzer"
    assert "embedding" in without_hoomd.LOGGABLE and "q6" in without_hoomd.LOGGABLE
    assert {"structure", "structure_confidence", "structure_distance", "nucleus"} <= set(without_hoomd.LOGGABLE)
    assert without_hoomd.SCALARS == ("ordered_fraction", "n_nuclei", "largest_nucleus")


def test_order_analyzer_without_hoomd_says_how_to_install(without_hoomd):
    with pytest.raises(ImportError, match=r"needs HOOMD-blue.*conda install -c conda-forge hoomd"):
        _ = without_hoomd.OrderAnalyzer
    assert "OrderAnalyzer" not in vars(without_hoomd)  # nothing cached: a later import of HOOMD still works


def test_example_compiles(tmp_path):
    py_compile.compile(str(EXAMPLE), cfile=str(tmp_path / "hoomd_live.pyc"), doraise=True)


def _example():
    """The example script as a module (its simulation builder serves the tests too)."""
    spec = importlib.util.spec_from_file_location("hoomd_live", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_logged_quantities_equal_offline_processing(tmp_path):
    hoomd = pytest.importorskip("hoomd", reason=HOOMD_MISSING)
    from simssl.plugins.hoomd import NAMESPACE, OrderAnalyzer

    simulation, _ = _example().build_simulation(cells=4, density=1.0, kT=0.8, seed=3)
    simulation.operations.tuners.append(
        hoomd.tune.ParticleSorter(trigger=hoomd.trigger.Periodic(1))
    )  # memory order != tag order
    analyzer = OrderAnalyzer(model="random", steinhardt=(4, 6), k=16)
    assert analyzer.loggables == {"q4": "particle", "q6": "particle", "embedding": "particle", "fingerprint": "string"}
    logger = hoomd.logging.Logger(categories=["particle"])
    logger.add(analyzer)
    path = tmp_path / "live.gsd"
    # the GSD writer comes first and fires on steps the analyzer's own trigger skips: values are computed on demand
    trajectory = hoomd.write.GSD(trigger=hoomd.trigger.Periodic(100), filename=str(path), mode="wb", logger=logger)
    simulation.operations.writers.append(trajectory)
    simulation.operations.writers.append(hoomd.write.CustomWriter(action=analyzer, trigger=hoomd.trigger.Periodic(250)))
    simulation.run(300, write_at_start=True)
    trajectory.flush()
    with simulation.state.cpu_local_snapshot as snapshot:
        tags = np.array(snapshot.particles.tag, copy=True)
    assert np.any(tags != np.arange(len(tags)))

    logged = {key: value for key, value in gsd.hoomd.read_log(str(path)).items() if key.startswith("log/")}
    assert sorted(logged) == sorted(f"log/particles/{NAMESPACE}/{name}" for name in ("q4", "q6", "embedding"))
    offline = simssl.process(path, analyzers=analyzer.live.analyzers, k=16, progress=False)
    assert offline.n_frames == 4  # steps 0, 100, 200, 300
    for index, expected in enumerate(offline.frames):
        for name, values in expected.items():
            np.testing.assert_allclose(
                logged[f"log/particles/{NAMESPACE}/{name}"][index],
                values,
                rtol=1e-5,
                atol=1e-5,
                err_msg=f"frame {index}, {name}",
            )
    assert np.ptp(logged[f"log/particles/{NAMESPACE}/q6"][-1]) > 0.01  # thermal disorder: per-particle values differ


def test_identification_logged_live_equals_offline(tmp_path, default_identify):
    """A cold LJ fcc crystal (500 particles, sorted in memory every step), identified live and logged to GSD.

    Every frame's per-particle ``structure`` and ``nucleus`` equal a fresh offline ``Identify`` of the
    written frame, the scalar loggables equal its ``order_summary``, and the crystal is ordered.
    """
    hoomd = pytest.importorskip("hoomd", reason=HOOMD_MISSING)
    from simssl.nuclei import order_summary
    from simssl.plugins.hoomd import IDENTIFICATION, NAMESPACE, SCALARS, OrderAnalyzer

    simulation, _ = _example().build_simulation(cells=5, density=1.0, kT=0.05, seed=4)
    simulation.operations.tuners.append(hoomd.tune.ParticleSorter(trigger=hoomd.trigger.Periodic(1)))
    analyzer = OrderAnalyzer(identify=True, model="default", steinhardt=())
    assert analyzer.loggables == {
        "embedding": "particle",
        **{name: "particle" for name in IDENTIFICATION},
        **{name: "scalar" for name in SCALARS},
        "fingerprint": "string",
    }
    assert analyzer.structure_names[0] == "liquid" and analyzer.order is None
    logger = hoomd.logging.Logger(categories=["particle", "scalar"])
    logger.add(analyzer)
    path = tmp_path / "identified.gsd"
    trajectory = hoomd.write.GSD(trigger=hoomd.trigger.Periodic(50), filename=str(path), mode="wb", logger=logger)
    simulation.operations.writers.append(hoomd.write.CustomWriter(action=analyzer, trigger=hoomd.trigger.Periodic(50)))
    simulation.operations.writers.append(trajectory)
    simulation.run(100, write_at_start=True)
    trajectory.flush()

    log = gsd.hoomd.read_log(str(path))
    assert list(log["configuration/step"]) == [0, 50, 100]
    assert sorted(key for key in log if key.startswith("log/")) == sorted(
        [f"log/particles/{NAMESPACE}/{name}" for name in ("embedding", *IDENTIFICATION)]
        + [f"log/{NAMESPACE}/{name}" for name in SCALARS]
    )
    identify = default_identify
    fcc = identify.structure_names.index("cF4-Cu")
    frames = list(simssl.read_frames(path))
    for index, frame in enumerate(frames):
        expected = identify.compute(frame)
        for name in ("structure", "nucleus"):
            np.testing.assert_array_equal(
                log[f"log/particles/{NAMESPACE}/{name}"][index], expected[name], err_msg=f"frame {index}, {name}"
            )
        np.testing.assert_allclose(
            log[f"log/particles/{NAMESPACE}/structure_distance"][index], expected["structure_distance"], rtol=1e-4
        )  # HOOMD's double positions vs the GSD's float32 ones: round-off of the embeddings, magnified ~10x
        summary = order_summary(expected["structure"], expected["nucleus"])
        for name in SCALARS:
            assert log[f"log/{NAMESPACE}/{name}"][index] == summary[name], (index, name)
        assert summary["ordered_fraction"] >= 0.99 and summary["largest_nucleus"] >= 0.99 * frame.n_particles
        assert np.mean(expected["structure"] == fcc) >= 0.99
    assert analyzer.order == summary  # the last analyzed state
    assert np.ptp(log[f"log/particles/{NAMESPACE}/structure_distance"][-1]) > 0  # thermal motion: rows differ


def test_live_output_carries_the_structure_names(tmp_path, capsys):
    """Issue 24, item 11: ``simssl info`` and ``simssl plot`` name the structures of a file HOOMD wrote.

    The analyzer's run record is a "string" loggable; HOOMD's GSD writer stores it next to the
    per-particle arrays, where the same reader as for ``simssl process`` outputs finds it. A Logger
    without the "string" category stores none, and ``simssl info`` says how to add it.
    """
    hoomd = pytest.importorskip("hoomd", reason=HOOMD_MISSING)
    from simssl.cli import main
    from simssl.io import read_processed
    from simssl.io.records import record_from_log
    from simssl.plugins.hoomd import NAMESPACE, OrderAnalyzer

    analyzer = OrderAnalyzer(identify=True, model=None, steinhardt=(6,))
    for categories, name in ((["particle", "scalar", "string"], "with.gsd"), (["particle", "scalar"], "without.gsd")):
        simulation, _ = _example().build_simulation(cells=4, density=1.0, kT=0.05, seed=5)
        logger = hoomd.logging.Logger(categories=categories)
        logger.add(analyzer)
        writer = hoomd.write.GSD(trigger=hoomd.trigger.Periodic(10), filename=str(tmp_path / name), logger=logger)
        simulation.operations.writers.append(hoomd.write.CustomWriter(action=analyzer, trigger=10))
        simulation.operations.writers.append(writer)
        simulation.run(10, write_at_start=True)
        writer.flush()
        del simulation, writer

    names = list(analyzer.structure_names)
    assert main(["info", str(tmp_path / "with.gsd")]) == 0
    printed = capsys.readouterr().out
    assert f"from HOOMD-blue {hoomd.version.version} (live: OrderAnalyzer)" in printed
    fcc = names.index("cF4-Cu")
    assert "    0  liquid\n" in printed and f"{fcc:5d}  cF4-Cu" in printed
    assert read_processed(tmp_path / "with.gsd").structure_names == tuple(names)  # the plot legend's names
    with gsd.hoomd.open(str(tmp_path / "with.gsd")) as trajectory:
        assert len(trajectory) == 2
        log = trajectory[0].log
    assert analyzer.loggables["fingerprint"] == "string" and f"{NAMESPACE}/fingerprint" in log
    record = record_from_log(log)
    identify = next(item for item in record["analyzers"] if item["kind"] == "Identify")
    assert identify["structures"] == names and record["input"]["path"].startswith("HOOMD-blue")

    assert record_from_log(gsd.hoomd.open(str(tmp_path / "without.gsd"))[0].log) is None
    assert read_processed(tmp_path / "without.gsd").structure_names is None
    assert main(["info", str(tmp_path / "without.gsd")]) == 0
    assert "no run record, so no structure names: log the OrderAnalyzer with a Logger whose categories include " in (
        capsys.readouterr().out
    )


def test_scalar_loggables_only_with_identification():
    hoomd = pytest.importorskip("hoomd", reason=HOOMD_MISSING)
    from simssl.plugins.hoomd import OrderAnalyzer

    analyzer = OrderAnalyzer(identify=False, model=None, steinhardt=(4, 6))
    assert analyzer.loggables == {"q4": "particle", "q6": "particle", "fingerprint": "string"}
    assert analyzer.structure_names == () and analyzer.order is None
    logger = hoomd.logging.Logger(categories=["scalar"])
    logger.add(analyzer)
    assert len(logger) == 0
    with pytest.raises(ValueError, match="ordered_fraction"):
        logger.add(analyzer, quantities=["ordered_fraction"])
    with pytest.raises(simssl.SimsslError, match="identify"):
        OrderAnalyzer(model=None, references=[("mine", "mine.gsd")])


def test_degrees_beyond_the_loggables_are_refused():
    pytest.importorskip("hoomd", reason=HOOMD_MISSING)
    from simssl.plugins.hoomd import OrderAnalyzer

    with pytest.raises(simssl.SimsslError, match="cannot log q14"):
        OrderAnalyzer(model=None, steinhardt=(6, 14))


def test_example_runs(tmp_path, capsys):
    pytest.importorskip("hoomd", reason=HOOMD_MISSING)
    output = tmp_path / "example.gsd"
    _example().main(
        [
            "--output",
            str(output),
            "--model",
            "random",
            "--cells",
            "4",
            "--melt-steps",
            "200",
            "--quench-steps",
            "200",
            "--period",
            "100",
        ]
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{output}: 5 frames of 256 particles")
    assert len([line for line in lines if "mean q6" in line]) == 5
    assert "mean q6 0.5745" in lines[1]  # step 0 is the perfect FCC crystal
