"""Tests of nrmt.theory.constants: μ, θ1 (η), θ2 (ζ), Hermite coefficients, E f′².

References: closed forms derived by hand (ReLU, sign, hardtanh, erf, Hermite polynomials), the
derivative form θ2 = σ²(E f′(σZ))² evaluated by an independent mpmath quadrature in this file,
and the ζ = 0 / η = ζ special cases of Pennington–Worah.
"""

import math

import mpmath
import pytest
import sympy
from sympy import Rational, pi, sqrt

from nrmt.theory.activations import Activation
from nrmt.theory.constants import Constants, constants
from nrmt.theory.errors import NotIntegrableError, NrmtError
from nrmt.theory.gaussian import SIGMA


def _close(value, ref, dps):
    with mpmath.workdps(dps + 10):
        ref = mpmath.mpf(sympy.N(ref, dps + 10))
        return abs(value - ref) <= mpmath.mpf(10) ** (-dps) * max(abs(ref), mpmath.mpf(10) ** -3)


@pytest.mark.parametrize("sigma", [Rational(1), Rational(5, 2)])
def test_relu_closed_forms(sigma):
    c = constants("relu", sigma=sigma, dps=30)
    assert isinstance(c, Constants)
    assert _close(c.mean, sigma / sqrt(2 * pi), 30)
    assert _close(c.second_moment, sigma ** 2 / 2, 30)
    assert _close(c.theta2, sigma ** 2 / 4, 30)
    assert _close(c.theta1, sigma ** 2 / 2 - sigma ** 2 / (2 * pi), 30)
    assert _close(c.derivative_second_moment, Rational(1, 2), 30)
    assert c.method["theta1"] == c.method["theta2"] == "exact"
    assert c.eta == c.theta1 and c.zeta == c.theta2


def test_relu_symbolic_sigma():
    c = constants("relu", sigma=SIGMA)
    assert c.is_symbolic and c.theta1 is None
    assert sympy.simplify(c.exact["mean"] - SIGMA / sqrt(2 * pi)) == 0
    assert sympy.simplify(c.exact["theta2"] - SIGMA ** 2 / 4) == 0
    assert sympy.simplify(c.exact["theta1"] - SIGMA ** 2 * (pi - 1) / (2 * pi)) == 0


def test_hermite_cubic():
    c = constants("x**3 - 3*x", hermite=5)
    assert c.theta2 == 0 and c.theta1 == 6 and c.mean == 0
    assert [float(v) for v in c.hermite] == [0, 0, 0, 6, 0, 0]
    assert c.exact["theta2"] == 0 and c.exact["theta1"] == 6


def test_sign_constants_and_undefined_derivative_moment():
    c = constants("sign", dps=25)
    assert _close(c.theta1, 1, 25) and _close(c.theta2, 2 / pi, 25)
    assert c.derivative_second_moment is None
    assert "Dirac" in c.method["derivative_second_moment"]


def test_hardtanh_constants():
    c = constants("hardtanh", dps=25, sigma=Rational(3, 2))
    # θ2 = σ² P(|σZ| < 1)² = σ² erf(1/(σ√2))²
    assert _close(c.theta2, Rational(9, 4) * sympy.erf(1 / (Rational(3, 2) * sqrt(2))) ** 2, 25)
    assert _close(c.derivative_second_moment, sympy.erf(1 / (Rational(3, 2) * sqrt(2))), 25)


def test_erf_closed_forms():
    # η = (2/π) asin(2σ²/(1+2σ²)), ζ = 4σ²/(π(1+2σ²))
    s = Rational(7, 5)
    c = constants("erf", sigma=s, dps=30)
    assert c.method["theta1"] == "exact"
    assert _close(c.theta1, 2 / pi * sympy.asin(2 * s ** 2 / (1 + 2 * s ** 2)), 30)
    assert _close(c.theta2, 4 * s ** 2 / (pi * (1 + 2 * s ** 2)), 30)


def test_tanh_at_sigma_one_against_plain_mpmath():
    # (the working notes' table rounds these to 0.394294 / 0.366880; the 6th decimal of ζ is 9)
    c = constants("tanh", dps=25)
    with mpmath.workdps(35):
        eta = mpmath.quad(lambda z: mpmath.tanh(z) ** 2 * mpmath.npdf(z), [-mpmath.inf, 0, mpmath.inf])
        e1 = mpmath.quad(lambda z: mpmath.sech(z) ** 2 * mpmath.npdf(z), [-mpmath.inf, 0, mpmath.inf])
        assert abs(c.theta1 - eta) < mpmath.mpf(10) ** -25
        assert abs(c.theta2 - e1 ** 2) < mpmath.mpf(10) ** -25


