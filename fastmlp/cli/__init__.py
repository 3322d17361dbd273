"""The ``fastmlp`` command: train, save and evaluate models on MNIST-style data or your own.

One module per subcommand: ``train`` (a classifier, or a regressor on float
targets), ``evaluate``, ``download`` and ``sweep`` (a grid of fits on a Dask
cluster, [fastmlp.sweeps][fastmlp.sweeps]); what they share is in ``common``
and their figures in ``plots``.
Every flag and path is checked before any download or training starts. Errors
reach the user as one line on stderr naming the flag or file and the fix, with
a non-zero exit code; ``--debug`` shows the traceback instead. Exit codes: 0
success; 1 an error (bad data, damaged model file, divergence, invalid value,
I/O, not enough memory); 2 a bad command line (argparse's own); 130
interrupted (Ctrl-C).
"""

import argparse
import sys
from collections.abc import Sequence

import fastmlp
from fastmlp.cli import download, evaluate, sweep, train
from fastmlp.cli.common import EXIT_ERROR, EXIT_INTERRUPTED, FLAGS, flag_message
from fastmlp.exceptions import CommandError

__all__ = ["EXIT_ERROR", "EXIT_INTERRUPTED", "FLAGS", "build_parser", "flag_message",
           "format_error", "main"]

COMMANDS = {"train": train.run, "evaluate": evaluate.run, "download": download.run,
            "sweep": sweep.run}
"""Subcommand name to the function that runs it."""


def build_parser() -> argparse.ArgumentParser:
    """The ``fastmlp`` argument parser with its subcommands.

    Exposed so that tests and the documentation can check command lines
    without running them.

    Returns
    -------
    argparse.ArgumentParser
        Parses into a namespace with ``command`` (``"train"``, ``"evaluate"``,
        ``"download"`` or ``"sweep"``), ``debug`` and the subcommand's options.
    """
    parser = argparse.ArgumentParser(
        prog="fastmlp", description="Train multi-layer perceptrons fast on a CPU."
    )
    parser.add_argument("--version", action="version", version=f"fastmlp {fastmlp.__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in (train, evaluate, download, sweep):
        command.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``fastmlp`` console script.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; None reads ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit code: 0 success, 1 error (reported as one line on stderr,
        or re-raised with ``--debug``), 130 interrupted. argparse raises
        ``SystemExit`` itself: code 2 for a bad command line, 0 after
        ``--help`` or ``--version``.
    """
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("fastmlp: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except MemoryError as error:
        if args.debug:
            raise
        detail = f" ({error})" if str(error) else ""
        print(f"fastmlp: error: out of memory{detail}; use a smaller network or data set.",
              file=sys.stderr)
        return EXIT_ERROR
    except (
        fastmlp.DatasetError, fastmlp.DivergenceError, CommandError, ValueError, OSError
    ) as error:
        if args.debug:
            raise
        print(format_error(error), file=sys.stderr)
        return EXIT_ERROR


def format_error(error: BaseException) -> str:
    """The text ``main`` prints for an error, after ``fastmlp: error: ``.

    A [DatasetError][fastmlp.exceptions.DatasetError] keeps its lines (a
    failed download names each mirror tried on a line of its own, then the
    fix), indented under the first; every other message becomes one line,
    whatever it holds.

    Parameters
    ----------
    error : BaseException
        The error to show.

    Returns
    -------
    str
        One line, or several for a ``DatasetError``, the first prefixed with
        ``fastmlp: error: ``.
    """
    if isinstance(error, fastmlp.DatasetError):
        # the library's advice names its argument; here the user types the flag
        text = str(error).replace("pass data_home=", "pass --data-home DIR")
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        lines = lines or [type(error).__name__]
        return "\n".join([f"fastmlp: error: {lines[0]}", *(f"  {line}" for line in lines[1:])])
    return "fastmlp: error: " + " ".join(str(error).split())
