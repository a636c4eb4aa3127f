"""Entry laws for the Monte Carlo samplers: iid entries of mean 0 and variance 1.

The universality results for the nonlinear random matrix models are stated for entry laws with
mean 0, a fixed variance and some tail condition: Benigni & Péché (2021) assume sub-Gaussian
entries, Pastur & Slavin (2020) a finite fourth moment. The laws here let a user test those
statements: every law is rescaled to variance 1 (the samplers multiply by the standard deviation
they need), and each reports its fourth moment :math:`\\mathbb E\\,\\xi^4`.

=====================  ===============================================  ======================
spec                   law of one entry                                 fourth moment
=====================  ===============================================  ======================
``gaussian``           N(0, 1)                                          3
``rademacher``         ±1 with probability 1/2 each                     1
``uniform``            uniform on [−√3, √3]                             9/5
``student-t:NU``       t_ν · √((ν−2)/ν), ν > 4 (finite fourth moment)   3(ν−2)/(ν−4)
``bernoulli:P``        ±1/√P with probability P/2 each, 0 otherwise     1/P
=====================  ===============================================  ======================

References
----------
L. Benigni, S. Péché, "Eigenvalue distribution of some nonlinear models of random matrices",
Electron. J. Probab. 26 (2021) — sub-Gaussian entries.
L. Pastur, V. Slavin, "On random matrices arising in deep neural networks: general i.i.d. case",
arXiv:2011.11439 — finite fourth moment.

Examples
--------
>>> import numpy as np
>>> law = entry_law("bernoulli:0.25")
>>> law.name, law.fourth_moment
('bernoulli:0.25', 4.0)
>>> x = law.draw(np.random.default_rng(0), (400, 500))
>>> np.unique(x).tolist()
[-2.0, 0.0, 2.0]
>>> bool(abs(x.var() - 1) < 0.02)
True
"""

import math

import numpy as np

__all__ = ["EntryLaw", "entry_law", "ENTRY_LAWS"]

#: The spec names :func:`entry_law` accepts (``student-t`` and ``bernoulli`` take a parameter).
ENTRY_LAWS = ("gaussian", "rademacher", "uniform", "student-t:NU", "bernoulli:P")


class EntryLaw:
    """An iid entry law of mean 0 and variance 1.

    Use :func:`entry_law` to build one from its text spec.

    Attributes
    ----------
    name : str
        Canonical spec, e.g. ``"student-t:6"``; ``entry_law(law.name)`` rebuilds the law.
    fourth_moment : float
        :math:`\\mathbb E\\,\\xi^4` (3 for the Gaussian).
    """

    __slots__ = ("name", "fourth_moment", "_kind", "_param")

    def __init__(self, kind, param=None):
        self._kind = kind
        self._param = param
        if kind == "gaussian":
            self.name, self.fourth_moment = "gaussian", 3.0
        elif kind == "rademacher":
            self.name, self.fourth_moment = "rademacher", 1.0
        elif kind == "uniform":
            self.name, self.fourth_moment = "uniform", 9.0 / 5.0
        elif kind == "student-t":
            self.name = f"student-t:{_fmt(param)}"
            self.fourth_moment = 3.0 * (param - 2.0) / (param - 4.0)
        elif kind == "bernoulli":
            self.name = f"bernoulli:{_fmt(param)}"
            self.fourth_moment = 1.0 / param
        else:  # pragma: no cover - entry_law validates
            raise ValueError(f"unknown entry law {kind!r}")

    def __repr__(self):
        return f"entry_law({self.name!r})"

    def __eq__(self, other):
        return isinstance(other, EntryLaw) and other.name == self.name

    def __hash__(self):
        return hash(self.name)

    def draw(self, rng, shape, dtype=np.float64, *, scale=1.0, out=None):
        """Draw iid entries of mean 0 and variance ``scale**2``.

        Parameters
        ----------
        rng : numpy.random.Generator or int or None
            Source of randomness (an int seeds a new ``default_rng``).
        shape : int or tuple of int
            Shape of the array (ignored when ``out`` is given).
        dtype : numpy float dtype, optional
            float64 (default) or float32.
        scale : float, optional
            Standard deviation of the entries (applied in place).
        out : ndarray, optional
            C-contiguous float array to fill in place (no other array of that size is allocated
            for the Gaussian, Rademacher and uniform laws).

        Returns
        -------
        ndarray
        """
        rng = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
        dtype = np.dtype(dtype)
        if dtype not in (np.dtype(np.float64), np.dtype(np.float32)):
            raise TypeError(f"dtype must be float64 or float32, got {dtype}")
        if out is None:
            out = np.empty(shape, dtype=dtype)
        elif out.dtype not in (np.dtype(np.float64), np.dtype(np.float32)) or not out.flags.c_contiguous:
            raise TypeError("out must be a C-contiguous float64 or float32 array")
        self._fill(rng, out)
        if scale != 1.0:
            out *= scale
        return out

    def _fill(self, rng, out):
        kind = self._kind
        if kind == "gaussian":
            rng.standard_normal(dtype=out.dtype, out=out)
        elif kind == "rademacher":
            rng.random(dtype=out.dtype, out=out)
            out -= 0.5
            np.sign(out, out=out)  # P(u == 0.5 exactly) ~ 2^-53: negligible, but make it +1
            out[out == 0] = 1.0
        elif kind == "uniform":
            rng.random(dtype=out.dtype, out=out)
            out -= 0.5
            out *= 2.0 * math.sqrt(3.0)
        elif kind == "student-t":
            nu = self._param
            rng.standard_normal(dtype=out.dtype, out=out)
            # t_nu = Z / sqrt(G/nu) with G ~ chi2_nu = 2 Gamma(nu/2); rescaled by sqrt((nu-2)/nu).
            flat = out.reshape(-1)
            step = 1 << 20
            for start in range(0, flat.size, step):
                chunk = flat[start:start + step]
                g = rng.standard_gamma(nu / 2.0, size=chunk.size)
                g *= 2.0 / (nu - 2.0)
                np.sqrt(g, out=g)
                chunk /= g
        elif kind == "bernoulli":
            p = self._param
            rng.random(dtype=out.dtype, out=out)
            flat = out.reshape(-1)
            step = 1 << 20
            amp = 1.0 / math.sqrt(p)
            for start in range(0, flat.size, step):
                u = flat[start:start + step]
                plus = u < p / 2
                minus = (u >= p / 2) & (u < p)
                u[...] = 0.0
                u[plus] = amp
                u[minus] = -amp


