"""Certified enclosures (nrmt.numerics.certified_constants, nrmt.numerics.certified_density).

Every ball is checked against a reference that does not come from the code under test: closed
forms (ReLU, |x|, sign, exp, sin, Hermite polynomials; Marchenko–Pastur density and edges; the
Fuss–Catalan density of Penson–Życzkowski), and the 100-digit non-certified values of
nrmt.theory.constants (mpmath quadrature) and of the one-layer Law.
"""

import json
from fractions import Fraction

import mpmath
import pytest
import sympy
from flint import arb, ctx
from hypothesis import given, settings
from hypothesis import strategies as st

from nrmt.numerics.certified_constants import (
    NotCertifiableError,
    analytic_pieces,
    certified_constants,
    certified_gaussian_expectation,
    enclosure,
    growth_bound,
    tail_bound,
)
from nrmt.numerics.certified_density import (
    CertifiedOneLayer,
    certified_density,
    certified_discriminant_roots,
)
from nrmt.theory.activations import X
from nrmt.theory.errors import NotIntegrableError

pi, E, sqrt, erf, exp = sympy.pi, sympy.E, sympy.sqrt, sympy.erf, sympy.exp
R = sympy.Rational


def contains(ball, value, digits=None):
    """``value`` (exact sympy number, or an mpf / decimal string taken with ``digits`` digits)
    lies in ``ball``."""
    from nrmt.numerics.certified_constants import arb_value

    with ctx.workprec(max(ball.bits(), 64) + 400):
        if isinstance(value, sympy.Basic):
            inner = arb_value(value)
        else:
            with mpmath.workdps((digits or 120) + 10):
                text = mpmath.nstr(mpmath.mpf(value), digits or 120, strip_zeros=False)
            inner = arb(text)
        return ball.contains(inner)


def agrees(ball, value, digits):
    """A non-certified ``value`` claimed correct to ``digits`` significant digits is consistent
    with the ball: the ball meets [value (1 - 10^-digits), value (1 + 10^-digits)]. (Containment
    of the rounded value itself is asked when the ball is wider than that rounding.)"""
    with mpmath.workdps(digits + 20):
        text = mpmath.nstr(mpmath.mpf(value), digits + 15, strip_zeros=False)
        tol = mpmath.nstr(abs(mpmath.mpf(value)) * mpmath.mpf(10) ** (-digits), 5)
    with ctx.workprec(max(ball.bits(), 64) + 400):
        near = arb(text) + arb(0, arb(tol))
        if ball.rad() > near.rad():
            return ball.contains(arb(text))
        return ball.overlaps(near)


def width(ball):
    return float(2 * ball.rad())


# --------------------------------------------------------------------------- reference table

# name -> (activation, sigma, {constant: exact value}, source)
CONSTANTS = {
    "relu": ("max(x, 0)", 1, {"mean": 1 / sqrt(2 * pi), "theta1": R(1, 2) - 1 / (2 * pi),
                              "theta2": R(1, 4)}, "E max(Z,0) = 1/sqrt(2 pi), E max(Z,0)^2 = 1/2"),
    "relu-sigma": ("max(x, 0)", R(4, 5), {"mean": R(4, 5) / sqrt(2 * pi),
                                          "theta1": R(16, 25) * (R(1, 2) - 1 / (2 * pi)),
                                          "theta2": R(16, 25) / 4}, "homogeneity of ReLU"),
    "abs": ("abs(x)", R(3, 2), {"mean": R(3, 2) * sqrt(2 / pi), "theta1": R(9, 4) * (1 - 2 / pi),
                                "theta2": 0}, "half-normal moments"),
    "sign": ("sign(x)", 1, {"mean": 0, "theta1": 1, "theta2": 2 / pi}, "E|Z| = sqrt(2/pi)"),
    "He3": ("x**3 - 3*x", 1, {"mean": 0, "theta1": 6, "theta2": 0}, "E He_3^2 = 3!"),
    "linear": ("2*x", R(4, 5), {"mean": 0, "theta1": R(64, 25), "theta2": R(64, 25)}, "E Z^2 = 1"),
    "exp": ("exp(x)", 1, {"mean": sqrt(E), "theta1": E ** 2 - E, "theta2": E},
            "lognormal moments"),
    "sin": ("sin(x)", 1, {"mean": 0, "theta1": (1 - exp(-2)) / 2, "theta2": exp(-1)},
            "E cos(tZ) = exp(-t^2/2)"),
    "hardtanh": ("hardtanh(x)", 1, {"mean": 0, "theta2": erf(1 / sqrt(2)) ** 2},
                 "Stein: E f' = P(|Z| < 1)"),
    "gelu": ("gelu(x)", 1, {"mean": 1 / (2 * sqrt(pi)), "theta2": R(1, 4)},
             "E Z Phi(Z) = 1/(2 sqrt(pi)); E f' = 1/2"),
}


