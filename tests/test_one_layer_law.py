"""The one-layer law against independent references.

* theta2 = 0: the Marchenko-Pastur closed form (ratio c = phi/psi, scale theta1) at 50 digits;
* theta1 = theta2, phi = psi = 1: the Fuss-Catalan law (product Wishart): moments 1, 3, 12, 55 by
  integrating the density (independent of the series), support [0, 27/4], and the Penson-Zyczkowski
  closed-form density (K. A. Penson and K. Zyczkowski, Phys. Rev. E 83, 061118 (2011), s = 2) at
  30 digits;
* closed-form moments (series at infinity) vs integration of the density, mass = 1 - atom;
* dps = 30 vs dps = 60, float path vs the mp path;
* Monte Carlo: eigenvalues of Peche's linear equivalent Y = sqrt(theta2) W0 X0 / sqrt(n0)
  + sqrt(theta1 - theta2) Z (S. Peche, Electron. Commun. Probab. 24 (2019)), sampled here with
  numpy (fixed seeds), for tanh-like constants at psi < 1, psi = 1, psi > 1 and phi > psi, and
  sampled networks; tolerances in units of compare()'s noise scales (tests/noise.py).
"""

import mpmath
import numpy as np
import pytest
import sympy as sp

from nrmt.models.one_layer import OneLayer, OneLayerLaw
from nrmt.numerics.compare import compare
from noise import assert_ks_agrees, assert_ks_disagrees, assert_moments_agree

TANH = (0.394294490397841, 0.366879164362411)  # theta1, theta2 of tanh at sigma = 1 (15 digits)


def mp_ref_density(x, c, s):
    a, b = s * (1 - mpmath.sqrt(c)) ** 2, s * (1 + mpmath.sqrt(c)) ** 2
    if not a < x < b:
        return mpmath.mpf(0)
    return mpmath.sqrt((b - x) * (x - a)) / (2 * mpmath.pi * c * s * x)


def fuss_catalan_density(x):
    """Penson-Zyczkowski density of the product of two Wishart (s = 2) on (0, 27/4)."""
    r = mpmath.sqrt(81 - 12 * x)
    A = 27 + 3 * r
    c = mpmath.cbrt(2) * mpmath.sqrt(3) / (12 * mpmath.pi)
    return c * (mpmath.cbrt(2) * A ** (mpmath.mpf(2) / 3) - 6 * mpmath.cbrt(x)) / (
        x ** (mpmath.mpf(2) / 3) * mpmath.cbrt(A))


@pytest.mark.parametrize("phi,psi", [(sp.Rational(1, 2), 2), (2, sp.Rational(1, 2)), (1, 3)])
def test_marchenko_pastur_50_digits(phi, psi):
    t1 = sp.Rational(3, 2)
    law = OneLayerLaw(phi, psi, t1, 0, dps=50)
    assert law.degree == 2
    with mpmath.workdps(60):
        c, s = mpmath.mpf(sp.Rational(phi, psi).p) / sp.Rational(phi, psi).q, mpmath.mpf(3) / 2
        a, b = s * (1 - mpmath.sqrt(c)) ** 2, s * (1 + mpmath.sqrt(c)) ** 2
        xs = [a + (b - a) * mpmath.mpf(k) / 5 for k in range(1, 5)]
        ref = [mp_ref_density(x, c, s) for x in xs]
        got = law.density(xs)
        tol = mpmath.mpf(10) ** -49
        for g, r in zip(got, ref):
            assert abs(g - r) <= tol * r
        (lo, hi), = law.support
        assert abs(lo - a) <= tol * b and abs(hi - b) <= tol * b
        assert law.atom == max(0, 1 - 1 / c) or abs(law.atom - max(0, 1 - 1 / c)) <= tol


def test_fuss_catalan():
    law = OneLayerLaw(1, 1, 1, 1)
    assert law.degree == 3
    assert law.support == [(0.0, 6.75)]
    assert law.atom == 0
    num = law._moments_numeric(4)  # integration of x^k rho: independent of the series
    assert np.allclose([float(v) for v in num], [1, 3, 12, 55], rtol=1e-13)
    assert np.allclose(law.moments(4), [1, 3, 12, 55], rtol=0, atol=0)
    law30 = law.with_dps(30)
    with mpmath.workdps(40):
        for x in ["0.001", "0.5", "3", "6.7"]:
            r = fuss_catalan_density(mpmath.mpf(x))
            assert abs(law30.density(x) - r) <= mpmath.mpf(10) ** -29 * r


