"""Gaussian expectations E g(σZ + shift), Z ~ N(0, 1): exact when possible, else to ``dps`` digits.

Two paths, and the result says which one produced it:

``"exact"``
    A closed form from an algebraic engine (no call of ``sympy.integrate`` on arbitrary input).
    The activation is cut at its kinks into smooth pieces (``Max``/``Min``/``Abs``/``sign``/
    ``Heaviside``/``Piecewise`` replaced by the branch valid on each interval); each piece, expanded
    in z, must be a sum of terms ``c z^n exp(αz² + βz) erf(a z + b)^k`` (k ≤ 2). Completing the square
    turns ``exp(αz² + βz) φ(z)`` into a shifted, rescaled Gaussian; then

    * ``∫_lo^hi w^n φ(w) dw`` follows from ``I_n = (n−1) I_{n−2} + lo^{n−1}φ(lo) − hi^{n−1}φ(hi)``;
    * on the whole line, Stein's lemma ``E[W^n F(W)] = (n−1) E[W^{n−2}F] + E[W^{n−1}F'(W)]`` lowers
      the power of W and (through ``erf' = 2/√π e^{−u²}``) the number of erf factors, ending in
      ``E erf(aW + b) = erf(b/√(1+2a²))`` and
      ``E erf(aW) erf(cW) = (2/π) arcsin(2ac/√((1+2a²)(1+2c²)))``.

    Symbolic σ (:data:`SIGMA`, positive) and free parameters stay symbolic.
``"quadrature"``
    ``mpmath.quad`` (tanh-sinh) at ``dps`` + guard digits over ``(−∞, k1, …, kn, ∞)`` split at the
    kinks (in units of σ) and at 0, checked by a second evaluation at 8 more digits over a finer
    split (other nodes everywhere). Disagreement beyond ``10^−dps`` (relative) raises
    :class:`~nrmt.theory.errors.NoConvergence`; an integrand that grows at large |z| or has a
    non-integrable pole raises :class:`~nrmt.theory.errors.NotIntegrableError` before any
    integration.

References
----------
.. [Stein] C. Stein, "Estimation of the mean of a multivariate normal distribution",
   Ann. Statist. 9 (1981), Lemma 1: E[Z g(Z)] = E[g'(Z)].
.. [Erf] E. W. Ng and M. Geller, "A table of integrals of the error functions",
   J. Res. NBS 73B (1969), section 4.3 (Gaussian integrals of erf and erf²).
"""

import contextlib
import functools
import math
import signal
import threading
import warnings
from dataclasses import dataclass

import mpmath
import sympy
from sympy import Abs, DiracDelta, Heaviside, Max, Min, Piecewise, S, Symbol, erf, exp, sign, sqrt

from nrmt.theory.activations import X, Activation, as_activation, branch_at, to_sympy_number
from nrmt.theory.errors import NoConvergence, NotIntegrableError, NrmtError

__all__ = [
    "Z",
    "SIGMA",
    "Expectation",
    "gaussian_expectation",
    "gaussian_expectation_float",
    "hermite_coefficients",
    "parity",
    "GUARD",
]

#: Integration variable of the standard Gaussian.
Z = Symbol("z", real=True)
#: The symbolic scale σ > 0 (pass ``sigma=SIGMA`` for closed forms in σ).
SIGMA = Symbol("sigma", positive=True)
#: Guard digits used inside every high-precision computation.
GUARD = 12
#: Seconds allowed for the symbolic simplification of one result.
SIMPLIFY_SECONDS = 2.0
#: Expressions larger than this (sympy.count_ops) are not simplified.
SIMPLIFY_MAX_OPS = 300
MAX_DPS = 2000
#: Seconds allowed for the exact engine on one integrand (main thread only).
EXACT_SECONDS = 10.0
#: Cross-check every numeric closed form by a 12-digit quadrature.
VERIFY_EXACT = True


@dataclass(frozen=True)
class Expectation:
    """The result of a Gaussian expectation.

    Attributes
    ----------
    value : mpmath.mpf or None
        The value, correct to ``dps`` significant digits (``None`` when the result depends on
        free symbols).
    exact : sympy.Expr or None
        The closed form, when the exact path found one.
    error : mpmath.mpf or None
        An absolute error bound/estimate for ``value`` (0 for an exact result evaluated with guard
        digits).
    method : str
        ``"exact"`` or ``"quadrature"``.
    dps : int
        Decimal digits requested.
    """

    value: object
    exact: object
    error: object
    method: str
    dps: int

    def __float__(self):
        if self.value is None:
            raise TypeError(f"the expectation is symbolic: {self.exact}")
        return float(self.value)


class _NoExact(Exception):
    """Internal: the exact engine does not handle this integrand."""


# --------------------------------------------------------------------------- validation

def _check_dps(dps):
    if isinstance(dps, bool) or not isinstance(dps, int):
        raise TypeError(f"dps must be an integer, got {dps!r}")
    if not 1 <= dps <= MAX_DPS:
        raise ValueError(f"dps must be between 1 and {MAX_DPS}, got {dps}")
    return dps


def _check_sigma(sigma):
    s = to_sympy_number(sigma, what="sigma")
    if s.is_number:
        if not s.is_real or not s.is_finite:
            raise ValueError(f"sigma must be a finite real number > 0, got {sigma}")
        if not s > 0:
            raise ValueError(f"sigma must be > 0, got {sigma}")
    elif s.is_positive is not True:
        raise ValueError(f"a symbolic sigma must be declared positive (use nrmt.theory.gaussian.SIGMA), got {sigma}")
    return s


def _check_shift(shift):
    s = to_sympy_number(shift, what="shift")
    if s.is_number and (not s.is_real or not s.is_finite):
        raise ValueError(f"shift must be a finite real number, got {shift}")
    if not s.is_number and s.is_real is not True:
        raise ValueError(f"a symbolic shift must be real, got {shift}")
    return s


# --------------------------------------------------------------------------- time limit

