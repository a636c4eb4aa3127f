"""Cost of a proof: certified (ball arithmetic) vs non-certified (mpmath) constants and densities.

Run: ``python benchmarks/bench_certified.py``. Prints, for each case, the time of the certified path
(nrmt.numerics.certified_*), of the mpmath baseline measured in the same run
(nrmt.theory.constants.constants, OneLayer.law(dps).density), and their ratio
(baseline / certified: > 1 means the certified path is faster). Both paths cache results, so each
timed call is a first call on its input; start-up is excluded by a warm-up on other inputs.
"""

import time

import mpmath
import sympy

from nrmt.models.one_layer import OneLayer
from nrmt.numerics.certified_constants import certified_constants
from nrmt.numerics.certified_density import certified_density
from nrmt.theory.constants import constants


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main():
    R = sympy.Rational
    # warm-up: imports, sympy/flint start-up, on inputs not timed below
    certified_constants("sin(x)", dps=20, check_exact=False)
    constants("sin(x)", dps=20, exact=False)
    print(f"{'case':<38} {'certified s':>12} {'mpmath s':>10} {'ratio':>8}")
    for spec in ("tanh(x)", "gelu(x)", "elu(x)"):
        for dps in (30, 100):
            cert = timed(lambda: certified_constants(spec, dps=dps, check_exact=False))
            base = timed(lambda: constants(spec, dps=dps, exact=False))
            print(f"{'constants ' + spec + f' dps={dps}':<38} {cert:12.4f} {base:10.4f} {base / cert:8.2f}")
    model = OneLayer.from_constants(R(1, 2), R(1, 3), phi=R(1, 2), psi=2)
    for dps in (30, 100):
        law = model.law(dps=dps)
        law.density([mpmath.mpf("0.77")])  # warm-up of the law at this precision
        certified_density([R(77, 100)], R(1, 2), 2, R(1, 2), R(1, 3), dps=dps)
        xs = [R(k, 20) + R(1, 1000 + dps) for k in range(2, 30)]
        with mpmath.workdps(dps + 20):
            pts = [mpmath.mpf(int(x.p)) / int(x.q) for x in xs]
        cert = timed(lambda: certified_density(xs, R(1, 2), 2, R(1, 2), R(1, 3), dps=dps)) / len(xs)
        base = timed(lambda: law.density(pts)) / len(xs)
        print(f"{f'density per point dps={dps}':<38} {cert:12.4f} {base:10.4f} {base / cert:8.2f}")


if __name__ == "__main__":
    main()
