"""The Monte Carlo samplers against closed forms and independent quadrature.

References used here, all independent of nrmt.numerics.sampling:
* eigenvalues: numpy.linalg.eigvalsh of the explicitly formed matrix;
* θ2 = 0 activations (|x|): the Marchenko–Pastur law with ratio n_L/m and scale θ1 at every
  depth (Pennington–Worah 2017, Sec. 4; Benigni–Péché 2021 for several layers), with the closed-form
  CDF of tests/test_compare.py;
* the one-layer moments m1..m4 in closed form (series of the Pennington–Worah quartic at infinity,
  docs/theory.md, "Moments") with θ1, θ2 from scipy.integrate.quad;
Monte Carlo tolerances are in units of compare()'s noise scales (tests/noise.py): KS in the null
band, moments extrapolated from two sizes in standard errors.
* linear f: bias has no effect after centring by μ(b) = b (exact equality of spectra);
* the layer variance recursion from scipy.integrate.quad.
"""

import math

import numpy as np
import pytest
from scipy.integrate import quad

from nrmt.numerics.compare import compare
from nrmt.numerics.sampling import (as_generator, gram_eigenvalues, layer_variances, sample_gram,
                                    sample_linear_equivalent, widths_from_ratios)
from noise import assert_ks_agrees, assert_ks_disagrees, extrapolated_moment_z, z_bound
from test_compare import MarchenkoPastur


def _gauss(f, s):
    """E f(sZ) by scipy quad (independent of nrmt's Gaussian expectations)."""
    g = lambda z: f(s * z) * math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    return quad(g, -np.inf, np.inf, limit=200, points=None)[0]


def _constants(f, s):
    mu = _gauss(f, s)
    theta1 = _gauss(lambda x: f(x) ** 2, s) - mu ** 2
    stein = quad(lambda z: z * f(s * z) * math.exp(-z * z / 2) / math.sqrt(2 * math.pi),
                 -np.inf, np.inf, limit=200)[0]
    return mu, theta1, stein ** 2


def pw_moments(e, z, phi, psi):
    """Raw moments m1..m4 of the Pennington–Worah law (η = e, ζ = z), one-layer.md §f."""
    return np.array([
        e,
        e ** 2 * (1 + phi / psi) + z ** 2 / psi,
        e ** 3 * (1 + 3 * phi / psi + phi ** 2 / psi ** 2) + 3 * e * z ** 2 * (1 / psi + phi / psi ** 2)
        + z ** 3 / psi ** 2,
        e ** 4 * (1 + 6 * phi / psi + 6 * phi ** 2 / psi ** 2 + phi ** 3 / psi ** 3)
        + e ** 2 * z ** 2 * (6 / psi + 16 * phi / psi ** 2 + 6 * phi ** 2 / psi ** 3)
        + e * z ** 3 * (4 / psi ** 2 + 4 * phi / psi ** 3) + z ** 4 * (2 / psi ** 2 + (1 + 2 * phi) / psi ** 3),
    ])


# ------------------------------------------------------------------ eigenvalues
@pytest.mark.parametrize("shape", [(30, 50), (50, 30), (40, 40), (1, 7), (7, 1)])
def test_gram_eigenvalues_match_eigvalsh_with_zeros_added(shape):
    y = np.random.default_rng(0).standard_normal(shape)
    n, m = shape
    ref = np.linalg.eigvalsh(y @ y.T / m)
    got = gram_eigenvalues(y)
    assert got.shape == (n,)
    assert np.allclose(got, ref, atol=1e-12 * max(1.0, ref.max()))
    if n > m:
        assert np.count_nonzero(got == 0.0) >= n - m
    assert np.allclose(gram_eigenvalues(y, 2.0), np.linalg.eigvalsh(2.0 * y @ y.T), atol=1e-11 * m)


