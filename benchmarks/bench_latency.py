"""What a user of the command line waits for, against baselines measured in the same run.

Run: ``python benchmarks/bench_latency.py [--repeat 3] [--points 100000] [--skip-slow]``.
Prints, each as a ratio to its baseline:

1. ``nrmt --help`` against a bare ``python -c pass`` and ``python -c "import argparse"``
   (best of ``--repeat``, as processes);
2. time to the first number, ``nrmt density tanh|relu --phi 0.5 --psi 2 --x 0.5``, against the
   bare ``python -c "import numpy, scipy, sympy, mpmath, flint"`` (goal <= 1.5x);
3. the marginal cost per point of ``nrmt density tanh ... --grid 0.001:2:N --json`` (the
   difference of N and N/100 points over the points added; as processes, and in this
   process) against the Python API's ``law.density(x)`` and ``law.density_decimal(texts)`` per
   point on the same N points (goal <= 1.5x);
4. the bias law: ``nrmt density tanh --phi 0.5 --psi 2 --bias-sigma 1 --x 0.5`` (float path,
   goal <= 2 s) and the same at 10 points with ``--dps 30`` (mpmath path, goal <= 60 s);
5. ``nrmt constants tanh --dps 300`` (and ``--dps 1000``) against the bare python-flint
   integral E tanh(Z)^2 at that precision (``acb.integral``, one process; goal <= 5x at dps 300),
   and ``nrmt table tanh --phi 0.5 --psi 2 --dps 300 --points 200`` (goal: under a minute).

Processes run with byte-code caching on (``PYTHONDONTWRITEBYTECODE`` removed from their
environment) after one untimed run, as for an installed package: numpy, sympy etc. come with
their ``.pyc`` files, so nrmt's own modules should too, or every start recompiles them (~0.2 s).
The per-point cost of the CLI is compared with two Python calls on the same points: ``law.density``
at the nearest floats (the fast float path) and ``law.density_decimal`` on the decimal texts (what
the CLI computes: each value right to 15 digits at the decimal as written).

``--skip-slow`` leaves out the dps-30 bias run and item 5 (minutes on the landed main). Every command runs with a time
limit (``--limit`` seconds); a command past it is reported as such, not waited for.
"""

import argparse
import os
import subprocess
import sys
import time

__all__ = ["main"]

PY = sys.executable
NRMT = [PY, "-m", "nrmt"]

FLINT_INTEGRAL = """
import sys, flint
dps = int(sys.argv[1])
flint.ctx.dps = dps + 10
L = 1
while flint.arb(-L * L / 2).exp() > flint.arb(10) ** (-dps - 10):
    L += 1
f = lambda x, analytic: x.tanh() ** 2 * (-x * x / 2).exp()
v = flint.acb.integral(f, -L, L) / (2 * flint.arb.pi()).sqrt()
print(v.real.str(20))
"""


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(cmd, limit, repeat=1):
    """Best wall-clock seconds of ``repeat`` runs of a process (None past ``limit``), after one
    untimed run (byte-code caches written, files in the page cache)."""
    try:
        subprocess.run(cmd, capture_output=True, text=True, timeout=limit, env=ENV)
    except subprocess.TimeoutExpired:
        return None
    best = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=limit, env=ENV)
        except subprocess.TimeoutExpired:
            return None
        dt = time.perf_counter() - t0
        if out.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed: {out.stderr.strip()[-300:]}")
        best = dt if best is None else min(best, dt)
    return best


def show(label, t, base, goal=None):
    if t is None:
        print(f"  {label:<58} timed out")
        return
    ratio = f"{t / base:7.2f}x" if base else ""
    print(f"  {label:<58} {t:8.3f} s {ratio}" + (f"   (goal {goal})" if goal else ""))


def api_per_point(n, repeat=3):
    """Seconds per point of ``law.density`` (floats) and ``law.density_decimal`` (the CLI's
    decimal texts of the same grid), best of ``repeat``."""
    import numpy as np

    from nrmt.cli.density import grid_points
    from nrmt.models.one_layer import OneLayer

    law = OneLayer("tanh(x)", "0.5", 2).law()
    texts = list(grid_points("0.001", "2", n, 15))
    x = np.array([float(t) for t in texts])
    law.density(x[:100])
    law.density_decimal(texts[:100])
    best = [float("inf"), float("inf")]
    for _ in range(repeat):
        for i, call in enumerate((lambda: law.density(x), lambda: law.density_decimal(texts))):
            t0 = time.perf_counter()
            call()
            best[i] = min(best[i], (time.perf_counter() - t0) / n)
    return best


