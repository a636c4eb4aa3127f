r"""Mean-field signal propagation in deep random networks: length map, fixed point, χ, criticality.

Network (Poole et al. 2016; Schoenholz et al. 2017): :math:`x^l = W^l h^{l-1} + b^l`,
:math:`h^l = f(x^l)`, with :math:`W^l_{ij}` iid of variance :math:`\sigma_w^2/N` and
:math:`b^l_i` of variance :math:`\sigma_b^2`. In the wide limit the pre-activations of layer
:math:`l` are Gaussian with variance :math:`q_l`:

.. math::

    q_1 = \sigma_w^2 q_0 + \sigma_b^2, \qquad
    q_l = \sigma_w^2\, \mathbb E f(\sqrt{q_{l-1}} Z)^2 + \sigma_b^2 \quad (l \ge 2),

where :math:`q_0 = \lVert x^0\rVert^2/N` is the input's mean square
(Poole, Lahiri, Raghu, Sohl-Dickstein & Ganguli, *Exponential expressivity in deep neural
networks through transient chaos*, NeurIPS 2016, arXiv:1606.05340; Schoenholz, Gilmer,
Ganguli & Sohl-Dickstein, *Deep information propagation*, ICLR 2017, arXiv:1611.01232; equation numbers not confirmed here).
Its fixed point :math:`q^*` and the slope

.. math::

    \chi = \sigma_w^2\, \mathbb E f'(\sqrt{q^*} Z)^2

(Poole et al. 2016, their :math:`\chi_1`; Schoenholz et al. 2017) decide order
(:math:`\chi < 1`) or chaos (:math:`\chi > 1`); :math:`\chi = 1` is the edge of chaos. For a chosen
:math:`q^*`, criticality holds for

.. math::

    \sigma_w^2 = 1/\mathbb E f'(\sqrt{q^*} Z)^2, \qquad
    \sigma_b^2 = q^* - \sigma_w^2\, \mathbb E f(\sqrt{q^*} Z)^2

(no critical point at that :math:`q^*` if :math:`\sigma_b^2 < 0`). Gaussian expectations come from
:mod:`nrmt.theory.gaussian` (exact when sympy can, else to ``dps`` digits).
"""

import math
from dataclasses import dataclass, field

import mpmath
import sympy

from nrmt.theory.activations import X, Activation, as_activation, to_sympy_number
from nrmt.theory.digits import returns_digits
from nrmt.theory.errors import NoConvergence
from nrmt.theory.exact import exact_parameter
from nrmt.theory.gaussian import gaussian_expectation, gaussian_expectation_float

__all__ = [
    "is_positively_homogeneous",
    "second_moment",
    "derivative_second_moment",
    "length_map",
    "length_sequence",
    "fixed_point_q",
    "chi",
    "criticality",
    "Criticality",
    "NoFixedPoint",
    "one_sided_at_zero",
]

_GUARD = 10


class NoFixedPoint(NoConvergence):
    """The length map has no finite fixed point it reaches (it grows without bound or does not
    settle): the layers' variances must then come from an input, ``q0``."""


def _check_dps(dps):
    if isinstance(dps, bool) or not isinstance(dps, int) or dps < 1:
        raise ValueError(f"dps must be an integer >= 1, got {dps!r}")


def _nonneg(value, name, dps=15):
    """A finite number >= 0 as mpf with dps + 2 guard digits (sympy values evaluated exactly)."""
    with mpmath.workdps(dps + 2 * _GUARD):
        try:
            if isinstance(value, sympy.Basic):
                v = mpmath.mpf(sympy.N(value, dps + 2 * _GUARD))
            elif isinstance(value, str):
                v = mpmath.mpf(sympy.N(to_sympy_number(value), dps + 2 * _GUARD))
            else:
                v = mpmath.mpf(value)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be a real number, got {value!r}") from None
    if not mpmath.isfinite(v) or v < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return v


def _sym(value):
    """An exact sympy version of a number (:func:`nrmt.theory.exact.exact_parameter`: strings as
    written, floats and mpf by their exact binary value)."""
    return exact_parameter(value, symbols=True)


