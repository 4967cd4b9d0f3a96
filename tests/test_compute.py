"""Compute objects: the one path from a Frame to quantities, equal bit for bit to independent computations."""

import freud
import numpy as np
import pytest
import torch

import simssl
from simssl import native
from simssl.analyses import AnalysisOptions, build_analyzers
from simssl.cli import main
from simssl.compute import Embedding, Steinhardt, analyze_frame, names_of
from simssl.neighbors import ModelView, compute_neighborhoods, model_inputs, model_neighborhoods
from simssl.smooth import envelope


@pytest.fixture(scope="module")
def example():
    frames = list(simssl.read_frames(simssl.example_path(), frames="0:20:19"))  # the hot liquid and the crystal
    return frames


@pytest.fixture(scope="module")
def model():
    return simssl.load_model("default")


def test_steinhardt_equals_freud(example):
    compute = Steinhardt(l=(4, 6, 8), wl=True, average=True)
    assert compute.names == [
        "q4",
        "q6",
        "q8",
        "w4",
        "w6",
        "w8",
        "q4_avg",
        "q6_avg",
        "q8_avg",
        "w4_avg",
        "w6_avg",
        "w8_avg",
    ]
    assert compute.num_neighbors == 12
    for frame in example:
        values = compute.compute(
            frame, compute_neighborhoods(frame, k=16)
        )  # wider neighborhoods: the nearest 12 are taken
        query = freud.locality.AABBQuery(frame.box, frame.positions).query(
            frame.positions, dict(num_neighbors=12, exclude_ii=True)
        )
        for average, suffix in ((False, ""), (True, "_avg")):
            reference = freud.order.Steinhardt([4, 6, 8], average=average, wl=True, wl_normalize=True)
            reference.compute((frame.box, frame.positions), neighbors=query.toNeighborList())
            np.testing.assert_allclose(
                np.stack([values[f"w{l}{suffix}"] for l in (4, 6, 8)], 1),
                reference.particle_order,
                rtol=1e-6,
                atol=1e-7,
            )
            np.testing.assert_allclose(
                np.stack([values[f"q{l}{suffix}"] for l in (4, 6, 8)], 1), reference.ql, rtol=1e-6, atol=1e-7
            )
        assert list(values) == compute.names


def test_embedding_equals_the_encoder_forward(example, model):
    compute = Embedding(model, average=True, compile=False)
    assert compute.names == ["embedding", "embedding_avg"] and compute.neighbors == ModelView(model.config)
    frame = example[-1]
    hood = model_neighborhoods(frame, model.config)
    values = compute.compute(frame, hood)
    bonds, mask, center, neighbor, shells = (torch.from_numpy(np.ascontiguousarray(a)) for a in model_inputs(hood))
    assert shells.shape == (hood.n_particles, model.config.n_shell_features) and model.config.n_shell_features > 0
    np.testing.assert_allclose(bonds.numpy(), hood.vectors / hood.scale, rtol=1e-6)  # unit-free: the frame's own length
    with torch.inference_mode():
        direct = model(bonds, mask, center, neighbor, shells).numpy()
    np.testing.assert_allclose(values["embedding"], direct, rtol=1e-5, atol=1e-5)
    # the neighbor average: each particle's envelope-weighted mean over itself and its neighbors, by hand
    lengths = np.linalg.norm(hood.vectors, axis=-1) / hood.scale
    weights = envelope(lengths, model.config.cutoff, model.config.taper) * hood.mask
    by_hand = (direct + (weights[..., None] * direct[np.maximum(hood.indices, 0)]).sum(1)) / (1 + weights.sum(1))[
        :, None
    ]
    np.testing.assert_allclose(values["embedding_avg"], by_hand, rtol=1e-5, atol=1e-5)
    # without neighborhoods the compute object builds its own, identical ones
    np.testing.assert_array_equal(compute.compute(frame)["embedding"], values["embedding"])
    # model.embed(average=True) is the same one path
    np.testing.assert_array_equal(model.embed(frame, average=True), values["embedding_avg"])


