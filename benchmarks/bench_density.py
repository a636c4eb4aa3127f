"""Time per density point of the one-layer law: nrmt's float and dps = 50 paths against baselines.

Run: ``python benchmarks/bench_density.py [--points N] [--mp-points K]``. In one run it measures

* the float path (dps = 15, vectorised continuation) on N points of the support;
* the dps = 50 path (float seed, Newton at 50 + guard digits, verified) on K points;
* a naive baseline at dps = 50 on the same points (all strictly inside the support, where the
  density is not 0 and a root must be chosen): ``mpmath.polyroots`` of the quartic at each point
  with mpmath's defaults (``maxsteps=50, extraprec=10``; a point where that does not converge is
  retried with ``maxsteps=200`` and counted), then the root with the most negative imaginary part;
* rmtool (the polynomial-method package, ``pip install rmtool``), when it imports: ``Lmz2pdf`` on
  the same quartic (m = -G) and grid. Its set-up (sympy discriminant, real roots, lambdify) is
  timed apart, on a two-point grid; the per-point time is the rest. Its density is the largest
  imag/pi root at each point (rmtool returns all roots for degree > 3; the choice is made here).

and prints the ratios, plus how often each baseline picked a different root than nrmt (the
physical branch, checked against the mp path). Start-up (building the law, the discriminant)
is excluded from nrmt's per-point times too.
"""

import argparse
import time
import warnings

import mpmath
import numpy as np
import sympy as sp

from nrmt.models.one_layer import OneLayerLaw
from nrmt.theory.equations import one_layer as eqs

__all__ = ["main"]

TANH = (sp.Rational(394294490397841, 10**15), sp.Rational(366879164362411, 10**15))


def naive_mp_density(law, x, dps):
    """Baseline: all roots by mpmath.polyroots (mpmath's defaults) at each x, then 'the root with
    the most negative Im'. Returns (densities, points that needed more steps)."""
    out, retried = [], 0
    with mpmath.workdps(dps):
        tab = law._tab_mp()
        for xv in x:
            A = law._coeffs(tab, mpmath.mpf(xv))
            while A[0] == 0:
                A = A[1:]
            try:
                roots = mpmath.polyroots(A)
            except mpmath.libmp.NoConvergence:
                retried += 1
                roots = mpmath.polyroots(A, maxsteps=200)
            g = min(roots, key=lambda r: mpmath.im(r))
            out.append(max(mpmath.mpf(0), -mpmath.im(g) / mpmath.pi))
    return out, retried


def rmtool_density(law, x):
    """rmtool's Lmz2pdf on the same polynomial (m = -G): (density, set-up s, per-point s) or None."""
    try:
        import rmtool
    except ImportError:
        return None
    G, z = sp.symbols("G z")
    expr = sp.expand(law.polynomial(G, z).subs(G, -rmtool.m).subs(z, rmtool.z))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        rmtool.Lmz2pdf(expr, x[:2])
        setup = time.perf_counter() - t0
        t0 = time.perf_counter()
        info = rmtool.Lmz2pdf(expr, x)
        total = time.perf_counter() - t0
    rr = np.asarray(info.rr)
    im = np.nan_to_num(np.abs(rr.imag))
    rho = im.max(axis=1) / np.pi
    return rho, setup, max(total - setup, 0.0) / len(x)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=100_000, help="points of the float path / rmtool")
    ap.add_argument("--mp-points", type=int, default=200, help="points of the dps = 50 paths")
    ap.add_argument("--phi", type=float, default=0.5)
    ap.add_argument("--psi", type=float, default=1.5)
    args = ap.parse_args(argv)
    phi, psi = sp.Rational(args.phi), sp.Rational(args.psi)

    law = OneLayerLaw(phi, psi, *TANH)
    (lo, hi), = law.support[:1]
    print(f"one-layer law, tanh constants, phi={args.phi}, psi={args.psi}: degree {law.degree} in G, "
          f"support {law.support}, atom {law.atom}")
    x = np.linspace(lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo), args.points)
    law.density(x[:10])  # warm caches (support, breakpoints)

    t0 = time.perf_counter()
    rho = law.density(x)
    t_float = (time.perf_counter() - t0) / x.size

    # the dps = 50 path on points strictly inside the support
    law50 = law.with_dps(50)
    inner = x[(x > lo) & (x < hi)]
    sub = inner[:: max(1, inner.size // args.mp_points)][: args.mp_points]
    law50.density([mpmath.mpf(float(sub[0]))])  # caches
    t0 = time.perf_counter()
    rho50 = law50.density([mpmath.mpf(float(v)) for v in sub])
    t_mp = (time.perf_counter() - t0) / sub.size
    t0 = time.perf_counter()
    naive, retried = naive_mp_density(law50, [mpmath.mpf(float(v)) for v in sub], 50)
    t_naive = (time.perf_counter() - t0) / sub.size

    idx = np.searchsorted(x, sub)
    with mpmath.workdps(60):
        err_float = max(abs(mpmath.mpf(float(rho[i])) - b) / b for i, b in zip(idx, rho50))
        naive_wrong = sum(1 for a, b in zip(naive, rho50) if abs(a - b) > mpmath.mpf(10) ** -40 * (1 + b))
    print(f"float path : {t_float * 1e6:9.2f} us/point over {x.size} points "
          f"(max rel. error vs the dps=50 path on {sub.size} inner points: {float(err_float):.1e})")
    print(f"dps=50 path: {t_mp * 1e3:9.3f} ms/point over {sub.size} points inside the support")
    print(f"naive mpmath.polyroots (defaults) + 'most negative Im' root: {t_naive * 1e3:9.3f} ms/point; "
          f"{retried}/{sub.size} points needed maxsteps=200; wrong root at {naive_wrong}/{sub.size}")
    print(f"ratio naive / dps=50 path: {t_naive / t_mp:6.1f}x")

    rm = rmtool_density(law, x)
    if rm is None:
        print("rmtool: not importable (pip install rmtool) -- skipped")
    else:
        rho_rm, setup, t_rm = rm
        differ = np.abs(rho_rm - rho) > 1e-8 * (1 + np.abs(rho))
        inside = np.zeros(x.shape, dtype=bool)
        for a, b in law.support:
            inside |= (x > a) & (x < b)
        print(f"rmtool Lmz2pdf: set-up {setup:.3f} s (sympy discriminant, roots, lambdify), then "
              f"{t_rm * 1e6:9.2f} us/point (np.roots per point); differs from nrmt at "
              f"{int(differ.sum())}/{x.size} points ({int((differ & inside).sum())} inside the support, "
              f"{int((differ & ~inside).sum())} outside)")
        print(f"ratio rmtool / float path per point: {t_rm / t_float:6.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