def one_sided_at_zero(expr, side, kinks=()):
    """The one-sided limit of ``expr`` (sympy in x) at 0 from the right (``side = 1``) or the left
    (``side = -1``): sympy's limit, or, where sympy fails (Heaviside/Piecewise steps), the value
    just beside 0 — exact for an expression that is continuous on (0, k) / (-k, 0), k the
    nearest nonzero kink (e.g. f' of hard-tanh).

    >>> one_sided_at_zero(sympy.Heaviside(X), 1), one_sided_at_zero(sympy.Heaviside(X), -1)
    (1, 0)
    """
    try:
        value = sympy.limit(expr, X, 0, "+" if side > 0 else "-")
        if value.is_number and value.is_finite:
            return value
    except Exception:  # noqa: BLE001 - sympy's series fail on some step functions
        pass
    near = [abs(k) for k in kinks if k.is_number and k != 0]
    h = min(near) / 2 if near else sympy.Rational(1, 2)
    # a step function is constant between kinks: its value at the middle of (0, h) is the limit
    value = sympy.simplify(expr.subs(X, side * h / 2))
    if not value.is_number:
        raise ValueError(f"cannot evaluate {expr} beside 0")
    return value


def _expectation(expr, q, dps, kinks=()):
    """E g(sqrt(q) Z) for g = expr (sympy in X): (mpf value, exact sympy or None)."""
    qs = _sym(q)
    if qs == 0:
        # the q -> 0+ limit: g(0+) and g(0-) each with probability 1/2
        right = one_sided_at_zero(expr, 1, kinks)
        left = one_sided_at_zero(expr, -1, kinks)
        exact = sympy.nsimplify(sympy.Rational(1, 2) * (right + left)) if (right + left).is_number \
            else None
        with mpmath.workdps(dps + _GUARD):
            val = mpmath.mpf(sympy.N((right + left) / 2, dps + _GUARD))
        return +val, exact
    res = gaussian_expectation(expr, sigma=sympy.sqrt(qs), dps=dps)
    return res.value, res.exact


def is_positively_homogeneous(activation):
    """True when f(c x) = c f(x) for every c > 0 (linear, ReLU, leaky ReLU, abs ...): then the
    law of f'(sqrt(q) Z) does not depend on q and the length map without bias is linear.

    >>> is_positively_homogeneous("relu"), is_positively_homogeneous("tanh")
    (True, False)
    """
    f = as_activation(activation)
    if f.expr is None:
        return False
    # exact check at rational sample points and scales (f is a sympy expression; a
    # positively homogeneous f is piecewise linear through 0 along rays, which the samples fix)
    points = [sympy.Rational(p, 7) for p in (-23, -9, -2, 3, 11, 26)]
    scales = [sympy.Rational(3, 8), sympy.Rational(29, 10)]
    try:
        for x0 in points:
            for c in scales:
                diff = f.expr.subs(X, c * x0) - c * f.expr.subs(X, x0)
                if sympy.simplify(diff) != 0:
                    return False
        return True
    except Exception:  # noqa: BLE001 - sympy failure: not provably homogeneous
        return False


def second_moment(activation, q, dps=15):
    r""":math:`\mathbb E f(\sqrt q Z)^2` (value to ``dps`` digits, exact sympy or None).

    >>> second_moment("relu(x)", 2)[1]
    1
    """
    f = as_activation(activation)
    _check_dps(dps)
    _nonneg(q, "q")
    return _expectation(f.expr ** 2, q, dps, f.kinks)


def derivative_second_moment(activation, q, dps=15):
    r""":math:`\mathbb E f'(\sqrt q Z)^2` (value, exact or None); f' is the weak derivative.

    >>> derivative_second_moment("relu(x)", 1)[1]
    1/2
    """
    f = as_activation(activation)
    _check_dps(dps)
    _nonneg(q, "q")
    return _expectation(f.derivative().expr ** 2, q, dps, f.kinks)


@returns_digits
def length_map(activation, q, sigma_w, sigma_b=0, dps=15):
    r"""One step of the length map :math:`q \mapsto \sigma_w^2 \mathbb E f(\sqrt q Z)^2 + \sigma_b^2`.

    Poole et al. 2016. Returns an mpf correct to ``dps`` digits.

    >>> length_map("relu(x)", 1, sympy.sqrt(2))
    mpf('1.0')
    """
    _check_dps(dps)
    sw = _nonneg(sigma_w, "sigma_w", dps)
    sb = _nonneg(sigma_b, "sigma_b", dps)
    val, _ = second_moment(activation, q, dps)
    with mpmath.workdps(dps + _GUARD):
        return +(sw ** 2 * val + sb ** 2)


