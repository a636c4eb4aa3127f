r"""The one-layer law Y = f(WX): the Pennington–Worah system and the quartic it reduces to.

The limiting spectral law of :math:`M = \frac1m YY^\top`, :math:`Y = f(WX)` (W: n1×n0 with entries of
variance σw²/n0, X: n0×m with entries of variance σx², φ = n0/m, ψ = n0/n1, f centred) depends on f
only through :math:`\theta_1 = \eta = E f(\sigma Z)^2` and :math:`\theta_2 = \zeta = (E[Z f(\sigma Z)])^2`
(σ = σw σx). Its Stieltjes transform :math:`G(z) = \int \rho(dt)/(z - t)` solves the system of
Pennington & Worah [PW]_ (Theorem 1), proved for Gaussian W, X; Benigni & Péché [BP]_ extend it to
sub-Gaussian entries with (θ1, θ2) = (η, ζ), Piccolo & Schröder [PS]_ re-derive the same quartic by
the resolvent method, and Péché [P]_ shows the law equals that of the linear model
:math:`\sqrt{\theta_2}\, W_0X_0/\sqrt{n_0} + \sqrt{\theta_1-\theta_2}\, Z`:

.. math::

    G(z) = \frac{\psi}{z} P\!\left(\frac{1}{z\psi}\right) + \frac{1 - \psi}{z}, \qquad
    P = 1 + (\theta_1 - \theta_2)\, t P_\phi P_\psi
          + \frac{P_\phi P_\psi\, t\, \theta_2}{1 - P_\phi P_\psi\, t\, \theta_2},

with :math:`P_\phi = 1 + (P - 1)\phi`, :math:`P_\psi = 1 + (P - 1)\psi`, t = 1/(zψ).
Eliminating P and t (:func:`quartic`, by sympy, not typed in) gives

.. math::  a_4 G^4 + a_3 G^3 + a_2 G^2 + a_1 G + a_0 = 0, \qquad a_0 = -\psi^3,

of degree 4 in G, 3 when θ1 = θ2 (linear f: product Wishart) and 2 when θ2 = 0 (Marchenko–Pastur
with ratio φ/ψ and scale θ1). :func:`discriminant_in_z` gives the candidate support edges and
:func:`moments_exact` the moments from the expansion of G at infinity.

References
----------
.. [PW] J. Pennington and P. Worah, "Nonlinear random matrix theory for deep learning",
   NIPS 2017 (J. Stat. Mech. 2019, 124005), Theorem 1.
.. [BP] L. Benigni and S. Péché, "Eigenvalue distribution of some nonlinear models of random
   matrices", Electron. J. Probab. 26 (2021), Theorem 2.3 (θ1, θ2 notation).
.. [PS] V. Piccolo and D. Schröder, "Analysis of one-hidden-layer neural networks via the resolvent
   method", NeurIPS 2021 (the same quartic; the bias case).
.. [P] S. Péché, "A note on the Pennington–Worah distribution", Electron. Commun. Probab. 24 (2019)
   (the linear equivalent).

Examples
--------
>>> q = quartic()
>>> q.degree()
4
>>> sp.expand(q.coeff_monomial(G**4) - phi**2 * theta2 * (theta1 - theta2) * z**2)
0
>>> moments_exact(2)[1]
phi*theta1**2/psi + theta1**2 + theta2**2/psi
"""

import functools

import sympy as sp

__all__ = [
    "G", "z", "phi", "psi", "theta1", "theta2", "P", "t",
    "pw_system", "quartic", "equation", "quartic_coefficients", "discriminant_in_z",
    "moments_exact", "atom_exact",
]

G, z, P, t = sp.symbols("G z P t")
phi, psi = sp.symbols("phi psi", positive=True)
theta1, theta2 = sp.symbols("theta1 theta2", nonnegative=True)


def pw_system():
    """The published self-consistent system of [PW]_ Theorem 1, as a list of sympy equations.

    Unknowns: G (the Stieltjes transform at z), P (the generating function at t = 1/(zψ)),
    P_φ, P_ψ; parameters φ, ψ, θ1 = η, θ2 = ζ.

    >>> [str(e.lhs) for e in pw_system()]
    ['G', 'P', 'P_phi', 'P_psi', 't']
    """
    Pphi, Ppsi = sp.symbols("P_phi P_psi")
    return [
        sp.Eq(G, psi / z * P + (1 - psi) / z),
        sp.Eq(P, 1 + (theta1 - theta2) * t * Pphi * Ppsi + Pphi * Ppsi * t * theta2 / (1 - Pphi * Ppsi * t * theta2)),
        sp.Eq(Pphi, 1 + (P - 1) * phi),
        sp.Eq(Ppsi, 1 + (P - 1) * psi),
        sp.Eq(t, 1 / (z * psi)),
    ]


