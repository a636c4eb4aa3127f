"""Certified Gaussian constants: enclosures of μ, θ1, θ2 guaranteed to contain the true value.

Everything here is ball arithmetic (python-flint's ``arb``/``acb``, which wrap FLINT/Arb): each
number is a midpoint with a radius, and every operation returns a ball that contains the exact
result for every input in the input balls. A *certified* constant is such a ball for the exact
Gaussian expectation; its width is driven below ``10**-dps`` by the working precision.

The pipeline for an activation ``f`` given as a sympy expression in :data:`nrmt.theory.activations.X`
(the text forms of :class:`~nrmt.theory.activations.Activation` become sympy first):

1. **Pieces.** ``Max``, ``Min``, ``Abs``, ``sign``, ``Heaviside`` and ``Piecewise`` are resolved into
   one analytic *branch* per interval of the real line (:func:`analytic_pieces`). The interval
   endpoints are the exact real zeros of the *selectors* (pairwise differences of ``Max``/``Min``
   arguments, arguments of ``Abs``/``sign``/``Heaviside``, ``lhs - rhs`` of ``Piecewise``
   conditions), computed after the inner selectors are resolved, so that each selector is a
   polynomial on the piece. A selector polynomial has no zero inside the open piece, hence a
   constant sign there, read off rigorously at one rational sample point. Non-polynomial selectors
   (``max(tanh(x), x/2)``) are refused: their zeros could not be certified.
2. **Integrals.** On each piece the branch is evaluated as a holomorphic function (``acb``; ``log``,
   ``sqrt`` and fractional powers through their ``analytic=`` flag, so ``acb.integral`` can never
   cross a branch cut) and integrated against the Gaussian weight with ``acb.integral`` (Gauss–
   Legendre with rigorous error bounds from the analytic continuation on ellipses; Johansson,
   "Numerical integration in arbitrary-precision ball arithmetic", ICMS 2018).
3. **Tails.** The integral over ``|z| > L`` is bounded, not computed: see :func:`growth_bound` and
   :func:`tail_bound` (the bound is added to the radius of the result).
4. **Irrational kinks** (``sqrt(2)``) are balls, not points: the integration stops at the ends of
   the kink's ball and the gap contributes at most its width times the larger of the two branches
   there (both evaluated on the gap in ball arithmetic); this is added to the radius.

Exact closed forms (sympy) are *not* trusted as proofs: when :mod:`nrmt.theory.constants` finds one
it is evaluated in ball arithmetic (:func:`arb_value`) and must overlap the certified integral, else
an error is raised (a wrong closed form is a bug to report, never a number to return).

References
----------
F. Johansson, "Arb: efficient arbitrary-precision midpoint-radius interval arithmetic", IEEE Trans.
Computers 66 (2017) 1281-1292. F. Johansson, "Numerical integration in arbitrary-precision ball
arithmetic", ICMS 2018, LNCS 10931, 255-263.
"""

import functools
import math
from dataclasses import dataclass, field
from fractions import Fraction

import sympy
from flint import acb, arb, ctx, fmpq, fmpz
from sympy import Abs, Heaviside, Max, Min, Piecewise, S, sign

from nrmt.theory.activations import X, as_activation, to_sympy_number
from nrmt.theory.constants import ThetaNames
from nrmt.theory.errors import NoConvergence, NotIntegrableError, NrmtError

__all__ = [
    "NotCertifiableError",
    "CertifiedConstants",
    "certified_constants",
    "certified_gaussian_expectation",
    "gaussian_ball",
    "analytic_pieces",
    "arb_value",
    "mpf_to_arb",
    "holomorphic",
    "growth_bound",
    "tail_bound",
    "working_precision",
    "to_arb",
    "enclosure",
    "arb_to_fraction",
]


class NotCertifiableError(NrmtError, ValueError):
    """The quantity cannot be enclosed rigorously (callable activation, free parameter, a kink that
    cannot be located exactly, a point too close to a support edge, ...)."""


def working_precision(dps):
    """Bits of working precision for results with ``dps`` correct digits (guard bits included)."""
    if not isinstance(dps, int) or isinstance(dps, bool) or dps < 1:
        raise ValueError(f"dps must be an integer >= 1, got {dps!r}")
    return int(math.ceil(dps * math.log2(10))) + 40


# --------------------------------------------------------------------------- numbers

def to_arb(value, what="value"):
    """An exact-input number as an ``arb`` ball at the current precision.

    Accepts ``arb`` (returned as is), ints, floats (shortest decimal: ``0.1`` means 1/10, as in
    :func:`nrmt.theory.activations.to_sympy_number`), decimal strings, ``fmpq`` and exact sympy
    numbers (``sqrt(2)/pi``: evaluated in ball arithmetic).

    >>> from flint import ctx
    >>> with ctx.workprec(100):
    ...     to_arb("1/3").contains(fmpq(1, 3))
    True
    """
    if isinstance(value, arb):
        return value
    if isinstance(value, fmpq):
        return arb(value)
    if isinstance(value, acb):
        raise TypeError(f"{what} must be real, got the complex ball {value}")
    return arb_value(to_sympy_number(value, what))


def mpf_to_arb(x):
    """An mpf (or anything ``mpmath.mpf`` reads exactly) as an exact ``arb`` (radius 0): its
    mantissa and exponent, at a precision that holds the mantissa whatever the current one."""
    import mpmath

    sign, man, exp, bc = mpmath.mpf(x)._mpf_
    if not man:
        return arb(0)
    with ctx.workprec(max(ctx.prec, int(bc) + 8)):
        return arb(fmpz(-int(man) if sign else int(man))) * arb(2) ** int(exp)


def arb_to_fraction(x):
    """An exact ``arb`` (radius 0) as a :class:`fractions.Fraction`."""
    man, exp = x.mid().man_exp()
    man = int(man)
    exp = int(exp)
    return Fraction(man * 2 ** exp) if exp >= 0 else Fraction(man, 2 ** (-exp))


