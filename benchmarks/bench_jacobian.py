"""Time per density point of the deep-Jacobian law at L = 16 (float path and dps = 30).

Baselines measured in the same run, written without nrmt's solver (only q* is taken from nrmt):
* float: the free-probability equation of the product S-transform solved directly, point by
  point, with numpy: psi(u) = E[1/(1 - u f'(sqrt(q*) Z)^2)] by 160-node Gauss-Hermite quadrature,
  Newton in u (finite-difference derivative), continued from u ~ (m1 sw^2)^L / (m1 z) at large z
  down to the point (60 steps with Im z = 1e-3 x, then the real axis);
* dps = 30: mpmath.findroot (its default secant in one complex unknown u, with psi(u) by
  mpmath.quad each evaluation) started from the float solution, per point.

Prints the seconds per point and the ratios. Run: python benchmarks/bench_jacobian.py
"""

import time

import mpmath
import numpy as np

from nrmt.models.jacobian import Jacobian


def direct_density(x, q, sw2, L, hi, nodes=160):
    """rho(x) of J J^T for tanh at depth L from the S-transform equation, by plain numpy."""
    z, wts = np.polynomial.hermite_e.hermegauss(nodes)
    wts = wts / np.sqrt(2 * np.pi)
    a = (1 - np.tanh(np.sqrt(q) * z) ** 2) ** 2
    m1 = float(wts @ a)

    def residual(u, zz):
        v = wts @ (1 / (1 - u * a))
        w = v - 1
        return w / v * (u * v / w) ** L * (1 / (sw2 * v)) ** L - 1 / zz, v

    path = np.geomspace(4 * hi, x, 60)
    zs = list(path * (1 + 1e-3j)) + [complex(x)]
    u = (m1 * sw2) ** L / (m1 * zs[0])
    for zz in zs:
        for _ in range(30):
            f, _v = residual(u, zz)
            h = 1e-7 * abs(u)
            df = (residual(u + h, zz)[0] - f) / h
            step = f / df
            u = u - step
            if abs(step) < 1e-14 * abs(u):
                break
    v = residual(u, complex(x))[1]
    return abs((v / x).imag) / np.pi


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

    # --- float baseline: the equation solved directly with numpy, point by point
    q = float(law.groups[0][0].q)
    sw2 = float(law.sigma_w) ** 2
    sub = xs[::40]
    t0 = time.perf_counter()
    base = [direct_density(float(x), q, sw2, 16, hi) for x in sub]
    t_base = (time.perf_counter() - t0) / sub.size
    dev_base = float(np.max(np.abs(np.array(base) - d[::40]) / d[::40]))

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
          f" baseline direct numpy solve {t_base * 1e3:8.3f} ms/point (max rel. deviation from nrmt"
          f" {dev_base:.1e}); ratio baseline/cold = {t_base / t_float:6.1f},"
          f" baseline/warm = {t_base / t_warm:6.1f}")
    print(f"dps=30: {t_mp:8.3f} s/point (verified at two precisions);"
          f" baseline mpmath.findroot+quad {t_mp_base:8.3f} s/point (one precision);"
          f" ratio baseline/nrmt = {t_mp_base / t_mp:6.2f};"
          f" baseline relative deviation from nrmt: {mpmath.nstr(max(diffs), 3)}")


if __name__ == "__main__":
    main()