@contextlib.contextmanager
def _time_limit(seconds):
    """Raise TimeoutError after ``seconds`` (main thread with SIGALRM only; elsewhere a no-op
    that reports ``False`` so callers can skip expensive symbolic work)."""
    usable = (hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
              and signal.getitimer(signal.ITIMER_REAL)[0] == 0)
    if not usable:
        yield False
        return

    def handler(signum, frame):
        raise TimeoutError(f"symbolic step exceeded {seconds} s")

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield True
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _simplify(expr):
    """sympy.simplify under a time limit; the unsimplified form when it takes too long."""
    if sympy.count_ops(expr) > SIMPLIFY_MAX_OPS:
        return expr
    try:
        with _time_limit(SIMPLIFY_SECONDS) as guarded:
            if not guarded:
                return sympy.radsimp(sympy.together(expr))
            out = sympy.simplify(expr)
    except TimeoutError:
        return expr
    return out


# --------------------------------------------------------------------------- exact engine

_PHI_NORM = 1 / sqrt(2 * sympy.pi)


def _phi(t):
    if t in (S.Infinity, S.NegativeInfinity):
        return S.Zero
    return _PHI_NORM * exp(-t ** 2 / 2)


def _Phi(t):
    if t is S.Infinity:
        return S.One
    if t is S.NegativeInfinity:
        return S.Zero
    return (1 + erf(t / sqrt(2))) / 2


def _pow_times_phi(t, n):
    """t**(n) φ(t), 0 at ±∞."""
    if t in (S.Infinity, S.NegativeInfinity):
        return S.Zero
    return t ** n * _phi(t)


@functools.lru_cache(maxsize=256)
def _poly_moment(n, lo, hi):
    """∫_lo^hi w^n φ(w) dw, by I_n = (n−1) I_{n−2} + lo^{n−1}φ(lo) − hi^{n−1}φ(hi)."""
    if n == 0:
        return _Phi(hi) - _Phi(lo)
    if n == 1:
        return _phi(lo) - _phi(hi)
    if lo is S.NegativeInfinity and hi is S.Infinity:
        return S.Zero if n % 2 else sympy.factorial2(n - 1)
    return (n - 1) * _poly_moment(n - 2, lo, hi) + _pow_times_phi(lo, n - 1) - _pow_times_phi(hi, n - 1)


def _split_term(term, w):
    """term = coeff * w**n * exp(q) * Π erf(l_i)  ->  (coeff, n, q, [l_i])."""
    coeff, n, q, erfs = S.One, 0, S.Zero, []
    for factor in sympy.Mul.make_args(term):
        if not factor.has(w):
            coeff *= factor
            continue
        if isinstance(factor, sympy.exp):
            base, power = factor, S.One
        elif factor.is_Pow:
            base, power = factor.base, factor.exp
        else:
            base, power = factor, S.One
        if base == w and power.is_Integer and power >= 0:
            n += int(power)
        elif isinstance(base, sympy.exp) and not power.has(w):
            q += base.args[0] * power
        elif isinstance(base, erf) and power.is_Integer and power > 0:
            arg = base.args[0]
            if not (arg.is_polynomial(w) and sympy.Poly(arg, w).degree() <= 1):
                raise _NoExact
            erfs.extend([arg] * int(power))
        else:
            raise _NoExact
    if len(erfs) > 2:
        raise _NoExact
    return coeff, n, q, erfs


def _quadratic_parts(q, w):
    if not q.has(w):
        return S.Zero, S.Zero, q
    if not q.is_polynomial(w):
        raise _NoExact
    poly = sympy.Poly(sympy.expand(q), w)
    if poly.degree() > 2:
        raise _NoExact
    c = poly.all_coeffs()[::-1] + [S.Zero, S.Zero]
    return c[2], c[1], c[0]


def _gauss_integral(integrand, w, lo, hi, depth=0):
    """∫_lo^hi integrand(w) φ(w) dw for the class of integrands described in the module doc."""
    if depth > 60:
        raise _NoExact
    expr = sympy.expand(sympy.powsimp(sympy.expand(integrand), combine="exp"))
    total = S.Zero
    for term in sympy.Add.make_args(expr):
        total += _gauss_term(term, w, lo, hi, depth)
    return total


def _gauss_term(term, w, lo, hi, depth):
    coeff, n, q, erfs = _split_term(term, w)
    alpha, beta, gamma = _quadratic_parts(q, w)
    if alpha != 0 or beta != 0:
        # exp(αw² + βw) φ(w) = exp(β²τ²/2) φ((w − m)/τ), τ² = 1/(1 − 2α), m = βτ²;  w = m + τ v
        denom = 1 - 2 * alpha
        if denom.is_positive is not True:
            raise _NoExact  # not integrable, or sign unknown: left to the numeric path
        tau = 1 / sqrt(denom)
        m = beta * tau ** 2
        v = Symbol("v_%d" % depth, real=True)
        new_lo = lo if lo in (S.NegativeInfinity, S.Infinity) else (lo - m) / tau
        new_hi = hi if hi in (S.NegativeInfinity, S.Infinity) else (hi - m) / tau
        factor = coeff * exp(gamma + beta ** 2 * tau ** 2 / 2) * tau
        rest = (m + tau * v) ** n * sympy.Mul(*[erf(l.subs(w, m + tau * v)) for l in erfs])
        inner = _gauss_integral(rest, v, new_lo, new_hi, depth + 1)
        return factor * inner.subs(v, w) if inner.has(v) else factor * inner
    coeff = coeff * exp(gamma) if gamma != 0 else coeff
    if not erfs:
        return coeff * _poly_moment(n, lo, hi)
    if not (lo is S.NegativeInfinity and hi is S.Infinity):
        raise _NoExact  # erf on a half line: Owen's T function, not attempted
    F = sympy.Mul(*[erf(l) for l in erfs])
    if n == 0:
        return coeff * _erf_base(erfs, w)
    # Stein: E[w^n F] = (n−1) E[w^{n−2} F] + E[w^{n−1} F']
    out = S.Zero
    if n >= 2:
        out += (n - 1) * _gauss_integral(w ** (n - 2) * F, w, lo, hi, depth + 1)
    out += _gauss_integral(w ** (n - 1) * sympy.diff(F, w), w, lo, hi, depth + 1)
    return coeff * out


