"""``simssl plot``: PNG pictures of a processed file, and with identification a table of the ordered fraction."""

from __future__ import annotations

from ..defaults import PLOT_MAX_CLUSTERS, Q6_AVG_THRESHOLD
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
        "without it, the fraction in k-means clusters of the embeddings whose mean q6 is above the threshold. "
        f"The q6 threshold fits the file: q6_avg > {Q6_AVG_THRESHOLD} by default; raw q6 (processed without "
        "--average) gets no q6 curve unless --q6-threshold is given, since its liquid and crystal values overlap.",
    )
    options.add_input(parser, help="a .gsd or .npz written by simssl process or simssl identify")
    options.add_output(
        parser,
        "directory for the PNGs, each named after INPUT (default: next to INPUT; created if missing)",
        required=False,
        aliases=("--out-dir",),
        dest="out_dir",
    )
    parser.add_argument(
        "--clusters",
        type=int,
        help=f"k-means clusters of the embeddings, 1 to {PLOT_MAX_CLUSTERS} "
        "(default: chosen from the data by silhouette, one when no split is clear)",
    )
    parser.add_argument(
        "--q6-threshold",
        type=float,
        help=f"q6_avg (or, when given, raw q6) above which a particle counts as ordered, between 0 and 1 "
        f"(default: {Q6_AVG_THRESHOLD} for q6_avg; none for raw q6)",
    )
    options.add_seed(parser, "the k-means initialization")
    options.add_force(parser)
    options.add_quiet(parser)
    parser.set_defaults(run=run_plot)


def run_plot(args) -> None:
    from ..fractions import order_series, q6_rule
    from ..io import read_processed
    from ..plots import planned_pictures, plot

    processed = read_processed(args.input)
    # what plot would refuse is refused before the table's numbers (PTM is slow) are computed
    planned_pictures(args.input, processed, args.out_dir, args.clusters, args.q6_threshold, args.force)
    rule = q6_rule(processed.columns, args.q6_threshold)
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
        print(f"q6: {rule.words}" if rule.threshold is not None else rule.words)
        if series is not None:
            q6_words = f"q6 ({rule.words})" if rule.threshold is not None else "q6 (-: no threshold for raw q6)"
            print(
                f"ordered fraction per frame: identified (structure > 0), {q6_words}, "
                "PTM (OVITO defaults, not 'Other'); largest nucleus in particles"
            )
            print("\n".join(order_table(series)))


def order_table(series: dict, rows: int = TABLE_ROWS) -> list[str]:
    """Lines of a table of :func:`simssl.fractions.order_series`: at most ``rows`` frames, evenly sampled.

    Columns: step, identified ordered fraction, q6 fraction, PTM fraction and largest nucleus
    ("-" where the file or the installation gives none); a last line says how many frames are
    shown when not all are.
    """
    from ..nuclei import evenly_spaced, shown_note

    steps = series["steps"]
    shown = evenly_spaced(len(steps), rows)

    def cell(name: str, index: int, form: str) -> str:
        values = series.get(name)
        return "-" if values is None else format(values[index], form)

    lines = [f"{'step':>12}  {'identified':>10}  {'q6':>6}  {'PTM':>6}  {'largest nucleus':>15}"]
    for index in shown:
        lines.append(
            f"{int(steps[index]):>12}  {cell('identified', index, '.3f'):>10}  {cell('q6', index, '.3f'):>6}  "
            f"{cell('ptm', index, '.3f'):>6}  {cell('largest_nucleus', index, 'd'):>15}"
        )
    return lines + shown_note(len(shown), len(steps))
