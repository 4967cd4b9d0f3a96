"""``simssl plot``: PNG pictures of a processed file."""

from __future__ import annotations

from . import options


def add_plot_parser(commands) -> None:
    parser = commands.add_parser(
        "plot", help="PNG pictures of a processed file: embedding vs q6, ordered fraction over time, snapshot"
    )
    options.add_input(parser, help="a .gsd or .npz written by simssl process")
    options.add_output(
        parser,
        "directory for the PNGs (default: next to INPUT; created if missing)",
        required=False,
        aliases=("--out-dir",),
        dest="out_dir",
    )
    parser.add_argument(
        "--clusters",
        type=int,
        help="k-means clusters of the embeddings "
        "(default: chosen from the data by silhouette, one when no split is clear)",
    )
    parser.add_argument(
        "--q6-threshold",
        type=float,
        default=0.35,
        help="q6 (q6_avg if present) above which a particle counts as ordered (default: 0.35)",
    )
    options.add_seed(parser, "the k-means initialization")
    options.add_force(parser)
    options.add_quiet(parser)
    parser.set_defaults(run=run_plot)


def run_plot(args) -> None:
    from ..plots import plot

    written = plot(
        args.input,
        args.out_dir,
        n_clusters=args.clusters,
        q6_threshold=args.q6_threshold,
        seed=args.seed,
        force=args.force,
    )
    if not args.quiet:
        print("\n".join(written))