@returns_digits
def length_sequence(activation, q0, depth, sigma_w, sigma_b=0, dps=15):
    r"""Pre-activation variances :math:`[q_1, \dots, q_L]` of a depth-``L`` network.

    :math:`q_1 = \sigma_w^2 q_0 + \sigma_b^2` (the input enters linearly), then the length map.

    >>> [float(q) for q in length_sequence("relu(x)", 1, 3, sympy.sqrt(2))]
    [2.0, 2.0, 2.0]
    """
    _check_dps(dps)
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be an integer >= 1, got {depth!r}")
    sw = _nonneg(sigma_w, "sigma_w", dps)
    sb = _nonneg(sigma_b, "sigma_b", dps)
    q = _nonneg(q0, "q0", dps)
    with mpmath.workdps(dps + _GUARD):
        qs = [+(sw ** 2 * q + sb ** 2)]
    for _ in range(depth - 1):
        qs.append(length_map(activation, qs[-1], sigma_w, sigma_b, dps + _GUARD))
    return [+q for q in qs]


@returns_digits
def fixed_point_q(activation, sigma_w, sigma_b=0, dps=15, q_init=1.0, maxiter=2000):
    r"""The fixed point :math:`q^*` reached by iterating the length map from ``q_init``.

    Iterates the map in low precision until it settles, then polishes with the secant method at
    ``dps + guard`` digits (Schoenholz et al. 2017; the attracting fixed point).

    Returns
    -------
    mpf
        :math:`q^*` to ``dps`` digits; ``0`` when the iteration falls to 0 (ordered phase without
        bias). If every :math:`q` is fixed (e.g. ReLU with :math:`\sigma_w^2 = 2`,
        :math:`\sigma_b = 0`) the map does not move and ``q_init`` is returned.

    Raises
    ------
    NoConvergence
        When the iteration diverges (no finite fixed point, e.g. ReLU with
        :math:`\sigma_w^2 > 2`) or does not settle.

    Examples
    --------
    >>> q = fixed_point_q("tanh(x)", 1.5, 0.2, dps=20)
    >>> abs(length_map("tanh(x)", q, 1.5, 0.2, dps=20) - q) < 1e-18
    True
    """
    _check_dps(dps)
    _nonneg(sigma_w, "sigma_w")
    _nonneg(sigma_b, "sigma_b")
    q = float(_nonneg(q_init, "q_init"))
    if q == 0:
        raise ValueError("q_init must be > 0")
    f = as_activation(activation)
    f._require_numeric()
    sw2 = float(_nonneg(sigma_w, "sigma_w")) ** 2
    sb2 = float(_nonneg(sigma_b, "sigma_b")) ** 2
    fsq = Activation(f.expr ** 2)
    if is_positively_homogeneous(f):
        return _homogeneous_fixed_point(f, sigma_w, sigma_b, dps, q)

    def step(t):
        if t == 0:
            return sb2 + sw2 * float(_expectation(f.expr ** 2, 0, 8, f.kinks)[0])
        return sw2 * gaussian_expectation_float(fsq, sigma=math.sqrt(t)) + sb2

    decreasing = True
    for _ in range(maxiter):
        nq = step(q)
        decreasing = decreasing and nq < q
        if not math.isfinite(nq) or nq > 1e12:
            raise NoFixedPoint(
                f"the length map of {f.text} (sigma_w = {sigma_w}, sigma_b = {sigma_b}) has no "
                f"finite fixed point: from q = {q_init} it grows without bound")
        if nq < 1e-30:
            return mpmath.mpf(0)
        if abs(nq - q) <= 1e-10 * q:
            q = nq
            break
        q = nq
    else:
        if decreasing and sb2 == 0 and _is_zero(f.expr.subs(X, 0)):
            # q = 0 is a fixed point (f(0) = 0, no bias) and the map falls towards it without
            # settling: the slope there is chi(0) = 1 (edge of chaos, e.g. tanh with sigma_w = 1),
            # q_l ~ c/l. A positive fixed point would be reached geometrically.
            return mpmath.mpf(0)
        raise NoFixedPoint(
            f"the length map of {f.text} (sigma_w = {sigma_w}, sigma_b = {sigma_b}) reaches no "
            f"fixed point: after {maxiter} iterations from q = {q_init} it is at q = {q:.8g} and "
            "still moving")
    # float secant (double precision), enough when dps <= 15
    q0, g0 = q, step(q) - q
    q1 = q * (1 + 1e-7)
    g1 = step(q1) - q1
    for _ in range(30):
        if g1 == g0:
            break
        q2 = q1 - g1 * (q1 - q0) / (g1 - g0)
        q0, g0 = q1, g1
        q1 = q2
        if abs(q1 - q0) <= 4e-16 * q1:
            break
        g1 = step(q1) - q1
    q = mpmath.mpf(q1 if q1 > 0 else q)
    if dps <= 15:
        return q
    with mpmath.workdps(dps + _GUARD):
        def g(t):
            return length_map(activation, t, sigma_w, sigma_b, dps + _GUARD) - t

        if abs(g(q)) <= mpmath.mpf(10) ** -(dps + _GUARD // 2) * max(q, 1):
            return +q
        # secant from the float fixed point (superlinear: a few steps reach dps digits)
        q0, g0 = q, g(q)
        q1 = q * (1 + mpmath.mpf(10) ** -8)
        g1 = g(q1)
        tol = mpmath.mpf(10) ** (-(dps + _GUARD // 2)) * q
        for _ in range(30):
            if g1 == g0:
                break
            q2 = q1 - g1 * (q1 - q0) / (g1 - g0)
            if q2 < 0:
                raise NoConvergence(f"fixed point polish left q > 0 near q = {mpmath.nstr(q, 10)}")
            q0, g0 = q1, g1
            q1 = q2
            if abs(q1 - q0) <= tol:
                break
            g1 = g(q1)
        else:
            raise NoConvergence(f"fixed point polish did not converge near q = {mpmath.nstr(q, 10)}")
        return +q1


def _is_zero(value):
    """True when a sympy number is exactly 0 (decided by sympy, never by a tolerance)."""
    try:
        return bool(sympy.simplify(value) == 0)
    except Exception:  # noqa: BLE001 - undecidable: not known to be 0
        return False


def _homogeneous_fixed_point(f, sigma_w, sigma_b, dps, q_init):
    r"""Fixed point of the linear length map :math:`q \mapsto s q + \sigma_b^2` of a positively
    homogeneous f, :math:`s = \sigma_w^2\,\mathbb E f(Z)^2` (exact when both factors are):
    :math:`q^* = \sigma_b^2/(1 - s)` for :math:`s < 1`; every q (``q_init``) for :math:`s = 1`,
    :math:`\sigma_b = 0`; otherwise no finite fixed point. Decided exactly when the inputs are
    exact numbers (floats are their exact binary values)."""
    c_val, c_exact = second_moment(f, 1, dps + _GUARD)
    sw, sb = _sym(sigma_w), _sym(sigma_b)
    if c_exact is not None and sw.is_number and sb.is_number:
        slope = sw ** 2 * _sym(c_exact)
        sb2 = sb ** 2
        diff = sympy.simplify(slope - 1)
        cmp = 0 if diff == 0 else (1 if diff > 0 else -1)
        with mpmath.workdps(dps + _GUARD):
            slope_mp = mpmath.mpf(sympy.N(slope, dps + 2 * _GUARD))
            qstar = None if cmp >= 0 else sympy.N(sb2 / (1 - slope), dps + 2 * _GUARD)
            qstar = None if qstar is None else +mpmath.mpf(qstar)
        zero_bias = sb2 == 0
    else:
        with mpmath.workdps(dps + 2 * _GUARD):
            slope_mp = _nonneg(sigma_w, "sigma_w", dps + _GUARD) ** 2 * c_val
            sb2_mp = _nonneg(sigma_b, "sigma_b", dps + _GUARD) ** 2
            cmp = 0 if abs(slope_mp - 1) <= mpmath.mpf(10) ** -(dps + _GUARD) else \
                (1 if slope_mp > 1 else -1)
            qstar = None if cmp >= 0 else +(sb2_mp / (1 - slope_mp))
        zero_bias = sb2_mp == 0
    if cmp < 0:
        return qstar
    if cmp == 0 and zero_bias:
        return +mpmath.mpf(q_init)
    grows = f"q -> {mpmath.nstr(slope_mp, 8)} q" + ("" if zero_bias else " + sigma_b^2")
    raise NoFixedPoint(f"the length map of {f.text} is {grows} (sigma_w = {sigma_w}, "
                       f"sigma_b = {sigma_b}): no finite fixed point, q grows without bound")


@returns_digits
def chi(activation, q, sigma_w, dps=15):
    r"""The slope :math:`\chi = \sigma_w^2\,\mathbb E f'(\sqrt q Z)^2` (Poole et al. 2016, their :math:`\chi_1`).

    >>> chi("relu(x)", 1, sympy.sqrt(2))
    mpf('1.0')
    """
    _check_dps(dps)
    sw = _nonneg(sigma_w, "sigma_w", dps)
    val, _ = derivative_second_moment(activation, q, dps)
    with mpmath.workdps(dps + _GUARD):
        return +(sw ** 2 * val)


@dataclass
class Criticality:
    r"""Result of :func:`criticality`: the critical :math:`(\sigma_w, \sigma_b)` for a chosen :math:`q^*`.

    ``sigma_w``, ``sigma_b``, ``sigma_w2``, ``sigma_b2`` and ``chi`` are mpf to ``dps`` digits;
    ``exact`` maps each of them to a sympy expression, or None where no closed form was found.
    """

    q_star: object
    sigma_w: object
    sigma_b: object
    sigma_w2: object
    sigma_b2: object
    chi: object
    dps: int
    exact: dict = field(default_factory=dict)


def criticality(activation, q_star, dps=15):
    r"""The weight and bias scales that put the fixed point :math:`q^*` at the edge of chaos.

    .. math::

        \sigma_w^2 = \frac{1}{\mathbb E f'(\sqrt{q^*}Z)^2}, \qquad
        \sigma_b^2 = q^* - \sigma_w^2\,\mathbb E f(\sqrt{q^*}Z)^2

    so that :math:`q^*` is a fixed point of the length map and :math:`\chi = 1`
    (Schoenholz et al. 2017; Poole et al. 2016 — the critical line).
    Exact when both expectations have closed forms (ReLU: :math:`\sigma_w^2 = 2`,
    :math:`\sigma_b = 0` for every :math:`q^*`).

    Raises
    ------
    ValueError
        If :math:`q^* \le 0`, if :math:`\mathbb E f'^2 = 0`, or if :math:`\sigma_b^2 < 0` (no critical
        point with that :math:`q^*`).

    Examples
    --------
    >>> c = criticality("relu(x)", 0.5)
    >>> c.exact["sigma_w2"], c.exact["sigma_b2"]
    (2, 0)
    >>> c = criticality("tanh(x)", 0.5, dps=20)
    >>> mpmath.nstr(c.sigma_w2, 5), mpmath.nstr(c.sigma_b2, 3)
    ('1.688', '0.038')
    """
    _check_dps(dps)
    f = as_activation(activation)
    f._require_numeric()
    q = _nonneg(q_star, "q_star", dps)
    if q == 0:
        raise ValueError(f"q_star must be > 0, got {q_star!r}")
    qs = _sym(q_star)
    d2, d2_exact = _expectation(f.derivative().expr ** 2, qs, dps + _GUARD)
    f2, f2_exact = _expectation(f.expr ** 2, qs, dps + _GUARD)
    if d2 == 0:
        raise ValueError(f"E f'(sqrt(q*) Z)^2 = 0 for {f.text}: no weight scale gives chi = 1")
    exact = {}
    if d2_exact is not None:
        sw2_e = sympy.simplify(1 / d2_exact)
        exact["sigma_w2"] = sw2_e
        exact["sigma_w"] = sympy.simplify(sympy.sqrt(sw2_e))
        if f2_exact is not None:
            sb2_e = sympy.simplify(qs - sw2_e * f2_exact)
            exact["sigma_b2"] = sb2_e
            exact["sigma_b"] = sympy.simplify(sympy.sqrt(sb2_e)) if sb2_e.is_nonnegative else None
        exact["chi"] = sympy.Integer(1)
    with mpmath.workdps(dps + _GUARD):
        sw2 = 1 / d2
        sb2 = mpmath.mpf(q) - sw2 * f2
        tol = mpmath.mpf(10) ** (-(dps + _GUARD // 2)) * max(1, abs(mpmath.mpf(q)))
        if "sigma_b2" in exact and exact["sigma_b2"] == 0:
            sb2 = mpmath.mpf(0)
        elif sb2 < -tol:
            raise ValueError(
                f"no critical point of {f.text} at q* = {q_star}: sigma_b^2 = q* - sigma_w^2 E f^2 = "
                f"{mpmath.nstr(sb2, 6)} < 0")
        sb2 = max(sb2, mpmath.mpf(0))
        out = Criticality(q_star=+mpmath.mpf(q), sigma_w=+mpmath.sqrt(sw2), sigma_b=+mpmath.sqrt(sb2),
                          sigma_w2=+sw2, sigma_b2=+sb2, chi=+(sw2 * d2), dps=dps, exact=exact)
    return out
