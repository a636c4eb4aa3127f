"""The ``nrmt`` command line: parse arguments, call the library, format the result. Nothing else.

Each sub-command lives in its own module ``nrmt.cli.<name>`` with a ``register(subparsers)``
function that adds its parser and sets ``func`` (a callable taking the parsed arguments and
returning an exit code).
"""

import argparse
import importlib
import os
import re
import sys

from nrmt.theory.errors import NrmtError

__all__ = ["main", "COMMANDS"]

#: Sub-command modules, in the order ``nrmt --help`` lists them.
COMMANDS = [
    "constants",
    "table",
    "density",
    "verify",
    "jacobian",
    "criticality",
    "isospectral",
    "equation",
    "ntk",
    "sweep",
]


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors: ``nrmt density: error: ...`` and exit code 2
    (``--help`` still prints the full usage)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # a value that starts with '-' and a digit is a (negative) number, not an option:
        # ``--x -1,0``, ``--grid -1:1:11``, ``--sigma-b -0.5`` (then refused with a clear error)
        self._negative_number_matcher = re.compile(r"^-\.?\d")

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


class _Version(argparse.Action):
    """``--version``: the package version, looked up only when asked (importlib.metadata is slow
    to import)."""

    def __call__(self, parser, namespace, values, option_string=None):
        from nrmt import __version__

        print(f"nrmt {__version__}")     # on stdout, as argparse's own version action
        parser.exit(0)


def build_parser():
    """The argparse parser with every registered sub-command."""
    parser = _Parser(
        prog="nrmt",
        description="Nonlinear random matrix theory of neural networks: constants, limit laws, "
        "Monte Carlo verification.",
    )
    parser.add_argument("--version", action=_Version, nargs=0,
                        help="show program's version number and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"nrmt.cli.{name}").register(sub)
    return parser


def main(argv=None):
    """Entry point of the ``nrmt`` console script; returns the exit code.

    User errors (bad expressions, invalid parameters, failed convergence) print one line on
    standard error and return 2, like argparse's own usage errors.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except (NrmtError, ValueError, TypeError, OverflowError, ZeroDivisionError) as exc:
        return _fail(args.command, _first_line(exc))
    except MemoryError:
        return _fail(args.command, "out of memory: ask for a smaller size (fewer points, a smaller "
                     "--n0, fewer --trials)")
    except BrokenPipeError:  # e.g. `nrmt ... | head`: stop quietly, like other Unix tools
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except OSError as exc:  # e.g. the output disappeared or filled the disk while writing
        return _fail(args.command, f"{exc.strerror or type(exc).__name__}"
                     + (f": {exc.filename!r}" if exc.filename else ""))
    except KeyboardInterrupt:
        print("nrmt: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - never a traceback; NRMT_DEBUG=1 shows it
        if os.environ.get("NRMT_DEBUG"):
            raise
        return _fail(args.command, f"{type(exc).__name__}: {_first_line(exc)} (an nrmt defect: "
                     "please report it with the command line; NRMT_DEBUG=1 shows the traceback)")


def _run(args):
    """Run the command; warnings (numpy overflow and the like) are held back: a failing command
    prints only its error, a succeeding one each distinct warning once, on one line."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        code = int(args.func(args) or 0)
    for message in dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught):
        print(f"nrmt {args.command}: warning: {_first_line(message)}", file=sys.stderr)
    return code


def _first_line(exc):
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _fail(command, message):
    print(f"nrmt {command}: error: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
