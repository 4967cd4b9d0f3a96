"""Outputs on the bundled example stay what they were: refactors must not change a byte.

``tests/data/example_outputs.npz`` holds, for one run of ``simssl process --example`` with every
per-particle analysis on (Steinhardt with w_l and averages, the default model's embeddings,
identification with ordering and nuclei): the SHA-256 of every output array (``.npz``) and of every
chunk of every frame (``.gsd``), and every 97th particle's values. Where torch, freud and numpy are the
versions that wrote the file (as on CI), every hash must match; elsewhere the sampled values must
agree to float32 round-off, since another build of torch may round differently.

Rewrite the file only when an output is meant to change, and say why in the commit:
``python tests/test_example_outputs.py --write``.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import gsd.fl
import numpy as np

GOLDEN = Path(__file__).parent / "data" / "example_outputs.npz"
#: every per-particle analysis, on four frames from the liquid to the crystal
OPTIONS = ["--example", "--model", "default", "--average", "--wl", "--identify", "--ordering", "--frames", "0:20:6"]
#: records of the run (options, version), not outputs: they may change with the code's layout
RUN_RECORDS = ("fingerprint", "log/simssl/fingerprint")
SAMPLE_STEP = 97


def environment() -> str:
    """The packages whose builds decide the output's last bits."""
    import freud
    import torch

    return f"torch {torch.__version__}, freud {freud.__version__}, numpy {np.__version__}"


def digest(array: np.ndarray) -> str:
    """SHA-256 of an array's dtype, shape and bytes."""
    array = np.ascontiguousarray(array)
    return hashlib.sha256(f"{array.dtype.str}{array.shape}".encode() + array.tobytes()).hexdigest()


def run_example(directory: Path) -> tuple[dict, dict]:
    """Process the example to ``.npz`` and ``.gsd`` in-process; return their arrays and their chunks by name."""
    from simssl.cli import main

    outputs = {}
    for suffix in ("npz", "gsd"):
        path = directory / f"example.{suffix}"
        assert main(["process", *OPTIONS, "-o", str(path), "--quiet"]) == 0
        outputs[suffix] = path
    with np.load(outputs["npz"]) as npz:
        arrays = {key: npz[key] for key in npz.files if key not in RUN_RECORDS}
    chunks = {}
    with gsd.fl.open(str(outputs["gsd"]), "r") as gsd_file:
        for frame in range(gsd_file.nframes):
            for name in gsd_file.find_matching_chunk_names(""):
                if name not in RUN_RECORDS and gsd_file.chunk_exists(frame, name):
                    chunks[f"{frame}:{name}"] = gsd_file.read_chunk(frame, name)
    return arrays, chunks


def samples(arrays: dict) -> dict:
    """Every :data:`SAMPLE_STEP`-th particle of each per-particle output (frame, particle, ...)."""
    return {key: array[:, ::SAMPLE_STEP] for key, array in arrays.items() if array.ndim >= 2 and key != "box"}


def write_golden(directory: Path) -> None:
    """Record this code's outputs as the reference."""
    arrays, chunks = run_example(directory)
    record = {"environment": np.array(environment())}
    record.update({f"npz_sha256/{key}": np.array(digest(value)) for key, value in arrays.items()})
    record.update({f"gsd_sha256/{key}": np.array(digest(value)) for key, value in chunks.items()})
    record.update({f"sample/{key}": value for key, value in samples(arrays).items()})
    GOLDEN.parent.mkdir(exist_ok=True)
    np.savez_compressed(GOLDEN, **record)


def test_example_outputs_unchanged(tmp_path):
    golden = dict(np.load(GOLDEN))
    arrays, chunks = run_example(tmp_path)
    recorded = {key.split("/", 1)[1] for key in golden if key.startswith("npz_sha256/")}
    assert set(arrays) == recorded, "the example's outputs gained or lost a quantity"
    for key, expected in samples(arrays).items():
        reference = golden[f"sample/{key}"]
        if np.issubdtype(reference.dtype, np.floating):
            np.testing.assert_allclose(expected, reference, rtol=1e-4, atol=1e-5, err_msg=key)
        else:  # labels: a near tie may flip under another build's rounding, never more than a few
            assert np.mean(expected == reference) >= 0.99, key
    if str(golden["environment"]) != environment():
        return  # another build of the packages: the values above are the check
    changed = [key for key, value in arrays.items() if digest(value) != str(golden[f"npz_sha256/{key}"])]
    assert not changed, f".npz outputs changed: {changed}"
    recorded_chunks = {key.split("/", 1)[1] for key in golden if key.startswith("gsd_sha256/")}
    assert set(chunks) == recorded_chunks, "the .gsd output gained or lost a chunk"
    changed = [key for key, value in chunks.items() if digest(value) != str(golden[f"gsd_sha256/{key}"])]
    assert not changed, f".gsd chunks changed: {changed}"


if __name__ == "__main__":
    import tempfile

    if sys.argv[1:] != ["--write"]:
        sys.exit(f"usage: python {sys.argv[0]} --write   (records this code's outputs as the reference)")
    with tempfile.TemporaryDirectory() as scratch:
        write_golden(Path(scratch))
    print(f"wrote {GOLDEN} ({GOLDEN.stat().st_size} bytes)")
