"""The engine-agnostic live core: same values as the offline pipeline, in tag order, from any array kind."""

import freud
import numpy as np
import pytest
import torch
from crystals import write_gsd

import simssl
from simssl.live import LiveAnalyzer
from simssl.nuclei import order_summary


@pytest.fixture(scope="module")
def crystal():
    box, points = freud.data.UnitCell.fcc().generate_system(4, sigma_noise=0.05, seed=2)
    return box, points.astype(np.float32)


def test_results_follow_tags_and_equal_offline(crystal):
    box, points = crystal
    live = LiveAnalyzer(model="random", steinhardt=(4, 6), k=16)
    assert live.names == ["q4", "q6", "embedding"]
    order = np.random.default_rng(1).permutation(len(points))  # the engine's memory order
    tags = 1000 + 3 * np.arange(len(points))  # sparse, like tags after deletions
    results = live.compute(box, points[order], types=np.zeros(len(points), int), tags=tags[order], step=7)
    offline = simssl.analyze_frame(simssl.make_frame(box, points), live.analyzers, k=16)
    for name in live.names:
        np.testing.assert_array_equal(results[name], offline[name])
    assert live.latest is results and live.step == 7
    assert np.ptp(results["q6"]) > 0.01  # the fixture is disordered enough for order to matter


def test_torch_inputs_and_box_tuples(crystal):
    box, points = crystal
    live = LiveAnalyzer(model=None, steinhardt=(6,))
    from_numpy = live.compute(box, points)["q6"].copy()
    from_torch = live.compute(
        [box.Lx, box.Ly, box.Lz, 0, 0, 0], torch.as_tensor(points), tags=torch.arange(len(points))
    )["q6"]
    np.testing.assert_array_equal(from_numpy, from_torch)


def test_clear_errors(crystal):
    box, points = crystal
    with pytest.raises(simssl.SimsslError, match="nothing to compute"):
        LiveAnalyzer(model=None, steinhardt=())
    live = LiveAnalyzer(model=None)
    bad = points.copy()
    bad[3] = np.nan
    with pytest.raises(simssl.SimsslError, match="NaN"):
        live.compute(box, bad, step=10)
    with pytest.raises(simssl.SimsslError, match="zero volume"):
        live.compute([0, 5, 5, 0, 0, 0], points)


def test_identification_equals_offline_and_summarizes_order(crystal, default_identify):
    """identify=True: structures and nuclei in tag order, equal to a fresh offline Identify; order is the frame's."""
    box, points = crystal
    live = LiveAnalyzer(model=None, steinhardt=(6,), identify=True)
    assert live.names == ["q6", "structure", "structure_confidence", "structure_distance", "nucleus"]
    assert live.structure_names[0] == "liquid" and "cF4-Cu" in live.structure_names
    assert live.order is None  # nothing analyzed yet
    order = np.random.default_rng(3).permutation(len(points))
    results = live.compute(box, points[order], tags=order, step=5)  # tag t is row t of `points`
    offline = default_identify.compute(simssl.make_frame(box, points))
    for name in ("structure", "nucleus"):
        assert results[name].dtype == np.int32
        np.testing.assert_array_equal(results[name], offline[name], err_msg=name)
    for name in ("structure_confidence", "structure_distance"):
        np.testing.assert_allclose(results[name], offline[name], rtol=1e-5, atol=1e-6, err_msg=name)
    assert live.order == order_summary(offline["structure"], offline["nucleus"])
    fcc = live.structure_names.index("cF4-Cu")
    assert np.mean(results["structure"] == fcc) >= 0.97 and live.order["ordered_fraction"] >= 0.97
    assert live.order["largest_nucleus"] >= 0.97 * len(points)


def test_without_identification_there_is_no_order():
    live = LiveAnalyzer(model=None, steinhardt=(6,))
    assert live.structure_names == () and live.order is None
    box, points = freud.data.UnitCell.fcc().generate_system(3)
    live.compute(box, points)
    assert live.order is None and "structure" not in live.latest
    with pytest.raises(simssl.SimsslError, match="identify"):
        LiveAnalyzer(model=None, references=[("mine", "mine.gsd")])


def test_user_references_become_structures(crystal, tmp_path):
    box, points = crystal
    path = tmp_path / "mine.gsd"
    write_gsd(path, np.diag([box.Lx, box.Ly, box.Lz]), points + box.L / 2)
    live = LiveAnalyzer(model=None, steinhardt=(), identify=True, references={"mine": path})
    assert live.structure_names[0] == "liquid" and live.structure_names[-2:] == ("mine", "other")
    structure = live.compute(box, points)["structure"]
    # the environments the reference was made of are ordered: fcc from the library, or the user's own
    assert set(np.unique(structure)) <= {live.structure_names.index("cF4-Cu"), len(live.structure_names) - 2}