@pytest.mark.parametrize("text,mp_derivative", [
    ("tanh", lambda t: 1 / mpmath.cosh(t) ** 2),
    ("softplus", lambda t: 1 / (1 + mpmath.exp(-t))),
    ("gelu", lambda t: mpmath.ncdf(t) + t * mpmath.npdf(t)),
])
def test_stein_equals_derivative_form(text, mp_derivative):
    # θ2 = (E[Z f(σZ)])² (the library) against σ² (E f'(σZ))² by an independent quadrature
    sigma = Rational(4, 5)
    c = constants(text, sigma=sigma, dps=25, exact=False)
    with mpmath.workdps(40):
        s = mpmath.mpf(4) / 5
        e = mpmath.quad(lambda z: mp_derivative(s * z) * mpmath.npdf(z), [-mpmath.inf, -3, 0, 3, mpmath.inf])
        ref = s ** 2 * e ** 2
        assert abs(c.theta2 - ref) <= mpmath.mpf(10) ** -25 * ref


def test_softplus_and_gelu_exact_vs_quadrature():
    g_exact = constants("gelu", dps=25)
    g_quad = constants("gelu", dps=25, exact=False)
    assert g_exact.method["theta1"] == "exact" and g_quad.method["theta1"] == "quadrature"
    with mpmath.workdps(35):
        for key in ("mean", "theta1", "theta2", "derivative_second_moment"):
            a, b = getattr(g_exact, key), getattr(g_quad, key)
            assert abs(a - b) <= mpmath.mpf(10) ** -25 * abs(a)
    # softplus: E[Z softplus(Z)] = E sigmoid(Z) = 1/2 by symmetry, so θ2 = 1/4 exactly
    sp = constants("softplus", dps=40)
    assert sp.method["theta2"] == "quadrature"
    assert _close(sp.theta2, Rational(1, 4), 40)


def test_hermite_parseval_for_erf():
    # θ2 = c_1², and Σ_{k≤K} c_k²/k! increases to θ1 (Bessel's inequality, then Parseval)
    c = constants("erf", hermite=15, dps=20)
    with mpmath.workdps(30):
        assert abs(c.hermite[1] ** 2 - c.theta2) < mpmath.mpf(10) ** -19
        partial = mpmath.fsum(c.hermite[k] ** 2 / math.factorial(k) for k in range(1, 16))
        assert partial <= c.theta1 * (1 + mpmath.mpf(10) ** -18)
        assert c.theta1 - partial < 2e-5


def test_hermite_expansion_convention():
    # the form of Parseval: with f(σz) = Σ a_k He_k(z), θ1 = Σ_{k≥1} k! a_k²
    c = constants("x**3 + 2*x**2 - x + 1", sigma=Rational(1, 2), hermite=4)
    a = c.hermite_expansion
    x = sympy.Symbol("x")
    poly = sympy.expand(sum(sympy.Rational(str(v)) * sympy.hermite_prob(k, x) for k, v in enumerate(a)))
    target = sympy.expand((x / 2) ** 3 + 2 * (x / 2) ** 2 - x / 2 + 1)
    assert sympy.expand(poly - target) == 0
    with mpmath.workdps(30):
        assert abs(mpmath.fsum(math.factorial(k) * a[k] ** 2 for k in range(1, 5)) - c.theta1) < 1e-14


def test_symbolic_parameter_expressions_evaluate_to_numbers():
    c = constants("leaky_relu(x, a)", sigma=SIGMA, hermite=3)
    a = sympy.Symbol("a", real=True)
    assert c.theta1 is None and c.exact["theta1"].free_symbols == {a, SIGMA}
    values = {a: Rational(1, 5), SIGMA: Rational(3, 2)}
    numeric = constants(Activation("leaky_relu(x, a)", a=0.2), sigma=1.5, dps=30, hermite=3, exact=False)
    for key in ("mean", "theta1", "theta2", "second_moment"):
        assert _close(getattr(numeric, key), c.exact[key].subs(values), 28), key
    for k in range(4):
        assert _close(numeric.hermite[k], c.exact["hermite"][k].subs(values), 28)
    assert _close(numeric.derivative_second_moment, c.exact["derivative_second_moment"].subs(values), 28)


def test_polynomial_with_parameters():
    c = constants("a*x + b*(x**2 - 1)")
    a, b = sympy.Symbol("a", real=True), sympy.Symbol("b", real=True)
    assert sympy.simplify(c.exact["theta1"] - (a ** 2 + 2 * b ** 2)) == 0
    assert sympy.simplify(c.exact["theta2"] - a ** 2) == 0
    assert c.exact["mean"] == 0


def test_linear_activation_has_eta_equal_zeta():
    c = constants("2*x + 1", sigma=Rational(3, 10))
    assert c.theta1 == c.theta2 == mpmath.mpf("0.36")


def test_cancellation_in_theta1():
    # f = 100 + tanh(x)/100: θ1 = E tanh² / 10⁴ although E f² ≈ 10⁴
    c = constants("100 + tanh(x)/100", dps=20)
    with mpmath.workdps(30):
        ref = constants("tanh(x)", dps=25).theta1 / 10 ** 4
        assert abs(c.theta1 - ref) <= mpmath.mpf(10) ** -20 * ref