@pytest.mark.parametrize("phi,psi", [(1, 0.5), (0.5, 1), (0.5, 2), (2, 0.5), (0.5, 0.5)],
                         ids=["psi<1", "psi=1", "psi>1", "phi>psi", "phi=psi<1"])
def test_moments_and_mass_float(phi, psi):
    law = OneLayerLaw(phi, psi, *TANH)
    assert law.mass() == pytest.approx(1.0, abs=2e-14)
    exact = law.moments(4)
    num = np.array([float(v) for v in law._moments_numeric(4)])
    assert np.allclose(num, exact, rtol=1e-12)
    assert law.atom == pytest.approx(max(0.0, 1 - psi / phi), abs=0)


def test_mass_to_dps_digits():
    law = OneLayerLaw(2, 1, sp.Rational(2, 5), sp.Rational(1, 3), dps=20)  # atom 1/2
    with mpmath.workdps(30):
        assert abs(law.mass() - 1) <= mpmath.mpf(10) ** -19
        assert law.atom == mpmath.mpf(1) / 2


def test_dps_30_vs_60_and_float():
    law30 = OneLayerLaw(sp.Rational(1, 2), sp.Rational(3, 2), sp.Rational(2, 5), sp.Rational(1, 3), dps=30)
    law60 = law30.with_dps(60)
    x = ["0.05", "0.3", "1.1"]
    d30, d60 = law30.density(x), law60.density(x)
    with mpmath.workdps(70):
        for a, b in zip(d30, d60):
            assert abs(a - b) <= mpmath.mpf(10) ** -29 * b
        for a, b in zip(law30.support[0], law60.support[0]):
            assert abs(a - b) <= mpmath.mpf(10) ** -29 * abs(b)
    # the float path over many points against the 30-digit path on a subset
    lawf = law30.with_dps(15)
    lo, hi = lawf.support[0]
    xs = np.linspace(lo, hi, 4001)
    rho = lawf.density(xs)
    sub = xs[::400]
    ref = np.array([float(v) for v in law30.density(list(sub))])
    assert np.all(np.abs(rho[::400] - ref) <= 1e-14 * np.abs(ref) + 1e-300)


def test_linear_atom_and_psi_below_one():
    # linear f (theta1 = theta2): atom max(0, 1 - psi min(1, 1/phi)); psi < 1 < phi
    law = OneLayerLaw(sp.Rational(1, 2), sp.Rational(1, 4), 1, 1)
    assert law.atom == pytest.approx(0.75)
    assert law.mass() == pytest.approx(1.0, abs=1e-13)
    # nonlinear, psi < 1 but psi >= phi: no atom although n1 > n0
    law = OneLayerLaw(sp.Rational(1, 4), sp.Rational(1, 2), *TANH)
    assert law.atom == 0 and law.mass() == pytest.approx(1.0, abs=1e-13)


def _linear_equivalent(theta1, theta2, n0, n1, m, rng):
    """Eigenvalues of (1/m) Y Y^T, Y = sqrt(theta2) W0 X0 / sqrt(n0) + sqrt(theta1 - theta2) Z."""
    W = rng.standard_normal((n1, n0))
    X = rng.standard_normal((n0, m))
    Y = np.sqrt(theta2) * (W @ X) / np.sqrt(n0) + np.sqrt(theta1 - theta2) * rng.standard_normal((n1, m))
    small = Y.T @ Y if m < n1 else Y @ Y.T  # the smaller Gram matrix; the zeros are added back
    return np.concatenate([np.linalg.eigvalsh(small) / m, np.zeros(max(0, n1 - m))])


@pytest.mark.parametrize("phi,psi", [(1, 0.5), (0.5, 1), (0.5, 2), (2, 0.5)],
                         ids=["psi<1", "psi=1", "psi>1", "phi>psi"])
def test_monte_carlo_linear_equivalent(phi, psi):
    """KS and moments against the law, in units of compare()'s noise scales (tests/noise.py)."""
    law = OneLayerLaw(phi, psi, *TANH)
    rng = np.random.default_rng(20240 + int(10 * phi + psi))
    trials = 6
    comparisons = []
    for n0 in (100, 200):                 # two sizes: the moments' O(1/n) bias extrapolated away
        n1, m = int(round(n0 / psi)), int(round(n0 / phi))
        sample = np.stack([_linear_equivalent(*TANH, n0, n1, m, rng) for _ in range(trials)])
        comparisons.append(compare(sample, law, moments=3))
        # the rank of Y is min(n1, m, n0 + n1 ...): the atom is exact, not a fluctuation
        assert comparisons[-1].atom_sample == pytest.approx(law.atom, abs=0.5 / n1)
    small, large = comparisons
    assert_ks_agrees(small)
    assert_ks_agrees(large)
    assert_moments_agree(small, large, [float(v) for v in law.moments(3)])