@pytest.mark.parametrize("dps", [15, 30, 100])
@pytest.mark.parametrize("name", list(CONSTANTS))
def test_closed_forms_lie_in_the_balls(name, dps):
    spec, sigma, values, _source = CONSTANTS[name]
    c = certified_constants(spec, sigma=sigma, dps=dps, check_exact=False)
    for key, value in values.items():
        ball = getattr(c, key)
        assert contains(ball, sympy.sympify(value)), (name, key, ball)
        assert width(ball) <= 10.0 ** (-dps + 5)


@pytest.mark.parametrize("spec", ["elu(x)", "hardtanh(x)", "gelu(x)"])
def test_balls_contain_the_100_digit_quadrature_values(spec):
    from nrmt.theory.constants import constants

    ref = constants(spec, dps=100)
    c = certified_constants(spec, dps=90, check_exact=False)
    for key in ("mean", "theta1", "theta2"):
        assert agrees(getattr(c, key), getattr(ref, key), digits=100), (spec, key)


@pytest.mark.parametrize("spec, sigma", [
    ("leaky_relu(x, 1/10)", R(3, 2)), ("elu(x, 2)", R(1, 2)), ("softplus(x)", 3),
    ("max(x**2 - 2, 0) - 1", R(6, 5)),
])
def test_balls_agree_with_quadrature_across_the_catalogue(spec, sigma):
    from nrmt.theory.constants import constants

    ref = constants(spec, sigma=sigma, dps=25, exact=False)
    c = certified_constants(spec, sigma=sigma, dps=25, check_exact=False)
    for key in ("mean", "theta1", "theta2"):
        assert agrees(getattr(c, key), getattr(ref, key), digits=24), (spec, key)


def test_balls_shrink_with_precision():
    widths = []
    for dps in (15, 30, 60):
        c = certified_constants("softplus(x)", dps=dps, check_exact=False)
        w = max(width(c.mean), width(c.theta1), width(c.theta2))
        assert w <= 10.0 ** (-dps + 5)
        widths.append(w)
    assert widths[0] > widths[1] > widths[2]


def test_exact_forms_are_checked_and_agree():
    c = certified_constants("max(x, 0)", sigma=0.8, dps=20)
    assert c.method["theta1"].endswith("closed form agrees")


def test_symmetry_gives_exact_zeros():
    c = certified_constants("abs(x) - 1", dps=15, check_exact=False)
    assert c.exact["theta2"] == 0 and c.theta2.is_zero()
    c = certified_constants("tanh(x)", dps=15, check_exact=False)
    assert c.exact["mean"] == 0 and c.mean.is_zero()


def test_gaussian_expectation_of_a_non_polynomial_kink():
    # E max(Z^2 - 2, 0) with kinks at -sqrt(2), sqrt(2) (irrational: handled as balls)
    b = certified_gaussian_expectation("max(x**2 - 2, 0)", dps=30)
    with mpmath.workdps(60):
        # E (Z^2 - 2) 1{|Z| > a} = 2 [a phi(a) + P(Z > a)] - 4 P(Z > a)
        a = mpmath.sqrt(2)
        phi = mpmath.npdf(a)
        tail = mpmath.ncdf(-a)
        ref = 2 * (a * phi + tail) - 4 * tail
    assert contains(b, ref, digits=50), (b, ref)


def test_pieces_follow_nested_selectors():
    pieces = analytic_pieces(sympy.Max(0, sympy.Min(1, X / 6 + R(1, 2))))
    assert [p[0] for p in pieces] == [-sympy.oo, -3, 3]
    assert [p[2] for p in pieces] == [0, X / 6 + R(1, 2), 1]


def test_tail_bound_is_an_upper_bound():
    # |x| <= 1 + |x|: the exact tail 2 E|Z| 1{|Z| > L} = 4 phi(L) must be below the bound
    g = growth_bound(X)
    with ctx.workprec(100):
        for L in (2, 5, 10):
            bound = tail_bound(g, arb(1), L)
            exact = 4 * mpmath.npdf(L)
            assert bound >= arb(mpmath.nstr(exact, 30))


@pytest.mark.parametrize("spec, error", [
    (lambda x: x, NotCertifiableError),
    ("leaky_relu(x, a)", NotCertifiableError),
    ("max(tanh(x), x/2)", NotCertifiableError),
    ("exp(x**2)", NotIntegrableError),
])
def test_refusals(spec, error):
    with pytest.raises(error):
        certified_constants(spec, dps=15, check_exact=False)


