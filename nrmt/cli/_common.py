"""Helpers shared by the sub-commands: argument types, decimal formatting, JSON, resource checks.

Every number a command reads goes through one of the argument types below, so that every command
words its errors the same way (``expected a number, got 'x'``, ``must be > 0, got -1``, ...).
Numbers are kept exact as written (``--phi 0.1`` is 1/10, a sympy Rational), floats are made only
where a sampler needs them. Formatting lives here (presentation); nothing in this module computes
theory. Heavy modules (numpy, sympy, mpmath) are imported on first use, so ``nrmt --help`` starts
quickly.
"""

import argparse
import json
import math
import os
import re
import sys
from decimal import Decimal

__all__ = [
    "positive_int",
    "nonnegative_int",
    "int_between",
    "dps_arg",
    "exact_positive",
    "exact_nonnegative",
    "exact_list",
    "real_list",
    "expression_number",
    "param_arg",
    "parameter_arg",
    "add_engine",
    "point_list",
    "nonnegative_point_list",
    "grid_spec",
    "output_path",
    "add_dps",
    "decimal",
    "decimal_list",
    "decimal_ratio",
    "Decimals",
    "emit_json",
    "available_memory",
    "check_memory",
    "check_points",
    "progress_bar",
    "activation_from_args",
    "MAX_POINTS",
]

#: the most points one run evaluates (``--x``, ``--grid``, ``--auto``, ``table --points``): a
#: million points cost a few seconds and about 200 MB of output text
MAX_POINTS = 10**6

#: |decimal exponent| accepted in a number (10**400 is built exactly; far beyond any ratio)
_MAX_EXPONENT = 400

_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_RATIO = re.compile(r"[+-]?\d+/\d+")


# ------------------------------------------------------------------ integers
def _int(text):
    try:
        return int(str(text).strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def positive_int(text):
    """argparse type: an integer >= 1.

    >>> positive_int("3")
    3
    """
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return value


def nonnegative_int(text):
    """argparse type: an integer >= 0 (e.g. a random seed)."""
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def int_between(lo, hi):
    """argparse type factory: an integer in [lo, hi]."""

    def parse(text):
        value = _int(text)
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"must be between {lo} and {hi}, got {text}")
        return value

    parse.__name__ = f"integer in [{lo}, {hi}]"
    return parse


def dps_arg(text):
    """argparse type for ``--dps``: decimal digits, 1 to 1000."""
    return int_between(1, 1000)(text)


# ------------------------------------------------------------------ exact numbers
def _fraction(text):
    """A decimal (``0.1``, ``-2.5e-3``) or ratio of integers (``1/3``) as an exact Fraction."""
    from fractions import Fraction

    t = str(text).strip()
    if _DECIMAL.fullmatch(t):
        mantissa, _, exponent = t.lower().partition("e")
        if exponent and abs(int(exponent)) > _MAX_EXPONENT:
            raise argparse.ArgumentTypeError(f"number out of range, got {text!r}")
        return Fraction(t)
    if _RATIO.fullmatch(t):
        num, den = t.split("/")
        if int(den) == 0:
            raise argparse.ArgumentTypeError(f"division by zero in {text!r}")
        if len(num.lstrip("+-")) > _MAX_EXPONENT or len(den) > _MAX_EXPONENT:
            raise argparse.ArgumentTypeError(f"number out of range, got {text!r}")
        return Fraction(int(num), int(den))
    raise argparse.ArgumentTypeError(f"expected a number, got {text!r}")


def _check_sign(value, text, positive, nonnegative):
    if positive and not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    if nonnegative and not value >= 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")


def _to_rational(frac):
    import sympy

    return sympy.Rational(frac.numerator, frac.denominator)


def exact_positive(text):
    """argparse type: a decimal or p/q > 0, kept exact (a sympy Rational).

    >>> exact_positive("0.1")
    1/10
    """
    value = _fraction(text)
    _check_sign(value, text, True, False)
    return _to_rational(value)


def exact_nonnegative(text):
    """argparse type: a decimal or p/q >= 0, kept exact (a sympy Rational).

    >>> exact_nonnegative("0.0")
    0
    """
    value = _fraction(text)
    _check_sign(value, text, False, True)
    return _to_rational(value)


def _items(text):
    items = [t.strip() for t in str(text).split(",")]
    if not any(items):
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}")
    if not all(items):
        raise argparse.ArgumentTypeError(f"empty item in the list {text!r}")
    return items


def exact_list(text):
    """argparse type: comma-separated decimals > 0, kept exact (``--psi 0.5`` or ``--psi 0.5,1,2``).

    >>> exact_list("0.5,2")
    [1/2, 2]
    """
    out = []
    for item in _items(text):
        value = _fraction(item)
        _check_sign(value, item, True, False)
        out.append(_to_rational(value))
    return out


