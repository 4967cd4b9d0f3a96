"""``simssl plot``: PNG pictures of a processed file, and with identification a table of the ordered fraction."""

from __future__ import annotations

from . import options

#: most frames the table of ``simssl plot`` lists (evenly sampled, first and last included)
TABLE_ROWS = 20


def add_plot_parser(commands) -> None:
    parser = commands.add_parser(
        "plot",
        help="PNG pictures of a processed file: embedding vs q6, ordered fraction over time, snapshot, nuclei",
        description="Writes next to INPUT (or into -o DIR) INPUT_embedding_vs_q6.png (with q6 or embeddings), "
        "INPUT_order_fraction.png, INPUT_snapshot.png (.gsd only) and, for files made by simssl identify "
        "(or process --identify), INPUT_nuclei.png (largest nucleus and number of nuclei per frame), and prints "
        "one line per picture. With identification the ordered fraction is that of identified ordered "
        "particles (structure > 0), drawn next to the q6 threshold fraction and, where OVITO is installed, the "
        "PTM fraction (OVITO defaults: particles not 'Other'), and a table of these per frame is printed; "
        "without it, the fraction in k-means clusters of the embeddings whose mean q6 is above the threshold.",
    )
    options.add_input(parser, help="a .gsd or .npz written by simssl process or simssl identify")
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
    from ..plots import load_processed, order_series, plot

    processed = load_processed(args.input)
    series = order_series(processed, args.q6_threshold) if "structure" in processed.columns else None
    written = plot(
        args.input,
        args.out_dir,
        n_clusters=args.clusters,
        q6_threshold=args.q6_threshold,
        seed=args.seed,
        force=args.force,
        series=series,
    )
    if not args.quiet:
        print("\n".join(written))
        if series is not None:
            q6_name = "q6_avg" if "q6_avg" in processed.columns else "q6"
            print(
                f"ordered fraction per frame: identified (structure > 0), q6 ({q6_name} > {args.q6_threshold}), "
                "PTM (OVITO defaults, not 'Other'); largest nucleus in particles"
            )
            print("\n".join(order_table(series)))


def order_table(series: dict, rows: int = TABLE_ROWS) -> list[str]:
    """Lines of a table of :func:`simssl.plots.order_series`: at most ``rows`` frames, evenly sampled.

    Columns: step, identified ordered fraction, q6 fraction, PTM fraction and largest nucleus
    ("-" where the file or the installation gives none).
    """
    from ..nuclei import evenly_spaced

    steps = series["steps"]
    shown = evenly_spaced(len(steps), rows)

    def cell(name: str, index: int, form: str) -> str:
        values = series.get(name)
        return "-" if values is None else format(values[index], form)

    lines = [f"{'step':>12}  {'identified':>10}  {'q6':>6}  {'PTM':>6}  {'largest nucleus':>15}"]
    for index in shown:
        lines.append(
            f"{int(steps[index]):>12}  {cell('identified', index, '.3f'):>10}  {cell('q6', index, '.3f'):>6}  "
            f"{cell('ptm', index, '.3f'):>6}  {cell('largest_cluster', index, 'd'):>15}"
        )
    return lines
