r"""Algebraic laws: the Stieltjes transform solves a polynomial equation :math:`P(G, z) = 0`.

:class:`AlgebraicLaw` is a :class:`~nrmt.numerics.law.Law` given by the table of coefficients
:math:`c_{ij}` of

.. math::  P(G, z) = \sum_{i=0}^{d} \sum_{j} c_{ij}\, z^j\, G^i = 0,

(exact sympy numbers, integers, fractions, floats or ``mpf``). It supplies the hooks of ``Law``:

* **physical branch by continuation** (``_stieltjes_float``): for every target ``x + i y`` start at
  ``x + i Y`` with ``Y = 100 (|x| + scale)`` from :math:`G = 1/z` and follow the root down the vertical
  path to ``y`` (or to the real axis), vectorised over all points. Each step is a Newton correction
  from the previous root, accepted only when Smale's :math:`\alpha`-test certifies that Newton
  converges to the root nearest to the previous one (:math:`\alpha = \beta\gamma < 0.03`), else the
  step is halved; where the steps get tiny (roots about to collide) the nearest root among all roots
  (batched companion-matrix eigenvalues) is taken. On the real axis (real coefficients), a root and
  its conjugate are both roots and the boundary value from the upper half plane is the one with
  ``Im G <= 0``. The result is polished by Newton in ``longdouble``, which also gives the error
  bound used to certify the digits (``_stieltjes_float_error``).
* **mpmath path** (``_stieltjes_mp``): Newton at the working precision from the float seed when the
  :math:`\alpha`-test certifies it, else the root nearest to the seed among all roots
  (``mpmath.polyroots``); without a seed (a point the float path cannot represent), the same
  continuation as above in mpmath arithmetic.
* **support** (``_support``): the candidate edges are the real roots of the discriminant of
  :math:`P` in :math:`G` (a polynomial in :math:`z`) and the real zeros of the leading coefficient;
  an interval between consecutive candidates belongs to the support when the density at its middle
  is positive; spurious candidates (density positive, or zero, on both sides) are dropped.
* **atom** (``_atom``): the limit of :math:`zG(z)` as :math:`z = iy \to 0`, unless given.

References
----------
.. [1] S. Smale, "Newton's method estimates from data at one point" (1986); L. Blum, F. Cucker,
   M. Shub, S. Smale, *Complexity and Real Computation* (1998), Ch. 8, Thm 2 (the alpha-theorem).
.. [2] N. R. Rao and A. Edelman, "The polynomial method for random matrices", Found. Comput. Math. 8
   (2008) (laws with algebraic Stieltjes transforms; edges from the discriminant).

Examples
--------
The Marchenko–Pastur law with ratio c = 1/2 and scale 1: :math:`c z G^2 - (z + c - 1) G + 1 = 0`.

>>> from fractions import Fraction
>>> c = Fraction(1, 2)
>>> law = AlgebraicLaw([[1], [-(c - 1), -1], [0, c]], dps=30)
>>> [mpmath.nstr(e, 30) for e in law.support[0]]        # (1 -+ sqrt(c))^2
['0.0857864376269049511983112757903', '2.91421356237309504880168872421']
>>> round(float(law.density(1)), 12)                     # sqrt((b - 1)(1 - a)) / (2 pi c)
0.421084399348
"""

import math
import numbers
from fractions import Fraction

import mpmath
import numpy as np
import sympy as sp

try:  # python-flint (a dependency of nrmt): fast multiprecision Newton steps
    import flint
except ImportError:  # pragma: no cover
    flint = None

from nrmt.numerics.law import Law
from nrmt.theory.errors import NoConvergence, NrmtError

__all__ = ["AlgebraicLaw"]

_ALPHA = 0.03          # certified nearest-root step: alpha = beta * gamma below this
_SEP = 4.0            # a corrector step is accepted only below 1/_SEP of the distance to the other roots
_H_MIN = 1e-3          # smallest log-step before falling back to all roots
_MAX_STEPS = 2000
_CHUNK = 8192
_T_START = 3.0         # the continuation starts at y = _T_START (|x| + scale)
_T_END = 1e-2         # and jumps to the target from y = _T_END (|x| + scale)
_SCHEDULE_STEP = 2.0   # log-step of the common schedule of the float continuation


def _to_sympy(c):
    """An exact sympy number for a coefficient (floats and mpf converted exactly)."""
    if isinstance(c, sp.Basic):
        return c
    if isinstance(c, bool):
        raise TypeError(f"expected a number, got {c!r}")
    if isinstance(c, numbers.Integral):
        return sp.Integer(int(c))
    if isinstance(c, Fraction):
        return sp.Rational(c.numerator, c.denominator)
    if isinstance(c, float):
        if not math.isfinite(c):
            raise ValueError(f"coefficients must be finite, got {c!r}")
        n, d = c.as_integer_ratio()
        return sp.Rational(n, d)
    if isinstance(c, mpmath.mpf):
        if not mpmath.isfinite(c):
            raise ValueError(f"coefficients must be finite, got {c!r}")
        sign, man, exp, _ = mpmath.mpf(c)._mpf_
        return (-1) ** sign * sp.Integer(man) * sp.Integer(2) ** exp
    if isinstance(c, (numbers.Real,)):
        return _to_sympy(float(c))
    raise TypeError(f"expected a real number as coefficient, got {type(c).__name__}: {c!r}")


