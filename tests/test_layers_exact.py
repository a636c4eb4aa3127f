"""The several-layer law at every precision (issue 12, item 1): exact zeros through the layers,
the mpmath path above dps 15, and its digits checked against independent values.

References used as the independent side: the Marchenko-Pastur density and moments (Narayana
numbers) in closed form; the layer recursion's own first moment m1 = theta1 of the last layer
(computed by the constants engine, not by the law); the same law at other precisions.
"""

import math

import mpmath
import pytest

from nrmt.models.layers import Layers


def _mp_density(x, t, lam):
    """Marchenko-Pastur density of scale t and ratio lam = n_L/m (atom excluded)."""
    a, b = t * (1 - mpmath.sqrt(lam)) ** 2, t * (1 + mpmath.sqrt(lam)) ** 2
    if not a < x < b:
        return mpmath.mpf(0)
    return mpmath.sqrt((b - x) * (x - a)) / (2 * mpmath.pi * t * lam * x)


def _mp_moments(t, lam, k):
    """Raw moments of M = (1/m) Y Y^T (n x n, m columns, entries of variance t): Narayana
    polynomials, m_j = t^j sum_r N(j, r) lam^(r-1)."""
    out = []
    for j in range(1, k + 1):
        s = sum(mpmath.binomial(j, r) * mpmath.binomial(j, r - 1) / j * lam ** (r - 1)
                for r in range(1, j + 1))
        out.append(t ** j * s)
    return out


@pytest.mark.parametrize("expr, t1", [
    # |x| at sigma^2 = q: theta1 = q (1 - 2/pi); two layers from q = 1
    ("abs(x)", lambda: (1 - 2 / mpmath.pi) ** 2),
    # x^2: theta1(q) = 2 q^2; three layers: 2, 8, 128
    ("x**2", lambda: mpmath.mpf(128)),
])
def test_even_activation_is_marchenko_pastur_at_30_digits(expr, t1):
    depth = 2 if expr == "abs(x)" else 3
    model = Layers(expr, phi=0.5, psi=[1] * (depth - 1) + [2])
    with mpmath.workdps(40):
        t = t1()
        lam = mpmath.mpf(1) / 4          # n_L/m = phi / prod psi
    law = model.law(dps=30)
    tol = mpmath.mpf(10) ** -28
    with mpmath.workdps(40):
        a, b = law.support[0]
        assert abs(a - t * (1 - mpmath.sqrt(lam)) ** 2) <= tol * t
        assert abs(b - t * (1 + mpmath.sqrt(lam)) ** 2) <= tol * t
        for x in (t * mpmath.mpf("0.5"), t, t * mpmath.mpf("1.7")):
            ref = _mp_density(x, t, lam)
            assert abs(law.density(x) - ref) <= tol * ref
        for m, ref in zip(law.moments(4), _mp_moments(t, lam, 4)):
            assert abs(m - ref) <= tol * ref
    assert law.atom == 0


def test_theta2_zero_by_fact_at_every_layer():
    """An even f: theta2 is the exact 0 of the parity proof at every layer, at any dps."""
    model = Layers("cos(x)", phi=1, psi=[1, 1, 1])
    for dps in (15, 25, 40):
        rows = model._mp_layers(dps)
        assert all(r["theta2_zero"] and r["theta2"] == 0 for r in rows)
    assert all(r["theta2"] == 0 for r in model.layer_constants(25))


def test_tanh_two_layers_agree_across_precisions_and_m1_is_theta1():
    """tanh through two layers (the issue's failing command): dps 20 and 30 agree with each other
    to 20 digits and with the float path to 1e-12; m1 equals the last layer's theta1 (from the
    constants engine) to 30 digits; the mass from the moments' circle rule is 1."""
    model = Layers("tanh", phi=0.5, psi=[2, 1])
    l15, l20, l30 = model.law(15), model.law(20), model.law(30)
    x = "0.5"
    d20, d30 = l20.density(x), l30.density(x)
    assert abs(d20 - d30) <= mpmath.mpf(10) ** -19 * d30
    assert abs(l15.density(0.5) - float(d30)) <= 1e-12 * float(d30)
    for (a20, b20), (a30, b30) in zip(l20.support, l30.support):
        assert abs(a20 - a30) <= mpmath.mpf(10) ** -19 * a30
        assert abs(b20 - b30) <= mpmath.mpf(10) ** -19 * b30
    theta1 = model.layer_constants(30)[-1]["theta1"]
    m30 = l30.moments(4)
    assert abs(m30[0] - theta1) <= mpmath.mpf(10) ** -28 * theta1
    for a, b in zip(l20.moments(4), m30):
        assert abs(a - b) <= mpmath.mpf(10) ** -19 * b
    for a, b in zip(l15.moments(4), m30):
        assert abs(a - float(b)) <= 1e-12 * float(b)


def test_hard_edge_points_near_zero_at_25_digits():
    """Points within 1e-60 of the hard edge at 0 (tanh-sinh nodes of the moment rule used to
    fail there): the even-f law equals Marchenko-Pastur there too."""
    model = Layers("x**2", phi=1, psi=[1, 1])           # MP, ratio 1, scale theta1 = 8
    law = model.law(25)
    with mpmath.workdps(40):
        for x in (mpmath.mpf(10) ** -60, mpmath.mpf("1e-12")):
            ref = _mp_density(x, mpmath.mpf(8), mpmath.mpf(1))
            assert abs(law.density(x) - ref) <= mpmath.mpf(10) ** -23 * ref


def test_layers_mp_newton_near_soft_edge():
    """A point within 1e-15 (relative) above the lower soft edge of a non-MP law, below the float
    start's resolution: the mpmath solution is reached by the continuation in the imaginary part
    and agrees at dps 20 and 30. The point is a dyadic number (exact at every precision: the
    density there is sensitive to x)."""
    model = Layers("tanh", phi=0.5, psi=[2, 1])
    l20, l30 = model.law(20), model.law(30)
    a = l30.support_mp[0][0]
    x = mpmath.ldexp(mpmath.ceil(mpmath.ldexp(a, 58)), -58)      # a < x < a (1 + 1e-15)
    assert a < x < a * (1 + mpmath.mpf(10) ** -14)
    v20, v30 = l20.density(x), l30.density(x)
    assert v30 > 0 and math.isfinite(float(v30))
    assert abs(v20 - v30) <= mpmath.mpf(10) ** -19 * v30
