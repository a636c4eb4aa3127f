"""The Gaussian constants of an activation: Stein's lemma, the Hermite (Parseval) form, ReLU and erf.

Run: ``python derivations/constants_stein_hermite.py`` (each cell asserts; a few seconds).

With Z ~ N(0, 1), φ the standard normal density and σ = σ_w σ_x:

1. Stein's lemma (C. Stein, Ann. Statist. 9 (1981), Lemma 1): E[Z g(Z)] = E[g'(Z)], because
   φ'(z) = −z φ(z) (integration by parts). Hence θ2 = ζ = (σ E f'(σZ))² = (E[Z f(σZ)])² — the form
   nrmt computes, which needs no derivative (ReLU, sign, hardtanh).
2. Probabilists' Hermite polynomials He_k: E[He_j He_k] = k! δ_jk; with c_k = E[f(σZ) He_k(Z)],
   f(σz) = Σ c_k He_k(z)/k! and E f(σZ)² = Σ c_k²/k! (Parseval), so θ1 = Σ_{k≥1} c_k²/k! and
   θ2 = c_1².
3. ReLU: μ = σ/√(2π), E f² = σ²/2, θ2 = σ²/4, θ1 = σ²(π−1)/(2π), c_k = σ φ(0) He_{k−2}(0) (k ≥ 2).
4. erf: E erf(aZ) erf(bZ) = (2/π) asin(2ab/√((1+2a²)(1+2b²))) — the rule that gives erf-type
   activations exact θ1 (E. W. Ng and M. Geller, J. Res. NBS 73B (1969), §4.3).
5. Normalisations: Pennington–Worah (W_ij of variance σ_w²/n0, Y = f(WX)) and Benigni–Péché
   (W_ij of variance σ_w², Y = f(WX/√n0)) feed f the same N(0, σ_w² σ_x²) pre-activation, so their
   constants agree: η = θ1, ζ = θ2.

Every identity is derived here with ``sympy.integrate`` (independently of nrmt's own engine), then
nrmt.theory.constants is checked against it.
"""

# %% 0. set-up: Gaussian expectations by sympy.integrate (the independent reference)
import mpmath
import sympy as sp

z = sp.Symbol("z", real=True)
s = sp.Symbol("sigma", positive=True)
phi = sp.exp(-z ** 2 / 2) / sp.sqrt(2 * sp.pi)


def E(expr, lo=-sp.oo, hi=sp.oo):
    """∫_lo^hi expr(z) φ(z) dz by sympy.integrate."""
    return sp.simplify(sp.integrate(sp.expand(expr * phi), (z, lo, hi)))


assert sp.diff(phi, z) == -z * phi
print("phi'(z) = -z phi(z)")

# %% 1. Stein's lemma E[Z f(σZ)] = σ E f'(σZ) on a family of activations
x = sp.Symbol("x", real=True)
a = sp.Symbol("a", real=True)
for f in (x, x ** 2, x ** 3 - 3 * x, x ** 5, sp.exp(a * x), x * sp.exp(x)):
    lhs = E(z * f.subs(x, s * z))
    rhs = s * E(sp.diff(f, x).subs(x, s * z))
    assert sp.simplify(lhs - rhs) == 0, f
# ReLU (weak derivative Heaviside): both sides on the half line z > 0
lhs = E(z * s * z, 0, sp.oo)
rhs = s * E(sp.Integer(1), 0, sp.oo)
assert sp.simplify(lhs - s / 2) == 0 and sp.simplify(rhs - s / 2) == 0
# sign: E[Z sign(σZ)] = E|Z| = √(2/π) (f' = 2δ: σ E 2δ(σZ) = 2φ(0))
assert sp.simplify(2 * E(z, 0, sp.oo) - sp.sqrt(2 / sp.pi)) == 0
assert sp.simplify(2 * phi.subs(z, 0) - sp.sqrt(2 / sp.pi)) == 0
print("Stein's lemma checked (polynomials, exp, ReLU, sign)")

