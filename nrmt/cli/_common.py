"""Helpers shared by the sub-commands: argument types, decimal formatting, JSON output.

Formatting lives here (presentation); nothing in this module computes theory.
"""

import argparse
import json
import math
import sys

import mpmath

__all__ = [
    "positive_float",
    "nonnegative_float",
    "positive_int",
    "dps_arg",
    "float_list",
    "add_dps",
    "decimal",
    "decimal_list",
    "emit_json",
]


def _number(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if math.isnan(value) or math.isinf(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def positive_float(text):
    """argparse type: a finite number > 0."""
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def nonnegative_float(text):
    """argparse type: a finite number >= 0."""
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def positive_int(text):
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return value


def dps_arg(text):
    """argparse type for ``--dps``: decimal digits, 1 to 1000."""
    value = positive_int(text)
    if value > 1000:
        raise argparse.ArgumentTypeError(f"must be <= 1000, got {text}")
    return value


def float_list(text):
    """argparse type: comma-separated finite numbers, e.g. ``0.5,1,2``."""
    items = [t for t in text.split(",") if t.strip()]
    if not items:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}")
    return [_number(t) for t in items]


def add_dps(parser, default=15):
    """Add the common ``--dps`` option (decimal digits of every printed number)."""
    parser.add_argument(
        "--dps", type=dps_arg, default=default,
        help=f"decimal digits of precision (default {default})",
    )


def decimal(value, dps):
    """A number as a decimal string with ``dps`` significant digits (``None`` stays ``None``).

    >>> decimal(mpmath.mpf(1) / 3, 5)
    '0.33333'
    """
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return [decimal(v, dps) for v in value]
    with mpmath.workdps(dps + 5):
        v = mpmath.mpmathify(value)
        if isinstance(v, mpmath.mpc):
            if v.imag == 0:
                v = v.real
            else:
                raise TypeError(f"expected a real number, got {value!r}")
        if v == 0:
            return "0"
        return mpmath.nstr(v, dps, strip_zeros=True, min_fixed=-5, max_fixed=dps + 1)


def decimal_list(values, dps):
    """Each value through :func:`decimal`."""
    return [decimal(v, dps) for v in values]


def emit_json(obj, stream=None):
    """Print one JSON object on standard output."""
    json.dump(obj, stream or sys.stdout, indent=2)
    (stream or sys.stdout).write("\n")
