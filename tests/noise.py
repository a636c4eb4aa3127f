r"""Monte Carlo tolerances of the test suite, in units of :func:`nrmt.numerics.compare.compare`'s
noise scales — never hand-set constants.

A Monte Carlo test draws a sample with a fixed seed, so it is deterministic; what can be chosen is
the probability that a *correct* code fails at a seed drawn at random (any change to a sampler
draws new numbers, so that is the chance a correct change turns the suite red). Every bound here
is set for a false-alarm probability of at most :data:`ALPHA` per check.

Distances (KS). ``compare`` gives two scales for the KS distance of ``trials`` pooled matrices:
``ks_scale`` = 1.2 √(log n₊)/(n √T), the rigidity scale of one random matrix plus its O(1/n)
finite-size bias, and ``ks_split`` (T ≥ 2), half the two-sample KS between the two halves of the
trials, a data-driven estimate of everything that varies from trial to trial. For Gram matrices of
one or several layers (with or without bias) the rigidity scale dominates; deep Jacobians also
carry fluctuations of order 1/√N common to a whole matrix (the layer variances q_l of a finite
network and, for ReLU-like f, the number of active units are random), which only ``ks_split``
sees. The noise of a comparison is therefore :func:`ks_noise` = max(``ks_scale``, ``ks_split``),
and agreement means ``ks < bound * ks_noise``.

The bounds come from the null distribution of ``ks / ks_noise``, measured by
``benchmarks/noise_null.py`` over 200 seeds for every kind of sample the tests draw (same models,
sizes and trials; the law right). Measured (mean, q99, max over 200 seeds):

* Marchenko–Pastur, c = 0.5 and 2, n = 150 and 600, T = 4: mean 1.0, q99 1.37, max 1.50;
* one layer (tanh, centred ReLU, x²/2 + x at T = 1; ReLU with atom, |x| at T = 2): mean 0.9–1.7,
  q99 1.25–2.25, max 1.47–2.41;
* several layers (tanh 2, ReLU 3; n0 = 300, T = 2): mean 1.1–2.1, q99 1.44–2.82, max 1.48–2.89;
* bias (tanh, σb = 1, n0 = 400, T = 2): mean 1.14, q99 2.13, max 2.55;
* Jacobians, tanh L = 4 and 16, N = 200, T = 2: mean 1.1–1.2, q99 2.50–2.88, max 2.78–3.26;
* Jacobian, ReLU L = 1 (continuous part given the observed atom), T = 2: mean 0.71, max 2.47;
* Jacobian, Haar-orthogonal weights, tanh L = 4, T = 2: mean 1.20, q99 3.31, max 4.44.

The upper tails fall off by a decade of probability per 0.2–0.3 (Gram) and 0.8–1.3 (Jacobian:
``ks_split`` from one trial against another is itself noisy) of the ratio beyond the q99.
Extrapolating those tails, :data:`KS_NOISE_MAX` = 4 (Gram matrices) and
:data:`KS_NOISE_MAX_JACOBIAN` = 5 are exceeded by a right law with probability below
:data:`ALPHA` for every kind (the worst, Haar-orthogonal weights: ~5e-4). Larger models with a heavy
fourth cumulant ((x² − 1)/√2, x³ − 3x) have an O(1/n) bias of ~4 scales that does not shrink
relative to the scale: their law is right, their samplers slow; the tests use milder activations
for the same features (|x| for θ2 = 0).
A wrong law must land *outside* the same band (:func:`assert_ks_disagrees`), so a check is
two-sided; for ReLU/hard-tanh Jacobians deeper than 1 the continuous part near 0 is thinned by
the rank deficit beyond the noise (null ratios 2–6), and their tests compare moments instead.

Moments. ``moment_se`` is the spread across trials; the sample moments also carry an O(1/n)
finite-size bias that it does not contain (the docs' "compare moments at two sizes"). Two sizes
remove it: with samples at n and 2n, ``2 m(2n) − m(n)`` has bias O(1/n²) and standard error
``sqrt(4 se(2n)² + se(n)²)``; the z-values of :func:`extrapolated_moment_z` are then Student-t
distributed, and the bound :func:`z_bound` is the t quantile for :data:`ALPHA` (two-sided, split
over the moments checked; Welch–Satterthwaite degrees of freedom).

Atoms of deep Jacobians (ReLU, hard-tanh). The rank of :math:`J = D_L W_L \cdots D_1 W_1` is
min_l rank D_l, and rank D_l = N − Z_l with Z_l ~ Binomial(N, p) independent (the signs of
:math:`W x` given x are iid for Gaussian W): the finite-N atom is max_l Z_l / N exactly, whose law
:func:`jacobian_atom_law` computes. It exceeds the limit p by O(√(log L / N)) (deep.md, pitfall 2);
the sample's atom is tested against that law, and the continuous part against the limit law with
that atom (:class:`AtomAt`).
"""

import math

import numpy as np
from scipy import stats

