"""nrmt sweep: specs are checked before anything runs, rows equal single `nrmt verify` runs, a killed
sweep resumes without losing or repeating a case, a dead worker's case is retried, reports fit
the right slopes."""

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from contextlib import redirect_stdout

import numpy as np
import pytest

from nrmt.cli import main
from nrmt.sweep import (encode_cell, evaluate_case, fit_power_law, load_spec, read_rows,
                        run_sweep, sweep_report)

BASE_SPEC = """
command = "verify"
[grid]
activation = ["tanh(x)", "x**3 - 3*x"]
n0 = [60, 120]
[fixed]
phi = 0.5
psi = 0.5
seed = 7
"""

#: JSON keys of nrmt verify that are timings (differ between two runs of the same case)
TIMINGS = {"seconds", "seconds_sampling"}


@pytest.fixture(scope="module")
def client():
    """A 2-worker LocalCluster (processes, one thread each), quiet, shared by the tests here."""
    import cloudpickle
    import dask
    from distributed import Client, LocalCluster

    # the test tasks below are defined in this module, which the workers cannot import
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    with dask.config.set({"distributed.scheduler.allowed-failures": 3}):
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=":0")
        c = Client(cluster)
        yield c
        c.close()
        cluster.close()
    cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


def _write(tmp_path, text, name="spec.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def _verify_json(options):
    """The single `nrmt verify --json` run of a row's options (in this process)."""
    argv = ["verify", options["activation"], "--n0", options["n0"], "--seed", options["seed"],
            "--entries", options["entries"], "--trials", options["trials"], "--json"]
    for name in ("phi", "psi"):
        if options[name]:
            argv += [f"--{name}", options[name]]
    buf = io.StringIO()
    with redirect_stdout(buf):
        assert main(argv) == 0
    return json.loads(buf.getvalue())


# ------------------------------------------------------------------ bad specs
@pytest.mark.parametrize("text, message", [
    ('command = "verify"\n[grid]\nn0 = [100]\nfoo = [1]\n[fixed]\nactivation = "tanh(x)"\n'
     'phi = 1\npsi = 1', "unknown option 'foo' for verify"),
    ('command = "verify"\n[grid]\n[fixed]\nactivation = "tanh(x)"\nphi = 1\npsi = 1\nn0 = 100',
     "empty grid"),
    ('command = "verify"\n[grid]\nn0 = []\n[fixed]\nactivation = "tanh(x)"\nphi = 1\npsi = 1',
     "[grid] n0: empty list"),
    ('command = "verify"\n[grid]\nn0 = [100, 1.5]\n[fixed]\nactivation = "tanh(x)"\nphi = 1\n'
     'psi = 1', "[grid] n0: n0 must be an integer, got 1.5"),
    ('command = "verify"\n[grid]\nn0 = [100]\n[fixed]\nactivation = "tanh(x)"\nphi = "a"\n'
     'psi = 1', "[fixed] phi: phi must be a number"),
    ('command = "verify"\n[grid]\nn0 = [100]\n[fixed]\nactivation = "tanh(x)"\nphi = -1\n'
     'psi = 1', "phi must be > 0"),
    ('command = "verify"\n[grid]\nn0 = 100\n[fixed]\nactivation = "tanh(x)"\nphi = 1\npsi = 1',
     "[grid] n0: expected a list of values"),
    ('command = "density"\n[grid]\nn0 = [100]', "unknown command 'density'"),
    ('[grid]\nn0 = [100]', "no command"),
    ('command = "verify"\n[grid]\nn0 = [100]\n[fixed]\nactivation = "tanh(x)"',
     "--phi and --psi are required"),
    ('command = "verify"\n[grid]\nn0 = [100]\nentries = ["gaussian", "cauchy"]\n[fixed]\n'
     'activation = "tanh(x)"\nphi = 1\npsi = 1', "unknown entry law"),
    ('command = "verify"\n[grid]\nactivation = ["tanh(x)", "import os"]\n[fixed]\nn0 = 100\n'
     'phi = 1\npsi = 1', "activation='import os'"),
    ('command = "verify"\n[grid]\nn0 = [100]\n[fixed]\nn0 = 100\nactivation = "tanh(x)"\n'
     'phi = 1\npsi = 1', "n0 is both in [grid] and in [fixed]"),
    ('command = "verify"\ngrid = [1]', "[grid] must be a table"),
    ('command = "verify"\n[grid\nn0 = [1]', "not valid TOML"),
])
def test_bad_specs_get_one_line_before_anything_runs(tmp_path, capsys, text, message):
    spec = _write(tmp_path, text)
    out = tmp_path / "out.csv"
    assert main(["sweep", spec, "--out", str(out), "--workers", "1", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nrmt sweep: error: ") and err.count("\n") == 1, err
    assert message in err, err
    assert not out.exists()


def test_cli_usage_errors(tmp_path, capsys):
    spec = _write(tmp_path, BASE_SPEC)
    assert main(["sweep", spec]) == 2
    assert "--out FILE.csv|FILE.parquet is required" in capsys.readouterr().err
    assert main(["sweep", spec, "--out", str(tmp_path / "x.txt")]) == 2
    assert "use .csv or .parquet" in capsys.readouterr().err
    assert main(["sweep", "report"]) == 2
    assert "needs the FILE" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["sweep", spec, "--out", "o.csv", "--workers", "2", "--scheduler", "tcp://x:1"])
    (tmp_path / "o.csv").write_text("case\nabc\n")
    assert main(["sweep", spec, "--out", str(tmp_path / "o.csv")]) == 2
    assert "exists: give --resume" in capsys.readouterr().err


def test_case_ids_are_stable_and_normalised():
    from nrmt.sweep import case_id, parse_spec

    a = parse_spec({"command": "verify", "grid": {"n0": [100]},
                    "fixed": {"activation": "tanh(x)", "phi": 1, "psi": [1.0],
                              "bias-sigma": 0}}).cases()
    b = parse_spec({"command": "verify", "grid": {"psi": [1]},
                    "fixed": {"activation": "tanh(x)", "phi": 1.0, "n0": 100}}).cases()
    assert a[0].id == b[0].id == case_id("verify", a[0].options)
    c = parse_spec({"command": "verify", "grid": {"n0": [100, 101]},
                    "fixed": {"activation": "tanh(x)", "phi": 1, "psi": 1}}).cases()
    assert len({x.id for x in c}) == 2 and c[0].id == a[0].id


# ------------------------------------------------------------------ rows equal single runs
def test_rows_equal_single_runs_to_the_last_digit(tmp_path, capsys):
    spec = _write(tmp_path, BASE_SPEC + 'entries = "rademacher"\ntrials = 2\n')
    out, png = tmp_path / "rows.csv", tmp_path / "rows.png"
    assert main(["sweep", spec, "--out", str(out), "--workers", "2", "--no-progress",
                 "--plot", str(png)]) == 0
    printed = capsys.readouterr().out
    assert "4 cases, 0 already in" in printed and "4 written, 0 failed, 2 workers" in printed
    assert png.stat().st_size > 10_000
    rows = read_rows(out)
    cases = {c.id: c for c in load_spec(spec).cases()}
    assert sorted(r["case"] for r in rows) == sorted(cases)
    for row in rows:
        single = _verify_json(row)
        compared = 0
        for key, value in single.items():
            if key in TIMINGS:
                continue
            assert row[key] == encode_cell(value), (key, row[key], value)
            compared += 1
        assert compared >= 20
        assert row["activation"] in ("tanh(x)", "x**3 - 3*x") and row["phi"] == "0.5"


def test_parquet_rows_equal_csv_rows(tmp_path, client):
    cases = load_spec(_write(tmp_path, BASE_SPEC)).cases()[:2]
    run_sweep(cases, str(tmp_path / "a.csv"), client=client)
    run_sweep(cases, str(tmp_path / "a.parquet"), client=client)
    strip = [{k: v for k, v in r.items() if k not in TIMINGS}
             for r in read_rows(tmp_path / "a.csv")]
    pq = [{k: v for k, v in r.items() if k not in TIMINGS}
          for r in read_rows(tmp_path / "a.parquet")]
    assert sorted(strip, key=lambda r: r["case"]) == sorted(pq, key=lambda r: r["case"])
    import pyarrow.parquet

    types = dict(zip(*(lambda s: (s.names, [str(t) for t in s.types]))(
        pyarrow.parquet.read_schema(tmp_path / "a.parquet"))))
    assert types["n0"] == "int64" and types["phi"] == "double" and types["ks"] == "string"


def test_jacobian_rows_equal_single_runs(tmp_path, client, capsys):
    spec = _write(tmp_path, """
        command = "jacobian"
        [grid]
        seed = [3]
        [fixed]
        activation = "tanh(x)"
        depth = 2
        sigma-w = 1.5
        n0 = 40
        """)
    cases = load_spec(spec).cases()
    assert all(c.options["jacobian"] for c in cases)
    out = tmp_path / "jac.csv"
    run_sweep(cases, str(out), client=client)
    for row in read_rows(out):
        buf = io.StringIO()
        with redirect_stdout(buf):
            assert main(["verify", "tanh(x)", "--jacobian", "--depth", "2", "--sigma-w", "1.5",
                         "--n0", "40", "--seed", row["seed"], "--json"]) == 0
        single = json.loads(buf.getvalue())
        for key, value in single.items():
            if key not in TIMINGS:
                assert row[key] == encode_cell(value), key
    bad = _write(tmp_path, 'command = "jacobian"\n[grid]\nseed = [1]\n[fixed]\n'
                 'activation = "tanh(x)"\njacobian = false\nn0 = 40', "bad.toml")
    with pytest.raises(ValueError, match="unknown option 'jacobian' for jacobian"):
        load_spec(bad)


def test_exact_numbers_read_like_the_command_line(tmp_path):
    """phi = 0.1 in a spec is the CLI's --phi 0.1 (1/10), and "1/3" is exact."""
    from nrmt.verification import _namespace, verify_options

    ns = _namespace(verify_options(activation="tanh(x)", phi=0.1, psi="1/3", n0=30))
    import sympy

    assert ns.phi == sympy.Rational(1, 10) and ns.psi == [sympy.Rational(1, 3)]


# ------------------------------------------------------------------ kill, then resume
KILLED_RUN = """
import sys, time
from nrmt.sweep import evaluate_case, load_spec, run_sweep

def slow_case(command, options):
    time.sleep(0.4)
    return evaluate_case(command, options)

if __name__ == "__main__":  # the worker processes import this file again
    run_sweep(load_spec(sys.argv[1]).cases(), sys.argv[2], workers=2, task=slow_case)
"""


def _lines(path):
    with open(path, encoding="utf-8") as fh:
        return fh.read().splitlines()


def test_killed_sweep_resumes_every_case_once(tmp_path, client):
    spec = _write(tmp_path, """
        command = "verify"
        [grid]
        n0 = [40, 50, 60, 70]
        seed = [1, 2, 3]
        [fixed]
        activation = "x**3 - 3*x"
        phi = 1
        psi = 1
        """)
    script = _write(tmp_path, KILLED_RUN, "run.py")
    out = tmp_path / "killed.csv"
    proc = subprocess.Popen([sys.executable, script, spec, str(out)], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if out.exists() and len(_lines(out)) >= 1 + 3:  # header + 3 rows
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the sweep ended before it could be killed"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the run and its Dask workers (its own group)
        proc.wait()
    before = _lines(out)
    done_before = [line.split(",")[0] for line in before[1:]]
    assert 3 <= len(done_before) < 12
    cases = load_spec(spec).cases()
    result = run_sweep(cases, str(out), client=client, resume=True)
    assert result.skipped == len(done_before) and result.written == 12 - len(done_before)
    after = _lines(out)
    assert after[:len(before)] == before  # the rows written before the kill are untouched
    ids = [r["case"] for r in read_rows(out)]
    assert sorted(ids) == sorted(c.id for c in cases)  # every case exactly once
    again = run_sweep(cases, str(out), client=client, resume=True)
    assert again.written == 0 and again.skipped == 12 and _lines(out) == after


def test_partial_last_line_is_cut_on_resume(tmp_path, client):
    cases = load_spec(_write(tmp_path, BASE_SPEC)).cases()[:2]
    out = tmp_path / "cut.csv"
    run_sweep(cases[:1], str(out), client=client)
    whole = out.read_text()
    with open(out, "a", encoding="utf-8") as fh:
        fh.write(cases[1].id + ",verify,tanh(")  # a row cut by a kill
    assert len(read_rows(out)) == 1
    run_sweep(cases, str(out), client=client, resume=True)
    text = out.read_text()
    assert text.startswith(whole) and sorted(r["case"] for r in read_rows(out)) == sorted(
        c.id for c in cases)


def test_parquet_resume_keeps_rows(tmp_path, client):
    cases = load_spec(_write(tmp_path, BASE_SPEC)).cases()[:2]
    out = tmp_path / "r.parquet"
    run_sweep(cases[:1], str(out), client=client)
    first = read_rows(out)
    result = run_sweep(cases, str(out), client=client, resume=True)
    assert result.skipped == 1 and result.written == 1
    rows = read_rows(out)
    assert rows[0] == first[0] and sorted(r["case"] for r in rows) == sorted(c.id for c in cases)
    assert not [n for n in os.listdir(tmp_path) if ".tmp-" in n]  # no temporary file left


# ------------------------------------------------------------------ a dead worker
def _dies_once(command, options, marker):
    """Kill this worker process the first time any case runs (a machine lost mid-task)."""
    if not os.path.exists(marker):
        with open(marker, "w") as fh:
            fh.write(str(os.getpid()))
        os._exit(1)
    return evaluate_case(command, options)


def test_dead_worker_case_is_retried_without_duplicate(tmp_path, client):
    from functools import partial

    cases = load_spec(_write(tmp_path, BASE_SPEC)).cases()[:2]
    marker = tmp_path / "died"
    out = tmp_path / "dead.csv"
    result = run_sweep(cases, str(out), client=client,
                       task=partial(_dies_once, marker=str(marker)))
    assert marker.exists()  # a worker did die
    assert result.failed == [] and result.written == len(cases)
    ids = [r["case"] for r in read_rows(out)]
    assert sorted(ids) == sorted(c.id for c in cases)
    single = evaluate_case("verify", cases[0].options)
    row = next(r for r in read_rows(out) if r["case"] == cases[0].id)
    assert row["ks"] == single["ks"] and row["w1"] == single["w1"]


def test_failing_case_is_reported_and_gives_no_row(tmp_path, client):
    def broken(command, options):
        if options["n0"] == 120:
            raise ValueError("no convergence here")
        return evaluate_case(command, options)

    cases = load_spec(_write(tmp_path, BASE_SPEC)).cases()[:2]  # tanh(x) at n0 = 60, 120
    out = tmp_path / "fail.csv"
    messages = []
    result = run_sweep(cases, str(out), client=client, task=broken, log=messages.append)
    assert len(result.failed) == 1 and result.written == 1
    assert len(messages) == 1 and "ValueError: no convergence here" in messages[0]
    assert {r["n0"] for r in read_rows(out)} == {"60"}


# ------------------------------------------------------------------ report
def test_power_law_fit_matches_numpy_polyfit():
    rng = np.random.default_rng(3)
    n0 = np.repeat([100, 200, 400, 800, 1600], 3)
    d = 2.0 * n0 ** -0.8 * np.exp(0.1 * rng.standard_normal(n0.size))
    fit = fit_power_law(n0.tolist(), d.tolist())
    coef, cov = np.polyfit(np.log(n0), np.log(d), 1, cov="unscaled")
    resid = np.log(d) - np.polyval(coef, np.log(n0))
    se = np.sqrt(cov[0, 0] * resid @ resid / (n0.size - 2))
    assert fit.slope == pytest.approx(coef[0], rel=1e-12)
    assert fit.se == pytest.approx(se, rel=1e-10)
    assert abs(fit.slope + 0.8) < 4 * fit.se
    assert fit_power_law([100, 100], [0.1, 0.2]) is None


def test_report_groups_configurations(tmp_path, capsys):
    spec = _write(tmp_path, BASE_SPEC)
    rows = [{"case": str(i), "command": "verify", "activation": act, "phi": "0.5", "psi": "0.5",
             "n0": str(n), "seed": str(s), "ks": repr(k * n ** -1.0 * (1 + 0.05 * s)),
             "ks_scale": repr(n ** -0.9), "ks_ratio": "1.0", "w1": repr(n ** -0.5),
             "w1_scale": repr(n ** -1.0)}
            for i, (act, k) in enumerate([("a", 1.0), ("b", 3.0)])
            for n in (100, 200, 400) for s in (1, 2)]
    report = sweep_report(rows)
    assert [c.label for c in report.configurations] == [{"activation": "a"}, {"activation": "b"}]
    for conf in report.configurations:
        assert conf.ks_fit.slope == pytest.approx(-1.0, abs=1e-12)
        assert conf.w1_fit.slope == pytest.approx(-0.5, abs=1e-12)
        assert conf.ks_scale_fit.slope == pytest.approx(-0.9, abs=1e-12)
        assert [p["rows"] for p in conf.points] == [2, 2, 2]
    with pytest.raises(ValueError, match="no rows"):
        sweep_report([])
    del spec


def test_report_cli_on_a_real_sweep(tmp_path, client, capsys):
    spec = _write(tmp_path, BASE_SPEC)
    out = tmp_path / "rep.csv"
    run_sweep(load_spec(spec).cases(), str(out), client=client)
    png = tmp_path / "rep.png"
    assert main(["sweep", "report", str(out), "--plot", str(png)]) == 0
    text = capsys.readouterr().out
    assert "activation=tanh(x)" in text and "activation=x**3 - 3*x" in text and "KS ~ n0^(" in text
    assert png.stat().st_size > 10_000
    assert main(["sweep", "report", str(out), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["command"] == "verify" and len(data["configurations"]) == 2
    # the fitted slope is the least-squares slope of the file's own numbers
    for conf in data["configurations"]:
        pts = [(int(r["n0"]), float(r["ks"])) for r in read_rows(out)
               if r["activation"] == conf["options"]["activation"]]
        slope = np.polyfit(np.log([p[0] for p in pts]), np.log([p[1] for p in pts]), 1)[0]
        assert conf["ks_slope"] == pytest.approx(slope, rel=1e-9)


# ------------------------------------------------------------------ tables on Dask
@pytest.mark.parametrize("dps", [15, 20])  # the float path (an integral a point), the mp sweep
def test_table_on_dask_is_byte_identical(tmp_path, client, dps):
    argv = ["table", "x**3 - 3*x", "--phi", "0.5", "--psi", "0.5", "--dps", str(dps),
            "--points", "10"]
    one, many = tmp_path / "one.csv", tmp_path / "many.csv"
    assert main(argv + ["-o", str(one)]) == 0
    assert main(argv + ["-o", str(many), "--scheduler", client.scheduler.address]) == 0
    assert one.read_bytes() == many.read_bytes()
    assert len(one.read_text().splitlines()) >= 10


def test_table_sweep_rows_equal_nrmt_table_json(tmp_path, client):
    spec = _write(tmp_path, """
        command = "table"
        [grid]
        psi = [0.5, "1/3"]
        [fixed]
        activation = "x**3 - 3*x"
        phi = 0.5
        points = 8
        """)
    out = tmp_path / "tables.csv"
    run_sweep(load_spec(spec).cases(), str(out), client=client)
    rows = read_rows(out)
    assert len(rows) == 2
    for row in rows:
        buf = io.StringIO()
        with redirect_stdout(buf):
            assert main(["table", "x**3 - 3*x", "--phi", "0.5", "--psi", row["psi"], "--points",
                         "8", "--format", "json"]) == 0
        single = json.loads(buf.getvalue())
        for key, value in single.items():
            column = f"result.{key}" if f"result.{key}" in row else key
            assert row[column] == encode_cell(value), key
        assert json.loads(row["cdf"]) == single["cdf"] and len(single["x"]) >= 8


def test_cdf_integrals_hook_sums_the_same_pieces():
    """Law.cdf with an ``integrals`` function gives the law's own digits, and it is called with
    the pieces the CDF needs (independent check: F at the right edge is 1 - nothing missing)."""
    from nrmt.models.one_layer import OneLayer

    law = OneLayer("x**3 - 3*x", 1, 1).law(dps=20)
    calls = []

    def integrals(pairs):
        calls.append(len(pairs))
        return law.integrals(pairs)

    x = [-1, 0.5, 3, 100]
    assert law.cdf(x, integrals=integrals) == law.cdf(x)
    assert calls and law.cdf(x, integrals=integrals)[-1] == pytest.approx(1, abs=1e-18)
    flaw = OneLayer("x**3 - 3*x", 1, 1).law(dps=15)
    assert list(flaw.cdf(x, integrals=flaw.integrals)) == list(flaw.cdf(x))
