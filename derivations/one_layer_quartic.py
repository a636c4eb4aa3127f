"""The one-layer quartic from the Pennington-Worah system, its special cases and its moments.

Run: ``python derivations/one_layer_quartic.py`` (each cell asserts; a few seconds).

1. Pennington & Worah (NIPS 2017, Thm 1): G = (ψ/z) P(1/(zψ)) + (1 − ψ)/z with
   P = 1 + (η − ζ) t P_φ P_ψ + P_φ P_ψ t ζ / (1 − P_φ P_ψ t ζ), P_φ = 1 + (P − 1)φ, P_ψ = 1 + (P − 1)ψ.
   Eliminating P and t gives a quartic in G (θ1 = η, θ2 = ζ in Benigni–Péché's notation); it is
   the one nrmt uses (nrmt.theory.equations.one_layer.quartic).
2. Independent route (the working notes' check): Péché's linear equivalent (ECP 2019) is an
   information-plus-noise matrix; the Dozier–Silverstein equation (J. Multivariate Anal. 98 (2007),
   Thm 1.1) m_B(z) = a m_H(a² z − a s² (1 − c)), a = 1 + s² c m_B (c = n1/m = φ/ψ, s² = η − ζ; here
   m = −G), with H the product-Wishart (linear) cubic, gives the same quartic times ψ − φ(η − ζ)G.
3. Special cases: ζ = 0 → Marchenko–Pastur (ratio φ/ψ, scale η); η = ζ → the product-Wishart cubic.
4. Moments from the series of G at infinity: m1..m4, Fuss–Catalan (1, 3, 12, 55) at η = ζ = φ = ψ = 1.
5. The atom at 0: the Puiseux limit of zG(z) at z = 0 is 1 − ψ/φ (φ > ψ, f nonlinear) and 0 (ψ ≥ φ).
"""

# %% 1. Elimination from the published system
import sympy as sp

from nrmt.theory.equations import one_layer as ol

G, z, phi, psi, eta, zeta = ol.G, ol.z, ol.phi, ol.psi, ol.theta1, ol.theta2
P, t = sp.symbols("P t")
Pphi, Ppsi = 1 + (P - 1) * phi, 1 + (P - 1) * psi
eqP = 1 + (eta - zeta) * t * Pphi * Ppsi + Pphi * Ppsi * t * zeta / (1 - Pphi * Ppsi * t * zeta) - P
num = sp.numer(sp.together(eqP.subs(t, 1 / (z * psi)).subs(P, (z * G - 1 + psi) / psi)))
quartic = sp.Poly(sp.expand(num), G)
assert quartic.degree() == 4
Q = ol.quartic()
ratio = sp.cancel(quartic.as_expr() / Q.as_expr())
assert ratio.is_number and ratio != 0
print("quartic = unit *", ratio, "* nrmt's quartic")
a4, a3, a2, a1, a0 = Q.all_coeffs()
assert sp.expand(a4 - phi**2 * zeta * (eta - zeta) * z**2) == 0
assert a0 == -psi**3

# %% 2. Dozier-Silverstein information-plus-noise route from the linear cubic
mB, mH, x = sp.symbols("m_B m_H x")
lin = sp.Poly(ol.equation(phi, psi, zeta, zeta).as_expr(), G)  # cubic of the linear case, in G(z)
c, s2 = phi / psi, eta - zeta
a = 1 + s2 * c * mB
w = a**2 * z - a * s2 * (1 - c)
# m_H(w) = -G_H(w) solves the cubic at w; m_B = a m_H(w) <=> G_H(w) = -m_B / a; G_B = -m_B
cubic_at_w = lin.as_expr().subs(z, w).subs(G, -mB / a)
ds = sp.numer(sp.together(cubic_at_w.subs(mB, -G)))
q = sp.cancel(sp.expand(ds) / Q.as_expr())
assert sp.cancel(q / (psi - phi * (eta - zeta) * G)).is_number  # same quartic times psi - phi s2 G
print("Dozier-Silverstein: quartic times", sp.factor(q))

# %% 3. Special cases
mp = ol.equation(phi, psi, eta, 0)
assert mp.degree() == 2
cc = phi / psi
unit = sp.factor(sp.cancel(mp.as_expr() / (cc * eta * z * G**2 - (z + eta * (cc - 1)) * G + 1)))
assert not unit.has(G) and not unit.has(z) and unit != 0, unit
lin3 = ol.equation(phi, psi, zeta, zeta)
assert lin3.degree() == 3

# %% 4. Moments
m = ol.moments_exact(4)
assert m[0] == eta
assert sp.simplify(m[1] - (eta**2 * (1 + phi / psi) + zeta**2 / psi)) == 0
assert ol.moments_exact(4, 1, 1, 1, 1) == [1, 3, 12, 55]
assert ol.moments_exact(3, sp.Rational(1, 2), 1, 1, 0) == [1, sp.Rational(3, 2), sp.Rational(11, 4)]  # Narayana

# %% 5. The atom: G = u/z + o(1/z) at z = 0
u = sp.Symbol("u")
lead = sp.expand(Q.as_expr().subs(G, u / z) * z**2)
R = sp.Poly(sp.expand(lead.subs(z, 0)), u)
roots = sp.solve(R.as_expr(), u)
assert any(sp.simplify(r - (1 - psi / phi)) == 0 for r in roots), roots
assert 0 in roots
print("candidate atoms (Puiseux):", roots)
