"""Mean field: length map, fixed point, chi and the criticality solver (Poole et al. 2016;
Schoenholz et al. 2017), against closed forms and independent Gaussian integrals."""

import mpmath
import pytest
import sympy

from nrmt.theory.mean_field import (NoFixedPoint, chi, criticality, fixed_point_q,
                                    is_positively_homogeneous, length_map, length_sequence)


@pytest.mark.parametrize("q_star", ["0.3", "2"])
def test_relu_criticality_is_exact(q_star):
    c = criticality("relu", q_star)
    assert c.exact["sigma_w2"] == 2 and c.exact["sigma_b2"] == 0
    assert c.sigma_w2 == 2 and c.sigma_b == 0 and c.chi == 1


@pytest.mark.parametrize("dps", [15, 50])
def test_hard_tanh_criticality_closed_form(dps):
    # E 1{|sqrt(q) Z| < 1} = erf(1/sqrt(2q)); E hardtanh(sqrt(q) Z)^2 by direct quadrature
    q = mpmath.mpf(1) / 2
    c = criticality("hard_tanh(x)", "1/2", dps=dps)
    with mpmath.workdps(dps + 10):
        sw2 = 1 / mpmath.erf(1 / mpmath.sqrt(2 * q))
        phi = lambda z: mpmath.exp(-z * z / 2) / mpmath.sqrt(2 * mpmath.pi)
        s = 1 / mpmath.sqrt(q)
        ef2 = mpmath.quad(lambda z: q * z * z * phi(z), [-s, s]) + 2 * mpmath.quad(phi, [s, mpmath.inf])
        sb2 = q - sw2 * ef2
        assert abs(c.sigma_w2 - sw2) < mpmath.mpf(10) ** (-dps + 1)
        assert abs(c.sigma_b2 - sb2) < mpmath.mpf(10) ** (-dps + 1)


# values of /work/shared/theory/deep.md part C (checked there against Monte Carlo)
TABLE = [("tanh(x)", "0.5", 1.6880, 0.0380), ("hard_tanh(x)", "0.5", 1.1867, 0.0596),
         ("sin(x)", "0.3", 1.2913, 0.0087)]


@pytest.mark.parametrize("f,q,sw2,sb2", TABLE, ids=[t[0] for t in TABLE])
def test_criticality_table_and_consistency(f, q, sw2, sb2):
    c = criticality(f, q, dps=20)
    assert abs(float(c.sigma_w2) - sw2) < 1e-4 and abs(float(c.sigma_b2) - sb2) < 1e-4
    # q* is a fixed point of the length map with these scales, and chi = 1 there
    with mpmath.workdps(30):
        assert abs(length_map(f, q, c.sigma_w, c.sigma_b, dps=20) - mpmath.mpf(q)) < 1e-18
        assert abs(chi(f, q, c.sigma_w, dps=20) - 1) < 1e-18


def test_off_critical_tanh():
    sb = sympy.sqrt(sympy.Rational(1, 20))
    q = fixed_point_q("tanh", 1.5, sb, dps=20)
    assert abs(float(q) - 0.889) < 1e-3
    assert abs(float(chi("tanh", q, 1.5)) - 1.092) < 1e-3
    with mpmath.workdps(30):
        assert abs(length_map("tanh", q, 1.5, sb, dps=20) - q) < 1e-18


def test_linear_fixed_point_closed_form():
    # q = sw^2 q + sb^2  ->  q* = sb^2/(1 - sw^2)
    q = fixed_point_q("x", "0.8", "0.3", dps=30)
    with mpmath.workdps(40):
        assert abs(q - mpmath.mpf("0.09") / (1 - mpmath.mpf("0.64"))) < mpmath.mpf(10) ** -28


def test_length_sequence_relu_and_homogeneous_cases():
    assert [float(v) for v in length_sequence("relu", 3, 3, sympy.sqrt(2))] == [6.0, 6.0, 6.0]
    assert is_positively_homogeneous("leaky_relu(x, 0.2)") and not is_positively_homogeneous("tanh")
    assert fixed_point_q("relu", 1.2, 0) == 0
    with pytest.raises(NoFixedPoint, match="no finite fixed point"):
        fixed_point_q("relu", 1.5, 0)


def test_no_critical_point_is_an_error():
    with pytest.raises(ValueError, match="no critical point"):
        criticality("x + 1", "0.5")
    with pytest.raises(ValueError):
        criticality("tanh", "-1")
