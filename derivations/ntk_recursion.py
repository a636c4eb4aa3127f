# %% [markdown]
# # The Fan–Wang recursion for the CK and the NTK: what it reduces to
#
# ``nrmt.theory.equations.ntk`` solves the law of K = r I + Σ_{ℓ<L} q_ℓ X_ℓᵀX_ℓ + X_LᵀX_L
# (CK: r = 0, q = 0; NTK: Fan & Wang's r₊ and q_ℓ = b^{2(L−ℓ)}, NeurIPS 2020, arXiv:2005.11879)
# through the unknowns s_L … s_1 (each layer's X_lᵀX_l replaced by Σ_l/s_l, Σ_l = (1 − b²) I +
# b² X_{l−1}ᵀX_{l−1}). This script runs the same functions on sympy symbols and checks:
#
# 1. at one layer the CK step is Silverstein's equation for MP_γ ⊠ ν, ν = (1 − b²) + b² μ0,
#    m(z) = ∫ dν(y)/(y (1 − γ − γ z m) − z), with 1/s = 1 − γ − γ z m (Silverstein & Bai 1995);
# 2. the large-z expansion of the recursion gives the NTK's mean 1 + a + … + a^L (depth 1 and 2;
#    input law of mean 1), i.e. Fan & Wang's r₊ and q_ℓ are consistent with the trace of the NTK;
# 3. the CK's second moment ν2 + γ ν1² of MP_γ ⊠ ν (free multiplicative convolution).

# %%
import sympy as sp

from nrmt.theory.equations import ntk as eq

z, s, b2, g0, g1, a, mu2 = sp.symbols("z s b2 gamma0 gamma1 a mu2")
M = sp.Function("M")          # Stieltjes transform of the input law mu_0

# %% [markdown]
# ## 1. One CK layer is Silverstein's equation
# With the level vector z' = (−z + (1 − b²)/s, b²/s) the recursion gives m = M(ζ)/z'_1,
# ζ = −z'_0/z'_1, and t_0(z', σ) with σ = (1 − b², b²). Silverstein's form with A = 1/s:
# ∫ dν/(y A − z) = M(ζ')/(b² A), ζ' = (z − (1 − b²) A)/(b² A).

# %%
top = eq.top_vector(z, 1)
levels = eq.descend(top, [s], b2)
zeta = -levels[1][0] / levels[1][1]
m = eq.stieltjes([s], top, b2, M)
A = 1 / s
zeta_silverstein = (z - (1 - b2) * A) / (b2 * A)
assert sp.simplify(zeta - zeta_silverstein) == 0
assert sp.simplify(m - M(zeta) / (b2 * A)) == 0
# the fixed-point equation s = 1 + gamma t_0 is s (1 - gamma - gamma z m) = 1: t_0 = s + z s m
t0 = eq.trace_functional(levels, 0, [1 - b2, b2], M)
assert sp.simplify(sp.expand(t0 - (s + z * s * m))) == 0
res = eq.residual([s], top, [g0, g1], b2, M)[0]
assert sp.simplify(res - (s * (1 - g1 - g1 * z * m) - 1)) == 0
print("1. one CK layer = Silverstein's equation for MP(gamma) ⊠ ((1 - b^2) + b^2 mu_0)")

# %% [markdown]
# ## 2.–3. Moments from the large-z expansion
# z = 1/u and every quantity a truncated Laurent series in u (exact coefficients): the recursion's
# functions use only + − × ÷, so they run on these series unchanged. The unknowns s_l are found
# by iterating s_l ← 1/z_{l+1} + γ_l t_{l−1} (each pass fixes one more order, t = O(u)). The
# input law has mean 1 and second moment μ2: M(ζ) = −1/ζ − 1/ζ² − μ2/ζ³ − …, and
# m(z) = −1/z − m1/z² − m2/z³ − ….

# %%
u = sp.symbols("u")
TERMS = 3          # m(z) = -1/z - m1/z^2 - m2/z^3: three terms from u^1