def test_widths_from_ratios():
    assert widths_from_ratios(1000, 0.5, 2) == ([1000, 500], 2000)
    assert widths_from_ratios(300, 1.5, [0.5, 2.0, 1.0]) == ([300, 600, 300, 300], 200)
    with pytest.raises(ValueError, match="psi must be > 0"):
        widths_from_ratios(10, 1, -1)


# ------------------------------------------------------------------ theta2 = 0: Marchenko-Pastur
HE2 = "(x**2 - 1)/sqrt(2)"


@pytest.mark.parametrize("entries", ["gaussian", "rademacher"])
def test_theta2_zero_gives_marchenko_pastur(entries):
    # |x| is even: theta2 = 0, and centred |sZ| has variance s^2 (1 - 2/pi). ((x^2 - 1)/sqrt2,
    # also theta2 = 0, carries an O(1/n) bias from its heavy kurtosis that stays ~4 noise scales
    # at n = 300 and 600 with Gaussian entries while its KS halves: right law, slow sampler.)
    sw, sx = 1.5, 0.8
    theta1 = (sw * sx) ** 2 * (1 - 2 / math.pi)
    n0, n1, m = 300, 450, 600
    ev = sample_gram("Abs(x)", [n0, n1], m, sigma_w=sw, sigma_x=sx, entries=entries, trials=2, rng=3)
    c = compare(ev, MarchenkoPastur(n1 / m, theta1), trials=2, moments=0)
    assert_ks_agrees(c, entries)
    # the scale theta1 is pinned: 10 % off is outside the noise band
    assert_ks_disagrees(compare(ev, MarchenkoPastur(n1 / m, 1.1 * theta1), trials=2, moments=0))


def test_theta2_zero_stays_marchenko_pastur_through_two_layers():
    # f = |x| is even, so theta2 = 0 at every layer; centred |sZ| has variance s^2 (1 - 2/pi).
    # (x^2 - 1)/sqrt2 also has theta2 = 0, but its heavy layer-1 kurtosis gives O(1/n) column-norm
    # effects ~10x the noise scale at n = 300, so the milder |x| is used here.
    sw, sx = 1.2, 1.0
    k = 1 - 2 / math.pi
    s1 = (sw * sx) ** 2
    theta1_1 = s1 * k
    s2 = sw ** 2 * theta1_1
    theta1_2 = s2 * k
    widths, m = [300, 300, 450], 600
    ev = sample_gram("Abs(x)", widths, m, sigma_w=sw, sigma_x=sx, trials=2, rng=4)
    c = compare(ev, MarchenkoPastur(450 / 600, theta1_2), trials=2, moments=0)
    assert_ks_agrees(c)
    assert_ks_disagrees(compare(ev, MarchenkoPastur(450 / 600, 1.1 * theta1_2), trials=2, moments=0))
    lv = layer_variances("Abs(x)", 2, sigma_w=sw, sigma_x=sx)
    assert [v["theta1"] for v in lv] == pytest.approx([theta1_1, theta1_2], rel=1e-9)
    assert [v["q"] for v in lv] == pytest.approx([s1, s2], rel=1e-12)
    he2 = layer_variances(HE2, 2, sigma_w=sw, sigma_x=sx)      # s^4 at each layer
    assert [v["theta1"] for v in he2] == pytest.approx([s1 ** 2, (sw ** 2 * s1 ** 2) ** 2], rel=1e-9)


# ------------------------------------------------------------------ one layer: moments in closed form
def _two_sizes(sample, sizes, trials, seed, k=4):
    """Comparisons at two sizes n0 and 2 n0 (tests/noise.py: their moments extrapolate to
    n = oo); ``sample(n0, rng)`` returns ``trials`` pooled spectra."""
    rng = np.random.default_rng(seed)
    placeholder = MarchenkoPastur(0.5, 1.0)     # compare() is used for its moments and their spread
    return [compare(sample(n0, rng), placeholder, moments=k, trials=trials) for n0 in sizes]


