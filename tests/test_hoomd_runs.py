"""OrderAnalyzer inside real HOOMD-blue runs: every logged frame equals ``simssl.process`` of that frame.

Each test runs a small simulation (a few hundred particles, a few hundred steps) with the analyzer in
a ``CustomWriter`` and HOOMD's own GSD writer logging it, then processes the GSD file offline with
the same analyzers and compares frame by frame. Live and offline read the same float32 positions
(``simssl`` rounds HOOMD's float64 positions to float32, as GSD stores them) and the same float32
box, so the values are bitwise equal; ``TOLERANCE`` is zero.

HOOMD-blue is not on PyPI: CI installs the CPU wheel from ``../shared/wheels`` (see ``.ci/run``);
elsewhere these tests skip.
"""

from __future__ import annotations

import gsd.hoomd
import numpy as np
import pytest

import simssl

hoomd = pytest.importorskip(
    "hoomd", reason="HOOMD-blue is not installed (conda-forge only; CI installs ../shared/wheels/hoomd-*.whl)"
)

from simssl.plugins.hoomd import NAMESPACE, OrderAnalyzer  # noqa: E402  (needs hoomd)

#: live vs offline: exactly equal (both read the same float32 positions and box)
TOLERANCE = dict(rtol=0, atol=0)


def jittered_fcc(cells: int, density: float, seed: int, noise: float = 0.05) -> tuple[float, np.ndarray]:
    """Edge length and positions (centered box) of an FCC crystal with Gaussian noise: no exact neighbor ties."""
    a = (4 / density) ** (1 / 3)
    basis = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]]) + 0.25
    corners = np.stack(np.meshgrid(*[np.arange(cells)] * 3, indexing="ij"), axis=-1).reshape(-1, 1, 3)
    length = cells * a
    positions = (corners + basis).reshape(-1, 3) * a - length / 2
    return length, positions + np.random.default_rng(seed).normal(scale=noise * a, size=positions.shape)


def make_simulation(positions, box, types=("A",), typeid=None, seed: int = 1) -> hoomd.Simulation:
    """A CPU simulation of ``positions`` in ``box`` (``[Lx, Ly, Lz, xy, xz, yz]``) with a particle sorter every step.

    The sorter keeps HOOMD's memory order different from tag order, so every test also checks that
    the logged rows follow tags.
    """
    simulation = hoomd.Simulation(device=hoomd.device.CPU(), seed=seed)
    snapshot = hoomd.Snapshot()
    snapshot.configuration.box = box
    snapshot.particles.N = len(positions)
    snapshot.particles.types = list(types)
    snapshot.particles.position[:] = positions
    if typeid is not None:
        snapshot.particles.typeid[:] = typeid
    simulation.create_state_from_snapshot(snapshot)
    simulation.operations.tuners.append(hoomd.tune.ParticleSorter(trigger=hoomd.trigger.Periodic(1)))
    return simulation


def add_lj(simulation: hoomd.Simulation, kT: float, method=None) -> None:
    """Lennard-Jones (all pairs epsilon = sigma = 1, r_cut 2.5).

    With a Bussi NVT integrator unless ``method`` is given.
    """
    types = simulation.state.particle_types
    lj = hoomd.md.pair.LJ(nlist=hoomd.md.nlist.Cell(buffer=0.4), default_r_cut=2.5)
    lj.params[(types, types)] = dict(epsilon=1.0, sigma=1.0)
    method = method or hoomd.md.methods.ConstantVolume(
        filter=hoomd.filter.All(), thermostat=hoomd.md.methods.thermostats.Bussi(kT=kT)
    )
    simulation.operations.integrator = hoomd.md.Integrator(dt=0.005, methods=[method], forces=[lj])
    simulation.state.thermalize_particle_momenta(filter=hoomd.filter.All(), kT=kT)


