"""Certified one-layer densities and support edges: balls that provably contain ρ(x).

The one-layer law (Pennington–Worah 2017, Thm 1; Benigni–Péché 2021) has a Stieltjes transform
G(z) = ∫ρ(dt)/(z − t) that solves a quartic P_z(G) = a4 G⁴ + a3 G³ + a2 G² + a1 G + a0 = 0 whose
coefficients are polynomials in z, φ, ψ, θ1, θ2 (:func:`nrmt.theory.equations.one_layer.
quartic_coefficients`). This module proves, in ball arithmetic (python-flint ``arb``/``acb``),
which root of the quartic is G, and returns a ball for ρ(x) = −Im G(x + i0)/π. The full argument is
in ``docs/certified.md``; in short:

**Root inclusion** (Smith 1970, via Gerschgorin). For distinct centres c_i and the Weierstrass
corrections W_i = P(c_i)/(a_n Π_{j≠i}(c_i − c_j)), every root of P lies in a disk
``|G − (c_i − W_i)| <= (n − 1)|W_i|``, and a disk disjoint from all the others holds exactly one
root. Evaluating W_i in ball arithmetic with coefficients that are balls (θ1, θ2 enclosures; z
ranging over a box) bounds the disks of *every* polynomial of the family at once: an *isolated*
disk holds exactly one root of P_z for every z in the box, and a continuous root that starts in it
stays in it (the other disks are at a positive distance and every root lies in some disk).

**Which root.** Since M is positive semi-definite the law lives on [0, ∞) and has mass one, so
``|G(x + iy)| <= 1/y``. At a height y_top where exactly one disk meets the closed disk
``|G| <= 1/y_top`` and that disk is isolated, it holds G. Going down, the vertical segment is
covered by boxes ``{x} × [y_k, y_(k+1)]`` (the last one ``[x − δ, x + δ] × [0, y_1]``). G is
continuous on C⁺ and a root at every point; at the shared height y_k it lies in the previous
box's disk, so when exactly one of the new disks meets it and that disk is isolated, it holds G
on the whole new box. On the last box the physical disk stays isolated down to the real axis, so
G extends continuously to [x − δ, x + δ] and ρ = −Im G(t + i0)/π there (Stieltjes inversion).
The last step re-isolates the roots at z = x at full precision and keeps the only one that meets
the last box's disk.

**Zero density.** At real x the coefficients are real, so the conjugate of a root is a root. If
the (isolated) disk of G meets no other disk after conjugation, conj(G) = G: ρ(x) = 0 exactly.

Anything that does not meet these conditions (a point too close to a support edge, where two
roots merge; θ2 or θ1 − θ2 balls that contain 0 without being known to vanish) raises
:class:`~nrmt.numerics.certified_constants.NotCertifiableError` instead of returning a ball that
is not a proof.
"""

import functools
import math

import numpy as np
import sympy
from flint import acb, arb, arb_poly, ctx

from nrmt.numerics.certified_constants import (
    NotCertifiableError,
    arb_value,
    certified_constants,
    enclosure,
    to_arb,
    working_precision,
)
from nrmt.theory.activations import to_sympy_number

__all__ = [
    "CertifiedOneLayer",
    "certified_density",
    "certified_discriminant_roots",
    "isolate_roots",
]

_CONTINUATION_PREC = 128
_Z, _T1, _T2, _G = sympy.symbols("z theta1 theta2 G")
_MAX_STEPS = 400


# --------------------------------------------------------------------------- root inclusion

def _horner(coeffs, c):
    """P(c) and P'(c), coefficients highest degree first."""
    p = acb(0)
    dp = acb(0)
    for a in coeffs:
        dp = dp * c + p
        p = p * c + a
    return p, dp


def _disks_overlap(d1, d2):
    """False only if the two disks (ball centre, radius) are certainly disjoint."""
    (c1, r1), (c2, r2) = d1[:2], d2[:2]
    return not (abs(c1 - c2).lower() > r1 + r2)


class Disk(tuple):
    """An inclusion disk ``(centre, radius, isolated)``: ``centre`` an ``acb`` ball (the disk is
    the union of the closed disks of that radius around its points), ``isolated`` true when the
    disk is certainly disjoint from every other disk of its set, hence holds exactly one root."""

    __slots__ = ()

    def __new__(cls, centre, radius, isolated):
        return super().__new__(cls, (centre, radius, isolated))


