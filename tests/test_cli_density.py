"""``nrmt density``: JSON contract, values against closed forms, CSV, plot, one-line errors."""

import json
import os

import mpmath
import pytest

from nrmt.cli import main

KEYS = {"activation", "phi", "psi", "sigma", "dps", "theta1", "theta2", "x", "density", "support",
        "atom", "moments"}


def run_json(capsys, *argv):
    rc = main(["density", *argv, "--json"])
    out = capsys.readouterr().out
    assert rc == 0
    return json.loads(out)


def test_json_contract_fuss_catalan_30_digits(capsys):
    res = run_json(capsys, "--theta1", "1", "--theta2", "1", "--phi", "1", "--psi", "1",
                   "--x", "0.5,3", "--dps", "30")
    assert KEYS <= set(res)
    assert res["dps"] == 30
    assert res["support"] == [["0", "6.75"]]
    assert res["atom"] == "0"
    assert [mpmath.mpf(m) for m in res["moments"]] == [1, 3, 12, 55]
    # Penson-Zyczkowski closed form of the Fuss-Catalan (s = 2) density
    with mpmath.workdps(40):
        for xs, ds in zip(res["x"], res["density"]):
            x = mpmath.mpf(xs)
            r = mpmath.sqrt(81 - 12 * x)
            A = 27 + 3 * r
            ref = mpmath.cbrt(2) * mpmath.sqrt(3) / (12 * mpmath.pi) * (
                mpmath.cbrt(2) * A ** (mpmath.mpf(2) / 3) - 6 * mpmath.cbrt(x)) / (x ** (mpmath.mpf(2) / 3) * mpmath.cbrt(A))
            assert len(ds.replace("-", "").replace(".", "").lstrip("0")) <= 31
            assert abs(mpmath.mpf(ds) - ref) <= mpmath.mpf(10) ** -29 * ref


def test_marchenko_pastur_via_expr(capsys):
    """He3 = x^3 - 3x has theta2 = 0: Marchenko-Pastur with ratio phi/psi and scale theta1 = 6."""
    res = run_json(capsys, "x**3 - 3*x", "--phi", "2", "--psi", "0.5", "--grid", "10:50:3", "--dps", "20")
    assert res["activation"] is not None
    assert mpmath.mpf(res["theta2"]) == 0 and mpmath.mpf(res["theta1"]) == 6
    c, s = 4, 6
    with mpmath.workdps(30):
        a, b = s * (1 - mpmath.sqrt(c)) ** 2, s * (1 + mpmath.sqrt(c)) ** 2
        assert abs(mpmath.mpf(res["support"][0][0]) - a) < mpmath.mpf(10) ** -18
        assert abs(mpmath.mpf(res["support"][0][1]) - b) < mpmath.mpf(10) ** -18
        assert abs(mpmath.mpf(res["atom"]) - mpmath.mpf(3) / 4) < mpmath.mpf(10) ** -19
        for xs, ds in zip(res["x"], res["density"]):
            x = mpmath.mpf(xs)
            ref = mpmath.sqrt((b - x) * (x - a)) / (2 * mpmath.pi * c * s * x)
            assert abs(mpmath.mpf(ds) - ref) <= mpmath.mpf(10) ** -19 * ref


def test_sigma_w_sigma_x_equal_sigma(capsys):
    a = run_json(capsys, "tanh(x)", "--phi", "1", "--psi", "0.5", "--sigma", "1.2", "--x", "1")
    b = run_json(capsys, "tanh(x)", "--phi", "1", "--psi", "0.5", "--sigma-w", "1.5", "--sigma-x", "0.8", "--x", "1")
    assert a["theta1"] == b["theta1"] and a["density"] == b["density"]
    assert b["sigma_w"] == 1.5 and b["sigma_x"] == 0.8
    # the notes' table: m1..m4 = 0.4609, 0.9876, 2.8234, 9.2486
    assert [round(float(m), 4) for m in a["moments"]] == [0.4609, 0.9876, 2.8234, 9.2486]


