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
from fractions import Fraction

import sympy as sp

from nrmt.theory.equations import _generated_one_layer as _gen
from nrmt.theory.errors import NrmtError

__all__ = [
    "G", "z", "phi", "psi", "theta1", "theta2", "P", "t",
    "pw_system", "quartic", "equation", "quartic_coefficients", "discriminant_in_z",
    "moments_exact", "moments_numeric", "quartic_table", "atom_exact", "series_moments",
    "derive_quartic", "derive_discriminant", "derive_moments", "exact_sign",
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

    The elimination (:func:`derive_quartic`) is done once, by ``derivations/one_layer_generated.py``,
    and its result kept in :mod:`nrmt.theory.equations._generated_one_layer` (exact integer
    coefficients; a test re-derives and compares). Coefficients are polynomials in z, φ, ψ, θ1, θ2
    with constant term −ψ³.
    """
    gens = (z, phi, psi, theta1, theta2)
    expr = sp.Add(*[sp.Poly.from_dict(terms, *gens).as_expr() * G ** k
                    for k, terms in _gen.QUARTIC.items()])
    return sp.Poly(expr, G)


def derive_quartic():
    """The quartic by elimination from :func:`pw_system` (sympy; the derivation behind
    :func:`quartic`).

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
    pairs = ((phi, phi_value), (psi, psi_value), (theta1, theta1_value), (theta2, theta2_value))
    if all(val is not None for _, val in pairs):
        # the generated coefficients at exact numbers: no symbolic substitution or expansion
        table = quartic_table(*(_sym(val) for _, val in pairs))
        coeffs = [sp.expand(row[0] + row[1] * z + row[2] * z**2) for row in reversed(table)]
    else:
        subs = {sym: _sym(val) for sym, val in pairs if val is not None}
        expr = sp.expand(quartic().as_expr().subs(subs))
        coeffs = sp.Poly(expr, G).all_coeffs()
    while len(coeffs) > 1 and _is_zero(coeffs[0]):
        coeffs = coeffs[1:]
    return sp.Poly(sum(c * G**k for k, c in enumerate(reversed(coeffs))), G)


def _is_zero(expr):
    """Exact zero test of a coefficient (a polynomial in z, maybe in symbolic parameters).

    After expansion a polynomial in its free symbols is zero exactly when every coefficient is; a
    number is decided by sympy's assumptions, else proved nonzero by a python-flint ball that
    excludes 0 (rigorous, :func:`nrmt.numerics.certified_constants.arb_value`). ``simplify`` is
    left for what neither decides (a number whose balls keep containing 0, a non-polynomial
    symbolic coefficient), so the numeric path (rational or closed-form constants) never runs it.

    >>> _is_zero(sp.expand((z + 1)**2 - z**2 - 2*z - 1)), _is_zero(z**2/64 - z**2/(32*sp.pi))
    (True, False)
    """
    if expr == 0:
        return True
    if expr.is_Rational or expr.is_Float:
        return False
    expr = sp.expand(expr)
    if expr == 0:
        return True
    if not expr.free_symbols:
        return _number_is_zero(expr)
    try:
        coeffs = sp.Poly(expr, *sorted(expr.free_symbols, key=str)).coeffs()
    except sp.PolynomialError:
        return sp.simplify(expr) == 0
    if any(c.free_symbols for c in coeffs):  # pragma: no cover - Poly over all free symbols
        return sp.simplify(expr) == 0
    return all(_number_is_zero(c) for c in coeffs)


def _number_is_zero(c):
    """Exact zero test of a constant sympy number (see :func:`_is_zero`)."""
    return exact_sign(c) == 0


def exact_sign(c):
    """The sign (-1, 0, 1) of a constant sympy number, decided exactly: rationals directly, then
    sympy's assumptions, then a python-flint ball that excludes 0 (rigorous); ``simplify`` only
    when the balls keep containing 0 (a number that is probably 0), never a float tolerance.

    >>> exact_sign(sp.Rational(1, 4) - (sp.pi - 1) / (2 * sp.pi)), exact_sign(sp.sqrt(2)**2 - 2)
    (-1, 0)
    >>> exact_sign(sp.exp(sp.pi * sp.sqrt(163)) - 640320**3 - 744)   # -7.5e-13: by the ball
    -1
    """
    c = sp.sympify(c)
    if c.is_Rational:
        return 0 if c.p == 0 else (1 if c.p > 0 else -1)
    if c.is_zero:
        return 0
    if c.is_positive:
        return 1
    if c.is_negative:
        return -1
    try:
        from flint import ctx

        from nrmt.numerics.certified_constants import arb_value

        for prec in (64, 256, 1024):
            with ctx.workprec(prec):
                ball = arb_value(c)
            if not ball.contains(0):  # a rigorous enclosure that excludes 0
                return 1 if ball > 0 else -1
    except (ArithmeticError, ValueError, TypeError, NrmtError):
        pass
    if sp.simplify(c) == 0:
        return 0
    return 1 if sp.N(c, 50) > 0 else -1  # pragma: no cover - nonzero yet 1024-bit balls hold 0


def quartic_coefficients(z_value, phi_value, psi_value, theta1_value, theta2_value):
    """[a4, a3, a2, a1, a0] of the quartic at numeric inputs (float, complex, numpy, mpf, mpc, flint).

    Generated code (polynomials with integer coefficients: plain +, −, * and integer powers, valid
    for any numeric type).

    >>> quartic_coefficients(2.0, 1.0, 1.0, 1.0, 0.0)       # MP: a4 = a3 = 0
    [0.0, 0.0, -2.0, 2.0, -1.0]
    """
    zero = 0 * z_value  # constant coefficients take z's type and shape (numpy arrays, mpc, flint)
    return [c + zero for c in _gen.quartic_coefficients(z_value, phi_value, psi_value, theta1_value, theta2_value)]


@functools.lru_cache(maxsize=None)
def _generic_discriminant():
    gens = (z, phi, psi, theta1, theta2)
    return sp.Poly(sp.Poly.from_dict(_gen.DISCRIMINANT, *gens).as_expr(), z)


def derive_discriminant():
    """The discriminant in G of the quartic (sympy; the derivation behind the generated one)."""
    return sp.Poly(sp.discriminant(derive_quartic().as_expr(), G), z)


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
    if eq.degree() == 4:
        # the generated discriminant, its parameters substituted (no symbolic elimination)
        subs = {sym: _sym(val) for sym, val in ((phi, phi_value), (psi, psi_value),
                                                 (theta1, theta1_value), (theta2, theta2_value))
                if val is not None}
        return sp.Poly(sp.expand(_generic_discriminant().as_expr().subs(subs)), z)
    return sp.Poly(sp.discriminant(eq.as_expr(), G), z)


def series_moments(table, k, normalise=None):
    r"""Raw moments m_1..m_k of the root :math:`G = w + m_1 w^2 + m_2 w^3 + \dots` (w = 1/z) of
    :math:`\sum_i a_i(z) G^i = 0`, order by order; plain arithmetic (numbers of any field, or sympy
    expressions when ``normalise`` is ``sympy.expand``).

    ``table[i] = [c_i0, c_i1, c_i2]`` with :math:`a_i(z) = \sum_j c_{ij} z^j` (degree ≤ 2 in z, as
    in the one-layer quartic). With :math:`F(w) = w^2 \sum_i a_i(1/w) G(w)^i`, m_j enters
    :math:`F` first at order :math:`w^{j+2}`, through :math:`a_1 G` only, with the factor
    :math:`c_{11}` (= ψ³ for the quartic): :math:`m_j = -F_{j+2}|_{m_j=0} / c_{11}`.

    >>> [int(m) for m in series_moments([[1, 0, 0], [0, -1, 0], [0, 1, 0]], 4)]  # MP, c = 1
    [1, 2, 5, 14]
    """
    if len(table[1]) > 2 and table[1][2] != 0:
        raise ValueError("a_1 must have degree <= 1 in z for this recursion")
    norm = normalise or (lambda v: v)
    order = k + 3  # coefficients of w^0 .. w^(k+2)
    lead = table[1][1]
    if isinstance(lead, int):
        lead = Fraction(lead)  # exact division for integer tables
    zero = lead * 0
    g = [zero] * order
    g[1] = zero + 1

    def mul(a, b):
        out = [zero] * order
        for i, ai in enumerate(a):
            if ai == 0:
                continue
            for j in range(order - i):
                if b[j] != 0:
                    out[i + j] = out[i + j] + ai * b[j]
        return [norm(v) for v in out]

    def residual(n):
        total = zero
        power = [zero] * order
        power[0] = zero + 1
        for i, row in enumerate(table):
            if i:
                power = mul(power, g)
            # w^2 a_i(1/w) = c_i2 + c_i1 w + c_i0 w^2
            for shift, c in ((0, row[2] if len(row) > 2 else 0), (1, row[1] if len(row) > 1 else 0),
                             (2, row[0])):
                if c != 0 and n - shift >= 0:
                    total = total + c * power[n - shift]
        return norm(total)

    out = []
    for j in range(1, k + 1):
        g[j + 1] = zero
        m = norm(-residual(j + 2) / lead)
        g[j + 1] = m
        out.append(m)
    return out


def derive_moments(k):
    """m_1..m_k of the quartic as sympy expressions in φ, ψ, θ1, θ2 (:func:`series_moments` on
    :func:`derive_quartic`)."""
    poly = derive_quartic()
    table = []
    for i in range(poly.degree() + 1):
        c = sp.Poly(poly.coeff_monomial(G ** i), z)
        table.append([c.coeff_monomial(z ** j) for j in range(3)])
    return [sp.expand(m) for m in series_moments(table, k, normalise=sp.expand)]


@functools.lru_cache(maxsize=None)
def _moments_generic(k):
    """m_1..m_k: the generated forms up to :data:`_generated_one_layer.MOMENTS_ORDER`, derived
    beyond."""
    if k <= len(_gen.MOMENTS):
        gens = (phi, psi, theta1, theta2)
        out = []
        for terms in _gen.MOMENTS[:k]:
            out.append(sp.Add(*[sp.Rational(n, d) * sp.Mul(*[g ** e for g, e in zip(gens, mono)])
                                for mono, (n, d) in terms.items()]))
        return tuple(out)
    return tuple(derive_moments(k))


def moments_exact(k=4, phi_value=None, psi_value=None, theta1_value=None, theta2_value=None):
    """Raw moments m_1..m_k (atom included) as exact sympy expressions.

    From the expansion of the physical root at infinity, G = 1/z + m1/z^2 + ..., solved order by
    order in the quartic. Parameters given are substituted exactly.

    >>> moments_exact(4, 1, 1, 1, 1)          # Fuss-Catalan numbers (product Wishart)
    [1, 3, 12, 55]
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    values = (phi_value, psi_value, theta1_value, theta2_value)
    if all(v is not None for v in values):
        # numbers: the order-by-order recursion on the generated quartic, in exact arithmetic
        exact = [_sym(v) for v in values]
        if all(v.is_Rational for v in exact):
            return [sp.Rational(m.numerator, m.denominator) for m in
                    moments_numeric(k, *(Fraction(int(v.p), int(v.q)) for v in exact))]
        return [sp.simplify(m) for m in series_moments(quartic_table(*exact), k, normalise=sp.expand)]
    subs = {}
    for sym, val in ((phi, phi_value), (psi, psi_value), (theta1, theta1_value), (theta2, theta2_value)):
        if val is not None:
            subs[sym] = _sym(val)
    return [sp.simplify(m.subs(subs)) if subs else m for m in _moments_generic(k)]


def quartic_table(phi_value, psi_value, theta1_value, theta2_value):
    """``table[i] = [c_i0, c_i1, c_i2]``: a_i(z) = Σ_j c_ij z^j of the quartic at given parameters,
    by plain arithmetic on the generated coefficients (any number type; no sympy).

    >>> quartic_table(1, 1, 1, 0)[4]        # theta2 = 0: a4 = 0
    [0, 0, 0]
    """
    vals = (phi_value, psi_value, theta1_value, theta2_value)
    zero = sum(v * 0 for v in vals)
    table = []
    for i in range(5):
        row = [zero, zero, zero]
        for (ez, *exps), c in _gen.QUARTIC[i].items():
            term = c
            for v, e in zip(vals, exps):
                if e:
                    term = term * v ** e
            row[ez] = row[ez] + term
        table.append(row)
    return table


def moments_numeric(k, phi_value, psi_value, theta1_value, theta2_value):
    """Raw moments m_1..m_k at numeric parameters, in their own arithmetic (mpf at the current
    mpmath precision, Fraction exactly, python-flint, float): :func:`series_moments` on
    :func:`quartic_table`, no symbolic step.

    >>> [str(m) for m in moments_numeric(4, Fraction(1), Fraction(1), Fraction(1), Fraction(1))]
    ['1', '3', '12', '55']
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    return series_moments(quartic_table(phi_value, psi_value, theta1_value, theta2_value), k)


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
