"""Monte Carlo: squared singular values of sampled Jacobians against the limit law.

Tolerances are in units of compare()'s noise scales (tests/noise.py): KS below ``KS_NOISE_MAX``
times max(ks_scale, ks_split) — the trials are kept as blocks so that compare() sees their spread,
which for Jacobians includes the O(1/√N) fluctuations of the layer variances — and taken above the
float64 floor (1e-20 max; the *count* below it is still right). For ReLU and hard-tanh the
finite-N atom is max_l Z_l / N with Z_l ~ Binomial(N, p) (rank J = min_l rank D_l), above the
limit p by O(√(log L / N)) (deep.md, pitfall 2): the atom is tested against that exact law and the
continuous part against the limit law carrying that atom. At depth 16 the rank deficit distorts the
continuous part near 0 by more than the noise for ReLU; there the moments are checked instead
(extrapolated from two sizes, in standard errors), with tanh covering the depth-16 KS.
Universality (Pastur & Slavin): Gaussian, Rademacher, uniform and Student-t weights give the same
law; Haar-orthogonal weights a different one, told apart in the same noise units.
"""

import math

import numpy as np
import pytest
from scipy import stats

from nrmt.models.jacobian import Jacobian
from nrmt.numerics.compare import compare
from nrmt.numerics.jacobian_sampling import ks_above_floor, sample_jacobian
from noise import (ALPHA, AtomAt, assert_ks_agrees, assert_ks_disagrees, assert_moments_agree,
                   jacobian_atom_law, jacobian_trials, z_bound)

N, TRIALS = 200, 2
TANH = ("tanh", "1.29922096680185", "0.195041536887065")      # critical, q* = 1/2
RELU = ("relu", "1.4142135623730950", "0")                     # critical

CASES = [
    # activation, sigma_w, sigma_b, depth
    (*TANH, 1),
    (*TANH, 4),
    (*TANH, 16),
    ("tanh", "1.5", "0.2236", 4),                               # chaotic, chi = 1.09
    (*RELU, 1),
    (*RELU, 4),
    ("relu", "1.5811388300841898", "0", 4),                     # chi = 1.25
    ("hard_tanh(x)", "1.08935", "0.24420", 4),                  # critical, q* = 1/2
]


def _target(model, law, n):
    """The law to compare with: the limit law, with the finite-N atom where there is one."""
    if law.atom == 0:
        return law, None
    mean, sd = jacobian_atom_law(n, float(law.atom), model.depth)
    return AtomAt(law, mean), (mean, sd)


@pytest.mark.parametrize("f,sw,sb,L", CASES, ids=[f"{c[0]}-L{c[3]}-sw{c[1][:4]}" for c in CASES])
def test_monte_carlo_agreement_gaussian_and_rademacher(f, sw, sb, L):
    model = Jacobian(f, L, sw, sb)
    law = model.law()
    target, atom = _target(model, law, N)
    for entries, seed in (("gaussian", 1), ("rademacher", 2)):
        sample, floor = jacobian_trials(model, N, TRIALS, seed, entries)
        c = compare(sample, target, moments=0, floor=floor)
        assert_ks_agrees(c, entries)
        if atom is not None:
            # the fraction below the floor: the finite-N atom plus the law's mass below the floor
            expected = float(target(np.array([floor]))[0])
            z = (c.atom_sample - expected) / (atom[1] / math.sqrt(TRIALS))
            assert abs(z) < stats.norm.isf(ALPHA / 2), (entries, c.atom_sample, expected, z)
    # the floor is honest: values below it are counted, and deep products do put mass there
    assert floor > 0 and 0 <= c.atom_sample < 1


def test_relu_depth_16_moments_from_two_sizes():
    # rank J = min_l rank D_l moves mass into the atom at finite N; the moments of J J^T have a
    # plain 1/N expansion, so extrapolation from N and 2N removes their bias
    model = Jacobian(RELU[0], 16, *RELU[1:])
    law = model.law()
    theory = [float(m) for m in law.moments(4)]
    small = compare(model.sample(100, trials=8, rng=21), law, moments=4, trials=8)
    large = compare(model.sample(200, trials=8, rng=22), law, moments=4, trials=8)
    assert_moments_agree(small, large, theory)
    # (the atom's finite-N law is tested at depths 1 and 4, where the law's mass below the float64
    # floor is negligible; at depth 16 the rank deficit also thins the continuous part near 0)


def test_universality_uniform_and_student_t():
    model = Jacobian(TANH[0], 4, *TANH[1:])
    law = model.law()
    for entries, seed in (("uniform", 4), ("student-t:8", 5)):
        sample, floor = jacobian_trials(model, N, TRIALS, seed, entries)
        assert_ks_agrees(compare(sample, law, moments=0, floor=floor), entries)


def test_orthogonal_weights_give_a_different_law():
    iid = Jacobian(TANH[0], 4, *TANH[1:])
    orth = Jacobian(TANH[0], 4, *TANH[1:], weights="orthogonal")
    sample, floor = jacobian_trials(orth, N, TRIALS, 3)
    assert_ks_agrees(compare(sample, orth.law(), moments=0, floor=floor))     # its own law
    assert_ks_disagrees(compare(sample, iid.law(), moments=0, floor=floor))   # not the iid one


def test_ks_above_floor_is_compares_distance():
    model = Jacobian(TANH[0], 16, *TANH[1:])
    law = model.law()
    s = model.sample(N, trials=TRIALS, rng=6)
    c = compare(s, law, moments=0, trials=TRIALS)                  # floor read from the sample
    assert c.floor == s.floor and c.ks == pytest.approx(ks_above_floor(s, law._cdf_float), abs=1e-9)
    assert c.ks_split is not None                                  # trial blocks kept


def test_sampler_basics():
    s = sample_jacobian("x", 3, 40, sigma_w=1.0, q0=1.0, trials=8, rng=0)
    assert len(s) == 320 and s.trials == 8
    blocks = s.values.reshape(8, 40)
    assert np.all(np.diff(blocks, axis=1) >= 0)                    # ascending within each trial
    # linear network: J = W3 W2 W1, E tr(J J^T)/N = 1 exactly at every N (Fuss-Catalan m1)
    c = compare(blocks, Jacobian("x", 3, 1).law(), moments=1, floor=None)
    assert abs(c.moment_z[0]) < z_bound(7), c.moment_z
    a = sample_jacobian("tanh", 2, 30, sigma_w=1.2, q0=1.0, rng=5).values
    b = sample_jacobian("tanh", 2, 30, sigma_w=1.2, q0=1.0, rng=5).values
    assert np.array_equal(a, b)
    with pytest.raises(ValueError):
        sample_jacobian("tanh", 2, 30, sigma_w=1.2)
    with pytest.raises(ValueError):
        sample_jacobian("tanh", 2, 30, sigma_w=1.2, q0=1.0, weights="unitary")
