"""Tests of nrmt.theory.gaussian: exact and quadrature Gaussian expectations, Hermite coefficients.

Every reference is independent of the code under test: closed forms derived by hand (source in
the table), mpmath quadratures written here with other split points and more digits, and numpy's
Gauss–Hermite rule.
"""

import math
import threading

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy import Rational, S, sqrt

from nrmt.theory.activations import Activation
from nrmt.theory.errors import NoConvergence, NotIntegrableError, NrmtError
from nrmt.theory.gaussian import (
    SIGMA, Z, gaussian_expectation, gaussian_expectation_float, hermite_coefficients,
)

pi = sympy.pi


def _phi(t):
    return sympy.exp(-t ** 2 / 2) / sqrt(2 * pi)


def _Phi(t):
    return (1 + sympy.erf(t / sqrt(2))) / 2


# Reference table: id -> (activation text, sigma, shift, weight, exact value, method, source)
REFERENCES = {
    "relu_mean": ("relu", 1, 0, 1, 1 / sqrt(2 * pi), "exact", "E max(Z,0) = φ(0)"),
    "relu_mean_sigma": ("relu", Rational(5, 2), 0, 1, Rational(5, 2) / sqrt(2 * pi), "exact", "scaling"),
    "relu_square": ("max(x, 0)**2", 3, 0, 1, Rational(9, 2), "exact", "E Z² 1{Z>0} = 1/2"),
    "relu_stein": ("relu", 3, 0, Z, Rational(3, 2), "exact", "E[Z max(σZ,0)] = σ/2"),
    "relu_shift": ("relu", 2, Rational(1, 2), 1,
                   2 * _phi(Rational(1, 4)) + Rational(1, 2) * _Phi(Rational(1, 4)), "exact",
                   "E max(σZ+b,0) = σφ(b/σ) + bΦ(b/σ)"),
    "abs_mean": ("abs(x)", 1, 0, 1, sqrt(2 / pi), "exact", "E|Z| = √(2/π)"),
    "sign_stein": ("sign", 1, 0, Z, sqrt(2 / pi), "exact", "E[Z sign Z] = E|Z|"),
    "x4": ("x**4", Rational(1, 2), 0, 1, Rational(3, 16), "exact", "E Z⁴ = 3"),
    "He3_square": ("(x**3 - 3*x)**2", 1, 0, 1, 6, "exact", "E He_3² = 3!"),
    "exp_lin": ("exp(x)", 2, 0, 1, sympy.exp(2), "exact", "E e^{tZ} = e^{t²/2}"),
    "x_exp": ("x*exp(x)", 1, 0, 1, sympy.exp(Rational(1, 2)), "exact", "d/dt e^{t²/2} at t=1"),
    "exp_quad": ("exp(-x**2)", 1, 0, 1, 1 / sqrt(3), "exact", "E e^{-Z²} = (1+2)^{-1/2}"),
    "exp_quad_pos": ("exp(x**2)", Rational(1, 2), 0, 1, sqrt(2), "exact", "E e^{Z²/4} = (1-1/2)^{-1/2}"),
    "erf_shift": ("erf(x + 1)", 1, 0, 1, sympy.erf(1 / sqrt(3)), "exact", "E erf(aZ+b) = erf(b/√(1+2a²))"),
    "erf_erf": ("erf(0.3*x)*erf(1.7*x)", 1, 0, 1,
                2 / pi * sympy.asin(2 * Rational(3, 10) * Rational(17, 10)
                                    / sqrt((1 + 2 * Rational(9, 100)) * (1 + 2 * Rational(289, 100)))),
                "exact", "E erf(aZ)erf(bZ) = (2/π) asin(2ab/√((1+2a²)(1+2b²)))"),
    "gelu_mean": ("gelu", 1, 0, 1, 1 / (2 * sqrt(pi)), "exact", "E[ZΦ(Z)] = Eφ(Z) = 1/(2√π) (Stein)"),
    "hardtanh_stein": ("hardtanh", 1, 0, Z, sympy.erf(1 / sqrt(2)), "exact", "E f'(Z) = P(|Z|<1)"),
    "log_abs": ("log(abs(x))", 1, 0, 1, -(sympy.EulerGamma + sympy.log(2)) / 2, "quadrature",
                "E log|Z| = -(γ + log 2)/2"),
    "softsign_odd": ("softsign", 1, 0, 1, 0, "exact", "odd function (parity, no integral)"),
    "sin_square": ("sin(x)**2", Rational(3, 2), 0, 1, (1 - sympy.exp(-2 * Rational(9, 4))) / 2, "exact",
                   "E sin²(σZ) = (1 − e^{−2σ²})/2 (E e^{iaZ} = e^{−a²/2})"),
    "cos_shift": ("cos(x)", 2, Rational(1, 3), 1, sympy.exp(-2) * sympy.cos(Rational(1, 3)), "exact",
                  "E cos(σZ + b) = e^{−σ²/2} cos b"),
    "x_sin": ("x*sin(x)", 1, 0, 1, sympy.exp(-Rational(1, 2)), "exact", "Stein: E[Z sin Z] = E cos Z"),
}


