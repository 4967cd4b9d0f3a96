"""The ``simssl`` command: ``process`` (per-particle order for every frame) and ``info`` (what a file holds)."""

from __future__ import annotations

import argparse
import glob
import os
import sys

from . import __version__
from .errors import SimsslError
from .compare_commands import add_compare_parser
from .ssl.commands import add_finetune_parser, add_pretrain_parser


def _add_input_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=["gsd", "lammpsdump", "xyz"], help="input format (default: from the extension)")
    parser.add_argument("--box", help="box for plain XYZ files without a lattice: 'L', 'Lx,Ly,Lz' or 'Lx,Ly,Lz,xy,xz,yz'")
    parser.add_argument("--frames", help="frames to read, 'start:stop:step' (e.g. '0:100:10') or one index (default: all)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="simssl", description="Per-particle order analysis of particle simulations.")
    parser.add_argument("--version", action="version", version=f"simssl {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    process = commands.add_parser("process", help="compute per-particle quantities for every frame and write them out",
                                  description="Compute per-particle order quantities for every selected frame. "
                                  "A .gsd output holds the input frames plus log arrays particles/simssl/<name>; "
                                  "a .npz output holds one array per quantity with a leading frame axis.")
    process.add_argument("input", nargs="*", help="trajectory (.gsd, .lammpstrj/.dump/.lammpsdump, .xyz/.extxyz); "
                         "several files or a quoted glob run on a dask cluster, one task per file")
    process.add_argument("--example", action="store_true", help="process the bundled example trajectory instead of INPUT")
    process.add_argument("-o", "--output", required=True, help="output file, .gsd or .npz (a directory with several inputs or --scheduler)")
    process.add_argument("--scheduler", help="process on dask.distributed: 'local' (a LocalCluster) or a scheduler address")
    process.add_argument("--workers", type=int, help="worker processes of the local cluster (default: one per core)")
    process.add_argument("--suffix", default=".simssl.gsd", help="with several inputs: OUTPUT/<name><suffix> (default: .simssl.gsd)")
    process.add_argument("--steinhardt", default="4,6", help="Steinhardt degrees l, comma separated (default: 4,6); 'none' to skip")
    process.add_argument("--wl", action="store_true", help="also write normalized w_l")
    process.add_argument("--average", action="store_true", help="also write Lechner-Dellago averaged q_l (q6_avg, ...) and, with --model, embedding_avg")
    process.add_argument("--voronoi", action="store_true", help="Steinhardt over Voronoi neighbors weighted by facet area")
    process.add_argument("--steinhardt-k", type=int, default=12, help="nearest neighbors for Steinhardt (default: 12)")
    process.add_argument("--model", help="write per-particle embeddings from this encoder: a checkpoint path, 'default' "
                         "(the shipped model), or 'random' (UNTRAINED weights, for tests only)")
    process.add_argument("--device", help="torch device for the model, e.g. cpu or cuda (default: CUDA when available)")
    process.add_argument("--batch-size", type=int, help="particles per model batch (default: sized to bound memory)")
    process.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None,
                         help="torch.compile the encoder (default: on the CPU for frames of 20,000+ particles)")
    process.add_argument("--k", type=int, help="nearest neighbors per particle in the shared neighborhoods (default: what the analyses need)")
    _add_input_options(process)
    process.add_argument("--force", action="store_true", help="overwrite OUTPUT if it exists")
    process.add_argument("--resume", action="store_true", help="continue a killed or interrupted run into a .gsd OUTPUT, keeping the frames it finished")
    process.add_argument("--quiet", action="store_true", help="no progress bar and no summary")

    plot = commands.add_parser("plot", help="PNG pictures of a processed file: embedding vs q6, ordered fraction over time, snapshot")
    plot.add_argument("input", help="a .gsd or .npz written by simssl process")
    plot.add_argument("--out-dir", help="where to write the PNGs (default: next to INPUT)")
    plot.add_argument("--clusters", type=int, default=2, help="k-means clusters of the embeddings (default: 2)")
    plot.add_argument("--q6-threshold", type=float, default=0.35, help="q6 (q6_avg if present) above which a particle counts as ordered (default: 0.35)")

    info = commands.add_parser("info", help="describe a trajectory: frames, particles, box, types")
    info.add_argument("input")
    _add_input_options(info)

    process.set_defaults(run=_run_process)
    plot.set_defaults(run=_run_plot)
    info.set_defaults(run=_run_info)
    add_pretrain_parser(commands)
    add_finetune_parser(commands)
    add_compare_parser(commands)
    return parser


