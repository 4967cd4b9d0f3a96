"""Bad input is refused cleanly: one SimsslError (file, frame, problem), exit code 2, no partial output.

Every input is a real file written in tmp_path with the real writers: ``gsd.hoomd`` for GSD, plain
text in LAMMPS's own dump layout, ``ase.io.write`` for XYZ. Each case is checked through the Python
API (``read_frames`` and ``process``) and the command line (``simssl.cli.main`` in-process, plus a
few runs of ``python -m simssl.cli`` in a subprocess). Besides the error itself, every failing run
must leave the output directory as it found it: no output created, an existing output's bytes
untouched (even with ``--force``, and even when the failure comes on a later frame after earlier
frames were analysed and written), and no temporary ``.*.part*`` files left behind.
"""

from __future__ import annotations

import gzip
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import ase
import ase.io
import freud
import gsd.hoomd
import numpy as np
import pytest

import simssl
from simssl.atomic import partial_path
from simssl.cli import main

# --------------------------------------------------------------------------------------------
# Writers of real input files (local helpers: no shared conftest on purpose)
# --------------------------------------------------------------------------------------------


def fcc(cells: int = 3, seed: int = 0, noise: float = 0.02):
    """A noisy FCC crystal: (freud box, (N, 3) float32 positions), 4 * cells**3 particles, centered."""
    box, points = freud.data.UnitCell.fcc().generate_system(cells, sigma_noise=noise, seed=seed)
    return box, np.asarray(points, dtype=np.float32)


def box6(box: freud.box.Box) -> list[float]:
    return [box.Lx, box.Ly, box.Lz, box.xy, box.xz, box.yz]


def write_gsd(path: Path, frames: list[dict]) -> Path:
    """Write frames given as dicts with ``box`` (6 numbers), ``positions`` and optional ``dimensions``."""
    with gsd.hoomd.open(str(path), "w") as trajectory:
        for step, spec in enumerate(frames):
            frame = gsd.hoomd.Frame()
            frame.configuration.step = 1000 * step
            frame.configuration.box = list(spec["box"])
            if spec.get("dimensions") is not None:
                frame.configuration.dimensions = spec["dimensions"]
            positions = np.asarray(spec["positions"], dtype=np.float32).reshape(-1, 3)
            frame.particles.N = len(positions)
            frame.particles.types = ["A"]
            if len(positions):
                frame.particles.position = positions
                frame.particles.typeid = np.zeros(len(positions), dtype=np.uint32)
            trajectory.append(frame)
    return path


def good_gsd_frames(n_frames: int = 3, cells: int = 3) -> list[dict]:
    frames = []
    for seed in range(n_frames):
        box, points = fcc(cells, seed)
        frames.append(dict(box=box6(box), positions=points))
    return frames


