"""Distances between samples and laws: KS, W1, moments, the CDF table and the noise scales.

Every reference is independent of nrmt.numerics.compare: closed-form CDFs (Beta, Marchenko–Pastur
by its arcsine antiderivative — itself checked against mpmath quadrature here — power laws with
hard edges), scipy.stats.kstest and scipy.stats.wasserstein_distance, and brute-force suprema.
"""

import json
import math

import mpmath
import numpy as np
import pytest
from scipy import stats

from nrmt.numerics.compare import CdfTable, Comparison, compare, ks_distance, w1_distance
from nrmt.numerics.sampling import sample_linear_equivalent
from noise import MP_RATIO_BAND


# ------------------------------------------------------------------ law-like objects (closed forms)
class Beta23:
    """Beta(2, 3): density 12 x (1 - x)^2 on [0, 1]."""
    support, atom = [(0.0, 1.0)], 0.0

    def density(self, x):
        x = np.asarray(x, float)
        return np.where((x > 0) & (x < 1), 12 * x * (1 - x) ** 2, 0.0)

    def cdf(self, x):
        x = np.clip(np.asarray(x, float), 0, 1)
        return 6 * x ** 2 - 8 * x ** 3 + 3 * x ** 4

    def moments(self, k):
        # E x^j = prod_{i<j} (2 + i) / (5 + i)
        return [math.prod((2 + i) / (5 + i) for i in range(j)) for j in range(1, k + 1)]


class MarchenkoPastur:
    """MP with ratio c and scale s: density sqrt((b-x)(x-a)) / (2 pi c s x), atom 1 - 1/c if c > 1."""

    def __init__(self, c, s=1.0):
        self.c, self.s = c, s
        self.a, self.b = s * (1 - math.sqrt(c)) ** 2, s * (1 + math.sqrt(c)) ** 2
        self.support = [(self.a, self.b)]
        self.atom = max(0.0, 1 - 1 / c)

    def density(self, x):
        x = np.asarray(x, float)
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.sqrt(np.maximum((self.b - x) * (x - self.a), 0)) / (2 * np.pi * self.c * self.s * x)
        return np.where((x > self.a) & (x < self.b), r, 0.0)

    def cdf(self, x):
        """Closed form: int sqrt((b-t)(t-a))/t dt = r + (a+b)/2 asin((2t-a-b)/(b-a))
        - sqrt(ab) asin(((a+b)t - 2ab)/((b-a)t)) (unit scale)."""
        x = np.asarray(x, float) / self.s
        c = self.c
        a, b = (1 - math.sqrt(c)) ** 2, (1 + math.sqrt(c)) ** 2
        t = np.clip(x, max(a, 1e-300), b)
        r = np.sqrt(np.maximum((b - t) * (t - a), 0))
        u = np.clip(((a + b) * t - 2 * a * b) / ((b - a) * t), -1, 1)
        anti = r + (a + b) / 2 * np.arcsin(np.clip((2 * t - a - b) / (b - a), -1, 1)) \
            - math.sqrt(a * b) * np.arcsin(u)
        anti0 = -(a + b) / 2 * np.pi / 2 + math.sqrt(a * b) * np.pi / 2
        f = self.atom + (anti - anti0) / (2 * np.pi * c)
        f = np.where(x < a, self.atom, f)
        f = np.where(x < 0, 0.0, f)
        return np.where(x >= b, 1.0, f)

    def moments(self, k):
        # Narayana: m_j = s^j sum_r c^r C(j, r) C(j, r+1) / j
        return [self.s ** j * sum(self.c ** r * math.comb(j, r) * math.comb(j, r + 1) / j
                                  for r in range(j)) for j in range(1, k + 1)]


class Power:
    """Density p x^(p-1) on [0, 1] (p < 1: a hard edge at 0), CDF x^p."""

    def __init__(self, p):
        self.p = p
        self.support, self.atom = [(0.0, 1.0)], 0.0

    def density(self, x):
        x = np.asarray(x, float)
        with np.errstate(divide="ignore"):
            return np.where((x > 0) & (x < 1), self.p * np.abs(x) ** (self.p - 1), 0.0)

    def cdf(self, x):
        return np.clip(np.asarray(x, float), 0, 1) ** self.p

    def moments(self, k):
        return [self.p / (self.p + j) for j in range(1, k + 1)]


class AtomUniform:
    """Mass w at 0 plus (1 - w) uniform on [1, 2]."""

    def __init__(self, w=0.3):
        self.w = w
        self.support, self.atom = [(1.0, 2.0)], w

    def density(self, x):
        x = np.asarray(x, float)
        return np.where((x > 1) & (x < 2), 1 - self.w, 0.0)

    def cdf(self, x):
        x = np.asarray(x, float)
        return np.where(x >= 0, self.w, 0.0) + (1 - self.w) * np.clip(x - 1, 0, 1)

    def moments(self, k):
        return [(1 - self.w) * (2 ** (j + 1) - 1) / (j + 1) for j in range(1, k + 1)]