def real_list(text):
    """argparse type: comma-separated finite numbers as floats (any sign), e.g. ``-1,0,2.5``."""
    return [float(_fraction(item)) for item in _items(text)]


def expression_number(positive=False, nonnegative=False, symbol=None):
    """argparse type factory: a real constant written as an expression (``0.1``, ``1/3``,
    ``sqrt(2)``, ``pi/4``), kept exact (sympy); ``symbol`` names a word accepted as a symbol
    (``--sigma sigma``)."""

    def parse(text):
        from nrmt.theory.activations import parse_expression

        if symbol is not None and str(text).strip() == symbol:
            from nrmt.theory.gaussian import SIGMA

            return SIGMA
        try:
            value = parse_expression(text)
        except (ValueError, TypeError) as exc:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r} ({exc})") from None
        if not value.is_number or not value.is_real:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}")
        _check_sign(value, text, positive, nonnegative)
        return value

    parse.__name__ = "number"
    return parse


def param_arg(text):
    """argparse type for ``--param NAME=VALUE`` (VALUE a real constant such as ``0.1`` or ``1/3``)."""
    name, sep, value = str(text).partition("=")
    name = name.strip()
    if not sep or not name.isidentifier() or name.startswith("_"):
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, expression_number()(value)


#: names a symbolic parameter may not take (the variables of the derived equations)
_RESERVED = {"G", "z", "x", "w", "u", "beta"}


def parameter_arg(nonnegative=False, allow_list=False):
    """argparse type factory: a number, exact fraction or symbol name (kept exact / symbolic),
    through :func:`nrmt.theory.exact.exact_parameter`; a comma list with ``allow_list``."""

    def one(text):
        import sympy

        from nrmt.theory.exact import exact_parameter

        try:
            value = exact_parameter(text, "value", positive=not nonnegative,
                                    nonnegative=nonnegative, symbols=True)
        except (TypeError, ValueError) as exc:
            raise argparse.ArgumentTypeError(str(exc).replace("value ", "", 1)) from None
        bad = sorted(s.name for s in value.free_symbols if s.name in _RESERVED)
        if bad:
            raise argparse.ArgumentTypeError(f"the name {bad[0]!r} is reserved (the equation's "
                                             f"variables); choose another symbol name")
        assumption = {"nonnegative": True} if nonnegative else {"positive": True}
        return value.xreplace({s: sympy.Symbol(s.name, **assumption) for s in value.free_symbols})

    def parse(text):
        if not allow_list:
            return one(text)
        return [one(t) for t in _items(text)]

    parse.__name__ = "number or symbol"
    return parse


def _decimal_point(text):
    """A point: validated as a finite decimal, kept as its text."""
    _fraction(text)
    return str(text).strip()


def point_list(text):
    """argparse type for ``--x``: comma-separated decimals (any sign), kept as text.

    >>> point_list("-1,0.5")
    ['-1', '0.5']
    """
    return [_decimal_point(t) for t in _items(text)]


def nonnegative_point_list(text):
    """argparse type: comma-separated decimals >= 0, kept as text."""
    items = point_list(text)
    for t in items:
        _check_sign(_fraction(t), t, False, True)
    return items


def grid_spec(text):
    """argparse type for ``--grid A:B:N``: N equispaced points from A to B (A, B kept as text)."""
    parts = str(text).split(":")
    if len(parts) != 3:
        raise argparse.ArgumentTypeError(f"expected A:B:N, got {text!r}")
    a, b = _decimal_point(parts[0]), _decimal_point(parts[1])
    n = positive_int(parts[2])
    if _fraction(b) < _fraction(a):
        raise argparse.ArgumentTypeError(f"expected A <= B, got {text!r}")
    return a, b, n


def output_path(text):
    """argparse type for ``--plot``/``--output``: a file that can be written, checked before any
    computation (the folder exists and is writable; the name is not a folder)."""
    path = str(text)
    if not path.strip():
        raise argparse.ArgumentTypeError("expected a file name, got ''")
    if os.path.isdir(path):
        raise argparse.ArgumentTypeError(f"{path!r} is a folder, not a file")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise argparse.ArgumentTypeError(f"cannot write {path!r}: no folder {folder!r}")
    existed = os.path.exists(path)
    try:  # the one reliable test (permissions, read-only file systems, root): open it
        with open(path, "a"):
            pass
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot write {path!r}: {exc.strerror}") from None
    if not existed:
        os.remove(path)
    return path


def add_engine(parser, workers_help, scheduler_help):
    """Add the mutually exclusive ``--workers N`` / ``--scheduler ADDRESS`` options (where Dask
    runs the work) shared by the commands that spread work over processes."""
    engine = parser.add_mutually_exclusive_group()
    engine.add_argument("--workers", type=positive_int, default=None, metavar="N", help=workers_help)
    engine.add_argument("--scheduler", metavar="ADDRESS", default=None, help=scheduler_help)
    return engine


