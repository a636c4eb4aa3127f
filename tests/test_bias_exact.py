"""The bias law's mpmath path and its digits claim (issue 13, item 4; issue 12, item 4).

Independent sides: the bias-free law (for a linear activation the bias only shifts the rows,
which the row centring removes, so the bias law must equal the bias-free one whatever the
bias rule), and the same law at another precision, whose trapezoid rule in beta has other nodes
and another step.
"""

import mpmath
import pytest

from nrmt.models.bias import Bias
from nrmt.models.layers import Layers
from nrmt.theory.bias import trapezoid_gauss_rule

Z = "0.5+0.1j"


def test_linear_activation_with_bias_equals_the_bias_free_law_at_20_digits():
    with_bias = Bias("2*x + 1", phi=0.5, psi=2, sigma_b=1).law(20).stieltjes(complex(Z))
    without = Layers("2*x + 1", phi=0.5, psi=[2]).law(20).stieltjes(complex(Z))
    assert abs(with_bias - without) <= mpmath.mpf(10) ** -19 * abs(without)


def test_relu_bias_law_agrees_at_two_precisions_and_with_the_float_path():
    """ReLU with sigma_b = 1: G off the axis at dps 20 and 28 (two different beta rules) agree
    to 20 digits; the float path (106-bit trapezoid rule, 12 digits claimed) agrees to 1e-13."""
    model = Bias("relu", phi=0.5, psi=2, sigma_b=1)
    g20 = model.law(20).stieltjes(complex(Z))
    g28 = model.law(28).stieltjes(complex(Z))
    assert abs(g20 - g28) <= mpmath.mpf(10) ** -19 * abs(g28)
    g15 = model.law(15).stieltjes(complex(Z))
    assert abs(g15 - complex(g28)) <= 1e-13 * abs(complex(g28))


def test_trapezoid_gauss_rule_moments():
    """The beta rule integrates the Gaussian moments (E t^2k = (2k-1)!!) to its precision."""
    with mpmath.workdps(40):
        ts, ws = trapezoid_gauss_rule(133)
        for k, ref in ((1, 1), (2, 3), (3, 15), (4, 105)):
            val = mpmath.fsum(w * t ** (2 * k) for t, w in zip(ts, ws))
            assert abs(val - ref) <= mpmath.mpf(10) ** -35 * ref


# ------------------------------------------------- the lattice profile (analytic f, no closed form)
def _quad_profile(expr_mp, sigma, beta, dps):
    """(μ, E f², E[ξ f]) at one β by mpmath's tanh-sinh quadrature (an independent method)."""
    with mpmath.workdps(dps):
        def e(g):
            return mpmath.quad(lambda x: g(x) * mpmath.npdf(x), [-mpmath.inf, -8, -3, 0, 3, 8, mpmath.inf])
        f = lambda x: expr_mp(sigma * x + beta)  # noqa: E731
        return e(f), e(lambda x: f(x) ** 2), e(lambda x: x * f(x))


def test_lattice_profile_matches_tanh_sinh_quadrature_at_40_digits():
    """The lattice table (one convolution for every beta node) against a quadrature per node,
    for tanh (strip pi/2), softplus (whose per-node exact-engine quadrature overflows in the far
    nodes) and tanh(6x) (strip pi/12 < 1/2: the step-2δ check must refine the lattice)."""
    from nrmt.theory.bias import BiasProfileMP

    cases = [("tanh(x)", mpmath.tanh, 1, 1), ("log(1 + exp(x))", lambda u: mpmath.log1p(mpmath.exp(u)), 1.5, 0.5),
             ("tanh(6*x)", lambda u: mpmath.tanh(6 * u), 1, 2)]
    for expr, fn, sigma, sigma_b in cases:
        prof = BiasProfileMP(expr, sigma, sigma_b)
        ws, vals = prof._nodes(150)
        _, _, betas = prof._lattice(150)
        with mpmath.workdps(45):
            assert abs(mpmath.fsum(ws) - 1) < mpmath.mpf(10) ** -40
        n = len(betas)
        for k in (n // 2 + 11, n // 3):
            mu, m2, st = _quad_profile(fn, mpmath.mpf(sigma), betas[k], 50)
            mu_l, t1_l, c2_l, s2_l = vals[k]
            with mpmath.workdps(50):
                tol = mpmath.mpf(10) ** -40
                assert abs(mu_l - mu) <= tol * (1 + abs(mu)), (expr, k)
                assert abs(t1_l - (m2 - mu ** 2)) <= tol * (1 + m2), (expr, k)
                assert abs(c2_l - st ** 2 / mpmath.mpf(sigma) ** 2) <= tol * (1 + m2), (expr, k)


def test_fixed_point_pair_equals_the_mpmath_average():
    """alpha_tau (fixed-point integer sums) against the generic mpmath average of the same nodes."""
    from nrmt.theory.bias import BiasProfileMP

    for expr in ("tanh(x)", "abs(x)"):
        prof = BiasProfileMP(expr, 1, 1)
        with mpmath.workprec(140):
            e0, e1 = mpmath.mpc("0.3", "0.7"), mpmath.mpc("-0.2", "1.1")
            alpha, tau = prof.alpha_tau(e0, e1, 140)
            a = prof.average(lambda mu, t1, c2, s2: c2 / (1 + c2 * e1 + s2 * e0), 140)
            t = prof.average(lambda mu, t1, c2, s2: s2 / (1 + c2 * e1 + s2 * e0), 140)
            assert abs(alpha - a) <= mpmath.mpf(2) ** -130 * abs(a)
            assert abs(tau - t) <= mpmath.mpf(2) ** -130 * abs(t)


def test_tanh_bias_law_at_20_digits_agrees_with_the_float_path():
    """tanh with sigma_b = 1 (lattice profile): G at dps 20 against the float path (float profiles
    by Gauss-Hermite in ξ, the 106-bit rule in β, float Newton) to the 12 digits it claims."""
    model = Bias("tanh(x)", phi=0.5, psi=2, sigma_b=1)
    g20 = model.law(20).stieltjes(complex(Z))
    g15 = model.law(15).stieltjes(complex(Z))
    assert abs(g15 - complex(g20)) <= 1e-12 * abs(complex(g20))


@pytest.mark.slow
def test_tanh_bias_law_agrees_at_two_precisions():
    """dps 20 and 32: other lattices, other beta rules, other Newton precisions: 20 digits."""
    model = Bias("tanh(x)", phi=0.5, psi=2, sigma_b=1)
    g20 = model.law(20).stieltjes(complex(Z))
    g32 = model.law(32).stieltjes(complex(Z))
    assert abs(g20 - g32) <= mpmath.mpf(10) ** -19 * abs(g32)
