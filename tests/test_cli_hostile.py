"""Hostile input on the command line (issue 12, item 5): one line on stderr, exit code 2, and
nothing computed first; negative lists accepted; decimals printed without mpmath, correctly."""

import json
import random
from decimal import ROUND_HALF_EVEN, Decimal

import mpmath
import pytest

import nrmt.cli._common as common
from nrmt.cli import main


@pytest.fixture
def nothing_computed(monkeypatch):
    """Make every computation entry point of the commands fail loudly if it is reached."""

    def boom(*args, **kwargs):
        raise AssertionError("computed before refusing")

    import nrmt.cli.density as density
    import nrmt.cli.table as table
    import nrmt.models.jacobian as jacobian
    import nrmt.models.one_layer as one_layer

    monkeypatch.setattr(density, "build_model", boom)
    monkeypatch.setattr(table, "build_table", boom)
    monkeypatch.setattr(one_layer.OneLayer, "law", boom)
    monkeypatch.setattr(jacobian.Jacobian, "__init__", boom)


def refused(capsys, argv):
    try:
        rc = main(argv)
    except SystemExit as exc:
        rc = exc.code
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2, err
    assert len(err) == 1, err
    assert err[0].startswith(f"nrmt {argv[0]}: error:"), err
    assert "computed before refusing" not in err[0] and "defect" not in err[0], err
    return err[0]


LAW = ["--phi", "1", "--psi", "1"]
SAMPLE = ["tanh", "--phi", "1", "--psi", "1", "--n0", "10"]


def _paths(tmp_path):
    return {"missing": str(tmp_path / "no" / "f.png"), "folder": str(tmp_path), "empty": "",
            "unwritable": "/proc/nrmt-test.png"}


@pytest.mark.parametrize("kind,words", [("missing", "no folder"), ("folder", "is a folder"),
                                        ("empty", "expected a file name"),
                                        ("unwritable", "cannot write")])
@pytest.mark.parametrize("cmd", [["density", "tanh", *LAW, "--x", "1", "--plot"],
                                 ["table", "tanh", *LAW, "--output"],
                                 ["verify", *SAMPLE, "--plot"]])
def test_unwritable_output_refused_first(cmd, kind, words, tmp_path, capsys, nothing_computed):
    line = refused(capsys, [*cmd, _paths(tmp_path)[kind]])
    assert words in line


@pytest.mark.parametrize("argv,words", [
    (["verify", "tanh", *LAW, "--n0", "5000000"], "needs about"),
    (["verify", *SAMPLE, "--trials", "1000000000000"], "needs about"),
    (["verify", "tanh", "--phi", "0.000000001", "--psi", "1", "--n0", "1000"], "needs about"),
    (["verify", "tanh", "--phi", "1", "--psi", "0.000000001", "--n0", "1000"], "needs about"),
    (["jacobian", "tanh", "--depth", "1000000000", "--sigma-w", "1"], "at most"),
    (["jacobian", "tanh", "--depth", "100000", "--sigma-w", "1"], "at most"),
    (["density", "tanh", *LAW, "--grid", "0:1:100000000"], "at most"),
    (["density", "tanh", *LAW, "--auto", "100000000"], "at most"),
    (["table", "tanh", *LAW, "--points", "100000000"], "at most"),
    (["jacobian", "tanh", "--depth", "2", "--sigma-w", "1", "--auto", "100000000"], "at most"),
    (["density", "tanh", "--phi", "1", "--psi", "2,,"], "empty item"),
    (["verify", "tanh", "--phi", "1", "--psi", "2,,", "--n0", "10"], "empty item"),
    (["density", "tanh", "--phi", "1e999999", "--psi", "1"], "out of range"),
    (["density", "tanh", "--phi", "1", "--psi", "1", "--x", "1,nan"], "expected a number"),
    (["jacobian", "tanh", "--depth", "2", "--sigma-w", "1", "--x", "-1,0"], "must be >= 0"),
    (["criticality", "leaky_relu(x, a)", "--q-star", "1"], "--param"),
    (["verify", *SAMPLE, "--seed", "-1"], "must be >= 0"),
    (["constants", "tanh", "--hermite", "201"], "between 0 and 200"),
])
def test_refused_before_computing(argv, words, capsys, nothing_computed):
    assert words in refused(capsys, argv)


def test_memory_estimate_names_what_the_machine_has(monkeypatch, capsys, nothing_computed):
    monkeypatch.setattr(common, "available_memory", lambda: 2**30)
    line = refused(capsys, ["verify", "tanh", *LAW, "--n0", "20000"])
    assert "needs about" in line and "1 GiB available" in line


