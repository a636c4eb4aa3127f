"""Speed-up of ``nrmt sweep`` and of ``nrmt table --workers`` over one worker, measured in one run.

The baseline is measured here, in the same run: the same sweep with ``--workers 1``, and the same
table without workers. Each timing is the wall clock of the whole command (cluster start, law
builds in each worker, writing), as a user sees it. The table files are compared byte for byte.

Usage::

    python benchmarks/bench_sweep.py                 # 2 workers against 1
    python benchmarks/bench_sweep.py --workers 4 --n0 200,400,800,1600 --seeds 4

It prints the times and the ratios (speed-up = time with one worker / time with N), and first the
speed-up the machine itself gives to N processes of a pure-Python loop: on a shared or busy
machine that is the ceiling.
"""

import argparse
import filecmp
import os
import sys
import tempfile
import time

from nrmt.cli import main

SPEC = """
command = "verify"
[grid]
activation = ["tanh(x)", "relu(x) - 1/sqrt(2*pi)"]
n0 = [{n0}]
seed = [{seeds}]
[fixed]
phi = 0.5
psi = 2
"""


def _timed(argv):
    t0 = time.perf_counter()
    code = main(argv)
    if code != 0:
        sys.exit(f"nrmt {' '.join(argv)} exited with {code}")
    return time.perf_counter() - t0


def _burn(n):
    s = 0
    for i in range(n):
        s += i * i
    return s


def machine_speedup(workers, n=5_000_000):
    """What the machine gives: a pure-Python loop, ``workers`` copies in one process then in a pool
    of ``workers`` processes (on a shared or busy machine this is the ceiling of any speed-up)."""
    import multiprocessing

    t0 = time.perf_counter()
    for _ in range(workers):
        _burn(n)
    serial = time.perf_counter() - t0
    with multiprocessing.Pool(workers) as pool:
        t0 = time.perf_counter()
        pool.map(_burn, [n] * workers)
        parallel = time.perf_counter() - t0
    return serial / parallel


def run(workers, n0, seeds, table_points, table_dps):
    print(f"the machine's own speed-up with {workers} processes (pure-Python loop): "
          f"{machine_speedup(workers):.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        spec = os.path.join(tmp, "spec.toml")
        with open(spec, "w") as fh:
            fh.write(SPEC.format(n0=n0, seeds=", ".join(str(s) for s in range(1, seeds + 1))))
        common = ["sweep", spec, "--no-progress", "--out"]
        t1 = _timed(common + [os.path.join(tmp, "one.csv"), "--workers", "1"])
        tn = _timed(common + [os.path.join(tmp, "many.csv"), "--workers", str(workers)])
        print(f"sweep ({n0}; {seeds} seeds; 2 activations): 1 worker {t1:.1f} s, "
              f"{workers} workers {tn:.1f} s, speed-up {t1 / tn:.2f}")
        table = ["table", "tanh(x)", "--phi", "0.5", "--psi", "0.5", "--dps", str(table_dps),
                 "--points", str(table_points), "-o"]
        s1 = _timed(table + [os.path.join(tmp, "t1.csv")])
        sn = _timed(table + [os.path.join(tmp, "tn.csv"), "--workers", str(workers)])
        same = filecmp.cmp(os.path.join(tmp, "t1.csv"), os.path.join(tmp, "tn.csv"), shallow=False)
        print(f"table (tanh, dps {table_dps}, {table_points} points): one process {s1:.1f} s, "
              f"{workers} workers {sn:.1f} s, speed-up {s1 / sn:.2f}, byte-identical: {same}")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--n0", default="200, 400, 800")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--table-points", type=int, default=60)
    p.add_argument("--table-dps", type=int, default=30)
    a = p.parse_args()
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
    run(a.workers, a.n0, a.seeds, a.table_points, a.table_dps)
