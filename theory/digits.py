r"""High-precision results that print with the digits they carry.

An ``mpmath.mpf`` computed at 50 digits keeps its 50 digits, but prints with the *global* precision
(``mpmath.mp.dps``, 15 by default): a notebook shows ``mpf('0.33333333333333331')`` for a 50-digit
1/3. nrmt returns its mpmath-level results as :class:`Mpf`, an ``mpf`` that remembers how many
digits are correct and prints that many (``repr``, ``str``, notebooks). It *is* an ``mpf``:
arithmetic, comparisons, ``mpmath.nstr``, ``float`` and sympy conversion work unchanged, and the
result of arithmetic is a plain ``mpf`` at the working precision (the digits of a result of your
own computation are yours to state). To print fewer digits use ``mpmath.nstr(x, n)``.

>>> import mpmath
>>> with mpmath.workdps(50):
...     x = with_digits(mpmath.mpf(1) / 3, 50)
>>> x
mpf('0.33333333333333333333333333333333333333333333333333')
>>> print(with_digits(mpmath.sqrt(2), 10))
1.414213562
>>> isinstance(x, mpmath.mpf), mpmath.nstr(x, 5)
(True, '0.33333')
"""

import mpmath
from mpmath import libmp

__all__ = ["Mpf", "with_digits", "returns_digits"]


class Mpf(mpmath.mpf):
    """An ``mpmath.mpf`` that prints with its own number of correct digits (module docstring).

    ``Mpf(value, digits)``: an mpf ``value`` is kept bit for bit (guard bits included), another
    number is converted at the current precision; ``digits`` significant digits are printed.

    Attributes
    ----------
    digits : int
        Significant digits printed by ``repr`` and ``str``.
    """

    __slots__ = ("digits",)

    def __new__(cls, value, digits=15):
        bits = value._mpf_ if isinstance(value, mpmath.mpf) else mpmath.mpf(value)._mpf_
        self = mpmath.mpf.__new__(cls)
        self._mpf_ = bits
        self.digits = int(digits)
        return self

    def __reduce__(self):
        return (_rebuild, (self._mpf_, self.digits))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __repr__(self):
        return f"mpf('{libmp.to_str(self._mpf_, self.digits)}')"

    def __str__(self):
        return libmp.to_str(self._mpf_, self.digits)


def _rebuild(mpf_tuple, digits):
    value = mpmath.mpf.__new__(mpmath.mpf)
    value._mpf_ = mpf_tuple
    return Mpf(value, digits)


def with_digits(value, digits):
    """``value`` (an mpf) as an :class:`Mpf` printing ``digits`` significant digits; other
    objects (None, floats, lists) are returned unchanged.

    >>> with_digits(None, 5) is None
    True
    """
    if isinstance(value, mpmath.mpf):
        return Mpf(value, digits)
    return value


def _convert(value, digits):
    import dataclasses

    if isinstance(value, mpmath.mpf):
        return Mpf(value, digits)
    if isinstance(value, list):
        return [_convert(v, digits) for v in value]
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(_convert(v, digits) for v in value)
    if isinstance(value, dict):
        return {k: _convert(v, digits) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: Mpf(getattr(value, f.name), digits) for f in dataclasses.fields(value)
                   if isinstance(getattr(value, f.name), mpmath.mpf)}
        return dataclasses.replace(value, **changes) if changes else value
    return value


def returns_digits(function):
    """Decorator: the mpf results of ``function(..., dps=...)`` (also inside lists, tuples,
    dicts and dataclasses) come back as :class:`Mpf` printing ``dps`` digits.

    >>> @returns_digits
    ... def third(dps=15):
    ...     with mpmath.workdps(dps + 5):
    ...         return mpmath.mpf(1) / 3
    >>> third(dps=25)
    mpf('0.3333333333333333333333333')
    """
    import functools
    import inspect

    signature = inspect.signature(function)

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        result = function(*args, **kwargs)
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        dps = bound.arguments.get("dps")
        return _convert(result, dps) if isinstance(dps, int) else result

    return wrapper