def _validate(coeffs, centres, evaluate=None):
    """Gerschgorin inclusion disks for the roots of every polynomial in the coefficient balls.

    With distinct centres c_i and the Weierstrass corrections
    W_i = P(c_i) / (a_n Π_{j≠i} (c_i − c_j)), P(λ)/a_n is the characteristic polynomial of
    diag(c) − W 1ᵀ (Smith 1970), so by Gerschgorin's theorem every root lies in a disk
    |λ − (c_i − W_i)| <= (n − 1)|W_i|, and a disk disjoint from all the others holds exactly one
    root. Ball arithmetic bounds W_i for every member of the family at once. ``evaluate(c)``, when
    given, encloses P(c) over the family more tightly than Horner on the coefficient balls (it
    keeps the correlation of the coefficients through z). Returns a list of :class:`Disk` or None
    when some W_i is not finite (coinciding centres, a leading coefficient that may vanish).
    """
    n = len(coeffs) - 1
    if coeffs[0].contains(0):
        return None
    raw = []
    for i, c in enumerate(centres):
        p = evaluate(c) if evaluate is not None else _horner(coeffs, c)[0]
        q = coeffs[0]
        for j, cj in enumerate(centres):
            if j != i:
                q = q * (c - cj)
        if q.contains(0):
            return None
        w = p / q
        if not w.is_finite():
            return None
        raw.append((c - w, (max(n - 1, 1) * abs(w)).upper()))
    return [Disk(c, r, not any(_disks_overlap((c, r), raw[j]) for j in range(n) if j != i))
            for i, (c, r) in enumerate(raw)]


def _exact_centre(c):
    return acb(c.real.mid(), c.imag.mid())


def _approximate_roots(coeffs, high):
    """Approximate roots of the midpoint polynomial (numpy in double, flint at high precision)."""
    mids = [acb(a.real.mid(), a.imag.mid()) for a in coeffs]
    if not high:
        with np.errstate(all="ignore"):
            r = np.roots([complex(m) for m in mids])
        if len(r) != len(coeffs) - 1 or not np.all(np.isfinite(r)):
            return None
        return [acb(complex(v)) for v in r]
    with np.errstate(all="ignore"):
        r = np.roots([complex(m) for m in mids])
    if len(r) != len(coeffs) - 1 or not np.all(np.isfinite(r)):
        return None
    # Newton's method at the working precision on the midpoint polynomial (quadratic convergence
    # from double precision); only the centres come from here, the radii are proved afterwards
    centres = [acb(complex(v)) for v in r]
    steps = max(2, int(math.ceil(math.log2(max(ctx.prec, 64) / 40))) + 2)
    for _ in range(steps):
        new = []
        for c in centres:
            p, dp = _horner(mids, c)
            if dp.contains(0):
                return None
            new.append(_exact_centre(c - p / dp))
        centres = new
    return centres


def isolate_roots(coeffs, high=False, evaluate=None):
    """Inclusion disks for the roots of every polynomial whose coefficients lie in the balls
    ``coeffs`` (highest degree first): a list of :class:`Disk` (every root lies in their union;
    an ``isolated`` disk holds exactly one root), or None.

    >>> disks = isolate_roots([acb(1), acb(0), acb(-2)])  # G**2 - 2
    >>> sorted(round(float(d[0].real), 12) for d in disks)
    [-1.414213562373, 1.414213562373]
    >>> all(d[2] and d[1] < 1e-12 for d in disks)
    True
    """
    centres = _approximate_roots(coeffs, high)
    if centres is None:
        return None
    return _validate(coeffs, centres, evaluate)


# --------------------------------------------------------------------------- the family