def add_dps(parser, default=15):
    """Add the common ``--dps`` option (decimal digits of every printed number)."""
    parser.add_argument(
        "--dps", type=dps_arg, default=default,
        help=f"decimal digits of precision (default {default})",
    )


def activation_from_args(expr, params=()):
    """The :class:`~nrmt.theory.activations.Activation` of EXPR with ``--param`` values; an error
    naming ``--param`` when free parameters are left."""
    from nrmt.theory.activations import Activation

    act = Activation(expr, **dict(params))
    free = sorted(str(p) for p in (act.parameters or ()))
    if free:
        raise ValueError(f"{expr!r} has free parameters {', '.join(free)}: give their values "
                         f"with --param {free[0]}=VALUE")
    return act


# ------------------------------------------------------------------ formatting
def _layout(sign, digits, exponent, dps):
    """mpmath.nstr's layout (strip_zeros, min_fixed=-5, max_fixed=dps + 1) of rounded digits."""
    if -5 < exponent < dps + 1:
        if exponent < 0:
            digits = "0" * -exponent + digits
            split = 1
        else:
            split = exponent + 1
            if split > len(digits):
                digits += "0" * (split - len(digits))
        exponent = 0
    else:
        split = 1
    text = (digits[:split] + "." + digits[split:]).rstrip("0")
    if text.endswith("."):
        text += "0"
    if exponent == 0:
        return sign + text
    return sign + text + ("e+" if exponent > 0 else "e") + str(exponent)


def _format_exp(text, dps):
    """Layout of a ``'d.ddde±x'`` string (from ``format(value, '.{dps-1}e')``)."""
    mantissa, _, exponent = text.partition("e")
    sign = "-" if mantissa.startswith("-") else ""
    digits = mantissa.lstrip("+-").replace(".", "")
    return _layout(sign, digits, int(exponent), dps)


def _decimal_float(value, dps):
    """A float64 correctly rounded to ``dps`` significant digits (its exact binary value)."""
    if value == 0:
        return "0"
    if not math.isfinite(value):
        return "nan" if value != value else ("+inf" if value > 0 else "-inf")
    text = format(value, f".{dps}g")  # the same rounding; its fixed layout is nstr's when it has
    if "e" not in text and "." in text:  # a point and 10^-4 <= |value| < 10^dps (no trailing 0s)
        return text
    return _format_exp(format(value, f".{dps - 1}e"), dps)


def _decimal_text(text, dps):
    """A decimal as written, rounded once to ``dps`` significant digits."""
    d = Decimal(text)
    if d == 0:
        return "0"
    fixed = format(d, f".{dps}g")  # Decimal keeps trailing zeros and goes fixed down to 10^-6
    if "e" not in fixed and "E" not in fixed and "." in fixed and not fixed.lstrip("-").startswith("0.0000"):
        fixed = fixed.rstrip("0")
        return fixed + "0" if fixed.endswith(".") else fixed
    return _format_exp(format(d, f".{dps - 1}e"), dps)


def decimal(value, dps):
    """A number as a decimal string with ``dps`` significant digits (``None`` stays ``None``).

    floats are rounded once, correctly, from their exact binary value (no mpmath); decimal text
    is rounded from the decimal as written; other numbers (mpf, sympy) through mpmath.

    >>> decimal(0.5, 15), decimal(1e-6, 3), decimal("0.0346483214919756", 4)
    ('0.5', '1.0e-6', '0.03465')
    """
    if value is None:
        return None
    if isinstance(value, float):
        return _decimal_float(value, dps)
    if isinstance(value, (list, tuple)):
        return [decimal(v, dps) for v in value]
    if isinstance(value, str):
        return _decimal_text(value, dps)
    import mpmath

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


class Decimals(list):
    """A list of decimal texts already in :func:`decimal`'s layout with ``dps`` significant digits
    (e.g. the points of a grid): :func:`decimal_list` at the same ``dps`` returns them as they are."""

    def __init__(self, texts, dps):
        super().__init__(texts)
        self.dps = dps


_POW10 = [10**k for k in range(80)]


def _pow10(k):
    return _POW10[k] if k < 80 else 10**k