class TwoBands:
    """Density 1/2 on [1, 2] and on [3, 4] (a gap: F is flat in between)."""
    support, atom = [(3.0, 4.0), (1.0, 2.0)], 0.0          # unsorted on purpose

    def density(self, x):
        x = np.asarray(x, float)
        return np.where(((x > 1) & (x < 2)) | ((x > 3) & (x < 4)), 0.5, 0.0)

    def cdf(self, x):
        x = np.asarray(x, float)
        return 0.5 * np.clip(x - 1, 0, 1) + 0.5 * np.clip(x - 3, 0, 1)

    def moments(self, k):
        return [0.5 * ((2 ** (j + 1) - 1) + (4 ** (j + 1) - 3 ** (j + 1))) / (j + 1) for j in range(1, k + 1)]


class Uniform01:
    support, atom = [(0.0, 1.0)], 0.0

    def density(self, x):
        x = np.asarray(x, float)
        return np.where((x > 0) & (x < 1), 1.0, 0.0)

    def moments(self, k):
        return [1 / (j + 1) for j in range(1, k + 1)]


# ------------------------------------------------------------------ the closed forms themselves
@pytest.mark.parametrize("c", [0.3, 1.0, 2.5])
def test_mp_closed_form_cdf_matches_quadrature(c):
    law = MarchenkoPastur(c, 1.7)
    a, b = law.a, law.b
    f = lambda t: mpmath.sqrt((b - t) * (t - a)) / (2 * mpmath.pi * c * 1.7 * t)
    for x in [a + 0.01 * (b - a), (a + b) / 2, a + 0.9 * (b - a)]:
        with mpmath.workdps(30):
            ref = law.atom + float(mpmath.quad(f, [a, x]))
        assert float(law.cdf(x)) == pytest.approx(ref, abs=1e-12)


# ------------------------------------------------------------------ CDF table
TABLE_CASES = [
    ("beta", Beta23(), 1e-7),
    ("mp-0.5", MarchenkoPastur(0.5, 1.3), 1e-7),
    ("mp-1-hard-edge", MarchenkoPastur(1.0), 1e-7),       # x^(-1/2) at 0
    ("mp-2-atom", MarchenkoPastur(2.0, 0.7), 1e-7),
    ("power-1/3", Power(1 / 3), 1e-7),                     # x^(-2/3) at 0 (Fuss-Catalan-like)
    ("power-1/2", Power(1 / 2), 1e-7),
    ("atom-uniform", AtomUniform(), 1e-9),
    ("two-bands", TwoBands(), 1e-9),
]


@pytest.mark.parametrize("name,law,tol", TABLE_CASES, ids=[c[0] for c in TABLE_CASES])
def test_cdf_table_matches_closed_form(name, law, tol):
    table = CdfTable(law)
    lo, hi = min(a for a, _ in law.support), max(b for _, b in law.support)
    x = np.concatenate([np.linspace(lo - 0.5, hi + 0.5, 20001),
                        lo + (hi - lo) * np.geomspace(1e-13, 1e-2, 400),
                        hi - (hi - lo) * np.geomspace(1e-13, 1e-2, 400), [0.0, -1e-300]])
    err = np.max(np.abs(table(x) - law.cdf(x)))
    assert err < tol, err
    assert table.error < tol


# ------------------------------------------------------------------ KS
def test_ks_equals_scipy_kstest_on_iid_samples():
    law = Beta23()
    sample = stats.beta(2, 3).rvs(size=700, random_state=np.random.default_rng(1))
    ref = stats.kstest(sample, law.cdf).statistic
    c = compare(sample, law, moments=2, floor=None)
    assert c.ks == pytest.approx(ref, abs=1e-7)           # the tabulated CDF: 1e-7
    # also with the exact CDF passed directly
    assert ks_distance(sample, law.cdf)[0] == pytest.approx(ref, abs=1e-14)


def _brute_force_sup(sample, cdf, delta=1e-9):
    s = np.sort(sample)
    pts = np.concatenate([s, s - delta, [0.0, -delta, s[-1] + 1, s[0] - 1]])
    fn = np.searchsorted(s, pts, side="right") / s.size
    return float(np.max(np.abs(fn - cdf(pts))))