def _close(value, ref, dps):
    with mpmath.workdps(dps + 10):
        ref = mpmath.mpf(sympy.N(ref, dps + 10))
        tol = mpmath.mpf(10) ** (-dps) * max(abs(ref), mpmath.mpf(10) ** -3)
        return abs(value - ref) <= tol


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_reference_values_30_digits(name):
    text, sigma, shift, weight, ref, method, _source = REFERENCES[name]
    r = gaussian_expectation(text, sigma=sigma, shift=shift, weight=weight, dps=30)
    assert r.method == method
    assert _close(r.value, ref, 30), (r.value, sympy.N(ref, 35))
    if method == "exact":
        assert sympy.N(r.exact - ref, 40) == 0 or abs(sympy.N(r.exact - ref, 40)) < 1e-38


@pytest.mark.parametrize("name", ["relu_shift", "erf_erf", "exp_quad_pos", "gelu_mean", "hardtanh_stein", "x4"])
@pytest.mark.parametrize("dps", [15, 50])
def test_reference_values_by_quadrature(name, dps):
    text, sigma, shift, weight, ref, _method, _source = REFERENCES[name]
    r = gaussian_expectation(text, sigma=sigma, shift=shift, weight=weight, dps=dps, exact=False)
    assert r.method == "quadrature"
    assert _close(r.value, ref, dps)
    assert r.error <= mpmath.mpf(10) ** (-dps) * max(abs(r.value), 1)


# ------------------------------------------------------------------ independent quadratures

def _independent_mp(f, dps, sigma=1):
    """Plain mpmath quadrature at dps + 10 digits, split at other points than the library."""
    with mpmath.workdps(dps + 10):
        sigma = mpmath.mpf(sigma)  # given as an exact string or int
        g = lambda z: f(sigma * z) * mpmath.npdf(z)  # noqa: E731
        return mpmath.quad(g, [-mpmath.inf, -7, -2.5, -0.75, 0.6, 2.2, 8, mpmath.inf])


def _gauss_hermite(fn, sigma=1.0, n=200):
    z, w = np.polynomial.hermite_e.hermegauss(n)
    return float(np.sum(w * fn(sigma * z)) / math.sqrt(2 * math.pi))


def _scipy_quad(fn, sigma=1.0):
    """float64 reference by scipy's adaptive QUADPACK, split at 0."""
    from scipy.integrate import quad

    g = lambda z: float(fn(np.array(sigma * z))) * math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    return sum(quad(g, a, b, epsabs=1e-16, epsrel=1e-14, limit=200)[0] for a, b in ((-np.inf, 0), (0, np.inf)))


SMOOTH = {
    "tanh": (mpmath.tanh, np.tanh),
    "softplus": (lambda t: mpmath.log1p(mpmath.exp(t)), lambda t: np.logaddexp(0, t)),
    "gelu": (lambda t: t * mpmath.ncdf(t), lambda t: t * 0.5 * (1 + np.vectorize(math.erf)(t / math.sqrt(2)))),
    "tanh(x)**2": (lambda t: mpmath.tanh(t) ** 2, lambda t: np.tanh(t) ** 2),
    "sigmoid": (lambda t: 1 / (1 + mpmath.exp(-t)), lambda t: 1 / (1 + np.exp(-t))),
}


@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")
@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")
@pytest.mark.parametrize("name", sorted(SMOOTH))
def test_quadrature_50_digits_against_independent_evaluations(name):
    mp_f, np_f = SMOOTH[name]
    sigma = Rational(13, 10)
    r = gaussian_expectation(name, sigma=sigma, dps=50, exact=False)
    assert r.method == "quadrature"
    ref = _independent_mp(mp_f, 50, sigma="1.3")
    with mpmath.workdps(60):
        assert abs(r.value - ref) <= mpmath.mpf(10) ** -50 * max(abs(ref), 1)
    assert abs(float(r.value) - _scipy_quad(np_f, 1.3)) <= 1e-14


