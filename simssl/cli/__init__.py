"""The ``simssl`` command: one parser, shared options (:mod:`.options`), one error handler (:func:`main`).

Sub-commands live one module per job: ``process``/``info`` (:mod:`.process`), ``plot``
(:mod:`.plot`), ``compare`` (:mod:`.compare`), ``pretrain``/``finetune`` (:mod:`.training`).
"""

from __future__ import annotations

import argparse
import sys
import warnings

from ..errors import SimsslError, SimsslWarning
from ..version import __version__
from .compare import add_compare_parser
from .plot import add_plot_parser
from .process import add_identify_parser, add_info_parser, add_process_parser
from .training import PRESET_NAMES, add_finetune_parser, add_pretrain_parser

__all__ = ["PRESET_NAMES", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: ``simssl COMMAND ...``."""
    parser = argparse.ArgumentParser(prog="simssl", description="Per-particle order analysis of particle simulations.")
    parser.add_argument("--version", action="version", version=f"simssl {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (
        add_process_parser,
        add_identify_parser,
        add_plot_parser,
        add_info_parser,
        add_pretrain_parser,
        add_finetune_parser,
        add_compare_parser,
    ):
        add(commands)
    return parser


def main(argv=None) -> int:
    """Entry point; returns the exit code: 0, 2 for bad input (one sentence, no traceback), 130 when interrupted."""
    args = build_parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _one_line_warning
            code = args.run(args)
    except SimsslError as error:
        print(f"simssl: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader of our output went away (``simssl info x | head``): not an error
        sys.stderr.close()
        return 0
    except OSError as error:
        print(f"simssl: error: {_os_error(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("simssl: interrupted; no output was written (a .gsd output continues with --resume)", file=sys.stderr)
        return 130
    return code or 0


def _os_error(error: OSError) -> str:
    """An operating-system error as one sentence, naming the user's file (not simssl's hidden partial file)."""
    from ..atomic import final_path

    if error.filename is None:
        return " ".join(str(error).split())
    target = final_path(error.filename)
    if target is not None:
        return f"{target}: cannot write it ({error.strerror or error})"
    return f"{error.filename}: {error.strerror or error}"


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """simssl's own warnings as one ``simssl: warning: ...`` line; others as Python prints them."""
    if issubclass(category, SimsslWarning):
        print(f"simssl: warning: {message}", file=sys.stderr)
    else:
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))
