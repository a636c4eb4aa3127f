"""Tests of ``nrmt constants``: JSON contract, table output, symbolic output, and bad input (exit 2)."""

import json
import os
import shutil
import subprocess
import sys

import mpmath
import pytest
import sympy

from nrmt.cli import main

CONTRACT_KEYS = {"activation", "sigma", "dps", "mean", "theta1", "theta2", "exact", "hermite"}


def run_json(capsys, *argv):
    code = main(["constants", *argv, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def _digits(text):
    mantissa = text.lower().split("e")[0].lstrip("-").replace(".", "").lstrip("0")
    return len(mantissa)


def test_json_contract_relu(capsys):
    data = run_json(capsys, "relu", "--hermite", "4")
    assert CONTRACT_KEYS <= set(data)
    assert set(data["exact"]) >= {"mean", "theta1", "theta2"}
    assert data["activation"] == "relu" and data["dps"] == 15
    assert data["theta2"] == "0.25"
    assert data["mean"] == mpmath.nstr(1 / mpmath.sqrt(2 * mpmath.pi), 15)
    assert data["theta1"] == mpmath.nstr(mpmath.mpf(1) / 2 - 1 / (2 * mpmath.pi), 15)
    assert len(data["hermite"]) == 5 and data["hermite"][1] == "0.5"
    # E[relu(Z) He_4(Z)] = -φ(0) (He_2(0) = -1); the expansion coefficient c_4 is that over 4!
    assert data["hermite_projection"][4] == mpmath.nstr(-1 / mpmath.sqrt(2 * mpmath.pi), 15)
    assert data["hermite"][4] == mpmath.nstr(-1 / mpmath.sqrt(2 * mpmath.pi) / 24, 15)
    assert sympy.sympify(data["exact"]["hermite"][4]) == -1 / sympy.sqrt(2 * sympy.pi) / 24
    assert "theta1" in data["hermite_convention"]
    # the exact strings are sympy expressions that evaluate to the printed numbers
    assert sympy.sympify(data["exact"]["theta2"]) == sympy.Rational(1, 4)
    assert abs(float(sympy.sympify(data["exact"]["theta1"])) - float(data["theta1"])) < 1e-15
    assert data["method"]["theta1"] == "exact"


def test_json_50_digits_tanh(capsys):
    data = run_json(capsys, "tanh(x)", "--dps", "50")
    assert data["exact"]["theta1"] is None and data["method"]["theta1"] == "quadrature"
    assert _digits(data["theta1"]) == 50
    with mpmath.workdps(60):
        ref = mpmath.quad(lambda z: mpmath.tanh(z) ** 2 * mpmath.npdf(z), [-mpmath.inf, -2, 0, 2, mpmath.inf])
        assert abs(mpmath.mpf(data["theta1"]) - ref) <= mpmath.mpf(10) ** -50


def test_sigma_and_param(capsys):
    data = run_json(capsys, "leaky_relu(x, a)", "--param", "a=0.1", "--sigma", "2")
    assert data["sigma"] in ("2", "2.0")
    assert data["parameters"] == []
    # θ2 = σ² ((1 + a)/2)² = 4 · 0.3025
    assert data["theta2"] == "1.21"
    assert sympy.sympify(data["exact"]["theta2"]) == sympy.Rational(121, 100)


def test_symbolic_output(capsys):
    data = run_json(capsys, "leaky_relu(x, a)", "--sigma", "sigma")
    assert data["symbolic"] is True and data["theta1"] is None and data["parameters"] == ["a"]
    theta2 = sympy.sympify(data["exact"]["theta2"])
    a, s = sympy.symbols("a sigma")
    assert sympy.simplify(theta2 - s ** 2 * (1 + a) ** 2 / 4) == 0


def test_table_output(capsys):
    assert main(["constants", "gelu", "--hermite", "2"]) == 0
    out = capsys.readouterr().out
    assert "theta1" in out and "theta2" in out and "exact" in out and "c_2" in out


def test_numeric_flag(capsys):
    data = run_json(capsys, "relu", "--numeric")
    assert data["method"]["theta2"] == "quadrature" and data["exact"]["theta2"] is None
    assert data["theta2"] == "0.25"


BAD = [
    ["__import__('os').system('touch /tmp/nrmt_cli_pwned')"],
    ["foo(x)"],
    ["x.real"],
    ["exp(x**2)"],
    ["tanh(a*x)"],
    ["relu", "--dps", "0"],
    ["relu", "--dps", "abc"],
    ["relu", "--sigma", "-1"],
    ["relu", "--sigma", "0"],
    ["relu", "--sigma", "foo"],
    ["relu", "--param", "a=0.1"],
    ["relu", "--param", "novalue"],
    ["relu", "--hermite", "-1"],
    ["1/x"],
]


@pytest.mark.parametrize("argv", BAD, ids=[" ".join(a) for a in BAD])
def test_bad_input_exits_2_with_one_line(argv, capsys):
    try:
        code = main(["constants", *argv])
    except SystemExit as exc:  # argparse type errors
        code = exc.code
    out, err = capsys.readouterr()
    assert code == 2
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith(("usage:", " "))]
    assert len(lines) == 1 and "error" in lines[0]
    assert not os.path.exists("/tmp/nrmt_cli_pwned")


def test_console_script_subprocess():
    exe = shutil.which("nrmt")
    cmd = [exe] if exe else [sys.executable, "-m", "nrmt"]
    done = subprocess.run(cmd + ["constants", "relu", "--json"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["theta2"] == "0.25"
    bad = subprocess.run(cmd + ["constants", "__import__('os')"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
