"""Inputs are converted exactly (theory/exact.py) and never silently rounded: issue 12 item 1."""

import decimal
import fractions

import mpmath
import numpy as np
import pytest
import sympy

from nrmt.models.jacobian import Jacobian
from nrmt.models.one_layer import OneLayer
from nrmt.theory.exact import exact_parameter


@pytest.mark.parametrize("value, expected", [
    (2, sympy.Integer(2)),
    (np.int64(3), sympy.Integer(3)),
    (fractions.Fraction(1, 3), sympy.Rational(1, 3)),
    (decimal.Decimal("0.1"), sympy.Rational(1, 10)),
    ("1/2", sympy.Rational(1, 2)),
    ("0.1", sympy.Rational(1, 10)),
    ("1e-3", sympy.Rational(1, 1000)),
    ("sqrt(2)", sympy.sqrt(2)),
    (sympy.Rational(2, 7), sympy.Rational(2, 7)),
    (np.float32(0.5), sympy.Rational(1, 2)),
    (sympy.Float(0.5), sympy.Rational(1, 2)),
    (0.25, sympy.Rational(1, 4)),
])
def test_exact_values(value, expected):
    assert exact_parameter(value, "phi") == expected


@pytest.mark.parametrize("value", [0.1, np.float32(0.1), np.float64(0.1), mpmath.mpf("0.1"),
                                   sympy.Float("0.1", 15), sympy.Float("0.1", 40)])
def test_binary_numbers_are_their_exact_binary_value(value):
    # the exact binary value, independently: Python's Fraction of the float / the mpf mantissa
    got = exact_parameter(value)
    if isinstance(value, (float, np.floating)):
        want = fractions.Fraction(*value.as_integer_ratio())
    else:
        sign, man, exp, _ = value._mpf_          # (sign, mantissa, exponent, bits), at full precision
        want = (-1) ** sign * fractions.Fraction(int(man)) * fractions.Fraction(2) ** int(exp)
    assert got == sympy.Rational(want.numerator, want.denominator)
    assert got != sympy.Rational(1, 10)          # 1/10 has no finite binary expansion


@pytest.mark.parametrize("value, kind, words", [
    (float("nan"), ValueError, "finite"), (np.float32("inf"), ValueError, "finite"),
    (mpmath.inf, ValueError, "finite"), (sympy.oo, ValueError, "finite"),
    ("nan", ValueError, "phi"), (-1, ValueError, "phi must be > 0, got -1"),
    ("-1/2", ValueError, "> 0"), (0, ValueError, "> 0"), ("t", ValueError, "free symbols"),
    (1j, TypeError, "real"), (True, TypeError, "number"), (None, TypeError, "number"),
    ([1], TypeError, "number"), ("", ValueError, "empty"), (sympy.I, ValueError, "real"),
])
def test_refusals_name_the_parameter(value, kind, words):
    with pytest.raises(kind, match="phi") as info:
        exact_parameter(value, "phi", positive=True)
    assert words in str(info.value)
    assert "\n" not in str(info.value)


def test_symbols_only_when_asked():
    v = exact_parameter("phi", "phi", symbols=True)
    assert v.is_Symbol and v.name == "phi"


def _mp_density(x, gamma, scale):
    """Marchenko-Pastur density (ratio gamma, scale s), written out independently."""
    a = scale * (1 - mpmath.sqrt(gamma)) ** 2
    b = scale * (1 + mpmath.sqrt(gamma)) ** 2
    return mpmath.sqrt((b - x) * (x - a)) / (2 * mpmath.pi * gamma * scale * x)


@pytest.mark.parametrize("phi", [np.float32(0.1), sympy.Float("0.1", 15), 0.1, "0.1", "1/10"])
def test_one_layer_law_is_that_of_the_exact_input(phi):
    # theta2 = 0: Marchenko-Pastur with ratio phi/psi, scale theta1 (Pennington-Worah 2017); the
    # law at 30 digits must be that of the exact value of the input, not of a rounded one
    dps = 30
    law = OneLayer.from_constants(1, 0, phi=phi, psi=2).law(dps=dps)
    exact_phi = exact_parameter(phi)
    with mpmath.workdps(dps + 10):
        gamma = mpmath.mpf(sympy.N(exact_phi, dps + 20)) / 2
        want = _mp_density(mpmath.mpf(1), gamma, 1)
    got = law.density("1")
    assert abs(got - want) <= mpmath.mpf(10) ** (3 - dps) * want


def test_float32_and_sympy_float_keep_all_digits():
    # issue 12: phi = np.float32(0.5) was wrong from the 8th digit, sympy.Float(0.5) from the 17th
    ref = OneLayer("tanh(x)", phi="1/2", psi=2).law(dps=30).density("0.5")
    for phi in (np.float32(0.5), sympy.Float(0.5)):
        got = OneLayer("tanh(x)", phi=phi, psi=2).law(dps=30).density("0.5")
        assert abs(got - ref) <= mpmath.mpf(10) ** -28 * ref
    assert mpmath.nstr(ref, 12) == "0.719164929057"


def test_numpy_callable_default_dps_and_limit():
    model = OneLayer(np.tanh, phi=0.5, psi=2)
    ref = OneLayer("tanh(x)", phi="1/2", psi=2).law(dps=20).density("0.5")
    assert abs(model.law().density(0.5) - float(ref)) <= 1e-12
    with pytest.raises(ValueError, match="at most dps = 15") as info:
        model.law(dps=20)
    assert "callable" in str(info.value)


def test_ratio_strings_everywhere():
    assert OneLayer("tanh", phi="1/2", psi="2").phi == sympy.Rational(1, 2)
    m = Jacobian("tanh", 2, sigma_w="1/2", sigma_b="1/10", q0="1e-1")
    assert (m.sigma_w, m.sigma_b, m.q0) == (sympy.Rational(1, 2), sympy.Rational(1, 10),
                                           sympy.Rational(1, 10))
    with pytest.raises(ValueError, match="sigma_w must be > 0"):
        Jacobian("tanh", 2, sigma_w=-1)
    with pytest.raises(ValueError, match="phi must be finite"):
        OneLayer("tanh", phi=float("nan"), psi=1)
