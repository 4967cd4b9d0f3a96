"""``simssl process`` (per-particle order, one file or many on dask), ``simssl identify`` and ``simssl info``."""

from __future__ import annotations

import argparse
import glob
import os
import sys

from ..defaults import OUTPUT_SUFFIX, STEINHARDT_NEIGHBORS
from ..errors import SimsslError
from . import options

IDENTIFY_HELP = (
    "structure (index of the nearest reference: the crystal library and 'liquid', -1 'other' when like none "
    "of them; names in `simssl info`), structure_confidence, structure_distance and nucleus (nucleus id, "
    "0 = largest, -1 = not ordered)"
)


def add_process_parser(commands) -> None:
    parser = commands.add_parser(
        "process",
        help="compute per-particle quantities for every frame and write them out",
        description="Compute per-particle order quantities for every selected frame. "
        "A .gsd output holds the input frames plus log arrays particles/simssl/<name>; "
        "a .npz output holds one array per quantity with a leading frame axis.",
    )
    _add_process_arguments(parser, identify=False)


def add_identify_parser(commands) -> None:
    parser = commands.add_parser(
        "identify",
        help="name every particle's structure (crystal library or liquid) and its nucleus",
        description="`simssl process --identify`: write per particle " + IDENTIFY_HELP + ", plus q4 and q6 "
        "(--steinhardt none to skip); the summary gives the ordered fraction and largest nucleus per frame.",
    )
    _add_process_arguments(parser, identify=True)


def _add_process_arguments(parser, identify: bool) -> None:
    """The options of ``process`` (``identify``: of ``simssl identify``, where identification is on)."""
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
    parser.add_argument("--suffix", help=f"with several inputs: OUTPUT/<name><suffix> (default: {OUTPUT_SUFFIX})")
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
        "--steinhardt-k", type=int, help=f"nearest neighbors for Steinhardt (default: {STEINHARDT_NEIGHBORS})"
    )
    options.add_model_options(parser, default=None)
    if identify:
        parser.set_defaults(identify=True)
    else:
        parser.add_argument("--identify", action="store_true", help="also write " + IDENTIFY_HELP)
    parser.add_argument(
        "--ordering",
        action="store_true",
        help="with identification, in frames of two particle types: also write ordering, the binary prototype "
        "whose chemical order the types follow (B1 rock salt, B2 CsCl, L1_2 Cu3Au, ...), 0 = disordered, "
        "-1 = none (names in `simssl info`)",
    )
    parser.add_argument(
        "--reference",
        action="append",
        default=[],
        metavar="[NAME=]PATH",
        help="with identification: a trajectory of a reference structure (every particle of every frame), "
        "named NAME (default: the file name); repeat for several",
    )
    parser.add_argument("--batch-size", type=int, help="particles per model batch (default: sized to bound memory)")
    parser.add_argument(
        "--compile",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="torch.compile the encoder (default: no; on the CPU the fused C kernels are faster)",
    )
    parser.add_argument(
        "--k",
        type=int,
        help="nearest neighbors per particle in the shared neighborhoods (default: what the analyses need)",
    )
    options.add_reader_options(parser)
    options.add_force(parser)
    parser.add_argument(
        "--drop-input-data",
        action="store_true",
        help="write only positions, types, box and this run's quantities (default: a .gsd output keeps a GSD "
        "input's velocities, images, ... and log arrays, earlier simssl quantities included)",
    )
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
    from ..analyses import AnalysisOptions, build_analyzers
    from ..data import example_path
    from ..processor import RunOptions, process

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
        identify=args.identify,
        ordering=args.ordering,
        references=tuple(_parse_reference(item) for item in args.reference),
    )
    run = RunOptions(
        k=args.k,
        force=args.force,
        resume=args.resume,
        keep_input=not args.drop_input_data,
        **options.reader_kwargs(args),
    )
    if len(sources) > 1 or args.scheduler or any(glob.has_magic(s) and not os.path.exists(s) for s in sources):
        return _run_distributed(args, sources, analysis, run)
    for option, value in (("--suffix", args.suffix), ("--workers", args.workers)):
        if value is not None:
            raise SimsslError(
                f"{option} applies to several inputs (or --scheduler), which run on a dask cluster; with one input "
                "it would be ignored: leave it out"
            )
    result = process(
        sources[0], args.output, analyzers=build_analyzers(analysis), progress=not args.quiet, **run.as_kwargs()
    )
    if not args.quiet:
        print(result.summary())


def _parse_reference(item: str) -> tuple[str, str]:
    """``NAME=PATH`` or ``PATH`` (named after the file, without extensions) -> (name, path); refuses a missing file."""
    name, _, path = item.rpartition("=") if "=" in item and not os.path.exists(item) else ("", "", item)
    if not os.path.exists(path):
        raise SimsslError(f"{path}: no such reference file")
    return name or os.path.basename(path).split(".")[0], path