# --------------------------------------------------------------------------- enclosure strings

@settings(max_examples=200, deadline=None)
@given(st.fractions(min_value=-1000, max_value=1000), st.integers(min_value=1, max_value=40))
def test_enclosure_strings_round_outward(q, dps):
    with ctx.workprec(300):
        ball = arb(q.numerator) / q.denominator
        lo, hi = enclosure(ball, dps)
        lo_q, hi_q = Fraction(lo), Fraction(hi)
        from nrmt.numerics.certified_constants import arb_to_fraction

        assert lo_q <= arb_to_fraction(ball.lower()) and arb_to_fraction(ball.upper()) <= hi_q
    if q != 0:
        assert abs(hi_q - lo_q) <= abs(q) * Fraction(10) ** (1 - dps) * 2


# --------------------------------------------------------------------------- densities

def _mpf(q):
    """The rational q as an mpf with 130 digits (not at the ambient 15)."""
    q = sympy.Rational(q)
    with mpmath.workdps(130):
        return mpmath.mpf(int(q.p)) / int(q.q)


def _mp_density(x, c, eta=1):
    """Marchenko–Pastur density, ratio c, scale eta (Marchenko & Pastur 1967)."""
    a, b = eta * (1 - mpmath.sqrt(c)) ** 2, eta * (1 + mpmath.sqrt(c)) ** 2
    if not a < x < b:
        return mpmath.mpf(0)
    return mpmath.sqrt((b - x) * (x - a)) / (2 * mpmath.pi * c * eta * x)


def _fuss_catalan(x):
    """Penson & Życzkowski, Phys. Rev. E 83, 061118 (2011): the s = 2 Fuss–Catalan density."""
    s = mpmath.sqrt(81 - 12 * x)
    c2 = mpmath.cbrt(2)
    return c2 * mpmath.sqrt(3) / (12 * mpmath.pi) * (c2 * (27 + 3 * s) ** (mpmath.mpf(2) / 3)
                                                     - 6 * mpmath.cbrt(x)) / (
        x ** (mpmath.mpf(2) / 3) * (27 + 3 * s) ** (mpmath.mpf(1) / 3))


@pytest.mark.parametrize("dps", [15, 50])
@pytest.mark.parametrize("phi, psi, eta", [(1, 2, 1), (2, R(1, 2), R(3, 2)), (R(1, 3), 1, 1)])
def test_marchenko_pastur_density_in_the_balls(phi, psi, eta, dps):
    c = sympy.Rational(phi) / sympy.Rational(psi)
    lo, hi = (eta * (1 - sympy.sqrt(c)) ** 2, eta * (1 + sympy.sqrt(c)) ** 2)
    xs = [lo + (hi - lo) * t for t in (R(1, 10), R(1, 2), R(9, 10))] + [hi + 1, -1]
    xs = [sympy.nsimplify(v) for v in xs]
    xs_q = [R(sympy.floor(v * 10 ** 6), 10 ** 6) for v in xs]  # rational points
    balls = certified_density(xs_q, phi, psi, eta, 0, dps=dps)
    with mpmath.workdps(dps + 30):
        for x, b in zip(xs_q, balls):
            ref = _mp_density(_mpf(x), _mpf(c), _mpf(eta))
            assert contains(b, ref, digits=dps + 25), (x, b, ref)
            assert width(b) <= 10.0 ** (-dps + 5)
    assert balls[-1].is_zero() and balls[-2].is_zero()  # outside the support: exactly 0


def test_marchenko_pastur_edges_in_the_balls():
    edges = certified_discriminant_roots(2, R(1, 2), R(3, 2), 0, dps=40)
    assert len(edges) == 2
    assert contains(edges[0], R(3, 2)) and contains(edges[1], R(3, 2) * 9)


@pytest.mark.parametrize("x", [R(1, 2), 1, 3, 6])
def test_fuss_catalan_density_in_the_balls(x):
    [b] = certified_density([x], 1, 1, 1, 1, dps=40)
    with mpmath.workdps(80):
        assert contains(b, _fuss_catalan(_mpf(x)), digits=70)


def test_fuss_catalan_edge():
    edges = certified_discriminant_roots(1, 1, 1, 1, dps=30)
    assert any(contains(e, R(27, 4)) for e in edges)


def test_zero_density_near_the_atom():
    # φ > ψ: atom 1 - ψ/φ at 0 and a gap before the support; ρ = 0 exactly there
    balls = certified_density([R(1, 10 ** 6), R(1, 1000), R(1, 20)], 3, 1, R(1, 2), R(1, 3), dps=20)
    assert all(b.is_zero() for b in balls)


