"""Monte Carlo: squared singular values of sampled Jacobians against the limit law.

KS distances are taken above the float64 floor (1e-20 max) with the law's CDF from the tail;
bound: 1.63/sqrt(n) (the 99% Kolmogorov quantile) plus, for laws with an atom at 0, the finite-N
bias of the atom (1 - min_l rank D_l / N exceeds 1/2 by O(sqrt(log L / N)), deep.md pitfall 2).
Universality (Pastur & Slavin): Gaussian and Rademacher weights give the same law; Haar-orthogonal
weights a different one.
"""

import math

import numpy as np
import pytest

from nrmt.models.jacobian import Jacobian
from nrmt.numerics.jacobian_sampling import ks_above_floor, sample_jacobian

N, TRIALS = 200, 2

CASES = [
    # activation, sigma_w, sigma_b, depth, atom-bias allowance
    ("tanh", "1.29922096680185", "0.195041536887065", 1, 0.0),     # critical, q* = 1/2
    ("tanh", "1.29922096680185", "0.195041536887065", 4, 0.0),
    ("tanh", "1.29922096680185", "0.195041536887065", 16, 0.0),
    ("tanh", "1.5", "0.2236", 4, 0.0),                            # chaotic, chi = 1.09
    ("relu", "1.4142135623730950", "0", 1, 0.04),                   # critical
    ("relu", "1.4142135623730950", "0", 4, 0.06),
    ("relu", "1.4142135623730950", "0", 16, 0.08),
    ("relu", "1.5811388300841898", "0", 4, 0.06),                   # chi = 1.25
    ("hard_tanh(x)", "1.08935", "0.24420", 4, 0.04),                # critical, q* = 1/2
]


def _ks(model, law, entries, seed):
    s = model.sample(N, entries=entries, trials=TRIALS, rng=seed)
    return ks_above_floor(s, law._cdf_float), s


@pytest.mark.parametrize("f,sw,sb,L,bias", CASES, ids=[f"{c[0]}-L{c[3]}-sw{c[1][:4]}" for c in CASES])
def test_monte_carlo_agreement_gaussian_and_rademacher(f, sw, sb, L, bias):
    model = Jacobian(f, L, sw, sb)
    law = model.law()
    bound = 1.63 / math.sqrt(N * TRIALS) + bias
    for entries, seed in (("gaussian", 1), ("rademacher", 2)):
        ks, s = _ks(model, law, entries, seed)
        assert ks < bound, (entries, ks, bound)
    # the floor is honest: values below it are counted, and deep products do put mass there
    assert s.floor > 0 and 0 <= s.below_floor < 1


def test_universality_uniform_and_student_t():
    model = Jacobian("tanh", 4, "1.29922096680185", "0.195041536887065")
    law = model.law()
    bound = 1.63 / math.sqrt(N * TRIALS)
    for entries, seed in (("uniform", 4), ("student-t:8", 5)):
        ks, _ = _ks(model, law, entries, seed)
        assert ks < bound, (entries, ks, bound)


def test_orthogonal_weights_give_a_different_law():
    f, sw, sb, L = "tanh", "1.29922096680185", "0.195041536887065", 4
    iid, orth = Jacobian(f, L, sw, sb), Jacobian(f, L, sw, sb, weights="orthogonal")
    law_iid, law_orth = iid.law(), orth.law()
    s = orth.sample(N, trials=TRIALS, rng=3)
    bound = 1.63 / math.sqrt(N * TRIALS)
    assert ks_above_floor(s, law_orth._cdf_float) < bound            # matches its own law
    assert ks_above_floor(s, law_iid._cdf_float) > 3 * bound         # not the iid one


def test_sampler_basics():
    s = sample_jacobian("x", 3, 40, sigma_w=1.0, q0=1.0, trials=2, rng=0)
    assert len(s) == 80 and np.all(np.diff(s.values) >= 0)
    # linear network: J = W3 W2 W1 exactly; mean of eigenvalues of J J^T ~ 1 (Fuss-Catalan m1)
    assert abs(np.mean(s.values) - 1) < 0.3
    a = sample_jacobian("tanh", 2, 30, sigma_w=1.2, q0=1.0, rng=5).values
    b = sample_jacobian("tanh", 2, 30, sigma_w=1.2, q0=1.0, rng=5).values
    assert np.array_equal(a, b)
    with pytest.raises(ValueError):
        sample_jacobian("tanh", 2, 30, sigma_w=1.2)
    with pytest.raises(ValueError):
        sample_jacobian("tanh", 2, 30, sigma_w=1.2, q0=1.0, weights="unitary")
