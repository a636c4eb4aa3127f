r"""The Gaussian constants of an activation: μ, θ1 (= η), θ2 (= ζ), Hermite coefficients, E f′².

With Z ~ N(0, 1) and σ = σ_w σ_x:

* μ = E f(σZ) (the mean; a non-zero μ only adds a rank-one outlier and is removed by centring);
* θ1 = E f(σZ)² − μ² — Pennington & Worah's η for the centred f, Benigni & Péché's θ1(f);
* θ2 = (E[Z f(σZ)])² = (σ E f′(σZ))² — Pennington & Worah's ζ, Benigni & Péché's θ2(f);
  the first form (Stein's lemma) needs no derivative, so ReLU, sign and hardtanh work directly;
* c_k = E[f(σZ) He_k(Z)] (probabilists' Hermite), so θ1 = Σ_{k≥1} c_k²/k! and θ2 = c_1²;
* E f′(σZ)² (weak derivative), used by the mean-field / Jacobian theory (χ = σ_w² E f′(σZ)²).

References
----------
.. [PW] J. Pennington and P. Worah, "Nonlinear random matrix theory for deep learning",
   NeurIPS 2017 (NIPS 30), Sec. 3: the constants η and ζ entering their Theorem 1
   (equation numbers not re-checked here; see docs/constants.md).
.. [BP] L. Benigni and S. Péché, "Eigenvalue distribution of some nonlinear models of random
   matrices", Electron. J. Probab. 26 (2021), doi:10.1214/21-EJP699 (arXiv:1904.03090): the
   constants θ1(f), θ2(f) of their main theorem, with W, X of variances σ_w², σ_x² and
   Y = f(WX/√n0), so that θ1 = η and θ2 = ζ.
.. [Stein] C. Stein, Ann. Statist. 9 (1981), Lemma 1: E[Z g(Z)] = E g′(Z).
"""

from dataclasses import dataclass, field

import mpmath
import sympy
from sympy import S

from nrmt.theory.activations import as_activation
from nrmt.theory.errors import NotIntegrableError
from nrmt.theory.gaussian import (
    GUARD, Z, _check_dps, _check_shift, _check_sigma, _expectation, _round,
)

__all__ = ["Constants", "ThetaNames", "constants"]


class ThetaNames:
    """Pennington–Worah's names for Benigni–Péché's constants: η = θ1, ζ = θ2 (a mixin for every
    object holding ``theta1`` and ``theta2``)."""

    __slots__ = ()

    @property
    def eta(self):
        """Pennington–Worah's η (= θ1)."""
        return self.theta1

    @property
    def zeta(self):
        """Pennington–Worah's ζ (= θ2)."""
        return self.theta2


@dataclass(frozen=True)
class Constants(ThetaNames):
    """Gaussian constants of an activation at scale σ (see the module docstring).

    Numeric fields are mpmath numbers with ``dps`` correct digits, or ``None`` when the result
    is symbolic (free parameters or symbolic σ; then ``exact`` holds the closed forms).

    Attributes
    ----------
    activation : Activation
    sigma : sympy number or Symbol
    dps : int
    mean, second_moment, theta1, theta2, stein : mpf or None
        μ, E f², θ1 = E f² − μ², θ2 = stein², stein = E[Z f(σZ)].
    hermite : list
        c_0..c_K (mpf, or sympy when symbolic).
    derivative_second_moment : mpf or None
        E f′(σZ)²; ``None`` when f′ has a Dirac delta (f jumps, e.g. sign) or f is a callable,
        with the reason in ``method["derivative_second_moment"]``.
    exact : dict
        Closed forms (sympy) of ``mean``, ``second_moment``, ``theta1``, ``theta2``, ``stein``,
        ``derivative_second_moment`` and ``hermite`` (list), ``None`` where none was found.
    method : dict
        Which path produced each number (``"exact"`` / ``"quadrature"``, or a reason).
    error : dict
        Absolute error estimates of the numeric values.
    """

    activation: object
    sigma: object
    dps: int
    mean: object
    second_moment: object
    theta1: object
    theta2: object
    stein: object
    hermite: list
    derivative_second_moment: object
    exact: dict = field(default_factory=dict)
    method: dict = field(default_factory=dict)
    error: dict = field(default_factory=dict)

    @property
    def hermite_expansion(self):
        """a_k = c_k/k!: the coefficients of f(σz) = Σ_k a_k He_k(z) (so θ1 = Σ_{k≥1} k! a_k²)."""
        out = []
        for k, c in enumerate(self.hermite):
            if isinstance(c, sympy.Basic):
                out.append(c / sympy.factorial(k))
            else:
                with mpmath.workdps(self.dps + GUARD):
                    out.append(_round(c / mpmath.factorial(k), self.dps))
        return out

    @property
    def is_symbolic(self):
        """True when the numeric fields are None (free symbols)."""
        return self.theta1 is None


