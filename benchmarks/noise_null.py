"""The null distribution of the test suite's Monte Carlo statistics (the law right, seeds random).

For every kind of sample the tests draw (same models, sizes and trials), ``SEEDS`` independent
samples are compared with their limit law and the distribution of ``ks / ks_noise`` (tests/noise.py:
ks_noise = max(ks_scale, ks_split)) is printed, with ``ks_ratio = ks / ks_scale`` for reference,
and, for the two-size moment check, the largest |z| of the extrapolated moments. The bounds of
tests/noise.py are read off this table::

    python benchmarks/noise_null.py [SEEDS]        # default 100 seeds per case

Measured with 200 seeds per case (about 40 min on a loaded 2-core machine): the figures in
tests/noise.py's docstring.
"""

import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

from noise import (AtomAt, extrapolated_moment_z, jacobian_atom_law, jacobian_trials,  # noqa: E402
                   ks_in_noise, z_bound)
from nrmt.models.bias import Bias  # noqa: E402
from nrmt.models.jacobian import Jacobian  # noqa: E402
from nrmt.models.layers import Layers  # noqa: E402
from nrmt.models.one_layer import OneLayer  # noqa: E402
from nrmt.numerics.compare import compare  # noqa: E402

SW_T, SB_T = "1.29922096680185", "0.195041536887065"          # tanh, critical at q* = 1/2


def _model_case(model, n0, trials, entries="gaussian"):
    law = model.law()

    def draw(rng):
        ev = model.sample(n0, entries=entries, trials=trials, rng=rng)
        return compare(ev, law, moments=0, trials=trials)
    return draw


def _jacobian_case(model, n, trials, entries="gaussian"):
    """KS of Jacobian spectra; with an atom, against the law carrying the observed atom (the
    tests' depth-1 ReLU case; the atom itself is tested against its exact finite-N law)."""
    law = model.law()

    def draw(rng):
        arr, floor = jacobian_trials(model, n, trials, rng, entries)
        target = AtomAt(law, float(np.mean(arr < floor))) if law.atom > 0 else law
        return compare(arr, target, moments=0, floor=floor)
    return draw


def _mp_case(ratio, n1, trials):
    from nrmt.numerics.sampling import sample_linear_equivalent
    from test_compare import MarchenkoPastur

    law = MarchenkoPastur(ratio)

    def draw(rng):
        ev = sample_linear_equivalent(1.0, 0.0, n1, n1, int(n1 / ratio), trials=trials, rng=rng)
        return compare(ev, law, moments=2, trials=trials)
    return draw


def _moment_case(model, n0, trials, k=4, entries="gaussian"):
    law = model.law()
    theory = [float(m) for m in law.moments(k)]

    def draw(rng):
        small = compare(model.sample(n0, trials=trials, rng=rng), law, moments=k, trials=trials)
        large = compare(model.sample(2 * n0, entries=entries, trials=trials, rng=rng), law,
                        moments=k, trials=trials)
        z, dof = extrapolated_moment_z(small, large, theory)
        return max(abs(v) for v in z), z_bound(dof, checks=k)
    return draw