def attach(simulation, analyzer, path, *, analyzer_every: int, gsd_every: int, mode: str = "wb"):
    """Wire ``analyzer`` the README way: a CustomWriter plus a particle Logger in a GSD writer; returns both writers."""
    writer = hoomd.write.CustomWriter(action=analyzer, trigger=hoomd.trigger.Periodic(analyzer_every))
    logger = hoomd.logging.Logger(categories=["particle"])
    logger.add(analyzer)
    trajectory = hoomd.write.GSD(
        trigger=hoomd.trigger.Periodic(gsd_every), filename=str(path), mode=mode, logger=logger
    )
    simulation.operations.writers.extend([writer, trajectory])
    return writer, trajectory


def assert_logged_equals_offline(path, analyzer) -> np.ndarray:
    """Every frame's logged quantities equal ``simssl.process`` of the same frame; returns the frames' steps."""
    log = gsd.hoomd.read_log(str(path))
    offline = simssl.process(path, analyzers=analyzer.live.analyzers, k=analyzer.live.k, progress=False)
    assert offline.n_frames == len(log["configuration/step"]) > 0
    assert sorted(key for key in log if key.startswith("log/")) == sorted(
        f"log/particles/{NAMESPACE}/{name}" for name in analyzer.names
    )
    for index, expected in enumerate(offline.frames):
        assert sorted(expected) == sorted(analyzer.names)
        for name, values in expected.items():
            logged = log[f"log/particles/{NAMESPACE}/{name}"][index]
            assert logged.shape == values.shape
            np.testing.assert_allclose(
                logged,
                values,
                **TOLERANCE,
                err_msg=f"{path} frame {index} (step {log['configuration/step'][index]}), {name}",
            )
    return log["configuration/step"]


def test_md_frames_equal_offline_at_steps_the_trigger_skipped(tmp_path):
    """LJ MD: GSD frames every 100 steps, analyses every 250: frames 0, 100, 200, 300 all carry their own values."""
    length, positions = jittered_fcc(cells=4, density=1.0, seed=0)
    simulation = make_simulation(positions, [length] * 3 + [0, 0, 0])
    add_lj(simulation, kT=0.8)
    analyzer = OrderAnalyzer(model="random", steinhardt=(4, 6), k=16)
    _, trajectory = attach(simulation, analyzer, tmp_path / "md.gsd", analyzer_every=250, gsd_every=100)
    simulation.run(300, write_at_start=True)
    trajectory.flush()
    steps = assert_logged_equals_offline(tmp_path / "md.gsd", analyzer)
    assert list(steps) == [0, 100, 200, 300]
    q6 = gsd.hoomd.read_log(str(tmp_path / "md.gsd"))[f"log/particles/{NAMESPACE}/q6"]
    assert not np.allclose(q6[0], q6[-1], atol=1e-3)  # the configuration moved: frames differ


def test_hard_sphere_compression_without_an_md_integrator(tmp_path):
    """HPMC hard spheres compressed by QuickCompress (no MD integrator).

    Every frame, at every box size, equals offline.
    """
    n, fraction = 6, 0.35
    spacing = (np.pi / 6 / fraction) ** (1 / 3)  # simple cubic at packing fraction 0.35
    grid = (np.arange(n) + 0.5) * spacing - n * spacing / 2
    positions = np.stack(np.meshgrid(grid, grid, grid, indexing="ij"), axis=-1).reshape(-1, 3)
    simulation = make_simulation(positions, [n * spacing] * 3 + [0, 0, 0])
    mc = hoomd.hpmc.integrate.Sphere(default_d=0.1)
    mc.shape["A"] = dict(diameter=1.0)
    simulation.operations.integrator = mc
    target = hoomd.Box.cube((len(positions) * np.pi / 6 / 0.5) ** (1 / 3))  # packing fraction 0.5
    simulation.operations.updaters.append(
        hoomd.hpmc.update.QuickCompress(trigger=hoomd.trigger.Periodic(10), target_box=target)
    )
    analyzer = OrderAnalyzer(model=None, steinhardt=(4, 6, 8))
    _, trajectory = attach(simulation, analyzer, tmp_path / "hpmc.gsd", analyzer_every=50, gsd_every=50)
    simulation.run(300, write_at_start=True)
    trajectory.flush()
    steps = assert_logged_equals_offline(tmp_path / "hpmc.gsd", analyzer)
    assert list(steps) == list(range(0, 301, 50))
    with gsd.hoomd.open(str(tmp_path / "hpmc.gsd")) as frames:
        volumes = [np.prod(frame.configuration.box[:3]) for frame in frames]
    assert volumes[-1] < 0.8 * volumes[0]  # compressed while analyzed