def test_process_output_is_exactly_the_compute_objects(example, model, tmp_path):
    """``simssl process --model default --average`` writes, bit for bit, what the compute objects return."""
    output = tmp_path / "example.simssl.gsd"
    assert (
        simssl.cli.main(
            [
                "process",
                "--example",
                "--frames",
                "0:20:19",
                "--model",
                "default",
                "--average",
                "-o",
                str(output),
                "--quiet",
            ]
        )
        == 0
    )
    import gsd.hoomd

    analyzers = [Steinhardt(average=True), Embedding(model, average=True)]
    with gsd.hoomd.open(output, "r") as written:
        assert len(written) == len(example)
        for frame, stored in zip(example, written):
            expected = analyze_frame(frame, analyzers)
            particle = [key.split("/")[-1] for key in stored.log if key.startswith("particles/simssl/")]
            assert sorted(particle) == sorted(names_of(analyzers))
            for name, value in expected.items():
                np.testing.assert_array_equal(stored.log[f"particles/simssl/{name}"], value)


def test_analyze_frame_shares_one_query_and_refuses_clashes(example):
    frame = example[0]
    calls = []

    class Spy:
        num_neighbors = 5

        def compute(self, frame, neighborhoods):
            calls.append(neighborhoods.k)
            return {"spy": np.zeros(frame.n_particles)}

    analyze_frame(frame, [Steinhardt((6,)), Spy()])
    assert calls == [12]  # one query for the widest need, shared
    with pytest.raises(simssl.SimsslError, match="both produce 'q6'"):
        analyze_frame(frame, [Steinhardt((6,)), Steinhardt((6,), wl=True)])


def test_analysis_options_are_typed_frozen_and_hashable():
    options = AnalysisOptions(steinhardt=[4, 6], model="random", average=True)
    assert options.steinhardt == (4, 6) and hash(options) == hash(
        AnalysisOptions(steinhardt=(4, 6), model="random", average=True)
    )
    assert AnalysisOptions(steinhardt=()).steinhardt == () and AnalysisOptions(steinhardt=None).steinhardt == ()
    with pytest.raises(AttributeError):
        options.average = False
    analyzers = build_analyzers(options)
    assert names_of(analyzers) == ["q4", "q6", "q4_avg", "q6_avg", "embedding", "embedding_avg"]
    assert analyzers[1].model.card["trained"] is False  # "random" resolved by load_model
    with pytest.raises(simssl.SimsslError, match="nothing to compute"):
        build_analyzers(AnalysisOptions(steinhardt=()))
    with pytest.raises(simssl.SimsslError, match="distinct positive integers"):
        AnalysisOptions(steinhardt=(6, 6))


def test_load_model_resolves_default_by_name():
    by_name, by_none = simssl.load_model("default"), simssl.load_model()
    for a, b in zip(by_name.state_dict().values(), by_none.state_dict().values()):
        assert torch.equal(a, b)
    assert by_name.card.get("trained", True) is True


def test_the_shipped_model_with_identification_makes_two_neighbor_queries_per_frame(monkeypatch, tmp_path):
    """The neighbor plan: one 12-nearest query (Steinhardt, the length unit) and one ball query (shell spectra,
    the encoder's neighborhoods, nuclei) per frame for ``--model default --identify --average``; the ball query
    runs on the fused kernels' cell list where they are built, else on freud."""
    queries = []

    class CountingQuery(freud.locality.AABBQuery):
        def query(self, query_points, query_args):
            queries.append(dict(query_args))
            return super().query(query_points, query_args)

    class CountingCells(native.CellList):
        def __init__(self, matrix, positions, r_max):
            queries.append({"r_max": r_max})
            super().__init__(matrix, positions, r_max)

    monkeypatch.setattr(freud.locality, "AABBQuery", CountingQuery)
    monkeypatch.setattr(native, "CellList", CountingCells)
    output = tmp_path / "out.gsd"
    command = ["process", "--example", "--frames", "0:3", "--model", "default", "--identify", "--average"]
    assert main([*command, "-o", str(output), "--quiet"]) == 0
    assert len(queries) == 2 * 3  # frames of 4,000 particles: each query is one call
    assert sorted(sorted(q) for q in queries[:2]) == [["exclude_ii", "num_neighbors"], ["r_max"]]
    assert [q.get("num_neighbors") for q in queries[::2]] == [12, 12, 12]