def constants(activation, sigma=1, dps=15, hermite=0, exact=True):
    r"""Gaussian constants μ, θ1, θ2, Hermite coefficients and E f′² of an activation.

    Parameters
    ----------
    activation : Activation, str, sympy.Expr or callable
    sigma : number or positive Symbol, default 1
        σ = σ_w σ_x, the standard deviation of the pre-activations.
    dps : int, default 15
        Decimal digits of every numeric value.
    hermite : int, default 0
        Highest order K of the Hermite coefficients c_0..c_K (none when 0).
    exact : bool, default True
        Try closed forms first.

    Returns
    -------
    Constants

    Raises
    ------
    NotIntegrableError
        If E f(σZ)² is infinite (e.g. ``exp(x**2)`` at σ = 1).
    NoConvergence
        If a quadrature cannot reach ``dps`` digits.

    Notes
    -----
    .. math::
        \mu = \mathbb E f(\sigma Z),\quad
        \theta_1 = \mathbb E f(\sigma Z)^2 - \mu^2,\quad
        \theta_2 = \big(\mathbb E[Z f(\sigma Z)]\big)^2 = \sigma^2 \big(\mathbb E f'(\sigma Z)\big)^2

    (Pennington & Worah 2017, Sec. 3: η, ζ; Benigni & Péché 2021: θ1, θ2; the second form of θ2
    is Stein's lemma.)

    Examples
    --------
    >>> c = constants("relu")
    >>> c.exact["theta1"], c.exact["theta2"]
    ((-1 + pi)/(2*pi), 1/4)
    >>> constants("x**3 - 3*x").theta2
    mpf('0.0')
    """
    dps = _check_dps(dps)
    if isinstance(hermite, bool) or not isinstance(hermite, int) or hermite < 0:
        raise ValueError(f"hermite must be an integer >= 0, got {hermite!r}")
    if hermite > 200:
        raise ValueError(f"hermite must be <= 200, got {hermite}")
    act = as_activation(activation)
    sig = _check_sigma(sigma)
    zero = _check_shift(0)
    exact_forms, methods, errors = {}, {}, {}

    def expect(expr_act, weight, name, key):
        value, closed, err, method = _expectation(expr_act, sig, zero, dps, exact, weight, name)
        exact_forms[key] = closed
        methods[key] = method
        errors[key] = err
        return value, closed

    mean, mean_x = expect(act, S.One, f"E f(sigma Z) for f = {act.text}", "mean")
    square = _square(act)
    key = "second_moment"
    try:
        m2, m2_x = expect(square, S.One, f"E f(sigma Z)^2 for f = {act.text}", "second_moment")
    except NotIntegrableError as exc:
        raise NotIntegrableError(f"theta1 is infinite: {exc}") from None
    stein, stein_x = expect(act, Z, f"E[Z f(sigma Z)] for f = {act.text}", "stein")

    theta1_x = _simplify_diff(m2_x, mean_x)
    theta2_x = sympy.expand(stein_x ** 2) if stein_x is not None else None
    linear = _is_affine(act)
    if linear and theta2_x is not None:
        # f = a x + b: θ1 = a²σ² = θ2 identically (one form for both, so the equality is exact)
        theta1_x = theta2_x
    exact_forms["theta1"], exact_forms["theta2"] = theta1_x, theta2_x
    methods["theta1"] = _combine(methods["second_moment"], methods["mean"])
    methods["theta2"] = methods["stein"]

    theta1 = theta2 = None
    if m2 is not None:
        with mpmath.workdps(dps + GUARD):
            theta1 = m2 - mean ** 2
            cancelled = theta1 != 0 and abs(theta1) < abs(m2) * mpmath.mpf(10) ** (-(GUARD // 2))
        if theta1_x is not None:
            theta1 = _numeric_of(theta1_x, dps)
        elif cancelled:
            theta1 = _centred_variance(act, sig, zero, mean, dps)
        with mpmath.workdps(dps + GUARD):
            theta2 = stein ** 2
        if linear:
            theta1 = theta2
        errors["theta1"] = (errors["second_moment"] or 0) + 2 * abs(mean) * (errors["mean"] or 0)
        errors["theta2"] = 2 * abs(stein) * (errors["stein"] or 0)

    # Hermite coefficients
    coeffs, coeffs_x = [], []
    for k in range(hermite + 1) if hermite else ():
        key = f"hermite_{k}"
        value, closed = expect(act, sympy.hermite_prob(k, Z), f"c_{k} = E[He_{k}(Z) f(sigma Z)] for f = {act.text}", key)
        coeffs.append(_round(value, dps) if value is not None else closed)
        coeffs_x.append(closed)
        methods.pop(key)
        exact_forms.pop(key)
        errors.pop(key)
    exact_forms["hermite"] = coeffs_x
    if hermite:
        methods["hermite"] = "exact" if all(c is not None for c in coeffs_x) else "quadrature"

    # E f'(σZ)²
    dsm = None
    key = "derivative_second_moment"
    if act.expr is None:
        methods[key] = "not available: a Python callable has no symbolic derivative"
        exact_forms[key] = None
    else:
        deriv = act.derivative()
        if deriv.has_delta:
            methods[key] = ("undefined (infinite): f has a jump, so f' contains a Dirac delta "
                            f"({deriv.expr})")
            exact_forms[key] = None
        else:
            try:
                dsm, _ = expect(_square(deriv), S.One, f"E f'(sigma Z)^2 for f = {act.text}", key)
            except NotIntegrableError as exc:
                methods[key] = f"infinite: {exc}"
                exact_forms[key] = None

    return Constants(
        activation=act, sigma=sig, dps=dps,
        mean=_round(mean, dps), second_moment=_round(m2, dps),
        theta1=_round(theta1, dps), theta2=_round(theta2, dps), stein=_round(stein, dps),
        hermite=coeffs, derivative_second_moment=_round(dsm, dps),
        exact=exact_forms, method=methods,
        error={k: _round(v, 5) if v is not None else None for k, v in errors.items()},
    )


def _is_affine(act):
    """f = a x + b (a polynomial of degree <= 1 in x, parameters allowed)."""
    from nrmt.theory.activations import X

    expr = act.expr
    if expr is None or not expr.is_polynomial(X):
        return False
    return sympy.Poly(expr, X).degree() <= 1


def _square(act):
    if act.expr is None:
        f = act._callable

        def square(x):
            v = f(x)
            return v * v

        from nrmt.theory.activations import Activation

        return Activation(square)
    from nrmt.theory.activations import Activation

    out = Activation(act.expr ** 2)
    out.text = f"({act.text})**2"
    return out


def _simplify_diff(m2, mean):
    from nrmt.theory.gaussian import _simplify

    if m2 is None or mean is None:
        return None
    return _simplify(m2 - mean ** 2)


def _combine(*methods):
    return "exact" if all(m == "exact" for m in methods) else "quadrature"


def _numeric_of(expr, dps):
    from nrmt.theory.gaussian import _evaluate_exact

    if expr.free_symbols:
        return None
    return _evaluate_exact(expr, dps)


def _centred_variance(act, sig, zero, mean, dps):
    """E (f − μ)² by quadrature, split at the kinks of f (used when E f² − μ² cancels)."""
    from nrmt.theory.activations import Activation

    if act.expr is not None:
        # the ball path of the kernel, on the expression (f - μ)² with μ as an exact binary number
        from nrmt.theory.activations import to_sympy_number

        centred = Activation((act.expr - to_sympy_number(mean)) ** 2)
        value, _, _, _ = _expectation(centred, sig, zero, dps, False, S.One,
                                      f"E (f - mu)^2 for f = {act.text}")
        return value
    f = act.mp_function()

    def centred_sq(x):
        v = f(x) - mean
        return v * v

    value, _, _, _ = _expectation(Activation(centred_sq), sig, zero, dps, False, S.One,
                                  f"E (f - mu)^2 for f = {act.text}", points=tuple(act.kinks))
    return value
