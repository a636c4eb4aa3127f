"""Bias: constants against closed forms, the profile law against Monte Carlo (and the averaged
quartic measurably worse), departure from Marchenko–Pastur growing with σ_b in theory and samples."""

import json
import math

import mpmath
import numpy as np
import pytest

from nrmt.models.bias import Bias
from nrmt.models.layers import Layers
from nrmt.models.one_layer import OneLayer
from nrmt.numerics.compare import compare
from nrmt.theory.bias import averaged_constants, bias_constants, bias_functions, slope_curve
from noise import assert_ks_agrees, assert_ks_disagrees, z_bound
from test_compare import MarchenkoPastur
from test_layers import grid_for, law_cdf, mp_density


# ------------------------------------------------------------------ constants (reference table)
def _relu_reference(beta, sigma):
    """Closed forms for ReLU: c = Phi(b/s), mu = s phi(b/s) + b Phi(b/s),
    E f^2 = (b^2 + s^2) Phi(b/s) + b s phi(b/s)."""
    t = beta / sigma
    Phi = (1 + mpmath.erf(t / mpmath.sqrt(2))) / 2
    phi = mpmath.exp(-t * t / 2) / mpmath.sqrt(2 * mpmath.pi)
    mu = sigma * phi + beta * Phi
    m2 = (beta ** 2 + sigma ** 2) * Phi + beta * sigma * phi
    return mu, m2 - mu ** 2, Phi


@pytest.mark.parametrize("dps", [15, 30])
@pytest.mark.parametrize("beta", ["-0.7", "1.3"])
def test_relu_bias_constants_closed_form(beta, dps):
    with mpmath.workdps(dps + 10):
        b, s = mpmath.mpf(beta), mpmath.mpf("1.5")
        mu, t1, c = _relu_reference(b, s)
        t2 = (s * c) ** 2
    k = bias_constants("relu", b, sigma=s, dps=dps)
    with mpmath.workdps(dps + 10):
        tol = mpmath.mpf(10) ** (-dps + 1)
        assert abs(k.mean - mu) <= tol * abs(mu)
        assert abs(k.theta1 - t1) <= tol * abs(t1)
        assert abs(k.slope - c) <= tol * abs(c)
        assert abs(k.theta2 - t2) <= tol * t2


def test_bias_functions_abs_slope_is_erf():
    fs = bias_functions("abs(x)")
    import sympy

    beta = sympy.Symbol("beta", real=True)
    assert sympy.simplify(fs["slope"] - sympy.erf(beta / sympy.sqrt(2))) == 0


def test_averaged_constants_float_matches_mp():
    a15 = averaged_constants("tanh(x)", sigma=1, sigma_b=1, dps=15)
    # E theta1(beta) = E f(sqrt(sigma^2 + sigma_b^2) Z)^2 - E mu(beta)^2 (tower property)
    from nrmt.theory.gaussian import gaussian_expectation

    m2 = gaussian_expectation("tanh(x)**2", sigma=math.sqrt(2), dps=20).value
    assert abs(a15.theta1 - (m2 - a15.mean_square)) < 1e-12


# ------------------------------------------------------------------ law vs Monte Carlo
@pytest.mark.parametrize("act", ["tanh(x)", "relu"])
def test_bias_law_agrees_with_monte_carlo_and_averaged_quartic_does_not(act):
    model = Bias(act, 0.5, 0.625, sigma_b=1.0, nodes=24)
    sample = model.sample(400, trials=4, rng=11)
    # the rows' biases are themselves sampled (n1 = 640 of them): their spread is part of the
    # trial-to-trial noise that compare() measures (ks_split); tolerances in its units
    # (320 cells: the density rises steeply off its soft zero at 0; the CDF table's error, its
    # mass against 1, must be far below the noise for the KS to mean anything)
    c = compare(sample, model.law(), moments=0, trials=4, cells=320)
    assert_ks_agrees(c)
    assert c.cdf_error < 0.1 * c.ks_scale, c.cdf_error
    assert_ks_disagrees(compare(sample, model.averaged_law(), moments=0, trials=4))


