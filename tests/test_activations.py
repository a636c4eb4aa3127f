"""Tests of nrmt.theory.activations: the allow-list parser, named activations, kinks, derivatives.

References are sympy expressions written directly in the test (independent of the parser) and
mathematical facts (kink locations, weak derivatives).
"""

import os
import time

import mpmath
import numpy as np
import pytest
import sympy
from sympy import Abs, DiracDelta, Heaviside, Max, Min, Piecewise, Rational, Symbol, erf, exp, log, sqrt

from nrmt.theory.activations import NAMED, X, Activation, as_activation, kinks_of, parse_expression
from nrmt.theory.errors import NrmtError, ParseError

x = X
a = Symbol("a", real=True)
b = Symbol("b", real=True)

# (text, expected sympy expression built by hand)
VALID = [
    ("tanh(x)", sympy.tanh(x)),
    ("max(x, 0)", Max(x, 0)),
    ("x**3 - 3*x", x ** 3 - 3 * x),
    ("log(1+exp(x))", log(1 + exp(x))),
    ("x*erf(x/sqrt(2))", x * erf(x / sqrt(2))),
    ("relu", Max(x, 0)),
    ("relu(x)", Max(x, 0)),
    ("relu(2*x - 1)", Max(2 * x - 1, 0)),
    ("0.5*relu", Max(x, 0) / 2),
    ("0.1*x", x / 10),
    ("1e-3*x", x / 1000),
    ("-x", -x),
    ("+x", x),
    ("x/3", x / 3),
    ("2**x", 2 ** x),
    ("pi*x + E", sympy.pi * x + sympy.E),
    ("leaky_relu(x, a)", Max(x, 0) + a * Min(x, 0)),
    ("leaky_relu(x, 0.2)", Max(x, 0) + Rational(1, 5) * Min(x, 0)),
    ("leaky_relu", Max(x, 0) + Rational(1, 100) * Min(x, 0)),
    ("a*x + b*(x**2 - 1)", a * x + b * (x ** 2 - 1)),
    ("sigmoid", 1 / (1 + exp(-x))),
    ("softplus", log(1 + exp(x))),
    ("gelu", x * (1 + erf(x / sqrt(2))) / 2),
    ("silu", x / (1 + exp(-x))),
    ("swish", x / (1 + exp(-x))),
    ("swish(x, 2)", x / (1 + exp(-2 * x))),
    ("elu", Max(x, 0) + exp(Min(x, 0)) - 1),
    ("elu(x, a)", Max(x, 0) + a * (exp(Min(x, 0)) - 1)),
    ("hardtanh", Max(-1, Min(1, x))),
    ("hard_sigmoid", Max(0, Min(1, x / 6 + Rational(1, 2)))),
    ("relu6", Min(Max(x, 0), 6)),
    ("sign", sympy.sign(x)),
    ("abs(x)", Abs(x)),
    ("Abs(x)", Abs(x)),
    ("Heaviside(x)", Heaviside(x)),
    ("softsign", x / (1 + Abs(x))),
    ("mish", x * sympy.tanh(log(1 + exp(x)))),
    ("linear", x),
    ("identity", x),
    ("erf", erf(x)),
    ("min(x, 1, 2*x)", Min(x, 1, 2 * x)),
    ("alpha*x + beta", Symbol("alpha", real=True) * x + Symbol("beta", real=True)),
    ("a1*x", Symbol("a1", real=True) * x),
]


@pytest.mark.parametrize("text,expected", VALID, ids=[t for t, _ in VALID])
def test_parse_valid(text, expected):
    got = parse_expression(text)
    assert sympy.simplify(got - expected) == 0


def test_decimal_literals_are_exact():
    assert parse_expression("0.1") == Rational(1, 10)
    assert parse_expression("2.5e-1*x") == x / 4


# ------------------------------------------------------------------ refusals

