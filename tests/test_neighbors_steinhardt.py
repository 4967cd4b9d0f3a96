"""Neighborhoods equal freud's neighbor lists; Steinhardt columns equal freud's own results."""

import freud
import numpy as np
import pytest

import simssl
from simssl.bond_order import column_names
from simssl.neighbors import compute_neighborhoods, truncate


@pytest.fixture(scope="module")
def noisy():
    """A disordered-enough two-type system: noisy FCC in a triclinic box."""
    box, points = freud.data.UnitCell.fcc().generate_system(5, sigma_noise=0.08, seed=3)
    box = freud.box.Box(box.Lx, box.Ly, box.Lz, 0.2, -0.1, 0.15)
    types = np.random.default_rng(1).integers(0, 2, len(points))
    return simssl.make_frame(box, box.wrap(points), types, ("A", "B"))


def freud_list(frame, arguments):
    return (
        freud.locality.AABBQuery(frame.box, frame.positions)
        .query(frame.positions, dict(arguments, exclude_ii=True))
        .toNeighborList()
    )


@pytest.mark.parametrize("k", [1, 12, 16, 24])
def test_knn_bonds_identical_to_freud(noisy, k):
    hood = compute_neighborhoods(noisy, k=k)
    reference = freud_list(noisy, dict(num_neighbors=k))
    assert hood.vectors.shape == (noisy.n_particles, k, 3) and hood.vectors.dtype == np.float32
    assert hood.mask.all() and hood.k == k
    np.testing.assert_array_equal(hood.vectors.reshape(-1, 3), reference.vectors)
    np.testing.assert_array_equal(hood.indices.reshape(-1), reference.point_indices)
    # bond = x_j - x_i under the minimum image, and neighbor types follow the indices
    i = np.repeat(np.arange(noisy.n_particles), k)
    np.testing.assert_allclose(
        hood.vectors.reshape(-1, 3),
        noisy.box.wrap(noisy.positions[hood.indices.reshape(-1)] - noisy.positions[i]),
        atol=1e-5,
    )
    np.testing.assert_array_equal(hood.neighbor_types, noisy.types[hood.indices])
    np.testing.assert_array_equal(hood.center_types, noisy.types)
    assert hood.n_types == 2


def test_ball_query_padding(noisy):
    r_max = 1.0 * compute_neighborhoods(noisy, k=1).scale * 1.25
    hood = compute_neighborhoods(noisy, r_max=r_max)
    reference = freud_list(noisy, dict(r_max=r_max))
    counts = reference.neighbor_counts
    assert counts.min() != counts.max(), "the fixture should give varying neighbor counts"
    assert hood.k == counts.max()
    np.testing.assert_array_equal(hood.mask.sum(axis=1), counts)
    np.testing.assert_array_equal(hood.vectors[hood.mask], reference.vectors)
    assert (
        np.all(hood.vectors[~hood.mask] == 0)
        and np.all(hood.indices[~hood.mask] == -1)
        and np.all(hood.neighbor_types[~hood.mask] == -1)
    )


def test_truncation_keeps_the_nearest(noisy):
    wide = compute_neighborhoods(noisy, k=20)
    narrow = truncate(wide, 12)
    direct = compute_neighborhoods(noisy, k=12)
    assert narrow.k == 12
    # same neighbor sets per particle as a direct 12-neighbor query
    np.testing.assert_array_equal(np.sort(narrow.indices, axis=1), np.sort(direct.indices, axis=1))
    np.testing.assert_allclose(
        np.sort(np.linalg.norm(narrow.vectors, axis=-1), axis=1),
        np.sort(np.linalg.norm(direct.vectors, axis=-1), axis=1),
    )


def test_scale_is_median_nearest_distance(noisy):
    hood = compute_neighborhoods(noisy, k=4)
    nearest = np.linalg.norm(hood.vectors, axis=-1).min(axis=1)
    assert hood.scale == pytest.approx(np.median(nearest), rel=1e-6)
    scaled = simssl.make_frame(
        freud.box.Box(
            *(np.array([noisy.box.Lx, noisy.box.Ly, noisy.box.Lz]) * 3), noisy.box.xy, noisy.box.xz, noisy.box.yz
        ),
        noisy.positions * 3,
    )
    assert compute_neighborhoods(scaled, k=4).scale == pytest.approx(3 * hood.scale, rel=1e-5)


@pytest.mark.parametrize(
    "options", [dict(), dict(wl=True), dict(average=True), dict(wl=True, average=True), dict(average=True, raw=False)]
)
def test_steinhardt_equals_freud(noisy, options):
    degrees = [4, 6, 8, 10, 12]
    columns = simssl.steinhardt(noisy, l=degrees, **options)
    wl, average, raw = options.get("wl", False), options.get("average", False), options.get("raw", True)
    nlist = freud_list(noisy, dict(num_neighbors=12))
    expected = {}
    for averaged, suffix in [(False, ""), (True, "_avg")]:
        if (averaged and not average) or (not averaged and not raw):
            continue
        q = (
            freud.order.Steinhardt(degrees, average=averaged)
            .compute((noisy.box, noisy.positions), neighbors=nlist)
            .particle_order
        )
        expected.update({f"q{l}{suffix}": q[:, i] for i, l in enumerate(degrees)})
        if wl:
            w = (
                freud.order.Steinhardt(degrees, average=averaged, wl=True, wl_normalize=True)
                .compute((noisy.box, noisy.positions), neighbors=nlist)
                .particle_order
            )
            expected.update({f"w{l}{suffix}": w[:, i] for i, l in enumerate(degrees)})
    assert list(columns) == column_names(degrees, wl, average, raw)
    assert set(columns) == set(expected)
    for name, values in columns.items():
        assert values.shape == (noisy.n_particles,)
        np.testing.assert_allclose(values, expected[name], rtol=1e-5, atol=1e-6, err_msg=name)
    assert columns[f"q6{'_avg' if not raw else ''}"].std() > 0.01  # the fixture is not trivially uniform


def test_steinhardt_reuses_wider_neighborhoods(noisy):
    shared = compute_neighborhoods(noisy, k=16)
    np.testing.assert_allclose(
        simssl.steinhardt(noisy, l=6, neighbors=shared)["q6"], simssl.steinhardt(noisy, l=6)["q6"], rtol=1e-6
    )


def test_voronoi_weighted_equals_freud(noisy):
    voronoi = freud.locality.Voronoi()
    voronoi.compute((noisy.box, noisy.positions))
    expected = (
        freud.order.Steinhardt([6], weighted=True)
        .compute((noisy.box, noisy.positions), neighbors=voronoi.nlist)
        .particle_order
    )
    np.testing.assert_allclose(simssl.steinhardt(noisy, l=6, weighted=True)["q6"], np.ravel(expected), rtol=1e-5)


@pytest.mark.parametrize("bad", ["4,x", "0", "4,4", []])
def test_bad_degrees(noisy, bad):
    with pytest.raises(simssl.SimsslError, match="degree"):
        simssl.steinhardt(noisy, l=bad)
