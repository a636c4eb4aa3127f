# %% [markdown]
# # The several-layer recursion and its reduction to the one-layer quartic
#
# nrmt solves the law of M = (1/m) Y_L Y_Lᵀ through the m×m kernels B_ℓ = Y_ℓᵀY_ℓ/n_ℓ
# (``nrmt.numerics.layers_law``). Conditionally on the layer below, the rows of Y_ℓ are independent
# with (Gaussian-equivalent) covariance Σ(β) = c(β)² K + s(β)² I, K = σ_w² B_{ℓ−1}
# (Fan & Wang, NeurIPS 2020, arXiv:2005.11879, the CK linearisation; bias profile: Piccolo &
# Schröder 2021). The deterministic equivalent of a sum of rank-one terms of covariances Σ(β_i)
# (Wagner–Couillet–Debbah–Slock 2012, Thm. 1) gives, with e0 = tr Q̄/n, e1 = tr K Q̄/n,
#
#     δ = c² e1 + s² e0,  α = E c²/(1+δ),  τ = E s²/(1+δ),  w = (ζ − τ)/α,
#     e0 = (γ/α) m_K(w),  e1 = (γ/α)(1 + w m_K(w)),   G_M(z) = −γ_L e0 + (1 − γ_L)/z  (ζ = γ_L z).
#
# This script checks, with sympy:
# 1. for a constant profile the step is Silverstein's equation for MP_γ ⊠ (s² + c² K), i.e.
#    Fan–Wang's μ_ℓ = MP_γ ⊠ ((1 − b²) + b² μ_{ℓ−1}) with b² = θ2/θ1 after normalising f;
# 2. at L = 1 (K Marchenko–Pastur) the system eliminates to the Pennington–Worah quartic of
#    ``nrmt.theory.equations.one_layer`` with θ1 = c² q + s², θ2 = c² q, φ = 1/γ0, ψ = γ1/γ0;
# 3. θ2 = 0 (c = 0) gives the Marchenko–Pastur equation at any depth.

# %%
import sympy as sp

from nrmt.theory.equations import one_layer as ol

G, z, e0, e1, D, c2, s2, v, g0, g1, m, A = sp.symbols("G z e0 e1 D c2 s2 v gamma0 gamma1 m A")

# %% [markdown]
# ## 1. Constant profile: 1/(1 + δ) is Silverstein's A = 1 − γ − γ ζ m_B
# With Q̄ = (Σ/(1+δ) − ζ)^{-1}: m_B = tr Q̄/m and δ = tr Σ Q̄/n = γ(1+δ)(1 + ζ m_B(…)) —
# the trace identity tr Σ Q̄ = (1+δ)(m + ζ tr Q̄) holds because Σ/(1+δ) Q̄ = I + ζ Q̄.

# %%
Sigma, zeta, delta, gam = sp.symbols("Sigma zeta delta gamma")
Qbar = 1 / (Sigma / (1 + delta) - zeta)              # one eigen-direction
assert sp.simplify(Sigma / (1 + delta) * Qbar - (1 + zeta * Qbar)) == 0
# delta = gamma (1 + delta)(1 + zeta m_B)  =>  1/(1 + delta) = 1 - gamma - gamma zeta m_B
sol = sp.solve(sp.Eq(delta, gam * (1 + delta) * (1 + zeta * m)), delta)[0]
assert sp.simplify(1 / (1 + sol) - (1 - gam - gam * zeta * m)) == 0
print("1/(1 + delta) = 1 - gamma - gamma zeta m_B: checked (Silverstein's equation)")

# Fan-Wang normalisation: sigma_l(u) = f(sqrt(q) u)/sqrt(theta1), b = E sigma_l'(xi)
q, th1, Ef1 = sp.symbols("q theta1 Ef1", positive=True)
b = sp.sqrt(q) * Ef1 / sp.sqrt(th1)
theta2 = (sp.sqrt(q) * Ef1) ** 2
assert sp.simplify(b ** 2 - theta2 / th1) == 0
print("Fan-Wang b^2 = theta2/theta1: checked")

# %% [markdown]
# ## 2. L = 1: eliminate (e0, e1, m_K, D) and compare with the PW quartic

# %%
zt = g1 * z
mK = c2 * e0 / (g1 * D)                              # from e0 = (gamma1/alpha) m_K, alpha = c2/D
w = (zt * D - s2) / c2                               # w = (zeta - tau)/alpha
e1_expr = (g1 * D / c2) * (1 + w * mK)
eq_delta = sp.numer(sp.together(D - (1 + c2 * e1_expr + s2 * e0)))
eq_mp = sp.numer(sp.together(mK * (v * (1 - g0 - g0 * w * mK) - w) - 1))   # K = v MP_{gamma0}
e0_of_G = ((1 - g1) / z - G) / g1                    # G = -gamma1 e0 + (1 - gamma1)/z
eq_delta = sp.numer(sp.together(eq_delta.subs(e0, e0_of_G)))
eq_mp = sp.numer(sp.together(eq_mp.subs(e0, e0_of_G)))
R = sp.resultant(eq_delta, eq_mp, D)

phi, psi = 1 / g0, g1 / g0
quartic = sum(cf * G ** (4 - i)
              for i, cf in enumerate(ol.quartic_coefficients(z, phi, psi, c2 * v + s2, c2 * v)))
quartic = sp.numer(sp.together(quartic))
assert sp.rem(sp.Poly(R, G), sp.Poly(quartic, G)).is_zero
factors = [f for f, _ in sp.factor_list(R)[1] if sp.Poly(f, G).degree() > 0]
assert len(factors) == 1 and sp.Poly(factors[0], G).degree() == 4
print("L = 1: the recursion eliminates to the Pennington-Worah quartic (theta1 = c2 q + s2, "
      "theta2 = c2 q): checked")

# %% [markdown]
# ## 3. θ2 = 0: the layer forgets its input — Marchenko–Pastur of ratio n_L/m, scale θ1 = s²
# With c = 0: Q̄ = (τ − ζ)^{-1}, τ = s²/(1 + s² e0), e0 = γ m: the MP equation
# γ s² ζ m² + (ζ − s²(1 − γ)) m + 1 = 0, whatever the layers below.

# %%
mm = sp.symbols("mm")
tau = s2 / (1 + s2 * g1 * mm)
eq = sp.numer(sp.together(mm * (tau - zt) - 1))
mp_eq = g1 * s2 * zt * mm ** 2 + (zt - s2 * (1 - g1)) * mm + 1
assert sp.rem(sp.Poly(sp.expand(eq), mm), sp.Poly(mp_eq, mm)).is_zero
print("theta2 = 0: Marchenko-Pastur equation: checked")