def test_two_particle_types(tmp_path):
    """A binary LJ mixture with a two-type model: type ids reach the encoder in tag order."""
    length, positions = jittered_fcc(cells=4, density=1.0, seed=1)
    typeid = np.random.default_rng(2).integers(0, 2, len(positions))
    simulation = make_simulation(positions, [length] * 3 + [0, 0, 0], types=("A", "B"), typeid=typeid)
    add_lj(simulation, kT=0.8)
    model = simssl.load_model("random", n_types=2)
    analyzer = OrderAnalyzer(model=model, steinhardt=(6,))
    _, trajectory = attach(simulation, analyzer, tmp_path / "binary.gsd", analyzer_every=100, gsd_every=100)
    simulation.run(200, write_at_start=True)
    trajectory.flush()
    assert_logged_equals_offline(tmp_path / "binary.gsd", analyzer)
    with gsd.hoomd.open(str(tmp_path / "binary.gsd")) as frames:
        assert frames[0].particles.types == ["A", "B"]
        np.testing.assert_array_equal(frames[-1].particles.typeid, typeid)
    # the types matter: the same positions as one type embed differently
    one_type = OrderAnalyzer(model=model, steinhardt=(6,))
    embedding = gsd.hoomd.read_log(str(tmp_path / "binary.gsd"))[f"log/particles/{NAMESPACE}/embedding"][-1]
    with gsd.hoomd.open(str(tmp_path / "binary.gsd")) as frames:
        last = frames[-1]
    same_type = one_type.live.compute(
        last.configuration.box, last.particles.position, np.zeros_like(typeid), type_names=["A", "B"]
    )
    assert not np.allclose(same_type["embedding"], embedding, atol=1e-3)


def test_npt_run_whose_box_changes(tmp_path):
    """Constant pressure (MTTK barostat): the box changes every step; each frame is analyzed in its own box."""
    length, positions = jittered_fcc(cells=4, density=0.9, seed=3)
    simulation = make_simulation(positions, [length] * 3 + [0, 0, 0])
    npt = hoomd.md.methods.ConstantPressure(
        filter=hoomd.filter.All(),
        S=5.0,
        tauS=0.5,
        couple="xyz",
        thermostat=hoomd.md.methods.thermostats.MTTK(kT=1.0, tau=0.5),
    )
    add_lj(simulation, kT=1.0, method=npt)
    analyzer = OrderAnalyzer(model=None, steinhardt=(4, 6))
    _, trajectory = attach(simulation, analyzer, tmp_path / "npt.gsd", analyzer_every=100, gsd_every=100)
    simulation.run(300, write_at_start=True)
    trajectory.flush()
    assert_logged_equals_offline(tmp_path / "npt.gsd", analyzer)
    with gsd.hoomd.open(str(tmp_path / "npt.gsd")) as frames:
        lengths = [frame.configuration.box[0] for frame in frames]
    assert len(set(lengths)) == len(lengths) == 4  # a different box in every frame