def _round_decimal(q, digits, up):
    """The Fraction ``q`` rounded to ``digits`` significant decimal digits, towards +inf if ``up``
    else towards -inf, as a decimal string."""
    if q == 0:
        return "0"
    neg = q < 0
    a = -q if neg else q
    e = len(str(a.numerator)) - len(str(a.denominator))  # 10**(e-1) <= a < 10**(e+1)
    if Fraction(10) ** e <= a:
        e += 1
    while Fraction(10) ** (e - 1) > a:
        e -= 1
    # now 10**(e-1) <= a < 10**e
    scale = Fraction(10) ** (digits - e)
    t = a * scale
    # direction for the magnitude: rounding q up means rounding |q| down when q < 0
    mag_up = up != neg
    n = -((-t.numerator) // t.denominator) if mag_up else t.numerator // t.denominator
    s = str(n)
    exp10 = e - digits  # value = n * 10**exp10
    point = len(s) + exp10  # digits before the decimal point
    if -5 < point <= digits + 1:
        if exp10 >= 0:
            body = s + "0" * exp10
        elif point > 0:
            body = s[:point] + "." + s[point:]
        else:
            body = "0." + "0" * (-point) + s
        if "." in body:
            body = body.rstrip("0").rstrip(".")
    else:
        mant = s[0] + ("." + s[1:] if len(s) > 1 else "")
        if "." in mant:
            mant = mant.rstrip("0").rstrip(".")
        body = f"{mant}e{point - 1:+d}"
    return ("-" + body) if neg else body


def enclosure(ball, dps):
    """``[lo, hi]`` decimal strings with ``dps`` significant digits, rounded outward.

    The lower end is rounded down and the upper end up, so ``[lo, hi]`` contains the ball (and
    hence the true value).

    >>> from flint import ctx
    >>> with ctx.workprec(200):
    ...     enclosure(arb(1) / 3, 10)
    ['0.3333333333', '0.3333333334']
    >>> enclosure(arb(-2), 5)
    ['-2', '-2']
    """
    if not isinstance(ball, arb):
        raise TypeError(f"expected an arb ball, got {type(ball).__name__}")
    if not ball.is_finite():
        raise NotCertifiableError(f"the enclosure is not finite: {ball}")
    with ctx.workprec(max(ball.bits(), 32) + 64):  # lower()/upper() round at the current precision
        lo = arb_to_fraction(ball.lower())
        hi = arb_to_fraction(ball.upper())
    return [_round_decimal(lo, dps, up=False), _round_decimal(hi, dps, up=True)]


# --------------------------------------------------------------------------- sympy -> flint

def _nan():
    return acb(arb.nan())


def _cut_on_imaginary_axis(z):
    """True if the ball z may touch the cuts (-i inf, -i] and [i, i inf) of atan/asinh-type functions."""
    return z.real.contains(0) and abs(z.imag).upper() >= 1


def _exact_acb(e):
    if e.is_Integer:
        v = fmpz(int(e))
        return lambda z, a: acb(v)
    if e.is_Rational:
        v = fmpq(int(e.p), int(e.q))
        return lambda z, a: acb(arb(v))
    if e.is_Float:
        sgn, man, exp_, _bc = e._mpf_
        m = fmpz((-1) ** sgn * int(man))
        ex = int(exp_)
        return lambda z, a: acb(arb(m) * arb(2) ** ex)
    return None


_ENTIRE = {
    sympy.exp: acb.exp,
    sympy.sin: acb.sin,
    sympy.cos: acb.cos,
    sympy.sinh: acb.sinh,
    sympy.cosh: acb.cosh,
    sympy.erf: acb.erf,
    sympy.erfc: acb.erfc,
}
# meromorphic: poles give non-finite balls automatically (acb.integral then refines or fails)
_MEROMORPHIC = {
    sympy.tan: acb.tan,
    sympy.tanh: acb.tanh,
    sympy.sech: acb.sech,
    sympy.cot: acb.cot,
    sympy.coth: acb.coth,
}


@functools.lru_cache(maxsize=512)
def holomorphic(expr):
    """Compile an analytic sympy expression in ``X`` into ``f(z, analytic) -> acb``.

    ``f`` follows the ``acb.integral`` contract: when ``analytic`` is true it returns a non-finite
    ball unless ``f`` is holomorphic on the ball ``z`` (branch cuts of ``log``, ``sqrt``, fractional
    powers, ``atan``, ``asinh`` are checked; poles give non-finite balls by themselves). Non-analytic
    heads (``Max``, ``Abs``, ``Piecewise``, ...) must be resolved first (:func:`analytic_pieces`).

    Raises
    ------
    NotCertifiableError
        For free parameters and functions without a ball implementation here.

    >>> from flint import ctx
    >>> f = holomorphic(sympy.log(1 + sympy.exp(X)))
    >>> with ctx.workprec(80):
    ...     f(acb(0), False).real.contains(arb(2).log())
    True
    """
    e = sympy.sympify(expr)
    if e == X:
        return lambda z, a: z
    c = _exact_acb(e)
    if c is not None:
        return c
    if e is S.Pi:
        return lambda z, a: acb(arb.pi())
    if e is S.Exp1:
        return lambda z, a: acb(arb.const_e())
    if e is S.EulerGamma:
        return lambda z, a: acb(arb.const_euler())
    if e is S.Catalan:
        return lambda z, a: acb(arb.const_catalan())
    if e.is_Symbol:
        raise NotCertifiableError(
            f"free parameter {e} in the activation: give it a value before certifying")
    if isinstance(e, (Max, Min, Abs, sign, Heaviside, Piecewise, sympy.DiracDelta)):
        raise NotCertifiableError(f"{type(e).__name__} is not analytic: resolve the pieces first")
    if e.is_Add or e.is_Mul:
        parts = [holomorphic(t) for t in e.args]
        if e.is_Add:
            def add(z, a):
                s = parts[0](z, a)
                for p in parts[1:]:
                    s = s + p(z, a)
                return s
            return add

        def mul(z, a):
            s = parts[0](z, a)
            for p in parts[1:]:
                s = s * p(z, a)
            return s
        return mul
    if e.is_Pow:
        base, ex = e.args
        if base is S.Exp1:
            g = holomorphic(ex)
            return lambda z, a: g(z, a).exp()
        b = holomorphic(base)
        if ex.is_Integer:
            n = int(ex)
            return lambda z, a: b(z, a) ** n
        if ex == S.Half:
            return lambda z, a: b(z, a).sqrt(analytic=a)
        if ex.is_Rational:
            r = acb(arb(fmpq(int(ex.p), int(ex.q))))
            return lambda z, a: b(z, a).pow(r, analytic=a)
        g = holomorphic(ex)
        return lambda z, a: (g(z, a) * b(z, a).log(analytic=a)).exp()
    if e.func in _ENTIRE or e.func in _MEROMORPHIC:
        (arg,) = e.args
        g = holomorphic(arg)
        fn = _ENTIRE.get(e.func) or _MEROMORPHIC[e.func]
        return lambda z, a: fn(g(z, a))
    if e.func is sympy.log:
        (arg,) = e.args
        g = holomorphic(arg)
        return lambda z, a: g(z, a).log(analytic=a)
    if e.func in (sympy.atan, sympy.asinh):
        (arg,) = e.args
        g = holomorphic(arg)
        fn = acb.atan if e.func is sympy.atan else acb.asinh

        def cut(z, a):
            w = g(z, a)
            if a and _cut_on_imaginary_axis(w):
                return _nan()
            return fn(w)
        return cut
    raise NotCertifiableError(f"no ball-arithmetic evaluation of {e.func.__name__} in {expr}")


def arb_value(expr):
    """A constant sympy expression (no ``X``) as an ``arb`` ball at the current precision.

    >>> from flint import ctx
    >>> with ctx.workprec(100):
    ...     b = arb_value(1 / sympy.sqrt(2 * sympy.pi))
    >>> with ctx.workprec(200):
    ...     b.contains(arb(1) / (2 * arb.pi()).sqrt())
    True
    """
    e = sympy.sympify(expr)
    if e.has(X):
        raise ValueError(f"expected a constant, got an expression in x: {e}")
    if e.free_symbols:
        raise NotCertifiableError(f"free parameters {sorted(map(str, e.free_symbols))} in {e}")
    v = holomorphic(e)(acb(0), False)
    if not v.imag.contains(0) or not v.is_finite():
        raise NotCertifiableError(f"{e} is not a finite real number in ball arithmetic: {v}")
    if v.imag.is_zero():
        return v.real
    # a real value computed through complex intermediates: the imaginary part is exactly zero
    # only if sympy says the number is real
    if e.is_real is True:
        return v.real
    raise NotCertifiableError(f"cannot certify that {e} is real: {v}")


# --------------------------------------------------------------------------- pieces

_SELECTORS = (Max, Min, Abs, sign, Heaviside, Piecewise)


class _Split(Exception):
    """Raised inside the resolver when a selector has zeros inside the current piece."""

    def __init__(self, points):
        super().__init__()
        self.points = points


def _sample_point(lo, hi):
    """A rational strictly inside (lo, hi) (exact sympy numbers or +-oo), away from both ends."""
    with ctx.workprec(256):
        if lo is S.NegativeInfinity and hi is S.Infinity:
            return S.Zero
        if lo is S.NegativeInfinity:
            h = arb_value(hi)
            return sympy.Rational(int(math.floor(float(h.lower()))) - 1)
        if hi is S.Infinity:
            lw = arb_value(lo)
            return sympy.Rational(int(math.ceil(float(lw.upper()))) + 1)
        lw, h = arb_value(lo), arb_value(hi)
        if not lw.upper() < h.lower():
            raise NotCertifiableError(f"kinks {lo} and {hi} too close to separate")
        m = arb_to_fraction((lw.upper() + h.lower()) / 2)
        return sympy.Rational(m.numerator, m.denominator)


def _sign_at(d, q):
    """The sign (+1/-1) of the constant-sign polynomial selector ``d`` at the rational ``q``."""
    v = d.subs(X, q) if d.has(X) else d
    for prec in (128, 512, 2048):
        with ctx.workprec(prec):
            b = arb_value(v)
        if b > 0:
            return 1
        if b < 0:
            return -1
    raise NotCertifiableError(f"cannot decide the sign of {d} at x = {q}")


def _real_zeros_inside(d, lo, hi):
    """Exact real zeros of the polynomial ``d`` in the open interval (lo, hi)."""
    d = sympy.expand(d)
    if not d.has(X):
        if d == 0:
            raise NotCertifiableError("a selector vanishes identically (e.g. max(x, x))")
        return []
    if not d.is_polynomial(X):
        raise NotCertifiableError(
            f"the kink points of the selector {d} = 0 cannot be certified "
            "(only polynomial selectors such as max(x, 0), abs(x - 1) are supported)")
    poly = sympy.Poly(d, X)
    if any(not c.is_real for c in poly.coeffs()):
        raise NotCertifiableError(f"selector {d} has non-real or symbolic coefficients")
    if poly.domain.is_QQ or poly.domain.is_ZZ:
        roots = sorted(set(poly.real_roots()), key=lambda r: float(r))
    else:
        sols = sympy.solveset(d, X, domain=S.Reals)
        if not isinstance(sols, sympy.FiniteSet):
            raise NotCertifiableError(f"cannot find the exact real zeros of {d}")
        roots = list(sols)
    inside = []
    for r in roots:
        if (lo is S.NegativeInfinity or sympy.Gt(r, lo) == S.true) and (
                hi is S.Infinity or sympy.Lt(r, hi) == S.true):
            inside.append(r)
    return inside


def _selector_sign(d, lo, hi, q):
    inside = _real_zeros_inside(d, lo, hi)
    if inside:
        raise _Split(inside)
    return _sign_at(d, q)


def _truth(cond, lo, hi, q):
    """Truth value of a Piecewise condition on the piece (constant there)."""
    if cond is S.true or cond is True:
        return True
    if cond is S.false or cond is False:
        return False
    if isinstance(cond, sympy.And):
        return all(_truth(c, lo, hi, q) for c in cond.args)
    if isinstance(cond, sympy.Or):
        return any(_truth(c, lo, hi, q) for c in cond.args)
    if isinstance(cond, sympy.Not):
        return not _truth(cond.args[0], lo, hi, q)
    if isinstance(cond, sympy.core.relational.Relational):
        d = _resolve(cond.lhs - cond.rhs, lo, hi, q)
        s = _selector_sign(d, lo, hi, q)
        op = cond.rel_op
        if op in (">", ">="):
            return s > 0
        if op in ("<", "<="):
            return s < 0
        if op == "==":
            return False
        if op == "!=":
            return True
    raise NotCertifiableError(f"unsupported Piecewise condition {cond}")


def _resolve(e, lo, hi, q):
    """The analytic branch of ``e`` on the open piece (lo, hi); q is a rational inside it."""
    if not e.has(X) or e.is_Atom:
        return e
    args = [_resolve(a, lo, hi, q) for a in e.args] if not isinstance(e, Piecewise) else None
    if isinstance(e, (Max, Min)):
        best = args[0]
        for other in args[1:]:
            s = _selector_sign(other - best, lo, hi, q)
            if (s > 0) == isinstance(e, Max):
                best = other
        return best
    if isinstance(e, Abs):
        return args[0] * _selector_sign(args[0], lo, hi, q)
    if isinstance(e, sign):
        return sympy.Integer(_selector_sign(args[0], lo, hi, q))
    if isinstance(e, Heaviside):
        return S.One if _selector_sign(args[0], lo, hi, q) > 0 else S.Zero
    if isinstance(e, Piecewise):
        for value, cond in e.args:
            if _truth(cond, lo, hi, q):
                return _resolve(value, lo, hi, q)
        raise NotCertifiableError(f"{e} is undefined on ({lo}, {hi})")
    if isinstance(e, sympy.DiracDelta):
        raise NotCertifiableError("DiracDelta has no pointwise value")
    return e.func(*args)


@functools.lru_cache(maxsize=256)
def analytic_pieces(expr):
    """Split the real line into open intervals on which ``expr`` is one analytic expression.

    Returns a tuple of ``(lo, hi, branch)`` with exact sympy endpoints (``-oo`` and ``oo`` at the
    ends) in increasing order and ``branch`` free of ``Max``/``Min``/``Abs``/``sign``/``Heaviside``/
    ``Piecewise``.

    >>> analytic_pieces(sympy.Max(X, 0))
    ((-oo, 0, 0), (0, oo, x))
    >>> [p[2] for p in analytic_pieces(sympy.Max(-1, sympy.Min(1, X)))]
    [-1, x, 1]
    """
    expr = sympy.sympify(expr)
    todo = [(S.NegativeInfinity, S.Infinity)]
    done = []
    guard = 0
    while todo:
        guard += 1
        if guard > 200:
            raise NotCertifiableError(f"too many pieces in {expr}")
        lo, hi = todo.pop()
        q = _sample_point(lo, hi)
        try:
            branch = _resolve(expr, lo, hi, q)
        except _Split as split:
            points = sorted(set(split.points), key=lambda r: float(r))
            ends = [lo] + points + [hi]
            todo.extend((ends[i], ends[i + 1]) for i in range(len(ends) - 1))
            continue
        done.append((lo, hi, branch))
    done.sort(key=lambda p: -math.inf if p[0] is S.NegativeInfinity else float(p[0]))
    return tuple(done)


# --------------------------------------------------------------------------- growth and tails

@dataclass(frozen=True)
class _Growth:
    """|g(x)| <= A (1+|x|)**P exp(B|x| + C x**2) for every real x (A, B, P >= 0; C any sign)."""

    A: arb
    B: arb
    P: arb
    C: arb


def _g(A, B=0, P=0, C=0):
    return _Growth(arb(A).upper(), arb(B).upper(), arb(P).upper(), arb(C).upper())


def _max(a, b):
    return a.max(b)


def _poly_inf(e, domain):
    """Exact infimum of the real polynomial ``e`` over the interval ``domain`` (None if -oo)."""
    lo, hi = domain
    poly = sympy.Poly(sympy.expand(e), X)
    if any(not c.is_real for c in poly.coeffs()):
        return None
    n, lead = poly.degree(), poly.LC()
    if n > 0:
        if hi is S.Infinity and lead < 0:
            return None
        if lo is S.NegativeInfinity and (lead * (-1) ** n) < 0:
            return None
    points = [p for p in (lo, hi) if p.is_finite]
    crit = _real_zeros_inside(sympy.diff(poly.as_expr(), X), lo, hi) if n > 1 else []
    values = [arb_value(poly.as_expr().subs(X, p)) for p in points + list(crit)]
    if not values:
        return arb_value(poly.as_expr())  # constant
    m = values[0]
    for v in values[1:]:
        m = m.min(v)
    return m.lower()


def _lower(e, domain=(S.NegativeInfinity, S.Infinity)):
    """A rigorous real lower bound of ``e(x)`` over x in ``domain``, or None."""
    if not e.has(X):
        try:
            return arb_value(e).lower()
        except NrmtError:
            return None
    if e.is_polynomial(X):
        return _poly_inf(e, domain)
    if e.func is sympy.exp:
        return arb(0) if e.args[0].is_real else None
    if e.func is sympy.cosh:
        return arb(1) if e.args[0].is_real else None
    if e.func is sympy.erfc:
        return arb(0) if e.args[0].is_real else None
    if e.is_Add:
        lows = [_lower(t, domain) for t in e.args]
        if any(v is None for v in lows):
            return None
        return sum(lows[1:], lows[0]).lower()
    if e.is_Mul:
        lows = [_lower(t, domain) for t in e.args]
        if any(v is None or v < 0 for v in lows):
            return None
        p = lows[0]
        for v in lows[1:]:
            p = p * v
        return p.lower()
    if e.is_Pow:
        base, ex = e.args
        if base is S.Exp1:
            return arb(0) if ex.is_real else None
        if ex.is_Integer and int(ex) > 0 and int(ex) % 2 == 0 and base.is_real:
            lb = _lower(base, domain)
            return (lb ** int(ex)).lower() if lb is not None and lb >= 0 else arb(0)
        if ex.is_Rational and ex > 0:
            lb = _lower(base, domain)
            if lb is not None and lb >= 0:
                return (lb ** arb(fmpq(int(ex.p), int(ex.q)))).lower() if lb > 0 else arb(0)
    return None


def _poly_upper(e):
    """(c0, c1, c2) with e(x) <= c0 + c1 |x| + c2 x**2 for real x, if e is a real polynomial of
    degree <= 2 (or of higher degree with non-positive even top terms dropped); else None."""
    if not e.is_polynomial(X):
        return None
    poly = sympy.Poly(sympy.expand(e), X)
    c = [arb(0), arb(0), arb(0)]
    for (k,), coeff in poly.terms():
        if not coeff.is_real:
            return None
        v = arb_value(coeff)
        if k == 0:
            c[0] += v
        elif k == 1:
            c[1] += abs(v)
        elif k == 2:
            c[2] += v
        elif k % 2 == 0 and v <= 0:
            continue  # non-positive even term: drop it (still an upper bound)
        else:
            return None
    return c[0].upper(), c[1].upper(), c[2].upper()


def _exp_growth(g, absolute, domain):
    """Growth of exp(g) (or of exp(|g|) when ``absolute``) from an upper bound of g."""
    pu = _poly_upper(g)
    if pu is not None and absolute:
        pn = _poly_upper(-g)
        if pn is None:
            pu = None
        else:
            pu = tuple(_max(a, b) for a, b in zip(pu, pn))
    if pu is not None:
        c0, c1, c2 = pu
        return _g(c0.exp(), _max(c1, arb(0)), 0, c2)
    gg = growth_bound(g, domain)
    if gg.B > 0 or gg.C > 0 or gg.P > 2:
        raise NotCertifiableError(f"cannot bound the growth of exp({g}) on the real line")
    if gg.P <= 1:
        return _g(gg.A.exp(), gg.A, 0, 0)
    return _g(gg.A.exp(), 2 * gg.A, 0, gg.A)


def growth_bound(e, domain=(S.NegativeInfinity, S.Infinity)):
    """A certified growth bound of an analytic real expression on an interval of the real line.

    Returns a bound ``|e(x)| <= A (1+|x|)**P exp(B|x| + C x**2)`` valid for **every** x in
    ``domain`` (default: the whole line; the tails use the outer pieces), built bottom-up from
    these rules (u, v real expressions with bounds (A_u, ...), (A_v, ...)):

    * constants: ``|c|``; ``x``: ``(1+|x|)``;
    * ``u + v``: ``(A_u + A_v, max B, max P, max C)``; ``u v``: products of A, sums of B, P, C;
      ``u**n``: ``(A^n, nB, nP, nC)``;
    * ``u**(-n)``, ``u**(-r)``: ``inf u**(-n)`` when a certified lower bound ``inf u > 0`` exists
      (:func:`_lower`: exact minimum of a polynomial on the domain, exp > 0, cosh >= 1, sums and
      products of those, even powers >= 0);
      ``u**r`` (r > 0 rational) needs ``inf u >= 0``;
    * ``tanh``, ``erf``, ``sin``, ``cos``, ``sech`` (of a real argument): 1; ``erfc``: 2; ``atan``:
      π/2; ``asinh u``: as ``u`` (``|asinh u| <= |u|``);
    * ``exp(u)``: when u is a polynomial of degree <= 2, ``u <= c0 + c1|x| + c2 x**2`` gives
      ``(e^c0, c1, 0, c2)`` (so ``exp(-x**2)`` decays); otherwise ``|u| <= A(1+|x|)**P`` with
      P <= 2 gives ``e^A e^(A|x|)`` (P <= 1) or ``e^A e^(2A|x| + A x**2)``; ``sinh u``, ``cosh u``:
      as ``exp(|u|)``;
    * ``log u`` with ``inf u = c > 0``: ``|log u| <= |log c| + log+ A + (P + B)|x| + C+ x**2``.

    Anything else raises :class:`NotCertifiableError`.
    """
    e = sympy.sympify(e)
    if not e.has(X):
        return _g(abs(arb_value(e)))
    if e == X:
        return _g(1, 0, 1, 0)
    if e.is_Add:
        gs = [growth_bound(t, domain) for t in e.args]
        A = sum((g.A for g in gs[1:]), gs[0].A)
        B, P, C = gs[0].B, gs[0].P, gs[0].C
        for g in gs[1:]:
            B, P, C = _max(B, g.B), _max(P, g.P), _max(C, g.C)
        return _g(A, B, P, C)
    if e.is_Mul:
        gs = [growth_bound(t, domain) for t in e.args]
        A, B, P, C = gs[0].A, gs[0].B, gs[0].P, gs[0].C
        for g in gs[1:]:
            A, B, P, C = A * g.A, B + g.B, P + g.P, C + g.C
        return _g(A, B, P, C)
    if e.is_Pow:
        base, ex = e.args
        if base is S.Exp1:
            return _exp_growth(ex, False, domain)
        if ex.is_Integer and int(ex) >= 0:
            n = int(ex)
            g = growth_bound(base, domain)
            return _g(g.A ** n, n * g.B, n * g.P, n * g.C)
        if ex.is_Rational:
            lb = _lower(base, domain)
            r = arb(fmpq(int(ex.p), int(ex.q)))
            if ex < 0:
                if lb is not None and lb > 0:
                    return _g(lb ** r)
                ub = _lower(-base, domain)  # -sup(base)
                if ex.is_Integer and ub is not None and ub > 0:
                    return _g(ub ** r)
                raise NotCertifiableError(
                    f"cannot certify that {base} stays away from 0 on the real line")
            if lb is None or lb < 0:
                raise NotCertifiableError(f"cannot certify that {base} >= 0 on the real line")
            g = growth_bound(base, domain)
            return _g(g.A ** r if g.A > 0 else arb(0), r * g.B, r * g.P, r * g.C)
        raise NotCertifiableError(f"cannot bound the growth of {e}")
    head = e.func
    if head in (sympy.tanh, sympy.erf, sympy.sin, sympy.cos, sympy.sech, sympy.erfc, sympy.atan):
        if e.args[0].is_real is not True:
            raise NotCertifiableError(f"cannot certify that the argument of {e} is real")
        bound = {sympy.erfc: arb(2), sympy.atan: arb.pi() / 2}.get(head, arb(1))
        return _g(bound)
    if head is sympy.asinh:
        return growth_bound(e.args[0], domain)
    if head is sympy.exp:
        return _exp_growth(e.args[0], False, domain)
    if head in (sympy.sinh, sympy.cosh):
        return _exp_growth(e.args[0], True, domain)
    if head is sympy.log:
        u = e.args[0]
        lb = _lower(u, domain)
        if lb is None or not lb > 0:
            raise NotCertifiableError(f"cannot certify that {u} > 0 stays away from 0")
        g = growth_bound(u, domain)
        logp = g.A.log() if g.A > 1 else arb(0)
        K = abs(lb.log()) + logp + g.P + g.B + _max(g.C, arb(0))
        return _g(K, 0, 2 if g.C > 0 else 1, 0)
    raise NotCertifiableError(f"cannot bound the growth of {e} on the real line")


def tail_bound(growth, sigma, L):
    """Certified bound of ``∫_{|z|>L} |g(σz)| φ(z) dz`` (φ the standard normal density).

    With ``|g(x)| <= A (1+|x|)**P exp(B|x| + C x**2)`` and ``1 + σ|z| <= exp(σ|z|)``,

    .. math::

        |g(σz)| φ(z) \\le \\frac{A}{\\sqrt{2π}} e^{β|z| - κ z^2},\\quad β = (P+B)σ,\\;
        κ = \\tfrac12 - Cσ^2 > 0,

    and, completing the square, each tail is at most

    .. math::

        \\frac{A}{\\sqrt{2π}} e^{β^2/(4κ)} \\frac12\\sqrt{π/κ}\\,
        \\operatorname{erfc}\\!\\big(\\sqrt{κ}\\,(L - β/(2κ))\\big).

    Both tails: twice that. Evaluated in ball arithmetic (upper end returned).

    Raises
    ------
    NotIntegrableError
        If ``κ <= 0`` cannot be excluded (Gaussian growth too fast for the weight).
    """
    kappa = arb(1) / 2 - growth.C * sigma * sigma
    if not kappa > 0:
        raise NotIntegrableError(
            f"the growth exp({growth.C} x^2) is not integrable against N(0, sigma^2) at sigma = {sigma}")
    kappa = kappa.lower()
    beta = (growth.P + growth.B) * sigma
    c = beta / (2 * kappa)
    one = growth.A / (2 * arb.pi()).sqrt() * (beta * beta / (4 * kappa)).exp() \
        * (arb.pi() / kappa).sqrt() / 2 * (kappa.sqrt() * (arb(L) - c)).erfc()
    return (2 * one).upper()


def _tail_length(growth, sigma, target_bits):
    """A truncation point L with tail_bound <= 2**-target_bits (found by doubling)."""
    kappa = float((arb(1) / 2 - growth.C * sigma * sigma).lower())
    if kappa <= 0:
        tail_bound(growth, sigma, 1)  # raises the clear error
    beta = float(((growth.P + growth.B) * sigma).upper())
    logA = math.log(max(float(growth.A.upper()), 1e-300))
    need = target_bits * math.log(2) + beta * beta / (4 * kappa) + max(logA, 0) + 5
    L = beta / (2 * kappa) + math.sqrt(need / kappa) + 1
    for _ in range(60):
        if tail_bound(growth, sigma, L) <= arb(2) ** (-target_bits):
            return L
        L *= 1.25
    raise NoConvergence("could not find a truncation point for the Gaussian tails")


# --------------------------------------------------------------------------- integrals

def _as_exact_sympy(value, what):
    v = to_sympy_number(value, what)
    if v.free_symbols:
        raise NotCertifiableError(f"{what} must be a number, got {v}")
    return v


def _gaussian_integral(pieces, make_integrand, sigma, prec):
    """∫ g(σz) φ(z) dz over R with ``g`` = make_integrand(branch) on each piece (a sympy expression
    in X, evaluated at x = σz); returns an arb ball (tails and kink gaps in the radius)."""
    sig = arb_value(sigma)
    eps_bits = prec
    # truncation point from the two outer branches
    L = 1.0
    for lo, hi, branch in (pieces[0], pieces[-1]):
        g = make_integrand(branch)
        L = max(L, _tail_length(growth_bound(g, (lo, hi)), sig, eps_bits + 4))
    for lo, _hi, _b in pieces[1:]:
        L = max(L, float(abs(arb_value(lo / sigma)).upper()) + 1)
    Lq = fmpq(int(math.ceil(L)))
    total = acb(0)
    err = arb(0)
    weight = sympy.exp(-X ** 2 / 2)
    tails = arb(0)
    for i, (lo, hi, branch) in enumerate(pieces):
        g = make_integrand(branch)
        integrand = holomorphic(g.subs(X, sigma * X) * weight)
        a = -arb(Lq) if lo is S.NegativeInfinity else arb_value(lo / sigma)
        b = arb(Lq) if hi is S.Infinity else arb_value(hi / sigma)
        a_end, b_end = a.upper(), b.lower()
        if lo is not S.NegativeInfinity and not a.is_exact():
            # gap [a.lower, a.upper]: at most its width times max of both neighbouring branches
            left = holomorphic(make_integrand(pieces[i - 1][2]).subs(X, sigma * X) * weight)
            here = integrand
            za = acb(a)
            m = abs(left(za, False)).upper().max(abs(here(za, False)).upper())
            err += (a.upper() - a.lower()) * m
        if not (a_end < b_end):
            raise NotCertifiableError(f"piece ({lo}, {hi}) too narrow to integrate")
        val = acb.integral(integrand, acb(a_end), acb(b_end), abs_tol=arb(2) ** (-eps_bits - 4),
                           rel_tol=arb(2) ** (-eps_bits))
        if not val.is_finite():
            raise NoConvergence(f"ball integration of {g} failed on ({lo}, {hi})")
        total += val
    # tails: the left one with the first branch, the right one with the last (tail_bound covers both
    # sides of one branch, hence the halves)
    for lo, hi, branch in (pieces[0], pieces[-1]):
        tails += tail_bound(growth_bound(make_integrand(branch), (lo, hi)), sig, arb(Lq)) / 2
    res = total.real / (2 * arb.pi()).sqrt()
    if not total.imag.contains(0):
        raise NrmtError(f"the integrand is not real: imaginary part {total.imag}")
    return res + arb(0, (err / (2 * arb.pi()).sqrt() + tails).upper())


def certified_gaussian_expectation(g, sigma=1, dps=15):
    """Enclosure of E g(σZ), Z ~ N(0, 1), for a symbolic function g of x.

    Parameters
    ----------
    g : str, sympy expression or Activation
        A function of ``x`` (text is parsed by :class:`~nrmt.theory.activations.Activation`).
    sigma : number
        σ > 0 (floats mean their shortest decimal, 0.8 = 4/5).
    dps : int
        Decimal digits: the ball's width is about ``10**-(dps + 10)`` or less.

    Returns
    -------
    flint.arb
        A ball guaranteed to contain E g(σZ).

    Examples
    --------
    >>> b = certified_gaussian_expectation("max(x, 0)", dps=30)
    >>> from flint import ctx
    >>> with ctx.workprec(200):
    ...     b.contains(1 / (2 * arb.pi()).sqrt())
    True
    """
    expr = _symbolic(g)
    sig = _check_sigma(sigma)
    prec = working_precision(dps)
    return gaussian_ball(expr, sig, prec=prec)


@functools.lru_cache(maxsize=256)
def _pieces_of(expr):
    return analytic_pieces(expr)


def gaussian_ball(expr, sigma, shift=S.Zero, weight=S.One, prec=None, dps=15):
    """Ball enclosure of E[w(Z) g(σZ + s)], Z ~ N(0, 1): the one integration code behind both the
    certified constants and the plain high-precision path of :mod:`nrmt.theory.gaussian`.

    Parameters
    ----------
    expr : sympy expression in X
        g, without free parameters (``Max``/``Abs``/... are split into analytic pieces).
    sigma, shift : exact sympy numbers
        σ > 0 and s (a shift moves the kinks: the pieces are those of g(x + s)).
    weight : sympy polynomial in X
        w(x/σ) written in X (so that on the piece it is evaluated at x = σz, giving w(z)).
    prec : int, optional
        Working precision in bits (default :func:`working_precision` of ``dps``).

    Returns
    -------
    flint.arb
        Contains the expectation (tails and gaps at irrational kinks in the radius; Johansson,
        ICMS 2018, for ``acb.integral``'s error bounds).

    Raises
    ------
    NotCertifiableError, NotIntegrableError, NoConvergence
        As :func:`certified_gaussian_expectation`.
    """
    prec = working_precision(dps) if prec is None else prec
    g = expr if shift == 0 else expr.subs(X, X + shift)
    with ctx.workprec(prec):
        pieces = _pieces_of(g)
        if weight == 1:
            return _gaussian_integral(pieces, lambda h: h, sigma, prec)
        return _gaussian_integral(pieces, lambda h: h * weight, sigma, prec)


def _symbolic(spec):
    if callable(spec) and not isinstance(spec, sympy.Basic) and not hasattr(spec, "expr"):
        raise NotCertifiableError(
            "a Python callable cannot be certified: give the activation as text or a sympy expression")
    act = as_activation(spec)
    if act.expr is None:
        raise NotCertifiableError(
            "a Python callable cannot be certified: give the activation as text or a sympy expression")
    if act.parameters:
        raise NotCertifiableError(
            f"free parameters {[str(p) for p in act.parameters]}: give them values before certifying")
    return act.expr


def _check_sigma(sigma):
    s = _as_exact_sympy(sigma, "sigma")
    if not (s.is_real and s > 0):
        raise ValueError(f"sigma must be > 0, got {sigma}")
    return s


# --------------------------------------------------------------------------- constants

@dataclass(frozen=True)
class CertifiedConstants(ThetaNames):
    """Certified Gaussian constants of an activation (every field an ``arb`` ball).

    ``mean`` = E f(σZ); ``second_moment`` = E f(σZ)²; ``theta1`` = E f(σZ)² − μ²; ``stein`` =
    E[Z f(σZ)]; ``theta2`` = stein² (Stein's lemma form, valid for kinks and jumps);
    ``derivative_second_moment`` = E f′(σZ)² (None when f has jumps: then it is infinite);
    ``method`` says how each was obtained and checked; ``exact`` holds the constants known
    exactly by an argument of this module (polynomial activations: exact Gaussian moments; even
    activations: ``stein = theta2 = 0``), as sympy numbers: :func:`certified_density` uses them to
    detect the degenerate degrees (θ2 = 0, θ1 = θ2) of the quartic.
    """

    activation: object
    sigma: object
    dps: int
    mean: arb
    second_moment: arb
    theta1: arb
    theta2: arb
    stein: arb
    derivative_second_moment: object
    method: dict = field(default_factory=dict)
    exact: dict = field(default_factory=dict)

    def enclosures(self, dps=None):
        """``{"mean": [lo, hi], "theta1": [lo, hi], "theta2": [lo, hi]}`` as outward-rounded
        decimal strings (the JSON ``enclosures`` object of ``nrmt constants --certified``)."""
        d = self.dps if dps is None else dps
        return {k: enclosure(getattr(self, k), d) for k in ("mean", "theta1", "theta2")}


def _continuous(pieces):
    for (_lo, k, left), (_k2, _hi, right) in zip(pieces, pieces[1:]):
        diff = sympy.simplify(left.subs(X, k) - right.subs(X, k))
        if diff != 0:
            return False
    return True


def certified_constants(activation, sigma=1, dps=15, check_exact=True):
    """Enclosures of μ, θ1, θ2 (and E f², E[Z f], E f′²) of an activation.

    Parameters
    ----------
    activation : str, sympy expression or Activation
        Symbolic, without free parameters (callables cannot be certified).
    sigma : number
        σ = σ_w σ_x > 0.
    dps : int
        Target digits; every ball has width about ``10**-(dps+10)`` (at most ``10**-(dps-5)``).
    check_exact : bool
        When :func:`nrmt.theory.constants.constants` finds closed forms, evaluate them in ball
        arithmetic and require them to overlap the certified integrals.

    Returns
    -------
    CertifiedConstants

    Raises
    ------
    NotCertifiableError
        Callables, free parameters, kinks at zeros of non-polynomial selectors, growth that cannot
        be bounded (see :func:`growth_bound`).
    NotIntegrableError
        If the Gaussian moments do not exist (``exp(x**2)`` at σ = 1).
    NrmtError
        If a sympy closed form disagrees with the certified integral.

    Notes
    -----
    Definitions as in Pennington & Worah (NIPS 2017, Sec. 3: η, ζ) and Benigni & Péché (θ1, θ2):
    θ1 = E f(σZ)² − (E f(σZ))², θ2 = (E[Z f(σZ)])² = (σ E f′(σZ))² by Stein's lemma. Each
    expectation is :func:`certified_gaussian_expectation`'s ball; θ1 and θ2 are then ball
    arithmetic on those balls.

    Examples
    --------
    >>> c = certified_constants("max(x, 0)", dps=20, check_exact=False)
    >>> from flint import ctx
    >>> with ctx.workprec(200):
    ...     c.theta2.contains(arb(1) / 4), c.theta1.contains(arb(1) / 2 - 1 / (2 * arb.pi()))
    (True, True)
    """
    if not isinstance(dps, int) or isinstance(dps, bool) or dps < 1:
        raise ValueError(f"dps must be an integer >= 1, got {dps!r}")
    act = as_activation(activation) if not isinstance(activation, sympy.Basic) else activation
    expr = _symbolic(act)
    sig = _check_sigma(sigma)
    prec = working_precision(dps)
    method = {}
    with ctx.workprec(prec):
        pieces = analytic_pieces(expr)
        mean = _gaussian_integral(pieces, lambda h: h, sig, prec)
        m2 = _gaussian_integral(pieces, lambda h: h ** 2, sig, prec)
        stein = _gaussian_integral(pieces, lambda h: h * X / sig, sig, prec)
        theta1 = m2 - mean * mean
        theta2 = stein * stein
        exact = _exact_moments(expr, sig)
        if exact:
            # polynomial activation: E Z^(2k) = (2k-1)!!, every constant an exact rational in σ
            mean, m2, stein = (arb_value(exact[k]) for k in ("mean", "second_moment", "stein"))
            for k in ("mean", "theta1", "theta2"):
                method[k] = "exact Gaussian moments of a polynomial"
        else:
            for k in ("mean", "theta1", "theta2"):
                method[k] = "ball integral"
            if sympy.simplify(expr.subs(X, -X) + expr) == 0:
                # f odd => E f(σZ) = 0 exactly
                exact["mean"] = S.Zero
                mean = arb(0)
                method["mean"] = "exact zero (f is odd)"
            else:
                mean = _gaussian_integral(pieces, lambda h: h, sig, prec)
            m2 = _gaussian_integral(pieces, lambda h: h ** 2, sig, prec)
            if sympy.simplify(expr.subs(X, -X) - expr) == 0:
                # f even => Z f(σZ) odd => E[Z f(σZ)] = 0 exactly (and θ2 = 0: Marchenko-Pastur)
                exact["stein"] = exact["theta2"] = S.Zero
                stein = arb(0)
                method["theta2"] = "exact zero (f is even)"
            else:
                stein = _gaussian_integral(pieces, lambda h: h * X / sig, sig, prec)
        theta1 = m2 - mean * mean
        theta2 = stein * stein
        dsm = None
        if _continuous(pieces):
            try:
                dsm = _gaussian_integral(pieces, lambda h: sympy.diff(h, X) ** 2, sig, prec)
            except (NotCertifiableError, NotIntegrableError, NoConvergence) as exc:
                method["derivative_second_moment"] = f"not certified: {exc}"
        else:
            method["derivative_second_moment"] = "infinite: f has jumps"
        limit = arb(10) ** (5 - dps)
        for key, ball in (("mean", mean), ("theta1", theta1), ("theta2", theta2)):
            if not 2 * ball.rad() <= limit:
                raise NoConvergence(
                    f"the enclosure of {key} is wider than 1e{5 - dps} ({ball}): the ball "
                    "integration stopped early (a singular integrand?)")
        if check_exact:
            _check_against_exact(act, sig, dps, {"mean": mean, "theta1": theta1, "theta2": theta2},
                                 method)
    return CertifiedConstants(activation=act, sigma=sig, dps=dps, mean=mean, second_moment=m2,
                              theta1=theta1, theta2=theta2, stein=stein,
                              derivative_second_moment=dsm, method=method, exact=exact)


def _exact_moments(expr, sigma):
    """Exact constants of a polynomial activation (empty dict otherwise).

    With f(σz) = Σ_k c_k z^k and E Z^k = (k-1)!! for even k, 0 for odd k, every constant is a
    finite sum of exact numbers: no integral, no closed form to trust.
    """
    if not (expr.is_polynomial(X) and expr.has(X)):
        return {}
    poly = sympy.Poly(sympy.expand(expr.subs(X, sigma * X)), X)
    if any(c.free_symbols for c in poly.coeffs()):
        return {}

    def moment(k):
        return S.Zero if k % 2 else sympy.factorial2(k - 1) if k else S.One

    def expect(p):
        return sympy.expand(sum((c * moment(k) for (k,), c in p.terms()), S.Zero))

    mean = expect(poly)
    m2 = expect(poly ** 2)
    stein = expect(poly * sympy.Poly(X, X))
    return {"mean": mean, "second_moment": m2, "stein": stein,
            "theta1": sympy.expand(m2 - mean ** 2), "theta2": sympy.expand(stein ** 2)}


def _check_against_exact(act, sig, dps, balls, method):
    """Closed forms of nrmt.theory.constants, evaluated in balls, must overlap the integrals."""
    from nrmt.theory.constants import constants

    try:
        exact = constants(act, sigma=sig, dps=15, exact=True).exact or {}
    except NrmtError as exc:  # the check is optional: the certified balls stand on their own
        for key in balls:
            method[key] += f" (closed forms unavailable: {exc})"
        return
    for key, ball in balls.items():
        form = exact.get(key)
        if form is not None and sympy.sympify(form).free_symbols:
            continue
        if form is None:
            continue
        try:
            value = arb_value(sympy.sympify(form))
        except NotCertifiableError:
            continue
        if not value.overlaps(ball):
            raise NrmtError(
                f"the closed form {key} = {form} ({value}) disagrees with the certified "
                f"integral {ball}: a bug in the symbolic integration")
        method[key] += ", closed form agrees"