__all__ = ["ALPHA", "KS_NOISE_MAX", "KS_NOISE_MAX_JACOBIAN", "MP_RATIO_BAND", "ks_noise",
           "ks_in_noise", "assert_ks_agrees", "assert_ks_disagrees", "z_bound",
           "extrapolated_moment_z", "assert_moments_agree", "jacobian_trials", "jacobian_atom_law",
           "AtomAt"]

#: false-alarm probability per check, at a seed drawn at random, for a correct code
ALPHA = 1e-3
#: agreement bound for ks / ks_noise, Gram matrices (null maximum 2.89 over 2 400 comparisons)
KS_NOISE_MAX = 4.0
#: agreement bound for ks / ks_noise, Jacobians (null maximum 4.44 over 800 comparisons)
KS_NOISE_MAX_JACOBIAN = 5.0
#: null band of ks / ks_scale and w1 / w1_scale for Marchenko-Pastur samples, the calibration of
#: the documented scales themselves (benchmarks/noise_null.py: 0.55 to 1.50 over 800 comparisons,
#: sd 0.15)
MP_RATIO_BAND = (0.3, 2.5)


def ks_noise(c):
    """The KS noise of a :class:`~nrmt.numerics.compare.Comparison`: max(ks_scale, ks_split)."""
    return max(c.ks_scale, c.ks_split or 0.0)


def ks_in_noise(c):
    """KS in units of :func:`ks_noise`."""
    return c.ks / ks_noise(c)


def assert_ks_agrees(c, *context, bound=KS_NOISE_MAX):
    assert c.ks < bound * ks_noise(c), (context, ks_in_noise(c), c)


def assert_ks_disagrees(c, *context, bound=KS_NOISE_MAX):
    """A wrong law: the distance is outside the band a right one stays in."""
    assert c.ks > bound * ks_noise(c), (context, ks_in_noise(c), c)


def z_bound(dof, checks=1, alpha=ALPHA):
    """Two-sided Student-t bound for ``checks`` z-values with ``dof`` degrees of freedom."""
    return float(stats.t.isf(alpha / (2 * checks), dof))


def extrapolated_moment_z(small, large, theory):
    """z-values of the moments extrapolated from sizes n (``small``) and 2n (``large``).

    ``small`` and ``large`` are Comparisons with ``moment_se`` (T >= 2); ``theory`` the law's
    moments. Returns (z, dof): ``(2 m(2n) - m(n) - theory) / sqrt(4 se(2n)^2 + se(n)^2)`` and the
    Welch–Satterthwaite degrees of freedom (the smallest over the moments).
    """
    z, dofs = [], []
    for k, th in enumerate(theory):
        a, b = 4 * large.moment_se[k] ** 2, small.moment_se[k] ** 2
        se = math.sqrt(a + b)
        m = 2 * large.moments_sample[k] - small.moments_sample[k]
        z.append((m - float(th)) / se if se > 0 else (0.0 if m == float(th) else math.inf))
        den = a * a / (large.trials - 1) + b * b / (small.trials - 1)
        dofs.append((a + b) ** 2 / den if den > 0 else large.trials + small.trials - 2)
    return z, min(dofs)


def assert_moments_agree(small, large, theory, *context):
    z, dof = extrapolated_moment_z(small, large, theory)
    bound = z_bound(dof, checks=len(z))
    assert all(abs(v) < bound for v in z), (context, z, bound)
    return z


def jacobian_trials(model, n, trials, rng, entries="gaussian"):
    """Jacobian spectra of ``trials`` networks of width ``n``, shape (trials, n), and the float64
    floor below which values are not resolved (pass it to ``compare(..., floor=floor)``)."""
    s = model.sample(n, entries=entries, trials=trials, rng=rng)
    return np.asarray(s.values).reshape(trials, n), s.floor


def jacobian_atom_law(n, p, depth):
    """Mean and standard deviation of the finite-N atom max_l Z_l / N, Z_l ~ Bin(N, p) iid."""
    k = np.arange(n + 1)
    cdf = stats.binom.cdf(k, n, p) ** depth            # P(max_l Z_l <= k)
    pmf = np.diff(np.concatenate([[0.0], cdf]))
    mean = float(np.sum(pmf * k) / n)
    sd = float(math.sqrt(max(np.sum(pmf * (k / n) ** 2) - mean ** 2, 0.0)))
    return mean, sd


class AtomAt:
    """A Jacobian law with its atom moved to ``atom`` (the continuous part rescaled to 1 − atom),
    in the form :func:`nrmt.numerics.compare.compare` takes (``cdf_table_float``)."""

    def __init__(self, law, atom):
        self._table = law.cdf_table_float()
        self.atom = float(atom)
        self.support = self._table.support
        self.nodes = self._table.nodes
        self.continuous_mass = 1.0 - self.atom
        self.error = self._table.error
        self.moments = law.moments

    def cdf_table_float(self, cells=None):
        return self

    def __call__(self, x):
        x = np.asarray(x, dtype=float)
        a0 = self._table.atom
        cont = (self._table(x) - a0) / (1.0 - a0)
        return np.where(x >= 0, self.atom + (1.0 - self.atom) * cont, 0.0)