class _Family:
    """The quartic of the one-layer law with ball parameters and its (certified) degree."""

    def __init__(self, phi, psi, theta1, theta2):
        self.phi_exact = _positive_exact(phi, "phi")
        self.psi_exact = _positive_exact(psi, "psi")
        t1, t1_exact = _theta(theta1, "theta1")
        t2, t2_exact = _theta(theta2, "theta2")
        self.theta1, self.theta2 = t1, t2
        self.theta1_exact, self.theta2_exact = t1_exact, t2_exact
        if t2_exact is not None and t2_exact == 0:
            self.degree = 2  # Marchenko–Pastur: a4 = a3 = 0 exactly
        elif t1_exact is not None and t2_exact is not None and sympy.simplify(t1_exact - t2_exact) == 0:
            self.degree = 3  # product Wishart: a4 = 0 exactly
        else:
            self.degree = 4
        self._balls = {}
        self._zpolys = {}

    def balls(self, prec):
        """φ, ψ, θ1, θ2 as balls at precision ``prec`` (θ balls as given when not exact)."""
        if prec not in self._balls:
            with ctx.workprec(prec):
                vals = [arb_value(self.phi_exact), arb_value(self.psi_exact)]
                for ball, exact in ((self.theta1, self.theta1_exact), (self.theta2, self.theta2_exact)):
                    vals.append(arb_value(exact) if exact is not None else ball)
            self._balls[prec] = vals
        return self._balls[prec]

    def check(self):
        with ctx.workprec(_CONTINUATION_PREC):
            phi, psi, t1, t2 = self.balls(_CONTINUATION_PREC)
            if self.degree == 4:
                if not t2 > 0:
                    raise NotCertifiableError(
                        f"theta2 = {t2} is not certified > 0: pass theta2 = 0 exactly for "
                        "Marchenko–Pastur (an even activation is detected automatically)")
                if not t1 - t2 > 0:
                    raise NotCertifiableError(
                        f"theta1 - theta2 = {t1 - t2} is not certified > 0: pass equal exact values "
                        "for a linear activation (product Wishart)")
            elif self.degree == 3:
                if not t2 > 0:
                    raise NotCertifiableError(f"theta2 = {t2} is not certified > 0")
            elif not t1 > 0:
                raise NotCertifiableError(f"theta1 = {t1} is not certified > 0")

    def z_polynomials(self, prec):
        """For each coefficient a_k (highest first, trimmed to the degree), its coefficients as a
        polynomial in z (lowest first), as balls: the quartic of
        :func:`nrmt.theory.equations.one_layer.quartic_coefficients` is expanded symbolically in
        z with exact φ, ψ and symbols θ1, θ2, and only then evaluated on the θ balls."""
        if prec not in self._zpolys:
            with ctx.workprec(prec):
                _phi, _psi, t1, t2 = self.balls(prec)
                values = {_T1: t1, _T2: t2}
                self._zpolys[prec] = [[_evaluate(c, values) for c in cs]
                                      for cs in _z_coefficients(self.phi_exact, self.psi_exact,
                                                                self.degree)]
        return self._zpolys[prec]

    def evaluator(self, z, prec):
        """``c -> P_z(c)`` enclosed for every z in the ball ``z``: for each power of z the
        polynomial in G is summed first at the exact point c, then the result is expanded around
        the exact centre z0 and evaluated at h = z − z0, so the variation over the box is
        |∂P/∂z| |h| + ..., not the sum of the coefficient variations."""
        z0 = acb(z.real.mid(), z.imag.mid())
        h = z - z0
        zp = self.z_polynomials(prec)
        width = max(len(cs) for cs in zp)

        def evaluate(c):
            q = []
            for j in range(width):
                v = acb(0)
                for cs in zp:
                    v = v * c + (cs[j] if j < len(cs) else 0)
                q.append(v)
            return _centred(q, z0, h)
        return evaluate

    def coefficients(self, z, prec):
        """Coefficient balls (highest first, trimmed to the certified degree) for every z in the
        ball ``z``, in centred form a(z0 + h) = Σ_j a^(j)(z0)/j! h^j (z0 the exact centre): much
        tighter on a box than the expanded polynomial."""
        z0 = acb(z.real.mid(), z.imag.mid())
        h = z - z0
        return [_centred([acb(c) for c in cs], z0, h) for cs in self.z_polynomials(prec)]


def _centred(coeffs, z0, h):
    """Σ_j coeffs[j] (z0 + h)^j (lowest first) in centred form Σ_m p^(m)(z0)/m! h^m."""
    taylor = list(coeffs)
    n = len(taylor)
    for i in range(n - 1):  # Taylor coefficients at z0 by repeated synthetic division
        for j in range(n - 2, i - 1, -1):
            taylor[j] = taylor[j] + z0 * taylor[j + 1]
    v = acb(0)
    for c in reversed(taylor):
        v = v * h + c
    return v


