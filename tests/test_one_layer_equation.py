"""The symbolic one-layer equation against independent references.

* the quartic (obtained by sympy elimination of the Pennington-Worah system) equals, up to a unit,
  the coefficients written by hand in the working notes (``shared/theory/one-layer.md`` (b));
* theta2 = 0 gives the Marchenko-Pastur quadratic c eta z G^2 - (z + eta (c - 1)) G + 1 (c = phi/psi);
* theta1 = theta2 gives the product-Wishart cubic of the notes, and at phi = psi = 1 the
  Fuss-Catalan moments 1, 3, 12, 55 and the edge 27/4;
* the moments from the series at infinity equal the notes' m1..m4 and the Narayana polynomials
  when theta2 = 0;
* the discriminant gives the MP edges (1 -+ sqrt c)^2 eta;
* the numeric coefficient function accepts float, complex, numpy, mpf, mpc and python-flint.
"""

import mpmath
import numpy as np
import pytest
import sympy as sp

from nrmt.theory.equations import one_layer as ol
from nrmt.theory.equations.one_layer import G, phi, psi, theta1, theta2, z

eta, zeta = theta1, theta2

# the notes' coefficients, typed in here only to compare
NOTES = [
    phi**2 * zeta * (eta - zeta) * z**2,
    -phi * zeta * z * (psi * z + 2 * (eta - zeta) * (phi - psi)),
    zeta * (eta - zeta) * (phi - psi) ** 2 - psi * z * (eta * phi * psi - 2 * phi * zeta + psi * zeta),
    psi * (psi**2 * z + (eta * psi - zeta) * (phi - psi)),
    -psi**3,
]


def test_quartic_matches_notes_up_to_a_unit():
    got = ol.quartic().all_coeffs()
    assert len(got) == 5
    ratios = {sp.simplify(a / b) for a, b in zip(got, NOTES)}
    assert len(ratios) == 1
    (unit,) = ratios
    assert unit.is_number and unit != 0


def test_pw_system_is_solved_by_the_quartic_root():
    """Numerically: a root of the quartic, put back into the published system, satisfies it."""
    vals = {phi: sp.Rational(1, 2), psi: sp.Rational(3, 2), eta: sp.Rational(2, 5), zeta: sp.Rational(1, 3)}
    zz = sp.Rational(7, 10) + sp.I
    poly = sp.Poly(ol.quartic().as_expr().subs(vals).subs(z, zz), G)
    eqs = ol.pw_system()
    for r in poly.nroots(n=30):
        Pval = (zz * r - 1 + vals[psi]) / vals[psi]
        t = 1 / (zz * vals[psi])
        Pphi = 1 + (Pval - 1) * vals[phi]
        Ppsi = 1 + (Pval - 1) * vals[psi]
        rhs = eqs[1].rhs.subs({sp.Symbol("P_phi"): Pphi, sp.Symbol("P_psi"): Ppsi, ol.t: t}).subs(vals)
        assert abs(complex(sp.N(rhs - Pval, 25))) < 1e-20


def test_degenerate_degrees():
    c_phi, c_psi, e = sp.Rational(2), sp.Rational(1, 2), sp.Rational(3, 2)
    mp_eq = ol.equation(c_phi, c_psi, e, 0)
    assert mp_eq.degree() == 2
    c = c_phi / c_psi
    ref = sp.Poly(c * e * z * G**2 - (z + e * (c - 1)) * G + 1, G)
    ratio = {sp.simplify(a / b) for a, b in zip(mp_eq.all_coeffs(), ref.all_coeffs())}
    assert len(ratio) == 1 and next(iter(ratio)).is_number

    lin = ol.equation(phi, psi, zeta, zeta)
    assert lin.degree() == 3
    cubic = [phi * psi * zeta * z**2, psi * zeta * z * (phi * psi - 2 * phi + psi),
             -psi * (psi**2 * z + zeta * (psi - 1) * (phi - psi)), psi**3]
    ratio = {sp.simplify(a / b) for a, b in zip(lin.all_coeffs(), cubic)}
    assert ratio == {-1}