def test_outlier_location_of_uncentred_matrix():
    from nrmt.numerics.sampling import sample_gram

    n, trials = 400, 8
    model = Bias("tanh(x) + 0.5", 1.0, 1.0, sigma_b=1.0)
    kw = dict(sigma_b=1.0, rng=3, trials=trials, pooled=False)
    top = sample_gram("tanh(x) + 0.5", [n, n], n, centre=False, **kw)[:, -1] / n
    bulk = sample_gram("tanh(x) + 0.5", [n, n], n, **kw)[:, -1]      # same draws, centred
    pred = float(model.outlier(n)) / n
    # ||mu(b)||^2 / n fluctuates with the sampled biases (standard error across trials); the
    # leading-order location leaves out an O(1) correction of the size of the bulk (its top edge)
    se = top.std(ddof=1) / math.sqrt(trials)
    assert abs(top.mean() - pred) < z_bound(trials - 1) * se + bulk.mean() / n, (top.mean(), pred, se)


# ------------------------------------------------------------------ departure from MP grows with sigma_b
def _mp_cdf(x, ratio, scale):
    rho = mp_density(x, ratio, scale)
    F = np.concatenate([[0.0], np.cumsum(0.5 * (rho[1:] + rho[:-1]) * np.diff(x))])
    return F + max(0.0, 1 - 1 / ratio)


def test_departure_from_mp_grows_with_bias_theory_and_samples():
    # |x| is isospectral without bias (theta2 = 0); with bias it is not (Piccolo-Schroeder)
    phi, psi = 0.5, 1.0
    ratio = phi / psi
    d_theory, in_noise = [], []
    for sb in (0.0, 0.5, 1.0):
        model = Bias("abs(x)", phi, psi, sigma_b=sb, nodes=16)
        law = model.law()
        scale = model.layer_constants()[0]["theta1"]      # MP with the same mean
        x = grid_for(scale * (1 + math.sqrt(ratio)) ** 2 * 2.0, n=500)
        F = law_cdf(law, x)
        d_theory.append(float(np.max(np.abs(F - _mp_cdf(x, ratio, scale)))))
        sample = model.sample(400, trials=2, rng=5)
        s = sample / sample.mean() * scale                # compare shapes only (pitfall 5)
        in_noise.append(compare(s, MarchenkoPastur(ratio, scale), moments=0, trials=2))
    assert d_theory[0] < 1e-6
    assert d_theory[0] < d_theory[1] < d_theory[2] and d_theory[2] > 0.02
    # the samples: Marchenko-Pastur within the noise without bias, outside it at sigma_b = 1
    assert_ks_agrees(in_noise[0])
    assert_ks_disagrees(in_noise[2])
    assert in_noise[0].ks < in_noise[1].ks < in_noise[2].ks


def test_slope_curve_abs_is_2Phi_minus_1():
    betas = [-1.5, -0.25, 0.375, 2.0]          # exact binary fractions
    cs = slope_curve("abs(x)", betas, sigma=0.5, dps=20)
    with mpmath.workdps(30):
        for b, c in zip(betas, cs):
            ref = mpmath.erf(mpmath.mpf(b) / mpmath.mpf("0.5") / mpmath.sqrt(2))
            assert abs(c - ref) < 1e-19


# ------------------------------------------------------------------ support near 0 (issue 6 follow-up)
def test_support_reaches_zero_without_spurious_gaps():
    # tanh rows vanish for |beta| -> oo (theta1(beta) -> 0) and n1 < m: the law has density on
    # (0, eps) for every eps. The beta rule once turned that tail into islands
    # [1.4e-4, 1.6e-4] U [3.5e-4, 4.6e-4] U [6.1e-4, 2.08]; the sample's smallest eigenvalues fell
    # in the gaps. Independent reference: Monte Carlo eigenvalues (none may lie outside the
    # support below its top edge), and a second beta rule (128 nodes) giving the same support.
    model = Bias("tanh(x)", 0.5, 0.625, sigma_b=1.0)
    sup = model.law().support
    assert sup[0][0] == 0.0 and len(sup) == 1, sup
    sample = model.sample(400, trials=2, rng=11)
    assert sample.min() < 6e-4                   # the test reaches the region of the old islands
    top = sup[-1][1]
    stray = [e for e in sample if e < top and not any(a <= e <= b for a, b in sup)]
    assert stray == [], stray
    other = Bias("tanh(x)", 0.5, 0.625, sigma_b=1.0, nodes=128).law().support
    assert len(other) == 1 and other[0][0] == 0.0 and abs(other[0][1] - top) < 1e-6 * top
    law = model.law()
    assert law.density(0.0) == 0.0               # no blow-up at a soft zero