@functools.lru_cache(maxsize=None)
def quartic():
    """The quartic in G obtained from :func:`pw_system` by elimination (sympy Poly in G).

    Substitute P_φ, P_ψ, then t = 1/(zψ) and P = (zG − 1 + ψ)/ψ (the first equation solved for P),
    clear the denominators and keep the irreducible factor that contains G; the sign is fixed so
    that the constant term is −ψ³. Coefficients are polynomials in z, φ, ψ, θ1, θ2.
    """
    eq_G, eq_P, eq_Pphi, eq_Ppsi, eq_t = pw_system()
    residual = (eq_P.rhs - eq_P.lhs).subs({eq_Pphi.lhs: eq_Pphi.rhs, eq_Ppsi.lhs: eq_Ppsi.rhs})
    P_of_G = sp.solve(eq_G, P)[0]
    residual = residual.subs({t: eq_t.rhs}).subs({P: P_of_G})
    num, _ = sp.fraction(sp.together(residual))
    factors = sp.factor_list(sp.expand(num))[1]
    core = [f for f, _ in factors if f.has(G)]
    if len(core) != 1:  # pragma: no cover - the elimination is fixed
        raise AssertionError(f"expected one factor containing G, got {core}")
    poly = sp.Poly(core[0], G)
    const = poly.coeff_monomial(1)
    unit = sp.simplify(-psi**3 / const)
    if not unit.is_number:  # pragma: no cover
        raise AssertionError(f"unexpected constant term {const}")
    return sp.Poly(sp.expand(unit * poly.as_expr()), G)


def _sym(value):
    """A parameter value as an exact sympy number (floats and mpf exactly, as binary rationals)."""
    if isinstance(value, sp.Basic):
        return value
    import mpmath

    if isinstance(value, bool):
        raise TypeError(f"expected a number, got {value!r}")
    if isinstance(value, int):
        return sp.Integer(value)
    if isinstance(value, float):
        return sp.Rational(*value.as_integer_ratio())
    if isinstance(value, mpmath.mpf):
        sign, man, exp, _ = value._mpf_  # (man_exp drops the sign)
        return (-1) ** sign * sp.Integer(man) * sp.Integer(2) ** exp
    from fractions import Fraction

    if isinstance(value, Fraction):
        return sp.Rational(value.numerator, value.denominator)
    return sp.sympify(value, strict=True)


def equation(phi_value=None, psi_value=None, theta1_value=None, theta2_value=None):
    """The equation for given parameters: a sympy Poly in G (coefficients in z), degree dropped.

    Degree 4 in general, 3 when θ1 = θ2 (product Wishart), 2 when θ2 = 0 (Marchenko–Pastur);
    parameters left as ``None`` stay symbolic.

    >>> equation(2, 1, 1, 0).degree()          # theta2 = 0: Marchenko-Pastur, quadratic
    2
    >>> equation(1, 1, 1, 1).degree()          # theta1 = theta2: product Wishart, cubic
    3
    """
    subs = {}
    for sym, val in ((phi, phi_value), (psi, psi_value), (theta1, theta1_value), (theta2, theta2_value)):
        if val is not None:
            subs[sym] = _sym(val)
    expr = sp.expand(quartic().as_expr().subs(subs))
    poly = sp.Poly(expr, G)
    coeffs = poly.all_coeffs()
    while len(coeffs) > 1 and sp.simplify(coeffs[0]) == 0:
        coeffs = coeffs[1:]
    return sp.Poly(sum(c * G**k for k, c in enumerate(reversed(coeffs))), G)


@functools.lru_cache(maxsize=None)
def _coefficient_function():
    coeffs = quartic().all_coeffs()  # a4, a3, a2, a1, a0
    args = (z, phi, psi, theta1, theta2)
    # polynomials with integer coefficients: plain +, -, * and integer powers, valid for any
    # numeric type (float, complex, numpy arrays, mpf, mpc, python-flint)
    return sp.lambdify(args, coeffs, modules=[{}], docstring_limit=0)