def test_moments_match_notes_and_special_cases():
    m = ol.moments_exact(4)
    notes = [
        eta,
        eta**2 * (1 + phi / psi) + zeta**2 / psi,
        eta**3 * (1 + 3 * phi / psi + phi**2 / psi**2) + 3 * eta * zeta**2 * (1 / psi + phi / psi**2) + zeta**3 / psi**2,
        eta**4 * (1 + 6 * phi / psi + 6 * phi**2 / psi**2 + phi**3 / psi**3)
        + eta**2 * zeta**2 * (6 / psi + 16 * phi / psi**2 + 6 * phi**2 / psi**3)
        + eta * zeta**3 * (4 / psi**2 + 4 * phi / psi**3)
        + zeta**4 * (2 / psi**2 + (1 + 2 * phi) / psi**3),
    ]
    for a, b in zip(m, notes):
        assert sp.simplify(a - b) == 0
    assert ol.moments_exact(4, 1, 1, 1, 1) == [1, 3, 12, 55]          # Fuss-Catalan
    cc = sp.Rational(1, 3)                                            # Narayana, c = phi/psi
    nar = [1, 1 + cc, 1 + 3 * cc + cc**2, 1 + 6 * cc + 6 * cc**2 + cc**3]
    assert ol.moments_exact(4, cc, 1, 1, 0) == nar
    # free probability: m2 = zeta^2 (1 + phi/psi + 1/psi) for a linear f
    assert sp.simplify(ol.moments_exact(2, phi, psi, zeta, zeta)[1] - zeta**2 * (1 + phi / psi + 1 / psi)) == 0


def test_discriminant_edges():
    d = ol.discriminant_in_z(2, sp.Rational(1, 2), 1, 0)  # c = 4: edges (1 -+ 2)^2 = 1, 9
    roots = set(sp.Poly(d, z).real_roots())
    assert {1, 9} <= roots
    d = ol.discriminant_in_z(1, 1, 1, 1)
    assert sp.Rational(27, 4) in set(sp.Poly(d, z).real_roots())
    assert ol.discriminant_in_z().degree() == 9


def test_exact_constants_give_exact_coefficients():
    t1 = (sp.pi - 1) / (2 * sp.pi)  # ReLU - 1/sqrt(2 pi): theta1 = 1/2 - 1/(2 pi), theta2 = 1/4
    eq = ol.equation(1, sp.Rational(1, 2), t1, sp.Rational(1, 4))
    a4 = sp.factor(eq.coeff_monomial(G**4))
    assert a4.has(sp.pi) and not a4.atoms(sp.Float)


@pytest.mark.parametrize("kind", ["float", "complex", "numpy", "mpf", "mpc", "flint"])
def test_quartic_coefficients_numeric_types(kind):
    args = dict(z=0.7 + 0.2j, phi=0.5, psi=1.5, t1=0.4, t2=0.3)
    ref = [complex(sp.N(c.subs({z: sp.Rational(7, 10) + sp.Rational(1, 5) * sp.I, phi: sp.Rational(1, 2),
                                psi: sp.Rational(3, 2), eta: sp.Rational(2, 5), zeta: sp.Rational(3, 10)})))
           for c in ol.quartic().all_coeffs()]
    if kind == "float":
        zz = 0.7
        ref = [complex(sp.N(c.subs({z: sp.Rational(7, 10), phi: sp.Rational(1, 2), psi: sp.Rational(3, 2),
                                    eta: sp.Rational(2, 5), zeta: sp.Rational(3, 10)}))) for c in ol.quartic().all_coeffs()]
        got = ol.quartic_coefficients(zz, 0.5, 1.5, 0.4, 0.3)
    elif kind == "complex":
        got = ol.quartic_coefficients(args["z"], 0.5, 1.5, 0.4, 0.3)
    elif kind == "numpy":
        got = [np.asarray(v)[1] for v in ol.quartic_coefficients(np.array([0, args["z"]]), 0.5, 1.5, 0.4, 0.3)]
    elif kind == "mpf":
        with mpmath.workdps(30):
            got = ol.quartic_coefficients(mpmath.mpf("0.7"), mpmath.mpf("0.5"), mpmath.mpf("1.5"),
                                          mpmath.mpf("0.4"), mpmath.mpf("0.3"))
        ref = [complex(sp.N(c.subs({z: sp.Rational(7, 10), phi: sp.Rational(1, 2), psi: sp.Rational(3, 2),
                                    eta: sp.Rational(2, 5), zeta: sp.Rational(3, 10)}))) for c in ol.quartic().all_coeffs()]
    elif kind == "mpc":
        got = ol.quartic_coefficients(mpmath.mpc("0.7", "0.2"), 0.5, 1.5, 0.4, 0.3)
    else:
        flint = pytest.importorskip("flint")
        got = ol.quartic_coefficients(flint.acb("0.7", "0.2"), flint.arb("0.5"), flint.arb("1.5"),
                                      flint.arb("0.4"), flint.arb("0.3"))
        got = [complex(float(v.real.mid()), float(v.imag.mid())) for v in got]
    for a, b in zip(got, ref):
        assert abs(complex(a) - b) <= 1e-12 * (1 + abs(b))