def test_ks_with_an_atom_at_zero_is_the_true_supremum():
    law = AtomUniform(0.3)
    rng = np.random.default_rng(7)
    # 25 % zeros (the law has 30 %), some round-off negatives, the rest uniform on [1, 2]
    zeros = np.concatenate([np.zeros(40), -1e-17 * rng.random(10)])
    sample = np.concatenate([zeros, 1 + rng.random(150)])
    ks, at = ks_distance(np.where(sample < 1e-12, 0.0, sample), law.cdf, atom=0.3, floor=1e-12)
    ref = _brute_force_sup(np.where(sample < 1e-12, 0.0, sample), law.cdf)
    assert ks == pytest.approx(ref, abs=1e-8)
    c = compare(sample, law, moments=0)
    assert c.ks == pytest.approx(ref, abs=1e-8)
    assert c.atom_sample == pytest.approx(0.25) and c.atom_theory == 0.3
    # the sample's zeros exactly at the law's atom mass: no spurious jump of size 'atom' at 0
    exact = np.concatenate([np.zeros(60), 1 + (np.arange(140) + 0.5) / 140])
    assert compare(exact, law, moments=0).ks < 0.01


def test_ks_and_w1_across_a_gap_in_the_support():
    rng = np.random.default_rng(9)
    u = rng.random(300)
    sample = np.where(u < 0.5, 1 + 2 * u, 3 + 2 * (u - 0.5))      # iid from TwoBands
    law = TwoBands()
    c = compare(sample, law, moments=2)
    assert c.ks == pytest.approx(stats.kstest(sample, law.cdf).statistic, abs=1e-9)
    # W1 by brute force on a fine grid
    x = np.linspace(0.5, 4.5, 400001)
    fn = np.searchsorted(np.sort(sample), x, side="right") / sample.size
    ref = np.trapezoid(np.abs(fn - law.cdf(x)), x) if hasattr(np, "trapezoid") else np.trapz(np.abs(fn - law.cdf(x)), x)
    assert c.w1 == pytest.approx(ref, abs=2e-5)
    assert c.moments_theory == pytest.approx([2.5, 0.5 * (7 / 3 + 37 / 3)])


def test_a_sample_carrying_its_floor():
    class Sample(np.ndarray):
        pass

    law = Power(1 / 3)
    raw = np.random.default_rng(4).random(200) ** 3
    s = raw.view(Sample)
    s.floor = 1e-3
    c = compare(s, law, moments=0)
    assert c.floor == 1e-3
    assert c.ks == pytest.approx(compare(raw, law, moments=0, floor=1e-3).ks)


def test_floor_lumps_unresolved_values():
    law = Power(1 / 3)
    rng = np.random.default_rng(3)
    sample = rng.random(400) ** 3                 # iid from the law: F(x) = x^(1/3)
    sample[sample < 1e-9] = 1e-20                 # below the floor: unresolved
    c = compare(sample, law, moments=0, floor=1e-9)
    ref = stats.kstest(np.maximum(sample, 1e-9), law.cdf).statistic
    assert c.ks <= ref + 1e-9


# ------------------------------------------------------------------ W1
def _w1_uniform_exact(sample):
    """int |F_N(x) - clip(x, 0, 1)| dx, exactly, piece by piece."""
    s = np.sort(sample)
    n = s.size
    pts = np.unique(np.concatenate([s, [0.0, 1.0]]))
    lo_all = min(pts[0], 0.0)
    total = 0.0
    # left of everything F_N = 0 = F; right of everything both are 1
    for u, v in zip(pts[:-1], pts[1:]):
        cst = np.searchsorted(s, u, side="right") / n
        # F(x) = 0 on (u, v) ∩ (-inf, 0), x on ∩ [0, 1], 1 on ∩ (1, inf)
        for a, b, kind in ((u, min(v, 0.0), 0), (max(u, 0.0), min(v, 1.0), 1), (max(u, 1.0), v, 2)):
            if b <= a:
                continue
            if kind == 0:
                total += cst * (b - a)
            elif kind == 2:
                total += (1 - cst) * (b - a)
            else:
                # int_a^b |cst - x| dx
                g = lambda y: 0.5 * (y - cst) * abs(y - cst)
                total += g(b) - g(a)
    assert lo_all <= 0
    return total


def test_w1_exact_for_the_uniform_law():
    rng = np.random.default_rng(5)
    sample = np.concatenate([rng.random(60), [-0.2, 1.3]])
    ref = _w1_uniform_exact(sample)
    c = compare(sample, Uniform01(), moments=1, floor=None)
    assert c.w1 == pytest.approx(ref, abs=1e-9)
    assert w1_distance([0.5], lambda x: np.clip(x, 0, 1), [(0.0, 1.0)]) == pytest.approx(0.25)


