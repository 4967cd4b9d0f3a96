"""The engine-agnostic live core: same values as the offline pipeline, in tag order, from any array kind."""

import freud
import numpy as np
import pytest
import torch

import simssl
from simssl.live import LiveAnalyzer


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
