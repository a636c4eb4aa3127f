"""Time per density point of the one-layer law: nrmt's float and dps = 50 paths against baselines.

Run: ``python benchmarks/bench_density.py [--points N] [--mp-points K]``. In one run it measures

* the float path (dps = 15, vectorised continuation) on N points of the support;
* the dps = 50 path (float seed, Newton at 50 + guard digits, verified) on K points;
* a naive baseline at dps = 50: ``mpmath.polyroots`` of the quartic at each point, then a root
  choice (the root with the most negative imaginary part, point by point);
* rmtool (the polynomial-method package of Rao & Edelman, ``pip install rmtool``), when it imports:
  ``Lmz2pdf`` on the same quartic (m = -G) and grid, its density taken with ``best_density``
  (the largest imag/pi root at each point);

and prints the ratios, plus how often each baseline picked a different root than nrmt (the
physical branch, checked against the mp path on a subset). Start-up (building the law, the
discriminant, rmtool's symbolic set-up) is excluded from the per-point times where it can be.
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
    """Baseline: all roots by mpmath.polyroots at each x, then 'the root with the most negative Im'."""
    out = []
    with mpmath.workdps(dps + 10):
        tab = law._tab_mp()
        for xv in x:
            A = law._coeffs(tab, mpmath.mpf(xv))
            while A[0] == 0:
                A = A[1:]
            roots = mpmath.polyroots(A, maxsteps=200, extraprec=2 * mpmath.mp.prec)
            g = min(roots, key=lambda r: mpmath.im(r))
            out.append(max(mpmath.mpf(0), -mpmath.im(g) / mpmath.pi))
    return out


def rmtool_density(law, x):
    """rmtool's Lmz2pdf on the same polynomial (m = -G); returns (density, seconds) or None."""
    try:
        import rmtool
    except ImportError:
        return None
    G, z = sp.symbols("G z")
    m = rmtool.m
    expr = sp.expand(law.polynomial(G, z).subs(G, -m).subs(z, rmtool.z))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        info = rmtool.Lmz2pdf(expr, x)
        seconds = time.perf_counter() - t0
    rho = np.abs(np.asarray(info.best_density(), dtype=float))
    return np.nan_to_num(rho), seconds


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

    # the dps = 50 path on a subset
    law50 = law.with_dps(50)
    sub = x[:: max(1, x.size // args.mp_points)][: args.mp_points]
    law50.density([mpmath.mpf(float(sub[0]))])  # caches
    t0 = time.perf_counter()
    rho50 = law50.density([mpmath.mpf(float(v)) for v in sub])
    t_mp = (time.perf_counter() - t0) / sub.size
    t0 = time.perf_counter()
    naive = naive_mp_density(law50, [mpmath.mpf(float(v)) for v in sub], 50)
    t_naive = (time.perf_counter() - t0) / sub.size

    with mpmath.workdps(60):
        err_float = max(abs(mpmath.mpf(float(a)) - b) / max(b, mpmath.mpf(10) ** -300) if b > 0 else abs(a)
                        for a, b in zip(rho[:: max(1, x.size // args.mp_points)][: args.mp_points], rho50))
        naive_wrong = sum(1 for a, b in zip(naive, rho50) if abs(a - b) > mpmath.mpf(10) ** -40 * (1 + b))
    print(f"float path : {t_float * 1e6:9.2f} us/point over {x.size} points "
          f"(max rel. error vs the dps=50 path on {sub.size} points: {float(err_float):.1e})")
    print(f"dps=50 path: {t_mp * 1e3:9.3f} ms/point over {sub.size} points")
    print(f"naive mpmath.polyroots + 'most negative Im' root: {t_naive * 1e3:9.3f} ms/point; "
          f"wrong root at {naive_wrong}/{sub.size} points")
    print(f"ratio naive / dps=50 path: {t_naive / t_mp:6.1f}x   (aim >= 20x)")

    rm = rmtool_density(law, x)
    if rm is None:
        print("rmtool: not importable (pip install rmtool) -- skipped")
    else:
        rho_rm, sec = rm
        t_rm = sec / x.size
        differ = np.abs(rho_rm - rho) > 1e-8 * (1 + np.abs(rho))
        inside = np.zeros(x.shape, dtype=bool)
        for a, b in law.support:
            inside |= (x > a) & (x < b)
        print(f"rmtool Lmz2pdf (np.roots per point, best_density): {t_rm * 1e6:9.2f} us/point; "
              f"differs from nrmt at {int(differ.sum())}/{x.size} points "
              f"({int((differ & inside).sum())} inside the support, {int((differ & ~inside).sum())} outside, "
              f"where the density is 0 and rmtool's root choice gives a complex root)")
        print(f"ratio rmtool / float path: {t_rm / t_float:6.1f}x   (aim >= 10x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