def _fmt(value):
    """Short decimal text of a parameter: 6.0 -> '6', 0.25 -> '0.25'."""
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:g}"


def _parameter(spec, name, text):
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"entry law {spec!r}: {name} must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"entry law {spec!r}: {name} must be finite, got {text!r}")
    return value


def entry_law(spec):
    """Parse an entry-law spec into an :class:`EntryLaw` (mean 0, variance 1).

    Parameters
    ----------
    spec : str or EntryLaw
        ``"gaussian"``, ``"rademacher"``, ``"uniform"``, ``"student-t:NU"`` (ν > 4, so that the
        fourth moment is finite) or ``"bernoulli:P"`` (0 < P ≤ 1: sparse entries ±1/√P with
        probability P/2 each, 0 otherwise; P = 1 is Rademacher). Case and surrounding spaces are
        ignored; ``normal`` is accepted for ``gaussian``, ``t:NU`` for ``student-t:NU``.

    Returns
    -------
    EntryLaw

    Raises
    ------
    ValueError
        Unknown name, a missing or malformed parameter, ν ≤ 4 or P outside (0, 1].
    TypeError
        ``spec`` is neither a string nor an EntryLaw.

    Examples
    --------
    >>> entry_law("student-t:6").fourth_moment
    6.0
    >>> entry_law("student-t:3")
    Traceback (most recent call last):
    ...
    ValueError: entry law 'student-t:3': nu must be > 4 (finite fourth moment), got 3.0
    """
    if isinstance(spec, EntryLaw):
        return spec
    if not isinstance(spec, str):
        raise TypeError(f"entry law must be a string such as 'gaussian', got {type(spec).__name__}")
    text = spec.strip().lower()
    name, sep, arg = text.partition(":")
    name = name.strip()
    arg = arg.strip()
    if name in ("gaussian", "normal", "rademacher", "uniform"):
        if sep:
            raise ValueError(f"entry law {spec!r}: {name} takes no parameter")
        return EntryLaw("gaussian" if name == "normal" else name)
    if name in ("student-t", "student_t", "studentt", "t"):
        if not arg:
            raise ValueError(f"entry law {spec!r}: expected 'student-t:NU' with NU > 4")
        nu = _parameter(spec, "nu", arg)
        if not nu > 4:
            raise ValueError(
                f"entry law {spec!r}: nu must be > 4 (finite fourth moment), got {nu}")
        return EntryLaw("student-t", nu)
    if name in ("bernoulli", "sparse"):
        if not arg:
            raise ValueError(f"entry law {spec!r}: expected 'bernoulli:P' with 0 < P <= 1")
        p = _parameter(spec, "P", arg)
        if not 0 < p <= 1:
            raise ValueError(f"entry law {spec!r}: P must be in (0, 1], got {p}")
        return EntryLaw("bernoulli", p)
    raise ValueError(
        f"unknown entry law {spec!r}; expected one of gaussian, rademacher, uniform, "
        "student-t:NU (NU > 4), bernoulli:P (0 < P <= 1)")
