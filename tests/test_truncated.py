"""Files cut short (a copy interrupted, a disk full, a run killed mid-write) are refused with what is missing.

LAMMPS dumps and XYZ files, plain and gzip-compressed, cut in a frame's atom lines, in its header,
in the middle of a line, and in the first frame. Frames before the cut are read normally; the
error names the file, the frame and the missing lines. Compressed inputs are recognised from
their extensions and read like the plain files.
"""

from __future__ import annotations

import gzip
import io
import warnings
from pathlib import Path

import ase
import ase.io
import freud
import numpy as np
import pytest

import simssl
from simssl.cli import main

N = 108  # 3 x 3 x 3 FCC cells
LINES_PER_FRAME = 9 + N


def crystal(seed):
    box, points = freud.data.UnitCell.fcc().generate_system(3, sigma_noise=0.02, seed=seed)
    return box, np.asarray(points, dtype=np.float64)


def dump_lines(n_frames=4) -> list[str]:
    lines = []
    for step in range(n_frames):
        box, points = crystal(step)
        points = points + box.Lx / 2
        lines += ["ITEM: TIMESTEP", str(100 * step), "ITEM: NUMBER OF ATOMS", str(N), "ITEM: BOX BOUNDS pp pp pp"]
        lines += [f"0.0 {box.Lx:.16e}"] * 3 + ["ITEM: ATOMS id type x y z"]
        lines += [f"{i + 1} 1 {x:.8f} {y:.8f} {z:.8f}" for i, (x, y, z) in enumerate(points)]
    return [line + "\n" for line in lines]


def xyz_lines(n_frames=4) -> list[str]:
    frames = []
    for seed in range(n_frames):
        box, points = crystal(seed)
        frames.append(ase.Atoms("Cu" * N, positions=points + box.Lx / 2, cell=[box.Lx] * 3, pbc=True))
    buffer = io.StringIO()
    ase.io.write(buffer, frames, format="extxyz")
    return buffer.getvalue().splitlines(keepends=True)


def write(path: Path, text: str, compressed: bool) -> Path:
    if compressed:
        path = path.with_name(path.name + ".gz")
        with gzip.open(path, "wt") as handle:
            handle.write(text)
    else:
        path.write_text(text)
    return path


def read_all(path):
    return [frame.index for frame in simssl.read_frames(str(path))]