def _mpf_to_arb(x):
    """An mpf as an exact flint arb."""
    sign, man, exp, _ = mpmath.mpf(x)._mpf_
    if not man:
        return flint.arb(0)
    return flint.arb(flint.fmpz(-int(man) if sign else int(man))) * flint.arb(2) ** int(exp)


def _arb_to_mpf(x):
    """The midpoint of a flint arb as an mpf (exact)."""
    man, exp = x.mid().man_exp()
    return mpmath.mpf((int(man), int(exp)))


def _rational_poly_fmpz(coeffs):
    """Rational coefficients (lowest degree first) as an ``fmpz_poly`` with the same roots."""
    den = 1
    for c in coeffs:
        den = math.lcm(den, int(sp.Rational(c).q))
    return flint.fmpz_poly([int(sp.Rational(c) * den) for c in coeffs])


def _real_roots(poly, digits):
    """The distinct real roots of an ``fmpz_poly`` as mpf with ``digits`` correct digits.

    FLINT's ``arb_fmpz_poly_complex_roots`` (python-flint ``complex_roots``) isolates every root
    in disjoint balls computed to the working precision, with the real ones given exactly zero
    imaginary part (Johansson, "Arb", IEEE Trans. Comput. 66 (2017)); an exact rational root
    (0 in particular) comes back as an exact ball.
    """
    out = []
    with flint.ctx.workprec(int(digits * 3.33) + 20), mpmath.workdps(digits + 10):
        for r, _mult in poly.complex_roots():
            if r.imag.is_zero():
                if r.real.rad() > abs(r.real.mid()) * flint.arb(10) ** (-digits) and not r.real.is_exact():
                    raise NoConvergence(f"root isolation did not reach {digits} digits: {r.real}")
                out.append(_arb_to_mpf(r.real))
    return out


def _flint_roots(A):
    """All complex roots (mpc) of sum A[i] G^(d-i) by ``acb_poly.roots`` at the current mpmath
    precision, or None when FLINT cannot isolate them (a double root, a vanishing leading
    coefficient)."""
    prec = mpmath.mp.prec
    coeffs = [mpmath.mpc(c) for c in A]
    if not coeffs or coeffs[0] == 0:
        return None
    # Cauchy's bound R on the roots: the tolerance is relative to it (an absolute 2^-prec would
    # ask more bits than the working precision of roots far from 0)
    with mpmath.workprec(60):
        bound = 1 + max(abs(c / coeffs[0]) for c in coeffs[1:]) if len(coeffs) > 1 else 1
        extra = int(mpmath.ceil(mpmath.log(bound, 2))) + 1
    try:
        with flint.ctx.workprec(prec + 20 + extra):
            poly = flint.acb_poly([flint.acb(_mpf_to_arb(c.real), _mpf_to_arb(c.imag)) for c in reversed(coeffs)])
            balls = poly.roots(tol=flint.arb(2) ** (extra - prec - 4), maxprec=4 * (prec + extra) + 200)
    except ValueError:
        return None
    with mpmath.workprec(prec + 20):
        return [mpmath.mpc(_arb_to_mpf(r.real), _arb_to_mpf(r.imag)) for r in balls]


def _taylor(A, g):
    """Normalised Taylor coefficients T_k = p^(k)(g)/k!, k = 0..d, of p = sum A[i] G^(d-i)."""
    b = list(A)
    T = []
    while b:
        acc = b[0]
        q = [acc]
        for c in b[1:]:
            acc = acc * g + c
            q.append(acc)
        T.append(q[-1])
        b = q[:-1]
    return T


def _alpha_gamma(T):
    """Smale's beta, gamma from the Taylor coefficients (numpy arrays)."""
    t1 = T[1]
    with np.errstate(all="ignore"):
        beta = np.abs(T[0] / t1)
        gamma = np.zeros(np.shape(beta))
        for k in range(2, len(T)):
            gamma = np.maximum(gamma, np.abs(T[k] / t1) ** (1.0 / (k - 1)))
    return beta, gamma


def _horner2(A, g):
    """p(g) and p'(g) for p = sum A[i] G^(d-i)."""
    p, dp = A[0], 0 * A[0]
    for c in A[1:]:
        dp = dp * g + p
        p = p * g + c
    return p, dp