def _run_process(args) -> int | None:
    from .data import example_path
    from .pipeline import build_analyzers, process

    if args.example == bool(args.input):
        raise SimsslError("give either INPUT or --example, not both or neither")
    sources = [str(example_path())] if args.example else args.input
    analyzer_options = dict(steinhardt=args.steinhardt, wl=args.wl, average=args.average, voronoi=args.voronoi,
                            steinhardt_k=args.steinhardt_k, model=args.model, device=args.device, batch_size=args.batch_size, compile=args.compile)
    process_options = dict(k=args.k, frames=args.frames, format=args.format, box=_parse_box(args.box), force=args.force, resume=args.resume)
    if len(sources) > 1 or args.scheduler or any(glob.has_magic(s) and not os.path.exists(s) for s in sources):
        return _run_distributed(args, sources, analyzer_options, process_options)
    result = process(sources[0], args.output, analyzers=build_analyzers(**analyzer_options), progress=not args.quiet, **process_options)
    if not args.quiet:
        print(result.summary())


def _run_distributed(args, sources, analyzer_options, process_options) -> int:
    from .plugins.dask import process_many

    if os.path.splitext(args.output)[1].lower() in (".gsd", ".npz"):
        raise SimsslError(f"{args.output}: with several inputs (or --scheduler) OUTPUT is a directory; each input writes OUTPUT/<name>{args.suffix}")
    results = process_many(sources, args.output, scheduler=args.scheduler or "local", workers=args.workers, suffix=args.suffix,
                           analyzer_options=analyzer_options, progress=not args.quiet, **process_options)
    failures = {source: result for source, result in results.items() if isinstance(result, Exception)}
    if not args.quiet:
        for source, result in results.items():
            if source not in failures:
                print(result.summary())
    for error in failures.values():
        print(f"simssl: error: {error}", file=sys.stderr)
    return 2 if failures else 0


def _parse_box(text: str | None) -> list[float] | None:
    """``--box`` as numbers; :func:`simssl.io.as_box` checks how many."""
    if text is None:
        return None
    try:
        return [float(x) for x in text.split(",")]
    except ValueError:
        raise SimsslError(f"cannot read the box {text!r}; give 'L', 'Lx,Ly,Lz' or 'Lx,Ly,Lz,xy,xz,yz'") from None


def _run_plot(args) -> None:
    from .plots import plot

    for path in plot(args.input, args.out_dir, n_clusters=args.clusters, q6_threshold=args.q6_threshold):
        print(path)


def _run_info(args) -> None:
    from .io import read_frames

    count = 0
    for frame in read_frames(args.input, frames=args.frames, format=args.format, box=_parse_box(args.box)):
        if count == 0:
            b = frame.box
            print(f"{args.input}: first frame: {frame.n_particles} particles, types {', '.join(frame.type_names)}, step {frame.step}")
            print(f"  box Lx={b.Lx:.6g} Ly={b.Ly:.6g} Lz={b.Lz:.6g} xy={b.xy:.6g} xz={b.xz:.6g} yz={b.yz:.6g}")
        count += 1
    print(f"  {count} frame(s)")


def main(argv=None) -> int:
    """Entry point; returns the exit code (2 for bad input, with one sentence and no traceback)."""
    args = build_parser().parse_args(argv)
    try:
        code = args.run(args)
    except SimsslError as error:
        print(f"simssl: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"simssl: error: {error.filename or ''}: {error.strerror or error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("simssl: interrupted; no output was written (a .gsd output continues with --resume)", file=sys.stderr)
        return 130
    return code or 0


if __name__ == "__main__":
    sys.exit(main())