def test_gelu_exact_matches_quadrature_50_digits():
    for weight in (1, Z, Z ** 2):
        exact = gaussian_expectation("gelu**2", sigma=Rational(3, 4), weight=weight, dps=50)
        quad = gaussian_expectation("gelu**2", sigma=Rational(3, 4), weight=weight, dps=50, exact=False)
        assert exact.method == "exact" and quad.method == "quadrature"
        with mpmath.workdps(60):
            assert abs(exact.value - quad.value) <= mpmath.mpf(10) ** -50 * abs(quad.value)


# ------------------------------------------------------------------ symbolic results

SYMBOLIC = ["relu", "gelu", "gelu**2", "erf(x)**2", "elu", "elu**2", "hardtanh**2", "x*exp(x)", "abs(x)**3"]


@pytest.mark.parametrize("text", SYMBOLIC)
def test_symbolic_sigma_evaluates_to_numeric(text):
    r = gaussian_expectation(text, sigma=SIGMA)
    assert r.method == "exact" and r.value is None and r.exact.free_symbols <= {SIGMA}
    for s in (Rational(7, 10), Rational(9, 4)):
        from_formula = sympy.N(r.exact.subs(SIGMA, s), 40)
        numeric = gaussian_expectation(text, sigma=s, dps=30, exact=False)
        assert _close(numeric.value, from_formula, 28)


def test_symbolic_parameters_evaluate_to_numeric():
    a = sympy.Symbol("a", real=True)
    r = gaussian_expectation("leaky_relu(x, a)**2 + a*x**4", sigma=SIGMA)
    assert r.exact.free_symbols == {a, SIGMA}
    value = sympy.N(r.exact.subs({a: Rational(-3, 10), SIGMA: Rational(6, 5)}), 40)
    numeric = gaussian_expectation(Activation("leaky_relu(x, a)**2 + a*x**4", a=-0.3), sigma=1.2,
                                   dps=30, exact=False)
    assert _close(numeric.value, value, 28)


def test_wrong_closed_form_is_caught_by_the_cross_check(monkeypatch):
    import nrmt.theory.gaussian as g

    monkeypatch.setattr(g, "_exact_cached", lambda expr, sigma, shift, weight: sympy.Rational(1, 3))
    monkeypatch.setattr(g, "_RESULTS", {})
    with pytest.warns(RuntimeWarning, match="disagrees"):
        r = g.gaussian_expectation("tanh(x)**2", dps=20)
    assert r.method == "quadrature" and r.exact is None
    assert _close(r.value, sympy.Rational(394294490397841174416, 10 ** 21), 19)


def test_float_path_with_kinks_and_shifts():
    shifts = [-1.5, 0.0, 0.7]
    got = gaussian_expectation_float("hardtanh", sigma=0.8, shift=shifts)
    for b, value in zip(shifts, got):
        ref = gaussian_expectation("hardtanh", sigma=Rational(4, 5), shift=sympy.Rational(str(b)), dps=20).value
        assert abs(value - float(ref)) < 1e-14


def test_no_closed_form_with_free_symbols_is_an_error():
    with pytest.raises(NrmtError, match="free symbols"):
        gaussian_expectation("tanh(a*x)")
    with pytest.raises(NrmtError, match="sigma"):
        gaussian_expectation("tanh(x)**2", sigma=SIGMA)


@pytest.mark.parametrize("text, weight", [("tanh", 1), ("softsign", 1), ("hardtanh", 1), ("abs(x)", Z),
                                          ("cos(x) + x**2", Z ** 3 - 3 * Z), ("sign", Z ** 2)])
def test_odd_integrand_is_exactly_zero_at_every_sigma(text, weight):
    # parity proves E[w(Z) f(σZ)] = 0: an exact sympy zero at symbolic σ, at an irrational σ and
    # at an arbitrary-precision binary σ (a layer's sqrt(q_l)), never a small quadrature number
    for sigma in (SIGMA, sympy.sqrt(Rational(7, 3)), mpmath.sqrt(mpmath.mpf("0.73"))):
        r = gaussian_expectation(text, sigma=sigma, weight=weight, dps=40)
        assert r.exact is S.Zero and r.method == "exact"
        if sigma is not SIGMA:
            assert r.value == 0


