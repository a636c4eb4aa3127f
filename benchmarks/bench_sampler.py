"""Benchmark: nrmt's Monte Carlo sampler against the minimal numpy pipeline doing the same work.

For each n0 (default 1000, 2000; phi = psi = 1 unless given) it prints, measured in this run, best
of ``--repeat`` interleaved repetitions:

* ``sampler``  -- :func:`nrmt.numerics.sampling.sample_gram` (tanh, Gaussian entries, one trial);
* ``minimal``  -- what anyone would write for the same matrix: draw X and W
  (``standard_normal``), ``H = W @ X``, ``np.tanh(H, out=H)``, ``H -= mu`` (the Gaussian mean the
  sampler centres by, computed once outside the timing), the Gram matrix by one BLAS ``syrk``
  and ``scipy.linalg.eigh(..., eigvals_only=True, driver='evd')``;
* the ratio sampler / minimal (the issue's goal: <= 1.1) and each stage of the minimal pipeline,
  so that the ratio can be read.

Both draw the same number of normals from the same generator type; the sampler additionally draws
the (zero) bias vector and computes its centring constants (two Gaussian expectations, timed
apart as ``setup``).

Run ``python benchmarks/bench_sampler.py [--n0 1000 2000] [--repeat 3] [--threads K]``;
``--threads 1`` sets OPENBLAS_NUM_THREADS/OMP_NUM_THREADS=1 before numpy loads.
"""

import argparse
import os
import time

__all__ = ["main", "minimal_pipeline"]


def _parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n0", type=int, nargs="+", default=[1000, 2000])
    p.add_argument("--phi", type=float, default=1.0)
    p.add_argument("--psi", type=float, default=1.0)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--threads", type=int, default=None)
    return p.parse_args(argv)


def minimal_pipeline(n0, n1, m, mu, rng, stages=None):
    """Eigenvalues of (1/m) Y Y^T, Y = tanh(W X) - mu, in the fewest numpy/BLAS calls."""
    import numpy as np
    import scipy.linalg
    from scipy.linalg.blas import dsyrk

    t = [time.perf_counter()]
    x = rng.standard_normal((n0, m))
    w = rng.standard_normal((n1, n0))
    w *= 1 / np.sqrt(n0)
    t.append(time.perf_counter())
    h = w @ x
    del w, x
    t.append(time.perf_counter())
    np.tanh(h, out=h)
    h -= mu
    t.append(time.perf_counter())
    g = dsyrk(1.0 / m, h.T, trans=1 if n1 <= m else 0, lower=0)
    t.append(time.perf_counter())
    ev = scipy.linalg.eigh(g, lower=False, eigvals_only=True, overwrite_a=True,
                           check_finite=False, driver="evd")
    t.append(time.perf_counter())
    if stages is not None:
        stages.append(dict(zip(["draw", "matmul", "tanh", "syrk", "eigen"], np.diff(t))))
    return ev


def main(argv=None):
    args = _parse(argv)
    if args.threads:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.threads)
    import numpy as np

    from nrmt.numerics.sampling import layer_variances, sample_gram, widths_from_ratios
    from nrmt.theory.activations import as_activation

    act = as_activation("tanh(x)")
    t0 = time.perf_counter()
    mu = layer_variances(act, 1)[0]["mu"]
    t_setup = time.perf_counter() - t0
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    print(f"sampler (tanh, gaussian, 1 trial, phi={args.phi}, psi={args.psi}) vs the minimal numpy "
          f"pipeline; best of {args.repeat}; BLAS threads: {threads}; centring constants "
          f"(setup, once per call of the sampler): {t_setup * 1e3:.1f} ms")
    print(f"{'n0':>6} {'n1':>6} {'m':>6} {'minimal s':>10} {'sampler s':>10} {'ratio':>6}   "
          f"{'draw':>6} {'matmul':>6} {'tanh':>6} {'syrk':>6} {'eigen':>6}")
    worst = 0.0
    for n0 in args.n0:
        (n0, n1), m = widths_from_ratios(n0, args.phi, args.psi)
        t_min, t_s, st = [], [], []
        for r in range(args.repeat):
            rng = np.random.default_rng(r)
            t0 = time.perf_counter()
            ev_min = minimal_pipeline(n0, n1, m, mu, rng, st)
            t_min.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            ev = sample_gram(act, [n0, n1], m, rng=r)
            t_s.append(time.perf_counter() - t0)
        # same law: the two spectra have the same mean to Monte Carlo accuracy
        assert abs(ev.mean() - ev_min.mean()) < 0.05 * ev_min.mean(), (ev.mean(), ev_min.mean())
        best = {k: min(s[k] for s in st) for k in st[0]}
        ratio = min(t_s) / min(t_min)
        worst = max(worst, ratio)
        print(f"{n0:>6} {n1:>6} {m:>6} {min(t_min):>10.3f} {min(t_s):>10.3f} {ratio:>6.2f}   "
              + " ".join(f"{best[k]:>6.3f}" for k in ("draw", "matmul", "tanh", "syrk", "eigen")))
    print(f"worst ratio sampler / minimal: {worst:.2f} (goal <= 1.1)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
