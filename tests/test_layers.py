"""Several layers: L = 1 is the one-layer quartic, θ2 = 0 is Marchenko–Pastur at every depth, and
2- and 3-layer laws agree with Monte Carlo samples (tanh, centred ReLU, |x| with θ2 = 0)."""

import math

import mpmath
import numpy as np
import pytest

from nrmt.models.layers import Layers
from nrmt.models.one_layer import OneLayer
from nrmt.numerics.compare import compare
from noise import assert_ks_agrees, assert_ks_disagrees
from test_compare import MarchenkoPastur


def law_cdf(law, x):
    """CDF on a sorted grid from the float density (trapezoid) plus the atom: independent of the
    Law's own CDF machinery."""
    rho = law.density(x)
    F = np.concatenate([[0.0], np.cumsum(0.5 * (rho[1:] + rho[:-1]) * np.diff(x))])
    return F + law.atom


def grid_for(hi, n=1200):
    return np.unique(np.concatenate([np.geomspace(hi * 1e-7, hi * 0.01, n // 5),
                                     np.linspace(hi * 0.01, hi, n)]))


def mp_density(x, ratio, scale):
    """Marchenko–Pastur density of ratio c = n_L/m and scale s (closed form)."""
    a, b = scale * (1 - math.sqrt(ratio)) ** 2, scale * (1 + math.sqrt(ratio)) ** 2
    x = np.asarray(x, dtype=float)
    inside = (x > a) & (x < b)
    out = np.zeros_like(x)
    out[inside] = np.sqrt((b - x[inside]) * (x[inside] - a)) / (2 * math.pi * ratio * scale * x[inside])
    return out


# ------------------------------------------------------------------ L = 1 is the PW quartic
def test_one_layer_equals_quartic_float():
    model = Layers("tanh(x)", 0.5, [0.8], sigma_w=1.2, sigma_x=0.9)
    ref = OneLayer("tanh(x)", 0.5, 0.8, sigma_w=1.2, sigma_x=0.9).law()
    z = np.array([0.3 + 0.2j, 1.1 + 0.01j, 2.0 + 1j, 4.0 + 0.5j, 0.05 + 0.3j])
    g = model.law().stieltjes(z)
    assert np.max(np.abs(g - ref.stieltjes(z)) / np.abs(g)) < 1e-12
    x = np.array([0.1, 0.5, 1.0, 2.0])
    assert np.max(np.abs(model.law().density(x) - ref.density(x))) < 1e-12


@pytest.mark.parametrize("dps", [30])
def test_one_layer_equals_quartic_mp(dps):
    # ReLU: exact constants, so both sides hold dps digits
    model = Layers("relu", 2, [0.5], sigma_w=1, sigma_x=1)
    ref = OneLayer("relu", 2, 0.5).law(dps=dps)
    z = mpmath.mpc("0.7", "0.25")
    g = model.law(dps=dps).stieltjes(z)
    with mpmath.workdps(dps):
        assert abs(g - ref.stieltjes(z)) <= mpmath.mpf(10) ** (-dps + 1) * abs(g)


def test_linear_activation_is_product_wishart():
    # f(x) = x (no fresh noise): the product-Wishart cubic of B's one-layer law, and its atom
    # 1 - psi min(1, 1/phi) when n1 > min(n0, m)
    law = Layers("x", 2, [0.5]).law()
    ref = OneLayer("x", 2, 0.5).law()
    z = np.array([0.5 + 0.3j, 2.0 + 0.1j])
    assert np.max(np.abs(law.stieltjes(z) - ref.stieltjes(z))) < 1e-11
    assert law.atom == pytest.approx(1 - 0.5 * min(1, 1 / 2))


# ------------------------------------------------------------------ theta2 = 0: MP at every depth
@pytest.mark.parametrize("depth", [1, 2, 3])
def test_theta2_zero_is_marchenko_pastur_at_every_depth(depth):
    # |x| is even, so theta2 = 0 at every variance; theta1(sigma) = sigma^2 (1 - 2/pi) exactly
    psi = [0.8, 1.25, 0.5][:depth]
    sw, sx, phi = 1.3, 0.9, 0.6
    model = Layers("abs(x)", phi, psi, sigma_w=sw, sigma_x=sx)
    theta1 = sx ** 2
    for _ in range(depth):
        theta1 = sw ** 2 * theta1 * (1 - 2 / math.pi)
    ratio = phi / np.prod(psi)                      # n_L / m
    layers = model.layer_constants()
    assert abs(layers[-1]["theta1"] - theta1) < 1e-12 and layers[-1]["theta2"] < 1e-20
    law = model.law()
    x = np.linspace(0.01, 3.0, 40) * theta1 * (1 + math.sqrt(ratio)) ** 2 / 2.5
    assert np.max(np.abs(law.density(x) - mp_density(x, ratio, theta1))) < 1e-9 / theta1
    assert abs(law.atom - max(0.0, 1 - 1 / ratio)) < 1e-14


# ------------------------------------------------------------------ Monte Carlo, 2 and 3 layers
CASES = [
    ("tanh(x)", [0.8, 1.25]),
    ("abs(x)", [0.8, 1.25]),
    ("relu", [1.0, 0.8, 1.25]),
]


@pytest.mark.parametrize("act,psi", CASES, ids=[f"{a}-L{len(p)}" for a, p in CASES])
def test_layers_agree_with_monte_carlo(act, psi):
    model = Layers(act, 0.5, psi, sigma_w=1.2, sigma_x=0.9)
    sample = model.sample(300, trials=2, rng=7)
    law = model.law()
    # KS in units of compare()'s noise scale (tests/noise.py); the CDF table's error (its mass
    # against 1) far below that noise
    c = compare(sample, law, moments=0, trials=2, cells=80)
    assert_ks_agrees(c)
    assert c.cdf_error < 0.1 * c.ks_scale, c.cdf_error
    if act != "abs(x)":
        # Marchenko-Pastur with the right mean (the law if theta2 were 0) is outside the band
        ratio = 0.5 / np.prod(psi)
        mp = MarchenkoPastur(ratio, model.layer_constants()[-1]["theta1"])
        assert_ks_disagrees(compare(sample, mp, moments=0, trials=2))


def test_describe_has_layers():
    d = Layers("tanh(x)", 0.5, [1, 2], sigma_w=1.5).describe()
    assert all({"q", "theta1", "theta2"} <= set(layer) for layer in d["layers"])
    assert d["layers"][0]["q"] == pytest.approx(2.25)
    assert d["layers"][1]["q"] == pytest.approx(2.25 * d["layers"][0]["theta1"])


@pytest.mark.parametrize("bad", [dict(phi=0), dict(psi=[]), dict(psi=[1, -2]), dict(sigma_b=-1)])
def test_refusals(bad):
    args = dict(activation="tanh(x)", phi=0.5, psi=[1])
    args.update(bad)
    with pytest.raises(ValueError):
        Layers(**args)


# ------------------------------------------------------------------ edges to dps digits (mp path)
@pytest.mark.parametrize("dps", [30])
def test_edges_to_dps_digits(dps):
    # theta2 = 0 (|x|, two layers): Marchenko-Pastur edges theta1 (1 -+ sqrt(n_L/m))^2 in closed form
    sup = Layers("abs(x)", 0.5, [1, 1]).law(dps).support
    with mpmath.workdps(dps + 10):
        t1 = (1 - 2 / mpmath.pi) ** 2
        ref = [t1 * (1 - mpmath.sqrt(mpmath.mpf(1) / 2)) ** 2, t1 * (1 + mpmath.sqrt(mpmath.mpf(1) / 2)) ** 2]
        assert len(sup) == 1
        for e, r in zip(sup[0], ref):
            assert abs(e - r) <= mpmath.mpf(10) ** (-dps) * r, (e, r)
    # L = 1: the one-layer quartic's edges (its discriminant), ReLU with exact constants
    sup = Layers("relu", 2, [0.5]).law(dps).support
    ref = OneLayer("relu", 2, 0.5).law(dps).support
    with mpmath.workdps(dps + 10):
        assert len(sup) == len(ref) == 1
        for e, r in zip(sup[0], ref[0]):
            assert abs(e - r) <= mpmath.mpf(10) ** (-dps + 1) * r, (e, r)


@pytest.mark.parametrize("dps", [15, 50])
def test_linear_moments_are_fuss_catalan(dps):
    """f = x, square matrices, L layers: M is a product of L + 1 square Ginibre factors times its
    transpose, whose moments are the Fuss–Catalan numbers C(s + 1; k) = binom((s+1)k, k)/(sk + 1),
    s = L + 1 (Banica, Belinschi, Capitaine, Collins 2011) — exact integers at every dps."""
    for depth in (1, 2, 3):
        law = Layers("x", phi=1, psi=[1] * depth).law(dps=dps)
        s = depth + 1
        exact = [math.comb((s + 1) * k, k) // (s * k + 1) for k in range(1, 5)]
        got = law.moments_mp(4)
        with mpmath.workdps(dps + 10):
            assert all(abs(g - e) <= mpmath.mpf(10) ** (-dps) * e for g, e in zip(got, exact)), (depth, got)


@pytest.mark.parametrize("act", ["tanh(x)", "relu(x)", "sin(x) + x**2"])
def test_one_layer_moments_equal_the_one_layer_law(act):
    """Depth 1: the moment recursion of the layers law against the one-layer law's own moments
    (its exact moment formula in θ1, θ2, φ, ψ), at 40 digits."""
    a = Layers(act, phi="1/2", psi=[2]).law(dps=40).moments_mp(4)
    b = OneLayer(act, phi="1/2", psi=2).law(dps=40).moments_mp(4)
    with mpmath.workdps(50):
        assert all(abs(x - y) <= mpmath.mpf(10) ** -40 * abs(y) for x, y in zip(a, b))


def test_moment_recursion_agrees_with_cauchy_integral():
    """Two layers of tanh without bias: the moment recursion against Cauchy's integral of the
    Stieltjes transform solved by Newton on a circle (a second, independent method), 25 digits."""
    law = Layers("tanh(x)", phi="1/2", psi=[1, 2]).law(dps=20)
    with mpmath.workdps(30):
        a, b = law._moments_recursion(4), law._moments_cauchy(4)
        assert all(abs(x - y) <= mpmath.mpf(10) ** -25 * abs(y) for x, y in zip(a, b))


def test_layer_constants_keep_exact_zeros():
    """An even f (θ2 = 0 by parity) and a linear f (θ2 = θ1) keep those facts in every layer's
    reported constants on the float path (no 1e-32 from a quadrature)."""
    for row in Layers("x**2", phi=0.5, psi=[1, 1, 1]).layer_constants():
        assert row["theta2"] == 0
    for row in Layers("2*x + 1", phi=0.5, psi=[1, 1]).layer_constants():
        assert row["theta2"] == row["theta1"]
