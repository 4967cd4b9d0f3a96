"""Option definitions shared by every ``simssl`` sub-command, and the parsing of their text values.

Each function adds one option (or a small group) with the same name, meaning and help text
wherever it appears; sub-commands only choose which ones they take.
"""

from __future__ import annotations

import argparse

from ..defaults import INPUT_FORMATS, STEINHARDT_DEGREES
from ..errors import SimsslError

INPUT_HELP = "trajectory (.gsd, .lammpstrj/.dump/.lammpsdump, .xyz/.extxyz)"


def add_input(parser: argparse.ArgumentParser, nargs=None, help: str = INPUT_HELP, metavar: str = "INPUT") -> None:
    """The trajectory (or trajectories, with ``nargs``) a command reads.

    Parameters
    ----------
    parser : argparse.ArgumentParser
    nargs : str or int, optional
        As in ``add_argument`` (e.g. ``"+"``); None: one input.
    help : str
        Help text (default: the formats read).
    metavar : str
        Name shown in usage (default ``INPUT``).
    """
    parser.add_argument("input", nargs=nargs, metavar=metavar, help=help)


def add_reader_options(parser: argparse.ArgumentParser) -> None:
    """``--format``, ``--box`` and ``--frames``: how trajectories are read (every command that reads them).

    Parameters
    ----------
    parser : argparse.ArgumentParser
    """
    parser.add_argument("--format", choices=INPUT_FORMATS, help="input format (default: from the extension)")
    parser.add_argument(
        "--box", help="box for plain XYZ files without a lattice: 'L', 'Lx,Ly,Lz' or 'Lx,Ly,Lz,xy,xz,yz'"
    )
    parser.add_argument(
        "--frames", help="frames to read, 'start:stop:step' (e.g. '0:100:10') or one index (default: all)"
    )


def add_model_options(parser: argparse.ArgumentParser, default: str | None = "default", required: bool = False) -> None:
    """``--model`` (a checkpoint path, ``default`` or ``random``) and ``--device``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
    default : str or None
        Default of ``--model`` (``"default"``: the shipped model).
    required : bool
        Make ``--model`` required.
    """
    shown = f" (default: {default}{', the shipped model' if default == 'default' else ''})" if default else ""
    parser.add_argument(
        "--model",
        default=default,
        required=required,
        help="encoder: a checkpoint path, 'default' (the shipped model), "
        "or 'random' (UNTRAINED weights, for tests only)" + shown,
    )
    add_device(parser)


def add_device(parser: argparse.ArgumentParser) -> None:
    """``--device``: where torch runs.

    Parameters
    ----------
    parser : argparse.ArgumentParser
    """
    parser.add_argument("--device", help="torch device, e.g. cpu or cuda (default: CUDA when available)")


def add_output(
    parser: argparse.ArgumentParser,
    help: str,
    required: bool = True,
    aliases: tuple[str, ...] = (),
    dest: str = "output",
) -> None:
    """``-o/--output`` (plus older spellings in ``aliases``, e.g. ``--out``).

    Parameters
    ----------
    parser : argparse.ArgumentParser
    help : str
        Help text.
    required : bool
        Make the option required.
    aliases : tuple of str
        Further option strings.
    dest : str
        Attribute name of the parsed value (default ``output``).
    """
    parser.add_argument("-o", "--output", *aliases, dest=dest, required=required, help=help)


def add_force(parser: argparse.ArgumentParser) -> None:
    """``--force``: overwrite existing output files.

    Parameters
    ----------
    parser : argparse.ArgumentParser
    """
    parser.add_argument("--force", action="store_true", help="overwrite existing output files")


def add_quiet(parser: argparse.ArgumentParser) -> None:
    """``--quiet``: no progress bars and no summary.

    Parameters
    ----------
    parser : argparse.ArgumentParser
    """
    parser.add_argument("--quiet", action="store_true", help="no progress bars and no summary")


def add_seed(parser: argparse.ArgumentParser, what: str) -> None:
    """``--seed`` (int, default 0).

    Parameters
    ----------
    parser : argparse.ArgumentParser
    what : str
        What the seed drives, for the help text.
    """
    parser.add_argument("--seed", type=int, default=0, help=f"seed of {what} (default: 0)")


def reader_kwargs(args) -> dict:
    """The keyword arguments of :func:`simssl.read_frames` that :func:`add_reader_options` collected.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments with ``frames``, ``format`` and ``box``.

    Returns
    -------
    dict
        ``frames``, ``format`` and ``box`` (:func:`parse_box`).

    Raises
    ------
    SimsslError
        For an unreadable ``--box``.
    """
    return dict(frames=args.frames, format=args.format, box=parse_box(args.box))


def parse_box(text: str | None) -> tuple[float, ...] | None:
    """``--box`` as numbers (:func:`simssl.io.as_box` checks how many); None stays None.

    Parameters
    ----------
    text : str or None
        Comma-separated numbers.

    Returns
    -------
    tuple of float or None

    Raises
    ------
    SimsslError
        If a part is not a number.
    """
    if text is None:
        return None
    try:
        return tuple(float(x) for x in text.split(","))
    except ValueError:
        raise SimsslError(f"cannot read the box {text!r}; give 'L', 'Lx,Ly,Lz' or 'Lx,Ly,Lz,xy,xz,yz'") from None


def parse_steinhardt(text: str) -> tuple[int, ...]:
    """``--steinhardt``: ``'4,6,8'`` -> (4, 6, 8); ``'none'`` or empty -> () (no Steinhardt).

    Parameters
    ----------
    text : str

    Returns
    -------
    tuple of int

    Raises
    ------
    SimsslError
        If the degrees are not distinct positive integers.
    """
    from ..bond_order import parse_degrees  # freud: imported when a command runs, not for --help

    return () if text.strip().lower() in ("", "none") else parse_degrees(text)


DEFAULT_STEINHARDT = ",".join(map(str, STEINHARDT_DEGREES))