def decimal_ratio(num, den, dps, exponent=None):
    """The rational ``num/den`` (integers, ``den > 0``) rounded once (half to even) to ``dps``
    significant digits, in :func:`decimal`'s layout; also returns its decimal exponent, a hint that
    makes the next call on a nearby number cheap.

    >>> decimal_ratio(1, 3, 5), decimal_ratio(-5, 10**7, 15), decimal_ratio(0, 7, 3)
    (('0.33333', -1), ('-5.0e-7', -7), ('0', None))
    """
    if num == 0:
        return "0", exponent
    sign = "-" if num < 0 else ""
    num = -num if num < 0 else num
    e = math.floor(math.log10(num) - math.log10(den)) if exponent is None else exponent
    lo, hi = _pow10(dps - 1), _pow10(dps)
    while True:  # the exponent e with 10^e <= num/den < 10^(e+1) (the log guess may be off by one)
        p = dps - 1 - e
        n, d = (num * _pow10(p), den) if p >= 0 else (num, den * _pow10(-p))
        if n < lo * d:
            e -= 1
        elif n >= hi * d:
            e += 1
        else:
            break
    q, r = divmod(n, d)
    if 2 * r > d or (2 * r == d and q & 1):
        q += 1
        if q == hi:
            return _layout(sign, "1", e + 1, dps), e + 1
    return _layout(sign, str(q).rstrip("0"), e, dps), e


def decimal_list(values, dps):
    """Each value through :func:`decimal` (a float64 array is read as floats, fast)."""
    if isinstance(values, Decimals) and values.dps == dps:
        return list(values)
    if hasattr(values, "dtype") and values.dtype.kind == "f" and values.dtype.itemsize == 8:
        return [_decimal_float(v, dps) for v in values.tolist()]
    if all(isinstance(v, str) for v in values):
        return [_decimal_text(v, dps) for v in values]
    return [decimal(v, dps) for v in values]


def emit_json(obj, stream=None):
    """Print one JSON object on standard output (or ``stream``): the text of
    ``json.dumps(obj, indent=2)``, built faster (:func:`dumps_indented`)."""
    out = stream or sys.stdout
    out.write(dumps_indented(obj))
    out.write("\n")


def dumps_indented(obj, indent=2):
    """``json.dumps(obj, indent=indent)``, character for character, for JSON built of dicts, lists,
    strings and scalars; a list of strings (the long columns of numbers) is encoded in one pass
    by the C string encoder (``json.dumps`` with an indent runs its pure-Python encoder per item).

    >>> import json
    >>> obj = {"x": ["0.5", "1.0"], "n": [1, None, {"a": []}], "s": {}, "t": "\u00e9"}
    >>> dumps_indented(obj) == json.dumps(obj, indent=2)
    True
    """
    from json.encoder import encode_basestring_ascii

    def enc(v, level):
        if isinstance(v, str):
            return encode_basestring_ascii(v)
        if isinstance(v, (list, tuple)):
            if not v:
                return "[]"
            inner = "\n" + " " * (indent * (level + 1))
            if all(type(item) is str for item in v):
                flat = "".join(v)
                if flat.isascii() and flat.isprintable() and '"' not in flat and "\\" not in flat:
                    # printable ASCII without quote or backslash: json's encoding only adds quotes
                    body = '"' + ('",' + inner + '"').join(v) + '"'
                else:
                    body = ("," + inner).join(map(encode_basestring_ascii, v))
            else:
                body = ("," + inner).join(enc(item, level + 1) for item in v)
            return "[" + inner + body + "\n" + " " * (indent * level) + "]"
        if isinstance(v, dict) and all(type(k) is str for k in v):
            if not v:
                return "{}"
            inner = "\n" + " " * (indent * (level + 1))
            body = ("," + inner).join(encode_basestring_ascii(k) + ": " + enc(item, level + 1)
                                      for k, item in v.items())
            return "{" + inner + body + "\n" + " " * (indent * level) + "}"
        # scalars, and dicts with keys that json converts: json itself, re-indented to this level
        return json.dumps(v, indent=indent).replace("\n", "\n" + " " * (indent * level))

    return enc(obj, 0)


# ------------------------------------------------------------------ resources
def available_memory():
    """Bytes of memory available to a new allocation (``MemAvailable``; physical memory otherwise)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - no sysconf
        return None


def _size(nbytes):
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20)):
        if nbytes >= scale:
            return f"{nbytes / scale:.3g} {unit}"
    return f"{nbytes / 2**10:.3g} KiB"


def check_memory(nbytes, what):
    """Refuse (ValueError) work whose estimated peak memory ``nbytes`` exceeds what is available."""
    avail = available_memory()
    if avail is not None and nbytes > avail:
        raise ValueError(f"{what} needs about {_size(nbytes)} of memory; this machine has "
                         f"{_size(avail)} available")


def check_points(n, option):
    """Refuse more than :data:`MAX_POINTS` evaluation points, with the reason."""
    if n > MAX_POINTS:
        raise ValueError(f"{option} asks for {n} points; at most {MAX_POINTS} per run (each point "
                         f"costs microseconds to milliseconds and about 100 bytes of output): "
                         f"split the range")


def progress_bar(total, desc, enabled=None):
    """A tqdm bar on standard error (only when it is a terminal, unless ``enabled`` says), or None."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, file=sys.stderr, leave=False)