@functools.lru_cache(maxsize=64)
def _z_coefficients(phi, psi, degree):
    """The quartic's coefficients a_k (highest first, degree-trimmed) as lists of sympy
    polynomials in θ1, θ2, one per power of z (lowest first)."""
    from nrmt.theory.equations.one_layer import quartic_coefficients

    t1, t2 = _T1, _T2
    if degree == 2:
        t2 = sympy.S.Zero
    elif degree == 3:
        t1 = t2
    coeffs = [sympy.expand(c) for c in quartic_coefficients(_Z, phi, psi, t1, t2)]
    if len(coeffs) != 5:
        raise ValueError(f"expected 5 quartic coefficients, got {len(coeffs)}")
    if any(c != 0 for c in coeffs[:4 - degree]):
        raise AssertionError("the degenerate leading coefficients do not vanish")
    out = []
    for c in coeffs[4 - degree:]:
        out.append(tuple(reversed(sympy.Poly(c, _Z).all_coeffs())) if c.has(_Z) else (c,))
    if out[0] == (0,) or all(v == 0 for v in out[0]):
        raise NotCertifiableError("the leading coefficient of the equation vanishes identically")
    return tuple(out)


def _positive_exact(value, what):
    v = to_sympy_number(value, what)
    if v.free_symbols or not v.is_real or not v > 0:
        raise ValueError(f"{what} must be a number > 0, got {value}")
    return v


def _theta(value, what):
    """(ball or None, exact sympy number or None)."""
    if isinstance(value, arb):
        if not value.is_finite():
            raise ValueError(f"{what} must be finite, got {value}")
        if value.is_exact():
            m = value.mid().man_exp()
            num = sympy.Integer(int(m[0])) * sympy.Integer(2) ** int(m[1])
            return None, num
        return value, None
    v = to_sympy_number(value, what)
    if v.free_symbols or not v.is_real or v < 0:
        raise ValueError(f"{what} must be a number >= 0, got {value}")
    return None, v


# --------------------------------------------------------------------------- the physical root

def _box(x, y_lo, y_hi, delta):
    """The acb box [x − δ, x + δ] × [y_lo, y_hi] (exact rational endpoints as balls)."""
    re = x if delta == 0 else x + arb(0, delta)
    mid = (y_lo + y_hi) / 2
    im = mid + arb(0, ((y_hi - y_lo) / 2).upper())
    return acb(re, im)


def _top(family, x):
    """(y_top, disk of G at x + i y_top): the only isolating disk meeting |G| <= 1/y_top."""
    phi, psi, t1, t2 = family.balls(_CONTINUATION_PREC)
    y = arb(2) ** int(math.ceil(math.log2(8 * (1 + float(x.upper()) + 4 * float(t1.upper())))))
    for _ in range(40):
        z = acb(x, y)
        disks = isolate_roots(family.coefficients(z, _CONTINUATION_PREC),
                              evaluate=family.evaluator(z, _CONTINUATION_PREC))
        if disks is not None:
            near = [d for d in disks if not abs(d[0]).lower() > d[1] + 1 / y]
            if len(near) == 1 and near[0][2]:
                return y, near[0]
        y = y * 2
    raise NotCertifiableError(f"could not separate the physical root at large Im z for x = {x}")


def _show(x):
    """A point for messages: decimal, not a long fraction."""
    return x if not isinstance(x, sympy.Basic) or x.is_Integer else sympy.N(x, 20)


def _physical_root(family, xq, prec):
    """A disk (centre, radius) that contains G(x + i0), and all the isolating disks at z = x."""
    with ctx.workprec(_CONTINUATION_PREC):
        x = to_arb(xq)
        y, disk = _top(family, x)
        h = y / 2
        steps = 0
        while True:
            steps += 1
            if steps > _MAX_STEPS:
                raise NotCertifiableError(
                    f"x = {_show(xq)} is too close to a support edge (or to a point where two roots of "
                    "the quartic meet) to certify the density there")
            final = not h < y
            y_lo = arb(0) if final else y - h
            delta = (min(y, x / 2) / 2).upper() if final else 0
            box = _box(x, y_lo, y, delta)
            disks = isolate_roots(family.coefficients(box, _CONTINUATION_PREC),
                                  evaluate=family.evaluator(box, _CONTINUATION_PREC))
            if disks is not None:
                linked = [d for d in disks if _disks_overlap(d, disk)]
                if len(linked) == 1 and linked[0][2]:
                    disk = linked[0]
                    if final:
                        break
                    y = y_lo
                    h = (h * 2).min(y)
                    continue
            h = h / 2
    with ctx.workprec(prec):
        x = to_arb(xq)
        tight = isolate_roots(family.coefficients(acb(x), prec), high=True,
                              evaluate=family.evaluator(acb(x), prec))
        if tight is None:
            raise NotCertifiableError(f"cannot isolate the roots of the quartic at x = {_show(xq)}")
        linked = [d for d in tight if _disks_overlap(d, disk)]
        if len(linked) != 1 or not linked[0][2]:
            raise NotCertifiableError(f"cannot single out the physical root at x = {_show(xq)}")
        return linked[0], tight


