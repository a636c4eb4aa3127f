"""The generic Law machinery, checked on laws with closed forms (independent references).

* Marchenko–Pastur as an AlgebraicLaw (quadratic in G): density, support, atom, CDF, moments against
  the closed forms (Marchenko & Pastur 1967; Bai & Silverstein, Spectral Analysis of Large
  Dimensional Random Matrices, 2010, Sec. 3.1), at 15 and 50 digits.
* The semicircle as a hand-written Law subclass (hooks only): the base class gives density, CDF,
  quantiles and moments (Catalan numbers).
"""

from fractions import Fraction

import mpmath
import numpy as np
import pytest

from nrmt.numerics.algebraic import AlgebraicLaw
from nrmt.numerics.law import Law, check_dps
from nrmt.theory.errors import NoConvergence


def mp_table(c, s=1):
    """c s z G^2 - (z + s (c - 1)) G + 1 = 0 (MP with ratio c and scale s)."""
    c, s = Fraction(c), Fraction(s)
    return [[1], [-s * (c - 1), -1], [0, c * s]]


def mpq(v):
    """An exact Fraction/int as mpf at the current precision."""
    v = Fraction(v)
    return mpmath.mpf(v.numerator) / v.denominator


def mp_density_ref(x, c, s=1):
    """Closed-form MP density (ratio c, scale s), continuous part, at mp precision."""
    c, s, x = mpq(c), mpq(s), mpmath.mpf(x)
    a, b = s * (1 - mpmath.sqrt(c)) ** 2, s * (1 + mpmath.sqrt(c)) ** 2
    if not a < x < b:
        return mpmath.mpf(0)
    return mpmath.sqrt((b - x) * (x - a)) / (2 * mpmath.pi * c * s * x)


class Semicircle(Law):
    def _stieltjes_float(self, z):
        return (z - np.sqrt(z - 2) * np.sqrt(z + 2)) / 2

    def _stieltjes_mp(self, z, seed):
        return (z - mpmath.sqrt(z - 2) * mpmath.sqrt(z + 2)) / 2

    def _support(self):
        return [(mpmath.mpf(-2), mpmath.mpf(2))]


CASES = [  # (id, c, s): c < 1 (no atom), c > 1 (atom 1 - 1/c), c = 1 (hard edge at 0)
    ("c=1/2", Fraction(1, 2), 1),
    ("c=3,s=2", 3, 2),
    ("c=1", 1, Fraction(3, 2)),
]