def test_cli_prints_the_digits_the_bias_law_delivers(capsys):
    from nrmt.cli import main

    argv = ["density", "abs(x)", "--phi", "0.5", "--psi", "1", "--bias-sigma", "1", "--x", "0.5"]
    assert main(argv + ["--json"]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["dps"] == 12 and "12 digits" in captured.err
    digits = data["density"][0].lstrip("0.").replace(".", "")
    assert 0 < len(digits) <= 12
    # above dps 15 the mpmath path delivers every digit asked (no note), and its digits agree
    # with the float path (106-bit rule, float Newton: a second method) to the 12 it claims
    assert main(argv + ["--dps", "20", "--json"]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["dps"] == 20 and captured.err == ""
    text = data["density"][0]
    assert len(text.lstrip("0.").replace(".", "")) >= 19
    ref = Bias("abs(x)", 0.5, 1, sigma_b=1.0).law().density(0.5)
    assert abs(float(text) / ref - 1) < 1e-12


# ------------------------------------------------------------------ the digits claim (issue 12)
def test_bias_law_delivers_the_digits_it_claims():
    # reference: the same law with a 128-node Gauss-Hermite rule in beta (128 and 256 nodes agree
    # to 5e-9 relative here); the law (default: the 53-bit trapezoid rule in beta) claims about
    # 8 significant digits (nrmt density prints 8)
    x = np.array([0.7])
    law = Bias("abs(x)", 0.5, 0.625, sigma_b=1.0).law()
    ref = Bias("abs(x)", 0.5, 0.625, sigma_b=1.0, nodes=128).law()
    rel = np.abs(law.density(x) / ref.density(x) - 1)
    assert np.all(rel < 5e-8), rel


def test_bias_law_is_exact_for_a_linear_activation():
    # f(x) = x: f(h + b) - mu(b) = h, the bias drops out and the law is the product Wishart of
    # the one-layer model (theta1 = theta2), a closed-form case of the bias law to its digits
    x = np.array([0.3, 1.2])
    got = Bias("x", 0.5, 0.625, sigma_b=1.0).law().density(x)
    ref = OneLayer("x", 0.5, 0.625).law().density(x)
    assert np.all(np.abs(got / ref - 1) < 5e-8), (got, ref)


# --------------------------------------------------------------- float path digits (issue 13.4)
def test_float_bias_law_matches_mp_path():
    """The float bias law (trapezoid rule in beta at 106 bits, exact-Jacobian Newton) against the
    mpmath path (ReLU's closed-form profile, its own rule at the working precision, verified at
    two precisions) at dps 20: within 1e-13 relative, so the 12 digits the float path claims
    (Bias.digits) hold with a margin. x = 0.3 is near the soft zero, where the former 53-bit rule
    was off by 1.3e-7."""
    model = Bias("relu", 0.5, 2, 1)
    assert model.digits == 12
    lf, lm = model.law(), model.law(20)
    for x in (0.3, 0.8):
        with mpmath.workdps(20 + lm.guard):
            g = lm._mp_point(mpmath.mpc(x), None, 20)
        ref = -g.imag / mpmath.pi
        assert abs(lf.density(x) - float(ref)) <= 1e-13 * float(ref), (x, lf.density(x), ref)


def test_float_bias_law_mass_is_one():
    r"""Total mass 1 (continuous part plus atom): :math:`\frac1{2\pi i}\oint G(z)\,dz` (the Law's
    G(z) = int dmu(t)/(z - t), density -Im G/pi) on the
    circle :math:`|z - b/2| = b` around the support (b the top edge), by the trapezoid rule on
    256 points (error ~2^-256 for the Laurent series, Trefethen & Weideman, SIAM Rev. 56 (2014),
    Thm. 2.1), G from the float continuation off the real axis."""
    law = Bias("tanh", 0.5, 2, 1).law()
    top = law.support[-1][1]
    n = 256
    th = 2 * np.pi * (np.arange(n) + 0.5) / n
    z = top / 2 + top * np.exp(1j * th)
    g = law.stieltjes(z)
    mass = np.mean(g * (z - top / 2)).real        # G(z) = int dmu(t)/(z - t) ~ mass/z
    assert abs(mass - 1) < 1e-12, mass


def test_bias_of_a_linear_activation_drops_out():
    r"""Closed form: for f(x) = 2x, f(u + beta) - mu(beta) = 2u whatever beta, so the centred bias
    law is the bias-free law of the linear f (Marchenko-Pastur product, Layers without bias)."""
    biased = Bias("2*x", 0.5, 2, 1).law()
    plain = Layers("2*x", 0.5, [2]).law()
    xs = [0.5, 1.0, 3.0]
    ref = plain.density(xs)
    got = biased.density(xs)
    assert all(abs(g - r) <= 1e-11 * r for g, r in zip(got, ref) if r > 0), (got, ref)