def test_model_with_activation_and_sigma_w_sigma_x():
    a = OneLayer("tanh(x)", 1, 0.5, sigma=1.2)
    b = OneLayer("tanh(x)", 1, 0.5, sigma_w=1.5, sigma_x=0.8)
    ma, mb = a.law().moments(4), b.law().moments(4)
    assert np.allclose(ma, mb, rtol=1e-14)
    # the notes' Monte Carlo table (tanh, sigma_w = 1.5, sigma_x = 0.8): theory m1..m4
    assert np.allclose(ma, [0.4609, 0.9876, 2.8234, 9.2486], atol=6e-5)
    relu = OneLayer("relu(x)", 1, 1)
    eq = relu.equation
    assert any(c.has(sp.pi) for c in eq.all_coeffs())  # exact constants -> exact coefficients


@pytest.mark.parametrize("bad", [dict(phi=0), dict(psi=-1), dict(phi=float("nan")), dict(psi=float("inf"))])
def test_bad_parameters(bad):
    kw = dict(phi=1, psi=1)
    kw.update(bad)
    with pytest.raises(ValueError):
        OneLayer("tanh(x)", **kw)
    with pytest.raises(ValueError):
        OneLayerLaw(kw["phi"], kw["psi"], *TANH)


def test_bad_constants_and_dps():
    with pytest.raises(ValueError, match="theta2 must be <= theta1"):
        OneLayerLaw(1, 1, 0.3, 0.4)
    with pytest.raises(ValueError):
        OneLayerLaw(1, 1, 0.3, -0.1)
    with pytest.raises(ValueError):
        OneLayer("tanh(x)", 1, 1).law(dps=0)


@pytest.mark.parametrize("act,phi,psi", [
    ("tanh(x)", 1, 0.5),      # psi < 1 (atom 1/2)
    ("abs(x)", 0.5, 1),       # psi = 1, theta2 = 0 (Marchenko-Pastur); x^3 - 3x converges too slowly
    ("x**2 + x", 0.5, 2),     # psi > 1, a polynomial
    ("relu(x)", 2, 0.5),      # phi > psi (atom 3/4)
], ids=["tanh-psi<1", "abs-psi=1", "poly-psi>1", "relu-phi>psi"])
def test_monte_carlo_networks(act, phi, psi):
    """Eigenvalues of (1/m) f(WX) f(WX)^T sampled by nrmt.numerics.sampling (two trials), KS in
    units of compare()'s noise scale; the law with the other extreme theta2 (0: Marchenko-Pastur,
    or theta1: linear) and the same theta1 lies outside it."""
    model = OneLayer(act, phi, psi)
    law = model.law()
    n0 = int(400 * psi)                    # n1 = 400 eigenvalues per trial
    sample = model.sample(n0, trials=2, rng=11)
    c = compare(sample, law, moments=0, trials=2)
    assert_ks_agrees(c)
    assert c.atom_sample == pytest.approx(law.atom, abs=0.5 * psi / n0)      # rank: exact
    t1, t2 = (float(v) for v in model.thetas())
    wrong = OneLayerLaw(phi, psi, t1, 0 if t2 > 0 else t1)
    assert_ks_disagrees(compare(sample, wrong, moments=0, trials=2))


def test_narrow_second_bulk_is_found():
    """sigmoid at phi = 0.5, psi = 0.05: besides the atom 0.9 and the main bulk, a narrow bulk near
    0.0039-0.0099. The continuation used to jump to a real root in one long last step and lose it
    (mass 0.95). Independent checks: total mass 1, and the narrow bulk holds mass psi = n0/n1, the
    share a sample puts there exactly (n0 eigenvalues in every trial, a rank count)."""
    model = OneLayer("sigmoid(x)", 0.5, 0.05)
    law = model.law()
    assert abs(law.mass() - 1) <= 1e-12
    assert law.atom == pytest.approx(0.9, abs=1e-15)
    assert len(law.support) == 2
    (a, b), (c, _) = law.support
    assert 0.003 < a < b < 0.011 < c and law.density((a + b) / 2) > 1
    narrow = law.cdf((b + c) / 2) - law.cdf(a / 2)
    assert abs(narrow - 0.05) <= 1e-12
    n0, trials = 40, 3
    ev = np.asarray(model.sample(n0, trials=trials, rng=5)).reshape(trials, -1)
    for e in ev:
        assert np.count_nonzero((e > a / 2) & (e < (b + c) / 2)) == n0
