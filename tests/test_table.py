"""``nrmt table``: the published density/CDF tables.

References independent of the code under test:
* x³ − 3x at σ = 1 has θ1 = 3! = 6, θ2 = 0, so its law is Marchenko–Pastur with ratio c = φ/ψ and
  scale 6 (Pennington–Worah 2017, §5): the density is compared, row by row at 30 digits, with the
  closed form √((b−x)(x−a))/(2π c θ1 x), and the CDF with a 30-digit quadrature of that closed form;
* ReLU's header constants against θ1 = 1/2 − 1/(2π) (centred), θ2 = 1/4;
* the float path (dps 15) against the mpmath path (dps 30) on the same grid.
"""

import csv
import io
import json

import mpmath
import pytest

from nrmt.cli import main


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def parse_csv(text):
    header, rows = {}, []
    lines = text.splitlines()
    body = []
    for line in lines:
        if line.startswith("#"):
            key, sep, value = line[1:].partition(":")
            if sep:
                header[key.strip()] = value.strip()
        else:
            body.append(line)
    reader = csv.reader(io.StringIO("\n".join(body)))
    columns = next(reader)
    rows = [r for r in reader if r]
    return header, columns, rows


def mp_closed_form(c, scale, dps):
    """Marchenko–Pastur density (ratio c, scale) and its CDF by quadrature, at dps digits."""
    with mpmath.workdps(dps + 10):
        c, scale = mpmath.mpf(c), mpmath.mpf(scale)
        a = scale * (1 - mpmath.sqrt(c)) ** 2
        b = scale * (1 + mpmath.sqrt(c)) ** 2
        atom = max(mpmath.mpf(0), 1 - 1 / c)

    def density(x):
        with mpmath.workdps(dps + 10):
            if x <= a or x >= b:
                return mpmath.mpf(0)
            return mpmath.sqrt((b - x) * (x - a)) / (2 * mpmath.pi * c * scale * x)

    def cdf(x):
        with mpmath.workdps(dps + 10):
            if x < 0:
                return mpmath.mpf(0)
            if x <= a:
                return atom
            top = min(x, b)
            # substitution x = a + (b-a) sin²(t/2)·… handled by tanh-sinh's endpoint care
            return atom + mpmath.quad(density, [a, top])

    return a, b, atom, density, cdf


@pytest.fixture(scope="module")
def he3_table():
    from nrmt.cli.table import build_table

    # phi = 1, psi = 0.5: c = phi/psi = 2 > 1, so an atom 1 - 1/c = 1/2 at 0
    return build_table("x**3 - 3*x", 1.0, 0.5, sigma=1.0, dps=30, points=10)


def test_csv_header_and_rows(capsys):
    # 60 points: the default 200 take over a minute (each CDF value is an integral on the mp path)
    code, out, err = run_cli(capsys, "table", "tanh(x)", "--phi", "0.5", "--psi", "2",
                             "--points", "60")
    assert code == 0, err
    header, columns, rows = parse_csv(out)
    for key in ("activation", "theta1", "theta2", "phi", "psi", "sigma", "dps", "nrmt version",
                "support", "atom"):
        assert key in header, f"header line {key!r} missing"
    assert header["activation"] == "tanh(x)" and header["dps"] == "15"
    assert columns == ["x", "density", "cdf"]
    assert len(rows) >= 60
    # without --points the table has at least 200 rows (the contract)
    from nrmt.cli import build_parser

    args = build_parser().parse_args(["table", "tanh(x)", "--phi", "0.5", "--psi", "2"])
    assert args.points >= 200
    xs = [float(r[0]) for r in rows]
    assert xs == sorted(xs)
    cdf = [float(r[2]) for r in rows]
    assert all(b >= a - 1e-15 for a, b in zip(cdf, cdf[1:])), "CDF must be non-decreasing"
    assert abs(cdf[-1] - 1) < 1e-12 and cdf[0] < 1e-12


def test_marchenko_pastur_table_to_30_digits(he3_table):
    t = he3_table
    a, b, atom, density, cdf = mp_closed_form(2, 6, 30)
    with mpmath.workdps(40):
        num = mpmath.mpf
        tol = num(10) ** -27
        assert num(t["theta1"]) == 6 and num(t["theta2"]) == 0
        assert abs(num(t["atom"]) - atom) < tol
        (lo, hi), = t["support"]
        assert abs(num(lo) - a) < tol * a and abs(num(hi) - b) < tol * b
        xs = [num(v) for v in t["x"]]
        # the grid resolves both edges: points within 1e-2 of the support's width from each edge
        width = b - a
        assert min(abs(x - a) for x in xs) < 1e-2 * width and min(abs(x - b) for x in xs) < 1e-2 * width
        for x, d in zip(xs, t["density"]):
            want = density(x)
            assert abs(num(d) - want) <= tol * max(abs(want), 1), (x, d, want)
        for x, c in list(zip(xs, t["cdf"]))[1::3]:
            want = cdf(x)
            assert abs(num(c) - want) <= tol, (x, c, want)


