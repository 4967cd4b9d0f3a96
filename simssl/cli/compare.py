"""``simssl compare``: embeddings vs Steinhardt on labeled frames (see :mod:`simssl.compare`)."""

from __future__ import annotations

from ..defaults import GROUPINGS
from ..errors import SimsslError
from . import options


def add_compare_parser(subparsers) -> None:
    """The ``compare`` sub-command."""
    parser = subparsers.add_parser(
        "compare",
        help="linear probes of embeddings vs Steinhardt features on labeled particles or groups of frames",
        description="Cross-validated multinomial logistic regression on (a) the model's embeddings "
        "(raw + neighbor-averaged) "
        "and (b) Steinhardt features (12 nearest neighbors; q4, q6, q8, q10, q12, w4, w6, raw + averaged) for the same "
        "labels; prints accuracy and ROC AUC (mean +- std over folds) and writes report.json, roc.png and pca.png "
        "to OUTPUT.",
    )
    options.add_input(
        parser, nargs="+", metavar="FILE", help="trajectories (any simssl format); all their frames, in order"
    )
    labels = parser.add_mutually_exclusive_group(required=True)
    labels.add_argument(
        "--labels",
        metavar="LABELS",
        help="labels: .npz with 'labels' (per particle, all frames concatenated, "
        "or shaped (frames, N)) or 'frame_labels' (one per frame), or a .npy of per-particle labels",
    )
    labels.add_argument(
        "--groups", metavar="G1,G2,...", help="one label per frame (or per FILE), comma separated, e.g. 0,0,1,1"
    )
    options.add_model_options(parser)
    options.add_output(
        parser,
        "directory for report.json, roc.png and pca.png (created if missing)",
        aliases=("--out-dir",),
        dest="out_dir",
    )
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds (default: 5)")
    parser.add_argument(
        "--folds-by",
        choices=GROUPINGS,
        default="auto",
        help="group folds so that test particles' neighbors do not train the probe: by frame, by spatial block "
        "(slabs), or per particle (leaky); auto: frames when every class spans --folds frames, else blocks",
    )
    options.add_seed(parser, "the fold assignment and plot sampling")
    options.add_reader_options(parser)
    options.add_force(parser)
    options.add_quiet(parser)
    parser.set_defaults(run=run_compare)


def frame_groups(text: str, files: list[int]) -> list:
    """``--groups`` as one label per frame.

    ``files`` holds each FILE's frame count; a label per FILE is spread over its frames.
    """
    groups = [part.strip() for part in text.split(",") if part.strip()]
    if len(groups) == len(files) and len(groups) != sum(files):
        groups = [group for group, count in zip(groups, files) for _ in range(count)]
    if len(groups) != sum(files):
        raise SimsslError(
            f"--groups gives {len(groups)} label(s) for {sum(files)} frame(s) in {len(files)} file(s); "
            "give one per frame or one per file"
        )
    return groups


def run_compare(args) -> None:
    from ..checkpoints import load_model
    from ..compare import compare
    from ..io import read_frames
    from ..io.labels import read_labels

    model = load_model(args.model, device=args.device)
    per_file = [list(read_frames(path, **options.reader_kwargs(args))) for path in args.input]
    frames = [frame for group in per_file for frame in group]
    labels = (
        frame_groups(args.groups, [len(group) for group in per_file])
        if args.groups
        else read_labels(args.labels, len(frames))
    )
    report = compare(
        frames,
        labels,
        model,
        folds=args.folds,
        seed=args.seed,
        out_dir=args.out_dir,
        device=args.device,
        force=args.force,
        folds_by=args.folds_by,
    )
    if not args.quiet:
        print(report.table())
        print("\n".join(report.files))