CASES = {
    "MP c=0.5 n=150 T=4": lambda: _mp_case(0.5, 150, 4),
    "MP c=0.5 n=600 T=4": lambda: _mp_case(0.5, 600, 4),
    "MP c=2 n=150 T=4 (atom)": lambda: _mp_case(2.0, 150, 4),
    "MP c=2 n=600 T=4 (atom)": lambda: _mp_case(2.0, 600, 4),
    "one layer tanh (0.5, 1) n0=200 T=1": lambda: _model_case(OneLayer("tanh(x)", 0.5, 1), 200, 1),
    "one layer relu-c (2, 1.5) n0=200 T=1 rademacher":
        lambda: _model_case(OneLayer("relu(x) - 1/sqrt(2*pi)", 2, 1.5), 200, 1, "rademacher"),
    "one layer x^2/2+x (1, 0.8) n0=200 T=1":
        lambda: _model_case(OneLayer("x**2/2 + x", 1, 0.8), 200, 1),
    "one layer relu (2, 0.5) n0=200 T=2 (atom)": lambda: _model_case(OneLayer("relu(x)", 2, 0.5), 200, 2),
    "one layer abs (0.5, 1) n0=400 T=2 (MP)": lambda: _model_case(OneLayer("abs(x)", 0.5, 1), 400, 2),
    "layers tanh [0.8, 1.25] n0=300 T=2":
        lambda: _model_case(Layers("tanh(x)", 0.5, [0.8, 1.25], sigma_w=1.2, sigma_x=0.9), 300, 2),
    "layers relu [1, 0.8, 1.25] n0=300 T=2":
        lambda: _model_case(Layers("relu", 0.5, [1.0, 0.8, 1.25], sigma_w=1.2, sigma_x=0.9), 300, 2),
    "bias tanh sb=1 n0=400 T=4":
        lambda: _model_case(Bias("tanh(x)", 0.5, 0.625, sigma_b=1.0, nodes=24), 400, 4),
    "jacobian tanh L=4 N=200 T=2": lambda: _jacobian_case(Jacobian("tanh", 4, SW_T, SB_T), 200, 2),
    "jacobian tanh L=16 N=200 T=2": lambda: _jacobian_case(Jacobian("tanh", 16, SW_T, SB_T), 200, 2),
    "jacobian relu L=1 N=200 T=2 (observed atom)":
        lambda: _jacobian_case(Jacobian("relu", 1, "1.4142135623730950"), 200, 2),
    "jacobian tanh L=4 orthogonal N=200 T=2":
        lambda: _jacobian_case(Jacobian("tanh", 4, SW_T, SB_T, weights="orthogonal"), 200, 2),
}

MOMENT_CASES = {
    "moments tanh (1, 0.5) n0=200/400 T=8": lambda: _moment_case(OneLayer("tanh(x)", 1, 0.5), 200, 8),
    "moments relu (2, 1.5) n0=200/400 T=8":
        lambda: _moment_case(OneLayer("relu(x) - 1/sqrt(2*pi)", 2, 1.5), 200, 8),
    "moments jacobian relu L=4 N=100/200 T=8 rademacher":
        lambda: _moment_case(Jacobian("relu", 4, "1.4142135623730950"), 100, 8, entries="rademacher"),
    "moments jacobian hard-tanh L=4 N=100/200 T=8 rademacher":
        lambda: _moment_case(Jacobian("hard_tanh(x)", 4, "1.08935", "0.24420"), 100, 8,
                             entries="rademacher"),
    "moments jacobian relu L=16 N=100/200 T=8 rademacher":
        lambda: _moment_case(Jacobian("relu", 16, "1.4142135623730950"), 100, 8, entries="rademacher"),
}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    seeds = int(argv[0]) if argv else 100
    only = argv[1] if len(argv) > 1 else ""
    print(f"{seeds} seeds per case; ks/noise: ks / max(ks_scale, ks_split)")
    print(f"{'case':48s} {'mean':>5s} {'sd':>5s} {'q90':>5s} {'q99':>5s} {'max':>5s}   "
          f"ks/ks_scale: min  mean   max  w1/w1_scale: min   max   s/seed")
    for name, make in CASES.items():
        if only not in name:
            continue
        draw = make()
        t0 = time.perf_counter()
        r, k, w = [], [], []
        for seed in range(seeds):
            c = draw(np.random.default_rng(10_000 + seed))
            r.append(ks_in_noise(c))
            k.append(c.ks_ratio)
            w.append(c.w1_ratio)
        r, k, w = np.array(r), np.array(k), np.array(w)
        dt = (time.perf_counter() - t0) / seeds
        print(f"{name:48s} {r.mean():5.2f} {r.std():5.2f} {np.quantile(r, 0.9):5.2f} "
              f"{np.quantile(r, 0.99):5.2f} {r.max():5.2f}   {k.min():16.2f} {k.mean():5.2f} {k.max():5.2f} "
              f"{w.min():16.2f} {w.max():5.2f}  {dt:6.2f}",
              flush=True)
    for name, make in MOMENT_CASES.items():
        if only not in name:
            continue
        draw = make()
        t0 = time.perf_counter()
        zs, bound = [], None
        for seed in range(seeds):
            z, bound = draw(np.random.default_rng(20_000 + seed))
            zs.append(z)
        zs = np.array(zs)
        dt = (time.perf_counter() - t0) / seeds
        print(f"{name:48s} max|z|: mean {zs.mean():5.2f} q90 {np.quantile(zs, 0.9):5.2f} "
              f"q99 {np.quantile(zs, 0.99):5.2f} max {zs.max():5.2f}   bound {bound:5.2f}  {dt:6.2f}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
