r"""One conversion of user numbers into exact sympy numbers: no input is silently rounded.

Every model parameter (a ratio φ, ψ, a scale σ, σw, σb, an input variance q0) goes through
:func:`exact_parameter`. The rules:

* ``int``, ``numpy.integer``, :class:`fractions.Fraction`, :class:`decimal.Decimal`, sympy
  rationals and exact sympy numbers (``sympy.sqrt(2)``, ``sympy.pi/4``) are kept exactly;
* a string is parsed by the allow-list parser of :mod:`nrmt.theory.activations` (never ``eval``):
  ``"1/2"``, ``"0.1"``, ``"1e-3"``, ``"sqrt(2)"`` give the exact number *as written* (``"0.1"`` is
  1/10, not the binary float nearest to it);
* a binary floating-point number — Python ``float``, ``numpy.float16/32/64/128``, ``mpmath.mpf``
  and ``sympy.Float`` — is converted to the **exact rational value of its binary representation**
  (``numpy.float32(0.5)`` is exactly 1/2; ``0.1`` as a Python float is
  0.1000000000000000055511151231257827…). No digit is invented and none is lost, so a law at
  any ``dps`` is the law of exactly that number; give a string (``"0.1"``) for a decimal;
* ``nan``, ``inf``, complex numbers, booleans and ``None`` are refused with a one-line
  :class:`ValueError` / :class:`TypeError` that names the parameter, as are values outside the
  allowed range (``phi must be > 0, got -1``);
* free symbols (``"phi"``, ``sympy.Symbol("t")``) are accepted only when the caller asks for them
  (``symbols=True``, e.g. for printing a generic equation).

Why not round floats to their shortest decimal? Because ``float32(0.1)`` and ``0.1`` are different
numbers, and only the exact binary value is a faithful reading of what the caller passed
(the shortest decimal of a float32 is a guess about intent). The precision of a float never limits
the digits of a law: the law is computed exactly for the number passed.
"""

import decimal as _decimal
import fractions
import math
import numbers

import sympy

__all__ = ["exact_parameter", "exact_rational"]


def _binary_rational(value):
    """The exact value of a finite binary float (anything with ``as_integer_ratio``)."""
    num, den = value.as_integer_ratio()
    return sympy.Rational(int(num), int(den))


def _finite_float(value):
    """True for a finite Python or numpy float (numpy's own test: a long double may exceed the
    float range)."""
    if isinstance(value, float):
        return math.isfinite(value)
    import numpy as np

    return bool(np.isfinite(value))


def _from_mpf_tuple(mpf_tuple):
    """The exact value of an mpmath ``_mpf_`` tuple (sign, mantissa, exponent, bitcount)."""
    sign, man, exp, _ = mpf_tuple
    man = -int(man) if sign else int(man)
    exp = int(exp)
    return sympy.Integer(man) * sympy.Integer(2) ** exp if exp >= 0 else \
        sympy.Rational(man, 2 ** (-exp))


def _check_finite_mpf(mpf_tuple, name, value):
    # mpmath encodes 0 as (0, 0, 0, 0) and nan/inf with man = 0 and a special exponent
    sign, man, exp, bc = mpf_tuple
    if not man and (exp or bc or sign):
        raise ValueError(f"{name} must be finite, got {value}")


