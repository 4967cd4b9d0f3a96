"""``simssl process`` (per-particle order of every frame, one file or many on dask) and ``simssl info``."""

from __future__ import annotations

import argparse
import glob
import os
import sys

from ..defaults import OUTPUT_SUFFIX, STEINHARDT_NEIGHBORS
from ..errors import SimsslError
from . import options


def add_process_parser(commands) -> None:
    parser = commands.add_parser(
        "process",
        help="compute per-particle quantities for every frame and write them out",
        description="Compute per-particle order quantities for every selected frame. "
        "A .gsd output holds the input frames plus log arrays particles/simssl/<name>; "
        "a .npz output holds one array per quantity with a leading frame axis.",
    )
    options.add_input(
        parser,
        nargs="*",
        help=options.INPUT_HELP + "; several files or a quoted glob run on a dask cluster, one task per file",
    )
    parser.add_argument(
        "--example", action="store_true", help="process the bundled example trajectory instead of INPUT"
    )
    options.add_output(parser, "output file, .gsd or .npz (a directory with several inputs or --scheduler)")
    parser.add_argument(
        "--scheduler", help="process on dask.distributed: 'local' (a LocalCluster) or a scheduler address"
    )
    parser.add_argument("--workers", type=int, help="worker processes of the local cluster (default: one per core)")
    parser.add_argument(
        "--suffix", default=OUTPUT_SUFFIX, help=f"with several inputs: OUTPUT/<name><suffix> (default: {OUTPUT_SUFFIX})"
    )
    parser.add_argument(
        "--steinhardt",
        default=options.DEFAULT_STEINHARDT,
        help=f"Steinhardt degrees l, comma separated (default: {options.DEFAULT_STEINHARDT}); 'none' to skip",
    )
    parser.add_argument("--wl", action="store_true", help="also write normalized w_l")
    parser.add_argument(
        "--average",
        action="store_true",
        help="also write Lechner-Dellago averaged q_l (q6_avg, ...) and, with --model, embedding_avg",
    )
    parser.add_argument(
        "--voronoi", action="store_true", help="Steinhardt over Voronoi neighbors weighted by facet area"
    )
    parser.add_argument(
        "--steinhardt-k",
        type=int,
        default=STEINHARDT_NEIGHBORS,
        help=f"nearest neighbors for Steinhardt (default: {STEINHARDT_NEIGHBORS})",
    )
    options.add_model_options(parser, default=None)
    parser.add_argument("--batch-size", type=int, help="particles per model batch (default: sized to bound memory)")
    parser.add_argument(
        "--compile",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="torch.compile the encoder (default: on the CPU for frames of 20,000+ particles)",
    )
    parser.add_argument(
        "--k",
        type=int,
        help="nearest neighbors per particle in the shared neighborhoods (default: what the analyses need)",
    )
    options.add_reader_options(parser)
    options.add_force(parser)
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue a killed or interrupted run into a .gsd OUTPUT, keeping the frames it finished",
    )
    options.add_quiet(parser)
    parser.set_defaults(run=run_process)


def add_info_parser(commands) -> None:
    parser = commands.add_parser("info", help="describe a trajectory: frames, particles, box, types")
    options.add_input(parser)
    options.add_reader_options(parser)
    parser.set_defaults(run=run_info)


def run_process(args) -> int | None:
    from ..data import example_path
    from ..processor import AnalysisOptions, RunOptions, build_analyzers, process

    if args.example == bool(args.input):
        raise SimsslError("give either INPUT or --example, not both or neither")
    sources = [str(example_path())] if args.example else args.input
    analysis = AnalysisOptions(
        steinhardt=options.parse_steinhardt(args.steinhardt),
        wl=args.wl,
        average=args.average,
        voronoi=args.voronoi,
        steinhardt_k=args.steinhardt_k,
        model=args.model,
        device=args.device,
        batch_size=args.batch_size,
        compile=args.compile,
    )
    run = RunOptions(k=args.k, force=args.force, resume=args.resume, **options.reader_kwargs(args))
    if len(sources) > 1 or args.scheduler or any(glob.has_magic(s) and not os.path.exists(s) for s in sources):
        return _run_distributed(args, sources, analysis, run)
    result = process(
        sources[0], args.output, analyzers=build_analyzers(analysis), progress=not args.quiet, **run.as_kwargs()
    )
    if not args.quiet:
        print(result.summary())


def _run_distributed(args, sources, analysis, run) -> int:
    from ..distributed import process_many

    if os.path.splitext(args.output)[1].lower() in (".gsd", ".npz"):
        raise SimsslError(
            f"{args.output}: with several inputs (or --scheduler) OUTPUT is a directory; "
            f"each input writes OUTPUT/<name>{args.suffix}"
        )
    results = process_many(
        sources,
        args.output,
        scheduler=args.scheduler or "local",
        workers=args.workers,
        suffix=args.suffix,
        analysis=analysis,
        run=run,
        progress=not args.quiet,
    )
    failures = {source: result for source, result in results.items() if isinstance(result, Exception)}
    if not args.quiet:
        for source, result in results.items():
            if source not in failures:
                print(result.summary())
    for error in failures.values():
        print(f"simssl: error: {error}", file=sys.stderr)
    return 2 if failures else 0


def run_info(args) -> None:
    from ..io import read_frames

    count = 0
    for frame in read_frames(args.input, **options.reader_kwargs(args)):
        if count == 0:
            b = frame.box
            print(
                f"{args.input}: first frame: {frame.n_particles} particles, "
                f"types {', '.join(frame.type_names)}, step {frame.step}"
            )
            print(f"  box Lx={b.Lx:.6g} Ly={b.Ly:.6g} Lz={b.Lz:.6g} xy={b.xy:.6g} xz={b.xz:.6g} yz={b.yz:.6g}")
        count += 1
    print(f"  {count} frame(s)")