def _certified_newton(A, g0, gp, its=5):
    """Corrector of a predictor-corrector step, with a nearest-root certificate (numpy arrays).

    ``g0`` is the root at the previous point, ``gp`` the predicted root at the new point
    (coefficients ``A``). Newton runs from ``gp``. Returns (g, ok): ``ok`` where Newton has
    converged to a root g, every other root lies farther than ``_SEP`` |g - gp| from g (Fujiwara's
    lower bound on the roots of the deflated polynomial shifted to g), so g is the root nearest to
    the prediction with a margin (a margin of 2 let a long last step into a narrow bulk land on a
    real root: sigmoid, phi = 0.5, psi = 0.05, lost its second bulk), and the correction is at most half the predicted move (the step is small enough
    for the linear prediction: a root running away, like G ~ atom/z, is never overtaken by
    another that merely happens to be nearer after a long step).
    """
    g = gp
    step = np.zeros_like(gp)
    with np.errstate(all="ignore"):
        for _ in range(its):
            p, dp = _horner2(A, g)
            step = p / dp
            g = g - step
        # deflate: q = p / (G - g), then Taylor coefficients of q at g
        q = [A[0]]
        for c in A[1:-1]:
            q.append(q[-1] * g + c)
        T = _taylor(q, g)
        bound = np.zeros(np.shape(g), dtype=float)
        for k in range(1, len(T)):
            bound = np.maximum(bound, np.abs(T[k] / T[0]) ** (1.0 / k))
        rmin = 1.0 / (2.0 * bound)  # every other root is at least this far from g
        conv = np.abs(step) <= 1e-7 * np.abs(g)
        corr = np.abs(g - gp)
        ok = (conv & np.isfinite(g) & (_SEP * corr < rmin)
              & (corr <= 0.5 * np.abs(gp - g0) + 1e-7 * np.abs(g)))
    return g, ok


