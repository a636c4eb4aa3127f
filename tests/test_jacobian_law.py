"""The Jacobian law (free multiplicative product): closed forms, moments, precision.

References: Marchenko–Pastur; Fuss–Catalan numbers (Mlotkowski 2010; Penson & Zyczkowski 2011);
ReLU at L = 1 is 2 MP(1/2) on half the mass; moments from the S-transform by sympy's Lagrange
inversion (nrmt.theory.equations.jacobian), independent of the series code in nrmt.numerics.free.
"""

from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy

from nrmt.models.jacobian import Jacobian
from nrmt.numerics.free import free_product_moments, moments_from_s_series, s_series
from nrmt.numerics.jacobian import DerivativeLaw, JacobianLaw
from nrmt.theory.equations.jacobian import fuss_catalan, moments_exact, variance_exact


def test_series_roundtrip_and_fuss_catalan():
    cat = [Fraction(c) for c in (1, 2, 5, 14, 42)]
    assert moments_from_s_series(s_series(cat)) == cat
    for L in (1, 2, 3, 5):
        got = free_product_moments([(cat, L)], k=5)
        assert got == [fuss_catalan(L, n) for n in range(1, 6)]


@pytest.mark.parametrize("L", [1, 2, 3])
def test_linear_network_is_fuss_catalan(L):
    law = Jacobian("x", L, 1).law()
    assert np.allclose(law.moments(4), [float(fuss_catalan(L, n)) for n in range(1, 5)], rtol=1e-13)
    # moments of the numerical density (quadrature of -Im G/pi) equal the closed form
    a, b = law.support_mp[0]
    num = [float(law._integrate(a, b, weight=lambda x, j=j: x ** j)) for j in (1, 2, 3)]
    assert np.allclose(num, [float(fuss_catalan(L, n)) for n in (1, 2, 3)], rtol=1e-9)
    assert abs(float(b) - (L + 1) ** (L + 1) / L ** L) < 1e-9 * float(b)


@pytest.mark.parametrize("dps", [15, 40])
def test_depth_one_linear_is_marchenko_pastur(dps):
    law = Jacobian("x", 1, 1).law(dps=dps)
    xs = ["0.25", "1", "3.5"]
    got = law.density(xs)
    with mpmath.workdps(dps + 10):
        for x, g in zip(xs, got):
            x = mpmath.mpf(x)
            exact = mpmath.sqrt((4 - x) * x) / (2 * mpmath.pi * x)
            assert abs(mpmath.mpf(g) - exact) <= mpmath.mpf(10) ** (-dps + 1) * exact


def test_relu_depth_one_closed_form_30_digits():
    # J J^T = D W W^T D keeps N/2 rows: nonzero eigenvalues are 2 MP(1/2) with mass 1/2
    law = Jacobian("relu", 1, sympy.sqrt(2)).law(dps=30)
    assert law.atom == mpmath.mpf(1) / 2
    with mpmath.workdps(40):
        a, b = 2 * (1 - 1 / mpmath.sqrt(2)) ** 2, 2 * (1 + 1 / mpmath.sqrt(2)) ** 2
        lo, hi = law.support[0]
        assert abs(lo - a) < mpmath.mpf(10) ** -29 and abs(hi - b) < mpmath.mpf(10) ** -29
        for x in ("0.5", "1", "4"):
            x = mpmath.mpf(x)
            exact = mpmath.sqrt((b - x) * (x - a)) / (4 * mpmath.pi * x)
            assert abs(law.density(x) - exact) < mpmath.mpf(10) ** -29 * exact


@pytest.mark.parametrize("weights", ["iid", "orthogonal"])
def test_relu_moments_closed_form(weights):
    L = 3
    law = Jacobian("relu", L, sympy.sqrt(2), weights=weights).law()
    mu = [sympy.Rational(1, 2)] * 4                       # E lambda^j = 1/2 for lambda in {0, 1}
    exact = moments_exact(4, L, weights, 2, [mu])
    assert np.allclose(law.moments(4), [float(e) for e in exact], rtol=1e-13)
    # variance growth: Var = L mu2/mu1^2 (iid) or L (mu2/mu1^2 - 1) (orthogonal) at chi = 1
    var = float(variance_exact(L, weights, 2, [mu[:2]]))
    assert var == (2 * L if weights == "iid" else L)
    assert abs(law.moments(2)[1] - law.moments(2)[0] ** 2 - var) < 1e-12


