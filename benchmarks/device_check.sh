#!/usr/bin/env bash
# GPU check of the simssl encoder, in one run of under 8 minutes on an NVIDIA GPU with a CUDA build of torch.
#
# For noisy FCC frames of 108,000 and 1,000,188 particles (the shipped model) it records:
#   - encoder throughput device-resident: model inputs already on the GPU, Encoder.embed(..., to_numpy=False)
#     under torch.compile (goal >= 3M particles/s on an H100/H200-class GPU);
#   - end to end from a GSD file: simssl.process of a one-frame GSD with the default model on CUDA
#     (read, host neighbor search and shell spectra, transfer, model, results back to numpy; goal >= 1M
#     particles/s);
#   - where the time goes: host neighborhoods (simssl.neighbors.model_neighborhoods) vs the device model;
#   - bf16 and tf32 autocast error against float32 (per-particle relative embedding error);
#   - peak GPU memory of each measurement (torch.cuda.max_memory_allocated).
# Throughputs are the best of --rounds (default 3). The table is printed, appended under
# "## device_check" in benchmarks/RESULTS.md and, when $OUT is set, also written to $OUT/device_check.md.
# Without CUDA it runs the same measurements on the CPU (the fused kernels, no torch.compile, no autocast
# rows, no GPU memory): a check that the script works, e.g. before a GPU is lent.
#
#   bash benchmarks/device_check.sh            # from the repository root, after the README's install
#   bash benchmarks/device_check.sh --rounds 1 --sizes 10 --no-append   # a quick run (4,000 particles)
set -euo pipefail
cd "$(dirname "$0")"

timeout 470 python - "$@" <<'PYTHON'
"""The measurements; see the header of device_check.sh."""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import freud
import gsd.hoomd
import numpy as np
import torch
from results import append_section, entry_header

import simssl
from simssl.live import LiveAnalyzer

parser = argparse.ArgumentParser(description="GPU check of the simssl encoder")
parser.add_argument("--sizes", default="30,63", help="FCC cells per edge, comma separated (default: 30,63 -> 108,000 and 1,000,188 particles)")
parser.add_argument("--rounds", type=int, default=3, help="repetitions; the best counts (default: 3)")
parser.add_argument("--no-append", action="store_true", help="do not append to benchmarks/RESULTS.md")
args = parser.parse_args()

freud.parallel.set_num_threads(os.cpu_count())
gpu = torch.cuda.is_available()
device = torch.device("cuda" if gpu else "cpu")
if not gpu:
    print("no CUDA device here: the measurements run on the CPU (a check of the script, not of a GPU)", flush=True)
model = simssl.load_model("default", device=device)
k = model.config.k


def synchronize():
    if gpu:
        torch.cuda.synchronize()


def best(function, rounds=args.rounds):
    """(best seconds, last result) of ``function()``, synchronizing the GPU around each call."""
    seconds, result = float("inf"), None
    for _ in range(rounds):
        synchronize()
        start = time.perf_counter()
        result = function()
        synchronize()
        seconds = min(seconds, time.perf_counter() - start)
    return seconds, result


def peak(function):
    """(result, peak GPU memory in GiB, or NaN on the CPU) of one call."""
    if not gpu:
        return function(), float("nan")
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    result = function()
    torch.cuda.synchronize()
    return result, torch.cuda.max_memory_allocated() / 2**30


def relative_error(reduced, exact):
    """Median and max per-particle relative error of embeddings."""
    error = (torch.linalg.vector_norm(reduced.float() - exact, dim=1) / torch.linalg.vector_norm(exact, dim=1)).cpu().numpy()
    return float(np.median(error)), float(error.max())