def _erf_base(erfs, w):
    """E erf(aW+b) = erf(b/√(1+2a²));  E erf(aW) erf(cW) = (2/π) asin(2ac/√((1+2a²)(1+2c²)))."""
    lines = [_quadratic_parts(l, w)[1:] for l in erfs]
    if len(lines) == 1:
        a, b = lines[0]
        return erf(b / sqrt(1 + 2 * a ** 2))
    (a, b), (c, d) = lines
    if b != 0 or d != 0:
        raise _NoExact  # offsets: Owen's T function, not attempted
    return 2 / sympy.pi * sympy.asin(2 * a * c / sqrt((1 + 2 * a ** 2) * (1 + 2 * c ** 2)))


def _branch(expr, point):
    try:
        return branch_at(expr, point)
    except ValueError:
        raise _NoExact from None


def _exact_expectation(expr, sigma, shift, weight):
    """E[weight(Z) expr(σZ + shift)] as a sympy expression, or raise _NoExact."""
    from nrmt.theory.activations import kinks_of

    kinks, complete = kinks_of(expr, status=True)
    if not complete or any(not k.is_number for k in kinks):
        raise _NoExact
    trig = expr.has(sympy.sin, sympy.cos, sympy.sinh, sympy.cosh)
    if trig:
        # sin, cos (and sinh, cosh) as exponentials: E e^{iaZ} = e^{-a²/2} on the whole line only
        if kinks or expr.has(erf):
            raise _NoExact
        expr = expr.replace(sympy.sin, lambda u: (exp(sympy.I * u) - exp(-sympy.I * u)) / (2 * sympy.I))
        expr = expr.replace(sympy.cos, lambda u: (exp(sympy.I * u) + exp(-sympy.I * u)) / 2)
        expr = expr.replace(sympy.sinh, lambda u: (exp(u) - exp(-u)) / 2)
        expr = expr.replace(sympy.cosh, lambda u: (exp(u) + exp(-u)) / 2)
    kinks = sorted(set(kinks), key=lambda k: float(k))
    edges = [S.NegativeInfinity] + list(kinks) + [S.Infinity]
    total = S.Zero
    for left, right in zip(edges[:-1], edges[1:]):
        if left is S.NegativeInfinity and right is S.Infinity:
            mid = S.Zero
        elif left is S.NegativeInfinity:
            mid = right - 1
        elif right is S.Infinity:
            mid = left + 1
        else:
            mid = (left + right) / 2
        piece = _branch(expr, mid) if kinks or expr.has(Max, Min, Abs, sign, Heaviside, Piecewise) else expr
        piece = piece.subs(X, sigma * Z + shift) * weight
        lo = left if left is S.NegativeInfinity else (left - shift) / sigma
        hi = right if right is S.Infinity else (right - shift) / sigma
        total += _gauss_integral(piece, Z, lo, hi)
    if total.has(sympy.I):
        total = sympy.expand_complex(total)
        if total.has(sympy.I):
            raise _NoExact
    return total


# --------------------------------------------------------------------------- numeric path

def _as_real(value, where):
    if isinstance(value, mpmath.mpc):
        if value.imag != 0 and abs(value.imag) > abs(value.real) * mpmath.mpf(10) ** (-mpmath.mp.dps + 3):
            raise ValueError(f"the activation is not real-valued at z = {mpmath.nstr(where, 8)} "
                             f"(x = sigma*z + shift; got {mpmath.nstr(value, 8)})")
        return value.real
    if isinstance(value, (int, float)):
        if isinstance(value, float) and math.isnan(value):
            raise ValueError(f"the activation is undefined (nan) at z = {mpmath.nstr(where, 8)} (x = sigma*z + shift)")
        return mpmath.mpf(value)
    if not isinstance(value, mpmath.mpf):
        try:
            value = mpmath.mpmathify(value)
        except (TypeError, ValueError):
            raise TypeError(f"the activation returned {type(value).__name__}, expected a real number") from None
        return _as_real(value, where)
    if mpmath.isnan(value):
        raise ValueError(f"the activation is undefined (nan) at z = {mpmath.nstr(where, 8)} (x = sigma*z + shift)")
    return value


def _integrand(fz):
    """z -> fz(z) φ(z), real-checked, at the current precision."""
    norm = 1 / mpmath.sqrt(2 * mpmath.pi)

    def h(z):
        return _as_real(fz(z), z) * mpmath.exp(-z * z / 2) * norm

    return h


def _safe_log_abs(h, z):
    try:
        v = h(z)
    except (ZeroDivisionError, OverflowError):
        return mpmath.inf
    if mpmath.isinf(v):
        return mpmath.inf
    return mpmath.log(abs(v)) if v != 0 else -mpmath.inf


def _check_integrable(h, splits, what):
    """Growth test at large |z| and pole test at the split points (before integrating)."""
    far = [mpmath.mpf(8), mpmath.mpf(16), mpmath.mpf(32), mpmath.mpf(64), mpmath.mpf(128)]
    for side in (1, -1):
        logs = [_safe_log_abs(h, side * r) + 2 * mpmath.log(r) for r in far]
        if logs[-1] == mpmath.inf or (logs[-1] > -50 and logs[-1] >= logs[-2] - 1):
            raise NotIntegrableError(
                f"{what} is not integrable against the Gaussian: |integrand| z² does not decay as "
                f"z -> {'+' if side > 0 else '-'}inf (at z = ±{mpmath.nstr(far[-1], 3)} it is ~ e^{mpmath.nstr(logs[-1], 4)})")
    for p in splits:
        for side in (1, -1):
            ds = [mpmath.mpf(10) ** (-k) for k in (6, 12, 24)]
            vals = []
            for d in ds:
                try:
                    v = abs(h(p + side * d)) * d
                except ZeroDivisionError:
                    v = mpmath.inf
                vals.append(v)
            if vals[2] == mpmath.inf or (vals[1] > 0 and vals[2] > vals[1] / 10 and vals[2] > mpmath.mpf(10) ** -30):
                raise NotIntegrableError(f"{what} has a non-integrable singularity at z = {mpmath.nstr(p, 8)}")


