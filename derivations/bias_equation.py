# %% [markdown]
# # The bias law: a row profile, not the quartic with averaged constants
#
# Model (Piccolo & Schröder, NeurIPS 2021, arXiv:2105.05115): Y = f(WX + b 1ᵀ), b_i iid N(0, σ_b²),
# centred row by row by μ(b_i). Conditionally on b, row i uses the activation f(· + b_i); its
# Gaussian-equivalent linearisation (Stein/Hermite decomposition, checked in §1) is
#
#     f(σξ + β) − μ(β) = c(β) σξ + r_β(ξ),   E[ξ r_β] = 0,   Var r_β = θ1(β) − σ² c(β)²,
#
# so the rows are c(b_i)(WX)_i + s(b_i) Z_i: a *row profile* (β ↦ c², s²). nrmt's bias law solves
# the profile system of ``nrmt.numerics.bias_law`` (the one-layer case of the layers recursion, whose
# constant-profile case is the Pennington–Worah quartic: ``derivations/layers_recursion.py``).
# This script shows with sympy that the profile law is *not* the quartic with averaged constants
# θ̄1 = E θ1(β), θ̄2 = E θ2(β): the first moments agree, the second moments differ by a variance.

# %%
import sympy as sp

x, xi, beta = sp.symbols("x xi beta", real=True)
sigma = sp.symbols("sigma", positive=True)
gauss = sp.exp(-xi ** 2 / 2) / sp.sqrt(2 * sp.pi)


def E(expr):
    """E over xi ~ N(0, 1) of a polynomial in xi, exact: E xi^k = (k-1)!! for even k, else 0."""
    poly = sp.Poly(sp.expand(expr), xi)
    return sp.expand(sum(coef * (sp.factorial2(k - 1) if k % 2 == 0 else 0)
                         for (k,), coef in poly.terms()))


# %% [markdown]
# ## 1. The per-row decomposition (exact, a cubic activation with a shift β)

# %%
a1, a2, a3 = sp.symbols("a1 a2 a3", real=True)
f = a1 * x + a2 * x ** 2 + a3 * x ** 3
pre = sigma * xi + beta
mu = E(f.subs(x, pre))
c = E(sp.diff(f, x).subs(x, pre))
stein = E(xi * f.subs(x, pre))
assert sp.simplify(stein - sigma * c) == 0                      # Stein: E[xi f] = sigma E f'
r = f.subs(x, pre) - mu - c * sigma * xi
assert sp.simplify(E(xi * r)) == 0                               # remainder orthogonal to xi
theta1 = sp.simplify(E(f.subs(x, pre) ** 2) - mu ** 2)
assert sp.simplify(E(r ** 2) - (theta1 - sigma ** 2 * c ** 2)) == 0
print("f(sigma xi + beta) - mu(beta) = c(beta) sigma xi + r, Var r = theta1(beta) - theta2(beta): checked")

# %% [markdown]
# ## 2. First moments agree, second moments differ: the pure-noise profile (c ≡ 0)
# With c = 0 the profile system is Q̄ = (τ − ζ)^{-1}, τ = E s²/(1 + s² e0), e0 = γ m for the
# m×m kernel B = YᵀY/n1 (γ = m/n1; M = YYᵀ/m has the same nonzero spectrum scaled by 1/γ). Expand m(ζ) = −1/ζ − m1/ζ² − m2/ζ³ for a two-point
# profile (s² = u w.p. p, v w.p. 1 − p) and compare with Marchenko–Pastur of scale E s²
# (the "averaged constants" law for θ2 = 0).

# %%
zeta, gam, p, u, v = sp.symbols("zeta gamma p u v", positive=True)
m1, m2 = sp.symbols("m1 m2")
t = sp.symbols("t")                        # t = 1/zeta
m_ser = -t - m1 * t ** 2 - m2 * t ** 3
e0 = gam * m_ser
tau = p * u / (1 + u * e0) + (1 - p) * v / (1 + v * e0)
eq = sp.series(sp.simplify(m_ser * (tau - 1 / t) - 1), t, 0, 3).removeO()
sol = sp.solve([sp.expand(eq).coeff(t, 1), sp.expand(eq).coeff(t, 2)], [m1, m2], dict=True)[0]
Es2 = p * u + (1 - p) * v
Es4 = p * u ** 2 + (1 - p) * v ** 2
assert sp.simplify(sol[m1] - Es2) == 0
assert sp.simplify(sol[m2] - (gam * Es4 + Es2 ** 2)) == 0
m2_averaged = Es2 ** 2 * (1 + gam)         # Marchenko-Pastur, ratio gamma, scale E s^2
gap = sp.factor(sol[m2] - m2_averaged)
assert sp.simplify(gap - gam * p * (1 - p) * (u - v) ** 2) == 0
print("kernel B = Y^T Y/n1: profile m2 = gamma E s^4 + (E s^2)^2; averaged: (E s^2)^2 (1 + gamma)")
print("difference = gamma Var(s^2) =", gap, ">= 0, zero iff the profile is constant")

# %% [markdown]
# ## 3. Consequence
# The quartic with averaged constants has the right mean but too small a spread whenever θ1(β)
# varies with β — for every non-constant activation and σ_b > 0. Monte Carlo (tests/test_bias.py,
# docs/bias-layers.md) agrees with the profile law (KS ≈ 0.005 for tanh, σ_b = 1) and rejects the
# averaged quartic (KS ≈ 0.015 on the same samples).