def _all_roots_real_near(family, xq):
    """True if, on a box [x − δ, x + δ] × [0, δ], every root of the quartic is isolated and real on
    the real segment: then ρ = 0 on (x − δ, x + δ), whichever root G is.

    Proof: G(z0) lies in some disk (all roots do) and every disk is isolated, so by the tracking
    lemma G stays in that disk on the box ∩ C⁺ and extends continuously to the real segment, where
    the root of that disk is real (its conjugate is a root in the conjugate disk, which meets no
    other disk); so Im G(t + i0) = 0 there. Needs no identification of the physical root.
    """
    with ctx.workprec(_CONTINUATION_PREC):
        x = to_arb(xq)
        for k in (6, 12, 20, 30):
            delta = (x * arb(2) ** -k).upper()
            box = _box(x, arb(0), delta, delta)
            disks = isolate_roots(family.coefficients(box, _CONTINUATION_PREC),
                                  evaluate=family.evaluator(box, _CONTINUATION_PREC))
            if disks is None or not all(d[2] for d in disks):
                continue
            real = all(not any(_disks_overlap((d[0].conjugate(), d[1]), e)
                               for e in disks if e is not d) for d in disks)
            return real
    return False


def _density_ball(family, xq, prec):
    x_exact = to_sympy_number(xq, "x")
    if x_exact.free_symbols or not x_exact.is_real:
        raise ValueError(f"x must be a real number, got {xq}")
    if x_exact < 0:
        return arb(0)  # M is positive semi-definite: no mass on (-oo, 0)
    if x_exact == 0:
        raise NotCertifiableError(
            "x = 0: the equation degenerates at z = 0 (atom or singular part); no certified density there")
    if _all_roots_real_near(family, x_exact):
        return arb(0)
    phys, tight = _physical_root(family, x_exact, prec)
    c, r = phys[0], phys[1]
    with ctx.workprec(prec):
        conj = (c.conjugate(), r)
        others = [d for d in tight if d is not phys]
        if not any(_disks_overlap(conj, d) for d in others):
            return arb(0)  # the physical root is its own conjugate: real, ρ(x) = 0
        im = c.imag + arb(0, r)
        rho = -im / arb.pi()
        if rho.contains(0):
            rho = rho.nonnegative_part()
        return rho


def certified_density(x, phi, psi, theta1, theta2, dps=15):
    """Balls guaranteed to contain the one-layer density ρ(x) at each point.

    Parameters
    ----------
    x : number or sequence of numbers
        Points (floats mean their shortest decimal, as elsewhere in nrmt; x < 0 gives exactly 0;
        x = 0 is refused).
    phi, psi : number
        φ = n0/m > 0, ψ = n0/n1 > 0 (exact).
    theta1, theta2 : number or flint.arb
        θ1, θ2 as exact numbers or as enclosures (e.g. :class:`CertifiedConstants` fields). θ2 = 0
        exactly gives Marchenko–Pastur (quadratic), θ1 = θ2 exactly the product-Wishart cubic.
    dps : int
        Digits: the balls are about ``10**-(dps+5)`` wide or less (when θ1, θ2 are that tight).

    Returns
    -------
    list of flint.arb
        One ball per point, each containing the exact density (the atom at 0 excluded).

    Raises
    ------
    NotCertifiableError
        Points too close to a support edge, undecidable degenerate degrees.

    Notes
    -----
    The quartic is Pennington & Worah (2017), Theorem 1 with the substitution P = (zG − 1 + ψ)/ψ,
    t = 1/(zψ) (see ``docs/theory.md``); the root selection argument is in the module docstring
    and ``docs/certified.md``.

    Examples
    --------
    Marchenko–Pastur with c = φ/ψ = 1/2, scale 1, at x = 1:
    ρ(1) = √((b − 1)(1 − a)) / (2π c) with a, b = (1 ∓ √c)².

    >>> from flint import ctx
    >>> [b] = certified_density([1], phi=1, psi=2, theta1=1, theta2=0, dps=30)
    >>> with ctx.workprec(200):
    ...     c = arb(1) / 2
    ...     a, bb = (1 - c.sqrt()) ** 2, (1 + c.sqrt()) ** 2
    ...     b.contains(((bb - 1) * (1 - a)).sqrt() / (2 * arb.pi() * c))
    True
    """
    points = list(x) if isinstance(x, (list, tuple, np.ndarray)) else [x]
    if not points:
        raise ValueError("x must contain at least one point")
    prec = working_precision(dps)
    family = _Family(phi, psi, theta1, theta2)
    family.check()
    return [_density_ball(family, p, prec) for p in points]