def test_values_carry_dps_significant_digits(he3_table):
    digits = []
    for v in he3_table["density"]:
        mant = v.split("e")[0].replace("-", "").replace(".", "").lstrip("0")
        if mant:
            digits.append(len(mant))
    assert max(digits) == 30
    # trailing zeros are stripped, so a few values print shorter; most carry all 30 digits
    assert sum(d >= 28 for d in digits) >= 0.9 * len(digits)


def test_relu_header_constants_exact(capsys):
    code, out, err = run_cli(capsys, "table", "relu", "--phi", "1", "--psi", "1", "--dps", "20",
                             "--points", "4")
    assert code == 0, err
    header, _, rows = parse_csv(out)
    with mpmath.workdps(30):  # parse the 20-digit strings at more than 20 digits
        assert abs(mpmath.mpf(header["theta1"]) - (mpmath.mpf(1) / 2 - 1 / (2 * mpmath.pi))) < 1e-19
        assert abs(mpmath.mpf(header["theta2"]) - mpmath.mpf(1) / 4) < 1e-19
    assert len(rows) == 4


def test_float_and_mp_paths_agree():
    from nrmt.cli.table import build_table

    t15 = build_table("tanh(x)", 0.5, 2.0, dps=15, points=6)
    t30 = build_table("tanh(x)", 0.5, 2.0, dps=30, points=6)
    assert len(t15["x"]) == len(t30["x"])
    edges = [float(v) for pair in t30["support"] for v in pair]
    for x15, x30, d15, d30 in zip(t15["x"], t30["x"], t15["density"], t30["density"]):
        assert abs(float(x15) - float(x30)) <= 1e-14 * max(1, abs(float(x30)))
        if min(abs(float(x30) - e) for e in edges) < 1e-10:
            continue  # at an edge the 15- and 30-digit decimals of x differ where rho ~ sqrt
        assert abs(float(d15) - float(d30)) <= 1e-10 * max(1, abs(float(d30))), (x30, d15, d30)
    for c15, c30 in zip(t15["cdf"], t30["cdf"]):
        assert abs(float(c15) - float(c30)) <= 1e-10, (c15, c30)


def test_json_and_output_file(tmp_path, capsys):
    path = tmp_path / "t.json"
    code, out, err = run_cli(capsys, "table", "x**3 - 3*x", "--phi", "1", "--psi", "2",
                             "--format", "json", "--output", str(path), "--points", "20")
    assert code == 0, err
    assert out == ""
    obj = json.loads(path.read_text())
    for key in ("activation", "phi", "psi", "sigma", "dps", "theta1", "theta2", "version", "support",
                "atom", "x", "density", "cdf"):
        assert key in obj
    assert len(obj["x"]) == len(obj["density"]) == len(obj["cdf"]) == 20
    # c = phi/psi = 1/2 < 1: no atom, support 6(1 ± 1/√2)²
    assert mpmath.mpf(obj["atom"]) == 0
    lo, hi = (float(v) for v in obj["support"][0])
    assert abs(lo - 6 * (1 - 0.5 ** 0.5) ** 2) < 1e-12 and abs(hi - 6 * (1 + 0.5 ** 0.5) ** 2) < 1e-12


@pytest.mark.parametrize("argv", [
    ["table", "tanh(x)", "--phi", "-1", "--psi", "1"],
    ["table", "tanh(x)", "--phi", "1", "--psi", "0"],
    ["table", "tanh(x)", "--phi", "1", "--psi", "1", "--dps", "0"],
    ["table", "tanh(x)", "--phi", "1", "--psi", "1", "--points", "0"],
    ["table", "__import__('os')", "--phi", "1", "--psi", "1"],
    ["table", "tanh(x)", "--phi", "1", "--psi", "1", "--format", "xml"],
])
def test_bad_input_exit_2(capsys, argv):
    with pytest.raises(SystemExit) as exc:
        code = main(argv)
        raise SystemExit(code)
    _, err = capsys.readouterr()
    assert exc.value.code == 2
    # argparse prints its usage first; the message itself is one line naming the problem
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("nrmt table: error:"), err