def write_dump(path: Path, frames: list[tuple], columns=("id", "type", "x", "y", "z"), bounds=None) -> Path:
    """A LAMMPS text dump exactly as ``dump custom`` writes it (orthogonal box at the origin, unscaled coordinates)."""
    lines = []
    for step, (box, points) in enumerate(frames):
        points = np.asarray(points, dtype=np.float64) + np.array([box.Lx, box.Ly, box.Lz]) / 2
        lines += [
            "ITEM: TIMESTEP",
            str(100 * step),
            "ITEM: NUMBER OF ATOMS",
            str(len(points)),
            "ITEM: BOX BOUNDS pp pp pp",
        ]
        for low, high in bounds or [(0.0, box.Lx), (0.0, box.Ly), (0.0, box.Lz)]:
            lines.append(f"{low:.16e} {high:.16e}")
        lines.append("ITEM: ATOMS " + " ".join(columns))
        for i, (x, y, z) in enumerate(points):
            values = {"id": str(i + 1), "type": "1", "x": f"{x:g}", "y": f"{y:g}", "z": f"{z:g}"}
            lines.append(" ".join(values[c] for c in columns))
    path.write_text("\n".join(lines) + "\n")
    return path


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file in ``directory`` (hidden ones too) with its bytes."""
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


def assert_untouched(directory: Path, before: dict[str, bytes]) -> None:
    """The failed run created nothing (no output, no ``.*.part*`` temporaries) and changed nothing."""
    leftovers = sorted(p.name for p in directory.glob(".*.part*"))
    assert not leftovers, f"temporary files left behind: {leftovers}"
    after = snapshot(directory)
    assert sorted(after) == sorted(before), f"files created or removed: {sorted(set(after) ^ set(before))}"
    for name, content in before.items():
        assert after[name] == content, f"{name} was modified"


def assert_message(message: str, path, frame: int | None, problem) -> None:
    """One line that names the file, the frame (when one is involved) and the problem.

    ``problem`` is a sequence of groups; each group is a string or a tuple of alternatives, and at
    least one alternative of every group must occur (case-insensitive).
    """
    assert "\n" not in message.strip(), f"message is not one line: {message!r}"
    if path is not None:
        assert str(path) in message, f"message does not name {path}: {message!r}"
    if frame is not None:
        assert f"frame {frame}" in message, f"message does not name frame {frame}: {message!r}"
    lowered = message.lower()
    for group in problem:
        alternatives = (group,) if isinstance(group, str) else tuple(group)
        assert any(a.lower() in lowered for a in alternatives), f"message lacks any of {alternatives}: {message!r}"


def assert_cli_failure(code: int, stderr: str, path, frame, problem) -> None:
    assert code == 2, f"exit code {code}, stderr: {stderr}"
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, f"stderr is not one line: {stderr!r}"
    assert lines[0].startswith("simssl: error:"), stderr
    assert_message(lines[0], path, frame, problem)


def run_subprocess(args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "simssl.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


# --------------------------------------------------------------------------------------------
# The bad inputs
# --------------------------------------------------------------------------------------------


@dataclass
class Case:
    """One bad input: how to make it, what the error must say, and how to pass it in."""

    id: str
    make: Callable[[Path], Path]  # writes the input file(s) into the directory, returns the input path
    problem: tuple  # groups of alternatives the message must contain (see assert_message)
    frame: int | None = None  # the frame the message must name
    api: dict = field(default_factory=dict)  # extra keyword arguments for read_frames / process
    cli: list = field(default_factory=list)  # the same options on the command line
    in_reader: bool = True  # read_frames alone already fails (False: only the analysis does)
    later_frame: bool = False  # earlier frames are valid and get processed before the failure


def _missing(d):
    return d / "missing.gsd"


def _unknown_extension(d):
    write_gsd(d / "good.gsd", good_gsd_frames(1))
    path = d / "trajectory.txt"
    path.write_bytes((d / "good.gsd").read_bytes())
    (d / "good.gsd").unlink()
    return path


def _truncated_gsd(d):
    path = write_gsd(d / "truncated.gsd", good_gsd_frames(3))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _garbage_gsd(d):
    path = d / "garbage.gsd"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    return path


def _dump_without(column):
    def make(d):
        columns = tuple(c for c in ("id", "type", "x", "y", "z") if c != column)
        return write_dump(d / f"no_{column}.lammpstrj", [fcc(3, seed) for seed in range(2)], columns=columns)

    return make


def _gsd_empty_frame(d):
    frames = good_gsd_frames(3)
    frames[1]["positions"] = np.empty((0, 3), np.float32)
    return write_gsd(d / "empty_frame.gsd", frames)


def _gsd_bad_value(frame, value):
    def make(d):
        frames = good_gsd_frames(3)
        frames[frame]["positions"] = frames[frame]["positions"].copy()
        frames[frame]["positions"][7, 1] = value
        return write_gsd(d / f"bad_{frame}.gsd", frames)

    return make


def _dump_nan(d):
    frames = [fcc(3, seed) for seed in range(3)]
    frames[1][1][4, 0] = np.nan
    return write_dump(d / "nan.lammpstrj", frames)


def _gsd_box(box, dimensions=None, frame=0):
    def make(d):
        frames = good_gsd_frames(3)
        frames[frame]["box"] = box
        frames[frame]["dimensions"] = dimensions
        return write_gsd(d / "bad_box.gsd", frames)

    return make


def _dump_flat_box(d):
    box, points = fcc(3)
    points[:, 2] = -box.Lz / 2  # every particle on the plane z = 0 of a box with zlo == zhi
    return write_dump(d / "flat.lammpstrj", [(box, points)], bounds=[(0, box.Lx), (0, box.Ly), (0, 0)])


def _gsd_few_particles(n):
    def make(d):
        rng = np.random.default_rng(n)
        return write_gsd(d / f"n{n}.gsd", [dict(box=[4, 4, 4, 0, 0, 0], positions=rng.uniform(-2, 2, (n, 3)))])

    return make


def _gsd_2d(d):
    rng = np.random.default_rng(2)
    positions = np.c_[rng.uniform(-5, 5, (100, 2)), np.zeros(100)]
    return write_gsd(d / "flat2d.gsd", [dict(box=[10, 10, 0, 0, 0, 0], positions=positions, dimensions=2)])


def _plain_xyz(d):
    path = d / "plain.xyz"
    frames = []
    for seed in range(2):
        _, points = fcc(3, seed)
        frames.append(ase.Atoms("Cu" * len(points), positions=points))
    ase.io.write(str(path), frames, format="xyz")
    assert "Lattice" not in path.read_text()
    return path


def _dump_cut(n_frames, atom_lines, name="cut.lammpstrj", compress=False):
    """A dump whose last frame stops after ``atom_lines`` of its 108 atom lines (optionally gzip-compressed)."""

    def make(d):
        path = write_dump(d / name, [fcc(3, seed) for seed in range(n_frames)])
        lines = path.read_text().splitlines(keepends=True)
        text = "".join(lines[: len(lines) - 108 + atom_lines])
        if compress:
            path.unlink()
            path = d / (name + ".gz")
            with gzip.open(path, "wt") as handle:
                handle.write(text)
        else:
            path.write_text(text)
        return path

    return make


def _xyz_frames(n_frames):
    frames = []
    for seed in range(n_frames):
        box, points = fcc(3, seed)
        frames.append(ase.Atoms("Cu" * len(points), positions=points, cell=[box.Lx] * 3, pbc=True))
    return frames


def _xyz_cut(d):
    path = d / "cut.xyz"
    ase.io.write(str(path), _xyz_frames(3), format="extxyz")
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[: 2 * 110 + 2 + 57]))
    return path


def _xyz_count_promises_more(d):
    path = d / "promise.xyz"
    ase.io.write(str(path), _xyz_frames(2), format="extxyz")
    lines = path.read_text().splitlines(keepends=True)
    lines[110] = "120\n"  # frame 1 says 120 atoms; the file holds 108 lines after it
    path.write_text("".join(lines))
    return path


def _empty(name):
    def make(d):
        path = d / name
        if name.endswith(".gz"):
            with gzip.open(path, "wb"):
                pass
        else:
            path.write_text("")
        return path

    return make


def _dump_bad_value_with_ids(value):
    """Atoms listed in reverse order with ids 1001.. : the message must give the file's id, not a row."""

    def make(d):
        frames = [fcc(3, seed) for seed in range(3)]
        path = write_dump(d / "ids.lammpstrj", frames)
        lines = path.read_text().splitlines()
        out = []
        for start in range(0, len(lines), 9 + 108):
            header, atoms = lines[start : start + 9], lines[start + 9 : start + 9 + 108]
            rows = []
            for line in reversed(atoms):
                atom_id, rest = line.split(" ", 1)
                fields = rest.split()
                if start > 0 and atom_id == "5":  # frame 1 onwards: id 1005 is bad
                    fields[1] = value
                rows.append(f"{1000 + int(atom_id)} " + " ".join(fields))
            out += header + rows
        path.write_text("\n".join(out) + "\n")
        return path

    return make


def _unknown_gsd_gz(d):
    path = d / "run.gsd.gz"
    write_gsd(d / "good.gsd", good_gsd_frames(1))
    with gzip.open(path, "wb") as handle:
        handle.write((d / "good.gsd").read_bytes())
    (d / "good.gsd").unlink()
    return path