def assert_refused(path, frame: int, missing: str, capsys, before: int | None = None):
    """read_frames yields the frames before the cut, then one sentence; the CLI exits 2 with it."""
    seen = []
    with pytest.raises(simssl.SimsslError) as error:
        for item in simssl.read_frames(str(path)):
            seen.append(item.index)
    assert seen == list(range(frame if before is None else before))
    message = str(error.value)
    assert str(path) in message and f"frame {frame} is truncated" in message and missing in message, message
    assert "\n" not in message
    code = main(["process", str(path), "-o", str(path.parent / "out.gsd"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and err.strip().splitlines() == [f"simssl: error: {message}"], err
    assert not (path.parent / "out.gsd").exists()


# --------------------------------------------------------------------------------------------
# LAMMPS dumps
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gz"])
class TestDump:
    def test_cut_in_atom_lines(self, tmp_path, compressed, capsys):
        lines = dump_lines()
        path = write(tmp_path / "run.lammpstrj", "".join(lines[: 3 * LINES_PER_FRAME + 9 + 57]), compressed)
        assert_refused(path, 3, f"57 of {N} atom lines", capsys)
        assert len(simssl.read_frames(str(path))) == 4  # the cut frame counts: it is the one that fails
        assert [f.index for f in simssl.read_frames(str(path), frames="0:3")] == [0, 1, 2]

    def test_cut_in_header(self, tmp_path, compressed, capsys):
        lines = dump_lines()
        path = write(tmp_path / "run.lammpstrj", "".join(lines[: 2 * LINES_PER_FRAME + 5]), compressed)
        assert_refused(path, 2, "header stops after 5 of 9 lines", capsys)

    def test_cut_in_a_line(self, tmp_path, compressed, capsys):
        """The file ends inside the last atom line: the line count is complete, a column is not."""
        text = "".join(dump_lines(3))
        path = write(tmp_path / "run.lammpstrj", text[: text.rstrip().rfind(" ")], compressed)
        assert_refused(path, 2, "4 of 5 columns", capsys)

    def test_first_frame_cut(self, tmp_path, compressed, capsys):
        lines = dump_lines(1)
        path = write(tmp_path / "run.lammpstrj", "".join(lines[: 9 + 40]), compressed)
        assert_refused(path, 0, f"40 of {N} atom lines", capsys)
        path = write(tmp_path / "head.lammpstrj", "".join(lines[:3]), compressed)
        assert_refused(path, 0, "header stops after 3 of 9 lines", capsys)

    def test_last_frame_selected_by_negative_index(self, tmp_path, compressed, capsys):
        lines = dump_lines()
        path = write(tmp_path / "run.lammpstrj", "".join(lines[: 3 * LINES_PER_FRAME + 20]), compressed)
        with pytest.raises(simssl.SimsslError, match="frame 3 is truncated"):
            list(simssl.read_frames(str(path), frames=-1))

    def test_complete_file_reads(self, tmp_path, compressed):
        path = write(tmp_path / "run.lammpstrj", "".join(dump_lines()), compressed)
        frames = list(simssl.read_frames(str(path)))
        assert [f.index for f in frames] == [0, 1, 2, 3] and [f.step for f in frames] == [0, 100, 200, 300]
        assert all(f.n_particles == N for f in frames)


# --------------------------------------------------------------------------------------------
# XYZ
# --------------------------------------------------------------------------------------------

XYZ_FRAME = N + 2


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gz"])
class TestXYZ:
    def test_cut_in_atom_lines(self, tmp_path, compressed, capsys):
        lines = xyz_lines()
        path = write(tmp_path / "run.xyz", "".join(lines[: 3 * XYZ_FRAME + 2 + 57]), compressed)
        assert_refused(path, 3, f"57 of {N} atom lines", capsys)

    def test_header_promises_more_atoms(self, tmp_path, compressed, capsys):
        lines = xyz_lines(2)
        lines[XYZ_FRAME] = f"{N + 12}\n"  # the last frame's count line promises 12 atoms that never come
        path = write(tmp_path / "run.xyz", "".join(lines), compressed)
        assert_refused(path, 1, f"{N} of {N + 12} atom lines", capsys)

    def test_first_frame_cut(self, tmp_path, compressed, capsys):
        lines = xyz_lines(1)
        path = write(tmp_path / "run.xyz", "".join(lines[:30]), compressed)
        assert_refused(path, 0, f"28 of {N} atom lines", capsys)
        path = write(tmp_path / "count_only.xyz", lines[0], compressed)
        assert_refused(path, 0, "comment line is missing", capsys)

    def test_negative_selection_names_the_frame(self, tmp_path, compressed):
        lines = xyz_lines()
        path = write(tmp_path / "run.xyz", "".join(lines[: 3 * XYZ_FRAME + 10]), compressed)
        with pytest.raises(simssl.SimsslError, match="frame 3 is truncated: 8 of"):
            list(simssl.read_frames(str(path), frames=-1))

    def test_complete_file_reads(self, tmp_path, compressed):
        path = write(tmp_path / "run.xyz", "".join(xyz_lines()), compressed)
        frames = list(simssl.read_frames(str(path)))
        assert [f.index for f in frames] == [0, 1, 2, 3] and all(f.n_particles == N for f in frames)


# --------------------------------------------------------------------------------------------
# Compressed input is the same input
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["run.lammpstrj", "run.dump", "run.xyz", "run.LAMMPSTRJ", "run.extxyz"])
def test_gzip_extensions_give_the_same_frames(tmp_path, name):
    text = "".join(dump_lines(2) if "xyz" not in name else xyz_lines(2))
    plain = write(tmp_path / name, text, compressed=False)
    packed = write(tmp_path / name, text, compressed=True)
    assert packed.name.endswith(".gz") and gzip.open(packed).read(2)  # a real gzip file
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing to say about a good file
        expected, got = list(simssl.read_frames(str(plain))), list(simssl.read_frames(str(packed)))
    assert len(got) == len(expected) == 2
    for a, b in zip(expected, got):
        np.testing.assert_array_equal(a.positions, b.positions)
        assert a.step == b.step and a.type_names == b.type_names
    result = simssl.process(str(packed), progress=False)
    assert result.n_frames == 2


def test_gzip_gsd_is_refused(tmp_path, capsys):
    path = tmp_path / "run.gsd.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(b"GSD not really")
    with pytest.raises(simssl.SimsslError, match="compressed GSD") as error:
        simssl.read_frames(str(path))
    assert str(path) in str(error.value)
    assert main(["info", str(path)]) == 2
    assert "compressed GSD" in capsys.readouterr().err


def test_dump_without_type_column_is_read(tmp_path):
    """'type' is optional in a dump (one type), as the error message for dumps now says."""
    lines = [line for line in dump_lines(2)]
    text = "".join(lines).replace("ITEM: ATOMS id type x y z", "ITEM: ATOMS id x y z")
    text = "\n".join(
        " ".join(line.split()[:1] + line.split()[2:]) if line[:1].isdigit() and len(line.split()) == 5 else line
        for line in text.splitlines()
    )
    path = write(tmp_path / "notype.lammpstrj", text + "\n", compressed=False)
    frames = list(simssl.read_frames(str(path)))
    assert len(frames) == 2 and frames[0].n_particles == N and len(frames[0].type_names) == 1