# --------------------------------------------------------------------------- support edges

@functools.lru_cache(maxsize=32)
def _discriminant_factors(phi, psi, degree):
    """Irreducible factors (over Q(θ1, θ2)) in z of the discriminant in G of the quartic, for exact
    φ, ψ and symbolic θ1, θ2, the degenerate degrees substituted first; z and constants dropped."""
    coeffs = [sum((c * _Z ** j for j, c in enumerate(cs)), sympy.S.Zero)
              for cs in _z_coefficients(phi, psi, degree)]
    poly = sympy.Poly(sum(c * _G ** (degree - k) for k, c in enumerate(coeffs)), _G)
    disc = sympy.expand(sympy.discriminant(poly).as_expr())
    _const, factors = sympy.factor_list(disc, _Z)
    out = []
    for f, _mult in factors:
        pf = sympy.Poly(f, _Z)
        if pf.degree() < 1 or pf.monoms() == [(1,)]:
            continue  # constants and the factor z (the degenerate point z = 0)
        out.append(tuple(sympy.expand(c) for c in pf.all_coeffs()))
    return tuple(out)


def _evaluate(expr, values):
    """A polynomial in θ1, θ2 with rational coefficients, evaluated on balls."""
    if expr.is_Symbol:
        return values[expr]
    if expr.is_Rational:
        return arb_value(expr)
    if expr.is_Add:
        out = _evaluate(expr.args[0], values)
        for t in expr.args[1:]:
            out = out + _evaluate(t, values)
        return out
    if expr.is_Mul:
        out = _evaluate(expr.args[0], values)
        for t in expr.args[1:]:
            out = out * _evaluate(t, values)
        return out
    if expr.is_Pow and expr.exp.is_Integer and expr.exp > 0:
        return _evaluate(expr.base, values) ** int(expr.exp)
    raise TypeError(f"unexpected term {expr} in the discriminant")


def certified_discriminant_roots(phi, psi, theta1, theta2, dps=15):
    """Enclosures of the real roots z ≠ 0 of the discriminant (in G) of the one-layer quartic.

    The support edges of the law are among these points (some roots are spurious: there ρ does
    not switch on or off). The discriminant is formed symbolically (exact φ, ψ; symbols θ1, θ2),
    factored over Q(θ1, θ2) in z, and the roots of each irreducible factor are isolated with the
    θ enclosures (see :func:`isolate_roots`); a root disk that is its own conjugate's only
    candidate holds a real root. Each returned ball contains exactly one real root of its factor,
    and every real non-zero root is in one of them.

    Returns
    -------
    list of flint.arb
        Sorted balls.

    Raises
    ------
    NotCertifiableError
        If the roots cannot be isolated (a leading coefficient ball containing 0, roots too close).

    Examples
    --------
    Marchenko–Pastur with c = φ/ψ = 4, scale 1: edges (1 ∓ 2)² = 1 and 9.

    >>> [lo, hi] = certified_discriminant_roots(2, 0.5, 1, 0, dps=20)
    >>> lo.contains(1), hi.contains(9)
    (True, True)
    """
    prec = working_precision(dps)
    family = _Family(phi, psi, theta1, theta2)
    family.check()
    factors = _discriminant_factors(family.phi_exact, family.psi_exact, family.degree)
    real = []
    with ctx.workprec(prec):
        _phi, _psi, t1, t2 = family.balls(prec)
        values = {_T1: t1, _T2: t2}
        for coeffs in factors:
            balls = [acb(_evaluate(c, values)) for c in coeffs]
            disks = isolate_roots(balls, high=True)
            if disks is None:
                raise NotCertifiableError("cannot isolate the roots of the discriminant")
            if not all(d[2] for d in disks):
                raise NotCertifiableError("cannot isolate the roots of the discriminant")
            for i, (c, r, _iso) in enumerate(disks):
                others = [dd for j, dd in enumerate(disks) if j != i]
                if any(_disks_overlap((c.conjugate(), r), dd) for dd in others):
                    continue  # non-real: its conjugate is another disk's root
                real.append(c.real + arb(0, r))
    return sorted(real, key=lambda b: float(b.mid()))


