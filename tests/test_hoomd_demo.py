"""The self-assembly demo (``plugins/examples/hoomd_self_assembly.py``) at its ``--small`` size: runs, logs, plots.

HOOMD-blue is not on PyPI: CI installs the CPU wheel from ``../shared/wheels`` (see ``.ci/run``);
elsewhere this test skips.
"""

import importlib.util
from pathlib import Path

import gsd.hoomd
import numpy as np
import pytest

pytest.importorskip(
    "hoomd", reason="HOOMD-blue is not installed (conda-forge only; CI installs ../shared/wheels/hoomd-*.whl)"
)

DEMO = Path(__file__).resolve().parents[1] / "plugins" / "examples" / "hoomd_self_assembly.py"


def test_small_demo_logs_order_and_plots_it(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("hoomd_self_assembly", DEMO)
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    from simssl.io import read_processed
    from simssl.plugins.hoomd import NAMESPACE

    output = tmp_path / "small.gsd"
    demo.main(["--small", "--model", "random", "--output", str(output)])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{output}: 4 frames of 256 particles")
    assert [line.split()[1] for line in lines[1:5]] == [
        "200",
        "400",
        "600",
        "800",
    ]  # quench from step 200, a frame every 200

    log = gsd.hoomd.read_log(str(output))
    processed = read_processed(output)  # what simssl plot reads: HOOMD's logged quantities, by their names
    assert len(processed.steps) == 4
    for name in ("q4", "q6", "embedding"):
        for index in range(4):
            np.testing.assert_array_equal(
                processed.columns[name][index], log[f"log/particles/{NAMESPACE}/{name}"][index]
            )
    for suffix in ("embedding_vs_q6", "order_fraction", "snapshot"):
        picture = tmp_path / f"small_{suffix}.png"
        assert picture.stat().st_size > 10_000, picture
