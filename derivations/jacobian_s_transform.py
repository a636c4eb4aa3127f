# %% [markdown]
# # The S-transform of a deep Jacobian and the moments of J Jᵀ
#
# Pennington, Schoenholz & Ganguli (2017, arXiv:1711.04735; 2018, arXiv:1802.09979):
# for J = D_L W_L ⋯ D_1 W_1 the eigenvalue law of J Jᵀ is the free multiplicative convolution of the
# laws of D_l² and W_l W_lᵀ, so S_{JJᵀ} = ∏_l S_{D_l²} S_{W_l W_lᵀ} (Voiculescu; Nica–Speicher
# 2006, Lecture 18). Pastur (2020) and Pastur–Slavin (2020) prove it for Gaussian and iid weights.
# This script derives, with sympy, what nrmt uses and asserts every identity.

# %%
import sympy as sp

from nrmt.numerics.free import free_product_moments, moments_from_s_series, s_series
from nrmt.theory.equations.jacobian import (SIGMA_W2, W, Z, chi_from_moments, fuss_catalan,
                                            moments_exact, moments_from_s, s_from_moments,
                                            variance_exact)

K = 6

# %% [markdown]
# ## 1. S-transform of W Wᵀ from its moments
# Square iid W with entry variance σw²/N: W Wᵀ → σw² · MP(1), moments σw^{2k} · Catalan(k).
# Definition: ψ(z) = Σ m_k z^k, χ = ψ^{-1}, S(w) = χ(w)(1+w)/w.

# %%
catalan = [sp.catalan(k) * SIGMA_W2 ** k for k in range(1, K + 1)]
S_iid = s_from_moments(catalan, K - 1)
target = sp.series(1 / (SIGMA_W2 * (1 + W)), W, 0, K).removeO()
assert sp.expand(S_iid - target) == 0
print("S_{WW^T}(w) =", sp.simplify(target), "+ O(w^%d)  (iid)" % K)

# Haar-orthogonal W scaled by σw: W Wᵀ = σw² I, moments σw^{2k}: S = 1/σw² exactly
S_orth = s_from_moments([SIGMA_W2 ** k for k in range(1, K + 1)], K - 1)
assert sp.simplify(S_orth - 1 / SIGMA_W2) == 0

# %% [markdown]
# ## 2. Moments from S by Lagrange inversion
# χ(w) = w S(w)/(1+w) ⇒ m_n = (1/n) [w^{n-1}] ((1+w)/S(w))^n.  Check it on MP(1) and against the
# direct series reversion used by the numerics (nrmt.numerics.free, generic arithmetic).

# %%
assert moments_from_s(1 / (1 + W), K) == [sp.catalan(k) for k in range(1, K + 1)]
mu = sp.symbols("mu1:5", positive=True)
S_D = s_from_moments(list(mu), 3)
lag = moments_from_s(S_D, 4)
assert all(sp.simplify(a - b) == 0 for a, b in zip(lag, mu))
ser = moments_from_s_series(s_series(list(mu)))
assert all(sp.simplify(a - b) == 0 for a, b in zip(ser, mu))
# χ's coefficients: c_1 = 1/m1, c_2 = -m2/m1^3
c = chi_from_moments(list(mu), 2)
assert sp.simplify(c[0] - 1 / mu[0]) == 0 and sp.simplify(c[1] + mu[1] / mu[0] ** 3) == 0

# %% [markdown]
# ## 3. Linear network: Fuss–Catalan numbers
# f(x) = x, σw = 1: S = (1+w)^{-L}, m_n = (1/n)[w^{n-1}](1+w)^{n(L+1)} = C((L+1)n, n)/(Ln+1).

# %%
for L in range(1, 6):
    m = moments_from_s((1 + W) ** (-L), 5)
    assert m == [fuss_catalan(L, n) for n in range(1, 6)]
    # the Lagrange coefficient in closed form equals the Fuss-Catalan number for each n
    for nn in range(1, 6):
        assert sp.binomial(nn * (L + 1), nn - 1) / nn == fuss_catalan(L, nn)
print("Fuss-Catalan, L = 3:", [fuss_catalan(3, k) for k in range(1, 6)])

# %% [markdown]
# ## 4. Mean and variance of J Jᵀ
# m1 = ∏ χ_l with χ_l = σw² E λ_l; m2/m1² − 1 = Σ_l (μ_{l,2}/μ_{l,1}² − 1 + κ), κ = 1 (iid), 0
# (orthogonal): linear growth in L at criticality (PSG 2018).

# %%
L = 3
for weights in ("iid", "orthogonal"):
    m = moments_exact(2, L, weights)
    mus = [[sp.Symbol(f"mu_{l}_1", positive=True), sp.Symbol(f"mu_{l}_2", positive=True)]
           for l in range(1, L + 1)]
    mean = sp.prod([SIGMA_W2 * a for a, _ in mus])
    assert sp.simplify(m[0] - mean) == 0
    assert sp.simplify(m[1] - m[0] ** 2 - variance_exact(L, weights)) == 0
print("Var(JJ^T), iid, L = 3:", sp.factor(variance_exact(3, "iid")))

# %% [markdown]
# ## 5. ReLU: λ ∈ {0, 1} with probability 1/2 each, σw² = 2
# ψ_D(u) = u/(2(1−u)) ⇒ u = 2w/(1+2w); the product gives the algebraic equation
# z (1+w)(1+2w)^L = w (degree L+1 in w), and moments m2 = 1 + 2L.

# %%
z, u = sp.symbols("z u")
for L in (1, 2, 4):
    uu = sp.solve(sp.Eq(u / (2 * (1 - u)), W), u)[0]
    chi_J = W / (1 + W) * (uu * (1 + W) / W) ** L * (1 / (2 * (1 + W))) ** L
    assert sp.simplify(chi_J - W / ((1 + W) * (1 + 2 * W) ** L)) == 0
    m = moments_exact(4, L, "iid", 2, [[sp.Rational(1, 2)] * 4])
    assert m[0] == 1 and m[1] == 1 + 2 * L
    # numerics: the same moments from the generic series code with Fractions
    from fractions import Fraction as F
    mp1 = [F(2) ** k * F(sp.catalan(k)) for k in range(1, 5)]
    assert free_product_moments([([F(1, 2)] * 4, L), (mp1, L)], 4) == [F(int(v)) for v in m]
    print(f"ReLU L = {L}: moments", m)
