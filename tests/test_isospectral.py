"""Isospectrality: the check on known activations, the family solver (exact), the bias case (no
non-constant activation qualifies: c(beta) = 2 Phi(beta) - 1 for |x|), and the CLI JSON contract."""

import json

import mpmath
import pytest
import sympy

from nrmt.cli import main
from nrmt.theory.isospectral import check, conditions, slope_evidence, solve_family


@pytest.mark.parametrize("expr,iso", [
    ("abs(x)", True),              # even: E f' = 0
    ("x**2", True),
    ("x**3 - 3*x", True),          # He3 at sigma = 1: E f'(Z) = 3 - 3 = 0
    ("tanh(x)", False),
    ("relu", False),
    ("x", False),
])
def test_check_without_bias(expr, iso):
    ok, conds = check(expr, dps=20)
    assert ok is iso
    names = [c.name for c in conds]
    assert names == ["theta2_zero", "nonconstant", "scale"]


def test_he3_is_not_isospectral_at_another_scale():
    # E f'(sigma Z) = 3 sigma^2 - 3 != 0 for sigma != 1
    assert check("x**3 - 3*x", sigma=2)[0] is False


def test_scale_condition_separate():
    # f = (|x| - sqrt(2/pi)) / sqrt(1 - 2/pi): theta1 = 1 = sigma_x^2 at sigma = 1
    ok, conds = check("(Abs(x) - sqrt(2/pi)) / sqrt(1 - 2/pi)", dps=30)
    scale = [c for c in conds if c.name == "scale"][0]
    assert ok and scale.holds and not scale.required
    assert abs(scale.value) < mpmath.mpf(10) ** -29


def test_solver_families_exact():
    a, c = sympy.symbols("a c", real=True)
    r = solve_family("a*x + b*(x**2 - 1) + c*(x**3 - 3*x)", ["a"], sigma=2)
    # E[Z f(2Z)] = 2a + c (3*8 - 3*2) = 2a + 18c  ->  a = -9c
    assert len(r["isospectral"]) == 1
    (sol,) = r["isospectral"]
    assert sympy.simplify(list(sol.values())[0] - (-9) * [s for s in r["stein"].free_symbols if s.name == "c"][0]) == 0
    r = solve_family("Abs(x) + a*x", ["a"])
    assert [list(s.values())[0] for s in r["isospectral"]] == [0]


def test_solver_with_scale():
    r = solve_family("a*x + b*(x**2 - 1)", ["a", "b"])
    # theta2 = a^2 = 0 and theta1 = a^2 + 2 b^2 = 1: b = +-1/sqrt(2)
    vals = sorted(float(s[[k for k in s if k.name == "b"][0]]) for s in r["with_scale"])
    assert vals == pytest.approx([-2 ** -0.5, 2 ** -0.5])


def test_bias_breaks_isospectrality():
    ok, conds = check("abs(x)", sigma_b=0.5, grid=7)
    assert ok is False
    slope = [c for c in conds if c.name == "slope_zero_all_beta"][0]
    assert not slope.holds and slope.value > 0.5
    betas, cs = slope_evidence("abs(x)", 1, 0.5, grid=7, dps=20)
    with mpmath.workdps(30):
        for b, c in zip(betas, cs):
            assert abs(c - mpmath.erf(b / mpmath.sqrt(2))) < 1e-18


def test_conditions_are_sympy():
    eqs = conditions()
    assert isinstance(eqs[0], sympy.Eq)
    assert len(conditions(bias=True)) == 3


def test_cli_json_keys(capsys):
    assert main(["isospectral", "abs(x)", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["isospectral"] is True
    assert {"name", "expression", "value", "holds"} <= set(d["conditions"][0])
    assert main(["isospectral", "Abs(x) + a*x", "--solve", "a", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["solutions"] == [{"a": "0"}]
    assert main(["isospectral", "abs(x)", "--bias-sigma", "1", "--grid", "5", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["isospectral"] is False and len(d["slope_grid"]) == 5


def test_cli_refuses_free_parameters(capsys):
    assert main(["isospectral", "a*x"]) == 2
    assert "free parameters" in capsys.readouterr().err