@pytest.mark.parametrize("name,c,s", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("dps", [15, 50])
def test_mp_density_closed_form(name, c, s, dps):
    law = AlgebraicLaw(mp_table(c, s), dps=dps, atom=max(0, 1 - Fraction(1) / Fraction(c)))
    with mpmath.workdps(dps + 10):
        a, b = mpq(s) * (1 - mpmath.sqrt(mpq(c))) ** 2, mpq(s) * (1 + mpmath.sqrt(mpq(c))) ** 2
        xs = [a + (b - a) * mpmath.mpf(k) / 7 for k in range(1, 7)] + [b + 1, -1]
        xs += [b - (b - a) * mpmath.mpf(10) ** -12]  # near the upper edge
        ref = [mp_density_ref(x, c, s) for x in xs]
    with mpmath.workdps(dps):
        xs_in = xs if dps > 15 else [float(x) for x in xs]
    got = law.density(xs_in)
    with mpmath.workdps(dps + 10):
        tol = mpmath.mpf(10) ** (-dps + 1)
        for g, r, x in zip(got, ref, xs_in):
            if dps <= 15:
                r = mp_density_ref(mpmath.mpf(x), c, s)
            assert abs(mpmath.mpf(g) - r) <= tol * abs(r) + mpmath.mpf(10) ** (-dps - 5), (x, g, r)
        # support edges to dps digits
        (lo, hi), = law.support
        assert abs(mpmath.mpf(hi) - b) <= tol * b
        assert abs(mpmath.mpf(lo) - a) <= tol * max(b, 1)


@pytest.mark.parametrize("dps", [15, 30])
def test_mp_mass_cdf_quantile(dps):
    c = Fraction(3)
    law = AlgebraicLaw(mp_table(c, 1), dps=dps)  # atom computed by the limit of zG at 0
    tol = mpmath.mpf(10) ** (-dps + 1)
    with mpmath.workdps(dps + 10):
        assert abs(mpmath.mpf(law.atom) - mpmath.mpf(2) / 3) <= tol
        assert abs(mpmath.mpf(law.mass()) - 1) <= tol
    # CDF at the median of the continuous part and its inverse
    with mpmath.workdps(dps + 10):
        a, b = (1 - mpmath.sqrt(3)) ** 2, (1 + mpmath.sqrt(3)) ** 2
        x = (a + b) / 2
        ref = mpmath.mpf(2) / 3 + mpmath.quad(lambda t: mp_density_ref(t, 3), [a, x])
    F = law.cdf(x if dps > 15 else float(x))
    with mpmath.workdps(dps + 10):
        assert abs(mpmath.mpf(F) - ref) <= tol
    if dps <= 15:  # the mp quantile costs one quadrature per Newton step: keep it cheap here
        q = law.quantile(F)
        with mpmath.workdps(dps + 10):
            assert abs(mpmath.mpf(q) - x) <= tol * 10 * b
    assert law.quantile(0.5) == 0  # inside the atom


def test_mp_moments_numeric_narayana():
    """Moments by integration (no closed form given) = Narayana polynomials of c."""
    c = Fraction(1, 3)
    law = AlgebraicLaw(mp_table(c), dps=20)
    m = law.moments(3)
    ref = [1, 1 + c, 1 + 3 * c + c**2]
    with mpmath.workdps(40):
        for got, r in zip(m, ref):
            assert abs(got - mpq(r)) < mpmath.mpf(10) ** -19


def test_semicircle_subclass_hooks():
    law = Semicircle()
    assert np.allclose(law.moments(4), [0, 1, 0, 2], atol=1e-13)
    assert law.cdf(0) == pytest.approx(0.5, abs=1e-14)
    assert law.quantile(0.5) == pytest.approx(0, abs=1e-12)
    x = np.array([-1.5, 0.3, 1.9])
    assert np.allclose(law.density(x), np.sqrt(4 - x**2) / (2 * np.pi), rtol=1e-14)
    law30 = law.with_dps(30)
    with mpmath.workdps(40):
        ref = mpmath.sqrt(4 - mpmath.mpf("0.3") ** 2) / (2 * mpmath.pi)
        assert abs(law30.density("0.3") - ref) < mpmath.mpf(10) ** -29


def test_float_path_is_vectorised_and_right_branch():
    """Many points at once, float vs the 40-digit path, including points near the edges."""
    law = AlgebraicLaw(mp_table(Fraction(1, 4), 2))
    a, b = law.support[0]
    x = np.concatenate([np.linspace(a - 0.1, b + 0.1, 2001), a + np.logspace(-14, -2, 20), b - np.logspace(-14, -2, 20)])
    rho = law.density(x)
    ref = np.array([float(mp_density_ref(mpmath.mpf(v), Fraction(1, 4), 2)) for v in x])
    assert np.all(np.abs(rho - ref) <= 1e-14 * np.abs(ref) + 1e-300)
    # Stieltjes transform off the axis, both half planes
    z = np.array([1 + 1j, 1 - 1j, -3 + 0.1j, 10j])
    g = law.stieltjes(z)
    g40 = law.with_dps(40).stieltjes(list(z))
    assert np.allclose(g, [complex(v) for v in g40], rtol=1e-14)
    assert np.all(g[z.imag > 0].imag < 0)


def test_dps_30_vs_60():
    law = AlgebraicLaw(mp_table(Fraction(2, 3), Fraction(1, 2)), dps=30)
    x = [mpmath.mpf("0.2"), mpmath.mpf("0.9"), mpmath.mpf("1.6")]
    d30 = law.density(x)
    d60 = law.with_dps(60).density(x)
    with mpmath.workdps(70):
        for u, v in zip(d30, d60):
            assert abs(u - v) <= mpmath.mpf(10) ** -29 * abs(v)


@pytest.mark.parametrize("bad,exc", [(0, ValueError), (-3, ValueError), (2.5, TypeError), (True, TypeError)])
def test_bad_dps(bad, exc):
    with pytest.raises(exc):
        check_dps(bad)
    with pytest.raises(exc):
        AlgebraicLaw(mp_table(2), dps=bad)


def test_bad_points():
    law = AlgebraicLaw(mp_table(2))
    with pytest.raises(ValueError, match="finite"):
        law.density(float("nan"))
    with pytest.raises(ValueError, match="p must be in"):
        law.quantile(1.5)
    with pytest.raises(ValueError):
        law.grid(1)
    with pytest.raises(ValueError):
        AlgebraicLaw([[1, 2]])  # no G at all


def test_no_convergence_is_raised():
    class Broken(Semicircle):
        def _stieltjes_mp(self, z, seed):  # changes with the precision: never settles
            return mpmath.mpc(mpmath.mp.prec, -1)

    with pytest.raises(NoConvergence):
        Broken(dps=20).density(0.5)


def test_grid_resolves_edges_and_zero():
    law = AlgebraicLaw(mp_table(1))  # hard edge at 0, soft edge at 4
    x = law.grid(200)
    assert x[0] > 0 and x[0] < 1e-5  # geometric towards the hard edge
    assert x[-1] == pytest.approx(4)
    gaps = np.diff(x)
    assert gaps[-1] < 4 * 1e-3  # quadratic clustering at the soft edge
    tab = law.table(12)
    assert set(tab) == {"x", "density", "cdf"}
    assert np.all(np.diff(tab["cdf"]) >= 0)


def test_table_entries_of_any_numeric_type():
    """mpf and float entries (negative ones too) give the same law as exact fractions."""
    exact = AlgebraicLaw(mp_table(Fraction(1, 2)), dps=20)
    with mpmath.workdps(30):
        table = [[mpmath.mpf(1)], [mpmath.mpf(1) / 2, mpmath.mpf(-1)], [0, 0.5]]
    other = AlgebraicLaw(table, dps=20)
    with mpmath.workdps(30):
        assert abs(other.density("1.2") - exact.density("1.2")) < mpmath.mpf(10) ** -19


def test_cdf_of_many_points_equals_the_pointwise_cdf_and_marchenko_pastur():
    # the sweep over sorted points (one integral per gap) against the per-point integral and
    # the Marchenko-Pastur closed form, in shuffled order, at 30 digits
    import random

    from nrmt.models.one_layer import OneLayer

    law = OneLayer.from_constants(1, 0, phi=1, psi=2).law(30)  # MP, ratio c = 1/2, scale 1
    xs = [mpmath.mpf(v) / 8 for v in range(0, 26)]
    random.Random(3).shuffle(xs)
    swept = law.cdf(xs)
    with mpmath.workdps(40):
        c = mpmath.mpf(1) / 2
        a, b = (1 - mpmath.sqrt(c)) ** 2, (1 + mpmath.sqrt(c)) ** 2

        def mp_cdf(x):
            if x <= a:
                return mpmath.mpf(0)
            t = min(x, b)
            return mpmath.quad(lambda s: mpmath.sqrt((b - s) * (s - a)) / (2 * mpmath.pi * c * s), [a, t])

        for x, f in zip(xs[:6], swept[:6]):
            assert abs(f - law.cdf(x)) < mpmath.mpf(10) ** -30
        for x, f in zip(xs, swept):
            assert abs(f - mp_cdf(x)) < mpmath.mpf(10) ** -29


def mp_cdf_closed_form(x, c):
    r"""Marchenko-Pastur CDF (ratio c <= 1, scale 1) in closed form: F = (Phi(x) - Phi(a))/(2 pi c)
    with Phi the antiderivative of sqrt((b - t)(t - a))/t, Phi(t) = sqrt(R) + (a + b)/2
    asin((2t - a - b)/(b - a)) - sqrt(ab) asin(((a + b)t - 2ab)/(t (b - a))), R = (b - t)(t - a)
    (Gradshteyn & Ryzhik 2.261, 2.266)."""
    c = mpq(c)
    a, b = (1 - mpmath.sqrt(c)) ** 2, (1 + mpmath.sqrt(c)) ** 2
    x = mpmath.mpf(x)
    if not a < x < b:
        return mpmath.mpf(0) if x <= a else mpmath.mpf(1)

    def asin(v):  # arguments within rounding of [-1, 1] at the edges
        return mpmath.asin(min(max(v, -1), 1))

    def phi(t):
        r = mpmath.sqrt(max((b - t) * (t - a), 0))
        return (r + (a + b) / 2 * asin((2 * t - a - b) / (b - a))
                - mpmath.sqrt(a * b) * asin(((a + b) * t - 2 * a * b) / (t * (b - a))))

    # at t = a both arcsines are -pi/2 exactly (evaluated there, the rounding of their argument
    # next to -1 would cost half the digits: asin(-1 + e) = -pi/2 + sqrt(2 e))
    phi_a = (mpmath.sqrt(a * b) - (a + b) / 2) * mpmath.pi / 2
    return (phi(x) - phi_a) / (2 * mpmath.pi * c)


@pytest.mark.parametrize("dps", [30, 100])
def test_cdf_rules_against_marchenko_pastur_closed_form(dps):
    # the CDF (Gauss-Legendre on smooth pieces, truncated tanh-sinh at the edges) and the mass
    # against the closed form at every digit asked
    law = AlgebraicLaw(mp_table(Fraction(1, 2)), dps=dps)
    xs = ["0.05", "0.2", "0.5", "1", "1.7", "2.5", "2.9"]
    got = law.cdf(xs)
    with mpmath.workdps(dps + 20):
        tol = mpmath.mpf(10) ** (-dps)
        assert abs(mpmath.mpf(law.mass()) - 1) <= tol
        for x, f in zip(xs, got):
            ref = mp_cdf_closed_form(mpmath.mpf(x), Fraction(1, 2))
            assert abs(f - ref) <= tol * max(ref, mpmath.mpf(10) ** -3), (x, f, ref)


def test_cdf_against_mpmath_quad_at_more_digits():
    # a nonlinear law (no closed form): the CDF at 30 digits against mpmath's own quadrature of
    # the density computed at 50 digits (an independent rule)
    from nrmt.models.one_layer import OneLayer

    law = OneLayer("tanh(x)", phi="0.5", psi=2).law(30)
    ref_law = law.with_dps(50)
    (a, b), = ref_law.support_mp
    xs = [a + (b - a) * k / 5 for k in (1, 3)]
    got = law.cdf(xs)
    with mpmath.workdps(50):
        for x, f in zip(xs, got):
            ref = mpmath.quad(lambda t: ref_law.density(t), [a, (a + x) / 2, x])
            assert abs(f - ref) <= mpmath.mpf(10) ** -30, (x, f, ref)