def test_negative_lists_are_numbers(capsys):
    argv = ["density", "--theta1", "1", "--theta2", "0.5", "--phi", "1", "--psi", "2", "--json"]
    assert main([*argv, "--x", "-1,-0.5"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["x"] == ["-1.0", "-0.5"] and res["density"] == ["0", "0"]
    assert main([*argv, "--grid", "-2:-1:3"]) == 0
    assert json.loads(capsys.readouterr().out)["x"] == ["-2.0", "-1.5", "-1.0"]


def test_main_turns_any_exception_into_one_line(monkeypatch, capsys):
    import nrmt.cli.constants as constants

    def oom(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(constants, "build_result", oom)
    assert "out of memory" in refused(capsys, ["constants", "tanh"])


def test_decimal_of_floats_is_correctly_rounded():
    """The mpmath-free float formatting against exact decimal rounding of the binary value."""
    rng = random.Random(1)
    for _ in range(3000):
        v = rng.uniform(1, 10) * 10.0 ** rng.randint(-40, 40) * rng.choice((1, -1))
        d = rng.randint(1, 17)
        exact = Decimal(v)  # the binary value, exactly
        want = exact.quantize(Decimal(1).scaleb(exact.adjusted() - d + 1), rounding=ROUND_HALF_EVEN)
        got = common.decimal(v, d)
        assert Decimal(got) == want, (v, d, got, want)
        with mpmath.workdps(60):  # the layout of mpmath.nstr (the format the CLI always printed)
            assert got == mpmath.nstr(mpmath.mpf(got), d, strip_zeros=True, min_fixed=-5,
                                      max_fixed=d + 1)


def test_density_digits_at_decimals_next_to_an_edge(capsys):
    """dps 15 at decimal points 1e-3 .. 1e-17 from an edge (the law decides float or mp path per
    point): every printed digit equals the 40-digit answer rounded once."""
    args = ["density", "--theta1", "1", "--theta2", "0.5", "--phi", "0.5", "--psi", "2", "--json"]
    assert main([*args, "--x", "1", "--dps", "40"]) == 0
    lo = mpmath.mpf(json.loads(capsys.readouterr().out)["support"][0][0])
    with mpmath.workdps(40):
        pts = [mpmath.nstr(lo + lo * mpmath.mpf(10) ** -k, 17, strip_zeros=False) for k in range(3, 17, 2)]
    pts += [mpmath.nstr(mpmath.mpf(u) / 7, 15) for u in range(1, 20)]
    out = []
    for dps in ("15", "40"):
        assert main([*args, "--x", ",".join(pts), "--dps", dps]) == 0
        out.append(json.loads(capsys.readouterr().out)["density"])
    with mpmath.workdps(50):
        for p, a, b in zip(pts, *out):
            assert a == (mpmath.nstr(mpmath.mpf(b), 15) if b != "0" else "0"), (p, a, b)


@pytest.mark.parametrize("expr", ["exp(exp(exp(x)))", "exp(exp(x**2))"])
def test_tower_of_exponentials_is_refused_at_once(expr, capsys):
    """exp of exp grows past any Gaussian decay: refused by the growth test (it used to hang
    while mpmath computed log 2 to ~10^1294 bits for e^(e^(e^8)))."""
    line = refused(capsys, ["constants", expr])
    assert "not integrable" in line


@pytest.mark.parametrize("ratios", [["--phi", "1e308", "--psi", "2"], ["--phi", "1e-308", "--psi", "2"],
                                    ["--phi", "0.5", "--psi", "1e308"], ["--phi", "1e308", "--psi", "2,2"],
                                    ["--phi", "0.5", "--psi", "1e-40"]])
def test_ratios_beyond_the_float_range_one_clean_line(ratios, capsys):
    """--phi 1e308 printed numpy RuntimeWarnings (and 1e40 an empty support): one line, no
    warning, naming the accepted range."""
    err = refused(capsys, ["density", "tanh", *ratios, "--x", "0.5"])
    assert "outside [1e-30, 1e30]" in err and "Warning" not in err


def test_decimal_of_floats_agrees_with_mpmath_digits():
    """The CPython-format path against mpmath: nstr of the float's exact binary value (mpf of a
    float is exact) at a working precision well beyond the digits asked, on random floats of
    every size, including halfway-looking decimals and subnormals. Exact ties (the binary value
    halfway between two d-digit decimals) are rounded half to even, as the decimal module does;
    mpmath.nstr rounds them away from zero, so those are checked against Decimal instead."""
    from decimal import ROUND_HALF_UP
    rng = random.Random(7)
    values = [0.5, 2.675, 1.005, 0.1, 1e-300, 5e-324, 1.7976931348623157e308, 123456789012345680.0]
    values += [rng.uniform(-1, 1) * 10.0 ** rng.randint(-300, 300) for _ in range(3000)]
    values += [float(f"{rng.randint(1, 10**6)}.{rng.randint(0, 999)}5") for _ in range(500)]
    for v in values:
        for d in (1, 4, 15, 17, 20):
            got = common.decimal(v, d)
            exact = Decimal(v)
            if v != 0:
                unit = Decimal(1).scaleb(exact.adjusted() - d + 1)
                even = exact.quantize(unit, rounding=ROUND_HALF_EVEN)
                if even != exact.quantize(unit, rounding=ROUND_HALF_UP):  # an exact tie
                    assert Decimal(got) == even, (v, d, got)
                    continue
            with mpmath.workdps(d + 40):
                want = "0" if v == 0 else mpmath.nstr(mpmath.mpf(v), d, strip_zeros=True,
                                                      min_fixed=-5, max_fixed=d + 1)
            assert got == want, (v, d, got, want)


def test_decimal_ratio_rounds_once():
    """decimal_ratio (grid points) against the decimal module's division, half to even."""
    from decimal import ROUND_HALF_EVEN, Context

    rng = random.Random(3)
    for _ in range(3000):
        num = rng.randint(-10**30, 10**30) * rng.choice((1, 10**rng.randint(0, 40)))
        den = rng.randint(1, 10**25)
        d = rng.randint(1, 30)
        ctx = Context(prec=d, rounding=ROUND_HALF_EVEN, Emin=-10**6, Emax=10**6)
        text, _ = common.decimal_ratio(num, den, d)
        assert Decimal(text) == ctx.divide(Decimal(num), Decimal(den)), (num, den, d, text)
    assert common.decimal_ratio(5, 10, 1)[0] == "0.5" and common.decimal_ratio(25, 10, 1)[0] == "2.0"
    assert common.decimal_ratio(95, 10, 1)[0] == "10.0"