ATTACKS = [
    "__import__('os').system('touch /tmp/nrmt_pwned')",
    "__import__",
    "x.real",
    "x.__class__",
    "().__class__.__bases__[0].__subclasses__()",
    "x[0]",
    "lambda: 1",
    "'string'",
    "b'bytes'",
    "f'{x}'",
    "foo(x)",
    "eval('1')",
    "exec('1')",
    "open('/etc/passwd')",
    "max(x, key=abs)",
    "x if x > 0 else 0",
    "x > 0",
    "x and 1",
    "[x]",
    "(x, 1)",
    "{x: 1}",
    "x^2",
    "x % 2",
    "x // 2",
    "x @ x",
    "~x",
    "not x",
    "1j*x",
    "True*x",
    "None",
    "_a*x",
    "a__b*x",
    "e*x",
    "print",
    "__builtins__",
    "(y := 1)",
    "*x",
    "",
    "   ",
    "x +",
    "9**9**9",
    "2**(9**9)",
    "(9**256)**256",
    "(x**200)**200",
    "1e999*x",
    "sqrt(x, 2)",
    "relu(x, 1)",
    "max(x)",
    "max",
    "1/0",
    "0**-1",
    "(-1)**0.5",
]


@pytest.mark.parametrize("text", ATTACKS)
def test_refused(text, monkeypatch):
    executed = []
    monkeypatch.setattr(os, "system", lambda *args: executed.append(args) or 0)
    start = time.perf_counter()
    with pytest.raises(ParseError) as info:
        parse_expression(text)
    assert time.perf_counter() - start < 1.0
    assert executed == []
    assert not os.path.exists("/tmp/nrmt_pwned")
    message = str(info.value)
    assert message and "\n" not in message


def test_refusal_names_what_was_refused():
    with pytest.raises(ParseError, match="foo"):
        parse_expression("foo(x)")
    with pytest.raises(ParseError, match="system"):
        parse_expression("__import__('os').system('ls')")
    with pytest.raises(ParseError, match="attribute"):
        parse_expression("x.real")
    with pytest.raises(ParseError, match=r"\*\*"):
        parse_expression("x^2")
    with pytest.raises(ParseError, match="keyword"):
        parse_expression("leaky_relu(x, a=0.1)")


def test_size_limits():
    with pytest.raises(ParseError, match="long"):
        parse_expression("x+" * 1500 + "x")
    with pytest.raises(ParseError, match="large|deep"):
        parse_expression("x+" * 600 + "x")
    with pytest.raises(ParseError, match="deep"):
        parse_expression("-" * 200 + "x")
    with pytest.raises(ParseError):
        parse_expression("1" * 100 + "*x")


def test_parse_error_is_value_error_and_nrmt_error():
    with pytest.raises(ValueError):
        parse_expression("foo(x)")
    with pytest.raises(NrmtError):
        parse_expression("foo(x)")
    with pytest.raises(TypeError):
        parse_expression(3)


# ------------------------------------------------------------------ Activation

def test_activation_from_each_kind():
    f_text = Activation("tanh(x)")
    f_sym = Activation(sympy.tanh(x))
    f_plain = Activation(sympy.tanh(Symbol("x")))  # a non-real x is renamed
    assert f_text.expr == f_sym.expr == f_plain.expr
    assert as_activation(f_text) is f_text
    f_call = Activation(mpmath.tanh)
    assert f_call.expr is None and not f_call.is_symbolic and f_call.parameters == ()
    assert f_call.kinks == ()
    with pytest.raises(TypeError):
        Activation(3.0)
    with pytest.raises(TypeError):
        Activation(None)


def test_parameters_and_subs():
    f = Activation("a*x + b*(x**2 - 1)")
    assert f.parameters == (a, b)
    g = f.subs(a=0.1, b=2)
    assert g.parameters == ()
    assert sympy.expand(g.expr - (x / 10 + 2 * x ** 2 - 2)) == 0
    assert Activation("leaky_relu(x, a)", a=0.25).expr == Max(x, 0) + Min(x, 0) / 4
    with pytest.raises(ValueError, match="unknown parameter 'c'"):
        f.subs(c=1)
    with pytest.raises(ValueError, match="free parameters"):
        f.mp_function()
    with pytest.raises(ValueError, match="free parameters"):
        f.numpy_function()


