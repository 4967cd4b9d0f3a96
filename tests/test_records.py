"""One home for what outputs look like: run records (simssl.io.records), reading outputs (simssl.io.read_processed)."""

from __future__ import annotations

import ast
from pathlib import Path

import gsd.hoomd
import numpy as np
import pytest
from crystals import write_noisy_trajectory

import simssl
from simssl.compute import Steinhardt
from simssl.errors import SimsslError
from simssl.fractions import baseline_fractions
from simssl.io import read_processed
from simssl.io.records import (
    RECORD_KEY,
    encode_record,
    file_record,
    live_record,
    record_from_log,
    refuse_other_run,
    structure_names,
)

PACKAGE = Path(simssl.__file__).parent
PLUGINS = PACKAGE.parent / "plugins"


@pytest.fixture(scope="module")
def processed_pair(tmp_path_factory):
    """A 3-frame noisy-FCC trajectory processed to .gsd and .npz (q4, q6, q6_avg)."""
    directory = tmp_path_factory.mktemp("records")
    source = write_noisy_trajectory(directory / "in.gsd", 3, (0.02, 0.05, 0.3), (0, 1, 2))
    outputs = {}
    for suffix in ("gsd", "npz"):
        outputs[suffix] = directory / f"out.{suffix}"
        simssl.process(source, outputs[suffix], analyzers=[Steinhardt((4, 6), average=True)], progress=False)
    return source, outputs


def test_file_and_live_records_have_one_shape(processed_pair):
    source, _ = processed_pair
    analyzers = [Steinhardt((4, 6))]
    from_file = file_record(str(source), analyzers, frames="0:2")
    live = live_record(analyzers, "HOOMD-blue (live)", "hoomd", k=16)
    assert set(from_file) == set(live)
    assert from_file["frames"] == [0, 2, None] and from_file["input"]["size"] == source.stat().st_size
    assert live["input"] == {"path": "HOOMD-blue (live)"} and live["k"] == 16 and live["keep_input"] is False
    assert from_file["analyzers"] == live["analyzers"] == [analyzers[0].parameters()]


def test_a_record_survives_its_gsd_encoding_and_a_changed_run_is_named():
    record = live_record([Steinhardt((4, 6))], "x", "lammps")
    assert record_from_log({RECORD_KEY: encode_record(record)}) == record
    hoomd_string = np.frombuffer(encode_record(record).tobytes() + b"\0", dtype=np.int8)  # HOOMD's string loggable
    assert record_from_log({"simssl/plugins/hoomd/OrderAnalyzer/fingerprint": hoomd_string}) == record
    assert record_from_log({}) is None
    refuse_other_run("part.gsd", record, dict(record))  # the same run: resumed
    changed = live_record([Steinhardt((4, 8))], "x", "lammps")
    with pytest.raises(SimsslError, match=r"analyzers\[0\]\.l: \[4, 6\] then, \[4, 8\] now"):
        refuse_other_run("part.gsd", record, changed)


def test_gsd_and_npz_outputs_read_alike(processed_pair):
    _, outputs = processed_pair
    from_gsd, from_npz = simssl.read_processed(outputs["gsd"]), read_processed(outputs["npz"])  # the same function
    assert set(from_gsd.columns) == set(from_npz.columns) == {"q4", "q6", "q4_avg", "q6_avg"}
    for name in from_gsd.columns:
        np.testing.assert_array_equal(np.stack(from_gsd.columns[name]), np.stack(from_npz.columns[name]))
    np.testing.assert_array_equal(from_gsd.steps, [0, 100, 200])
    np.testing.assert_array_equal(from_gsd.steps, from_npz.steps)
    np.testing.assert_allclose(from_gsd.boxes, from_npz.boxes)
    assert from_gsd.record == from_npz.record and from_gsd.record["analyzers"][0]["kind"] == "Steinhardt"
    assert from_gsd.structure_names is None  # no identification


def test_a_frame_selection_reads_only_those_frames(processed_pair):
    _, outputs = processed_pair
    for path in outputs.values():
        whole, last = read_processed(path), read_processed(path, frames=slice(2, 3))
        np.testing.assert_array_equal(last.steps, [200])
        np.testing.assert_array_equal(last.columns["q6"][0], whole.columns["q6"][2])
        np.testing.assert_array_equal(last.last_positions, whole.last_positions)
        assert last.record == whole.record  # the record lives in the first frame, read whatever is selected


def test_own_quantities_win_over_a_hoomd_loggers_and_old_names_are_current(tmp_path):
    frame = gsd.hoomd.Frame()
    frame.particles.N = 2
    frame.particles.position = np.zeros((2, 3), np.float32)
    frame.configuration.box = [5, 5, 5, 0, 0, 0]
    frame.log = {
        "particles/simssl/q6": np.array([0.5, 0.5], np.float32),
        "particles/simssl/plugins/hoomd/OrderAnalyzer/q6": np.array([0.1, 0.1], np.float32),
        "particles/simssl/plugins/hoomd/OrderAnalyzer/q4": np.array([0.25, 0.25], np.float32),
        "particles/simssl/cluster": np.array([0, -1], np.int32),  # written by 0.2 before the rename
    }
    with gsd.hoomd.open(str(tmp_path / "mixed.gsd"), "w") as trajectory:
        trajectory.append(frame)
    processed = read_processed(tmp_path / "mixed.gsd")
    assert processed.columns["q6"][0].tolist() == [0.5, 0.5] and processed.columns["q4"][0].tolist() == [0.25, 0.25]
    assert "cluster" not in processed.columns and processed.columns["nucleus"][0].tolist() == [0, -1]


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("missing.gsd", None, "no such file"),
        ("notes.txt", b"hello", "the .gsd or .npz files"),
        ("broken.npz", b"not a zip", "not a readable simssl output"),
    ],
)
def test_bad_outputs_get_one_sentence(tmp_path, name, content, message):
    if content is not None:
        (tmp_path / name).write_bytes(content)
    with pytest.raises(SimsslError, match=message):
        read_processed(tmp_path / name)


def test_structure_names_come_from_the_identification_record():
    record = {"analyzers": [{"kind": "Steinhardt"}, {"kind": "Identify", "structures": ["liquid", "cF4-Cu", "other"]}]}
    assert structure_names(record) == ("liquid", "cF4-Cu", "other")
    assert structure_names({"analyzers": [{"kind": "Steinhardt"}]}) is None and structure_names(None) is None


def test_an_unregistered_baseline_is_absent(processed_pair):
    _, outputs = processed_pair
    assert baseline_fractions("no-such-baseline", read_processed(outputs["gsd"])) is None


#: modules that know where outputs keep their quantities and records
LAYOUT_MODULES = {"io/processed.py", "io/records.py", "io/writers.py", "defaults.py"}


def test_the_output_layout_is_known_in_one_place():
    """``LOG_PREFIX`` and the record's name are used only by the io modules that write and read outputs."""
    offenders = []
    for path in [*PACKAGE.rglob("*.py"), *PLUGINS.rglob("*.py")]:
        where = str(path.relative_to(PACKAGE)) if path.is_relative_to(PACKAGE) else f"plugins/{path.name}"
        if where in LAYOUT_MODULES:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Name) and node.id == "LOG_PREFIX") or (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and (node.value in ("fingerprint", "simssl/fingerprint") or node.value.startswith("particles/simssl/"))
            ):
                offenders.append(f"{where}:{node.lineno}")
    assert not offenders, f"output layout spelled outside simssl/io: {offenders}"