def test_too_close_to_an_edge_is_refused():
    # MP with c = 1/2: lower edge (1 - 1/sqrt 2)^2 = 0.0857864376...
    with pytest.raises(NotCertifiableError):
        certified_density(["0.08578643762690495119831127579030192143"], 1, 2, 1, 0, dps=15)


def test_undecidable_degree_is_refused():
    with ctx.workprec(100):
        t2 = arb(0, 1e-30)
    with pytest.raises(NotCertifiableError):
        certified_density([1], 1, 2, 1, t2, dps=15)


@pytest.fixture(scope="module")
def tanh_model():
    from nrmt.models.one_layer import OneLayer

    return OneLayer("tanh(x)", phi=R(1, 2), psi=2)


def test_balls_contain_the_100_digit_density_of_the_law():
    from nrmt.models.one_layer import OneLayer

    model = OneLayer.from_constants(R(1, 2), R(1, 3), phi=R(1, 2), psi=2)
    xs = [R(1, 5), R(1, 2), 1, 2]
    ref = model.law(dps=100).density([_mpf(x) for x in xs])
    cert = certified_density(xs, R(1, 2), 2, R(1, 2), R(1, 3), dps=90)
    for x, b, r in zip(xs, cert, ref):
        assert agrees(b, r, digits=100), (x, b, r)
        assert width(b) <= 1e-85


def test_certified_model_agrees_with_the_law_at_30_digits(tanh_model):
    xs = [R(1, 5), R(1, 2), 1]
    ref = tanh_model.law(dps=30).density([_mpf(x) for x in xs])
    cert = tanh_model.certified(dps=30)
    for b, r in zip(cert.density(xs), ref):
        assert agrees(b, r, digits=30)
        assert width(b) <= 1e-25
    # and the certified θ balls agree with the model's 50-digit quadrature values
    t1, t2 = tanh_model.thetas(30)
    assert agrees(cert.constants.theta1, t1, digits=50)
    assert agrees(cert.constants.theta2, t2, digits=50)


def test_discriminant_roots_contain_the_support_edges_of_the_law(tanh_model):
    law = tanh_model.law(dps=30)
    roots = tanh_model.certified(dps=30).discriminant_roots()
    edges = [e for pair in law.support for e in pair if e > 0]
    assert edges
    for edge in edges:
        # the law's edges are correct to 30 digits: they must meet one certified ball
        assert any(agrees(r, edge, digits=30) for r in roots), (edge, roots)


def test_fuss_catalan_from_constants():
    from nrmt.models.one_layer import OneLayer

    fc = OneLayer.from_constants(1, 1, phi=1, psi=1).certified(dps=20)
    [b] = fc.density([1])
    with mpmath.workdps(40):
        assert contains(b, _fuss_catalan(mpmath.mpf(1)), digits=35)


# --------------------------------------------------------------------------- CLI

def test_cli_constants_certified_json(capsys):
    from nrmt.cli import main

    assert main(["constants", "relu", "--certified", "--json", "--dps", "20"]) == 0
    out = json.loads(capsys.readouterr().out)
    lo, hi = out["enclosures"]["theta1"]
    with mpmath.workdps(40):
        exact = mpmath.mpf(1) / 2 - 1 / (2 * mpmath.pi)
        assert mpmath.mpf(lo) <= exact <= mpmath.mpf(hi)
    assert set(out["enclosures"]) == {"mean", "theta1", "theta2"}


def test_cli_constants_certified_refuses_free_parameters(capsys):
    from nrmt.cli import main

    assert main(["constants", "leaky_relu(x, a)", "--certified"]) == 2
    assert "certif" in capsys.readouterr().err



def test_cli_density_certified_json(capsys):
    from nrmt.cli import main

    code = main(["density", "--theta1", "1.5", "--theta2", "0", "--phi", "2", "--psi", "0.5",
                 "--x", "2,5,12,0", "--dps", "25", "--certified", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    enc = out["enclosures"]["density"]
    assert len(enc) == 4 and enc[3] is None and out["enclosures"]["uncertified"][0]["x"] == "0"
    with mpmath.workdps(50):
        for x, (lo, hi), printed in zip((2, 5, 12), enc, out["density"]):
            exact = _mp_density(mpmath.mpf(x), mpmath.mpf(4), mpmath.mpf(3) / 2)  # MP, c = 4
            assert mpmath.mpf(lo) <= exact <= mpmath.mpf(hi)
            assert mpmath.mpf(lo) <= mpmath.mpf(printed) <= mpmath.mpf(hi)