# --------------------------------------------------------------------------- convenience

class CertifiedOneLayer:
    """Certified constants and density of the one-layer law of an activation.

    Parameters
    ----------
    activation : str, sympy expression or Activation
        Symbolic (callables cannot be certified).
    phi, psi : number
        Ratios φ = n0/m and ψ = n0/n1.
    sigma : number
        σ = σ_w σ_x.
    dps : int
        Digits.

    Examples
    --------
    >>> law = CertifiedOneLayer("x**3 - 3*x", phi=1, psi=2, dps=20)   # θ2 = 0: Marchenko–Pastur
    >>> law.constants.exact["theta2"]
    0
    >>> law.enclosures([3])["density"][0][0] < law.enclosures([3])["density"][0][1]
    True
    """

    def __init__(self, activation, phi, psi, sigma=1, dps=15):
        working_precision(dps)  # validates dps
        self.dps = dps
        self.phi, self.psi = phi, psi
        if activation is None:  # used by from_constants
            self.constants = None
            return
        self.constants = certified_constants(activation, sigma=sigma, dps=dps + 10, check_exact=False)
        ex = self.constants.exact
        self._theta1 = ex.get("theta1", self.constants.theta1)
        self._theta2 = ex.get("theta2", self.constants.theta2)
        _Family(phi, psi, self._theta1, self._theta2).check()

    @classmethod
    def from_constants(cls, theta1, theta2, phi, psi, dps=15):
        """The law given by its constants: exact numbers, or ``arb`` enclosures.

        >>> law = CertifiedOneLayer.from_constants(1, 1, phi=1, psi=1, dps=20)  # Fuss–Catalan
        >>> law.discriminant_roots()[0].contains(arb(27) / 4)
        True
        """
        self = cls(None, phi, psi, dps=dps)
        self._theta1, self._theta2 = theta1, theta2
        _Family(phi, psi, theta1, theta2).check()
        return self

    def density(self, x):
        """Balls for ρ at the points ``x`` (see :func:`certified_density`)."""
        return certified_density(x, self.phi, self.psi, self._theta1, self._theta2, dps=self.dps)

    def discriminant_roots(self):
        """Enclosures of the real roots of the discriminant (support edges among them)."""
        return certified_discriminant_roots(self.phi, self.psi, self._theta1, self._theta2, dps=self.dps)

    def enclosures(self, x, strict=True):
        """``{"density": [[lo, hi], ...]}``: outward-rounded decimal strings at ``dps`` digits.

        With ``strict=False`` a point that cannot be certified (x = 0, a point on or too close to
        a support edge) gets ``None`` instead of raising, and the dict gains
        ``"uncertified": [{"x": ..., "reason": ...}, ...]`` (the JSON of ``nrmt density
        --certified`` on grids that resolve the edges).

        >>> law = CertifiedOneLayer.from_constants(1, 0, phi=1, psi=2, dps=10)   # MP
        >>> law.enclosures([1, 0], strict=False)["density"]
        [['0.4210843993', '0.4210843994'], None]
        """
        points = list(x) if isinstance(x, (list, tuple, np.ndarray)) else [x]
        if strict:
            return {"density": [enclosure(b, self.dps) for b in self.density(points)]}
        out, skipped = [], []
        for p in points:
            try:
                [b] = self.density([p])
            except NotCertifiableError as exc:
                out.append(None)
                skipped.append({"x": str(p), "reason": str(exc)})
            else:
                out.append(enclosure(b, self.dps))
        return {"density": out, "uncertified": skipped}