def quartic_coefficients(z_value, phi_value, psi_value, theta1_value, theta2_value):
    """[a4, a3, a2, a1, a0] of the quartic at numeric inputs (float, complex, numpy, mpf, mpc, flint).

    >>> quartic_coefficients(2.0, 1.0, 1.0, 1.0, 0.0)       # MP: a4 = a3 = 0
    [0.0, 0.0, -2.0, 2.0, -1.0]
    """
    zero = 0 * z_value  # constant coefficients take z's type and shape (numpy arrays, mpc, flint)
    return [c + zero for c in _coefficient_function()(z_value, phi_value, psi_value, theta1_value, theta2_value)]


@functools.lru_cache(maxsize=None)
def _generic_discriminant():
    return sp.Poly(sp.discriminant(quartic().as_expr(), G), z)


def discriminant_in_z(phi_value=None, psi_value=None, theta1_value=None, theta2_value=None):
    """Discriminant in G of the (degree-dropped) equation, as a sympy Poly in z.

    Its real roots hold the support edges (plus spurious points, see
    :class:`nrmt.numerics.algebraic.AlgebraicLaw`). With all parameters symbolic this is the
    discriminant of the quartic (degree 9 in z).

    >>> sp.Poly(discriminant_in_z(1, 1, 1, 1), z).real_roots()   # product Wishart: edge 27/4
    [0, 0, 0, 0, 27/4]
    """
    if all(v is None for v in (phi_value, psi_value, theta1_value, theta2_value)):
        return _generic_discriminant()
    eq = equation(phi_value, psi_value, theta1_value, theta2_value)
    return sp.Poly(sp.discriminant(eq.as_expr(), G), z)


@functools.lru_cache(maxsize=None)
def _moments_generic(k):
    """m_1..m_k from G = w + m1 w^2 + ... (w = 1/z) solved order by order in the quartic."""
    w = sp.Symbol("w")
    ms = sp.symbols(f"m1:{k + 1}")
    series = w + sum(m * w ** (j + 2) for j, m in enumerate(ms))
    poly = quartic()
    # multiply by w^2: every a_i has degree <= 2 in z
    expr = sp.expand(sum(c.subs(z, 1 / w) * series**i for (i,), c in poly.terms()) * w**2)
    expr = sp.Poly(expr, w)
    solved = {}
    # orders w^0, w^1 vanish identically (normalisation); m_j first appears at order w^(j+2)
    for j in range(1, k + 1):
        eq = expr.coeff_monomial(w ** (j + 2)).subs(solved)
        sol = sp.solve(eq, ms[j - 1])
        solved[ms[j - 1]] = sp.expand(sol[0])
    return tuple(solved[m] for m in ms)


def moments_exact(k=4, phi_value=None, psi_value=None, theta1_value=None, theta2_value=None):
    """Raw moments m_1..m_k (atom included) as exact sympy expressions.

    From the expansion of the physical root at infinity, G = 1/z + m1/z^2 + ..., solved order by
    order in the quartic. Parameters given are substituted exactly.

    >>> moments_exact(4, 1, 1, 1, 1)          # Fuss-Catalan numbers (product Wishart)
    [1, 3, 12, 55]
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    subs = {}
    for sym, val in ((phi, phi_value), (psi, psi_value), (theta1, theta1_value), (theta2, theta2_value)):
        if val is not None:
            subs[sym] = _sym(val)
    return [sp.simplify(m.subs(subs)) if subs else m for m in _moments_generic(k)]


def atom_exact(phi_value, psi_value, linear=False):
    r"""Mass of the atom at 0: rank deficiency of M.

    Nonlinear f (θ1 > θ2): rank min(n1, m), atom :math:`\max(0, 1 - \psi/\phi)`; linear f
    (θ1 = θ2): rank min(n0, n1, m), atom :math:`\max(0, 1 - \psi \min(1, 1/\phi))`
    ([PW]_ Sec. 3; checked against the Puiseux expansion of the quartic at z = 0).

    >>> atom_exact(2, 1), atom_exact(sp.Rational(1, 2), sp.Rational(1, 2), linear=True)
    (1/2, 1/2)
    """
    ph, ps = _sym(phi_value), _sym(psi_value)
    if linear:
        return sp.Max(0, 1 - ps * sp.Min(1, 1 / ph))
    return sp.Max(0, 1 - ps / ph)