def test_atom_exact():
    assert ol.atom_exact(2, 1) == sp.Rational(1, 2)
    assert ol.atom_exact(1, 2) == 0
    assert ol.atom_exact(sp.Rational(1, 2), sp.Rational(1, 4), linear=True) == sp.Rational(3, 4)
    assert ol.atom_exact(2, sp.Rational(1, 2), linear=True) == sp.Rational(3, 4)


# ------------------------------------------------------------------ derive once, evaluate many

def test_generated_module_equals_a_fresh_derivation():
    # the checked-in data against the sympy elimination, discriminant and series run now
    assert sp.expand(ol.quartic().as_expr() - ol.derive_quartic().as_expr()) == 0
    assert sp.expand(ol.discriminant_in_z().as_expr() - ol.derive_discriminant().as_expr()) == 0
    fresh = ol.derive_moments(5)
    assert all(sp.expand(a - b) == 0 for a, b in zip(ol.moments_exact(5), fresh))


def test_series_moments_against_sympy_series_solution():
    # m_1..m_3 by sympy's own series solve of the quartic (independent of series_moments)
    w = sp.Symbol("w")
    ms = sp.symbols("m1:4")
    vals = {phi: sp.Rational(2, 3), psi: sp.Rational(5, 4), eta: sp.Rational(1, 2), zeta: sp.Rational(1, 5)}
    poly = ol.derive_quartic()
    series = w + sum(m * w ** (j + 2) for j, m in enumerate(ms))
    F = sp.Poly(sp.expand(sum(c.subs(vals).subs(z, 1 / w) * series**i for (i,), c in poly.terms()) * w**2), w)
    solved = {}
    for j in range(1, 4):
        solved[ms[j - 1]] = sp.solve(F.coeff_monomial(w ** (j + 2)).subs(solved), ms[j - 1])[0]
    assert ol.moments_exact(3, *vals.values()) == [solved[m] for m in ms]


def test_moments_numeric_at_high_precision_equals_exact():
    from fractions import Fraction

    vals = (Fraction(1, 3), Fraction(7, 2), Fraction(3, 5), Fraction(1, 7))
    exact = ol.moments_numeric(10, *vals)
    with mpmath.workdps(60):
        got = ol.moments_numeric(10, *(mpmath.mpf(v.numerator) / v.denominator for v in vals))
        for a, b in zip(got, exact):
            assert abs(a - mpmath.mpf(b.numerator) / b.denominator) <= mpmath.mpf(10) ** -55 * abs(a)


def test_flint_root_isolation_matches_closed_form_edges():
    # Marchenko-Pastur through the one-layer equation: theta2 = 0, ratio c = phi/psi, scale eta;
    # edges eta (1 -+ sqrt c)^2 at 60 digits from FLINT's isolation of the discriminant
    from nrmt.numerics.algebraic import _real_roots

    ph, ps, e = sp.Rational(3, 2), sp.Rational(1, 2), sp.Rational(2, 7)
    d = ol.discriminant_in_z(ph, ps, e, 0)
    den = sp.ilcm(*[c.q for c in d.all_coeffs()])
    import flint

    poly = flint.fmpz_poly([int(c * den) for c in reversed(d.all_coeffs())])
    roots = sorted(r for r in _real_roots(poly, 60) if r != 0)
    c = ph / ps
    with mpmath.workdps(70):
        ref = [mpmath.mpf(sp.N(e * (1 - sp.sqrt(c)) ** 2, 70)), mpmath.mpf(sp.N(e * (1 + sp.sqrt(c)) ** 2, 70))]
        assert len(roots) == 2
        for r, x in zip(roots, ref):
            assert abs(r - x) <= mpmath.mpf(10) ** -60 * x