def test_tanh_moments_numeric_density_and_product_of_chis():
    # off the fixed point (q0 given): mean = prod chi_l
    model = Jacobian("tanh", 2, "1.5", "0.2", q0="2")
    law = model.law()
    mf = model.mean_field(15)
    assert abs(law.moments(1)[0] - float(mpmath.fprod(mf["chi_layers"]))) < 1e-12
    assert len(set(float(q) for q in mf["q"])) == 2
    a, b = law.support_mp[0]
    num = [float(law._integrate(a, b, weight=lambda x, j=j: x ** j)) for j in (1, 2)]
    assert np.allclose(num, law.moments(2), rtol=1e-9)


def test_hard_tanh_atom_and_precision_agreement():
    model = Jacobian("hard_tanh(x)", 2, "1.0893", "0.2442")
    q = model.mean_field(30)["q_star"]
    with mpmath.workdps(40):
        atom = 1 - mpmath.erf(1 / mpmath.sqrt(2 * q))      # P(|sqrt(q) Z| > 1)
    law15, law30 = model.law(15), model.law(30)
    assert abs(law30.atom - atom) < mpmath.mpf(10) ** -28
    d15 = law15.density([0.3, 1.0, 2.0])
    d30 = law30.density(["0.3", "1", "2"])
    assert np.allclose(d15, [float(v) for v in d30], rtol=1e-12)


def test_orthogonal_differs_from_iid_and_cdf_from_tail():
    iid = Jacobian("tanh", 4, "1.29922", "0.19504").law()
    orth = Jacobian("tanh", 4, "1.29922", "0.19504", weights="orthogonal").law()
    assert abs(iid.moments(2)[1] - orth.moments(2)[1]) > 1.0
    # CDF is 1 at the upper edge and increasing; continuous mass 1 - atom is recovered
    x = np.array([1e-6, 1e-3, 0.1, 1.0, 5.0])
    c = iid.cdf(x)
    assert np.all(np.diff(c) > 0) and abs(iid.cdf(iid.support[0][1]) - 1) < 1e-12


def test_mp_matches_float_for_smooth_activation():
    law = JacobianLaw([DerivativeLaw("tanh", mpmath.mpf("0.5"))] * 2, sympy.Rational(13, 10), dps=30)
    x = ["0.7", "2.5"]
    d30 = law.density(x)
    d15 = law.with_dps(15).density([0.7, 2.5])
    assert np.allclose(d15, [float(v) for v in d30], rtol=1e-11)


def test_bad_input():
    with pytest.raises(ValueError):
        Jacobian("tanh", 0, 1)
    with pytest.raises(ValueError):
        Jacobian("tanh", 2, -1)
    with pytest.raises(ValueError):
        Jacobian("tanh", 2, 1, weights="gaussian")
    with pytest.raises(ValueError):
        DerivativeLaw("sign(x)", 1)


@pytest.mark.parametrize("dps", [15, 30])
def test_orthogonal_relu_depth_two_is_arcsine(dps):
    # D2 O2 D1 O1: two free projections of trace 1/2 (scaled by sigma_w^4): PQP has the law
    # 1/2 delta_0 + dx / (2 pi sqrt(x (1 - x))) on [0, 1] (Voiculescu; Nica & Speicher, Lecture 14)
    law = Jacobian("relu", 2, "1.4", weights="orthogonal").law(dps=dps)
    with mpmath.workdps(dps + 10):
        s = mpmath.mpf("1.4") ** 4
        assert abs(law.support[0][1] - s) < mpmath.mpf(10) ** (-dps + 2) * s
        for y in ("0.5", "2"):
            t = mpmath.mpf(y) / s
            exact = 1 / (2 * mpmath.pi * s * mpmath.sqrt(t * (1 - t)))
            assert abs(law.density(y) - exact) < mpmath.mpf(10) ** (-dps + 2) * exact
    with pytest.raises(ValueError, match="purely atomic"):
        Jacobian("relu", 1, "1.4", weights="orthogonal").law()


def test_cdf_at_30_digits_relu_depth_one():
    law = Jacobian("relu", 1, sympy.sqrt(2)).law(dps=30)
    c = law.cdf("1")
    with mpmath.workdps(45):
        a, b = 2 * (1 - 1 / mpmath.sqrt(2)) ** 2, 2 * (1 + 1 / mpmath.sqrt(2)) ** 2
        exact = mpmath.mpf(1) / 2 + mpmath.quad(
            lambda x: mpmath.sqrt((b - x) * (x - a)) / (4 * mpmath.pi * x), [a, 1])
        assert abs(c - exact) < mpmath.mpf(10) ** -29