def test_triclinic_box(tmp_path):
    """A tilted box (xy, xz, yz != 0): the live box and positions are those offline reads from the GSD."""
    length, positions = jittered_fcc(cells=4, density=1.0, seed=4)
    tilts = (0.3, -0.2, 0.1)
    box = hoomd.Box(Lx=length, Ly=length, Lz=length, xy=tilts[0], xz=tilts[1], yz=tilts[2])
    fractions = positions / length + 0.5
    simulation = make_simulation(
        box.to_matrix().dot(fractions.T).T - box.to_matrix().sum(axis=1) / 2, [length] * 3 + list(tilts)
    )
    add_lj(simulation, kT=0.8)
    analyzer = OrderAnalyzer(model="random", steinhardt=(4, 6))
    _, trajectory = attach(simulation, analyzer, tmp_path / "triclinic.gsd", analyzer_every=100, gsd_every=100)
    simulation.run(200, write_at_start=True)
    trajectory.flush()
    assert_logged_equals_offline(tmp_path / "triclinic.gsd", analyzer)
    with gsd.hoomd.open(str(tmp_path / "triclinic.gsd")) as frames:
        first = frames[0]
    np.testing.assert_allclose(first.configuration.box[3:], tilts, rtol=1e-6)
    # the tilt matters: the same positions read in the untilted box give other values
    untilted = analyzer.live.compute((length, length, length, 0, 0, 0), first.particles.position)
    q6 = gsd.hoomd.read_log(str(tmp_path / "triclinic.gsd"))[f"log/particles/{NAMESPACE}/q6"][0]
    assert not np.allclose(untilted["q6"], q6, atol=1e-3)


def test_restart_from_gsd_with_the_analyzer_attached(tmp_path):
    """A new simulation from the last GSD frame, the same analyzer attached to it: both files equal offline.

    The restart begins at step 200, the step the first simulation ended on; its first frame is
    written at the start of the new run, from the restarted state.
    """
    path = tmp_path / "restart.gsd"
    length, positions = jittered_fcc(cells=4, density=1.0, seed=5)
    first = make_simulation(positions, [length] * 3 + [0, 0, 0])
    add_lj(first, kT=0.8)
    analyzer = OrderAnalyzer(model="random", steinhardt=(4, 6))
    _, trajectory = attach(first, analyzer, path, analyzer_every=100, gsd_every=100)
    first.run(200, write_at_start=True)
    trajectory.flush()
    first.operations.writers.clear()  # detaches the analyzer and closes the file

    second = hoomd.Simulation(device=hoomd.device.CPU(), seed=2)
    second.create_state_from_gsd(filename=str(path), frame=-1)
    assert second.timestep == 200
    add_lj(second, kT=0.8)
    restart_path = tmp_path / "restarted.gsd"
    _, trajectory = attach(second, analyzer, restart_path, analyzer_every=100, gsd_every=100)
    second.run(200, write_at_start=True)
    trajectory.flush()
    assert list(assert_logged_equals_offline(path, analyzer)) == [0, 100, 200]
    assert list(assert_logged_equals_offline(restart_path, analyzer)) == [200, 300, 400]


def test_state_changed_without_a_step_is_analyzed_afresh(tmp_path):
    """``set_snapshot`` between runs at the same step: the second frame at that step logs the new configuration."""
    length, positions = jittered_fcc(cells=4, density=1.0, seed=6)
    simulation = make_simulation(positions, [length] * 3 + [0, 0, 0])
    add_lj(simulation, kT=0.8)
    analyzer = OrderAnalyzer(model=None, steinhardt=(6,))
    _, trajectory = attach(simulation, analyzer, tmp_path / "edited.gsd", analyzer_every=100, gsd_every=100)
    simulation.run(100, write_at_start=True)
    snapshot = simulation.state.get_snapshot()
    snapshot.particles.position[:] += np.random.default_rng(7).normal(scale=0.1, size=snapshot.particles.position.shape)
    simulation.state.set_snapshot(snapshot)
    simulation.run(0, write_at_start=True)
    trajectory.flush()
    steps = assert_logged_equals_offline(tmp_path / "edited.gsd", analyzer)
    assert list(steps) == [0, 100, 100]
    q6 = gsd.hoomd.read_log(str(tmp_path / "edited.gsd"))[f"log/particles/{NAMESPACE}/q6"]
    assert not np.allclose(q6[1], q6[2], atol=1e-3)