@pytest.mark.parametrize("name,f", [("tanh(x)", np.tanh), ("relu(x)", lambda x: max(x, 0.0))])
@pytest.mark.parametrize("phi,psi", [(1.0, 0.5), (2.0, 1.5)])
def test_one_layer_moments_match_the_closed_form(name, f, phi, psi):
    sw, sx = 1.5, 0.8
    _, theta1, theta2 = _constants(f, sw * sx)

    def sample(n0, rng):
        widths, m = widths_from_ratios(n0, phi, psi)
        return sample_gram(name, widths, m, sigma_w=sw, sigma_x=sx, trials=8, rng=rng)

    small, large = _two_sizes(sample, (200, 400), 8, 5)
    z, dof = extrapolated_moment_z(small, large, pw_moments(theta1, theta2, phi, psi))
    assert max(map(abs, z)) < z_bound(dof, checks=4), (z, dof)
    # two-sided: a variance 10 % off (a wrong sigma; an uncentred ReLU is 50 % off) is outside
    z_wrong, _ = extrapolated_moment_z(small, large, pw_moments(1.1 * theta1, theta2, phi, psi))
    assert max(map(abs, z_wrong)) > z_bound(dof, checks=4), z_wrong


def test_gaussian_linear_equivalent_has_the_same_moments():
    _, theta1, theta2 = _constants(np.tanh, 1.0)

    def sample(n0, rng):
        return sample_linear_equivalent(theta1, theta2, n0, round(n0 / 1.5), 2 * n0, trials=8, rng=rng)

    small, large = _two_sizes(sample, (200, 400), 8, 6)
    z, dof = extrapolated_moment_z(small, large, pw_moments(theta1, theta2, 0.5, 1.5))
    assert max(map(abs, z)) < z_bound(dof, checks=4), (z, dof)
    z_wrong, _ = extrapolated_moment_z(small, large, pw_moments(theta1, 0.8 * theta2, 0.5, 1.5))
    assert max(map(abs, z_wrong)) > z_bound(dof, checks=4), z_wrong


def test_uncentred_sampler_keeps_the_mean():
    # relu: mu = 1/sqrt(2 pi) at sigma 1; without centring tr M / n1 = E f^2 = 1/2, exactly at
    # every size (f(h)^2 is homogeneous of degree 2 in the Gaussian h): a z-test, no bias term
    ev = sample_gram("relu(x)", [300, 300], 300, centre=False, trials=6, rng=7, pooled=False)
    c = compare(ev, MarchenkoPastur(1.0, 0.5), moments=1)         # MP of mean 1/2: moments only
    assert abs(c.moment_z[0]) < z_bound(5), c.moment_z
    assert ev.max() > 0.5 * 300 * (1 / (2 * math.pi))      # the rank-one outlier ~ n1 mu^2


# ------------------------------------------------------------------ layers and bias
def test_layer_variance_recursion_matches_quadrature():
    relu = lambda x: max(x, 0.0)
    sw, sx, sb = 1.3, 0.9, 0.0
    got = layer_variances("relu(x)", 3, sigma_w=sw, sigma_x=sx)
    second = sx ** 2
    for layer in got:
        s2 = sw ** 2 * second
        mu, theta1, _ = _constants(relu, math.sqrt(s2))
        assert layer["s2"] == pytest.approx(s2, rel=1e-10)
        assert layer["mu"] == pytest.approx(mu, rel=1e-9)
        assert layer["theta1"] == pytest.approx(theta1, rel=1e-8)
        second = theta1
    # with bias: theta1 = E f(sqrt(q) Z)^2 - E_b mu(b)^2, mu(b) = E f(sZ + b)
    sb = 0.7
    lay = layer_variances("tanh(x)", 1, sigma_w=sw, sigma_x=sx, sigma_b=sb)[0]
    s = sw * sx
    mu_b = lambda b: quad(lambda z: math.tanh(s * z + b) * math.exp(-z * z / 2) / math.sqrt(2 * math.pi),
                          -np.inf, np.inf)[0]
    mean_mu2 = _gauss(lambda b: mu_b(b) ** 2, sb)
    ref = _gauss(lambda x: math.tanh(x) ** 2, math.sqrt(s * s + sb * sb)) - mean_mu2
    assert lay["q"] == pytest.approx(s * s + sb * sb, rel=1e-12)
    assert lay["theta1"] == pytest.approx(ref, rel=1e-7)