def _run_distributed(args, sources, analysis, run) -> int:
    from ..distributed import process_many

    if os.path.splitext(args.output)[1].lower() in (".gsd", ".npz"):
        raise SimsslError(
            f"{args.output}: with several inputs (or --scheduler) OUTPUT is a directory; "
            f"each input writes OUTPUT/<name>{args.suffix or OUTPUT_SUFFIX}"
        )
    results = process_many(
        sources,
        args.output,
        scheduler=args.scheduler or "local",
        workers=args.workers,
        suffix=args.suffix or OUTPUT_SUFFIX,
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
    from ..frame import nonperiodic_axes
    from ..io import read_frames

    if args.input.lower().endswith(".npz"):
        return _describe_npz(args.input)
    _refuse_missing_with_partial(args.input)
    count = 0
    reader = read_frames(args.input, **options.reader_kwargs(args))
    for frame in reader:
        if count == 0:
            b = frame.box
            length, factor = _box_digits(max(b.Lx, b.Ly, b.Lz)), _box_digits(1.0)
            print(
                f"{args.input}: first frame: {frame.n_particles} particles, "
                f"types {', '.join(frame.type_names)}, step {frame.step}"
            )
            print(f"  box Lx={length(b.Lx)} Ly={length(b.Ly)} Lz={length(b.Lz)}")
            if not frame.fully_periodic:
                periodic = ", ".join(axis for axis, flag in zip("xyz", frame.periodic) if flag) or "none"
                print(f"  periodic: {periodic} (padded along {nonperiodic_axes(frame.periodic)})")
            print(f"  tilt factors (HOOMD/GSD, dimensionless): xy={factor(b.xy)} xz={factor(b.xz)} yz={factor(b.yz)}")
            print(
                f"  tilts (LAMMPS, absolute lengths):         xy={length(b.xy * b.Ly)} xz={length(b.xz * b.Lz)} "
                f"yz={length(b.yz * b.Lz)}"
            )
        count += 1
    if count == 0:
        raise reader.empty_selection(args.frames)
    print(f"  {count} frame(s)")
    if args.input.lower().endswith(".gsd"):
        _describe_gsd_quantities(args.input)


def _box_digits(scale: float):
    """Format box numbers to the precision a box has: 6 significant digits of ``scale``, the box's size.

    Boxes are float32 (GSD, freud) and MDAnalysis rebuilds triclinic dumps from float32 lengths and
    angles, so digits beyond the sixth of the box length are round-off (a tilt of 0 read as 3.9e-07,
    0.3 as 0.300001); they are rounded away rather than printed.
    """
    import math

    decimals = 5 - math.floor(math.log10(scale))
    return lambda value: f"{round(value, decimals) + 0.0:.6g}"  # + 0.0: no "-0"


def _refuse_missing_with_partial(path: str) -> None:
    """A missing file with a partial output: a live run is writing it, or an interrupted run left it (how to go on)."""
    import os

    from ..atomic import partial_path
    from ..locking import holder

    partial = partial_path(path)
    if not os.path.exists(path) and os.path.exists(partial):
        writer = holder(path)
        if writer is not None:
            raise SimsslError(f"{path}: not written yet; a running simssl ({writer}) is writing it into {partial}")
        raise SimsslError(
            f"{path}: no such file, but an interrupted run left {partial}: continue it with "
            "`simssl process ... -o {path} --resume`, or delete that file".replace("{path}", path)
        )


def _describe_gsd_quantities(path: str) -> None:
    """The simssl quantities (and run record) stored in a processed GSD file's first frame."""
    import gsd.hoomd

    from ..io.processed import log_quantities
    from ..io.records import record_from_log

    with gsd.hoomd.open(path, "r") as trajectory:
        log = trajectory[0].log
    stored = log_quantities(log)
    if stored:
        print("  simssl quantities (per particle, log/particles/simssl/<name>):")
        for name, value in stored.items():
            print(f"    {name:<16} shape {tuple(value.shape)}  {value.dtype}")
    record = record_from_log(log)
    if record is not None:
        print(
            f"  made by simssl {record['simssl']} from {record['input']['path']} "
            f"({', '.join(item['kind'] for item in record['analyzers'])})"
        )
        _describe_structures(record)
    elif "structure" in stored:  # a HOOMD OrderAnalyzer logged without its record
        print(
            "  no run record, so no structure names: log the OrderAnalyzer with a Logger whose categories include "
            "'string' (its 'fingerprint' loggable), e.g. hoomd.logging.Logger(categories=['particle', 'scalar', "
            "'string'])"
        )


def _describe_structures(record: dict) -> None:
    """The names behind ``structure`` (and ``ordering``) indices, from a run record with identification."""
    from ..io.records import identification

    item = identification(record)
    if item is None:
        return
    print("  structure indices (log/particles/simssl/structure; 0 = liquid, > 0 = ordered, -1 = other):")
    names = item["structures"]
    for index, name in enumerate(names):
        merged = [other for other, into in item.get("aliases", {}).items() if name in into]
        number = -1 if index == len(names) - 1 and name == "other" else index
        print(f"    {number:3d}  {name}" + (f"  (also reports sites of {', '.join(merged)})" if merged else ""))
    if item.get("orderings"):
        print("  ordering indices (log/particles/simssl/ordering; 0 = disordered, -1 = none):")
        orderings = item["orderings"]
        for index, name in enumerate(orderings):
            print(f"    {-1 if index == len(orderings) - 1 else index:3d}  {name}")


def _describe_npz(path: str) -> None:
    """Arrays of a ``simssl process`` .npz output: names, shapes, dtypes."""
    import os

    import numpy as np

    from ..io.records import record_from_npz

    if not os.path.exists(path):
        raise SimsslError(f"{path}: no such file")
    try:
        data = np.load(path)
    except Exception as error:
        raise SimsslError(f"{path}: not a readable .npz file ({error})") from None
    with data:
        print(f"{path}: {len(data.files)} array(s)")
        for name in data.files:
            value = data[name]
            print(f"    {name:<16} shape {tuple(value.shape)}  {value.dtype}")
        record = record_from_npz(data)
        if record is not None:
            _describe_structures(record)