def test_analyzer_removed_and_added_between_runs(tmp_path):
    """Removing the analyzer's writer detaches it (its loggables then refuse).

    Added back, it analyzes the state it finds.
    """
    length, positions = jittered_fcc(cells=4, density=1.0, seed=8)
    simulation = make_simulation(positions, [length] * 3 + [0, 0, 0])
    add_lj(simulation, kT=0.8)
    analyzer = OrderAnalyzer(model=None, steinhardt=(4, 6))
    writer, trajectory = attach(simulation, analyzer, tmp_path / "first.gsd", analyzer_every=50, gsd_every=50)
    simulation.run(100, write_at_start=True)
    simulation.operations.writers.remove(writer)  # detaches the analyzer; the GSD writer still logs it
    with pytest.raises(simssl.SimsslError, match="not attached to a simulation: add it to sim.operations"):
        trajectory.logger.log()  # what the GSD writer's next frame would do: fail loudly, not log frame 0's values
    simulation.operations.writers.remove(trajectory)  # closes the file
    simulation.run(100)  # without the analyzer
    _, trajectory = attach(simulation, analyzer, tmp_path / "second.gsd", analyzer_every=50, gsd_every=50)
    simulation.run(100, write_at_start=True)
    trajectory.flush()
    assert list(assert_logged_equals_offline(tmp_path / "first.gsd", analyzer)) == [0, 50, 100]
    assert list(assert_logged_equals_offline(tmp_path / "second.gsd", analyzer)) == [200, 250, 300]


def logged_q6(logger) -> np.ndarray:
    """q6 from ``logger.log()``: a nested dict along the namespace, then ``(value, category)``."""
    entry = logger.log()
    for part in NAMESPACE.split("/"):
        entry = entry[part]
    value, category = entry["q6"]
    assert category == "particle"
    return value


def test_logging_an_analyzer_that_was_never_attached_fails_loudly(tmp_path):
    """The analyzer only in a Logger (not in sim.operations).

    The run stops with a clear error instead of writing frames without values.
    """
    length, positions = jittered_fcc(cells=4, density=1.0, seed=10)
    simulation = make_simulation(positions, [length] * 3 + [0, 0, 0])
    add_lj(simulation, kT=0.8)
    analyzer = OrderAnalyzer(model=None, steinhardt=(6,))
    logger = hoomd.logging.Logger(categories=["particle"])
    logger.add(analyzer)
    simulation.operations.writers.append(
        hoomd.write.GSD(
            trigger=hoomd.trigger.Periodic(10), filename=str(tmp_path / "bad.gsd"), mode="wb", logger=logger
        )
    )
    with pytest.raises(simssl.SimsslError, match="not attached to a simulation"):
        simulation.run(10, write_at_start=True)


def test_logger_asking_at_a_step_the_trigger_skipped(tmp_path):
    """A Logger read directly at a step the writer's trigger never fired on.

    It gets the current state's values, computed once.
    """
    length, positions = jittered_fcc(cells=4, density=1.0, seed=9)
    simulation = make_simulation(positions, [length] * 3 + [0, 0, 0])
    add_lj(simulation, kT=0.8)
    analyzer = OrderAnalyzer(model=None, steinhardt=(4, 6))
    simulation.operations.writers.append(
        hoomd.write.CustomWriter(action=analyzer, trigger=hoomd.trigger.Periodic(1000))
    )
    logger = hoomd.logging.Logger(categories=["particle"])
    logger.add(analyzer, quantities=["q6"])
    snapshot = hoomd.write.GSD(
        trigger=hoomd.trigger.On(150), filename=str(tmp_path / "now.gsd"), mode="wb"
    )  # positions only
    simulation.operations.writers.append(snapshot)
    simulation.run(150)  # the analyzer's trigger never fires
    snapshot.flush()
    logged = logged_q6(logger)
    assert logged_q6(logger) is logged  # asked again at the same state: not recomputed

    offline = simssl.process(tmp_path / "now.gsd", analyzers=analyzer.live.analyzers, k=analyzer.live.k, progress=False)
    assert offline.n_frames == 1 and simulation.timestep == 150
    np.testing.assert_array_equal(logged, offline.frames[0]["q6"])
