"""simssl plot: fractions computed right from processed files, PNGs written, clear errors."""

from pathlib import Path

import numpy as np
import pytest

import simssl
from simssl.cli import main
from simssl.clustering import kmeans, principal_components
from simssl.fractions import order_fractions
from simssl.io import Processed, read_processed


def test_kmeans_and_pca_recover_planted_structure():
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(0, 0.3, (300, 6)), rng.normal(2, 0.3, (100, 6))])
    labels, centers = kmeans(x, 2, seed=1)
    assert np.array_equal(labels, np.r_[np.zeros(300), np.ones(100)])  # larger cluster first
    np.testing.assert_allclose(centers[1], 2, atol=0.1)
    pc = principal_components(x, 2)
    assert pc.shape == (400, 2) and pc[:300, 0].max() < pc[300:, 0].min()
    np.testing.assert_array_equal(kmeans(x, 2, seed=1)[0], labels)  # deterministic


def test_order_fractions_follow_the_data():
    """Frame f has f/4 of its particles 'ordered' (high q6, distinct embeddings): both fractions see it."""
    rng = np.random.default_rng(2)
    embeddings, q6 = [], []
    for f in range(5):
        ordered = np.arange(400) < f * 100
        embeddings.append(np.where(ordered[:, None], 3.0, 0.0) + rng.normal(0, 0.2, (400, 8)))
        q6.append(np.where(ordered, 0.5, 0.2) + rng.normal(0, 0.03, 400))
    processed = Processed(np.arange(5) * 10, {"embedding": embeddings, "q6": q6}, None)
    fractions = order_fractions(processed, n_clusters=2, q6_threshold=0.35)
    np.testing.assert_allclose(fractions["q6"], [0, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(fractions["clusters"], [0, 0.25, 0.5, 0.75, 1.0])


def test_plot_command_on_processed_outputs(tmp_path, capsys):
    source = tmp_path / "example.gsd"
    assert (
        main(
            [
                "process",
                "--example",
                "-o",
                str(source),
                "--frames",
                "0:20:6",
                "--average",
                "--model",
                "random",
                "--quiet",
            ]
        )
        == 0
    )
    assert main(["plot", str(source), "--out-dir", str(tmp_path)]) == 0
    written, rule = np.split(capsys.readouterr().out.splitlines(), [3])
    assert [p.rsplit("_", 1)[-1] for p in written] == ["q6.png", "fraction.png", "snapshot.png"]
    assert list(rule) == ["q6: q6_avg > 0.35"]
    assert not list(tmp_path.glob("*_nuclei.png"))  # no identification, no nuclei picture
    for path in written:
        with open(path, "rb") as png:
            assert png.read(8) == b"\x89PNG\r\n\x1a\n"
    processed = read_processed(source)
    assert len(processed.steps) == 4 and processed.columns["embedding"][0].shape == (4000, 32)
    npz = tmp_path / "steinhardt_only.npz"
    simssl.process(simssl.example_path(), npz, frames="0:3", progress=False)
    from simssl.fractions import order_series

    # no identification: no identified fraction, no nuclei; PTM from the stored positions; raw q6 as asked
    series = order_series(npz, q6_threshold=0.35)
    assert series["identified"] is None and series["largest_nucleus"] is None and len(series["q6"]) == 3
    try:
        import ovito  # noqa: F401
    except ImportError:
        assert series["ptm"] is None
    else:
        assert len(series["ptm"]) == 3 and series["ptm"].max() < 0.01  # the example's first frames are hot liquid
    assert main(["plot", str(npz), "--out-dir", str(tmp_path / "new" / "figures")]) == 0  # no embedding: q6 only
    written = capsys.readouterr().out.splitlines()[:-1]  # the last line says why there is no q6 curve
    assert len(written) == 3 and all(Path(path).parent == tmp_path / "new" / "figures" for path in written)
    assert written[2].endswith("steinhardt_only_snapshot.png")  # an .npz holds positions too
    (tmp_path / "file").write_text("")
    assert main(["plot", str(npz), "--out-dir", str(tmp_path / "file" / "figures")]) == 2
    assert "cannot create the output directory" in capsys.readouterr().err


@pytest.mark.parametrize(
    "name, content", [("missing.gsd", None), ("notes.txt", b"hello"), ("bad.gsd", b"not a gsd file")]
)
def test_plot_bad_input(tmp_path, capsys, name, content):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    assert main(["plot", str(path)]) == 2
    assert capsys.readouterr().err.startswith("simssl: error:")


def test_no_forced_clusters_on_one_population(tmp_path):
    """Issue 11, item 15: two forced k-means clusters called half of a perfect crystal disordered and
    a third of a liquid ordered. Clusters are chosen from the data, one allowed."""
    import freud

    from simssl.fractions import order_fractions

    box, points = freud.data.UnitCell.fcc().generate_system(10, sigma_noise=0.0)
    crystal = tmp_path / "crystal.gsd"
    import gsd.hoomd

    with gsd.hoomd.open(str(crystal), "w") as out:
        frame = gsd.hoomd.Frame()
        frame.configuration.box = [box.Lx, box.Ly, box.Lz, 0, 0, 0]
        frame.particles.N = len(points)
        frame.particles.position = points.astype(np.float32)
        out.append(frame)
    for source, output in (
        (crystal, tmp_path / "crystal.simssl.gsd"),
        (simssl.example_path(), tmp_path / "liquid.simssl.gsd"),
    ):
        frames = "0:1" if source != crystal else None
        simssl.process(
            source,
            output,
            analyzers=simssl.analyses.build_analyzers(model="default", average=True),
            frames=frames,
            progress=False,
        )
    perfect = order_fractions(read_processed(tmp_path / "crystal.simssl.gsd"))
    assert perfect["q6"][0] == 1.0
    assert perfect.get("clusters", np.ones(1))[0] == 1.0  # never half of a perfect crystal
    hot = order_fractions(read_processed(tmp_path / "liquid.simssl.gsd"))
    assert hot["n_clusters"] == 1 and "clusters" not in hot  # no second phase invented in a liquid
    assert hot["q6"][0] < 0.01
    forced = order_fractions(read_processed(tmp_path / "liquid.simssl.gsd"), n_clusters=2)
    assert forced["n_clusters"] == 2 and not forced["silhouettes"]  # --clusters 2 still forces, when asked


def test_choose_clusters_finds_planted_populations():
    from simssl.clustering import choose_clusters

    rng = np.random.default_rng(3)
    three = np.vstack([rng.normal(center, 0.2, (300, 5)) for center in (0.0, 3.0, 6.0)])
    assert choose_clusters(three)[0] == 3
    assert choose_clusters(rng.normal(0, 1, (900, 5)))[0] == 1  # one Gaussian blob: no split


def test_plot_refuses_files_without_q6_or_embeddings(tmp_path, capsys):
    """Issue 11, item 5: they gave empty PNGs titled 'None per particle' with exit 0."""
    source = tmp_path / "q4.simssl.gsd"
    simssl.process(simssl.example_path(), source, steinhardt=(4,), frames="0:2", progress=False)
    assert main(["plot", str(source)]) == 2
    error = capsys.readouterr().err
    assert "neither q6 nor embeddings" in error and "q4" in error and len(error.strip().splitlines()) == 1
    assert not list(tmp_path.glob("*.png"))


def test_snapshot_shows_a_slab_of_large_frames():
    from simssl.plots import SLAB, middle_slab

    positions = np.random.default_rng(0).uniform(-10, 10, (20_000, 3))
    slab = middle_slab(positions)
    assert abs(slab.mean() - SLAB) < 0.02 and np.all(np.abs(positions[slab, 2]) <= SLAB * 10 + 1e-3)
    assert middle_slab(positions[:500]).all()  # small frames are shown whole


# --- identification: the ordered fraction named per particle, nuclei, PTM next to it ---------------------------


@pytest.fixture(scope="module")
def identified_example(tmp_path_factory):
    """The bundled example (LJ melt crystallizing) identified at its first and last frames (hot liquid, crystal)."""
    path = tmp_path_factory.mktemp("identified") / "example.identify.gsd"
    assert main(["identify", "--example", "--frames", "0:20:19", "-o", str(path), "--quiet"]) == 0
    return path


def test_order_series_sees_the_example_crystallize(identified_example):
    from simssl.fractions import order_series

    processed = read_processed(identified_example)
    assert processed.structure_names[0] == "liquid" and len(processed.structure_names) > 1
    series = order_series(processed)
    assert len(series["steps"]) == 2 and series["steps"][1] > series["steps"][0]
    assert series["identified"][0] < 0.1 < 0.5 < series["identified"][1]  # hot liquid, then mostly crystal
    assert series["q6"] is None  # raw q6 (identify without --average): no default threshold (issue 24, item 3)
    raw = order_series(processed, q6_threshold=0.35, ptm=False)["q6"]
    assert raw[1] > 0.5 and raw[0] > 10 * series["identified"][0]  # why: the hot liquid reads "ordered" too
    assert series["largest_nucleus"][1] > max(10 * series["largest_nucleus"][0], 1000)  # the nucleus grew
    assert series["largest_nucleus"][1] <= 4000 * series["identified"][1]  # a nucleus holds ordered particles only
    try:
        import ovito  # noqa: F401
    except ImportError:
        assert series["ptm"] is None  # skipped silently without OVITO
    else:
        # PTM with OVITO's defaults (RMSD cutoff 0.1) sees the crystal grow but calls about half of this hot
        # (T* = 0.6) crystal 'Other' (0.46 at the last frame; adaptive CNA agrees, 0.44), so it is not held
        # within 0.25 of the identified fraction (1.00), only below it and well above its liquid value
        assert series["ptm"] is not None and series["ptm"][0] < 0.01
        assert 0.3 < series["ptm"][1] <= series["identified"][1]
    assert order_series(processed, ptm=False)["ptm"] is None


def test_plot_command_with_identification(identified_example, tmp_path, capsys):
    out = tmp_path / "figures"
    assert main(["plot", str(identified_example), "-o", str(out)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    written = lines[:4]
    assert [Path(p).name for p in written] == [
        "example.identify" + suffix
        for suffix in ("_embedding_vs_q6.png", "_order_fraction.png", "_snapshot.png", "_nuclei.png")
    ]
    for path in written:
        with open(path, "rb") as png:
            assert png.read(8) == b"\x89PNG\r\n\x1a\n"
    assert lines[4].startswith("no q6 curve: this file holds raw q6")  # the README's identify, then plot
    assert "q6 (-: no threshold for raw q6)" in lines[5]
    table = lines[6:]  # a header, one row per frame
    assert "step" in table[0] and "identified" in table[0] and len(table) == 3
    first, last = (row.split() for row in table[1:])
    assert first[0] == "0" and float(first[1]) < 0.1 and float(last[1]) > 0.5 and int(last[4]) > int(first[4])
    assert first[2] == last[2] == "-"  # no q6 fraction against a threshold made for q6_avg
    # existing pictures are refused without --force, before anything is drawn
    assert main(["plot", str(identified_example), "-o", str(out)]) == 2
    assert "exists" in capsys.readouterr().err
    assert main(["plot", str(identified_example), "-o", str(out), "--force", "--quiet"]) == 0
    assert capsys.readouterr().out == ""


def test_order_series_numbers_and_table():
    from simssl.cli.plot import order_table
    from simssl.fractions import order_series

    structure = [np.array([0, 0, 0, 0]), np.array([0, 1, 1, 2]), np.array([1, 1, 2, 2])]
    cluster = [np.array([-1, -1, -1, -1]), np.array([-1, 0, 0, 1]), np.array([0, 0, 0, 0])]
    q6 = [np.full(4, 0.2), np.array([0.2, 0.5, 0.5, 0.2]), np.full(4, 0.5)]
    processed = Processed(np.array([0, 10, 20]), {"structure": structure, "nucleus": cluster, "q6": q6}, None)
    series = order_series(processed, q6_threshold=0.35)
    assert order_series(processed)["q6"] is None  # raw q6: a threshold only when given
    np.testing.assert_allclose(series["identified"], [0, 0.75, 1])
    np.testing.assert_allclose(series["q6"], [0, 0.5, 1])
    np.testing.assert_array_equal(series["largest_nucleus"], [0, 2, 4])
    np.testing.assert_array_equal(series["n_nuclei"], [0, 2, 1])
    assert series["ptm"] is None  # no positions
    plain = order_series(Processed(np.array([0]), {"q6_avg": q6[:1]}, None))
    assert plain["identified"] is None and plain["largest_nucleus"] is None and plain["q6"][0] == 0
    table = order_table(series)
    assert len(table) == 4 and table[2].split() == ["10", "0.750", "0.500", "-", "2"]
    many = {key: (np.arange(101) if value is not None else None) for key, value in series.items()}
    lines = order_table(many)
    rows = [int(line.split()[0]) for line in lines[1:-1]]
    assert len(rows) == 20 and rows[0] == 0 and rows[-1] == 100 and rows == sorted(rows)
    assert lines[-1] == "(20 of 101 frames shown, evenly spaced)"  # issue 24, item 10: says what it leaves out


def test_ptm_fractions_of_a_crystal_and_a_gas():
    pytest.importorskip("ovito")
    import freud

    from simssl.plugins.ovito import ptm_fractions

    box, crystal = freud.data.UnitCell.fcc().generate_system(6, sigma_noise=0.02, seed=1)
    # fcc's primitive cell (three vectors 60 degrees apart) in LAMMPS/HOOMD upper-triangular form: a triclinic box
    c = 1 / np.sqrt(2)
    cell = np.array([[c, c / 2, c / 2], [0, c * np.sqrt(3) / 2, c / (2 * np.sqrt(3))], [0, 0, c * np.sqrt(2 / 3)]])
    cell_box = freud.box.Box.from_matrix(cell)
    tilted, triclinic = freud.data.UnitCell(cell_box, [[0, 0, 0]]).generate_system(9, sigma_noise=0.01, seed=2)
    assert abs(tilted.xy) > 0.1 and abs(tilted.xz) > 0.1 and abs(tilted.yz) > 0.1
    gas = np.random.default_rng(0).uniform(-0.5, 0.5, (len(crystal), 3)) * box.Lx
    boxes = [
        [box.Lx, box.Ly, box.Lz, 0, 0, 0],
        [tilted.Lx, tilted.Ly, tilted.Lz, tilted.xy, tilted.xz, tilted.yz],
        [box.Lx, box.Ly, box.Lz, 0, 0, 0],
    ]
    processed = Processed(
        np.arange(3),
        {},
        None,
        positions=[crystal.astype(np.float32), triclinic.astype(np.float32), gas.astype(np.float32)],
        boxes=np.array(boxes, dtype=float),
    )
    fractions = ptm_fractions(processed)
    assert fractions[0] == 1.0 and fractions[1] == 1.0 and fractions[2] < 0.05


# --- issue 24, items 3 and 10: a threshold that fits the q6 present, options checked, the snapshot to scale -------


@pytest.fixture(scope="module")
def processed_pair(tmp_path_factory):
    """The bundled example's first frames (a melt) with raw q6 only (.gsd) and with q6_avg (.npz)."""
    directory = tmp_path_factory.mktemp("pair")
    raw, averaged = directory / "raw.gsd", directory / "averaged.npz"
    assert main(["process", "--example", "--frames", "0:3", "-o", str(raw), "--quiet"]) == 0
    assert main(["process", "--example", "--frames", "0:3", "--average", "-o", str(averaged), "--quiet"]) == 0
    return raw, averaged


def test_plot_draws_no_raw_q6_curve_against_the_q6_avg_threshold(processed_pair, tmp_path, capsys):
    """Raw q6 of a liquid is half above 0.35 (the q6_avg threshold): no curve unless a threshold is given."""
    from simssl.fractions import order_fractions

    raw, averaged = processed_pair
    assert main(["plot", str(raw), "-o", str(tmp_path / "raw")]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("no q6 curve: this file holds raw q6")
    melt = read_processed(raw)
    assert "q6" not in order_fractions(melt)  # nothing drawn ...
    assert order_fractions(melt, q6_threshold=0.35)["q6"][0] > 0.3  # ... where 0.35 would call the melt ordered
    assert main(["plot", str(raw), "-o", str(tmp_path / "given"), "--q6-threshold", "0.5"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "q6: q6 > 0.5"
    assert main(["plot", str(averaged), "-o", str(tmp_path / "averaged")]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "q6: q6_avg > 0.35"
    assert order_fractions(read_processed(averaged))["q6"][0] < 0.05  # q6_avg sees the melt as a melt


@pytest.mark.parametrize(
    "arguments, fragment",
    [
        (["--clusters", "-2"], "--clusters -2 (n_clusters=) must be between 1 and 10"),
        (["--clusters", "1000"], "--clusters 1000 (n_clusters=) must be between 1 and 10"),
        (["--q6-threshold", "5"], "--q6-threshold 5.0 (q6_threshold=) must lie between 0 and 1"),
        (["--q6-threshold", "-1"], "--q6-threshold -1.0 (q6_threshold=) must lie between 0 and 1"),
        (["--q6-threshold", "nan"], "--q6-threshold nan (q6_threshold=) must lie between 0 and 1"),
        (["-o", "{tmp}/x.png"], "x.png: -o (out_dir=) is the directory of the pictures, not a picture"),
    ],
)
def test_plot_refuses_options_it_cannot_draw(arguments, fragment, tmp_path, capsys):
    """Issue 24, item 10: these drew nonsense with exit 0 (``-o x.png`` made a directory named x.png)."""
    import freud

    from simssl.frame import make_frame
    from simssl.io.writers import open_writer

    box, points = freud.data.UnitCell.fcc().generate_system(3, sigma_noise=0.02, seed=0)
    source = tmp_path / "embedded.npz"
    rng = np.random.default_rng(0)
    with open_writer(str(source)) as writer:  # numbers of the right kind: the options are what is checked
        for step in range(2):
            quantities = {"q6_avg": rng.random(108, dtype=np.float32), "embedding": rng.random((108, 8), np.float32)}
            writer.write(make_frame(box, points, step=step), quantities)
    arguments = [a.format(tmp=tmp_path) for a in arguments]
    assert main(["plot", str(source), *arguments]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("simssl: error:") and fragment in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["embedded.npz"]  # no picture, no directory


def test_clusters_are_refused_for_a_file_without_embeddings(processed_pair, capsys):
    raw, _ = processed_pair
    assert main(["plot", str(raw), "--clusters", "2"]) == 2
    assert "--clusters (n_clusters=) would be ignored" in capsys.readouterr().err


def test_npz_gets_a_snapshot_to_scale_with_labels_and_colorbar(processed_pair, tmp_path, capsys):
    """Issue 24, item 10: .npz outputs store positions, so they get the snapshot; equal lengths on every axis."""
    _, averaged = processed_pair
    assert main(["plot", str(averaged), "-o", str(tmp_path)]) == 0
    written = capsys.readouterr().out.split()[:3]
    assert [Path(p).name for p in written] == [
        "averaged_embedding_vs_q6.png",
        "averaged_order_fraction.png",
        "averaged_snapshot.png",
    ]
    from simssl.plots import snapshot_figure

    processed = read_processed(averaged)
    assert "positions" not in processed.columns and "type_names" not in processed.columns  # not quantities
    figure = snapshot_figure(processed, order_fractions(processed))
    axis, colorbar = figure.axes
    assert (axis.get_xlabel(), axis.get_ylabel(), axis.get_zlabel()) == ("x", "y", "z")
    assert colorbar.get_ylabel() == "q6_avg"
    shown = processed.last_positions[simssl.plots.middle_slab(processed.last_positions)]
    extent = np.ptp(shown, axis=0)
    assert extent[2] < 0.3 * extent[0]  # a slab of the 4,000-particle frame
    aspect = np.asarray(axis.get_box_aspect())
    np.testing.assert_allclose(aspect / aspect[0], extent / extent[0], rtol=1e-6)
    limits = np.array([axis.get_xlim(), axis.get_ylim(), axis.get_zlim()])
    np.testing.assert_allclose(limits[:, 1] - limits[:, 0], extent, rtol=1e-6)  # so lengths are to scale


def test_plot_table_says_which_frames_it_shows(tmp_path, capsys):
    """21 identified frames: the table lists 20 and says so (it said nothing before)."""
    import freud

    from simssl.frame import make_frame
    from simssl.io.writers import open_writer

    box, points = freud.data.UnitCell.fcc().generate_system(3, sigma_noise=0.02, seed=0)
    path = tmp_path / "identified.npz"
    with open_writer(str(path)) as writer:
        for step in range(21):
            frame = make_frame(box, points, step=100 * step, index=step)
            ordered = np.arange(len(points)) < 5 * step
            structure = ordered.astype(np.int32)
            nucleus = np.where(ordered, 0, -1).astype(np.int32)  # under its 0.2 name, "cluster": still read
            writer.write(frame, {"structure": structure, "cluster": nucleus})
    assert main(["plot", str(path), "-o", str(tmp_path / "figures")]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == "(20 of 21 frames shown, evenly spaced)"
    assert [line.split()[0] for line in lines[-21:-1]][:2] == ["0", "100"] and lines[-2].split()[0] == "2000"