def test_w1_matches_scipy_wasserstein_for_marchenko_pastur():
    law = MarchenkoPastur(0.5)
    sample = sample_linear_equivalent(1.0, 0.0, 300, 300, 600, rng=2)
    # the law as a fine weighted grid (cell midpoints with exact CDF increments)
    edges = law.a + (law.b - law.a) * (1 - np.cos(np.pi * np.linspace(0, 1, 50001))) / 2
    weights = np.maximum(np.diff(law.cdf(edges)), 0.0)
    ref = stats.wasserstein_distance(sample, 0.5 * (edges[1:] + edges[:-1]), v_weights=weights)
    c = compare(sample, law, moments=0)
    assert c.w1 == pytest.approx(ref, abs=2e-6)


# ------------------------------------------------------------------ moments, trials, scales
def test_moments_and_their_standard_errors_across_trials():
    rng = np.random.default_rng(8)
    sample = 1 + rng.random((5, 40))                      # 5 trials of 40
    c = compare(sample.ravel(), AtomUniform(0.0), moments=3, trials=5)
    per_trial = np.array([[np.mean(t ** k) for k in (1, 2, 3)] for t in sample])
    assert c.moments_sample == pytest.approx(list(per_trial.mean(0)), rel=1e-13)
    assert c.moment_se == pytest.approx(list(per_trial.std(0, ddof=1) / math.sqrt(5)), rel=1e-12)
    assert c.moments_theory == pytest.approx([1.5, 7 / 3, 15 / 4], rel=1e-14)
    assert (c.n, c.trials, c.size) == (40, 5, 200)
    c2 = compare(sample, AtomUniform(0.0), moments=3)     # a 2-D sample carries its trials
    assert (c2.n, c2.trials) == (40, 5) and c2.moment_se == pytest.approx(c.moment_se)
    assert compare(sample[0], AtomUniform(0.0), moments=2).moment_se is None
    # sorted as a whole, the pooled sample has no trial blocks left: no spread across trials
    lost = compare(np.sort(sample.ravel()), AtomUniform(0.0), moments=2, trials=5)
    assert lost.moment_se is None and lost.ks_split is None and lost.trials == 5


@pytest.mark.parametrize("c_ratio", [0.5, 2.0])
def test_noise_scales_are_calibrated_on_marchenko_pastur(c_ratio):
    """KS and W1 of T=4 pooled MP spectra over their documented scales stay inside the null band
    (both sides: a scale too small or too large fails) and fall like the scales do, ~1/n."""
    law = MarchenkoPastur(c_ratio)
    lo, hi = MP_RATIO_BAND
    ks, scale = {}, {}
    for n1 in (150, 600):
        m = int(n1 / c_ratio)
        ratios = []
        for seed in (1, 2):
            ev = sample_linear_equivalent(1.0, 0.0, n1, n1, m, trials=4, rng=seed)
            cmp = compare(ev, law, moments=2, trials=4)
            assert cmp.atom_sample == pytest.approx(law.atom, abs=1e-12)
            assert lo < cmp.ks_ratio < hi and lo < cmp.w1_ratio < hi, cmp
            ratios.append(cmp.ks)
            scale[n1] = cmp.ks_scale
        ks[n1] = np.mean(ratios)
    fall = (ks[600] / ks[150]) / (scale[600] / scale[150])
    assert lo / hi < fall < hi / lo, fall


def test_table_standard_deviation_is_the_laws():
    # the W1 noise scale uses the law's sd from the CDF table, not from the law's moments
    for law in (MarchenkoPastur(0.5, 1.3), MarchenkoPastur(2.0, 0.7), Power(1 / 3), TwoBands()):
        m1, m2 = law.moments(2)
        assert CdfTable(law).sd == pytest.approx(math.sqrt(m2 - m1 * m1), rel=1e-7)


def test_as_dict_is_json_ready():
    ev = sample_linear_equivalent(1.0, 0.0, 100, 100, 200, trials=2, rng=0)
    c = compare(ev, MarchenkoPastur(0.5), trials=2)
    d = c.as_dict()
    for key in ("ks", "ks_scale", "ks_split", "w1", "w1_scale", "moments_sample", "moments_theory",
                "moment_se", "atom_sample", "atom_theory", "n", "trials", "ks_ratio", "moment_z"):
        assert key in d
    json.dumps(d)
    assert isinstance(c, Comparison) and "ks=" in repr(c)
    assert d["moments_theory"] == pytest.approx([1.0, 1.5, 2.75, 5.625])


@pytest.mark.parametrize("sample,kwargs,match", [
    ([], {}, "empty"),
    ([1.0, np.nan], {}, "non-finite"),
    ([1.0, 2.0, 3.0], {"trials": 2}, "cannot be split"),
    ([1.0, 2.0], {"trials": 0}, "trials must be"),
    (np.ones((2, 2, 2)), {}, "1-D or 2-D"),
    ([1.0], {"moments": -1}, "moments must be"),
])
def test_bad_input_is_refused(sample, kwargs, match):
    with pytest.raises(ValueError, match=match):
        compare(sample, Uniform01(), **kwargs)
