"""Entry laws: mean 0, variance 1, the stated fourth moment, the right shape, clear refusals."""

import math

import numpy as np
import pytest
from scipy import stats

from nrmt.numerics.entries import ENTRY_LAWS, EntryLaw, entry_law

N = 400_000


def _t8(nu):
    """E xi^8 of the rescaled Student t: E t^8 = 105 nu^4 / ((nu-2)(nu-4)(nu-6)(nu-8)), times ((nu-2)/nu)^4."""
    return 105.0 * (nu - 2) ** 3 / ((nu - 4) * (nu - 6) * (nu - 8))


# spec, fourth moment, eighth moment (closed forms, for the standard errors)
LAWS = [
    ("gaussian", 3.0, 105.0),
    ("rademacher", 1.0, 1.0),
    ("uniform", 9 / 5, 9.0),                      # x uniform on [-sqrt3, sqrt3]: E x^8 = 3^4/9
    ("student-t:10", 3 * 8 / 6, _t8(10.0)),
    ("student-t:12.5", 3 * 10.5 / 8.5, _t8(12.5)),
    ("bernoulli:0.2", 5.0, 1 / 0.2 ** 3),
    ("bernoulli:1", 1.0, 1.0),
]


@pytest.mark.parametrize("spec,m4,m8", LAWS, ids=[s for s, _, _ in LAWS])
def test_moments_within_standard_errors(spec, m4, m8):
    law = entry_law(spec)
    assert law.fourth_moment == pytest.approx(m4, rel=1e-12)
    x = law.draw(np.random.default_rng(11), N)
    assert x.dtype == np.float64 and x.shape == (N,)
    se_mean = 1 / math.sqrt(N)
    se_var = math.sqrt((m4 - 1) / N)
    se_m4 = math.sqrt((m8 - m4 ** 2) / N)
    assert abs(x.mean()) < 5 * se_mean
    assert abs(np.mean(x ** 2) - 1) < 5 * se_var + 1e-12
    assert abs(np.mean(x ** 4) - m4) < 5 * se_m4 + 1e-12


def test_student_t_has_the_t_shape():
    nu = 6.0
    x = entry_law("student-t:6").draw(np.random.default_rng(2), 50_000)
    scale = math.sqrt((nu - 2) / nu)
    assert stats.kstest(x, stats.t(df=nu, scale=scale).cdf).pvalue > 1e-3


def test_uniform_has_the_uniform_shape():
    x = entry_law("uniform").draw(np.random.default_rng(3), 50_000)
    r3 = math.sqrt(3)
    assert x.min() >= -r3 and x.max() <= r3
    assert stats.kstest(x, stats.uniform(loc=-r3, scale=2 * r3).cdf).pvalue > 1e-3


def test_discrete_laws_take_their_values():
    rng = np.random.default_rng(4)
    x = entry_law("rademacher").draw(rng, (300, 300))
    assert set(np.unique(x)) == {-1.0, 1.0}
    p = 0.1
    y = entry_law(f"bernoulli:{p}").draw(rng, 200_000)
    vals, counts = np.unique(y, return_counts=True)
    assert np.allclose(vals, [-1 / math.sqrt(p), 0.0, 1 / math.sqrt(p)])
    freq = counts / y.size
    se = math.sqrt(p / 2 * (1 - p / 2) / y.size)
    assert abs(freq[0] - p / 2) < 5 * se and abs(freq[2] - p / 2) < 5 * se


def test_seeded_draws_reproduce_and_fill_in_place():
    law = entry_law("gaussian")
    a = law.draw(np.random.default_rng(5), (20, 30))
    b = law.draw(np.random.default_rng(5), (20, 30))
    assert np.array_equal(a, b)
    out = np.empty((20, 30))
    c = law.draw(np.random.default_rng(5), None, out=out, scale=2.0)
    assert c is out and np.allclose(c, 2 * a)
    d = law.draw(5, (20, 30))                      # an int seeds a generator
    assert np.array_equal(a, d)
    f = entry_law("uniform").draw(np.random.default_rng(1), 1000, dtype=np.float32)
    assert f.dtype == np.float32


def test_names_round_trip_and_aliases():
    for spec in ["gaussian", "rademacher", "uniform", "student-t:6", "student-t:4.5", "bernoulli:0.25"]:
        law = entry_law(spec)
        assert law.name == spec
        assert entry_law(law.name) == law and entry_law(law) is law
    assert entry_law(" Normal ").name == "gaussian"
    assert entry_law("t:8").name == "student-t:8"
    assert len(ENTRY_LAWS) == 5 and isinstance(entry_law("gaussian"), EntryLaw)


@pytest.mark.parametrize("spec,match", [
    ("student-t:4", "nu must be > 4"),
    ("student-t:3", "nu must be > 4"),
    ("student-t", "expected 'student-t:NU'"),
    ("student-t:abc", "must be a number"),
    ("student-t:inf", "must be finite"),
    ("bernoulli:0", r"P must be in \(0, 1\]"),
    ("bernoulli:1.5", r"P must be in \(0, 1\]"),
    ("bernoulli:-0.1", r"P must be in \(0, 1\]"),
    ("bernoulli", "expected 'bernoulli:P'"),
    ("gaussian:2", "takes no parameter"),
    ("cauchy", "unknown entry law 'cauchy'"),
    ("", "unknown entry law"),
])
def test_bad_specs_are_refused(spec, match):
    with pytest.raises(ValueError, match=match):
        entry_law(spec)


def test_wrong_types_are_refused():
    with pytest.raises(TypeError, match="entry law must be a string"):
        entry_law(3)
    with pytest.raises(TypeError, match="dtype must be float64 or float32"):
        entry_law("gaussian").draw(0, 3, dtype=np.int64)