def test_csv_auto_and_text(capsys):
    assert main(["density", "--theta1", "1", "--theta2", "0.5", "--phi", "1", "--psi", "2", "--auto", "20",
                 "--csv"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "x,density" and len(lines) >= 20
    xs = [float(line.split(",")[0]) for line in lines[1:]]
    assert xs == sorted(xs)
    assert main(["density", "relu(x)", "--phi", "1", "--psi", "1", "--x", "0.5"]) == 0
    text = capsys.readouterr().out
    assert "support" in text and "atom" in text


def test_plot(tmp_path, capsys):
    path = tmp_path / "rho.png"
    assert main(["density", "tanh(x)", "--phi", "2", "--psi", "1", "--auto", "30", "--plot", str(path)]) == 0
    assert path.stat().st_size > 1000


@pytest.mark.parametrize("argv", [
    ["tanh(x)", "--phi", "0", "--psi", "1"],
    ["tanh(x)", "--phi", "1", "--psi", "-1"],
    ["tanh(x)", "--phi", "nan", "--psi", "1"],
    ["tanh(x)", "--phi", "1", "--psi", "1", "--dps", "0"],
    ["tanh(x)", "--phi", "1", "--psi", "1", "--grid", "0:1:0"],
    ["tanh(x)", "--phi", "1", "--psi", "1", "--x", ","],
    ["--phi", "1", "--psi", "1"],
    ["--theta1", "0.3", "--theta2", "0.5", "--phi", "1", "--psi", "1"],
    ["tanh(x)", "--phi", "1", "--psi", "1", "--sigma", "2", "--sigma-w", "3"],
])
def test_bad_parameters_one_line_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        rc = main(["density", *argv])
        raise SystemExit(rc)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "error" in err


def test_dps15_digits_at_exact_decimal_points_near_an_edge(capsys):
    # next to the lower edge the density is ill-conditioned in x (square-root onset): the
    # printed 15 digits must be those of the decimal point given, as the 40-digit path says
    x = "0.0346483214919756"
    out = []
    for dps in ("15", "40"):
        assert main(["density", "tanh(x)", "--phi", "0.5", "--psi", "2", "--x", x, "--dps", dps,
                     "--json"]) == 0
        out.append(json.loads(capsys.readouterr().out)["density"][0])
    with mpmath.workdps(40):
        assert out[0] == mpmath.nstr(mpmath.mpf(out[1]), 15)


# --------------------------------------------------------------------------- grid points, JSON text
def _grid_reference(a, b, n, digits):
    """Independent reference: a + k (b - a)/(n - 1) in exact Fractions, rounded once (half even)
    by the decimal module at `digits` significant digits."""
    from decimal import ROUND_HALF_EVEN, Context, Decimal
    from fractions import Fraction

    ctx = Context(prec=digits, rounding=ROUND_HALF_EVEN)
    fa, fb = Fraction(a), Fraction(b)
    out = []
    for k in range(n):
        v = fa + (fb - fa) * k / (n - 1) if n > 1 else fa
        out.append(ctx.divide(Decimal(v.numerator), Decimal(v.denominator)))
    return out


def test_zero_grid_point_prints_0(capsys):
    """0 = -0.5 + 3 * (1/6) is a grid point although the step 1/6 has no finite decimal: it is
    printed (and evaluated) as 0, at any dps (it once printed -2.0e-50)."""
    for dps in ("15", "30"):
        res = run_json(capsys, "--theta1", "1", "--theta2", "0.5", "--phi", "1", "--psi", "2",
                       "--grid", "-0.5:0.5:7", "--dps", dps)
        assert res["x"][3] == "0"
        assert res["x"][0] == "-0.5" and res["x"][-1] == "0.5"


def test_typed_decimals_are_kept(capsys):
    """Points are the decimals typed (0.1, not its binary neighbour 0.1000000000000000055...)."""
    res = run_json(capsys, "--theta1", "1", "--theta2", "0.5", "--phi", "1", "--psi", "2",
                   "--x", "0.1,0.3,2.675", "--dps", "30")
    assert res["x"] == ["0.1", "0.3", "2.675"]
    res = run_json(capsys, "--theta1", "1", "--theta2", "0.5", "--phi", "1", "--psi", "2",
                   "--grid", "-1:1:21", "--dps", "30")
    assert res["x"][11] == "0.1" and res["x"][13] == "0.3" and res["x"][10] == "0"


@pytest.mark.parametrize("dps", [3, 15, 30])
def test_grid_points_are_the_exact_points_rounded_once(dps):
    """Every grid point equals the exact rational a + k (b - a)/(n - 1) rounded once."""
    import random
    from decimal import Decimal

    from nrmt.cli.density import grid_points

    rng = random.Random(dps)
    cases = [("0.001", "2", 999), ("-0.5", "0.5", 7), ("-123.456", "789.01", 301),
             ("1e-7", "1e-3", 250), ("0", "1e20", 11), ("9.99999", "10.00001", 101)]
    for _ in range(20):
        a = Decimal(rng.randint(-10**6, 10**6)).scaleb(-rng.randint(0, 9))
        b = a + Decimal(rng.randint(0, 10**7)).scaleb(-rng.randint(0, 9))
        cases.append((str(a), str(b), rng.randint(1, 200)))
    for a, b, n in cases:
        got = grid_points(a, b, n, dps)
        want = _grid_reference(a, b, n, dps)
        assert [Decimal(g) for g in got] == want, (a, b, n, dps)
        with mpmath.workdps(dps + 20):  # in the printed layout (mpmath.nstr's)
            for g in got:
                assert g == ("0" if Decimal(g) == 0 else mpmath.nstr(mpmath.mpf(g), dps, strip_zeros=True,
                                                                  min_fixed=-5, max_fixed=dps + 1))


def test_json_text_is_json_dumps_indent_2(capsys):
    """The fast JSON writer prints exactly what json.dumps(obj, indent=2) prints."""
    assert main(["density", "tanh", "--phi", "0.5", "--psi", "2", "--grid", "0:2:50", "--json"]) == 0
    out = capsys.readouterr().out
    assert out == json.dumps(json.loads(out), indent=2) + "\n"
