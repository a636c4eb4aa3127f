"""Typed options of the API's one-case functions (:func:`nrmt.verification.verify_case`, tables).

A command's options are declared once as a dict ``name -> Option(kind, default)``;
:func:`normalise` checks python values against it (``ValueError``/``TypeError`` with one line that
names the option, what was expected and what came) and returns them converted to one canonical
form, so that equal cases compare (and hash) equal: ``phi = 1`` and ``phi = 1.0`` are the same
case, ``psi = [0.5]`` is ``psi = 0.5``. The command line checks its text with argparse types of its
own; these checks are for values that come from python or from a sweep file.

>>> schema = {"n0": Option("positive_int"), "phi": Option("positive", 1.0)}
>>> normalise(schema, {"n0": 100})
{'n0': 100, 'phi': 1.0}
>>> normalise(schema, {"n0": 100, "phi": -2})
Traceback (most recent call last):
...
ValueError: phi must be > 0, got -2
"""

import math
import numbers
from dataclasses import dataclass
from typing import Any

__all__ = ["Option", "normalise", "KINDS", "REQUIRED"]

#: marker of an option without a default
REQUIRED = object()


@dataclass(frozen=True)
class Option:
    """One option: its ``kind`` (a key of :data:`KINDS`), its default, and for ``choice``/
    ``int_range`` the allowed values (a tuple, or ``(lo, hi)``)."""

    kind: str
    default: Any = REQUIRED
    values: tuple = ()
    help: str = ""


def _real(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value


def _signed(name, value, positive):
    """A number (returned as a float) or an exact number's text (``"1/3"``, returned stripped)."""
    if isinstance(value, str):
        from nrmt.theory.exact import exact_parameter

        exact_parameter(value, name, positive=positive, nonnegative=not positive)
        return value.strip()
    v = _real(name, value)
    if positive and v <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    if not positive and v < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return v


def _positive(name, value, opt):
    return _signed(name, value, True)


def _nonnegative(name, value, opt):
    return _signed(name, value, False)


def _integer(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    return int(value)


def _positive_int(name, value, opt):
    v = _integer(name, value)
    if v < 1:
        raise ValueError(f"{name} must be >= 1, got {value!r}")
    return v


def _seed(name, value, opt):
    v = _integer(name, value)
    if v < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return v


def _int_range(name, value, opt):
    v = _integer(name, value)
    lo, hi = opt.values
    if not lo <= v <= hi:
        raise ValueError(f"{name} must be in {lo}..{hi}, got {value!r}")
    return v


def _positive_list(name, value, opt):
    """A positive number, or a non-empty list of them (a single one is returned as a number)."""
    if isinstance(value, (list, tuple)):
        if not value:
            raise ValueError(f"{name} must be a number or a non-empty list of numbers, got []")
        values = [_positive(name, v, opt) for v in value]
        return values[0] if len(values) == 1 else values
    return _positive(name, value, opt)


def _text(name, value, opt):
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {value!r}")
    if not value.strip():
        raise ValueError(f"{name} must not be empty")
    return value


def _choice(name, value, opt):
    if value not in opt.values:
        raise ValueError(f"{name} must be one of {', '.join(map(str, opt.values))}, got {value!r}")
    return value


def _flag(name, value, opt):
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be true or false, got {value!r}")
    return value


def _number_text(name, value):
    """A real number kept as the text a user would type (exact values such as ``"1/3"``)."""
    from nrmt.theory.activations import parse_expression

    if isinstance(value, bool):
        raise TypeError(f"{name} must be a number, got {value!r}")
    if isinstance(value, (int, float)):  # python numbers (numpy's too); sympy's go by str
        return repr(_real(name, value)) if isinstance(value, float) else str(int(value))
    if not isinstance(value, str):
        text = str(value)  # a sympy number
    else:
        text = value.strip()
    try:
        number = parse_expression(text)
    except ValueError as exc:
        raise ValueError(f"{name}: expected a number, got {value!r} ({exc})") from None
    if not number.is_number or not number.is_real:
        raise ValueError(f"{name}: expected a real number, got {value!r}")
    return text


def _params(name, value, opt):
    """Values of an activation's free parameters: a mapping (or pairs) name -> number."""
    items = value.items() if isinstance(value, dict) else value
    try:
        pairs = [(k, v) for k, v in items]
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a table NAME = VALUE, got {value!r}") from None
    out = {}
    for key, v in pairs:
        if not isinstance(key, str) or not key.isidentifier() or key.startswith("_"):
            raise ValueError(f"{name}: bad parameter name {key!r}")
        out[key] = _number_text(f"{name}.{key}", v)
    return dict(sorted(out.items()))


def _entries(name, value, opt):
    from nrmt.numerics.entries import entry_law

    return entry_law(_text(name, value, opt)).name


#: kind -> checker(name, value, option) returning the canonical value
KINDS = {
    "text": _text,
    "positive": _positive,
    "nonnegative": _nonnegative,
    "positive_int": _positive_int,
    "seed": _seed,
    "int_range": _int_range,
    "positive_list": _positive_list,
    "choice": _choice,
    "flag": _flag,
    "params": _params,
    "entries": _entries,
}


def normalise(schema, values, what="option"):
    """Check ``values`` (a mapping) against ``schema`` and fill the defaults.

    Parameters
    ----------
    schema : dict
        ``name -> Option``.
    values : mapping
        Given values; ``None`` stands for "not given" where the default is ``None``.
    what : str
        The word used in the error for an unknown name.

    Returns
    -------
    dict
        Every name of the schema, in the schema's order, with its canonical value.

    Raises
    ------
    ValueError, TypeError
        An unknown or missing name, or a value of the wrong kind or range.
    """
    unknown = [k for k in values if k not in schema]
    if unknown:
        raise ValueError(f"unknown {what} {unknown[0]!r} (known: {', '.join(schema)})")
    out = {}
    for name, opt in schema.items():
        if name in values and not (values[name] is None and opt.default is None):
            out[name] = KINDS[opt.kind](name, values[name], opt)
        elif opt.default is REQUIRED:
            raise ValueError(f"{name} is required")
        else:
            out[name] = opt.default
    return out