def _peak(h):
    """The z of largest |h| on a grid of step 1/2 over [−64, 64] (where the integrand's mass is)."""
    best, arg = -mpmath.inf, mpmath.mpf(0)
    for i in range(-128, 129):
        z = mpmath.mpf(i) / 2
        v = _safe_log_abs(h, z)
        if v > best:
            best, arg = v, z
    return arg


def _on_grid(p, step):
    k = p / step
    return abs(k - mpmath.nint(k)) < mpmath.mpf(10) ** -10 and abs(p) <= 12


def _l1_estimate(h, pts):
    """A rough ∫|h| (midpoint sums on a grid of step 1/4 over [−10, 10] plus the split points):
    the scale against which a cancelled integral counts as zero."""
    grid = [mpmath.mpf(i) / 4 + mpmath.mpf(1) / 8 for i in range(-40, 40)]
    total = mpmath.fsum(abs(h(z)) for z in grid) / 4
    return total


def _numeric(fz, splits, dps, what, float_only=False, step=None):
    """E[fz(Z)] by split tanh-sinh quadrature, verified by a second evaluation.

    With ``step``, z in [−12, 12] is also split every ``step`` (the second evaluation on the grid
    shifted by step/2): the retry for oscillating integrands. Returns (value, error) at precision
    dps + GUARD.
    """
    with mpmath.workdps(dps + GUARD):
        h = _integrand(fz)
        pts = sorted(set([mpmath.mpf(0)] + [mpmath.mpf(p) for p in splits]))
        _check_integrable(h, pts, what)
        peak = _peak(h)
        if abs(peak) > 4:
            # the mass sits far from 0 (e.g. exp(a x) with a large): split around it
            pts = sorted(set(pts + [peak + d for d in (-8, -4, -2, -1, 0, 1, 2, 4, 8)]))
        grid2 = []
        if step is not None:
            n = int(12 / step)
            pts = sorted(set(pts + [k * mpmath.mpf(step) for k in range(-n, n + 1)]))
            grid2 = [(k + mpmath.mpf(1) / 2) * mpmath.mpf(step) for k in range(-n, n)]
        edges = [mpmath.ninf] + pts + [mpmath.inf]
        parts, err1 = [], mpmath.mpf(0)
        for a, b in zip(edges[:-1], edges[1:]):
            v, e = mpmath.quad(h, [a, b], error=True, method="tanh-sinh")
            parts.append(v)
            err1 += e
        v1 = mpmath.fsum(parts)
        scale = max(mpmath.fsum(abs(p) for p in parts), _l1_estimate(h, pts))
    # second evaluation: more digits and other split points (so other nodes everywhere)
    with mpmath.workdps(dps + GUARD + 8):
        h2 = _integrand(fz)
        extra = sorted(set([p for p in pts if step is None or not _on_grid(p, step)] + grid2
                           + [mpmath.mpf(p) for p in (-6.5, -2.75, -0.875, 1.125, 3.25, 7)]))
        edges2 = [mpmath.ninf] + extra + [mpmath.inf]
        v2 = mpmath.fsum(mpmath.quad(h2, [a, b], method="tanh-sinh") for a, b in zip(edges2[:-1], edges2[1:]))
        diff = abs(v1 - v2)
    with mpmath.workdps(dps + GUARD):
        floor = scale * mpmath.mpf(10) ** (-(dps + GUARD // 2))
        tol = max(abs(v1) * mpmath.mpf(10) ** (-dps - 1), floor)
        if float_only:
            # float64 function values: rounding noise ~1e-16 of the scale in each evaluation
            floor = max(floor, scale * mpmath.mpf("1e-15"))
            tol = max(abs(v1) * mpmath.mpf(10) ** (-dps), floor)
    with mpmath.workdps(dps + GUARD):
        if not diff <= tol:
            hint = (" (a Python callable returning floats gives at most ~15 digits)" if float_only else "")
            raise NoConvergence(
                f"quadrature of {what} did not reach {dps} digits: two evaluations differ by "
                f"{mpmath.nstr(diff, 3)} (value {mpmath.nstr(v1, 10)}){hint}")
        if abs(v1) <= floor:
            # cancelled to zero within the resolution of the quadrature
            return mpmath.mpf(0), max(floor, diff, err1)
        return v1, max(diff, err1)


# --------------------------------------------------------------------------- public API

def _evaluate_exact(expr, dps):
    """A numeric sympy expression to an mpf correct to dps + GUARD digits."""
    val = sympy.N(expr, dps + GUARD)
    if val.has(sympy.I):
        re_, im_ = val.as_real_imag()
        if abs(im_) > 10 ** (-(dps + GUARD - 2)) * (abs(re_) + 1):
            raise ValueError(f"the expectation is not real: {expr}")
        val = re_
    if not val.is_Number:
        raise _NoExact
    with mpmath.workdps(dps + GUARD):
        return mpmath.mpf(val) if val != 0 else mpmath.mpf(0)


_RESULTS = {}
_RESULTS_MAX = 2048


def _expectation(act, sigma, shift, dps, exact, weight, what, points=()):
    """Kernel: E[weight(Z) f(σZ + shift)] -> (value at dps+GUARD or None, exact or None, error, method).

    Results for symbolic activations are cached (key: expression, σ, shift, dps, exact, weight,
    points); callables are not.
    """
    if act.expr is None:
        return _expectation_uncached(act, sigma, shift, dps, exact, weight, what, points)
    key = (act.expr, sigma, shift, dps, bool(exact), weight, tuple(points))
    hit = _RESULTS.get(key)
    if hit is None:
        hit = _expectation_uncached(act, sigma, shift, dps, exact, weight, what, points)
        if len(_RESULTS) >= _RESULTS_MAX:
            _RESULTS.clear()
        _RESULTS[key] = hit
    return hit


def _expectation_uncached(act, sigma, shift, dps, exact, weight, what, points=()):
    symbols = set()
    if act.expr is not None:
        symbols |= set(act.parameters)
    symbols |= sigma.free_symbols | shift.free_symbols
    closed = None
    if exact and act.expr is not None and _odd_integrand(act.expr, sigma, shift, weight):
        # E[w(Z) f(σZ)] of an odd integrand is 0 exactly (a proof by parity, at every σ)
        return (None if symbols else mpmath.mpf(0)), S.Zero, (None if symbols else mpmath.mpf(0)), "exact"
    if exact and act.expr is not None:
        closed = _closed_form(act.expr, sigma, shift, weight)
    if closed is not None:
        if symbols:
            return None, closed, None, "exact"
        try:
            value = _evaluate_exact(closed, dps)
        except _NoExact:
            closed = None
        else:
            if not VERIFY_EXACT or _agrees_with_quadrature(act, sigma, shift, weight, value, what):
                return value, closed, mpmath.mpf(0), "exact"
            warnings.warn(f"closed form {closed} for {what} disagrees with quadrature; using quadrature",
                          RuntimeWarning, stacklevel=3)
            closed = None
    if symbols:
        names = ", ".join(sorted(str(s) for s in symbols))
        found = "no closed form found" if exact and act.expr is not None else "closed forms were not tried"
        raise NrmtError(f"{found} for {what} with free symbols ({names}); give them "
                        "numeric values (--param NAME=VALUE / --sigma NUMBER) for a numeric result")
    if act.expr is not None:
        ball = _ball_expectation(act.expr, sigma, shift, weight, dps)
        if ball is not None:
            return ball[0], None, ball[1], "quadrature"
    f = act.mp_function()
    wfun = sympy.lambdify(Z, weight, modules="mpmath") if weight != 1 else None
    with mpmath.workdps(dps + GUARD + 10):
        sig = _mp_of(sigma)
        sh = _mp_of(shift)

    def fz(z):
        val = f(sig * z + sh)
        return val * wfun(z) if wfun is not None else val

    splits = []
    with mpmath.workdps(dps + GUARD + 10):
        for k in list(act.kinks) + [to_sympy_number(p, what="points") for p in points]:
            if k.is_number and k.is_real:
                splits.append((_mp_of(k) - sh) / sig)
    float_only = act.expr is None and _returns_float(f)
    if float_only and dps > 15:
        raise ValueError(f"the callable {act.text} returns Python floats: at most 15 digits are possible, "
                         f"got dps={dps} (give an expression instead)")
    try:
        value, err = _numeric(fz, splits, dps, what, float_only)
    except NoConvergence:
        if float_only:
            raise
        # oscillating or sharply varying integrand: split z every 1/4 and try once more
        value, err = _numeric(fz, splits, dps, what, float_only, step=0.25)
    return value, None, err, "quadrature"


def _closed_form(expr, sigma, shift, weight):
    """The exact engine's closed form, or None. At a numeric σ ≠ 1 the form is derived once at
    the symbolic :data:`SIGMA` (cached per expression) and σ substituted, so that the constants at
    every layer's variance share one derivation and exact relations between them (θ1 = θ2 for a
    linear f) hold identically; the engine runs at the numeric σ only when the symbolic one fails."""
    if sigma.is_number and sigma != 1:
        try:
            general = _exact_cached(expr, SIGMA, shift, weight)
        except _NoExact:
            general = None
        if general is not None:
            out = general.subs(SIGMA, sigma)
            if not out.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
                return out
    try:
        return _exact_cached(expr, sigma, shift, weight)
    except _NoExact:
        return None


@functools.lru_cache(maxsize=512)
def parity(expr):
    """+1 if ``expr`` is even in :data:`X`, −1 if odd, 0 if neither or undecided.

    Decided symbolically (f(−x) ∓ f(x) is identically 0: structurally, after expansion, or by
    ``sympy.simplify`` under a time limit), never numerically.

    >>> parity(sympy.tanh(X)), parity(abs(X)), parity(sympy.Max(X, 0))
    (-1, 1, 0)
    """
    expr = sympy.sympify(expr)
    if not expr.has(X):
        return 1
    neg = expr.subs(X, -X)
    if neg == expr:
        return 1
    if neg == -expr:
        return -1
    candidates = []
    for sgn in (1, -1):
        diff = neg - sgn * expr
        if sympy.expand(diff) == 0:
            return sgn
        if not _refuted(diff):
            candidates.append((sgn, diff))
    # only a parity that no sample point refutes is worth a symbolic proof
    for sgn, diff in candidates:
        if _piecewise_parity(expr, sgn):
            return sgn
        if sympy.count_ops(diff) > SIMPLIFY_MAX_OPS:
            continue
        try:
            with _time_limit(SIMPLIFY_SECONDS) as guarded:
                if guarded and sympy.simplify(diff) == 0:
                    return sgn
        except TimeoutError:
            pass
    return 0


def _piecewise_parity(expr, sgn):
    """f(−x) = sgn f(x) almost everywhere, proved piece by piece: the analytic pieces of f
    (:func:`nrmt.numerics.certified_constants.analytic_pieces`, exact breakpoints) are mirror
    images of each other and each branch b satisfies b(−x) − sgn b'(x) = 0 after expansion, b' the
    branch of the mirrored piece."""
    if not expr.has(Max, Min, Abs, sign, Heaviside, Piecewise):
        return False
    from nrmt.numerics.certified_constants import analytic_pieces

    try:
        pieces = analytic_pieces(expr)
    except (NrmtError, ValueError, TypeError, ArithmeticError, RecursionError):
        return False
    for (lo, hi, branch), (lo2, hi2, branch2) in zip(pieces, reversed(pieces)):
        if lo != -hi2 and sympy.expand(lo + hi2) != 0 or hi != -lo2 and sympy.expand(hi + lo2) != 0:
            return False
        if sympy.expand(branch.subs(X, -X) - sgn * branch2) != 0:
            return False
    return True


def _refuted(diff):
    """True when ``diff`` (an expression in X) is visibly non-zero at a sample point."""
    for point in (sympy.Rational(3, 7), sympy.Rational(-13, 11), sympy.Rational(5, 2)):
        try:
            v = sympy.N(diff.subs(X, point), 30)
        except (TypeError, ValueError, ArithmeticError):
            continue
        if v.is_number and v.free_symbols == set() and abs(complex(v)) > 1e-12:
            return True
    return False


@functools.lru_cache(maxsize=512)
def _gaussian_growth(expr):
    """The constants C (one per analytic piece of f) with |f(x)| ≤ A (1+|x|)^P exp(B|x| + C x²)
    (certified, :func:`nrmt.numerics.certified_constants.growth_bound`), or None when no bound
    can be certified (a pole, a function without a bound rule, free parameters)."""
    from nrmt.numerics.certified_constants import analytic_pieces, growth_bound

    try:
        pieces = analytic_pieces(expr)
        return tuple(growth_bound(b, (lo, hi)).C for lo, hi, b in pieces)
    except (NrmtError, ValueError, TypeError, ArithmeticError, RecursionError):
        return None


def _odd_integrand(expr, sigma, shift, weight):
    """True when w(z) f(σz + shift) is odd in z and integrable against the Gaussian (so its
    expectation is exactly 0): shift 0, f of parity p, the polynomial weight of parity −p, and a
    certified growth bound that is integrable at this σ (at every σ for a symbolic one)."""
    if shift != 0:
        return False
    p = parity(expr)
    if p == 0:
        return False
    if weight != 1:
        powers = {int(m[0]) % 2 for m in sympy.Poly(weight, Z).monoms()}
        if len(powers) != 1:
            return False
        p *= -1 if powers == {1} else 1
    if p != -1:
        return False
    if expr.free_symbols - {X}:
        return False  # parameters: the closed-form engine decides
    growth = _gaussian_growth(expr)
    if growth is None:
        return False
    if not sigma.is_number:
        return all(c <= 0 for c in growth)
    from nrmt.numerics.certified_constants import arb_value

    try:
        s2 = arb_value(sigma) ** 2
        return all(1 - 2 * c * s2 > 0 for c in growth)
    except (NrmtError, ValueError, TypeError):
        return False


def _ball_expectation(expr, sigma, shift, weight, dps):
    """E[weight(Z) f(σZ + shift)] by ball integration (python-flint's ``acb.integral`` with
    certified tails: :func:`nrmt.numerics.certified_constants.gaussian_ball`), as (value, error)
    at dps + GUARD digits, or None when the ball path cannot serve this integrand (a function
    without a ball evaluation, a growth it cannot bound, a pole, or a ball too wide), which is
    left to the mpmath path.

    The value is the ball's midpoint and the error its radius, a rigorous bound. A ball that
    contains 0 and is narrower than 10^-(dps + GUARD/2) gives 0 (the answer to the absolute
    accuracy the quadrature path also claims); exact zeros are decided by the callers.
    """
    from nrmt.numerics.certified_constants import gaussian_ball

    wx = S.One if weight == 1 else sympy.expand(weight.subs(Z, X / sigma))
    prec = int(math.ceil((dps + GUARD) * math.log2(10))) + 20
    try:
        ball = gaussian_ball(expr, sigma, shift, wx, prec=prec)
    except (NrmtError, ValueError, TypeError, ArithmeticError, RecursionError):
        return None
    if not ball.is_finite():
        return None
    from flint import arb

    mid, rad = ball.mid(), ball.rad()
    with mpmath.workdps(dps + GUARD):
        man, exp_ = mid.man_exp()
        value = mpmath.mpf((int(man), int(exp_))) if man != 0 else mpmath.mpf(0)
        rman, rexp = rad.man_exp()
        err = mpmath.mpf((int(rman), int(rexp))) if rman != 0 else mpmath.mpf(0)
    if rad <= abs(mid) * arb(10) ** (-(dps + 2)):
        return value, err
    if ball.contains(0) and rad <= arb(10) ** (-(dps + GUARD // 2)):
        return mpmath.mpf(0), err
    return None


def _agrees_with_quadrature(act, sigma, shift, weight, value, what):
    """Cross-check of a closed form (guards the exact engine): a 12-digit ball integral first (a
    rigorous enclosure, milliseconds), else a float64 composite Gauss–Legendre rule; only if that
    disagrees, a 12-digit mpmath quadrature decides."""
    if act.expr is not None and not (act.expr.free_symbols - {X}):
        ball = _ball_expectation(act.expr, sigma, shift, weight, 12)
        if ball is not None:
            with mpmath.workdps(30):
                return abs(ball[0] - value) <= ball[1] + mpmath.mpf(10) ** -10 * max(abs(value), 1)
    try:
        check, scale = _float_quadrature(act, float(sigma), float(shift), weight)
        if abs(check - float(value)) <= 1e-9 * max(abs(float(value)), scale, 1e-300):
            return True
    except (ValueError, TypeError, OverflowError, ZeroDivisionError):
        pass
    try:
        check, _, err, _ = _expectation(act, sigma, shift, 12, False, weight, what)
    except (NoConvergence, NotIntegrableError, ValueError):
        return True  # the quadrature cannot judge; keep the closed form
    with mpmath.workdps(30):
        return abs(check - value) <= mpmath.mpf(10) ** -9 * max(abs(value), 1) + 10 * err


def _float_quadrature(act, sigma, shift, weight, nodes=20, half_width=12.0):
    """float64 E[weight(Z) f(σZ + shift)] and the L1 scale E|weight f|, composite Gauss–Legendre on
    [−12, 12] with unit panels and the kinks as extra panel edges."""
    import numpy as np

    func = act.numpy_function()
    wfun = sympy.lambdify(Z, weight, modules="numpy") if weight != 1 else None
    kinks = [(float(k) - shift) / sigma for k in act.kinks if k.is_number]
    edges = np.unique(np.concatenate([np.arange(-half_width, half_width + 0.5, 1.0),
                                      np.clip(kinks, -half_width, half_width)]))
    t, w = np.polynomial.legendre.leggauss(nodes)
    a, b = edges[:-1, None], edges[1:, None]
    z = (a + b) / 2 + (b - a) / 2 * t
    wts = (b - a) / 2 * w * np.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    with np.errstate(all="ignore"):
        vals = func(sigma * z + shift)
        if wfun is not None:
            vals = vals * np.broadcast_to(wfun(z), z.shape)
    if not np.all(np.isfinite(vals)):
        raise ValueError("non-finite values")
    return float(np.sum(vals * wts)), float(np.sum(np.abs(vals) * wts))


def _mp_of(expr):
    if expr.is_Integer:
        return mpmath.mpf(int(expr))
    if expr.is_Rational:
        return mpmath.mpf(int(expr.p)) / int(expr.q)
    return mpmath.mpf(sympy.N(expr, mpmath.mp.dps + 5))


def _returns_float(f):
    try:
        return isinstance(f(mpmath.mpf("0.1")), float)
    except Exception:  # noqa: BLE001 - the real evaluation will report the problem
        return False


@functools.lru_cache(maxsize=512)
def _exact_cached(expr, sigma, shift, weight):
    if _expansion_too_large(expr * weight, 1) or _erf_degree(expr) > 2:
        raise _NoExact
    try:
        with _time_limit(EXACT_SECONDS):
            result = _exact_expectation(expr, sigma, shift, weight)
    except (_NoExact, sympy.PolynomialError, TypeError, ValueError, RecursionError, TimeoutError):
        raise _NoExact from None
    if result.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
        raise _NoExact
    return _simplify(result)


def _erf_degree(expr):
    """Degree of ``expr`` as a polynomial in its erf factors (inf when erf sits inside another
    function); the exact engine handles degree <= 2."""
    if not expr.has(erf):
        return 0
    if isinstance(expr, erf):
        return math.inf if expr.args[0].has(erf) else 1
    if expr.is_Add:
        return max(_erf_degree(a) for a in expr.args)
    if expr.is_Mul:
        return sum(_erf_degree(a) for a in expr.args)
    if expr.is_Pow and expr.exp.is_Integer and expr.exp >= 0:
        return _erf_degree(expr.base) * int(expr.exp)
    return math.inf


def _expansion_too_large(expr, power, limit=5000):
    """True when expanding ``expr**power`` would create more than ``limit`` terms (multinomial
    count of every power of a sum): the exact engine then steps aside for the quadrature."""
    count = 1
    for node in sympy.preorder_traversal(expr):
        if node.is_Pow and node.exp.is_Integer and node.exp > 1 and node.base.is_Add:
            n, e = len(node.base.args), int(node.exp) * power
            count = max(count, math.comb(e + n - 1, n - 1))
    return count > limit


def _round(value, dps):
    """``value`` rounded to ``dps`` digits, as an mpf that prints them (:mod:`nrmt.theory.digits`)."""
    if value is None:
        return None
    from nrmt.theory.digits import with_digits

    with mpmath.workdps(dps):
        return with_digits(+value, dps)


def gaussian_expectation(g, sigma=1, shift=0, dps=15, exact=True, weight=None, points=()):
    r"""E g(σZ + shift) for Z ~ N(0, 1): exact when possible, else to ``dps`` digits.

    Parameters
    ----------
    g : Activation, str, sympy.Expr or callable
        The function (text is parsed with the allow-list parser).
    sigma : number or positive sympy Symbol, default 1
        The scale σ > 0 (:data:`SIGMA` for closed forms in σ).
    shift : number or real sympy expression, default 0
        A shift added to σZ (e.g. a bias).
    dps : int, default 15
        Decimal digits of the returned value.
    exact : bool, default True
        Try the closed-form engine first.
    weight : sympy polynomial in :data:`Z`, optional
        Computes E[weight(Z) g(σZ + shift)] instead (e.g. ``Z`` for Stein's form, ``He_k(Z)``).
    points : sequence of numbers, optional
        Extra points x where g is not smooth (for callables, whose kinks nrmt cannot see); the
        quadrature is split at (x − shift)/σ.

    Returns
    -------
    Expectation
        ``value`` (mpf with ``dps`` correct digits, or None if symbolic), ``exact``, ``error``,
        ``method``.

    Raises
    ------
    NotIntegrableError
        If the integrand grows at infinity or has a non-integrable singularity.
    NoConvergence
        If the two quadrature evaluations disagree beyond 10^-dps.
    NrmtError
        If free symbols remain and no closed form was found.

    Notes
    -----
    .. math:: \mathbb E\, g(\sigma Z + s) = \int_{\mathbb R} g(\sigma z + s)\,
              \frac{e^{-z^2/2}}{\sqrt{2\pi}}\, dz.

    Examples
    --------
    >>> r = gaussian_expectation("max(x, 0)", sigma=SIGMA)
    >>> r.exact
    sqrt(2)*sigma/(2*sqrt(pi))
    >>> import mpmath
    >>> mpmath.nstr(gaussian_expectation("tanh(x)**2", dps=20).value, 20)
    '0.39429449039784117442'
    """
    dps = _check_dps(dps)
    act = as_activation(g)
    sig = _check_sigma(sigma)
    sh = _check_shift(shift)
    w = S.One if weight is None else sympy.sympify(weight)
    if w.free_symbols - {Z}:
        raise ValueError(f"weight must be a polynomial in z only, got {weight}")
    what = f"E[{'' if w == 1 else '(' + str(w) + ') '}{act.text} at sigma*Z{' + shift' if sh != 0 else ''}]"
    value, closed, err, method = _expectation(act, sig, sh, dps, exact, w, what, tuple(points))
    return Expectation(_round(value, dps), closed, _round(err, 5) if err is not None else None, method, dps)


def hermite_coefficients(g, sigma=1, order=4, dps=15, exact=True, full=False):
    r"""Probabilists' Hermite coefficients c_k = E[g(σZ) He_k(Z)], k = 0..order.

    With E[He_j He_k] = k! δ_jk: g(σz) = Σ c_k He_k(z)/k! and E g(σZ)² = Σ c_k²/k! (Parseval).
    Pennington--Worah's ζ is c_1² and η = Σ_{k≥1} c_k²/k! for centred g.

    Returns a list of mpf values (or sympy expressions when the result is symbolic); with
    ``full=True`` a list of :class:`Expectation`.

    Examples
    --------
    >>> hermite_coefficients("x**3 - 3*x", order=4)
    [mpf('0.0'), mpf('0.0'), mpf('0.0'), mpf('6.0'), mpf('0.0')]
    """
    if isinstance(order, bool) or not isinstance(order, int) or order < 0:
        raise ValueError(f"order must be an integer >= 0, got {order!r}")
    if order > 200:
        raise ValueError(f"order must be <= 200, got {order}")
    out = []
    for k in range(order + 1):
        r = gaussian_expectation(g, sigma=sigma, dps=dps, exact=exact, weight=sympy.hermite_prob(k, Z))
        out.append(r if full else (r.value if r.value is not None else r.exact))
    return out


@functools.lru_cache(maxsize=16)
def _leggauss(n):
    """numpy's Gauss–Legendre nodes and weights on [-1, 1], computed once per n."""
    import numpy as np

    t, w = np.polynomial.legendre.leggauss(n)
    t.flags.writeable = False
    w.flags.writeable = False
    return t, w


def gaussian_expectation_float(fn, sigma=1.0, shift=0.0, nodes=20):
    """Fast float64 E fn(σZ + shift): composite Gauss–Legendre on z in [−L, L], split at kinks.

    L = 12, widened (up to 64) when a coarse scan finds the mass of fn(σz + shift) φ(z) far out
    (e.g. exp(a x) with a large); an integrand that does not decay by |z| = 64 raises
    NotIntegrableError.

    Parameters
    ----------
    fn : numpy-vectorised callable, Activation or text
        An Activation (or text) is turned into its :meth:`~Activation.numpy_function`, and its
        numeric kinks become panel boundaries.
    sigma : float > 0
    shift : float or array of floats
        An array gives an array of expectations (one per shift).
    nodes : int
        Gauss–Legendre nodes per panel (panels of width ≤ 1 in z).

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> round(gaussian_expectation_float("relu", sigma=2.0), 12) == round(2 / (2 * 3.141592653589793) ** 0.5, 12)
    True
    """
    import numpy as np

    if isinstance(fn, (str, Activation)) or isinstance(fn, sympy.Basic):
        act = as_activation(fn)
        func = act.numpy_function()
        kinks = [float(k) for k in act.kinks if k.is_number] if act.expr is not None else []
    elif callable(fn):
        func, kinks = fn, []
    else:
        raise TypeError(f"expected a callable or an activation, got {type(fn).__name__}")
    sigma = float(sigma)
    if not (sigma > 0 and math.isfinite(sigma)):
        raise ValueError(f"sigma must be > 0, got {sigma}")
    shifts = np.atleast_1d(np.asarray(shift, dtype=float))
    if not np.all(np.isfinite(shifts)):
        raise ValueError("shift must be finite")
    # where the mass of f(σz + b) φ(z) sits: a coarse scan of log|integrand| over z in [−64, 64]
    scan = np.arange(-64.0, 64.25, 0.5)
    with np.errstate(all="ignore"):
        fv = np.asarray(func((sigma * scan[None, :] + shifts[:, None]).ravel()), dtype=float)
        logh = np.log(np.abs(fv.reshape(len(shifts), len(scan)))) - scan[None, :] ** 2 / 2
    if np.any(np.isnan(logh[:, np.abs(scan) <= 8])):
        raise ValueError("the activation is undefined (nan) or not real at some x = sigma*z + shift "
                         "with |z| <= 8")
    finite = ~(np.isnan(logh) | np.isposinf(logh))  # float overflow and undefined values left out
    logh = np.where(finite, logh, -np.inf)
    top = np.max(logh, axis=1)
    for row, ok, peak_value in zip(logh, finite, top):
        idx = np.nonzero(ok)[0]
        if len(idx) == 0:
            raise ValueError("the activation is not finite on the scanned range")
        # the mass must fall off towards the ends of the scan; an integrand whose largest value
        # on the scan is below float range everywhere (e.g. relu(sigma z - 63) inside a nested
        # mean over a shift) contributes 0 in float64 and is not a decay failure
        edge_value = max(row[idx[0]], row[idx[-1]])
        if edge_value > peak_value - 60 and edge_value > -708.0:
            raise NotIntegrableError(
                "the integrand f(sigma z + shift) phi(z) does not decay within |z| <= 64 or within "
                "float range (not integrable against the Gaussian, or use the mpmath path)")
    peak = np.abs(scan[np.argmax(logh, axis=1)]).max()
    L = float(min(64.0, max(12.0, np.ceil(peak) + 12.0)))
    base = np.arange(-L, L + 0.5, 1.0)
    t, wts = _leggauss(int(nodes))
    if kinks:
        kz = (np.asarray(kinks)[None, :] - shifts[:, None]) / sigma
        kz = np.clip(kz, -L, L)
        edges = np.sort(np.concatenate([np.broadcast_to(base, (len(shifts), len(base))), kz], axis=1), axis=1)
    else:
        edges = np.broadcast_to(base, (len(shifts), len(base)))
    a, b = edges[:, :-1], edges[:, 1:]
    half = (b - a) / 2
    mid = (a + b) / 2
    z = mid[..., None] + half[..., None] * t  # (S, P, n)
    weights = half[..., None] * wts * np.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    x = sigma * z + shifts[:, None, None]
    with np.errstate(all="ignore"):
        vals = np.asarray(func(x.ravel()), dtype=float).reshape(x.shape)
        terms = vals * weights
    bad = ~np.isfinite(terms) & (weights > 0)
    if np.any(bad):
        raise ValueError("the activation is not finite (or not real) at some z where the Gaussian weight "
                         "is not negligible")
    out = np.sum(np.where(weights > 0, terms, 0.0), axis=(1, 2))
    return float(out[0]) if np.ndim(shift) == 0 else out.reshape(np.shape(shift))