def cli_in_process(n, n0, repeat=3):
    """The CLI's marginal seconds per point measured inside this process (``nrmt.cli.main`` with
    standard output captured): the same work as the process runs without their start-up noise,
    which on a loaded machine dominates the difference of two process timings."""
    import contextlib
    import io

    from nrmt.cli import main as cli

    def once(points):
        with contextlib.redirect_stdout(io.StringIO()):
            t0 = time.perf_counter()
            cli(["density", "tanh", "--phi", "0.5", "--psi", "2", "--json", "--grid",
                 f"0.001:2:{points}"])
            return time.perf_counter() - t0

    once(n0)
    return min(once(n) - once(n0) for _ in range(repeat)) / (n - n0)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--points", type=int, default=100_000)
    ap.add_argument("--limit", type=float, default=600.0, help="seconds allowed per command")
    ap.add_argument("--skip-slow", action="store_true", help="leave out the dps-300/1000 runs")
    args = ap.parse_args(argv)
    env_note = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    print(f"nrmt latency, best of {args.repeat} (BLAS threads {env_note}, {os.cpu_count()} CPUs)")

    print("1. start-up")
    t_pass = timed([PY, "-c", "pass"], args.limit, args.repeat)
    t_argparse = timed([PY, "-c", "import argparse"], args.limit, args.repeat)
    t_help = timed(NRMT + ["--help"], args.limit, args.repeat)
    show("python -c pass", t_pass, None)
    show("python -c 'import argparse'", t_argparse, None)
    show("nrmt --help  (ratio to python -c pass)", t_help, t_pass)
    print(f"  nrmt --help / import argparse: {t_help / t_argparse:.2f}x")

    print("2. time to the first number")
    t_imports = timed([PY, "-c", "import numpy, scipy, sympy, mpmath, flint"], args.limit, args.repeat)
    show("python -c 'import numpy, scipy, sympy, mpmath, flint'", t_imports, None)
    for act in ("tanh", "relu"):
        t = timed(NRMT + ["density", act, "--phi", "0.5", "--psi", "2", "--x", "0.5"], args.limit,
                  args.repeat)
        show(f"nrmt density {act} --phi 0.5 --psi 2 --x 0.5", t, t_imports, "<= 1.5x")

    print("3. marginal cost per point, nrmt density --grid ... --json vs the Python API")
    n, n0 = args.points, max(1, args.points // 100)
    grid = ["density", "tanh", "--phi", "0.5", "--psi", "2", "--json", "--grid"]
    t_small = timed(NRMT + grid + [f"0.001:2:{n0}"], args.limit, args.repeat)
    t_big = timed(NRMT + grid + [f"0.001:2:{n}"], args.limit, args.repeat)
    api, api_dec = api_per_point(n, args.repeat)
    if t_small is not None and t_big is not None:
        cli = (t_big - t_small) / (n - n0)
        print(f"  CLI {cli * 1e6:7.2f} us/point ({n0} -> {n} points)")
        print(f"  API law.density (floats)          {api * 1e6:7.2f} us/point: CLI ratio "
              f"{cli / api:5.2f}x (goal <= 1.5x)")
        print(f"  API law.density_decimal (texts)   {api_dec * 1e6:7.2f} us/point: CLI ratio "
              f"{cli / api_dec:5.2f}x (the same computation as the CLI)")
        inproc = cli_in_process(n, n0, args.repeat)
        print(f"  CLI in this process {inproc * 1e6:7.2f} us/point: ratio {inproc / api:5.2f}x to "
              f"law.density, {inproc / api_dec:5.2f}x to law.density_decimal")
    else:
        print("  CLI timed out")

    print("4. the bias law (issue 13, item 4): one float point, and 10 points at dps 30")
    bias = ["density", "tanh", "--phi", "0.5", "--psi", "2", "--bias-sigma", "1"]
    t = timed(NRMT + bias + ["--x", "0.5"], args.limit, args.repeat)
    show("nrmt density tanh ... --bias-sigma 1 --x 0.5  (12 digits)", t, t_imports, "<= 2 s")
    if not args.skip_slow:
        t = timed(NRMT + bias + ["--x", "0.1,0.2,0.3,0.4,0.5,0.6,0.8,1,1.5,2", "--dps", "30"],
                  args.limit)
        show("nrmt density tanh ... --bias-sigma 1, 10 points --dps 30", t, t_imports, "<= 60 s")

    if args.skip_slow:
        return 0
    print("5. high precision (constants and table) vs the bare python-flint integral")
    for dps in (300, 1000):
        t_flint = timed([PY, "-c", FLINT_INTEGRAL, str(dps)], args.limit)
        show(f"bare flint acb.integral E tanh(Z)^2, dps {dps}", t_flint, None)
        t = timed(NRMT + ["constants", "tanh", "--dps", str(dps)], args.limit)
        show(f"nrmt constants tanh --dps {dps}", t, t_flint, "<= 5x" if dps == 300 else "< 60 s")
    t = timed(NRMT + ["table", "tanh", "--phi", "0.5", "--psi", "2", "--dps", "300", "--points",
                      "200"], args.limit)
    show("nrmt table tanh --phi 0.5 --psi 2 --dps 300 --points 200", t, None, "< 60 s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