def test_bias_is_invisible_to_a_linear_activation_after_centring():
    # f(x) = x: f(h + b) - mu(b) = h exactly, and b is drawn after X and W
    a = sample_gram("x", [120, 80], 150, sigma_b=0.9, rng=8)
    b = sample_gram("x", [120, 80], 150, sigma_b=0.0, rng=8)
    assert np.allclose(a, b, atol=1e-12)


def test_bias_centring_removes_the_outlier():
    kw = dict(sigma_b=1.0, rng=9)
    centred = sample_gram("tanh(x) + 0.5", [200, 200], 200, **kw)
    raw = sample_gram("tanh(x) + 0.5", [200, 200], 200, centre=False, **kw)
    assert centred.max() < 10 and raw.max() > 30      # outlier ~ n1 E mu(b)^2 ~ 200 * 0.3


# ------------------------------------------------------------------ interface
def test_seed_reproduces_and_generators_are_accepted():
    a = sample_gram("tanh(x)", [60, 40], 80, trials=2, rng=11, entries="rademacher")
    b = sample_gram("tanh(x)", [60, 40], 80, trials=2, rng=11, entries="rademacher")
    c = sample_gram("tanh(x)", [60, 40], 80, trials=2, rng=12, entries="rademacher")
    d = sample_gram("tanh(x)", [60, 40], 80, trials=2, rng=np.random.default_rng(11),
                    entries="rademacher", pooled=False)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert d.shape == (2, 40) and np.array_equal(d.ravel(), a)
    assert np.all(np.diff(d, axis=1) >= 0)                 # ascending within each trial
    e = sample_linear_equivalent(0.4, 0.3, 50, 60, 40, trials=3, rng=1)
    assert e.shape == (180,) and np.count_nonzero(e == 0) >= 3 * 20


def test_every_entry_law_runs():
    for law in ["uniform", "student-t:6", "bernoulli:0.3"]:
        ev = sample_gram("x", [150, 100], 200, entries=law, trials=6, rng=1, pooled=False)
        # linear f: E m1 = sigma^2 = 1 exactly at every size (product Wishart), universal
        c = compare(ev, MarchenkoPastur(0.5, 1.0), moments=1)
        assert abs(c.moment_z[0]) < z_bound(5), (law, c.moment_z)


def test_progress_bar_goes_to_stderr(capsys):
    sample_gram("tanh(x)", [30, 30], 30, trials=3, rng=0, progress=True)
    captured = capsys.readouterr()
    assert captured.out == "" and "sampling" in captured.err and "/3" in captured.err


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(widths=[10]), ValueError, "at least one layer"),
    (dict(widths=[10, 0]), ValueError, r"widths\[1\] must be >= 1"),
    (dict(widths=[10, 2.5]), TypeError, "list of integers"),
    (dict(m=0), ValueError, "m must be >= 1"),
    (dict(trials=0), ValueError, "trials must be >= 1"),
    (dict(sigma_w=-1.0), ValueError, "sigma_w must be > 0"),
    (dict(sigma_b=-0.1), ValueError, "sigma_b must be >= 0"),
    (dict(entries="cauchy"), ValueError, "unknown entry law"),
    (dict(rng="seed"), TypeError, "rng must be"),
])
def test_bad_arguments_are_refused(kwargs, exc, match):
    args = dict(widths=[10, 10], m=10)
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        sample_gram("tanh(x)", args.pop("widths"), args.pop("m"), **args)


def test_as_generator():
    g = np.random.default_rng(0)
    assert as_generator(g) is g
    with pytest.raises(ValueError, match="seed must be >= 0"):
        as_generator(-1)
    with pytest.raises(TypeError):
        as_generator(True)