def exact_rational(value, name="value"):
    """The exact sympy Rational of a finite binary float or mpf (see :func:`exact_parameter`).

    >>> import numpy as np
    >>> exact_rational(np.float32(0.1))
    13421773/134217728
    """
    if hasattr(value, "_mpf_"):                       # sympy.Float and mpmath.mpf
        mpf_tuple = value._mpf_
        _check_finite_mpf(mpf_tuple, name, value)
        return _from_mpf_tuple(mpf_tuple)
    if not _finite_float(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return _binary_rational(value)


def _range_check(v, name, value, positive, nonnegative):
    """Refuse values outside (0, inf) or [0, inf) with the parameter's name."""
    if not (positive or nonnegative):
        return
    if v.free_symbols:
        return
    if v.is_extended_real is False or v.is_real is False:
        raise ValueError(f"{name} must be a real number, got {value}")
    if positive and not bool(v > 0):
        raise ValueError(f"{name} must be > 0, got {value}")
    if nonnegative and not bool(v >= 0):
        raise ValueError(f"{name} must be >= 0, got {value}")


def exact_parameter(value, name="value", *, positive=False, nonnegative=False, symbols=False):
    """A user-supplied number as an exact sympy number (module docstring: the rules).

    Parameters
    ----------
    value : int, float, numpy scalar, Fraction, Decimal, str, mpmath.mpf, sympy number
        The number. Strings are read as written (``"1/2"``, ``"0.1"``, ``"1e-3"``,
        ``"sqrt(2)"``); binary floats by their exact binary value.
    name : str
        The parameter's name, used in error messages (``phi must be > 0, got -1``).
    positive, nonnegative : bool
        Require ``value > 0`` / ``value >= 0``.
    symbols : bool
        Allow free symbols (``"phi"``, ``sympy.Symbol("t")``); otherwise they are refused.

    Returns
    -------
    sympy.Expr
        An exact sympy number (Integer, Rational or an exact expression such as ``sqrt(2)``);
        with ``symbols=True`` possibly an expression in symbols.

    Raises
    ------
    TypeError
        For booleans, None, complex numbers and objects that are not numbers.
    ValueError
        For nan, inf, non-real values, unparsable strings, values outside the range asked,
        or free symbols when ``symbols`` is False.

    Examples
    --------
    >>> import numpy as np, sympy
    >>> exact_parameter("1/2", "phi"), exact_parameter("0.1", "phi"), exact_parameter(np.float32(0.5))
    (1/2, 1/10, 1/2)
    >>> exact_parameter(sympy.Float(0.5)), exact_parameter(0.25), exact_parameter(2)
    (1/2, 1/4, 2)
    >>> exact_parameter(-1, "phi", positive=True)
    Traceback (most recent call last):
    ...
    ValueError: phi must be > 0, got -1
    """
    if value is None or isinstance(value, bool):
        raise TypeError(f"{name} must be a number, got {value!r}")
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy is a dependency
        np = None
    if np is not None and isinstance(value, np.bool_):
        raise TypeError(f"{name} must be a number, got {value!r}")
    if np is not None and isinstance(value, np.ndarray):
        if value.ndim != 0:
            raise TypeError(f"{name} must be a single number, got an array of shape {value.shape}")
        value = value[()]
    if isinstance(value, str):
        from nrmt.theory.activations import parse_expression

        text = value.strip()
        if not text:
            raise ValueError(f"{name} must be a number, got an empty string")
        try:
            v = parse_expression(text)
        except ValueError as exc:
            raise ValueError(f"{name} must be a number, got {value!r} ({exc})") from None
    elif isinstance(value, sympy.Basic):
        if not isinstance(value, sympy.Expr):
            raise TypeError(f"{name} must be a number, got {value!r}")
        v = value
    elif isinstance(value, (int,)) or (np is not None and isinstance(value, np.integer)):
        v = sympy.Integer(int(value))
    elif isinstance(value, fractions.Fraction):
        v = sympy.Rational(value.numerator, value.denominator)
    elif isinstance(value, _decimal.Decimal):
        if not value.is_finite():
            raise ValueError(f"{name} must be finite, got {value}")
        num, den = value.as_integer_ratio()
        v = sympy.Rational(num, den)
    elif isinstance(value, float) or (np is not None and isinstance(value, np.floating)):
        v = exact_rational(value, name)
    elif hasattr(value, "_mpf_"):                      # mpmath.mpf (exact binary)
        v = exact_rational(value, name)
    elif isinstance(value, numbers.Complex) or hasattr(value, "_mpc_"):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    else:
        raise TypeError(f"{name} must be a number, got {type(value).__name__}: {value!r}")
    v = _exact_floats(v, name, value)
    if v.free_symbols:
        if not symbols:
            names = ", ".join(sorted(str(s) for s in v.free_symbols))
            raise ValueError(f"{name} must be a number, got {value!r} (free symbols: {names})")
        return v
    if v.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
        raise ValueError(f"{name} must be finite, got {value}")
    if v.is_real is False:
        raise ValueError(f"{name} must be a real number, got {value}")
    _range_check(v, name, value, positive, nonnegative)
    return v


def _exact_floats(v, name, value):
    """Replace every sympy Float inside an expression by its exact binary value."""
    if isinstance(v, sympy.Float):
        return exact_rational(v, name)
    floats = v.atoms(sympy.Float)
    if not floats:
        return v
    return v.xreplace({f: exact_rational(f, name) for f in floats})