rows, notes = [], []
with tempfile.TemporaryDirectory() as directory:
    for cells in (int(c) for c in args.sizes.split(",")):
        box, positions = freud.data.UnitCell.fcc().generate_system(cells, sigma_noise=0.05, seed=0)
        n = len(positions)
        path = Path(directory) / f"fcc{cells}.gsd"
        frame = gsd.hoomd.Frame()
        frame.configuration.box = [box.Lx, box.Ly, box.Lz, 0, 0, 0]
        frame.particles.N = n
        frame.particles.types = ["A"]
        frame.particles.position = positions.astype(np.float32)
        with gsd.hoomd.open(str(path), "w") as trajectory:
            trajectory.append(frame)
        snapshot = simssl.read(path)

        search, neighborhoods = best(lambda: simssl.neighbors.model_neighborhoods(snapshot, model.config))
        arrays = simssl.neighbors.model_inputs(neighborhoods)
        transfer, tensors = best(lambda: tuple(torch.as_tensor(np.asarray(a)).to(device) for a in arrays))

        start = time.perf_counter()
        model.embed(tensors, to_numpy=False, compile=gpu)  # compiles once per shape family (on the GPU)
        synchronize()
        compile_seconds = time.perf_counter() - start
        (resident, exact), resident_memory = peak(lambda: best(lambda: model.embed(tensors, to_numpy=False, compile=gpu)))
        errors = {}
        for mode in ("bf16", "tf32") if gpu else ():
            reduced = model.embed(tensors, to_numpy=False, compile=True, autocast=mode)
            errors[mode] = relative_error(reduced, exact)
            errors[mode + " rate"] = n / best(lambda: model.embed(tensors, to_numpy=False, compile=True, autocast=mode))[0]
        del tensors, exact

        analyzers = LiveAnalyzer(model=model, steinhardt=(), k=k, device=device).analyzers
        simssl.process(path, analyzers=analyzers, k=k, progress=False)  # warm-up (compilation for this path)
        (end_to_end, _), end_to_end_memory = peak(lambda: best(lambda: simssl.process(path, analyzers=analyzers, k=k, progress=False)))

        encoder = "torch.compile" if gpu else "fused CPU kernels"
        new_rows = [f"| {n:,} | encoder, {device.type}-resident (float32, {encoder}) | {n / resident:,.0f} | {resident:.3f} | {resident_memory:.2f} |"]
        if gpu:
            new_rows += [
                f"| {n:,} | encoder, device-resident, bf16 autocast | {errors['bf16 rate']:,.0f} | {n / errors['bf16 rate']:.3f} | - |",
                f"| {n:,} | encoder, device-resident, tf32 | {errors['tf32 rate']:,.0f} | {n / errors['tf32 rate']:.3f} | - |",
            ]
        new_rows += [
            f"| {n:,} | end to end from a GSD file (simssl.process, default model) | {n / end_to_end:,.0f} | {end_to_end:.3f} | {end_to_end_memory:.2f} |",
            f"| {n:,} | &nbsp;&nbsp;host neighborhoods and shell spectra (model_neighborhoods, {os.cpu_count()} cores) | {n / search:,.0f} | {search:.3f} | - |",
            f"| {n:,} | &nbsp;&nbsp;host -> {device.type} copy of the model inputs | {n / transfer:,.0f} | {transfer:.3f} | - |",
        ]
        rows += new_rows
        notes.append(f"- {n:,} particles: {encoder} + first pass {compile_seconds:.1f} s")
        if gpu:
            notes[-1] += (
                f"; bf16 vs float32 relative error median {errors['bf16'][0]:.2e}, "
                f"max {errors['bf16'][1]:.2e}; tf32 vs float32 median {errors['tf32'][0]:.2e}, max {errors['tf32'][1]:.2e}"
            )
        notes.append(
            f"- {n:,} particles, where end-to-end time goes: host neighborhoods {search:.3f} s ({search / end_to_end:.0%}), "
            f"{device.type} model {resident:.3f} s ({resident / end_to_end:.0%}), the rest (read, copies, output) {end_to_end - search - resident:.3f} s"
            + (" -> the host neighbor search dominates" if search > resident and search > end_to_end / 3 else "")
        )
        print("\n".join(new_rows + notes[-2:]), flush=True)

entry = "\n".join(
    [
        *(line.replace("`python benchmarks/", "`bash benchmarks/") for line in entry_header("device_check.sh", sys.argv[1:])),
        (
            f"- GPU: {torch.cuda.get_device_name()} ({torch.cuda.get_device_properties(0).total_memory / 2**30:.0f} GiB), torch {torch.__version__}, CUDA {torch.version.cuda}"
            if gpu
            else f"- no GPU: the CPU path ({os.cpu_count()} cores), torch {torch.__version__}"
        ),
        f"- frames: noisy FCC (sigma 0.05 a), default model ({model.config.summary()}); throughputs best of "
        f"{args.rounds}; goals on H100/H200-class GPUs: >= 3M particles/s device-resident, >= 1M particles/s end to end",
        "",
        "| particles | measurement | particles/s | seconds | peak GPU memory (GiB; nan: CPU) |",
        "|---:|---|---:|---:|---:|",
        *rows,
        "",
        *notes,
    ]
)
print(entry)
if os.environ.get("OUT"):
    Path(os.environ["OUT"], "device_check.md").write_text(entry + "\n")
if not args.no_append:
    append_section(Path("RESULTS.md"), "## device_check", entry)
    print("appended to benchmarks/RESULTS.md")
PYTHON