class Laurent:
    """Σ_k c[k] u^(v + k), k < TERMS (relative precision TERMS), exact coefficients."""

    def __init__(self, c, v=0):
        c = [sp.nsimplify(x) if isinstance(x, float) else sp.sympify(x) for x in c][:TERMS]
        while c and c[0] == 0 and len(c) > 1:
            c, v = c[1:], v + 1
        self.c = [sp.cancel(x) for x in c] + [sp.Integer(0)] * (TERMS - len(c))
        self.v = v

    @staticmethod
    def of(x):
        return x if isinstance(x, Laurent) else Laurent([x], 0)

    def __add__(self, o):
        o = Laurent.of(o)
        v = min(self.v, o.v)
        c = [sp.Integer(0)] * TERMS
        for x in (self, o):
            for k, ck in enumerate(x.c):
                if x.v + k - v < TERMS:
                    c[x.v + k - v] += ck
        return Laurent(c, v)

    __radd__ = __add__

    def __neg__(self):
        return Laurent([-x for x in self.c], self.v)

    def __sub__(self, o):
        return self + (-Laurent.of(o))

    def __rsub__(self, o):
        return Laurent.of(o) - self

    def __mul__(self, o):
        o = Laurent.of(o)
        c = [sum((self.c[i] * o.c[k - i] for i in range(k + 1)), sp.Integer(0)) for k in range(TERMS)]
        return Laurent(c, self.v + o.v)

    __rmul__ = __mul__

    def inverse(self):
        if all(x == 0 for x in self.c):
            raise ZeroDivisionError("division by a zero series")
        b = [1 / self.c[0]]
        for k in range(1, TERMS):
            b.append(-sum((self.c[i] * b[k - i] for i in range(1, k + 1)), sp.Integer(0)) / self.c[0])
        return Laurent(b, -self.v)

    def __truediv__(self, o):
        return self * Laurent.of(o).inverse()

    def __rtruediv__(self, o):
        return Laurent.of(o) * self.inverse()

    def __pow__(self, n):
        out = Laurent([1])
        for _ in range(n):
            out = out * self
        return out

    def coeff(self, power):
        k = power - self.v
        return self.c[k] if 0 <= k < TERMS else sp.Integer(0)


def M_series(zeta):
    w = 1 / zeta
    return -(w + w * w + mu2 * w * w * w)


def moments(depth, gammas, r, q, b2_value):
    """m1, m2 of the kernel's law from the recursion (exact series arithmetic)."""
    top = eq.top_vector(Laurent([1], -1), depth, r, q)
    svals = [Laurent([1])] * depth
    for _ in range(TERMS + 2):
        R = eq.residual(svals, top, gammas, b2_value, M_series)
        svals = [sl - rl for sl, rl in zip(svals, R)]
    mz = eq.stieltjes(svals, top, b2_value, M_series)
    return [sp.simplify(-mz.coeff(k + 1)) for k in (1, 2)]


r, q = eq.linearisation(a, b2, 1)
assert sp.simplify(moments(1, [g0, g1], r, q, b2)[0] - (1 + a)) == 0
print("2. depth 1: NTK mean from the recursion = 1 + a (symbolic a, b^2, gamma)")
# deeper: the identity (a polynomial in a) at exact rational points (symbolic is slow in sympy)
for depth in (2, 3):
    for a_val, b2_val in ((sp.Rational(7, 5), sp.Rational(2, 3)), (sp.Rational(3, 2), sp.Rational(1, 4))):
        r, q = eq.linearisation(a_val, b2_val, depth)
        gammas = [sp.Rational(k + 1, 2) for k in range(depth + 1)]
        m1 = moments(depth, gammas, r, q, b2_val)[0]
        assert m1 == sum(a_val ** k for k in range(depth + 1)), (depth, m1)
    print(f"2. depth {depth}: NTK mean from the recursion = 1 + a + ... + a^{depth} (rational points)")

m1, m2 = moments(1, [g0, g1], 0, None, b2)
nu2 = (1 - b2) ** 2 + 2 * (1 - b2) * b2 + b2 ** 2 * mu2
assert sp.simplify(m1 - 1) == 0
assert sp.simplify(m2 - (nu2 + g1)) == 0
print("3. CK second moment = nu2 + gamma nu1^2 (MP ⊠ nu)")
