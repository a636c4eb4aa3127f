"""Monte Carlo: squared singular values of sampled Jacobians against the limit law.

Tolerances are in units of compare()'s noise scales (tests/noise.py). KS: below ``KS_NOISE_MAX_JACOBIAN``
times max(ks_scale, ks_split) — the trials are kept as blocks so that compare() sees their spread,
which for Jacobians includes the O(1/√N) fluctuations of the layer variances — taken above the
float64 floor (1e-20 max; the *count* below it is still right). Laws with an atom at 0 (ReLU,
hard-tanh): rank J = min_l rank D_l, rank D_l = N − Z_l with Z_l ~ Binomial(N, p), so the finite-N
atom is max_l Z_l / N, above the limit p by O(√(log L / N)) (deep.md, pitfall 2): it is tested
against that exact law; at depth 1 the continuous part is compared with the law carrying the
observed atom; deeper, where the rank deficit also thins the continuous part near 0 by more than
the KS noise, the moments are compared instead, extrapolated from two sizes (standard errors).
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
from noise import (ALPHA, KS_NOISE_MAX_JACOBIAN, AtomAt, assert_ks_agrees, assert_ks_disagrees,
                   assert_moments_agree, jacobian_atom_law, jacobian_trials, z_bound)

BOUND = dict(bound=KS_NOISE_MAX_JACOBIAN)

N, TRIALS = 200, 2
TANH = ("tanh", "1.29922096680185", "0.195041536887065")      # critical, q* = 1/2
RELU = ("relu", "1.4142135623730950", "0")                     # critical

KS_CASES = [
    # activation, sigma_w, sigma_b, depth: laws without an atom
    (*TANH, 1),
    (*TANH, 4),
    (*TANH, 16),
    ("tanh", "1.5", "0.2236", 4),                               # chaotic, chi = 1.09
]

ATOM_CASES = [
    # laws with an atom at 0: the finite-N rank deficit moves mass into the atom
    (*RELU, 4),
    ("relu", "1.5811388300841898", "0", 4),                     # chi = 1.25
    ("hard_tanh(x)", "1.08935", "0.24420", 4),                  # critical, q* = 1/2
    (*RELU, 16),
]


def _jacobian(spec, depth, **kw):
    f, sw, sb = spec[:3]
    return Jacobian(f, depth, sw, sb, **kw)


@pytest.mark.parametrize("f,sw,sb,L", KS_CASES, ids=[f"{c[0]}-L{c[3]}-sw{c[1][:4]}" for c in KS_CASES])
def test_monte_carlo_agreement_gaussian_and_rademacher(f, sw, sb, L):
    model = Jacobian(f, L, sw, sb)
    law = model.law()
    for entries, seed in (("gaussian", 1), ("rademacher", 2)):
        sample, floor = jacobian_trials(model, N, TRIALS, seed, entries)
        assert_ks_agrees(compare(sample, law, moments=0, floor=floor), entries, **BOUND)
    # the floor is honest: values below it are counted, and deep products do put mass there
    assert floor > 0


def test_relu_depth_1_atom_and_continuous_part():
    # J = D W: rank N - Z with Z ~ Bin(N, 1/2) exactly (signs of W x iid for Gaussian W); the
    # continuous part is compared with the law carrying the observed atom (its own test: the atom)
    model = _jacobian(RELU, 1)
    law = model.law()
    mean, sd = jacobian_atom_law(N, 0.5, 1)
    for entries, seed in (("gaussian", 1), ("rademacher", 2)):
        sample, floor = jacobian_trials(model, N, TRIALS, seed, entries)
        atom = float(np.mean(sample < floor))
        assert_ks_agrees(compare(sample, AtomAt(law, atom), moments=0, floor=floor), entries, **BOUND)
        if entries == "gaussian":
            assert abs(atom - mean) < stats.norm.isf(ALPHA / 2) * sd / math.sqrt(TRIALS), (atom, mean)


@pytest.mark.parametrize("f,sw,sb,L", ATOM_CASES, ids=[f"{c[0]}-L{c[3]}-sw{c[1][:4]}" for c in ATOM_CASES])
def test_laws_with_an_atom_moments_from_two_sizes(f, sw, sb, L):
    # rank J = min_l rank D_l: at finite N the atom is max_l Z_l / N, above the limit by
    # O(sqrt(log L / N)), and the continuous part near 0 is thinned by more than the KS noise. The
    # moments of J J^T have a plain 1/N expansion: extrapolated from N and 2N, they are compared
    # in standard errors (Student-t bound)
    model = Jacobian(f, L, sw, sb)
    law = model.law()
    theory = [float(m) for m in law.moments(4)]
    rng = np.random.default_rng(20 + L)
    small = compare(model.sample(N // 2, trials=8, rng=rng), law, moments=4, trials=8)
    large = compare(model.sample(N, entries="rademacher", trials=8, rng=rng), law, moments=4, trials=8)
    assert_moments_agree(small, large, theory)
    if f == "relu" and L <= 4:
        # the finite-N atom of Gaussian weights: its exact law (the law's mass below the float64
        # floor is negligible at this depth)
        mean, sd = jacobian_atom_law(N // 2, 0.5, L)
        assert abs(small.atom_sample - mean) < stats.norm.isf(ALPHA / 2) * sd / math.sqrt(8), \
            (small.atom_sample, mean, sd)


def test_universality_uniform_and_student_t():
    model = _jacobian(TANH, 4)
    law = model.law()
    for entries, seed in (("uniform", 4), ("student-t:8", 5)):
        sample, floor = jacobian_trials(model, N, TRIALS, seed, entries)
        assert_ks_agrees(compare(sample, law, moments=0, floor=floor), entries, **BOUND)


def test_orthogonal_weights_give_a_different_law():
    iid, orth = _jacobian(TANH, 4), _jacobian(TANH, 4, weights="orthogonal")
    sample, floor = jacobian_trials(orth, N, TRIALS, 3)
    assert_ks_agrees(compare(sample, orth.law(), moments=0, floor=floor), **BOUND)     # its own law
    assert_ks_disagrees(compare(sample, iid.law(), moments=0, floor=floor), **BOUND)   # not the iid one


def test_ks_above_floor_is_compares_distance():
    model = _jacobian(TANH, 16)
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
