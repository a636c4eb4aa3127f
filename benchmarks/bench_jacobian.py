"""Time per density point of the deep-Jacobian law at L = 16 (float path and dps = 30).

Baselines measured in the same run:
* float: a plain per-point damped Newton on the same equations (scipy-free, one point at a time,
  each started from the series at large x and continued down to the point: what one would write
  without the traced branch and the vectorised polish);
* dps = 30: mpmath.findroot (its default secant/Newton in one complex unknown u, with w = psi(u)
  by mpmath.quad each evaluation) started from the float solution, per point.

Prints the seconds per point and the ratios. Run: python benchmarks/bench_jacobian.py
"""

import time

import mpmath
import numpy as np

from nrmt.models.jacobian import Jacobian


def main():
    model = Jacobian("tanh", 16, "1.29922096680185", "0.195041536887065")
    law = model.law()
    hi = law.support[0][1]
    xs = np.geomspace(1e-6 * hi, 0.95 * hi, 400)

    # --- float path: traced branch + vectorised polish
    t0 = time.perf_counter()
    law2 = model.law()              # cached law object: clear its path to time a cold start
    law2._path = None
    d = law2.density(xs)
    t_float = (time.perf_counter() - t0) / xs.size
    t0 = time.perf_counter()
    law2.density(xs * 1.0001)       # warm: branch already traced
    t_warm = (time.perf_counter() - t0) / xs.size

    # --- float baseline: per-point continuation from large x (no shared trace)
    fp = law.product
    sub = xs[::40]
    t0 = time.perf_counter()
    base = []
    for x in sub:
        zs = 1 / (np.geomspace(4 * hi, x, 200) * (1 + 1e-3j))
        v, u, ok = fp.solve_path_float(zs)
        vv, uu, ok = fp._newton_float(np.array([1 / x + 0j]), v[-1:], u[-1:])
        # (a naive continuation can land on the conjugate root: fold it back, as nrmt does)
        base.append(abs((vv[0] / x).imag) / np.pi)
    t_base = (time.perf_counter() - t0) / sub.size
    assert np.allclose(base, d[::40], rtol=1e-8, atol=1e-12), "baseline disagrees"

    # --- dps = 30
    law30 = model.law(dps=30)
    pts = [mpmath.mpf(float(v)) for v in (0.5, 2.0, 10.0)]
    t0 = time.perf_counter()
    d30 = law30.density(pts)
    t_mp = (time.perf_counter() - t0) / len(pts)

    # --- dps = 30 baseline: mpmath.findroot on u with psi by mpmath.quad, from the float state
    dl = law30.groups[0][0]          # q* to 70 digits
    fprime = dl.fprime.mp_function()
    diffs = []
    t0 = time.perf_counter()
    with mpmath.workdps(40):
        sq = mpmath.sqrt(dl.q)
        sw2 = law30.sigma_w ** 2
        L = 16
        phi = lambda z: mpmath.exp(-z * z / 2) / mpmath.sqrt(2 * mpmath.pi)

        def psi1(u):
            return mpmath.quad(lambda z: phi(z) / (1 - u * fprime(sq * z) ** 2), [-mpmath.inf, 0, mpmath.inf])

        for x, ref in zip(pts, d30):
            v0, u0 = law._solve_real_float(np.array([float(x)]))

            def eq(u):
                v = psi1(u)
                w = v - 1
                return w / v * (u * v / w) ** L * (1 / (sw2 * v)) ** L - 1 / x

            u = mpmath.findroot(eq, mpmath.mpc(complex(u0[0][0])))
            v = psi1(u)
            diffs.append(abs(abs(mpmath.im(v / x)) / mpmath.pi - ref) / ref)
    t_mp_base = (time.perf_counter() - t0) / len(pts)

    print(f"L = 16 tanh (critical, q* = 1/2), {xs.size} points")
    print(f"float : {t_float * 1e3:8.3f} ms/point cold, {t_warm * 1e3:8.3f} ms/point warm;"
          f" baseline per-point continuation {t_base * 1e3:8.3f} ms/point;"
          f" ratio baseline/cold = {t_base / t_float:6.1f}, baseline/warm = {t_base / t_warm:6.1f}")
    print(f"dps=30: {t_mp:8.3f} s/point (verified at two precisions);"
          f" baseline mpmath.findroot+quad {t_mp_base:8.3f} s/point (one precision);"
          f" ratio baseline/nrmt = {t_mp_base / t_mp:6.2f};"
          f" baseline relative deviation from nrmt: {mpmath.nstr(max(diffs), 3)}")


if __name__ == "__main__":
    main()