def test_hard_tanh_depth_one_is_compressed_marchenko_pastur_30_digits():
    # q_1 = sigma_w^2 q0 = 1: D^2 is a projection of rank r N, r = P(|Z| < 1) = erf(1/sqrt 2), so
    # the nonzero eigenvalues of D W W^T D are those of X X^T, X (r N) x N with entries of
    # variance 1/N: Marchenko-Pastur of ratio r on [(1 - sqrt r)^2, (1 + sqrt r)^2] with total
    # mass r and density sqrt((b - x)(x - a)) / (2 pi x) (Marchenko & Pastur 1967). The edges are
    # solved by _edge_mp on a two-atom layer law (its inner Newton stops at its rounding floor).
    law = Jacobian("hardtanh(x)", 1, 1, q0=1).law(dps=30)
    with mpmath.workdps(40):
        r = mpmath.erf(1 / mpmath.sqrt(2))
        a, b = (1 - mpmath.sqrt(r)) ** 2, (1 + mpmath.sqrt(r)) ** 2
        assert abs(law.atom - (1 - r)) < mpmath.mpf(10) ** -29
        lo, hi = law.support[0]
        assert abs(lo - a) < mpmath.mpf(10) ** -29 * a and abs(hi - b) < mpmath.mpf(10) ** -29 * b
        for x in ("0.1", "1", "2.5"):
            x = mpmath.mpf(x)
            exact = mpmath.sqrt((b - x) * (x - a)) / (2 * mpmath.pi * x)
            assert abs(law.density(x) - exact) < mpmath.mpf(10) ** -28 * exact


@pytest.mark.slow
def test_hard_tanh_deep_iid_lower_edge_far_below_the_first_scan():
    # hard-tanh, iid, q0 = 1 at chi = 1: sixteen distinct two-atom layer laws; the product has an
    # atom at 0 (Belinschi 2003: the largest layer atom, P(|Z| > 1)) and its continuous part stops
    # at x_- ~ 5e-13 x_+, below the first scan point 1e-9 x_+. Below x_- the density is 0 (G real),
    # above it positive; the edge is also solved at 30 digits (the inner Newton used to cycle).
    model = Jacobian("hardtanh(x)", 16, 1, q0=1)
    law = model.law(15)
    (lo, hi), = law.support
    assert 1e-14 * hi < lo < 1e-10 * hi
    assert abs(law.atom - float(1 - mpmath.erf(1 / mpmath.sqrt(2)))) < 1e-15
    below = law.density(np.array([lo * 1e-3, lo * 0.5]))
    above = law.density(np.array([lo * 1.01, lo * 10]))
    assert np.all(below == 0) and np.all(above > 0)
    law30 = model.law(30)
    law30._edge = law30._edge_float()
    with mpmath.workdps(40):
        edge = law30._edge_mp(*law30._edge)
    assert abs(float(edge) - hi) < 1e-13 * hi


@pytest.mark.parametrize("expr, fprime", [
    ("tanh(x)", lambda x: 1 / mpmath.cosh(x) ** 2),
    ("erf(x)", lambda x: 2 / mpmath.sqrt(mpmath.pi) * mpmath.exp(-x * x)),
])
def test_psi_transform_of_a_smooth_derivative_law_at_40_digits(expr, fprime):
    """1 + psi(u) = E 1/(1 - u lambda), lambda = f'(sqrt(q) Z)^2, by the trapezoid rule in Z
    (f without kinks) against mpmath's tanh-sinh quadrature, at a complex u and a real u
    inside 1/sup lambda."""
    q = mpmath.mpf("0.7")
    law = DerivativeLaw(expr, q)
    for u in (mpmath.mpc("0.4", "0.3"), mpmath.mpf("0.6")):
        with mpmath.workdps(40):
            psi1, _ = law.psi1_mp(u)
        with mpmath.workdps(60):
            lam = lambda z: fprime(mpmath.sqrt(q) * z) ** 2  # noqa: E731
            ref = mpmath.quad(lambda z: mpmath.npdf(z) / (1 - u * lam(z)), [-mpmath.inf, -3, 0, 3, mpmath.inf])
            assert abs(psi1 - ref) < mpmath.mpf(10) ** -38 * abs(ref)
