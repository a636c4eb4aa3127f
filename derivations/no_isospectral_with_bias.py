# %% [markdown]
# # No non-constant activation is isospectral with a Gaussian bias
#
# Piccolo & Schröder (NeurIPS 2021, arXiv:2105.05115) state the key finding: with an additive
# rank-one Gaussian bias no activation preserves the layer-to-layer singular-value distribution.
# In nrmt's row-profile form (``nrmt.numerics.bias_law``) the rows of the Gaussian equivalent are
# c(b_i)(WX)_i + s(b_i) Z_i, so the law is Marchenko–Pastur iff
#
# * (ISO-b1) c(β) = E f'(σξ + β) = 0 for (almost) every β, and
# * (ISO-b2) θ1(β) is constant.
#
# The argument: c(β) = d/dβ (γ_σ * f)(β) with γ_σ the N(0, σ²) density. (ISO-b1) makes γ_σ * f
# constant; its Fourier transform is γ̂_σ(k) f̂(k) = e^{-σ²k²/2} f̂(k), supported at k = 0 only,
# and e^{-σ²k²/2} never vanishes, so f̂ is supported at 0: f is a polynomial (tempered
# distribution with point support); then γ_σ * f constant forces f constant (shown exactly below for
# polynomials of any degree), and θ1 ≡ 0. This script checks each step with sympy.

# %%
import sympy as sp

x, beta, k, xi = sp.symbols("x beta k xi", real=True)
sigma = sp.symbols("sigma", positive=True)
gauss = sp.exp(-xi ** 2 / 2) / sp.sqrt(2 * sp.pi)


def E(expr):
    """E over xi ~ N(0, 1) of a polynomial in xi, exact: E xi^k = (k-1)!! for even k, else 0."""
    poly = sp.Poly(sp.expand(expr), xi)
    return sp.expand(sum(coef * (sp.factorial2(k - 1) if k % 2 == 0 else 0)
                         for (k,), coef in poly.terms()))


# %% [markdown]
# ## 1. c(β) is the derivative of the smoothed activation: d/dβ E f(σξ+β) = E f'(σξ+β)

# %%
for f in (x ** 3 - x, x ** 4 + 2 * x):
    lhs = sp.diff(E(f.subs(x, sigma * xi + beta)), beta)
    rhs = E(sp.diff(f, x).subs(x, sigma * xi + beta))
    assert sp.simplify(lhs - rhs) == 0, f
print("d/dbeta E f(sigma xi + beta) = E f'(sigma xi + beta): checked")

# %% [markdown]
# ## 2. The Gaussian kernel's Fourier transform never vanishes

# %%
ft = sp.fourier_transform(sp.exp(-x ** 2 / (2 * sigma ** 2)) / sp.sqrt(2 * sp.pi * sigma ** 2), x, k)
ft = sp.simplify(ft)
assert ft.is_positive is True or sp.simplify(ft - sp.exp(-2 * sp.pi ** 2 * sigma ** 2 * k ** 2)) == 0
print("Fourier transform of the N(0, sigma^2) density:", ft, "> 0 for every k")

# %% [markdown]
# ## 3. A polynomial with E f'(σξ+β) ≡ 0 in β is constant (any degree; here up to 6)
# c(β) is a polynomial in β whose leading coefficient is n·a_n: all a_n (n ≥ 1) vanish.

# %%
for degree in range(1, 7):
    a = sp.symbols(f"a0:{degree + 1}")
    f = sum(a[j] * x ** j for j in range(degree + 1))
    c = sp.expand(E(sp.diff(f, x).subs(x, sigma * xi + beta)))
    eqs = sp.Poly(c, beta).coeffs()
    sol = sp.solve(eqs, a[1:], dict=True)
    assert sol == [{a[j]: 0 for j in range(1, degree + 1)}], (degree, sol)
print("polynomials up to degree 6: c(beta) = 0 for all beta forces f constant")

# %% [markdown]
# ## 4. Without bias one condition is enough: even activations have θ2 = 0 (e.g. |x|),
# but the same |x| has c(β) = erf(β/(σ√2)) ≠ 0 for β ≠ 0 — exact, from nrmt's bias constants.

# %%
from nrmt.theory.bias import BETA, bias_functions, slope_curve

fs = bias_functions("abs(x)", sigma=sigma)
assert sp.simplify(fs["slope"] - sp.erf(BETA / (sp.sqrt(2) * sigma))) == 0
assert fs["slope"].subs(BETA, 0) == 0
grid = [-2, -1, -0.5, 0.5, 1, 2]
values = slope_curve("abs(x)", grid, sigma=1, dps=20)
assert all(abs(v) > 0.3 for v in values)
print("|x|: c(beta) =", fs["slope"], "; on the grid", [f"{float(v):.4f}" for v in values])

# %% [markdown]
# ## 5. (ISO-b2) alone is not the obstacle: θ1(β) for |x| is 1·(σ² + β²) − μ(β)², non-constant too

# %%
t1 = sp.simplify(fs["theta1"].subs(sigma, 1))
assert sp.simplify(sp.diff(t1, BETA).subs(BETA, 1)) != 0
print("theta1(beta) of |x| at sigma = 1:", t1)