def _xyz_box_far_too_small(d):
    """A plain XYZ crystal in a 36-wide cell (positions 0 to 33, as LAMMPS writes them): ``--box 10`` is wrong."""
    _, points = freud.data.UnitCell.fcc().generate_system(6, scale=6.0)  # 864 particles, 36 wide
    path = d / "wide.xyz"
    ase.io.write(str(path), ase.Atoms("Ar" * len(points), positions=np.asarray(points) + 18.0), format="xyz")
    return path


def _gsd_coincident(d):
    """Frame 1: particles 20 to 29 all at particle 20's position."""
    frames = good_gsd_frames(3)
    frames[1]["positions"] = frames[1]["positions"].copy()
    frames[1]["positions"][20:30] = frames[1]["positions"][20]
    return write_gsd(d / "coincident.gsd", frames)


def _dump_all_bounds_zero(d):
    box, points = fcc(3)
    return write_dump(d / "point.lammpstrj", [(box, points * 0)], bounds=[(0, 0), (0, 0), (0, 0)])


def _extxyz_zero_lattice(d):
    _, points = fcc(3)
    path = d / "zero_lattice.extxyz"
    lines = [str(len(points)), 'Lattice="0 0 0 0 0 0 0 0 0" Properties=species:S:1:pos:R:3']
    path.write_text("\n".join(lines + [f"Cu {x} {y} {z}" for x, y, z in points]) + "\n")
    return path