# %% 2. Hermite: orthogonality, expansion and Parseval
K = 5
He = [sp.hermite_prob(k, z) for k in range(K + 1)]
for j in range(5):
    for k in range(j, 5):
        assert E(He[j] * He[k]) == (sp.factorial(k) if j == k else 0), (j, k)
# a generic cubic with symbolic coefficients, at symbolic σ
b0, b1, b2, b3 = sp.symbols("b0:4", real=True)
f = b0 + b1 * x + b2 * x ** 2 + b3 * x ** 3
fs = f.subs(x, s * z)
c = [E(fs * He[k]) for k in range(K + 1)]
assert sp.expand(sum(c[k] * He[k] / sp.factorial(k) for k in range(K + 1)) - fs) == 0
assert all(ck == 0 for ck in c[4:])
mean, second = E(fs), E(fs ** 2)
theta1 = sp.expand(second - mean ** 2)
assert sp.expand(theta1 - sum(c[k] ** 2 / sp.factorial(k) for k in range(1, K + 1))) == 0  # Parseval
assert sp.expand(E(z * fs) ** 2 - c[1] ** 2) == 0  # θ2 = c_1²
assert sp.expand(theta1 - c[1] ** 2 - sum(c[k] ** 2 / sp.factorial(k) for k in range(2, K + 1))) == 0
# He_3 = x³ − 3x at σ = 1: θ2 = 0, θ1 = 3! = 6
he3 = {b0: 0, b1: -3, b2: 0, b3: 1, s: 1}
assert c[1].subs(he3) == 0 and theta1.subs(he3) == 6
print("Hermite orthogonality, expansion, Parseval and theta2 = c_1^2 checked")

# %% 3. ReLU closed forms and Hermite coefficients
relu_mean = E(s * z, 0, sp.oo)
relu_second = E(s ** 2 * z ** 2, 0, sp.oo)
relu_stein = E(z * s * z, 0, sp.oo)
assert sp.simplify(relu_mean - s / sp.sqrt(2 * sp.pi)) == 0
assert sp.simplify(relu_second - s ** 2 / 2) == 0
assert sp.simplify(relu_stein ** 2 - s ** 2 / 4) == 0
relu_theta1 = sp.simplify(relu_second - relu_mean ** 2)
assert sp.simplify(relu_theta1 - s ** 2 * (sp.pi - 1) / (2 * sp.pi)) == 0
phi0 = 1 / sp.sqrt(2 * sp.pi)
for k in range(2, 8):
    ck = E(s * z * sp.hermite_prob(k, z), 0, sp.oo)
    assert sp.simplify(ck - s * phi0 * sp.hermite_prob(k - 2, 0)) == 0, k
print("ReLU: mu, E f^2, theta1, theta2 and c_k = sigma phi(0) He_{k-2}(0) checked")

# %% 4. erf: E erf(aZ) erf(bZ) = (2/π) asin(2ab/√((1+2a²)(1+2b²)))
# Both sides vanish at a = 0; their a-derivatives agree: d/da of the left side is
# E[(2/√π) Z e^{−a²Z²} erf(bZ)], integrated here by sympy after Stein's lemma under the
# tilted Gaussian e^{−a²z²}φ(z) (variance 1/(1+2a²)).
A, B = sp.symbols("A B", positive=True)
rhs = 2 / sp.pi * sp.asin(2 * A * B / sp.sqrt((1 + 2 * A ** 2) * (1 + 2 * B ** 2)))
tau2 = 1 / (1 + 2 * A ** 2)
# E[Z e^{−A²Z²} erf(BZ)] = √τ² · E_τ[Z erf(BZ)] = √τ² · τ² · E_τ[(2B/√π) e^{−B²Z²}]
gauss_tau = sp.integrate(sp.exp(-B ** 2 * z ** 2) * sp.exp(-z ** 2 / (2 * tau2)) / sp.sqrt(2 * sp.pi * tau2),
                         (z, -sp.oo, sp.oo))