def test_parity_decisions():
    from nrmt.theory.activations import Activation
    from nrmt.theory.gaussian import parity

    cases = {"tanh": -1, "abs(x)": 1, "hardtanh": -1, "relu": 0, "gelu": 0, "x*erf(x)": 1,
             "abs(x - 1) + abs(x + 1)": 1, "max(x, 1)": 0, "sign": -1, "mish": 0}
    for text, p in cases.items():
        assert parity(Activation(text).expr) == p, text


def test_odd_but_not_integrable_is_not_zero():
    # parity alone proves nothing without integrability: x exp(x^2) at sigma = 1 has no mean
    with pytest.raises(NotIntegrableError):
        gaussian_expectation("x*exp(x**2)")


# ------------------------------------------------------------------ failure modes

@pytest.mark.parametrize("text,sigma", [("exp(x**2)", 1), ("exp(x**2/2)", 1), ("exp(x**2)", 0.8),
                                        ("1/x", 1), ("1/(x - 1)**2", 1), ("abs(x)**(-1)", 2)])
def test_not_integrable(text, sigma):
    with pytest.raises(NotIntegrableError):
        gaussian_expectation(text, sigma=sigma)


def test_not_real_valued():
    with pytest.raises(ValueError, match="real"):
        gaussian_expectation("sqrt(x)")