def _gzip_stream_cut(name):
    """A gzip-compressed dump or XYZ file cut at two thirds of its bytes (copy or download interrupted)."""

    def make(d):
        if name.endswith(".lammpstrj.gz"):
            text = write_dump(d / "whole.lammpstrj", [fcc(3, seed) for seed in range(3)]).read_text()
        else:
            ase.io.write(str(d / "whole.xyz"), _xyz_frames(3), format="extxyz")
            text = (d / "whole.xyz").read_text()
        for whole in d.glob("whole.*"):
            whole.unlink()
        data = gzip.compress(text.encode())
        path = d / name
        path.write_bytes(data[: 2 * len(data) // 3])
        return path

    return make


CASES = [
    Case("missing-file", _missing, (("no such file", "does not exist", "not found"),)),
    Case("unknown-extension", _unknown_extension, ("extension", ".txt")),
    Case("truncated-gsd", _truncated_gsd, (("truncated", "corrupt"),)),
    Case("garbage-gsd", _garbage_gsd, (("not a gsd", "not a readable", "corrupt"),)),
    Case("dump-without-z", _dump_without("z"), (("coordinate", "column"),)),
    Case("dump-without-id", _dump_without("id"), (("'id'", "id column"),)),
    Case(
        "gsd-zero-particles",
        _gsd_empty_frame,
        (("zero particles", "no particles", "empty"),),
        frame=1,
        later_frame=True,
    ),
    Case("gsd-nan", _gsd_bad_value(1, np.nan), ("nan",), frame=1, later_frame=True),
    Case("gsd-inf", _gsd_bad_value(2, np.inf), (("inf",),), frame=2, later_frame=True),
    Case("gsd-neg-inf-first-frame", _gsd_bad_value(0, -np.inf), (("inf",),), frame=0),
    Case("dump-nan", _dump_nan, ("nan",), frame=1, later_frame=True),
    Case("gsd-box-Lz0-dimensions3", _gsd_box([10, 10, 0, 0, 0, 0], dimensions=3), ("zero volume",), frame=0),
    Case("gsd-box-Lx0", _gsd_box([0, 10, 10, 0, 0, 0]), ("zero volume",), frame=0),
    Case(
        "gsd-box-Lx0-later-frame", _gsd_box([0, 10, 10, 0, 0, 0], frame=2), ("zero volume",), frame=2, later_frame=True
    ),
    Case("dump-box-zero-volume", _dump_flat_box, ("zero volume",), frame=0),
    Case("fewer-particles-than-steinhardt-k", _gsd_few_particles(8), ("8 particles", "12"), frame=0, in_reader=False),
    Case(
        "fewer-particles-than-k16",
        _gsd_few_particles(14),
        ("14 particles", "16"),
        frame=0,
        api=dict(k=16),
        cli=["--k", "16"],
        in_reader=False,
    ),
    Case("gsd-2d", _gsd_2d, (("two-dimensional", "2d"),), frame=0),
    Case("plain-xyz-without-box", _plain_xyz, ("--box", "box="), frame=0),
    Case(
        "bad-frames-four-fields",
        lambda d: write_gsd(d / "good.gsd", good_gsd_frames(2)),
        ("1:2:3:4",),
        api=dict(frames="1:2:3:4"),
        cli=["--frames", "1:2:3:4"],
    ),
    Case(
        "bad-frames-text",
        lambda d: write_gsd(d / "good.gsd", good_gsd_frames(2)),
        ("every",),
        api=dict(frames="every"),
        cli=["--frames", "every"],
    ),
    Case(
        "bad-frames-zero-step",
        lambda d: write_gsd(d / "good.gsd", good_gsd_frames(2)),
        ("step",),
        api=dict(frames="::0"),
        cli=["--frames", "::0"],
    ),
    # truncated files (issue 11, item 4): the file, the frame and what is missing
    Case("dump-truncated", _dump_cut(3, 57), ("truncated", "57 of 108 atom lines"), frame=2, later_frame=True),
    Case("dump-truncated-first-frame", _dump_cut(1, 40), ("truncated", "40 of 108 atom lines"), frame=0),
    Case(
        "dump-gz-truncated",
        _dump_cut(3, 57, compress=True),
        ("truncated", "57 of 108 atom lines"),
        frame=2,
        later_frame=True,
    ),
    Case("xyz-truncated", _xyz_cut, ("truncated", "57 of 108 atom lines"), frame=2, later_frame=True),
    Case("xyz-count-promises-more", _xyz_count_promises_more, ("truncated", "108 of 120"), frame=1, later_frame=True),
    # messages (issue 11, item 8)
    Case("dump-empty", _empty("empty.lammpstrj"), ("the file is empty",)),
    Case("dump-gz-empty", _empty("empty.lammpstrj.gz"), ("the file is empty",)),
    Case("xyz-empty", _empty("empty.xyz"), ("the file is empty",)),
    Case("gsd-empty", _empty("empty.gsd"), ("the file is empty",)),
    Case("dump-nan-file-id", _dump_bad_value_with_ids("nan"), ("nan", "particle id 1005"), frame=1, later_frame=True),
    Case("dump-inf-file-id", _dump_bad_value_with_ids("inf"), ("inf", "particle id 1005"), frame=1, later_frame=True),
    Case("gsd-nan-particle-index", _gsd_bad_value(1, np.nan), ("particle index 7",), frame=1, later_frame=True),
    Case("unknown-extension-both-spellings", _unknown_extension, ("--format", "format= in python")),
    Case("gsd-gz", _unknown_gsd_gz, ("compressed gsd",)),
    Case("dump-without-id-type-optional", _dump_without("id"), ("'id'", "'type' is optional")),
    # what a newcomer hit (issue 24, items 4, 5, 7)
    Case(
        "xyz-box-far-too-small",
        _xyz_box_far_too_small,
        ("given box", "3.3 box lengths along x"),
        frame=0,
        api=dict(box=10.0),
        cli=["--box", "10"],
    ),
    Case("gsd-coincident-particles", _gsd_coincident, ("coincident", "particle index 20"), frame=1, later_frame=True),
    Case("dump-all-bounds-zero", _dump_all_bounds_zero, ("zero volume",), frame=0),
    Case("extxyz-zero-lattice", _extxyz_zero_lattice, ("zero volume",), frame=0),
    Case("dump-gz-stream-cut", _gzip_stream_cut("cut.lammpstrj.gz"), ("truncated", "gzip")),
    Case("xyz-gz-stream-cut", _gzip_stream_cut("cut.extxyz.gz"), ("truncated", "gzip")),
]
CASE_IDS = [case.id for case in CASES]
# Messages about the frame selection concern an argument, not the file: they need not name the path.
_NAMES_NO_PATH = {"bad-frames-four-fields", "bad-frames-text", "bad-frames-zero-step"}


def _expected_path(case: Case, path: Path):
    return None if case.id in _NAMES_NO_PATH else path


@pytest.fixture
def workdir(tmp_path):
    directory = tmp_path / "work"
    directory.mkdir()
    return directory


# --------------------------------------------------------------------------------------------
# Python API
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", [c for c in CASES if c.in_reader], ids=[c.id for c in CASES if c.in_reader])
def test_read_frames_raises(case, workdir):
    path = case.make(workdir)
    before = snapshot(workdir)
    with pytest.raises(simssl.SimsslError) as error:
        list(simssl.read_frames(str(path), **{k: v for k, v in case.api.items() if k != "k"}))
    assert_message(str(error.value), _expected_path(case, path), case.frame, case.problem)
    assert_untouched(workdir, before)


@pytest.mark.parametrize("suffix", [".gsd", ".npz"])
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_process_raises_and_writes_nothing(case, suffix, workdir):
    path = case.make(workdir)
    output = workdir / f"result{suffix}"
    before = snapshot(workdir)
    with pytest.raises(Exception) as error:  # checked after the directory, so a wrong type still shows the cleanup
        simssl.process(str(path), str(output), progress=False, **case.api)
    assert not output.exists()
    assert_untouched(workdir, before)
    assert error.type is simssl.SimsslError, f"{error.type.__name__}: {error.value}"
    assert_message(str(error.value), _expected_path(case, path), case.frame, case.problem)


@pytest.mark.parametrize("suffix", [".gsd", ".npz"])
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_process_with_force_keeps_existing_output(case, suffix, workdir):
    """force=True allows replacing the output, but a failed run must not touch it."""
    path = case.make(workdir)
    output = workdir / f"result{suffix}"
    output.write_bytes(b"precious earlier results\n")
    before = snapshot(workdir)
    with pytest.raises(Exception) as error:
        simssl.process(str(path), str(output), force=True, progress=False, **case.api)
    assert output.read_bytes() == b"precious earlier results\n"
    assert_untouched(workdir, before)
    assert error.type is simssl.SimsslError, f"{error.type.__name__}: {error.value}"
    assert_message(str(error.value), _expected_path(case, path), case.frame, case.problem)


@pytest.mark.parametrize("case", [c for c in CASES if c.later_frame], ids=[c.id for c in CASES if c.later_frame])
def test_later_frame_failure_comes_after_good_frames(case, workdir):
    """The defect really is on a later frame: the frames before it are read (and analysed) first."""
    path = case.make(workdir)
    seen = []
    with pytest.raises(simssl.SimsslError):
        for frame in simssl.read_frames(str(path)):
            seen.append(frame.index)
    assert seen == list(range(case.frame))
    result = simssl.process(str(path), frames=f":{case.frame}", progress=False)
    assert result.n_frames == case.frame


def test_process_without_output_raises_too(workdir):
    path = _gsd_bad_value(1, np.nan)(workdir)
    with pytest.raises(simssl.SimsslError) as error:
        simssl.process(str(path), progress=False)
    assert_message(str(error.value), path, 1, ("nan",))


# --------------------------------------------------------------------------------------------
# Command line, in-process
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_cli_refuses_bad_input(case, workdir, capsys):
    path = case.make(workdir)
    output = workdir / "result.gsd"
    before = snapshot(workdir)
    code = main(["process", str(path), "-o", str(output), "--quiet", *case.cli])
    captured = capsys.readouterr()
    assert_cli_failure(code, captured.err, _expected_path(case, path), case.frame, case.problem)
    assert captured.out == ""
    assert not output.exists()
    assert_untouched(workdir, before)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_cli_with_force_keeps_existing_output(case, workdir, capsys):
    path = case.make(workdir)
    output = workdir / "result.npz"
    output.write_bytes(b"precious earlier results\n")
    before = snapshot(workdir)
    code = main(["process", str(path), "-o", str(output), "--force", "--quiet", *case.cli])
    assert_cli_failure(code, capsys.readouterr().err, _expected_path(case, path), case.frame, case.problem)
    assert output.read_bytes() == b"precious earlier results\n"
    assert_untouched(workdir, before)


def test_cli_later_frame_failure_with_progress_bar(workdir, capsys):
    """Without --quiet a progress bar may precede it, but the error is still the last line, once, no traceback."""
    path = _gsd_bad_value(1, np.nan)(workdir)
    output = workdir / "result.gsd"
    before = snapshot(workdir)
    code = main(["process", str(path), "-o", str(output)])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err
    error_lines = [line for line in err.splitlines() if "simssl: error:" in line]
    assert len(error_lines) == 1 and err.rstrip().splitlines()[-1].startswith("simssl: error:"), err
    assert_message(error_lines[0], path, 1, ("nan",))
    assert_untouched(workdir, before)


def test_cli_early_failure_without_quiet_is_one_line(workdir, capsys):
    code = main(["process", str(workdir / "missing.gsd"), "-o", str(workdir / "result.gsd")])
    assert_cli_failure(code, capsys.readouterr().err, workdir / "missing.gsd", None, ("no such file",))


def test_cli_info_refuses_bad_input(workdir, capsys):
    path = _gsd_bad_value(2, np.inf)(workdir)
    code = main(["info", str(path)])
    assert_cli_failure(code, capsys.readouterr().err, path, 2, (("inf",),))


# --------------------------------------------------------------------------------------------
# Output paths
# --------------------------------------------------------------------------------------------


@pytest.fixture
def good_gsd(workdir):
    return write_gsd(workdir / "good.gsd", good_gsd_frames(3))


@pytest.mark.parametrize("name", ["result.csv", "result", "result.gsd.txt"])
def test_output_with_bad_extension(name, good_gsd, workdir, capsys):
    output = workdir / name
    before = snapshot(workdir)
    with pytest.raises(simssl.SimsslError) as error:
        simssl.process(str(good_gsd), str(output), progress=False)
    assert_message(str(error.value), output, None, (".gsd", ".npz"))
    assert_untouched(workdir, before)
    code = main(["process", str(good_gsd), "-o", str(output), "--quiet"])
    assert_cli_failure(code, capsys.readouterr().err, output, None, (".gsd", ".npz"))
    assert_untouched(workdir, before)


def test_existing_output_refused_without_force(good_gsd, workdir, capsys):
    output = workdir / "result.gsd"
    output.write_bytes(b"do not clobber me")
    before = snapshot(workdir)
    with pytest.raises(simssl.SimsslError) as error:
        simssl.process(str(good_gsd), str(output), progress=False)
    assert_message(str(error.value), output, None, ("exists", "force"))
    assert_untouched(workdir, before)
    code = main(["process", str(good_gsd), "-o", str(output), "--quiet"])
    assert_cli_failure(code, capsys.readouterr().err, output, None, ("exists", "--force"))
    assert_untouched(workdir, before)


@pytest.mark.parametrize("suffix", [".gsd", ".npz"])
def test_existing_output_replaced_with_force(suffix, good_gsd, workdir, capsys):
    output = workdir / f"result{suffix}"
    output.write_bytes(b"old results")
    assert main(["process", str(good_gsd), "-o", str(output), "--force", "--quiet"]) == 0
    assert capsys.readouterr().err == ""
    assert output.read_bytes() != b"old results"
    assert not list(workdir.glob(".*.part*"))
    if suffix == ".gsd":
        with gsd.hoomd.open(str(output), "r") as trajectory:
            assert len(trajectory) == 3
            q6 = trajectory[2].log["particles/simssl/q6"]
    else:
        with np.load(output) as data:
            assert data["q6"].shape == (3, 108)
            q6 = data["q6"][2]
    assert q6.shape == (108,) and np.all(np.isfinite(q6)) and 0.3 < float(np.mean(q6)) < 0.6  # noisy FCC
    # and through the Python API
    output.write_bytes(b"old results")
    result = simssl.process(str(good_gsd), str(output), force=True, progress=False)
    assert result.n_frames == 3 and output.read_bytes() != b"old results"


def test_output_may_not_overwrite_input(good_gsd, workdir, capsys):
    before = snapshot(workdir)
    with pytest.raises(simssl.SimsslError) as error:
        simssl.process(str(good_gsd), str(good_gsd), force=True, progress=False)
    assert_message(str(error.value), good_gsd, None, ("input",))
    code = main(["process", str(good_gsd), "-o", str(good_gsd), "--force", "--quiet"])
    assert_cli_failure(code, capsys.readouterr().err, good_gsd, None, ("input",))
    assert_untouched(workdir, before)


def test_output_directory_missing(good_gsd, workdir, capsys):
    output = workdir / "no" / "such" / "dir" / "result.gsd"
    before = snapshot(workdir)
    with pytest.raises(simssl.SimsslError) as error:
        simssl.process(str(good_gsd), str(output), progress=False)
    assert_message(str(error.value), output, None, ("does not exist",))
    code = main(["process", str(good_gsd), "-o", str(output), "--quiet"])
    assert_cli_failure(code, capsys.readouterr().err, output, None, ("does not exist",))
    assert_untouched(workdir, before)
    assert not (workdir / "no").exists()


@pytest.mark.parametrize("selection", ["7", "3:", "5:9"])
def test_frame_selection_past_the_end(selection, good_gsd, workdir, capsys):
    output = workdir / "result.gsd"
    before = snapshot(workdir)
    with pytest.raises(simssl.SimsslError) as error:
        simssl.process(str(good_gsd), str(output), frames=selection, progress=False)
    assert_message(str(error.value), good_gsd, None, ("no frames", "the file has 3 frames"))
    code = main(["process", str(good_gsd), "-o", str(output), "--frames", selection, "--quiet"])
    assert_cli_failure(code, capsys.readouterr().err, good_gsd, None, ("no frames", "the file has 3 frames"))
    assert_untouched(workdir, before)


@pytest.mark.parametrize("format", ["gsd", "lammpstrj", "xyz"])
def test_frame_selection_past_the_end_names_the_frame_count(format, workdir, capsys):
    """``--frames 100`` on a 3-frame file says how many frames the file has, in every format and command."""
    if format == "gsd":
        path, extra = write_gsd(workdir / "three.gsd", good_gsd_frames(3)), []
    elif format == "lammpstrj":
        path, extra = write_dump(workdir / "three.lammpstrj", [fcc(3, seed) for seed in range(3)]), []
    else:
        path, extra = workdir / "three.xyz", ["--box", "3"]
        ase.io.write(str(path), [ase.Atoms("Cu108", positions=fcc(3, seed)[1]) for seed in range(3)], format="xyz")
    for command in (["process", "-o", str(workdir / "out.gsd"), "--quiet"], ["info"]):
        code = main([command[0], str(path), "--frames", "100", *extra, *command[1:]])
        assert_cli_failure(code, capsys.readouterr().err, path, None, ("'100'", "no frames", "the file has 3 frames"))


# --------------------------------------------------------------------------------------------
# Controls: the same writers make files simssl accepts (so the failures above are about the defects)
# --------------------------------------------------------------------------------------------


def test_controls_good_files_are_accepted(workdir):
    gsd_path = write_gsd(workdir / "good.gsd", good_gsd_frames(3))
    dump_path = write_dump(workdir / "good.lammpstrj", [fcc(3, seed) for seed in range(3)])
    xyz_path = _plain_xyz(workdir)
    for path, kwargs, n_frames in [(gsd_path, {}, 3), (dump_path, {}, 3), (xyz_path, dict(box=3.0), 2)]:
        frames = list(simssl.read_frames(str(path), **kwargs))
        assert len(frames) == n_frames and all(f.n_particles == 108 for f in frames)
        result = simssl.process(str(path), progress=False, **kwargs)
        assert 0.3 < result.statistics["q6"][0] < 0.6
    # 13 particles are enough for 12 neighbors, and a 3D box with the frame selection skipping bad frames is fine
    write_gsd(
        workdir / "n13.gsd", [dict(box=[4, 4, 4, 0, 0, 0], positions=np.random.default_rng(1).uniform(-2, 2, (13, 3)))]
    )
    assert simssl.process(str(workdir / "n13.gsd"), progress=False).n_frames == 1
    assert simssl.process(str(_gsd_bad_value(2, np.nan)(workdir)), frames="0:2", progress=False).n_frames == 2


# --------------------------------------------------------------------------------------------
# Command line as a real subprocess (interpreter start-up, sys.exit, real stderr)
# --------------------------------------------------------------------------------------------

SUBPROCESS_CASES = [
    c
    for c in CASES
    if c.id
    in ("missing-file", "gsd-nan", "gsd-box-Lx0-later-frame", "dump-without-id", "dump-inf-file-id", "dump-truncated")
]


@pytest.mark.slow
@pytest.mark.parametrize("case", SUBPROCESS_CASES, ids=[c.id for c in SUBPROCESS_CASES])
def test_cli_subprocess(case, workdir):
    path = case.make(workdir)
    output = workdir / "result.gsd"
    output.write_bytes(b"precious earlier results\n")
    before = snapshot(workdir)
    completed = run_subprocess(["process", path.name, "-o", output.name, "--force", "--quiet", *case.cli], cwd=workdir)
    assert_cli_failure(completed.returncode, completed.stderr, path.name, case.frame, case.problem)
    assert completed.stdout == ""
    assert_untouched(workdir, before)


@pytest.mark.slow
def test_cli_subprocess_refuses_existing_output(workdir):
    path = write_gsd(workdir / "good.gsd", good_gsd_frames(1))
    output = workdir / "result.gsd"
    output.write_bytes(b"keep")
    before = snapshot(workdir)
    completed = run_subprocess(["process", path.name, "-o", output.name], cwd=workdir)
    assert_cli_failure(completed.returncode, completed.stderr, output.name, None, ("exists", "--force"))
    assert_untouched(workdir, before)


# --------------------------------------------------------------------------------------------
# Options and numbers that cannot be honoured (issue 11, items 6, 7, 9, 10, 16, 18, 20):
# one sentence, exit 2, through the API, the in-process CLI and a subprocess
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def one_frame(tmp_path_factory):
    path = tmp_path_factory.mktemp("options") / "one.gsd"
    box, points = freud.data.UnitCell.fcc().generate_system(4, sigma_noise=0.03, seed=1)
    with gsd.hoomd.open(str(path), "w") as out:
        frame = gsd.hoomd.Frame()
        frame.configuration.box = [box.Lx, box.Ly, box.Lz, 0, 0, 0]
        frame.particles.N = len(points)
        frame.particles.position = box.wrap(points).astype(np.float32)
        out.append(frame)
    return path


def one_sentence(stderr: str, *fragments: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("simssl: error:") and "Traceback" not in stderr, stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


CLI_CASES = {
    "k-below-steinhardt": (["process", "{input}", "-o", "{out}", "--k", "8"], ("--k 8", "Steinhardt 12")),
    "batch-size-zero": (
        ["process", "{input}", "-o", "{out}", "--model", "random", "--batch-size", "0"],
        ("batch-size", "0"),
    ),
    "steinhardt-k-zero": (["process", "{input}", "-o", "{out}", "--steinhardt-k", "0"], ("steinhardt-k",)),
    "device-gpu": (
        ["process", "{input}", "-o", "{out}", "--model", "random", "--device", "gpu"],
        ("unknown device 'gpu'", "devices here: cpu"),
    ),
    "device-cuda-9": (
        ["process", "{input}", "-o", "{out}", "--model", "random", "--device", "cuda:9"],
        ("cuda:9", "devices here"),
    ),
    "compare-device-gpu": (
        ["compare", "{input}", "--groups", "0", "--model", "random", "-o", "{dir}", "--device", "gpu"],
        ("unknown device",),
    ),
    "info-frames-past-end": (["info", "{input}", "--frames", "10"], ("'10'", "contains no frames", "has 1 frame")),
    # issue 24, item 6: not torch's advice on weights_only, but what the file is not
    "model-not-a-checkpoint": (
        ["process", "{input}", "-o", "{out}", "--model", "{readme}"],
        ("README.md: not a simssl model checkpoint",),
    ),
    # issue 24, item 12: options that would be accepted and ignored
    "batch-size-without-model": (
        ["process", "{input}", "-o", "{out}", "--batch-size", "1000"],
        ("--batch-size", "--model or --identify"),
    ),
    "compile-without-model": (
        ["process", "{input}", "-o", "{out}", "--compile"],
        ("--compile", "--model or --identify"),
    ),
    "no-compile-without-model": (
        ["process", "{input}", "-o", "{out}", "--no-compile"],
        ("--compile", "--model or --identify"),
    ),
    "suffix-with-one-input": (["process", "{input}", "-o", "{out}", "--suffix", ".x.gsd"], ("--suffix", "several")),
    "workers-with-one-input": (["process", "{input}", "-o", "{out}", "--workers", "2"], ("--workers", "several")),
    "steinhardt-k-1": (["process", "{input}", "-o", "{out}", "--steinhardt-k", "1"], ("--steinhardt-k 1", "q_l is 1")),
    "steinhardt-k-with-voronoi": (
        ["process", "{input}", "-o", "{out}", "--voronoi", "--steinhardt-k", "8"],
        ("--steinhardt-k", "--voronoi"),
    ),
    "steinhardt-k-without-steinhardt": (
        ["process", "{input}", "-o", "{out}", "--model", "random", "--steinhardt", "none", "--steinhardt-k", "8"],
        ("--steinhardt-k", "--steinhardt none"),
    ),
    "wl-without-steinhardt": (
        ["process", "{input}", "-o", "{out}", "--model", "random", "--steinhardt", "none", "--wl"],
        ("--wl", "--steinhardt none"),
    ),
}


def fill(arguments, one_frame, tmp_path):
    readme = Path(__file__).resolve().parents[1] / "README.md"
    return [a.format(input=one_frame, out=tmp_path / "out.gsd", dir=tmp_path / "cmp", readme=readme) for a in arguments]


def test_unreachable_scheduler_is_named(one_frame, tmp_path, capsys):
    """Issue 24, item 7: dask's connection error had no file name, so the message began with an empty field."""
    dask = pytest.importorskip("dask")
    pytest.importorskip("dask.distributed")
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        code = main(["process", str(one_frame), "-o", str(tmp_path / "out"), "--scheduler", "tcp://127.0.0.1:1"])
    assert code == 2
    one_sentence(capsys.readouterr().err, "simssl: error: cannot reach the dask scheduler at tcp://127.0.0.1:1")
    assert not (tmp_path / "out").exists()  # nothing made for a run that never started


def test_unwritable_output_names_the_users_path(one_frame, tmp_path, capsys):
    """Issue 24, item 7: a read-only place named the hidden partial file instead of the output the user gave."""
    import os

    directory = "/sys"  # sysfs: not writable by anyone, root included (a chmod'ed directory is, for root)
    if not os.path.isdir(directory) or os.access(directory, os.W_OK) and _writable(directory):
        pytest.skip(f"{directory} is writable here")
    for name in ("out.gsd", "out.npz"):
        assert main(["process", str(one_frame), "-o", f"{directory}/{name}", "--quiet"]) == 2
        err = capsys.readouterr().err
        one_sentence(err, f"simssl: error: {directory}/{name}: ")
        assert ".part" not in err and "Permission denied" in err


def _writable(directory) -> bool:
    import tempfile

    try:
        with tempfile.TemporaryFile(dir=directory):
            return True
    except OSError:
        return False


@pytest.mark.parametrize("case", sorted(CLI_CASES))
def test_cli_refuses(case, one_frame, tmp_path, capsys):
    arguments, fragments = CLI_CASES[case]
    assert main(fill(arguments, one_frame, tmp_path)) == 2
    one_sentence(capsys.readouterr().err, *fragments)
    assert not (tmp_path / "out.gsd").exists() and not list(tmp_path.glob(".*part*"))


@pytest.mark.slow
@pytest.mark.parametrize("case", ["k-below-steinhardt", "device-gpu", "info-frames-past-end"])
def test_subprocess_refuses(case, one_frame, tmp_path):
    arguments, fragments = CLI_CASES[case]
    done = subprocess.run(
        [sys.executable, "-m", "simssl", *fill(arguments, one_frame, tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2
    one_sentence(done.stderr, *fragments)


def test_api_refuses(one_frame):
    nearest = simssl.load_model("random", cutoff=None)  # a k-nearest model (checkpoints before cutoffs)
    with pytest.raises(simssl.SimsslError, match=r"--k 4 \(k=4\).*Embedding 16"):
        simssl.process(one_frame, analyzers=[simssl.Embedding(nearest)], k=4, progress=False)
    model = simssl.load_model("random")
    with pytest.raises(simssl.SimsslError, match="batch size must be a positive"):
        simssl.Embedding(model, batch_size=0)
    with pytest.raises(simssl.SimsslError, match="unknown device 'gpu'; devices here: cpu"):
        simssl.AnalysisOptions(model="random", device="gpu")
    frame = simssl.read(one_frame)
    with pytest.raises(simssl.SimsslError, match="devices here"):
        model.embed(frame, device="cuda:7")
    with pytest.raises(simssl.SimsslError, match="devices here"):
        simssl.load_model("random", device="gpu")


def test_cuda_on_a_cpu_only_torch_says_so(one_frame, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert main(["process", str(one_frame), "-o", "x.gsd", "--model", "random", "--device", "cuda"]) == 2
    one_sentence(capsys.readouterr().err, "'cuda' is not available", "CPU-only torch build", "devices here: cpu")


def test_info_points_at_an_interrupted_run(one_frame, tmp_path, capsys):
    output = tmp_path / "run.simssl.gsd"
    assert main(["process", str(one_frame), "-o", str(tmp_path / "done.gsd"), "--quiet"]) == 0
    (tmp_path / "done.gsd").rename(partial_path(output))
    assert main(["info", str(output)]) == 2
    one_sentence(capsys.readouterr().err, "no such file", ".run.simssl.gsd.part.gsd", "--resume")
    assert main(["process", str(one_frame), "-o", str(output), "--quiet"]) == 2  # not deleted silently either
    one_sentence(capsys.readouterr().err, "--resume", "--force")


def test_info_lists_quantities_record_and_both_tilt_forms(tmp_path, capsys):
    box = freud.box.Box(6.0, 6.0, 6.0, 0.5, 0.0, 0.25)
    points = box.make_absolute(np.random.default_rng(0).random((300, 3)))
    path = tmp_path / "tilted.gsd"
    with gsd.hoomd.open(str(path), "w") as out:
        frame = gsd.hoomd.Frame()
        frame.configuration.box = [box.Lx, box.Ly, box.Lz, box.xy, box.xz, box.yz]
        frame.particles.N = len(points)
        frame.particles.position = points.astype(np.float32)
        out.append(frame)
    output = tmp_path / "tilted.simssl.gsd"
    assert main(["process", str(path), "-o", str(output), "--model", "random", "--average", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["info", str(output)]) == 0
    printed = capsys.readouterr().out
    assert "tilt factors (HOOMD/GSD, dimensionless): xy=0.5 xz=0 yz=0.25" in printed
    assert "tilts (LAMMPS, absolute lengths):         xy=3 xz=0 yz=1.5" in printed
    assert "embedding_avg    shape (300, 32)  float32" in printed  # float32 like the embedding (item 11)
    assert "q6_avg           shape (300,)  float32" in printed
    assert f"made by simssl {simssl.__version__} from {path}" in printed


def test_info_rounds_tilts_to_the_precision_the_box_has(tmp_path, capsys):
    """Issue 24, item 12: tilts 0.3, 0.6, 0 of a LAMMPS dump showed as xy=0.300001, yz=3.9e-07 (float32 round-off)."""
    length, (xy, xz, yz) = 9.1, (0.3, 0.6, 0.0)
    points = np.random.default_rng(0).random((300, 3)) * length
    lines = ["ITEM: TIMESTEP", "0", "ITEM: NUMBER OF ATOMS", "300", "ITEM: BOX BOUNDS xy xz yz pp pp pp"]
    lines += [f"0 {length + xy + xz!r} {xy!r}", f"0 {length!r} {xz!r}", f"0 {length!r} {yz!r}"]
    lines += ["ITEM: ATOMS id type x y z", *(f"{i + 1} 1 {x} {y} {z}" for i, (x, y, z) in enumerate(points))]
    path = tmp_path / "tilted.lammpstrj"
    path.write_text("\n".join(lines) + "\n")
    assert main(["info", str(path)]) == 0
    printed = capsys.readouterr().out
    assert "tilts (LAMMPS, absolute lengths):         xy=0.3 xz=0.6 yz=0\n" in printed
    assert "tilt factors (HOOMD/GSD, dimensionless): xy=0.03297 xz=0.06593 yz=0\n" in printed
    assert "box Lx=9.1 Ly=9.1 Lz=9.1\n" in printed


def test_import_simssl_cli_is_light():
    """``simssl --help`` must not wait for freud, matplotlib or torch (item 18: it took 1.3 s, mostly those)."""
    code = (
        "import sys, simssl.cli; print(sorted(m for m in ('freud', 'matplotlib', 'torch', 'gsd') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_the_readme_example_output_is_ignored_by_git():
    from pathlib import Path

    ignored = (Path(__file__).resolve().parents[1] / ".gitignore").read_text().split()
    assert "example.simssl.gsd" in ignored


@pytest.fixture(scope="module")
def labels(tmp_path_factory):
    path = tmp_path_factory.mktemp("labels") / "labels.npz"
    np.savez(path, frame_labels=np.array([0]))
    return path


NUMBERS = {
    "finetune-fraction-0": [
        "finetune",
        "--model",
        "random",
        "--data",
        "{input}",
        "--labels",
        "{labels}",
        "-o",
        "{out}",
        "--fraction",
        "0",
    ],
    "finetune-fraction-2": [
        "finetune",
        "--model",
        "random",
        "--data",
        "{input}",
        "--labels",
        "{labels}",
        "-o",
        "{out}",
        "--fraction",
        "2",
    ],
    "finetune-epochs-0": [
        "finetune",
        "--model",
        "random",
        "--data",
        "{input}",
        "--labels",
        "{labels}",
        "-o",
        "{out}",
        "--epochs",
        "0",
    ],
    "pretrain-epochs-0": ["pretrain", "--preset", "small", "-o", "{out}", "--epochs", "0", "--quiet"],
    "pretrain-checkpoint-every-negative": ["pretrain", "--preset", "small", "-o", "{out}", "--checkpoint-every", "-1"],
    "compare-folds-1": ["compare", "{input}", "--groups", "0", "--model", "random", "-o", "{dir}", "--folds", "1"],
    "process-workers-0": ["process", "{input}", "{input2}", "-o", "{dir}", "--workers", "0"],
}


@pytest.mark.parametrize("case", sorted(NUMBERS))
def test_out_of_range_numbers_are_one_sentence(case, one_frame, labels, tmp_path, capsys):
    """Issue 11, item 9: ``finetune --fraction 0`` and similar numbers raised plain tracebacks."""
    second = tmp_path / "second.gsd"
    second.write_bytes(one_frame.read_bytes())
    arguments = [
        a.format(input=one_frame, input2=second, labels=labels, out=tmp_path / "out.pt", dir=tmp_path / "d")
        for a in NUMBERS[case]
    ]
    assert main(arguments) == 2
    one_sentence(capsys.readouterr().err)
    assert not (tmp_path / "out.pt").exists()


def test_embed_says_what_it_accepts(one_frame):
    """Issue 11, item 10: ``model.embed(numpy_array)`` raised AttributeError about 'n_particles'."""
    model = simssl.load_model("random")
    positions = simssl.read(one_frame).positions
    with pytest.raises(simssl.SimsslError, match=r"cannot embed a ndarray of shape \(256, 3\): give a Frame"):
        model.embed(positions)
    frame = simssl.make_frame(simssl.read(one_frame).box, positions)  # the way the message shows
    assert model.embed(frame).shape == (256, 32)