d_lhs = 2 / sp.sqrt(sp.pi) * sp.sqrt(tau2) * tau2 * 2 * B / sp.sqrt(sp.pi) * gauss_tau
assert sp.simplify(sp.radsimp(sp.factor(sp.diff(rhs, A) - d_lhs))) == 0
assert rhs.subs(A, 0) == 0
with mpmath.workdps(40):
    for av, bv in (("0.3", "1.7"), ("1", "1"), ("2.5", "0.2")):
        am, bm = mpmath.mpf(av), mpmath.mpf(bv)
        num = mpmath.quad(lambda t: mpmath.erf(am * t) * mpmath.erf(bm * t) * mpmath.npdf(t),
                          [-mpmath.inf, 0, mpmath.inf])
        exact = rhs.subs({A: sp.Rational(av), B: sp.Rational(bv)})
        assert abs(num - mpmath.mpf(sp.N(exact, 45))) < mpmath.mpf(10) ** -35
# θ1 of erf at scale σ: (2/π) asin(2σ²/(1+2σ²));  θ2 = 4σ²/(π(1+2σ²))
erf_theta1 = rhs.subs({A: s, B: s})
assert sp.simplify(erf_theta1 - 2 / sp.pi * sp.asin(2 * s ** 2 / (1 + 2 * s ** 2))) == 0
erf_stein = E(z * sp.erf(s * z))
assert sp.simplify(erf_stein ** 2 - 4 * s ** 2 / (sp.pi * (1 + 2 * s ** 2))) == 0
print("erf closed forms checked")

# %% 5. PW <-> BP normalisation: the pre-activation variance is σ_w² σ_x² in both models
n0, sw, sx = sp.symbols("n0 sigma_w sigma_x", positive=True)
var_pw = n0 * (sw ** 2 / n0) * sx ** 2            # Σ_k W_ik X_kj, Var W = σ_w²/n0
var_bp = n0 * sw ** 2 * sx ** 2 / n0              # Σ_k W_ik X_kj / √n0, Var W = σ_w²
assert sp.simplify(var_pw - var_bp) == 0 and sp.simplify(var_pw - (sw * sx) ** 2) == 0
print("eta = theta1 and zeta = theta2 (same N(0, sigma_w^2 sigma_x^2) pre-activation)")

# %% 6. nrmt agrees with these derivations (symbolic σ and a free parameter)
from nrmt.theory.constants import constants  # noqa: E402
from nrmt.theory.gaussian import SIGMA  # noqa: E402

to_s = {SIGMA: s}
c_relu = constants("relu", sigma=SIGMA, hermite=6)
assert sp.simplify(c_relu.exact["mean"].xreplace(to_s) - relu_mean) == 0
assert sp.simplify(c_relu.exact["theta1"].xreplace(to_s) - relu_theta1) == 0
assert sp.simplify(c_relu.exact["theta2"].xreplace(to_s) - s ** 2 / 4) == 0
for k in range(2, 7):
    assert sp.simplify(c_relu.exact["hermite"][k].xreplace(to_s) - s * phi0 * sp.hermite_prob(k - 2, 0)) == 0
c_erf = constants("erf", sigma=SIGMA)
assert sp.simplify(c_erf.exact["theta1"].xreplace(to_s) - erf_theta1) == 0
assert sp.simplify(c_erf.exact["theta2"].xreplace(to_s) - erf_stein ** 2) == 0
c_cubic = constants("b0 + b1*x + b2*x**2 + b3*x**3", sigma=SIGMA)
assert sp.expand(c_cubic.exact["theta1"].xreplace(to_s) - theta1) == 0
assert sp.expand(c_cubic.exact["theta2"].xreplace(to_s) - c[1] ** 2) == 0
print("nrmt.theory.constants reproduces every closed form above")
