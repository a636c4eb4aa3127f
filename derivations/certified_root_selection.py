"""The identities behind nrmt's certified enclosures (docs/certified.md), checked with sympy.

Run: ``python derivations/certified_root_selection.py`` (each cell asserts; a few seconds).

1. Smith's identity (J. ACM 17 (1970) 661-674): with Weierstrass corrections
   W_i = P(c_i) / prod_{j != i} (c_i - c_j) of a monic P, det(λ I - diag(c) + W 1ᵀ) = P(λ). With
   Gerschgorin's theorem it gives the root inclusion disks |λ - (c_i - W_i)| <= (n-1)|W_i| used by
   nrmt.numerics.certified_density.
2. The Gaussian tail bound of nrmt.numerics.certified_constants.tail_bound: the integral of
   exp(β z - κ z²) over [L, ∞) in closed form.
3. The one-layer quartic (Pennington-Worah 2017, Thm 1, as implemented in
   nrmt.theory.equations.one_layer): real coefficients for real z (conjugate symmetry at real x)
   and exactly one root ~ 1/z at infinity, the one nrmt starts the certified continuation from.
"""

# %% 1. Smith's identity: symbolic for n = 2; for n = 3, 4 symbolic in λ at random rational data
import random

import sympy as sp

lam = sp.Symbol("lambda")


def smith_defect(c, r):
    n = len(c)
    P = sp.prod([lam - ri for ri in r])
    W = [P.subs(lam, c[i]) / sp.prod([c[i] - c[j] for j in range(n) if j != i]) for i in range(n)]
    A = sp.diag(*c) - sp.Matrix(n, n, lambda i, j: W[i])
    # Gerschgorin row i of A: centre c_i - W_i, radius sum_{j != i} |W_i| = (n - 1)|W_i|
    assert all(A[i, i] == c[i] - W[i] for i in range(n))
    return sp.cancel(sp.together((lam * sp.eye(n) - A).det(method="berkowitz") - P))


assert smith_defect(sp.symbols("c1:3"), sp.symbols("r1:3")) == 0
rng = random.Random(2017)
for n in (3, 4):
    for _ in range(4):
        c = [sp.Rational(rng.randint(-50, 50), rng.randint(1, 9)) for _ in range(n)]
        r = [sp.Rational(rng.randint(-50, 50), rng.randint(1, 9)) for _ in range(n)]
        if len(set(c)) == n:
            assert smith_defect(c, r) == 0, (c, r)
print("Smith's identity holds (n = 2 symbolically; n = 3, 4 at random rational data)")

# %% 2. the tail integral: F(L) = closed form has F' = -exp(βL - κL²) and F(∞) = 0
L = sp.Symbol("L", real=True)
beta, kappa = sp.symbols("beta kappa", positive=True)
closed = sp.exp(beta ** 2 / (4 * kappa)) * sp.sqrt(sp.pi / kappa) / 2 * sp.erfc(
    sp.sqrt(kappa) * (L - beta / (2 * kappa)))
assert sp.simplify(sp.diff(closed, L) + sp.exp(beta * L - kappa * L ** 2)) == 0
assert sp.limit(closed, L, sp.oo) == 0
print("tail integral: closed form = integral of exp(beta z - kappa z^2) over [L, oo)")

# %% 3. the quartic: real coefficients, one root ~ 1/z
from nrmt.theory.equations.one_layer import quartic_coefficients  # noqa: E402

Z = sp.Symbol("z")
phi, psi, t1, t2 = sp.symbols("phi psi theta1 theta2", positive=True)
coeffs = [sp.expand(a) for a in quartic_coefficients(Z, phi, psi, t1, t2)]
for a in coeffs:
    poly = sp.Poly(a, Z, phi, psi, t1, t2)
    assert all(q.is_Rational for q in poly.coeffs()), a  # real for real parameters
G = sp.Symbol("G")
u, eps = sp.symbols("u epsilon")
# G = u/z with z = 1/eps: the lowest order in eps fixes u = 1 for the O(1/z) root
quartic = sum(a * G ** (4 - k) for k, a in enumerate(coeffs))
scaled = sp.expand(quartic.subs(G, u * eps).subs(Z, 1 / eps))
lowest = min(sp.Poly(scaled * eps ** 10, eps).monoms())[0] - 10
leading = sp.factor(sp.expand(scaled * eps ** (-lowest)).subs(eps, 0))
assert sp.solve(leading, u) == [1], leading
print("one root ~ 1/z at infinity:", leading, "= 0")
