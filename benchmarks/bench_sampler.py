"""Benchmark: the Monte Carlo sampler against a bare ``numpy.linalg.eigvalsh`` of the same size.

For each n0 (default 500, 1000, 2000; φ = ψ = 1 unless given, so the Gram matrix is n0 × n0) it
prints, measured in this run, best of ``--repeat`` interleaved repetitions:

* ``sampler``  — :func:`nrmt.numerics.sampling.sample_gram` (tanh, Gaussian entries, one trial):
  draw X and W, H = W X, f in place and centred, Gram by ``syrk``, eigenvalues by ``dsyevd``;
* ``eigvalsh`` — ``numpy.linalg.eigvalsh`` of a ready symmetric matrix of the Gram matrix's size;
* the ratio sampler / eigvalsh (the issue's aim: ≤ 1.3 at n0 = 2000) and the time of each stage of
  the sampler (draw, matmul, activation, Gram, eigensolver), so the ratio can be read: the matmul
  (2 n0 n1 m flops) and the Gram (n1² m) are unavoidable work on top of the eigensolver;
* peak memory: the growth of the peak resident set size (VmHWM) of a fresh child process doing
  only that job — the sampler from nothing, eigvalsh including its input matrix — and, for the
  sampler, the ``tracemalloc`` peak of its numpy arrays (LAPACK's own buffers are not traced).

Run ``python benchmarks/bench_sampler.py [--n0 500 1000 2000] [--repeat 3] [--threads K]``.
``--threads 1`` sets OPENBLAS_NUM_THREADS/OMP_NUM_THREADS=1 before numpy loads (single core).
"""

import argparse
import os
import subprocess
import sys
import time


def _parse():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n0", type=int, nargs="+", default=[500, 1000, 2000])
    p.add_argument("--phi", type=float, default=1.0)
    p.add_argument("--psi", type=float, default=1.0)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--child", choices=["sampler", "eigvalsh"], help=argparse.SUPPRESS)
    return p.parse_args()


ARGS = _parse()
if ARGS.threads:
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)

import resource  # noqa: E402
import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402
import scipy.linalg  # noqa: E402
from scipy.linalg.blas import dsyrk  # noqa: E402

from nrmt.numerics.sampling import sample_gram, widths_from_ratios  # noqa: E402
from nrmt.theory.activations import as_activation  # noqa: E402

ACT = as_activation("tanh(x)")


def symmetric(n, rng):
    a = rng.standard_normal((n, n))
    return a @ a.T / n


def run_sampler(n0, rng):
    widths, m = widths_from_ratios(n0, ARGS.phi, ARGS.psi)
    return sample_gram(ACT, widths, m, rng=rng)


def stages(n0, rng):
    """Time of each stage of one sample (the same operations sample_gram performs)."""
    (n0, n1), m = widths_from_ratios(n0, ARGS.phi, ARGS.psi)
    fn = ACT.numpy_function()
    t = [time.perf_counter()]
    x = rng.standard_normal((n0, m))
    w = rng.standard_normal((n1, n0))
    w *= 1 / np.sqrt(n0)
    t.append(time.perf_counter())
    h = w @ x
    del w, x
    t.append(time.perf_counter())
    h[...] = fn(h)
    t.append(time.perf_counter())
    g = dsyrk(1.0 / m, h.T, trans=1 if n1 <= m else 0, lower=0)
    t.append(time.perf_counter())
    scipy.linalg.eigh(g, lower=False, eigvals_only=True, overwrite_a=True, check_finite=False,
                      driver="evd")
    t.append(time.perf_counter())
    return dict(zip(["draw", "matmul", "activation", "gram", "eigen"], np.diff(t)))


def gram_size(n0):
    (n0, n1), m = widths_from_ratios(n0, ARGS.phi, ARGS.psi)
    return min(n1, m)


def _hwm_kib():
    """Peak resident set size of this process in kiB (VmHWM; ru_maxrss where /proc is missing).

    ru_maxrss alone is wrong in a child: Linux carries the parent's peak across fork + exec."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child(job, n0):
    rng = np.random.default_rng(0)
    if job == "sampler":
        base = _hwm_kib()
        run_sampler(n0, rng)
    else:
        # the input matrix counts too (filled in place: no temporaries); eigvalsh reads one
        # triangle, so a symmetric fill is not needed for the memory measurement
        base = _hwm_kib()
        n = gram_size(n0)
        a = np.empty((n, n))
        rng.standard_normal(out=a)
        np.linalg.eigvalsh(a)
    print(_hwm_kib() - base)  # kiB


def child_rss(job, n0):
    cmd = [sys.executable, __file__, "--child", job, "--n0", str(n0), "--phi", str(ARGS.phi),
           "--psi", str(ARGS.psi)]
    if ARGS.threads:
        cmd += ["--threads", str(ARGS.threads)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024  # MiB


def traced_peak(fn):
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2 ** 20


def main():
    if ARGS.child:
        child(ARGS.child, ARGS.n0[0])
        return
    rng = np.random.default_rng(1)
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    print(f"sampler (tanh, gaussian, 1 trial, phi={ARGS.phi}, psi={ARGS.psi}) vs numpy.linalg.eigvalsh "
          f"of the Gram matrix's size; best of {ARGS.repeat}; BLAS threads: {threads}")
    print(f"{'n0':>6} {'gram':>6} {'eigvalsh s':>11} {'sampler s':>10} {'ratio':>6}  "
          f"{'draw':>6} {'matmul':>6} {'act':>6} {'gram':>6} {'eigen':>6}  "
          f"{'traced MiB':>10} {'peak RSS MiB s/e':>18} {'ratio':>6}")
    for n0 in ARGS.n0:
        n = gram_size(n0)
        t_e, t_s, st = [], [], []
        for _ in range(ARGS.repeat):
            a = symmetric(n, rng)
            t0 = time.perf_counter()
            np.linalg.eigvalsh(a)
            t_e.append(time.perf_counter() - t0)
            del a
            t0 = time.perf_counter()
            run_sampler(n0, rng)
            t_s.append(time.perf_counter() - t0)
            st.append(stages(n0, rng))
        best = {k: min(s[k] for s in st) for k in st[0]}
        mem_s = traced_peak(lambda: run_sampler(n0, rng))
        rss_s, rss_e = child_rss("sampler", n0), child_rss("eigvalsh", n0)
        te, ts = min(t_e), min(t_s)
        print(f"{n0:>6} {n:>6} {te:>11.3f} {ts:>10.3f} {ts / te:>6.2f}  "
              + " ".join(f"{best[k]:>6.3f}" for k in ("draw", "matmul", "activation", "gram", "eigen"))
              + f"  {mem_s:>10.1f} {rss_s:>8.1f}/{rss_e:<8.1f} {rss_s / rss_e:>6.2f}")
    print(f"(one {n}x{n} float64 matrix = {n * n * 8 / 2 ** 20:.1f} MiB)")
    print("ratio = sampler / eigvalsh. Stages: draw X, W; matmul W X; activation (in place, "
          "centred); gram (syrk, one triangle); eigen (dsyevd, in place).")


if __name__ == "__main__":
    main()
