"""How fast is the simssl encoder next to freud Steinhardt and the reference GA-attention package?

One run builds one noisy FCC frame (``4 * cells**3`` particles, default 108,000) and measures, in
particles per second (best of ``--rounds``):

* ``freud Steinhardt l=4..12``: AABBQuery of the 12 nearest neighbors + ``freud.order.Steinhardt([4, 6, 8, 10, 12])``;
* ``simssl neighbors k=16``: :func:`simssl.neighbors.compute_neighborhoods`;
* ``simssl encoder``: ``Encoder.embed`` (k=16, D=32, 3 blocks + reducing attention, rank 2, random
  weights) of the precomputed neighborhoods, ``torch.compile``\\ d (``--no-compile``: eager); plus
  the eager encoder on a subset, and neighbors + encoder end to end;
* ``reference package``: the equivalent model built from ``geometric-algebra-attention`` (3
  non-reducing ``VectorAttention`` blocks with LayerNorm residuals + a reducing one, D=32, rank 2,
  MLP value/score nets, invariant_mode='full') on a ``--reference-particles`` subset (it is slow).

It also reports the encoder's FLOPs per particle (matmul FLOPs counted by
``torch.utils.flop_counter``; all FLOPs counted analytically, including the per-pair elementwise
work the counter does not see) and the achieved fraction of this machine's measured fp32 matmul
rate, then appends a markdown table under ``## encoder_throughput`` in ``benchmarks/RESULTS.md``.

    python benchmarks/encoder_throughput.py                 # 108,000 particles, 2 threads, 3 rounds
    python benchmarks/encoder_throughput.py --cells 10 --rounds 1 --no-append   # a quick check

Goal on 2 CPU cores: >= 15,000 particles/s, >= 0.7x freud Steinhardt l=4..12, >= 30x the reference.
Run it on a quiet machine: every measurement uses ``--threads`` threads.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shlex
import sys
import time
from pathlib import Path

import freud
import numpy as np
import torch
from common import best_rate, machine_description, publish_entry
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from simssl.frame import make_frame
from simssl.model import Encoder, EncoderConfig
from simssl.model.encoder import type_features
from simssl.neighbors import compute_neighborhoods

HEADING = "## encoder_throughput"
DEFAULT_RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
STEINHARDT_L = [4, 6, 8, 10, 12]
STEINHARDT_NEIGHBORS = 12


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--cells", type=int, default=30, help="FCC unit cells per side; 4*n^3 particles (default: 30 -> 108,000)"
    )
    parser.add_argument(
        "--noise", type=float, default=0.05, help="Gaussian noise in units of the lattice constant (default: 0.05)"
    )
    parser.add_argument("--threads", type=int, default=2, help="torch and freud threads (default: 2)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="repetitions of every measurement; the best counts (default: 3)"
    )
    parser.add_argument(
        "--batch-size", type=int, default=None, help="encoder particles per chunk (default: simssl's choice)"
    )
    parser.add_argument("--no-compile", action="store_true", help="time the eager encoder only (no torch.compile)")
    parser.add_argument(
        "--eager-particles", type=int, default=20000, help="subset for the eager encoder (default: 20,000)"
    )
    parser.add_argument(
        "--reference-particles", type=int, default=1000, help="subset for the reference package (default: 1,000)"
    )
    parser.add_argument(
        "--results", type=Path, default=DEFAULT_RESULTS, help=f"markdown file to append to (default: {DEFAULT_RESULTS})"
    )
    parser.add_argument("--no-append", action="store_true", help="print only; do not append to the results file")
    return parser.parse_args(argv)


def matmul_rate(rounds: int, size: int = 2048) -> float:
    """Measured fp32 matmul FLOP/s of this machine (square ``size`` matrices, torch's threads)."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    return best_rate(lambda: a @ b, 2 * size**3, rounds)


def analytic_flops(config: EncoderConfig, k: int) -> float:
    """All floating-point operations per particle of the rank-2 encoder (add/mul/max = 1, multiply-add = 2).

    Per block: per-bond input projections (score and value), the per-pair pre-activations (one add
    for the partner term plus one multiply-add per pair invariant), activation, score dot product,
    softmax, weighted sum over partners and the per-bond output projection; then the same for the
    reducing attention (which pools once per particle), plus the geometry and type embedding.
    """
    d, h, s, pairs = config.dim, config.width, config.score_hidden, k * k
    invariants = 4 if config.normalize_products else 2
    n_in = d + 1

    def attention(outputs: int) -> float:
        projections = 2 * k * n_in * 2 * (s + h)
        per_pair = pairs * (s + h) * (1 + 2 * invariants + 1) + pairs * 2 * s + 5 * pairs + pairs * 2 * h
        return projections + per_pair + 2 * outputs * h * d

    geometry = pairs * 20 + k * 6
    blocks = config.blocks * (attention(k) + 8 * k * d + k * d)  # + LayerNorm and residual
    return geometry + 2 * k * 2 * config.n_types * d + blocks + 8 * k * d + attention(1)


def matmul_flops(model: Encoder, inputs) -> float:
    """Matmul FLOPs per particle as counted by torch.utils.flop_counter (eager forward)."""
    counter = FlopCounterMode(display=False)
    with counter, torch.inference_mode():
        model(*inputs)
    return counter.get_total_flops() / inputs[0].shape[0]


class ReferenceEncoder(nn.Module):
    """The same architecture from the ``geometric-algebra-attention`` package (PyTorch backend)."""

    def __init__(self, dim: int, blocks: int, n_types: int):
        super().__init__()
        import geometric_algebra_attention.pytorch as gala

        invariants = gala.VectorAttention.get_invariant_dims(2, "full")

        def mlp(n_in, n_out):
            return nn.Sequential(nn.Linear(n_in, dim), nn.ReLU(), nn.Linear(dim, n_out))

        def layer(reduce):
            return gala.VectorAttention(
                dim,
                mlp(dim, 1),
                mlp(invariants, dim),
                reduce=reduce,
                rank=2,
                invariant_mode="full",
                merge_fun="concat",
                join_fun="concat",
            )

        self.type_embedding = nn.Linear(2 * n_types, dim)
        self.norms = nn.ModuleList(nn.LayerNorm(dim) for _ in range(blocks))
        self.blocks = nn.ModuleList(layer(False) for _ in range(blocks))
        self.reduction = layer(True)

    def forward(self, bonds, mask, type_features):
        values = self.type_embedding(type_features)
        for norm, block in zip(self.norms, self.blocks):
            values = values + block((bonds, norm(values)), mask=mask)
        return self.reduction((bonds, values), mask=mask)


def main(argv=None) -> int:
    args = parse_args(argv)
    command = "python " + " ".join(
        shlex.quote(a) for a in [os.path.relpath(__file__)] + (sys.argv[1:] if argv is None else list(argv))
    )
    torch.set_num_threads(args.threads)
    freud.parallel.set_num_threads(args.threads)
    rounds = args.rounds

    box, positions = freud.data.UnitCell.fcc().generate_system(args.cells, sigma_noise=args.noise, seed=0)
    frame = make_frame(box, positions)
    n = frame.n_particles
    config = EncoderConfig(k=16, dim=32, blocks=3, rank=2, cutoff=None, n_types=1)  # the k=16 architecture
    torch.manual_seed(0)
    model = Encoder(config).eval()
    print(
        f"machine: {machine_description()}\n{n} particles, {args.threads} threads, "
        f"torch {torch.__version__}, freud {freud.__version__}"
    )

    def steinhardt():
        nlist = (
            freud.locality.AABBQuery(box, frame.positions)
            .query(frame.positions, dict(num_neighbors=STEINHARDT_NEIGHBORS, exclude_ii=True))
            .toNeighborList()
        )
        freud.order.Steinhardt(STEINHARDT_L).compute((box, frame.positions), neighbors=nlist)

    rates = {"freud Steinhardt l=4..12 (12 NN, query included)": best_rate(steinhardt, n, rounds)}
    rates["simssl neighbors k=16"] = best_rate(lambda: compute_neighborhoods(frame, k=16), n, rounds)
    neighborhoods = compute_neighborhoods(frame, k=16)

    subset = min(args.eager_particles, n)
    arrays = (
        neighborhoods.vectors[:subset] / neighborhoods.scale,
        neighborhoods.mask[:subset],
        neighborhoods.center_types[:subset],
        neighborhoods.neighbor_types[:subset],
    )
    model.embed(tuple(a[:64] for a in arrays), device="cpu")  # warm-up
    rates[f"simssl encoder, eager ({subset} particles)"] = best_rate(
        lambda: model.embed(arrays, device="cpu", batch_size=args.batch_size), subset, rounds
    )
    encoder_key = f"simssl encoder, eager ({subset} particles)"
    exact = model.embed(arrays, device="cpu", batch_size=args.batch_size)
    rates[f"simssl encoder, eager bf16 autocast ({subset} particles)"] = best_rate(
        lambda: model.embed(arrays, device="cpu", batch_size=args.batch_size, autocast="bf16"), subset, rounds
    )
    reduced = model.embed(arrays, device="cpu", batch_size=args.batch_size, autocast="bf16")
    relative = np.linalg.norm(reduced - exact, axis=1) / np.linalg.norm(exact, axis=1)
    accuracy = (
        "bf16 autocast vs float32 embeddings, per-particle relative error: "
        f"median {np.median(relative):.2e}, max {relative.max():.2e} (TF32 affects only CUDA matmuls)"
    )
    if not args.no_compile:
        start = time.perf_counter()
        model.embed(neighborhoods, device="cpu", batch_size=args.batch_size, compile=True)  # compiles once
        print(f"torch.compile + first full pass: {time.perf_counter() - start:.1f} s")
        encoder_key = "simssl encoder, torch.compile"
        rates[encoder_key] = best_rate(
            lambda: model.embed(neighborhoods, device="cpu", batch_size=args.batch_size, compile=True), n, rounds
        )
    compiled = not args.no_compile
    rates["simssl neighbors + encoder, end to end"] = best_rate(
        lambda: model.embed(
            compute_neighborhoods(frame, k=16), device="cpu", batch_size=args.batch_size, compile=compiled
        ),
        n,
        rounds,
    )

    reference_n = min(args.reference_particles, n)
    tensors = [torch.as_tensor(np.asarray(a[:reference_n])) for a in arrays]
    reference = ReferenceEncoder(config.dim, config.blocks, config.n_types).eval()
    features = type_features(tensors[2], tensors[3], tensors[1], config.n_types).float()

    @torch.inference_mode()
    def run_reference():
        for start in range(0, reference_n, 250):
            reference(tensors[0][start : start + 250], tensors[1][start : start + 250], features[start : start + 250])

    reference_key = f"reference package ({reference_n} particles)"
    rates[reference_key] = best_rate(run_reference, reference_n, rounds)

    sample = [torch.as_tensor(np.asarray(a[:256])) for a in arrays]
    counted = matmul_flops(model, sample)
    total = analytic_flops(config, config.k)
    peak = matmul_rate(rounds)
    achieved = total * rates[encoder_key]

    encoder = rates[encoder_key]
    freud_rate = rates["freud Steinhardt l=4..12 (12 NN, query included)"]
    lines = [
        f"### {datetime.datetime.now().isoformat(timespec='minutes')}, {n} particles "
        f"(noisy FCC, sigma {args.noise} a), {args.threads} threads",
        "",
        f"Machine: {machine_description()}. torch {torch.__version__}, freud {freud.__version__}, "
        f"Python {platform.python_version()}.",
        f"Command: `{command}`. Encoder: k=16, D=32, 3 blocks + reducing attention, rank 2, "
        f"activation {config.activation}, random weights.",
        "",
        "| measurement | particles/s |",
        "|---|---:|",
        *(f"| {name} | {rate:,.0f} |" for name, rate in rates.items()),
        "",
        f"- encoder / freud Steinhardt: {encoder / freud_rate:.2f}x (goal >= 0.7x); "
        f"encoder / reference: {encoder / rates[reference_key]:.0f}x (goal >= 30x); "
        f"goal >= 15,000 particles/s: {'met' if encoder >= 15000 else 'NOT met'}",
        f"- FLOPs per particle: {total / 1e6:.2f} M analytic (all ops), "
        f"of which {counted / 1e6:.2f} M matmul (torch.utils.flop_counter)",
        f"- measured fp32 matmul rate: {peak / 1e9:.1f} GFLOP/s; "
        f"encoder achieves {achieved / 1e9:.1f} GFLOP/s = {100 * achieved / peak:.1f}% of it",
        f"- {accuracy}",
    ]
    entry = "\n".join(lines)
    print(entry)
    if not args.no_append:
        publish_entry(args.results, HEADING, entry)
        print(f"appended to {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
