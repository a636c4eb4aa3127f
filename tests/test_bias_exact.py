"""The bias law's mpmath path and its digits claim (issue 13, item 4; issue 12, item 4).

Independent sides: the bias-free law (for a linear activation the bias only shifts the rows,
which the row centring removes, so the bias law must equal the bias-free one whatever the
bias rule), and the same law at another precision, whose trapezoid rule in beta has other nodes
and another step.
"""

import mpmath

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