KINKS = [
    ("relu", (0,)),
    ("hardtanh", (-1, 1)),
    ("relu6", (0, 6)),
    ("hard_sigmoid", (-3, 3)),
    ("abs(x - 2)", (2,)),
    ("sign(x + 1)", (-1,)),
    ("Heaviside(2*x - 1)", (Rational(1, 2),)),
    ("max(x, 1 - x)", (Rational(1, 2),)),
    ("tanh", ()),
    ("x**3 - 3*x", ()),
    ("leaky_relu(x, a)", (0,)),
    ("log(abs(x))", (0,)),
]


@pytest.mark.parametrize("text,expected", KINKS, ids=[t for t, _ in KINKS])
def test_kinks(text, expected):
    assert Activation(text).kinks == tuple(sympy.S(k) for k in expected)


def test_piecewise_kinks_and_derivative():
    f = Activation(Piecewise((0, x < 1), (x, True)))  # jump of 1 at x = 1
    assert f.kinks == (1,)
    d = f.derivative()
    assert d.has_delta
    assert d.expr.coeff(DiracDelta(x - 1)) == 1


def test_periodic_and_transcendental_kinks():
    f = Activation("max(sin(x), 0)")
    assert not f.kinks_complete
    k = [float(p) for p in f.kinks]
    assert len(k) == 2 * 31 + 1 and k[31] == 0 and abs(k[32] - 3.141592653589793) < 1e-15
    g = Activation("max(tanh(x), x/2)")  # tanh x = x/2 at 0 and ±1.9150080481545...
    assert not g.kinks_complete
    roots = sorted(float(p) for p in g.kinks)
    assert len(roots) == 3 and abs(roots[2] - 1.915008048154537) < 1e-14
    assert abs(float(sympy.tanh(g.kinks[-1]) - g.kinks[-1] / 2)) < 1e-35
    assert Activation("relu").kinks_complete


def test_symbolic_kinks_listed_last():
    assert kinks_of(Max(x, a) + Abs(x)) == (0, a)


def test_weak_derivatives():
    assert Activation("relu").derivative().expr == Heaviside(x)
    assert Activation("sign").derivative().expr == 2 * DiracDelta(x)
    assert Activation("sign").derivative().has_delta
    assert not Activation("hardtanh").derivative().has_delta
    assert sympy.simplify(Activation("tanh").derivative().expr - (1 - sympy.tanh(x) ** 2)) == 0
    with pytest.raises(TypeError):
        Activation(mpmath.tanh).derivative()


@pytest.mark.parametrize("name", sorted(NAMED))
def test_numpy_and_mpmath_functions_agree(name):
    f = Activation(name)
    points = np.array([-3.7, -1.0001, -0.3, 0.2, 0.9999, 2.5, 7.1])
    got = f.numpy_function()(points)
    assert got.shape == points.shape and got.dtype == np.float64
    mp = f.mp_function(30)
    for p, g in zip(points, got):
        value = mp(mpmath.mpf(float(p)))
        if isinstance(value, mpmath.mpc):  # log/sqrt at negative points: not real
            assert np.isnan(g)
            continue
        assert abs(float(value) - g) <= 1e-13 * max(1.0, abs(g))


def test_numpy_function_scalar_expression_broadcasts():
    f = Activation("x*0 + 2")
    assert np.array_equal(f.numpy_function()(np.zeros(3)), np.full(3, 2.0))


def test_callable_numpy_function_falls_back_to_loop():
    import math

    f = Activation(lambda t: math.tanh(t))
    out = f.numpy_function()(np.array([0.0, 1.0]))
    assert np.allclose(out, np.tanh([0.0, 1.0]), rtol=0, atol=1e-15)


def test_mp_function_precision():
    f = Activation("tanh")
    v = f.mp_function(50)(1)
    with mpmath.workdps(60):
        ref = mpmath.tanh(1)
        assert abs(v - ref) < mpmath.mpf(10) ** -49


def test_to_sympy_number_keeps_the_sign_of_mpf():
    import mpmath
    import sympy

    from nrmt.theory.activations import to_sympy_number

    assert to_sympy_number(mpmath.mpf(-3)) == -3
    assert to_sympy_number(mpmath.mpf("-0.75")) == sympy.Rational(-3, 4)
    assert to_sympy_number(-mpmath.mpf(2) ** -60) == sympy.Rational(-1, 2**60)