def test_disagreeing_evaluations_raise_no_convergence():
    # a "function" whose value depends on the working precision: the two evaluations disagree
    def unstable(t):
        return 1 + mpmath.mpf(10) ** (-(mpmath.mp.dps // 2))

    with pytest.raises(NoConvergence):
        gaussian_expectation(unstable, dps=20)


def test_oscillating_integrand_retry_with_finer_split():
    # the first split (kinks and 0 only) cannot resolve sin(20σz)²; the retry splits every 1/4
    r = gaussian_expectation("sin(20*x)**2", dps=15, exact=False)
    assert r.method == "quadrature"
    assert _close(r.value, (1 - sympy.exp(-800)) / 2, 15)


def test_points_split_a_callable_at_its_jump():
    step = lambda t: mpmath.mpf(1) if t > 1 else mpmath.mpf(0)  # noqa: E731
    r = gaussian_expectation(step, sigma=2, dps=30, points=[1])
    assert _close(r.value, 1 - _Phi(Rational(1, 2)), 30)


def test_float_callable_limited_to_15_digits():
    f = Activation(lambda t: math.tanh(t) ** 2)
    r = gaussian_expectation(f, dps=15)
    assert r.method == "quadrature" and r.exact is None
    assert abs(float(r.value) - 0.39429449039784117) < 1e-15
    with pytest.raises(ValueError, match="15 digits"):
        gaussian_expectation(f, dps=30)


def test_numpy_ufunc_callable():
    # np.tanh refuses mpf arguments: evaluated on floats, 15 digits at most
    r = gaussian_expectation(lambda t: np.tanh(t) ** 2, dps=15)
    assert abs(float(r.value) - 0.39429449039784117) < 2e-15
    assert gaussian_expectation(np.tanh).value == 0
    with pytest.raises(ValueError, match="15 digits"):
        gaussian_expectation(np.tanh, dps=20)


def test_mpmath_callable_any_precision():
    r = gaussian_expectation(lambda t: mpmath.tanh(t) ** 2, dps=40)
    ref = _independent_mp(lambda t: mpmath.tanh(t) ** 2, 40)
    with mpmath.workdps(50):
        assert abs(r.value - ref) < mpmath.mpf(10) ** -40


@pytest.mark.parametrize("kwargs,exc", [
    ({"sigma": 0}, ValueError), ({"sigma": -1.0}, ValueError), ({"sigma": float("nan")}, ValueError),
    ({"dps": 0}, ValueError), ({"dps": True}, TypeError), ({"dps": 2.5}, TypeError),
    ({"shift": float("inf")}, ValueError), ({"sigma": sympy.Symbol("s")}, ValueError),
    ({"weight": sympy.Symbol("y")}, ValueError), ({"sigma": "foo(1)"}, ValueError),
])
def test_validation(kwargs, exc):
    with pytest.raises(exc):
        gaussian_expectation("relu", **kwargs)


def test_exact_path_outside_main_thread():
    out = {}
    thread = threading.Thread(target=lambda: out.setdefault("r", gaussian_expectation("gelu", dps=20)))
    thread.start()
    thread.join()
    assert out["r"].method == "exact"
    assert _close(out["r"].value, 1 / (2 * sqrt(pi)), 20)


def test_precision_not_leaked():
    before = mpmath.mp.dps
    gaussian_expectation("tanh(x)**2", dps=40, exact=False)
    assert mpmath.mp.dps == before


# ------------------------------------------------------------------ float path

def test_float_path_relu_with_shifts():
    shifts = np.linspace(-3, 3, 13)
    sigma = 1.7
    got = gaussian_expectation_float("relu", sigma=sigma, shift=shifts)
    t = shifts / sigma
    ref = sigma * np.exp(-t ** 2 / 2) / math.sqrt(2 * math.pi) + shifts * 0.5 * (1 + np.vectorize(math.erf)(t / math.sqrt(2)))
    assert got.shape == shifts.shape
    assert np.max(np.abs(got - ref)) < 1e-13


def test_float_path_far_mass_and_refusals():
    # E e^{20Z} = e^{200}: the mass sits at z = 20, outside the default window
    assert abs(gaussian_expectation_float("exp(20*x)") / math.exp(200) - 1) < 1e-12
    assert abs(gaussian_expectation_float("exp(x**2)", sigma=0.5) - math.sqrt(2)) < 1e-13
    with pytest.raises(NotIntegrableError):
        gaussian_expectation_float("exp(x**2)")
    with pytest.raises(ValueError):
        gaussian_expectation_float("log(x)")


def test_float_path_smooth_and_scalar():
    got = gaussian_expectation_float(np.tanh, sigma=1.3, shift=0.4)
    assert isinstance(got, float)
    ref = _gauss_hermite(lambda t: np.tanh(t + 0.4), 1.3)
    assert abs(got - ref) < 1e-13
    with pytest.raises(ValueError):
        gaussian_expectation_float(np.tanh, sigma=-1)


# ------------------------------------------------------------------ Hermite coefficients

def test_hermite_of_hermite_polynomials():
    for k in range(6):
        coeffs = hermite_coefficients(sympy.hermite_prob(k, sympy.Symbol("x")), order=6)
        expected = [math.factorial(k) if j == k else 0 for j in range(7)]
        assert [float(c) for c in coeffs] == expected


def test_hermite_relu_known_values():
    # ReLU: c_0 = 1/√(2π), c_1 = 1/2, c_2 = 1/√(2π), c_3 = 0, c_4 = -1/√(2π)  (E[max(Z,0) He_k(Z)])
    ref = [1 / sqrt(2 * pi), Rational(1, 2), 1 / sqrt(2 * pi), 0, -1 / sqrt(2 * pi)]
    got = hermite_coefficients("relu", order=4, dps=30, full=True)
    for r, e in zip(got, ref):
        assert r.method == "exact" and _close(r.value, e, 30)
    numeric = hermite_coefficients("relu", order=4, dps=20, exact=False)
    for v, e in zip(numeric, ref):
        assert _close(v, e, 20)


@settings(max_examples=12, deadline=None)
@given(coeffs=st.lists(st.integers(-4, 4), min_size=2, max_size=6),
       sigma=st.sampled_from([Rational(1, 2), Rational(1), Rational(3, 2), Rational(7, 3)]))
def test_parseval_property_on_random_polynomials(coeffs, sigma):
    x = sympy.Symbol("x", real=True)
    poly = sum(c * x ** i for i, c in enumerate(coeffs))
    if poly.free_symbols == set():
        return
    order = len(coeffs) - 1
    c = hermite_coefficients(poly, sigma=sigma, order=order + 2)
    assert all(v == 0 for v in c[order + 1:])  # a degree-d polynomial has no He_k, k > d
    second = gaussian_expectation(poly ** 2, sigma=sigma).exact
    mean = gaussian_expectation(poly, sigma=sigma).exact
    with mpmath.workdps(40):
        parseval = mpmath.fsum(mpmath.mpf(v) ** 2 / math.factorial(k) for k, v in enumerate(c) if k >= 1)
        theta1 = mpmath.mpf(sympy.N(second - mean ** 2, 40))
        assert abs(parseval - theta1) <= mpmath.mpf(10) ** -12 * max(1, abs(theta1))