def test_callable_activation():
    c = constants(lambda t: mpmath.tanh(t), dps=20)
    ref = constants("tanh", dps=20)
    assert c.theta1 == ref.theta1 and c.theta2 == ref.theta2
    assert c.derivative_second_moment is None and "callable" in c.method["derivative_second_moment"]
    assert c.exact["theta1"] is None


def test_periodic_kinks_max_sin():
    # E max(sin σZ, 0)² = E sin²(σZ)/2 and E[Z max(sin σZ, 0)] = E[Z sin σZ]/2 (symmetry)
    c = constants("max(sin(x), 0)", dps=20)
    assert c.method["theta1"] == "quadrature"  # kinks only known on [-100, 100]: no closed form
    assert _close(c.second_moment, (1 - sympy.exp(-2)) / 4, 20)
    assert _close(c.theta2, sympy.exp(-1) / 4, 20)


def test_errors():
    with pytest.raises(NotIntegrableError, match="theta1"):
        constants("exp(x**2/3)")  # E f finite, E f² infinite at σ = 1
    with pytest.raises(NotIntegrableError):
        constants("exp(x**2)")
    with pytest.raises(ValueError, match="sigma"):
        constants("relu", sigma=-1)
    with pytest.raises(ValueError, match="dps"):
        constants("relu", dps=0)
    with pytest.raises(ValueError, match="hermite"):
        constants("relu", hermite=-1)
    with pytest.raises(NrmtError, match="free symbols"):
        constants("tanh(a*x)")


# ------------------------------------------------------------------ exactness by fact (issue 12)

@pytest.mark.parametrize("text", ["abs(x)", "cos(x)", "x**2 - 1", "log(1 + x**2)", "exp(-x**2/2)",
                                  "abs(x) + tanh(x)**2", "max(x, 0) + max(-x, 0)"])
def test_even_activation_has_exact_zero_theta2_at_every_variance(text):
    # θ2 = (E[Z f(σZ)])² = 0 for even f by parity; at a layer's variance q_l given as an exact
    # number, an irrational, or an arbitrary-precision binary number (what the layers law passes)
    for sigma in (sympy.sqrt(Rational(9, 7)), mpmath.sqrt(mpmath.mpf("0.6180339887498948482045868")),
                  Rational(3, 2)):
        c = constants(text, sigma=sigma, dps=30)
        assert c.exact["theta2"] == 0 and c.exact["theta2"] is not None
        assert c.theta2 == 0 and c.stein == 0
    with mpmath.workdps(60):
        sig = mpmath.sqrt(mpmath.mpf(2) / 3)
    c = constants(text, sigma=sig, dps=50)
    assert c.exact["theta2"] == 0 and c.theta2 == 0


@pytest.mark.parametrize("text", ["tanh", "softsign", "hardtanh", "sign", "erf(x) + x"])
def test_odd_activation_has_exact_zero_mean(text):
    c = constants(text, sigma=mpmath.sqrt(mpmath.mpf("0.8")), dps=30)
    assert c.exact["mean"] == 0 and c.mean == 0


@pytest.mark.parametrize("text", ["x", "3*x - 2", "x/7 + 1"])
def test_linear_theta1_equals_theta2_exactly_at_binary_sigma(text):
    with mpmath.workdps(50):
        sig = mpmath.sqrt(mpmath.mpf("1.37"))
    c = constants(text, sigma=sig, dps=40)
    assert c.theta1 == c.theta2
    assert sympy.simplify(c.exact["theta1"] - c.exact["theta2"]) == 0


def test_tanh_50_digits_against_independent_mpmath():
    # the ball path against mpmath's tanh-sinh at 70 digits (a different algorithm and code)
    c = constants("tanh", sigma=Rational(4, 5), dps=50)
    with mpmath.workdps(70):
        s = mpmath.mpf(4) / 5
        w = lambda z: mpmath.exp(-z * z / 2) / mpmath.sqrt(2 * mpmath.pi)  # noqa: E731
        m2 = mpmath.quad(lambda z: mpmath.tanh(s * z) ** 2 * w(z), [-mpmath.inf, 0, mpmath.inf])
        st = mpmath.quad(lambda z: z * mpmath.tanh(s * z) * w(z), [-mpmath.inf, 0, mpmath.inf])
        assert abs(c.theta1 - m2) <= mpmath.mpf(10) ** -50 * m2
        assert abs(c.theta2 - st ** 2) <= mpmath.mpf(10) ** -50 * st ** 2


def test_high_precision_ball_path_against_closed_form_300_digits():
    # exact=False forces the ball integral; E erf(σZ)² = (2/π) asin(2σ²/(1 + 2σ²)) [Erf] and
    # E[Z erf(σZ)] = (2σ/√π)/√(1 + 2σ²) are independent closed forms
    sigma = Rational(3, 4)
    c = constants("erf(x)", sigma=sigma, dps=300, exact=False)
    assert c.method["theta1"] == "quadrature"
    assert _close(c.second_moment, 2 / pi * sympy.asin(2 * sigma ** 2 / (1 + 2 * sigma ** 2)), 300)
    assert _close(c.stein, 2 * sigma / sqrt(pi) / sqrt(1 + 2 * sigma ** 2), 300)