class AlgebraicLaw(Law):
    """A law whose Stieltjes transform solves :math:`\\sum_{i,j} c_{ij} z^j G^i = 0`.

    Parameters
    ----------
    table : sequence of sequences
        ``table[i][j]`` is the coefficient of :math:`G^i z^j` (real numbers: sympy exact, int,
        Fraction, float or mpf). Rows of :math:`G`-degrees whose coefficients all vanish are
        dropped (degenerate degrees).
    dps : int, optional
        Decimal digits of the answers (default 15, the float path).
    atom : number, optional
        The mass at 0 when known in closed form (else the limit of :math:`zG(z)` at 0).
    moments : callable, optional
        ``moments(k)`` → list of the first ``k`` raw moments (mpf at the current precision).

    Raises
    ------
    ValueError
        If the polynomial has degree < 1 in G, or a coefficient is not finite.
    """

    def __init__(self, table, dps=15, *, atom=None, moments=None):
        super().__init__(dps)
        rows = [[_to_sympy(c) for c in row] for row in table]
        while rows and all(sp.simplify(c) == 0 for c in rows[-1]):
            rows.pop()
        if len(rows) < 2:
            raise ValueError(f"the equation must have degree >= 1 in G, got table {table!r}")
        width = max(len(r) for r in rows)
        self._rows = [r + [sp.Integer(0)] * (width - len(r)) for r in rows]
        self.degree = len(self._rows) - 1
        self._atom_value = None if atom is None else _to_sympy(atom)
        self._moments_fn = moments
        # float64 and longdouble copies of the table, highest G power first, z ascending
        self._tab_f = [[float(sp.N(c, 20)) for c in row] for row in reversed(self._rows)]
        self._tab_ld = [[np.longdouble(str(sp.N(c, 25))) for c in row] for row in reversed(self._rows)]
        self._mp_tables = {}

    # ---------------------------------------------------------- coefficients
    @property
    def coefficients(self):
        """The coefficient table (exact sympy numbers): ``coefficients[i][j]`` of ``G^i z^j``."""
        return [list(r) for r in self._rows]

    def polynomial(self, G=None, z=None):
        """P(G, z) as a sympy expression (symbols ``G`` and ``z`` by default)."""
        G = sp.Symbol("G") if G is None else G
        z = sp.Symbol("z") if z is None else z
        return sp.Add(*[c * z**j * G**i for i, row in enumerate(self._rows) for j, c in enumerate(row)])

    def _tab_mp(self):
        prec = mpmath.mp.prec
        if prec not in self._mp_tables:
            digits = int(prec * 0.30103) + 10
            self._mp_tables[prec] = [
                [mpmath.mpf(sp.Float(c.evalf(digits), digits)._mpf_) if c != 0 else mpmath.mpf(0) for c in row]
                for row in reversed(self._rows)
            ]
        return self._mp_tables[prec]

    @staticmethod
    def _coeffs(tab, z):
        """Coefficients A_d..A_0 of P(., z) (Horner in z), for arrays or mp numbers."""
        out = []
        for row in tab:
            acc = row[-1] + 0 * z
            for c in reversed(row[:-1]):
                acc = acc * z + c
            out.append(acc)
        return out

    @staticmethod
    def _coeffs_dz(tab, z):
        """z-derivatives of the coefficients A_d..A_0."""
        out = []
        for row in tab:
            acc = 0 * z
            for j in range(len(row) - 1, 0, -1):
                acc = acc * z + j * row[j]
            out.append(acc)
        return out

    def _predict(self, z0, z1, g):
        """Prediction of the root at z1 from the root g at z0, linear in w = 1/z.

        With G' = -P_z / P_G, G moves by G'(z0) (z1 - z0) z0 / z1: exact for G = a/z + b (the
        behaviour at infinity, and at an atom), first-order accurate everywhere else.
        """
        tab = self._tab_f
        _, pg = _horner2(self._coeffs(tab, z0), g)
        pz, _ = _horner2(self._coeffs_dz(tab, z0), g)
        with np.errstate(all="ignore"):
            gp = g - pz / pg * ((z1 - z0) * z0 / z1)
        return np.where(np.isfinite(gp), gp, g)

    # ------------------------------------------------------------ float path
    def _float_scale(self):
        return self._cached("float_scale", lambda: float(self._scale()))

    def _scale(self):
        cands = self._cached("candidates", self._edge_candidates)
        return max([abs(float(c)) for c in cands] + [1e-300]) if cands else 1.0

    def _all_roots(self, A):
        """All roots at each point (batched companion-matrix eigenvalues), shape (n, d)."""
        d = len(A) - 1
        lead = A[0]
        n = lead.shape[0]
        C = np.zeros((n, d, d), dtype=A[0].dtype if np.iscomplexobj(A[0]) else complex)
        with np.errstate(all="ignore"):
            for k in range(d):
                C[:, 0, k] = -A[k + 1] / lead
        for k in range(1, d):
            C[:, k, k - 1] = 1.0
        ok = np.all(np.isfinite(C.reshape(n, -1)), axis=1)
        roots = np.full((n, d), np.nan + 0j)
        if np.any(ok):
            roots[ok] = np.linalg.eigvals(C[ok])
        return roots

    def _nearest(self, A, g):
        roots = self._all_roots(A)
        dist = np.abs(roots - g[:, None])
        dist[~np.isfinite(dist)] = np.inf
        return roots[np.arange(len(g)), np.argmin(dist, axis=1)]

    def _newton(self, tab, z, g, its=3):
        A = self._coeffs(tab, z)
        for _ in range(its):
            p, dp = A[0], 0 * A[0]
            for c in A[1:]:
                dp = dp * g + p
                p = p * g + c
            with np.errstate(all="ignore"):
                step = p / dp
            g = g - np.where(np.isfinite(step), step, 0)
        return g

    def _continue_float(self, z):
        """Continuation of the physical root from x + iY down to the targets z (Im z >= 0).

        All points follow one schedule y = t (|x| + scale), t = 100 e^(-k), down to t = 1e-4, then
        the target (the real axis or y): a step is a Newton correction where the alpha-test
        certifies it, and the few points where it does not are continued adaptively
        (:meth:`_continue_adaptive`) over that step.
        """
        tab = self._tab_f
        x, yt = z.real.copy(), z.imag.copy()
        w = np.abs(x) + self._float_scale()
        y = np.maximum(yt, _T_START * w)
        g = 1.0 / (x + 1j * y)
        # certify the start: Newton from 1/z must converge to the root near it
        for _ in range(8):
            beta, gamma = _alpha_gamma(_taylor(self._coeffs(tab, x + 1j * y), g))
            bad = ~(beta * gamma < _ALPHA) & (y > yt)
            if not np.any(bad):
                break
            y = np.where(bad, y * 10, y)
            g = np.where(bad, 1.0 / (x + 1j * y), g)
        g = self._newton(tab, x + 1j * y, g, 4)
        nsteps = int(np.log(_T_START / _T_END) / _SCHEDULE_STEP) + 1
        ts = list(_T_START * np.exp(-_SCHEDULE_STEP * np.arange(1, nsteps + 1))) + [0.0]
        for t in ts:
            ynew = np.maximum(t * w, yt)
            move = ynew < y
            if not np.any(move):
                continue
            if not np.all(move):
                sub = np.nonzero(move)[0]
                g[sub], y[sub] = self._step(x[sub], y[sub], ynew[sub], g[sub])
            else:
                g, y = self._step(x, y, ynew, g)
        return g

    def _step(self, x, y, ynew, g):
        """One schedule step for all points: certified Newton, adaptive where not certified."""
        A = self._coeffs(self._tab_f, x + 1j * ynew)
        g1, ok = _certified_newton(A, g, self._predict(x + 1j * y, x + 1j * ynew, g))
        out = np.where(ok, g1, g)
        if not np.all(ok):
            bad = np.nonzero(~ok)[0]
            out[bad] = self._continue_adaptive(x[bad], y[bad], ynew[bad], g[bad])
        return out, ynew.copy()

    def _continue_adaptive(self, x, y, yt, g):
        """Per-point adaptive continuation from (x + iy, g) to x + i yt (yt may be 0)."""
        tab = self._tab_f
        x, y, yt, g = x.copy(), y.copy(), yt.copy(), g.copy()
        n = x.size
        h = np.full(n, 0.7)
        active = y > yt
        for _ in range(_MAX_STEPS):
            idx = np.nonzero(active)[0]
            if idx.size == 0:
                break
            yi, hi, xi, yti = y[idx], h[idx], x[idx], yt[idx]
            ynew = np.maximum(yi * np.exp(-hi), yti)
            # on the way to the real axis: try the jump to y = 0 once y is small against |x|
            jump = (yti == 0) & (ynew < 1e-4 * np.abs(xi))
            ynew = np.where(jump, 0.0, ynew)
            znew = xi + 1j * ynew
            gi = g[idx]
            A = self._coeffs(tab, znew)
            g1, ok = _certified_newton(A, gi, self._predict(xi + 1j * yi, znew, gi))
            tiny = (~ok) & (hi / 2 < _H_MIN)
            acc = ok | tiny
            newg = np.where(ok, g1, gi)
            if np.any(tiny):
                newg[tiny] = self._nearest([a[tiny] for a in A], gi[tiny])
            g[idx[acc]] = newg[acc]
            y[idx[acc]] = ynew[acc]
            h[idx] = np.where(ok, np.minimum(hi * 1.5, 3.0), np.where(tiny, 0.7, hi / 2))
            active = y > yt
        else:  # pragma: no cover - safety net
            idx = np.nonzero(active)[0]
            A = self._coeffs(tab, x[idx] + 1j * yt[idx])
            g[idx] = self._nearest(A, g[idx])
        return g

    def _stieltjes_float(self, z):
        return self._stieltjes_float_checked(z)[0]

    def _stieltjes_float_checked(self, z):
        """(G, absolute error bound) on the float path (continuation, then longdouble polish)."""
        z = np.asarray(z, dtype=complex).ravel()
        out = np.full(z.shape, np.nan + 0j)
        err = np.full(z.shape, np.inf)
        idx = np.nonzero(z != 0)[0]
        for k in range(0, idx.size, _CHUNK):  # chunks stay in cache: faster than one big array
            sub = idx[k:k + _CHUNK]
            g = self._continue_float(z[sub])
            g, e = self._polish_ld(z[sub], g)
            out[sub] = g
            err[sub] = e
        return out, err

    def _polish_ld(self, z, g):
        """Two Newton steps in longdouble; returns (g as complex128, error bound)."""
        zl = z.astype(np.clongdouble)
        gl = g.astype(np.clongdouble)
        real_axis = z.imag == 0
        err = np.zeros(z.shape)
        for it in range(2):
            A = self._coeffs(self._tab_ld, zl)
            p, dp = A[0], 0 * A[0]
            mag = np.abs(A[0])
            ag = np.abs(gl)
            for c in A[1:]:
                dp = dp * gl + p
                p = p * gl + c
                mag = mag * ag + np.abs(c)
            with np.errstate(all="ignore"):
                step = p / dp
                cond = mag / np.abs(dp)
            step = np.where(np.isfinite(step), step, 0)
            gl = gl - step
            # Wilkinson's bound for a simple root: rounding in Horner (d + 1 operations) and in
            # the longdouble coefficients, each eps * sum |A_i| |g|^i, over |p'(g)|
            err = np.abs(step).astype(float) + (len(A) + 1) * float(np.finfo(np.longdouble).eps) * \
                np.nan_to_num(cond.astype(float), nan=np.inf)
        gl = np.where(real_axis & (gl.imag > 0), np.conj(gl), gl)
        return gl.astype(complex), err

    def _density_ld(self, x, xl):
        """(ρ as longdouble, absolute error bound) at real points strictly inside the support.

        The float continuation runs at ``x`` (float64), then two longdouble Newton steps at ``xl``
        (the points to 64 bits, e.g. read from their decimals). The bound is the last Newton step
        plus Wilkinson's bound for the rounding of the coefficients, of both Horner schemes (in z
        and in G) and of ``xl`` itself: ``(d + deg_z + 4) eps sum_ij |c_ij| |x|^j |G|^i / |P_G|``.
        Used by :meth:`~nrmt.numerics.law.Law.density_decimal`.
        """
        g = np.empty(x.shape, dtype=complex)
        for k in range(0, x.size, _CHUNK):
            g[k:k + _CHUNK] = self._continue_float(x[k:k + _CHUNK].astype(complex))
        zl = np.asarray(xl, dtype=np.longdouble).astype(np.clongdouble)
        gl = g.astype(np.clongdouble)
        absz = np.abs(zl.real)
        mags = self._coeffs([[abs(c) for c in row] for row in self._tab_ld], absz)
        deg_z = max(len(row) for row in self._tab_ld) - 1
        eps = np.finfo(np.longdouble).eps
        for _ in range(2):
            A = self._coeffs(self._tab_ld, zl)
            p, dp = A[0], 0 * A[0]
            ag = np.abs(gl)
            mag = mags[0] + 0 * ag
            for c, mc in zip(A[1:], mags[1:]):
                dp = dp * gl + p
                p = p * gl + c
                mag = mag * ag + mc
            with np.errstate(all="ignore"):
                step = p / dp
                cond = mag / np.abs(dp)
            step = np.where(np.isfinite(step), step, 0)
            gl = gl - step
        err = np.abs(step) + (len(A) + deg_z + 4) * eps * cond
        err = np.where(np.isfinite(err), err, np.inf).astype(float)
        im = np.where(gl.imag > 0, gl.imag, -gl.imag)   # G(x + i0) has Im G <= 0
        pi = np.longdouble("3.14159265358979323846264338327950288")
        rho = im / pi
        return rho, err / np.pi + 2 * float(eps) * np.abs(rho.astype(float))

    # --------------------------------------------------------------- mp path
    def _mp_coeffs(self, z):
        A = self._coeffs(self._tab_mp(), z)
        while len(A) > 1 and A[0] == 0:
            A = A[1:]
        return A

    def _newton_mp(self, A, g):
        eps = mpmath.mpf(2) ** (-mpmath.mp.prec + 3)
        for _ in range(200):
            p, dp = A[0], mpmath.mpf(0)
            for c in A[1:]:
                dp = dp * g + p
                p = p * g + c
            if dp == 0:
                return None
            step = p / dp
            g = g - step
            if abs(step) <= eps * abs(g):
                p, dp = A[0], mpmath.mpf(0)
                for c in A[1:]:
                    dp = dp * g + p
                    p = p * g + c
                return g - p / dp if dp != 0 else g
        return None

    def _alpha_mp(self, A, g):
        T = _taylor(A, g)
        if T[1] == 0:
            return mpmath.inf
        beta = abs(T[0] / T[1])
        gamma = max([abs(T[k] / T[1]) ** (mpmath.mpf(1) / (k - 1)) for k in range(2, len(T))] + [0])
        return beta * gamma

    def _nearest_mp(self, A, g):
        """The root of the polynomial with coefficients A (highest first) nearest to g: all roots
        isolated by FLINT (``acb_poly.roots``, rigorous disjoint balls refined to the working
        precision), mpmath's ``polyroots`` only when that fails (roots too close to separate)."""
        roots = _flint_roots(A)
        if roots is None:
            try:
                roots = mpmath.polyroots(A, maxsteps=400, extraprec=2 * mpmath.mp.prec)
            except mpmath.libmp.libhyper.NoConvergence as exc:
                raise NoConvergence(f"polynomial roots did not converge: {exc}") from None
        return min(roots, key=lambda r: abs(r - g))

    def _tab_flint(self):
        prec = mpmath.mp.prec
        key = ("flint", prec)
        if key not in self._mp_tables:
            self._mp_tables[key] = [[_mpf_to_arb(c) for c in row] for row in self._tab_mp()]
        return self._mp_tables[key]

    def _newton_flint(self, z, seed):
        """Newton at the current mp precision in python-flint arithmetic (about 10x faster than
        mpmath), from ``seed``, when Smale's alpha-test certifies it; ``None`` otherwise."""
        old = flint.ctx.prec
        flint.ctx.prec = mpmath.mp.prec + 10
        try:
            zz = flint.acb(_mpf_to_arb(mpmath.mpf(z.real)), _mpf_to_arb(mpmath.mpf(z.imag)))
            A = []
            for row in self._tab_flint():
                acc = flint.acb(row[-1])
                for c in reversed(row[:-1]):
                    acc = acc * zz + c
                A.append(acc.mid())
            while len(A) > 1 and A[0] == 0:
                A = A[1:]
            g = flint.acb(complex(seed))
            T = _taylor(A, g)
            t1 = abs(T[1]).mid()
            if t1 == 0:
                return None
            beta = abs(T[0]).mid() / t1
            # alpha = beta * max_k |T_k/T_1|^(1/(k-1)) < A  <=>  beta^(k-1) |T_k/T_1| < A^(k-1) for all k
            for k in range(2, len(T)):
                if not ((beta ** (k - 1)) * abs(T[k]).mid() / t1).mid() < _ALPHA ** (k - 1):
                    return None
            eps = flint.arb(2) ** (-mpmath.mp.prec + 3)
            for _ in range(100):
                p, dp = _horner2(A, g)
                step = (p / dp).mid()
                g = (g - step).mid()
                # quadratic convergence (certified by the alpha-test): once |step|^2 is below
                # eps |g|^2 / 8, one more step reaches the working precision
                if ((abs(step) ** 2).mid() * 8 <= (eps * abs(g) ** 2).mid()):
                    p, dp = _horner2(A, g)
                    g = (g - p / dp).mid()
                    return mpmath.mpc(_arb_to_mpf(g.real), _arb_to_mpf(g.imag))
            return None
        finally:
            flint.ctx.prec = old

    def _stieltjes_mp(self, z, seed):
        z = mpmath.mpc(z)
        if seed is None:
            g = self._continue_mp(z)
        elif flint is not None and (g := self._newton_flint(z, seed)) is not None:
            pass
        else:
            A = self._mp_coeffs(z)
            g = mpmath.mpc(seed)
            if self._alpha_mp(A, g) < _ALPHA:
                g2 = self._newton_mp(A, g)
                g = g2 if g2 is not None else self._nearest_mp(A, g)
            else:
                g = self._nearest_mp(A, g)
        if z.imag == 0 and g.imag > 0:
            g = mpmath.conj(g)
        return mpmath.mpc(g)

    def _predict_mp(self, z0, z1, g):
        """:meth:`_predict` in mpmath (linear in w = 1/z: exact for G = a/z + b); ``None`` where
        the derivative vanishes."""
        tab = self._tab_mp()
        A, Ad = self._coeffs(tab, z0), self._coeffs_dz(tab, z0)
        _, pg = _horner2(A, g)
        pz, _ = _horner2(Ad, g)
        if pg == 0:
            return None
        return g - pz / pg * ((z1 - z0) * z0 / z1)

    def _continue_mp(self, z):
        """Scalar continuation in mpmath (for points the float path cannot represent)."""
        x, yt = z.real, z.imag
        s = mpmath.mpf(self._float_scale())
        y = max(yt, 100 * (abs(x) + s))
        g = 1 / mpmath.mpc(x, y)
        while self._alpha_mp(self._mp_coeffs(mpmath.mpc(x, y)), g) >= _ALPHA:
            y *= 10
            g = 1 / mpmath.mpc(x, y)
        g = self._newton_mp(self._mp_coeffs(mpmath.mpc(x, y)), g)
        h = mpmath.mpf("0.7")
        # below this height the last step goes to the axis: relative to |x| itself (a point a
        # hair from 0, next to an atom, has structure at the scale of x, not of the support)
        tiny_y = mpmath.mpf(2) ** (-mpmath.mp.prec) * (abs(x) if x != 0 else s)
        for _ in range(20 * mpmath.mp.prec + 1000):
            if y <= yt:
                break
            ynew = y * mpmath.exp(-h)
            if yt > 0:
                ynew = max(ynew, yt)
            elif ynew < tiny_y or (x != 0 and ynew < mpmath.mpf(10) ** -4 * abs(x)):
                ynew = mpmath.mpf(0)
            A = self._mp_coeffs(mpmath.mpc(x, ynew))
            gp = self._predict_mp(mpmath.mpc(x, y), mpmath.mpc(x, ynew), g)
            if gp is not None and self._alpha_mp(A, gp) < _ALPHA and \
                    abs(gp - g) <= 0.5 * abs(gp) + abs(g):
                g2 = self._newton_mp(A, gp)
                g = g2 if g2 is not None else self._nearest_mp(A, gp)
                y, h = ynew, min(h * mpmath.mpf("1.5"), 3)
            elif self._alpha_mp(A, g) < _ALPHA:
                g2 = self._newton_mp(A, g)
                g = g2 if g2 is not None else self._nearest_mp(A, g)
                y, h = ynew, min(h * mpmath.mpf("1.5"), 3)
            elif h / 2 < _H_MIN:
                g = self._nearest_mp(A, g)
                y, h = ynew, mpmath.mpf("0.7")
            else:
                h /= 2
        else:  # pragma: no cover
            raise NoConvergence(f"continuation to z = {mpmath.nstr(z, 10)} did not finish")
        return g

    # --------------------------------------------------------------- support
    def discriminant(self, digits=None):
        """The discriminant of P in G as a sympy Poly in ``z`` with rational coefficients.

        Irrational coefficients are replaced by rationals correct to ``digits`` (default
        ``dps + 40``) significant digits first.
        """
        z = sp.Symbol("z")
        coeffs = self._discriminant_fmpz(digits).coeffs()
        return sp.Poly(sum(sp.Integer(int(c)) * z**j for j, c in enumerate(coeffs)), z)

    def _discriminant_fmpz(self, digits=None):
        """The discriminant of P in G (integer coefficients: the rational table with denominators
        cleared, which only scales it) as a python-flint ``fmpz_poly`` in z, by FLINT's
        multivariate resultant (no symbolic elimination)."""
        digits = self.dps + 40 if digits is None else digits

        def compute():
            rows = [[c if c.is_Rational else sp.Rational(sp.N(c, digits)) for c in row] for row in self._rows]
            den = 1
            for row in rows:
                for c in row:
                    den = math.lcm(den, int(c.q))
            terms = {(i, j): int(c.p) * (den // int(c.q)) for i, row in enumerate(rows)
                     for j, c in enumerate(row) if c != 0}
            ctx = flint.fmpz_mpoly_ctx.get(("G", "z"), "lex")
            D = ctx.from_dict(terms).discriminant("G")
            out = [0] * (max((e[1] for e in D.to_dict()), default=0) + 1)
            for (_, j), c in D.to_dict().items():
                out[j] = int(c)
            return flint.fmpz_poly(out)

        return self._cached(("discriminant_fmpz", digits), compute)

    def _edge_candidates(self):
        """Sorted real roots (mpf) of the discriminant and of the leading coefficient, in z:
        isolated rigorously by FLINT (``fmpz_poly.complex_roots``: disjoint enclosures, the real
        roots with an exactly zero imaginary part) and refined to the working digits."""
        D = self._discriminant_fmpz()
        if D.is_zero():
            raise NrmtError("the discriminant vanishes identically: the equation has a repeated factor")
        digits = self.dps + self.guard + 10
        lead = _rational_poly_fmpz([c if c.is_Rational else sp.Rational(sp.N(c, self.dps + 40))
                                    for c in self._rows[-1]])
        cands = set()
        for poly in (D, lead):
            if poly.degree() < 1:
                continue
            cands.update(_real_roots(poly, digits))
        # A root known only numerically (coefficients with pi, sqrt(2), ...) can land a rounding
        # error away from an exact one (e.g. -2e-57 beside the exact 0 of the leading
        # coefficient): merge candidates closer than the working accuracy, keeping 0 exact.
        out = []
        tol = mpmath.mpf(10) ** (-(digits - 10))
        for c in sorted(cands, key=lambda v: (abs(v) > 0, v)):
            if all(abs(c - o) > tol * max(1, abs(o)) for o in out):
                out.append(c)
        return sorted(out)

    def _breakpoints(self):
        """Real parts of the complex branch points (discriminant roots) close to the real axis:
        the density is nearly singular there, so the quadrature splits at them."""

        def compute():
            D = self._discriminant_fmpz()
            if D.degree() < 1:
                return []
            out = []
            with flint.ctx.workprec(int((self.dps + self.guard) * 3.33) + 20), \
                    mpmath.workdps(self.dps + self.guard + 10):
                for r, _mult in D.complex_roots():
                    if not r.imag.is_zero() and abs(r.imag) <= abs(r.real) / 2:
                        out.append(_arb_to_mpf(r.real))
            return sorted(set(out))

        return self._cached("breakpoints", compute)

    def _support(self):
        cands = self._cached("candidates", self._edge_candidates)
        if len(cands) < 2:
            return []
        on = []
        for a, b in zip(cands[:-1], cands[1:]):
            mid = (a + b) / 2
            seed = self._float_path(np.array([complex(float(mid))]))[0]
            g = self._mp_point(mpmath.mpc(mid), seed, dps=20)
            on.append(-g.imag > mpmath.mpf(10) ** -15 * abs(g))
        out = []
        for (a, b), flag in zip(zip(cands[:-1], cands[1:]), on):
            if not flag:
                continue
            if out and out[-1][1] == a:
                out[-1] = (out[-1][0], b)
            else:
                out.append((a, b))
        return out

    # ------------------------------------------------------------ atom/moments
    def _atom(self):
        if self._atom_value is not None:
            if self._atom_value == 0:
                return mpmath.mpf(0)
            return mpmath.mpf(sp.Float(self._atom_value.evalf(mpmath.mp.dps + 5), mpmath.mp.dps + 5)._mpf_)
        return self._atom_puiseux()

    def _atom_puiseux(self):
        r"""The atom at 0 from the Puiseux expansion G = u/z + o(1/z) at z = 0.

        Substituting :math:`G = u/z` and keeping the lowest power of z gives a polynomial R(u)
        whose real roots in [0, 1] are the candidate masses; the one nearest to
        :math:`\operatorname{Re}(iy\,G(iy))` at small y (float continuation) is the atom.
        """
        u, z = sp.symbols("u z")
        terms = [(c if c.is_Rational else sp.Rational(sp.N(c, mpmath.mp.dps + 40)), i, j - i)
                 for i, row in enumerate(self._rows) for j, c in enumerate(row) if c != 0]
        low = min(e for _, _, e in terms)
        R = sp.Poly(sum(c * u**i for c, i, e in terms if e == low), u)
        cands = [mpmath.mpf(0)]
        if R.degree() >= 1:
            for v in _real_roots(_rational_poly_fmpz(list(reversed(R.all_coeffs()))), mpmath.mp.dps + 10):
                if 0 < v <= 1:
                    cands.append(v)
        if len(cands) == 1:
            return cands[0]
        y = 1e-9 * self._float_scale()
        est = (1j * y * self._float_path(np.array([1j * y]))[0]).real
        return min(cands, key=lambda c: abs(c - est))

    def _moments(self, k):
        if self._moments_fn is None:
            return None
        return self._moments_fn(k)
