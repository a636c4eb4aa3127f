r"""The Law: one machinery for every limiting spectral law nrmt computes.

Every model of nrmt (one layer, bias, several layers, Jacobians) ends in a probability law on the
real line described by its Stieltjes transform

.. math::  G(z) = \int \frac{\rho(\mathrm{d}t)}{z - t}, \qquad G(z) \sim 1/z \ (z \to \infty),

taken on its *physical branch* (the one analytic off the support with :math:`G \sim 1/z`, so that
:math:`\operatorname{Im} G < 0` on the upper half plane). :class:`Law` turns the Stieltjes transform
into everything a user asks for — density :math:`\rho(x) = -\operatorname{Im} G(x + i0)/\pi`, the
atom at 0, the support (a union of intervals), the CDF, quantiles, moments, an ``auto`` grid and a
table — written once, with the precision handling (guard digits, verification, ``NoConvergence``)
written once too. A model only supplies its equation.

Precision
---------
``Law(dps=D)`` returns every number correct to ``D`` significant digits:

* ``D <= 15``: the float path. ``_stieltjes_float`` is vectorised over many points (numpy
  ``complex128``); the subclass may also return an error estimate (:meth:`Law._stieltjes_float_error`)
  and the points whose density is not certified to ``D`` digits are recomputed on the mpmath path.
  Arrays come back as ``numpy.ndarray`` of ``float64``.
* ``D > 15``: the mpmath path (results are :class:`~nrmt.theory.digits.Mpf`: an ``mpf`` that
  prints its ``D`` digits whatever the global ``mpmath.mp.dps``). For each point the float path gives a seed, then
  ``_stieltjes_mp(z, seed)`` runs at ``D + guard`` digits and again at ``D + 2 guard`` digits from the
  first result; the two must agree to ``D`` digits in the real and the imaginary part, else the
  guard is doubled (up to :attr:`Law.max_guard`) and :class:`~nrmt.theory.errors.NoConvergence` is
  raised when it never agrees. Lists of ``mpmath.mpf`` come back, rounded to ``D`` digits.

``mpmath.mp.dps`` is never left changed (everything runs inside ``mpmath.workdps``); caches key on
the precision.

How to add a law
----------------
Subclass :class:`Law` (or :class:`nrmt.numerics.algebraic.AlgebraicLaw` when :math:`G` solves a
polynomial equation :math:`P(G, z) = 0`, which then needs only the coefficient table) and implement
the hooks, which hold only the mathematics (the public methods validate and mask):

``_stieltjes_float(z)``
    ``z``: ``complex128`` ndarray with ``Im z >= 0``, ``Im z == 0`` meaning the boundary value
    :math:`G(x + i0)` from the upper half plane. Return :math:`G` on the physical branch (vectorised).
    Select the branch by continuation from infinity (never by "the root with ``Im G < 0``" point
    by point).
``_stieltjes_mp(z, seed)``
    ``z``: ``mpc`` (``Im z >= 0``, same convention), ``seed``: a ``complex`` approximation of the
    answer (from the float path, or a previous, less precise mp result), or ``None`` where the
    float path cannot represent the point (the hook must then find the branch itself). Return
    :math:`G(z)` as ``mpc`` at the *current* mpmath precision (the base class sets it and
    verifies the digits).
``_support()``
    List of ``(lo, hi)`` pairs of ``mpf`` at the current precision, sorted, disjoint. Optional: the
    default locates the edges from the density itself (slow; override it when the law has a formula
    or a discriminant).
``_atom()``
    The mass at 0 as ``mpf`` at the current precision. Optional: the default is 0.
``_moments(k)``
    Optional closed form: list of the raw moments :math:`m_1 \dots m_k` (atom included) as ``mpf`` at
    the current precision, or ``None`` (the default) to integrate the density.
``_scale()``
    Optional: a float giving the size of the support (default: the largest edge, else 1).
``_stieltjes_float_error(z, G)`` or ``_stieltjes_float_checked(z) -> (G, err)``
    Optional: absolute error bounds of the float path (default ``None``: trusted); points whose
    density is not certified to ``dps`` digits are recomputed on the mp path.
``_breakpoints()``
    Optional: interior points where the density is nearly singular (a branch point just off the
    real axis); the CDF/moment quadrature splits there.

A minimal example, the semicircle law of variance 1, :math:`G = (z - \sqrt{z^2 - 4})/2`:

>>> import numpy as np, mpmath
>>> class Semicircle(Law):
...     def _stieltjes_float(self, z):
...         r = np.sqrt(z - 2) * np.sqrt(z + 2)          # branch with r ~ z at infinity
...         return (z - r) / 2
...     def _stieltjes_mp(self, z, seed):
...         return (z - mpmath.sqrt(z - 2) * mpmath.sqrt(z + 2)) / 2
...     def _support(self):
...         return [(mpmath.mpf(-2), mpmath.mpf(2))]
>>> law = Semicircle(dps=30)
>>> mpmath.nstr(law.density(0), 30)                     # 1/pi
'0.318309886183790671537767526745'
>>> Semicircle().moments(4).round(9) + 0.0             # 0, 1, 0, 2 (Catalan numbers)
array([0., 1., 0., 2.])

References
----------
.. [1] J. Pennington and P. Worah, "Nonlinear random matrix theory for deep learning", NIPS 2017
   (Stieltjes transform conventions, Sec. 2).
.. [2] H. Takahasi and M. Mori, "Double exponential formulas for numerical integration",
   Publ. RIMS 9 (1974) (the tanh-sinh rule of the CDF and moments).
"""

import copy
import math
import numbers
import operator

import mpmath
import numpy as np

from nrmt.theory.digits import with_digits
from nrmt.theory.equations.display import law_latex, law_repr
from nrmt.theory.errors import NoConvergence

__all__ = ["Law", "check_dps"]

_FLOAT_DPS = 15


def check_dps(dps):
    """Validate a number of decimal digits (an integer >= 1) and return it as ``int``.

    >>> check_dps(30)
    30
    """
    if isinstance(dps, bool) or not isinstance(dps, numbers.Integral):
        raise TypeError(f"dps must be an integer, got {dps!r}")
    if dps < 1:
        raise ValueError(f"dps must be >= 1, got {dps}")
    return int(dps)


def _as_points(values, name, dps=15):
    """Real points as a list of mpf at ``dps`` digits (strings allowed), and whether a scalar came."""
    scalar = np.ndim(values) == 0 if not isinstance(values, (list, tuple)) else False
    seq = [values] if scalar else list(np.ravel(np.asarray(values, dtype=object)))
    out = []
    for v in seq:
        if isinstance(v, (complex, mpmath.mpc)) and not isinstance(v, (float, int)):
            raise TypeError(f"{name} must be real, got {v!r}")
        try:
            with mpmath.workdps(dps):
                m = mpmath.mpf(v)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be real numbers, got {v!r}") from None
        if mpmath.isnan(m) or mpmath.isinf(m):
            raise ValueError(f"{name} must be finite, got {v!r}")
        out.append(m)
    return out, scalar


def _as_floats(values, name):
    """Real points as a flat float64 array (fast path), and whether a scalar came."""
    scalar = np.ndim(values) == 0 and not isinstance(values, (list, tuple))
    try:
        arr = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        xs, scalar = _as_points(values, name)
        arr = np.array([float(v) for v in xs])
    if np.iscomplexobj(np.asarray(values)):
        raise TypeError(f"{name} must be real, got complex values")
    if not np.all(np.isfinite(arr)):
        bad = arr[~np.isfinite(arr)][0]
        raise ValueError(f"{name} must be finite, got {bad}")
    return arr, scalar


class Law:
    """A probability law on the real line given by its Stieltjes transform (abstract base).

    Parameters
    ----------
    dps : int, optional
        Decimal digits of every returned number (default 15: the float path).

    Notes
    -----
    See the module docstring for the hooks a subclass implements and the precision contract.
    """

    #: Guard digits added to ``dps`` on the mpmath path (doubled on disagreement).
    guard = 10
    #: Largest guard tried before raising NoConvergence.
    max_guard = 400

    def __init__(self, dps=15):
        self._dps = check_dps(dps)
        self._cache = {}

    # ------------------------------------------------------------------ hooks
    def _stieltjes_float(self, z):
        raise NotImplementedError(f"{type(self).__name__} has no float path (_stieltjes_float)")

    def _stieltjes_mp(self, z, seed):
        raise NotImplementedError(f"{type(self).__name__} has no mpmath path (_stieltjes_mp)")

    def _stieltjes_float_error(self, z, g):
        return None

    def _stieltjes_float_checked(self, z):
        """(G, absolute error bound or None) on the float path; override to compute both at once."""
        g = self._stieltjes_float(z)
        return g, self._stieltjes_float_error(z, g)

    def _support(self):
        return self._support_from_density()

    def _atom(self):
        return mpmath.mpf(0)

    def _moments(self, k):
        return None

    def _scale(self):
        sup = self.support_mp
        return max([abs(float(e)) for iv in sup for e in iv] + [1e-300]) if sup else 1.0

    def __repr__(self):
        return law_repr(self)

    def _repr_latex_(self):
        """The law typeset in a notebook: parameters and, for an algebraic law, its equation."""
        return law_latex(self)

    # ------------------------------------------------------------ precision
    @property
    def dps(self):
        """Decimal digits of the returned numbers."""
        return self._dps

    @property
    def is_float(self):
        """Whether this law answers on the float64 path (``dps <= 15``)."""
        return self._dps <= _FLOAT_DPS

    def with_dps(self, dps):
        """The same law answering at another precision (caches are kept per precision)."""
        new = copy.copy(self)
        new._dps = check_dps(dps)
        new._cache = self._cache  # entries are keyed on dps
        return new

    def _cached(self, key, fn):
        full = (key, self._dps)
        if full not in self._cache:
            self._cache[full] = fn()
        return self._cache[full]

    #: digits kept beyond ``dps`` in returned mpf values: rounding them to ``dps`` binary digits
    #: first and to ``dps`` decimal digits when printed would round twice (the last printed digit
    #: wrong for a few per cent of values); a printer rounds these once, correctly
    _KEEP = 5

    def _round(self, value):
        # an Mpf prints dps digits (not those of the global mp.dps), see nrmt.theory.digits
        with mpmath.workdps(self._dps + self._KEEP):
            return with_digits(+value, self._dps)

    def _out(self, values_mp, scalar, to_float=None):
        """Format results: float64 array (float path) or list of mpf rounded to dps."""
        if self.is_float:
            arr = np.array([float(v) for v in values_mp]) if to_float is None else to_float
            return float(arr[0]) if scalar else arr
        vals = [self._round(v) for v in values_mp]
        return vals[0] if scalar else vals

    # ------------------------------------------------------------ stieltjes
    def _float_path(self, z):
        """Vectorised physical-branch G on complex128 points of any half plane."""
        z = np.asarray(z, dtype=complex)
        lower = z.imag < 0
        zz = np.where(lower, np.conj(z), z)
        g = np.asarray(self._stieltjes_float(zz), dtype=complex)
        return np.where(lower, np.conj(g), g)

    def _mp_point(self, z, seed, dps=None):
        """G(z) (Im z >= 0) to ``dps`` digits, verified by a recomputation with more guard digits."""
        dps = self._dps if dps is None else dps
        guard = self.guard
        tol = mpmath.mpf(10) ** (-dps - 1)
        seed = None if seed is None else complex(seed)
        while guard <= self.max_guard:
            with mpmath.workdps(dps + guard):
                g1 = self._stieltjes_mp(mpmath.mpc(z), seed)
            with mpmath.workdps(dps + 2 * guard):
                g2 = self._stieltjes_mp(mpmath.mpc(z), g1)
                floor = abs(g2) * mpmath.mpf(10) ** (-dps - guard)
                ok = all(
                    abs(a - b) <= tol * max(abs(b), floor)
                    for a, b in ((g1.real, g2.real), (g1.imag, g2.imag))
                )
            if ok:
                with mpmath.workdps(dps + guard):
                    return +g2
            guard *= 2
            seed = g2
        raise NoConvergence(
            f"Stieltjes transform at z = {mpmath.nstr(z, 10)} did not settle to {dps} digits "
            f"with up to {self.max_guard} guard digits"
        )

    def _mp_many(self, zs, dps=None, seeds=None):
        """G at a list of mpc points (any half plane), verified, at ``dps + guard`` precision
        (``seeds``: the float path's values at the points, when the caller has them batched)."""
        if not zs:
            return []
        zc = np.array([complex(z) for z in zs])
        if seeds is None:
            with np.errstate(all="ignore"):
                seeds = self._float_path(zc)
        out = []
        for z, s, c in zip(zs, seeds, zc):
            # no float seed where the point is not representable (underflow, overflow); a point
            # that rounds onto an edge keeps the edge's value as seed (the subclass then picks the
            # nearest root among all)
            if not np.isfinite(s) or (z != 0 and (c == 0 or abs(c) < 1e-280 or abs(c) > 1e280)):
                s = None
            if z.imag < 0:
                out.append(mpmath.conj(self._mp_point(mpmath.conj(z), None if s is None else np.conj(s), dps)))
            else:
                out.append(self._mp_point(z, s, dps))
        return out

    def stieltjes(self, z):
        """The Stieltjes transform G(z) on the physical branch.

        Parameters
        ----------
        z : complex or array_like of complex
            Points off the support; a real point of the support gives the boundary value
            :math:`G(x + i0)` from the upper half plane.

        Returns
        -------
        complex or ndarray (float path), mpc or list of mpc (``dps > 15``)
        """
        scalar = np.ndim(z) == 0 and not isinstance(z, (list, tuple))
        seq = [z] if scalar else list(np.ravel(np.asarray(z, dtype=object)))
        zs = []
        for v in seq:
            try:
                with mpmath.workdps(self._dps + self.guard):
                    m = mpmath.mpc(v)
            except (TypeError, ValueError):
                raise TypeError(f"z must be complex numbers, got {v!r}") from None
            if mpmath.isnan(m) or mpmath.isinf(m):
                raise ValueError(f"z must be finite, got {v!r}")
            zs.append(m)
        if self.is_float:
            g = self._float_path(np.array([complex(v) for v in zs]))
            return complex(g[0]) if scalar else g
        vals = []
        with mpmath.workdps(self._dps + self.guard):
            gs = self._mp_many(zs)
        for g in gs:
            with mpmath.workdps(self._dps):
                vals.append(+g)
        return vals[0] if scalar else vals

    # --------------------------------------------------------------- support
    @property
    def support_mp(self):
        """The support as a list of ``(lo, hi)`` pairs of ``mpf`` at ``dps + guard`` digits."""

        def compute():
            with mpmath.workdps(self._dps + self.guard):
                return [(+a, +b) for a, b in self._support()]

        return self._cached("support", compute)

    @property
    def support(self):
        """The support of the absolutely continuous part: list of ``(lo, hi)`` intervals.

        Floats when ``dps <= 15``, ``mpf`` rounded to ``dps`` digits otherwise.
        """
        if self.is_float:
            return [(float(a), float(b)) for a, b in self.support_mp]
        return [(self._round(a), self._round(b)) for a, b in self.support_mp]

    @property
    def atom(self):
        """The mass of the atom at 0 (float, or mpf when ``dps > 15``)."""

        def compute():
            with mpmath.workdps(self._dps + self.guard):
                return +self._atom()

        a = self._cached("atom", compute)
        return float(a) if self.is_float else self._round(a)

    def _inside(self, x):
        """Index of the support interval holding x (closed), else None."""
        for i, (a, b) in enumerate(self.support_mp):
            if a <= x <= b:
                return i
        return None

    def _hard_edge_at_zero(self):
        sup = self.support_mp
        return bool(sup) and sup[0][0] == 0

    # --------------------------------------------------------------- density
    def _density_mp(self, xs, dps=None):
        """Density at mp points (no validation), at dps + guard precision; 0 off the support."""
        res = [mpmath.mpf(0)] * len(xs)
        todo = []
        for i, x in enumerate(xs):
            k = self._inside(x)
            if k is None:
                continue
            a, b = self.support_mp[k]
            if x == 0 and a == 0:
                res[i] = mpmath.inf
            elif x == a or x == b:
                continue
            else:
                todo.append(i)
        zs = [mpmath.mpc(xs[i]) for i in todo]
        gs = self._interior_checked(zs, self._mp_many(zs, dps), dps)
        for i, g in zip(todo, gs):
            res[i] = max(mpmath.mpf(0), -g.imag / mpmath.pi)
        return res

    def _interior_checked(self, zs, gs, dps):
        """Points strictly inside the support where the seeded solve returned a real G (a real root
        next to the physical pair: e.g. a float seed a hair from a hard edge at 0 beside an atom,
        where the pair is closer than float resolution) are solved again without a seed (the
        continuation from far away, verified at two precisions)."""
        out = list(gs)
        for i, (z, g) in enumerate(zip(zs, gs)):
            if not g.imag < 0:
                out[i] = self._mp_point(z, None, dps)
        return out

    def _density_float_raw(self, x):
        """-Im G(x + i0)/pi at float points strictly inside the support (quadrature nodes)."""
        g = self._float_path(np.asarray(x, dtype=float).astype(complex))
        return np.maximum(0.0, -g.imag / np.pi)

    def _density_float_nodes(self, x):
        """(rho, absolute error bound or None) at float quadrature nodes strictly inside the support:
        the raw float path, with the bound where the law gives one (:meth:`_stieltjes_float_checked`)."""
        cls = type(self)
        if cls._stieltjes_float_checked is Law._stieltjes_float_checked and \
                cls._stieltjes_float_error is Law._stieltjes_float_error:
            return self._density_float_raw(x), None
        g, err = self._stieltjes_float_checked(np.asarray(x, dtype=float).astype(complex))
        rho = np.maximum(0.0, -np.asarray(g).imag / np.pi)
        return rho, (None if err is None else np.asarray(err, dtype=float) / np.pi)

    def _density_points_mp(self, xs, a, b, dps=None, seeds=None):
        """Density at mp points of [a, b] (inside one support interval), verified to ``dps``
        digits (default: dps + 4, so that a quadrature rule can converge to dps + 2 digits);
        ``seeds``: the float path's G at the points, if the caller computed them batched."""
        k = self._inside((a + b) / 2)
        if k is None:
            return [mpmath.mpf(0)] * len(xs)
        a, b = self.support_mp[k]
        dps = self._dps + 4 if dps is None else dps
        if seeds is None:
            inner = [mpmath.mpc(x) for x in xs if a < x < b]
            gs = iter(self._interior_checked(inner, self._mp_many(inner, dps), dps))
        else:
            pairs = [(x, s) for x, s in zip(xs, seeds) if a < x < b]
            inner = [mpmath.mpc(x) for x, _ in pairs]
            gs = iter(self._interior_checked(inner, self._mp_many(inner, dps, np.array([s for _, s in pairs])), dps))
        out = []
        for x in xs:
            if a < x < b:
                out.append(max(mpmath.mpf(0), -next(gs).imag / mpmath.pi))
            else:
                out.append(mpmath.mpf(0))
        return out

    def _density_float(self, x):
        """Density at float points (no validation), certified to dps digits where the subclass
        gives error bounds (uncertified points go through the mp path)."""
        x = np.asarray(x, dtype=float)
        out = np.zeros(x.shape)
        mask = np.zeros(x.shape, dtype=bool)
        for a, b in self.support_mp:
            fa, fb = float(a), float(b)
            mask |= (x > fa) & (x < fb)
        if self._hard_edge_at_zero():
            out[x == 0] = np.inf
        idx = np.nonzero(mask)[0]
        if idx.size:
            z = x[idx].astype(complex)
            g, err = self._stieltjes_float_checked(z)
            rho = np.maximum(0.0, -g.imag / np.pi)
            if err is not None:
                bad = ~(err / np.pi <= 0.5 * 10.0 ** (-self._dps) * rho) | ~(rho > 0)
                if np.any(bad):
                    xs = [mpmath.mpf(float(v)) for v in x[idx][bad]]
                    rho[bad] = [float(v) for v in self._density_mp(xs, self._dps)]
            out[idx] = rho
        return out

    def density(self, x):
        r"""The density :math:`\rho(x) = -\operatorname{Im} G(x + i0)/\pi` of the continuous part.

        The atom at 0 is not included (see :attr:`atom`); 0 outside the support; ``inf`` at a
        hard edge at 0.

        Parameters
        ----------
        x : real or array_like of real

        Returns
        -------
        float or ndarray of float64 (``dps <= 15``), mpf or list of mpf (``dps > 15``)
        """
        if self.is_float:
            arr, scalar = _as_floats(x, "x")
            arr = self._density_float(arr)
            return float(arr[0]) if scalar else arr
        xs, scalar = _as_points(x, "x", self._dps + self.guard)
        with mpmath.workdps(self._dps + self.guard):
            vals = self._density_mp(xs)
        return self._out(vals, scalar)

    def density_decimal(self, points):
        r"""The density at points written as decimals, each value right to ``dps`` digits *at the
        decimal as written* (not at its nearest binary float).

        The density is ill-conditioned in x next to an edge (square-root onset), so the path is
        chosen point by point from the law's certified accuracy:

        * ``dps > 15``: the mp path, which reads each decimal exactly (list of mpf, as
          :meth:`density`).
        * ``dps <= 15`` and a law with longdouble error bounds (``_density_ld``, e.g.
          :class:`~nrmt.numerics.algebraic.AlgebraicLaw`): each point is read to 64 bits, ρ and a
          bound on its error (rounding of the point included) are computed on the float path; where
          the bound leaves the rounding to ``dps`` significant digits decided, the value returned is
          the float nearest to the correctly rounded decimal. The other points (next to an edge,
          next to a rounding boundary) go through the mp path at the exact decimal.
        * ``dps <= 15`` without such bounds: :meth:`density` at the nearest floats.

        Parameters
        ----------
        points : sequence of str (or numbers: read with ``str``)

        Returns
        -------
        ndarray of float64 (``dps <= 15``) or list of mpf (``dps > 15``)
        """
        texts = [p if isinstance(p, str) else str(p) for p in points]
        if not self.is_float:
            return self.density(texts)
        x = np.array([float(t) for t in texts], dtype=float) if texts else np.zeros(0)
        if not np.all(np.isfinite(x)):
            raise ValueError(f"x must be finite, got {texts[int(np.argmin(np.isfinite(x)))]}")
        ld = getattr(self, "_density_ld", None)
        if ld is None or np.finfo(np.longdouble).eps >= np.finfo(float).eps:
            return self._density_float(x)
        xl = np.array(texts, dtype=np.longdouble)
        out = np.zeros(x.size)
        todo = np.zeros(x.size, dtype=bool)
        inside = np.zeros(x.size, dtype=bool)
        eps = float(np.finfo(np.longdouble).eps)
        for a, b in self.support_mp:
            al, bl = np.longdouble(mpmath.nstr(a, 25)), np.longdouble(mpmath.nstr(b, 25))
            near = (np.abs(xl - al) <= 8 * eps * np.abs(al)) | (np.abs(xl - bl) <= 8 * eps * np.abs(bl))
            todo |= near
            inside |= (xl > al) & (xl < bl) & ~near
        if self._hard_edge_at_zero():
            todo |= xl == 0
            inside &= xl != 0
        idx = np.nonzero(inside)[0]
        if idx.size:
            rho, err = ld(x[idx], xl[idx])
            val, ok = _round_decided(rho, err, self._dps)
            out[idx[ok]] = val[ok]
            todo[idx[~ok]] = True
        rest = np.nonzero(todo)[0]
        # the mp path reads a point to its working precision: next to an edge ρ depends on x - a,
        # so a point 10^-k (relative) from an edge is read and solved with k more digits
        edges = [e for iv in self.support_mp for e in iv]
        groups = {}
        with mpmath.workdps(self._dps + self.guard + 60):
            for i in rest:
                xm = mpmath.mpf(texts[i])
                dist = min((abs(xm - e) for e in edges), default=mpmath.inf)
                extra = 0 if xm == 0 or dist == 0 else int(mpmath.ceil(mpmath.log10(abs(xm) / dist)))
                groups.setdefault(min(max(extra, 0), 60), []).append(i)
        for extra, idx_group in groups.items():
            with mpmath.workdps(self._dps + self.guard + extra):
                xs = [mpmath.mpf(texts[i]) for i in idx_group]
                vals = self._density_mp(xs, self._dps + 1 + extra)
                out[idx_group] = [float(mpmath.nstr(v, self._dps)) if mpmath.isfinite(v) else float(v)
                                  for v in vals]
        return out

    # ----------------------------------------------------------- quadrature
    def _breakpoints(self):
        """Interior points where the density is nearly singular (a branch point of G just off
        the real axis): the quadrature splits there. Default: none."""
        return []

    def _integrate(self, a, b, weight=None, exact_mp=None):
        """Integral of rho(t) * weight(t) over [a, b] inside one support interval.

        Tanh-sinh (double-exponential) rule [2]_, which is insensitive to the algebraic endpoint
        singularities of the density (square-root edges, x^(-2/3) or x^(-1/2) at a hard edge at 0),
        on the pieces between the law's :meth:`_breakpoints`, each bisected while two levels of
        the rule disagree (a nearly singular point inside). Float path: vectorised levels to
        ~1e-14. mp path: Gauss-Legendre where it converges fast (:meth:`_rule_for`: pieces away
        from the marks, or in u with x = edge +- L u^2 next to a square-root edge), pieces
        bisected towards the marks until it applies; tanh-sinh, truncated where its terms are
        negligible, on what is left (other edge exponents, breakpoints).
        """
        use_mp = not self.is_float if exact_mp is None else exact_mp
        pts = [a] + sorted(p for p in self._breakpoints() if a < p < b) + [b]
        total = mpmath.mpf(0)
        for lo, hi in zip(pts[:-1], pts[1:]):
            total += self._adaptive(lo, hi, weight, use_mp, 0)
        return total

    def _marks(self):
        """Support edges, breakpoints and 0 (where G of a Gram or product law may have a pole,
        e.g. the 1/x of Marchenko-Pastur): where the density or its continuation is singular."""
        return [e for iv in self.support_mp for e in iv] + list(self._cached("breakpoints_law", self._breakpoints)) \
            + [mpmath.mpf(0)]

    def _clear(self, a, b, factor, skip=None):
        """Whether every mark (edge, breakpoint) other than ``skip`` lies at least ``factor``
        times the length of [a, b] away from it."""
        gap = factor * (b - a)
        return all(e == skip or e <= a - gap or e >= b + gap for e in self._marks())

    def _rule_for(self, a, b):
        """The Gauss-Legendre form that converges fast on [a, b]: ``"smooth"`` (every mark a
        length away: the density is analytic on a Bernstein ellipse with rho >= 3 + sqrt 8, 1.5
        digits a node), the edge ``a`` or ``b`` (a support edge, every other mark three lengths
        away: x = edge +- (b - a) u^2 makes sqrt(|x - edge|) dx analytic in u), or None."""
        # beyond 100 digits the panels are kept twice as far from the marks (rho >= 9.9, 1
        # digit a Chebyshev coefficient: 486 points reach 300 digits)
        far = 1 if self._dps <= 100 else 2
        if self._clear(a, b, far):
            return "smooth"
        edges = [e for iv in self.support_mp for e in iv]
        marks = self._marks()
        for end, other in ((a, b), (b, a)):
            if end in edges and other not in marks and self._clear(a, b, 3 * far, skip=end):
                return end
        return None

    def _adaptive(self, a, b, weight, use_mp, depth):
        if use_mp and depth < 12:
            rule = self._rule_for(a, b)
            if rule is not None:
                val, ok = _gauss_legendre_mp(self, a, b, weight, edge=None if rule == "smooth" else rule)
                if ok:
                    return val
            if rule == "smooth" or (rule is None and depth < 10):
                # halves are relatively further from the singularities: pieces shrink towards
                # an edge or breakpoint until a rule applies (a law with another exponent at an
                # edge falls to tanh-sinh)
                mid = (a + b) / 2
                return (self._adaptive(a, mid, weight, use_mp, depth + 1)
                        + self._adaptive(mid, b, weight, use_mp, depth + 1))
        if use_mp:
            val, ok = _tanh_sinh_mp(self, a, b, weight)
        else:
            val, ok = _tanh_sinh_float(self, float(a), float(b), weight)
        if ok or (not use_mp and depth >= 6):  # float: the rule is at rounding level by then
            return val
        if depth >= 12:
            raise NoConvergence(f"tanh-sinh quadrature on [{mpmath.nstr(a, 8)}, {mpmath.nstr(b, 8)}] "
                                f"did not reach {self._dps} digits after {depth} bisections")
        mid = (a + b) / 2
        return self._adaptive(a, mid, weight, use_mp, depth + 1) + self._adaptive(mid, b, weight, use_mp, depth + 1)

    def _cdf_mp(self, x):
        total = self._cached("atom_mp", lambda: self.atom_mp)
        if x < 0:
            return mpmath.mpf(0)
        for a, b in self.support_mp:
            if x <= a:
                break
            total += self._piece(a, min(x, b))
        return total

    @property
    def atom_mp(self):
        """The atom as mpf at dps + guard digits."""
        self.atom  # fills the cache
        return self._cache[("atom", self._dps)]

    def _piece(self, a, c):
        key = ("piece", a, c)
        if (key, self._dps) not in self._cache:
            self._cache[(key, self._dps)] = self._integrate(a, c)
        return self._cache[(key, self._dps)]

    def cdf(self, x, integrals=None):
        r"""The distribution function :math:`F(x) = \mathrm{atom}\,[x \ge 0] + \int_{-\infty}^x \rho`.

        Parameters
        ----------
        x : real or array_like of real
        integrals : callable, optional
            ``integrals(pairs) -> list``: the integrals of the density over a list of intervals
            ``(a, b)`` (mpf), each as :meth:`integrals` of this law computes it — a way to spread
            the integrals of many points over processes (``nrmt table --workers``). The values
            are summed here in the same order as without it, so the result is the same to the
            last digit.

        Returns
        -------
        float or ndarray (``dps <= 15``), mpf or list of mpf
        """
        xs, scalar = _as_points(x, "x", self._dps + self.guard)
        with mpmath.workdps(self._dps + self.guard):
            # the sweep pays off on the mp path; the float rule on many short gaps bisects to its
            # depth limit (relative tolerance on tiny integrals), so floats keep one integral each
            generic = type(self)._cdf_mp is Law._cdf_mp
            if len(xs) > 1 and not self.is_float and generic:
                vals = self._cdf_sweep(xs) if integrals is None else self._cdf_pieces(xs, integrals)
            elif integrals is not None and generic:
                vals = self._cdf_points(xs, integrals)
            else:
                vals = [self._cdf_mp(v) for v in xs]
        return self._out(vals, scalar)

    def cdf_decimal(self, points, integrals=None):
        """The distribution function at points written as decimals (as :meth:`density_decimal`,
        the law reads them): the nearest floats on the float path, the decimals exactly at the
        working precision on the mp path. ``integrals`` as in :meth:`cdf`.

        Returns
        -------
        ndarray of float64 (``dps <= 15``) or list of mpf
        """
        texts = [p if isinstance(p, str) else str(p) for p in points]
        if self.is_float:
            return self.cdf(np.array([float(t) for t in texts], dtype=float), integrals=integrals)
        with mpmath.workdps(self._dps + self.guard):
            return self.cdf([mpmath.mpf(t) for t in texts], integrals=integrals)

    def _cdf_sweep(self, xs):
        """F at many points in one pass: each support interval is cut into panels on which the
        (mapped) density has a Chebyshev interpolant converged to the working digits
        (:meth:`_panels`); F at a point is the mass of the panels before it plus the integral of
        that interpolant, so a table of N rows costs a few hundred density values instead of N
        integrals. Panels where no interpolant converges are integrated between the points."""
        out = [mpmath.mpf(0)] * len(xs)
        sup = self.support_mp
        acc = self.atom_mp
        k = 0
        for i in sorted(range(len(xs)), key=lambda j: xs[j]):
            x = xs[i]
            if x < 0:
                continue
            while k < len(sup) and sup[k][1] <= x:
                acc += self._partial(k, sup[k][1])
                k += 1
            if k < len(sup) and sup[k][0] < x:
                out[i] = acc + self._partial(k, x)
            else:
                out[i] = acc
        return out

    def integrals(self, pairs):
        """The integrals of the density over the intervals ``(a, b)`` of ``pairs`` (list of mpf
        at the working precision, the pieces that :meth:`cdf` adds up)."""
        with mpmath.workdps(self._dps + self.guard):
            return [self._integrate(mpmath.mpf(a), mpmath.mpf(b)) for a, b in pairs]

    def _cdf_points(self, xs, integrals):
        """F point by point like :meth:`_cdf_mp` (the float path), the pieces computed by
        ``integrals`` (each distinct piece once)."""
        sup = self.support_mp
        atom = self._cached("atom_mp", lambda: self.atom_mp)
        plans = [None if x < 0 else [(a, min(x, b)) for a, b in sup if x > a] for x in xs]
        pairs = list(dict.fromkeys(p for plan in plans if plan for p in plan))
        value = dict(zip(pairs, integrals(pairs)))
        out = []
        for plan in plans:
            total = mpmath.mpf(0) if plan is None else atom
            for p in plan or ():
                total += value[p]
            out.append(total)
        return out

    def _cdf_pieces(self, xs, integrals=None):
        """F at many points in one pass over them sorted, by pieces between the points (the rule
        when ``integrals`` spreads them over processes): each piece of the density is
        integrated once, between neighbouring points (a table of N rows costs about one
        integral over the support instead of N); ``integrals`` as in :meth:`cdf`."""
        out = [mpmath.mpf(0)] * len(xs)
        sup = self.support_mp
        k, pos = 0, None  # current support interval, and the point integrated up to in it
        steps = []  # (index of a point, the pieces added before its value: (a, b, whole interval))
        for i in sorted(range(len(xs)), key=lambda j: xs[j]):
            x = xs[i]
            if x < 0:
                continue
            pieces = []
            while k < len(sup) and sup[k][1] <= x:
                a, b = sup[k]
                pieces.append((a, b, True) if pos is None else (pos, b, False))
                k, pos = k + 1, None
            if k < len(sup) and sup[k][0] < x:
                start = sup[k][0] if pos is None else pos
                if x > start:
                    pieces.append((start, x, False))
                    pos = x
            steps.append((i, pieces))
        if integrals is None:
            values = iter([self._piece(a, b) if whole else self._integrate(a, b)
                           for _, pieces in steps for a, b, whole in pieces])
        else:
            values = iter(integrals([(a, b) for _, pieces in steps for a, b, _ in pieces]))
        acc = self.atom_mp
        for i, pieces in steps:
            for _ in pieces:
                acc += next(values)
            out[i] = acc
        return out

    def _panels(self, k):
        """Panels of support interval ``k``: ``(lo, hi, rule)`` with ``rule`` from
        :meth:`_rule_for`, bisected towards the marks until one applies (None: depth 10)."""

        def split(lo, hi, depth):
            rule = self._rule_for(lo, hi)
            if rule is not None or depth >= 10:
                return [(lo, hi, rule)]
            mid = (lo + hi) / 2
            return split(lo, mid, depth + 1) + split(mid, hi, depth + 1)

        def compute():
            a, b = self.support_mp[k]
            pts = [a] + sorted(p for p in self._breakpoints() if a < p < b) + [b]
            return [pn for lo, hi in zip(pts[:-1], pts[1:]) for pn in split(lo, hi, 0)]

        return self._cached(("panels", k), compute)

    def _partial(self, k, x):
        """The integral of the density from the lower edge of support interval ``k`` to x in it."""
        acc = mpmath.mpf(0)
        for j, (lo, hi, rule) in enumerate(self._panels(k)):
            cheb = None if rule is None else self._cached(("cheb", k, j), lambda: _chebyshev_panel(self, lo, hi, rule))
            if x >= hi:
                acc += self._integrate(lo, hi) if cheb is None else cheb(hi)
                continue
            if x > lo:
                acc += self._integrate(lo, x) if cheb is None else cheb(x)
            break
        return acc

    def quantile(self, p):
        """The quantile function: the smallest x with F(x) >= p.

        Parameters
        ----------
        p : real or array_like of real in [0, 1]

        Returns
        -------
        float or ndarray (``dps <= 15``), mpf or list of mpf
        """
        ps, scalar = _as_points(p, "p", self._dps + self.guard)
        for v in ps:
            if not 0 <= v <= 1:
                raise ValueError(f"p must be in [0, 1], got {mpmath.nstr(v, 10)}")
        with mpmath.workdps(self._dps + self.guard):
            vals = [self._quantile_mp(v) for v in ps]
        return self._out(vals, scalar)

    def _quantile_mp(self, p):
        sup = self.support_mp
        atom = self.atom_mp
        if p <= atom and atom > 0:
            return mpmath.mpf(0)
        if not sup:
            return mpmath.mpf(0)
        acc = atom
        tol = mpmath.mpf(10) ** (-self._dps - 2)
        for a, b in sup:
            mass = self._piece(a, b)
            if p <= acc + mass + tol or (a, b) == sup[-1]:
                target = p - acc
                if target <= 0:
                    return a
                if target >= mass:
                    return b
                return self._invert(a, b, target, mass)
            acc += mass
        return sup[-1][1]  # pragma: no cover

    def _invert(self, a, b, target, mass):
        """x in [a, b] with integral_a^x rho = target: bisection safeguarded Newton.

        Each new integral starts from the nearest point already integrated (short, smooth pieces
        are cheap for the tanh-sinh rule).
        """
        lo, hi = a, b
        x = a + (b - a) * target / mass
        # the float path's integrals carry ~1e-14 of rounding noise: aim at 13 digits there
        digits = min(self._dps + 3, 13) if self.is_float else self._dps + 3
        xtol = mpmath.mpf(10) ** (-digits) * max(abs(a), abs(b))
        ftol = mpmath.mpf(10) ** (-digits) * mass
        known = [(a, mpmath.mpf(0)), (b, mass)]
        for _ in range(400):
            x0, i0 = min(known, key=lambda p: abs(p[0] - x))
            ix = i0 + self._integrate(x0, x) if x >= x0 else i0 - self._integrate(x, x0)
            known.append((x, ix))
            f = ix - target
            if abs(f) <= ftol and self.is_float:
                return x
            if f > 0:
                hi = x
            else:
                lo = x
            if self.is_float:
                d = mpmath.mpf(float(self._density_float_raw(np.array([float(x)]))[0]))
            else:
                d = self._density_mp([x])[0]
            step_ok = False
            if d > 0 and mpmath.isfinite(d):
                xn = x - f / d
                if lo < xn < hi:
                    step_ok = True
            if not step_ok:
                xn = (lo + hi) / 2
            if abs(xn - x) <= xtol or hi - lo <= xtol:
                return xn
            x = xn
        raise NoConvergence(f"quantile did not converge for mass {mpmath.nstr(target, 10)}")

    # --------------------------------------------------------------- moments
    def moments(self, k=4):
        """Raw moments m_1 ... m_k of the whole law (atom included).

        The closed form when the model has one (``_moments``), else tanh-sinh integration of the
        density.

        Returns
        -------
        ndarray of float (``dps <= 15``) or list of mpf
        """
        vals = self.moments_mp(k)
        if self.is_float:
            return np.array([float(v) for v in vals])
        return [self._round(v) for v in vals]

    def moments_mp(self, k=4):
        """The raw moments m_1 ... m_k as mpf at ``dps + guard`` digits (also behind the float
        path; for printing them with ``dps`` digits, rounded once)."""
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
            raise ValueError(f"k must be an integer >= 1, got {k!r}")
        k = int(k)

        def compute():
            with mpmath.workdps(self._dps + self.guard):
                m = self._moments(k)
                if m is None:
                    m = self._moments_numeric(k)
                return [+v for v in m]

        return self._cached(("moments", k), compute)

    def _moments_numeric(self, k):
        out = []
        for j in range(1, k + 1):
            s = mpmath.mpf(0)
            for a, b in self.support_mp:
                s += self._integrate(a, b, weight=lambda t, j=j: t**j)
            out.append(s)
        return out

    def mass(self):
        """Total mass of the law computed by integrating the density and adding the atom
        (a check: it equals 1 to ``dps`` digits)."""
        with mpmath.workdps(self._dps + self.guard):
            if self.is_float or type(self)._piece is not Law._piece:
                tot = self.atom_mp + sum((self._piece(a, b) for a, b in self.support_mp), mpmath.mpf(0))
            else:  # the panels of the CDF sweep (see _cdf_sweep), each interval in one pass
                tot = self.atom_mp + sum((self._partial(k, b) for k, (a, b) in enumerate(self.support_mp)),
                                         mpmath.mpf(0))
        return float(tot) if self.is_float else self._round(tot)

    # ------------------------------------------------------------------ grid
    def grid(self, n=400):
        """An ``auto`` grid of about ``n`` points resolving the support edges and 0.

        Each support interval [a, b] gets points a + (b − a)(1 − cos(π u))/2 at equispaced u
        (quadratic clustering at the edges, where the density vanishes like a square root); a hard
        edge at 0 (density blowing up like x^(−1/2) or x^(−2/3)) gets geometric spacing towards 0
        instead. Edges with a finite density value are included.

        Returns
        -------
        ndarray of float (``dps <= 15``) or list of mpf
        """
        if isinstance(n, bool) or not isinstance(n, numbers.Integral):
            raise TypeError(f"n must be an integer, got {n!r}")
        if n < 2:
            raise ValueError(f"the grid needs at least 2 points, got {n}")
        sup = self.support_mp
        if not sup:
            raise ValueError("the law has no continuous part: no grid")
        with mpmath.workdps(self._dps + self.guard):
            lengths = [b - a for a, b in sup]
            total = sum(lengths)
            counts = [max(2, int(round(n * float(ln / total)))) for ln in lengths]
            pts = []
            for (a, b), m in zip(sup, counts):
                if a == 0:
                    # geometric towards the hard edge for the first third, cosine clustering after
                    m = max(m, 4)   # a short interval at 0 still gets both parts
                    g = max(2, m // 3)
                    first = b * mpmath.mpf(10) ** (-6)
                    pts += [first * (b / (4 * first)) ** (mpmath.mpf(j) / g) for j in range(g)]
                    lo = b / 4
                    rest = m - g
                    pts += [lo + (b - lo) * (1 - mpmath.cos(mpmath.pi * j / (rest - 1))) / 2
                            for j in range(rest)]
                else:
                    pts += [a + (b - a) * (1 - mpmath.cos(mpmath.pi * j / (m - 1))) / 2
                            for j in range(m)]
        if self.is_float:
            return np.unique(np.array([float(p) for p in pts]))
        uniq = sorted(set(self._round(p) for p in pts))
        return uniq

    def table(self, points=400):
        """Density and CDF on a grid: ``points`` is an int (``auto`` grid) or the x values.

        Returns
        -------
        dict with keys ``x``, ``density``, ``cdf``.
        """
        x = self.grid(points) if isinstance(points, numbers.Integral) else points
        return {"x": x, "density": self.density(x), "cdf": self.cdf(x)}

    # -------------------------------------------------- generic support scan
    def _support_from_density(self, n=2000, lo=None, hi=None):
        """Fallback support: scan the float density on [lo, hi] and refine the edges by bisection.

        Only for laws without a formula for their edges; edges are found to the working precision
        by bisection on the sign of the density on the mp path.
        """
        if lo is None or hi is None:
            raise NotImplementedError(
                f"{type(self).__name__} must implement _support() (or call _support_from_density "
                "with a search interval)"
            )
        xs = np.linspace(float(lo), float(hi), n)
        g = self._float_path(xs + 0j)
        on = -g.imag > 1e-10 * np.maximum(np.abs(g), 1e-300)
        out = []
        i = 0
        while i < n:
            if on[i]:
                j = i
                while j + 1 < n and on[j + 1]:
                    j += 1
                a = self._bisect_edge(xs[i - 1] if i > 0 else xs[0], xs[i], rising=True)
                b = self._bisect_edge(xs[j], xs[j + 1] if j + 1 < n else xs[j], rising=False)
                out.append((a, b))
                i = j + 1
            else:
                i += 1
        return out

    def _bisect_edge(self, off, on, rising):
        lo, hi = mpmath.mpf(off), mpmath.mpf(on)
        if lo == hi:
            return lo
        eps = mpmath.mpf(2) ** (-mpmath.mp.prec + 4) * max(abs(lo), abs(hi))
        while abs(hi - lo) > eps:
            mid = (lo + hi) / 2
            g = self._stieltjes_mp(mpmath.mpc(mid), complex(self._float_path(np.array([float(mid) + 0j]))[0]))
            inside = -g.imag > mpmath.mpf(2) ** (-mpmath.mp.prec // 2) * abs(g)
            if inside == rising:
                hi = mid
            else:
                lo = mid
        return (lo + hi) / 2


# ---------------------------------------------------------------- tanh-sinh
def _round_decided(rho, err, dps):
    """Round longdouble values ``rho`` (> 0, absolute error <= ``err``) to ``dps`` significant
    digits where the error cannot change the rounding: (float64 nearest to the rounded decimal,
    decided mask)."""
    rho = np.asarray(rho, dtype=np.longdouble)
    err = np.asarray(err, dtype=float)
    ok = (rho > 0) & np.isfinite(rho) & np.isfinite(err)
    safe = np.where(ok, rho, np.longdouble(1))
    k = np.floor(np.log10(safe.astype(float))).astype(int)
    p = dps - 1 - k
    scale = np.longdouble(10) ** p.astype(np.longdouble)
    r = safe * scale
    lo, hi = np.longdouble(10) ** (dps - 1), np.longdouble(10) ** dps
    fix = r >= hi
    p, r = np.where(fix, p - 1, p), np.where(fix, r / 10, r)
    fix = r < lo
    p, r = np.where(fix, p + 1, p), np.where(fix, r * 10, r)
    n = np.floor(r + np.longdouble(0.5))
    eps = float(np.finfo(np.longdouble).eps)
    # error of r: the value's own bound, the inexact power of ten (negative p) and the products
    tol = err * scale.astype(float) + 8 * eps * r.astype(float)
    ok &= np.abs((r - np.floor(r)).astype(float) - 0.5) > tol
    n = np.where(ok, n, 0).astype(np.int64).astype(float)
    out = np.zeros(rho.shape)
    small = ok & (np.abs(p) <= 22)
    pos, neg = small & (p >= 0), small & (p < 0)
    out[pos] = n[pos] / 10.0 ** p[pos]
    out[neg] = n[neg] * 10.0 ** (-p[neg])
    for i in np.nonzero(ok & ~small)[0]:
        out[i] = float(f"{int(n[i])}e{-int(p[i])}")
    return out, ok


def _ts_nodes_float(level):
    """Tanh-sinh abscissae offsets (from the left end, fraction of the length) and weights."""
    h = 2.0 ** (-level)
    # |t| <= 4.7: offsets from the ends down to 1e-74 of the length, so that an endpoint
    # singularity as strong as x^(-2/3) loses less than 1e-24 of mass
    t = np.arange(-int(4.7 / h), int(4.7 / h) + 1) * h
    s = 0.5 * np.pi * np.sinh(t)
    left = 1.0 / (1.0 + np.exp(-2.0 * s))          # (1 + tanh s)/2, accurate near 0
    right = 1.0 / (1.0 + np.exp(2.0 * s))           # (1 - tanh s)/2, accurate near 0
    w = h * 0.5 * np.pi * np.cosh(t) / np.cosh(s) ** 2 / 2.0
    return left, right, w


def _tanh_sinh_float(law, a, b, weight):
    """Vectorised tanh-sinh on [a, b] for the float path: (value, converged)."""
    if b <= a:
        return mpmath.mpf(0), True

    def level_sum(level):
        left, right, w = _ts_nodes_float(level)
        x = np.where(left <= 0.5, a + (b - a) * left, b - (b - a) * right)
        keep = (x > a) & (x < b) & (w > 0)
        x, w = x[keep], w[keep]
        f, err = law._density_float_nodes(x)
        if err is not None:
            # nodes whose float density is not good to ~15 digits (e.g. next to a hard edge at 0
            # beside an atom, where Im G is a tiny fraction of Re G ~ atom/x) are recomputed on
            # the mp path, unless even their error bound makes the term negligible
            err = np.where(np.isfinite(err), err, np.inf)
            mag0 = np.sum(np.abs(w * f))
            bad = (err > 1e-15 * f) & (w * (f + err) > 1e-18 * max(mag0, 1e-300))
            if np.any(bad):
                f = f.copy()
                f[bad] = [float(v) for v in law._density_mp([mpmath.mpf(float(v)) for v in x[bad]], law.dps)]
        if weight is not None:
            f = f * weight(x)
        return (b - a) * np.sum(w * f), (b - a) * np.sum(np.abs(w * f))

    prev, _ = level_sum(4)
    for level in (5, 6, 7):
        cur, mag = level_sum(level)
        if abs(cur - prev) <= 4e-15 * max(mag, 1e-300):
            return mpmath.mpf(cur), True
        prev = cur
    return mpmath.mpf(prev), False


def _node_density(law, xs, a, b, dps, seeds=None):
    """Density at quadrature nodes of [a, b] verified to ``dps`` digits (a subclass that overrides
    ``_density_points_mp`` or ``_mp_many`` with its own signature gets its full node digits and
    computes its own seeds)."""
    if type(law)._density_points_mp is not Law._density_points_mp:
        return law._density_points_mp(xs, a, b)
    if type(law)._mp_many is not Law._mp_many:
        seeds = None
    return law._density_points_mp(xs, a, b, dps, seeds)


def _tanh_sinh_mp(law, a, b, weight):
    """Tanh-sinh on [a, b] at the current mp precision: levels until two agree to dps + 2 digits.

    Each level's sum runs from the centre outwards on either side and stops where two
    consecutive terms fall below :math:`10^{-(dps+8)}` of the running sum of :math:`|w f|` (the
    terms decay double-exponentially in the tails [2]_, so the rest of the tail is smaller still):
    nodes next to an end, where a solve is most ill-conditioned, are not computed unless they
    matter. A node's density is verified only to the digits its term needs — its absolute error
    below :math:`10^{-(dps+6)}` of that sum — estimated from the inner neighbour's term and
    checked against the node's own term (recomputed with more digits when the estimate was low).
    """
    if b <= a:
        return mpmath.mpf(0), True
    dps = law.dps
    if b - a <= mpmath.mpf(10) ** (-dps - law.guard // 2) * max(abs(a), abs(b)):
        mid = (a + b) / 2  # an interval below the resolution: midpoint rule is exact to dps digits
        f = law._density_points_mp([mid], a, b)[0] * (weight(mid) if weight is not None else 1)
        return f * (b - a), True
    prec_eps = mpmath.mpf(10) ** (-(dps + 2))
    top = 8  # finest level: node t = j 2^-top, keyed by the integer j
    full = dps + 4  # node digits for a term as large as the whole sum
    cache, nodes, seeds = {}, {}, {}
    k = law._inside((a + b) / 2)
    lo, hi = law.support_mp[k] if k is not None else (a, b)
    half = (b - a) / 2
    state = {"mag": mpmath.mpf(0)}

    def digits_for(term):
        if term == 0 or state["mag"] == 0:
            return full
        d = full + 2 + int(mpmath.ceil(mpmath.log10(abs(term) / state["mag"])))
        return max(20, min(full, d))

    def node(key):
        t = mpmath.mpf(key) / 2 ** top
        s = mpmath.pi / 2 * mpmath.sinh(t)
        # nodes as offsets from the nearer end, computed without cancellation
        x = a + (b - a) / (1 + mpmath.exp(-2 * s)) if t <= 0 else b - (b - a) / (1 + mpmath.exp(2 * s))
        return x, mpmath.pi / 2 * mpmath.cosh(t) / mpmath.cosh(s) ** 2 * half

    def seeds_for(keys):
        # the float path's values at a level's new nodes in one vectorised call (seeds of the
        # mp solves); None where the node is not representable in float
        new = [k for k in keys if k not in nodes]
        for k in new:
            nodes[k] = node(k)
        zc = np.array([complex(nodes[k][0]) for k in new])
        with np.errstate(all="ignore"):
            g = law._float_path(zc) if new else []
        for k, s, c in zip(new, g, zc):
            ok = np.isfinite(s) and (c == 0 or 1e-280 < abs(c) < 1e280)
            seeds[k] = s if ok else np.nan

    def extra(x):
        # the solve at x must resolve x - edge: a node 10^-k (relative) from an edge of the
        # support gets k more digits (the default full digits have them as guard digits)
        dist = min(x - lo, hi - x)
        return 0 if x == 0 or dist <= 0 else max(0, int(mpmath.ceil(mpmath.log10(abs(x) / dist))))

    def term_at(key, est):
        if key in cache:
            return cache[key]
        x, w = nodes[key]
        wf = w * (weight(x) if weight is not None else 1)
        d = digits_for(est)
        val = wf * _node_density(law, [x], a, b, d + (extra(x) if d < full else 0), [seeds[key]])[0]
        if d < full and digits_for(val) > d:
            d = digits_for(val)
            val = wf * _node_density(law, [x], a, b, d + (extra(x) if d < full else 0), [seeds[key]])[0]
        cache[key] = val
        state["mag"] += abs(val)
        return val

    # t range: offsets from the ends down to 10^-(3 (dps + 10)), enough for an x^(-2/3) endpoint
    tmax = float(mpmath.asinh(3 * (dps + 10) * mpmath.log(10) / mpmath.pi))
    prev = None
    for level in range(3, top + 1):
        step = 2 ** (top - level)
        n = int(tmax * 2 ** level)
        seeds_for([j * step for j in range(-n, n + 1)])
        tot = term_at(0, 0)
        for side in (1, -1):
            small = 0
            est = tot
            for j in range(1, n + 1):
                v = term_at(side * j * step, est)
                tot += v
                est = v
                small = small + 1 if abs(v) <= mpmath.mpf(10) ** (-dps - 8) * state["mag"] else 0
                if small >= 2:
                    break
        h = mpmath.mpf(2) ** (-level)
        cur = tot * h
        mag = sum((abs(v) for k, v in cache.items() if k % step == 0), mpmath.mpf(0)) * h
        # relative to the integral of |f| (a moment may vanish)
        if prev is not None and abs(cur - prev) <= prec_eps * mag:
            return cur, True
        prev = cur
    return prev, False


_GL = {}


def _gauss_legendre_mp(law, a, b, weight, edge=None):
    """Gauss-Legendre on [a, b] where the density is analytic (away from the support's edges
    and breakpoints), or with ``edge`` (``a`` or ``b``) a square-root edge of the support, in the
    variable u of x = edge +- (b - a) u^2, u in [0, 1], in which sqrt(|x - edge|) dx is analytic:
    24, 48, 96 (192 beyond 60 digits) nodes until two rules agree to dps + 2 digits relative to
    the integral of :math:`|f|`; (value, converged)."""
    from mpmath.calculus.quadrature import GaussLegendre

    dps = law.dps
    rule = _GL.setdefault("rule", GaussLegendre(mpmath.mp))
    length = b - a
    sign = 1 if edge == a else -1
    prev = None
    for degree in (4, 5, 6, 7) if dps > 60 else (4, 5, 6):
        nodes = rule.get_nodes(-1, 1, degree, mpmath.mp.prec)
        if edge is None:
            pts = [((a + b) / 2 + length / 2 * t, w * length / 2) for t, w in nodes]
            digits = dps + 4
        else:
            us = [((1 + t) / 2, w / 2) for t, w in nodes]
            pts = [(edge + sign * length * u * u, w * 2 * length * u) for u, w in us]
            # the nodes next to the edge need the digits that resolve x - edge
            umin = min(u for u, _ in us)
            digits = dps + 4 + max(0, int(mpmath.ceil(mpmath.log10(
                max(abs(edge), length) / (length * umin * umin)))))
        xs = [x for x, _ in pts]
        fs = _node_density(law, xs, a, b, digits)
        cur, mag = mpmath.mpf(0), mpmath.mpf(0)
        for (x, w), f in zip(pts, fs):
            v = w * f * (weight(x) if weight is not None else 1)
            cur += v
            mag += abs(v)
        if prev is not None and abs(cur - prev) <= mpmath.mpf(10) ** (-(dps + 2)) * mag:
            return cur, True
        prev = cur
    return prev, False


def _chebyshev_panel(law, lo, hi, rule):
    r"""The antiderivative :math:`x \mapsto \int_{lo}^{x} \rho` on a panel as a callable, from a
    Chebyshev interpolant of the density in the panel's variable: s in [-1, 1] with
    x = (lo + hi)/2 + (hi - lo) s/2 (``rule == "smooth"``), or u = (1 + s)/2 with
    x = edge +- (hi - lo) u^2 next to a square-root edge (the integrand rho(x) 2 (hi - lo) u is
    analytic in u). Chebyshev points of the first kind, n = 18, 54, 162, 486 (nested), until the
    last quarter of the coefficients is below :math:`10^{-(dps+3)}` of their sum (geometric decay:
    the interpolant, and its integral, are then right to the working digits); None when no
    n converges (the caller integrates instead).

    References: L. N. Trefethen, *Approximation Theory and Approximation Practice*, SIAM 2013,
    Ch. 8 (geometric decay of Chebyshev coefficients) and Ch. 19 (Clenshaw-Curtis integration).
    """
    dps = law.dps
    length = hi - lo
    edge = None if rule == "smooth" else rule
    sign = 1 if edge == lo else -1

    def x_of(s):
        if edge is None:
            return (lo + hi) / 2 + length / 2 * s
        u = (1 + s) / 2
        return edge + sign * length * u * u

    def jac(s):  # dx/ds (absolute value)
        return length / 2 if edge is None else length * (1 + s) / 2

    vals = {}
    tol = mpmath.mpf(10) ** (-(dps + 3))
    for n in (18, 54, 162, 486):
        if dps + 3 > 0.75 * n and n < 486:
            continue  # the last quarter cannot reach these digits at the slowest decay allowed
        idx = [j for j in range(n) if (n, j) not in vals]
        thetas = [mpmath.pi * (j + mpmath.mpf(1) / 2) / n for j in idx]
        ss = [mpmath.cos(t) for t in thetas]
        xs = [x_of(s) for s in ss]
        if edge is None:
            digits = dps + 4
        else:
            umin = min((1 + s) / 2 for s in ss)
            ratio = max(abs(edge), length) / (length * umin * umin)
            digits = dps + 4 + max(0, int(mpmath.ceil(mpmath.log10(ratio))))
        fs = _node_density(law, xs, min(lo, hi), max(lo, hi), digits)
        for j, s, f in zip(idx, ss, fs):
            vals[(n, j)] = f * jac(s)
        # nested: point j of n is point 3 j + 1 of 3 n
        for j in range(n):
            vals[(3 * n, 3 * j + 1)] = vals[(n, j)]
        f = [vals[(n, j)] for j in range(n)]
        c = _dct(f)
        scale = sum(abs(v) for v in c)
        if scale == 0 or max(abs(v) for v in c[n - n // 4:]) <= tol * scale:
            break
    else:
        return None
    # antiderivative in s, zero at s = -1: int T_0 = T_1, int T_1 = T_2 / 4,
    # int T_k = T_{k+1}/(2(k+1)) - T_{k-1}/(2(k-1))
    b = [mpmath.mpf(0)] * (n + 2)
    b[1] += c[0]
    if n > 1:
        b[2] += c[1] / 4
    for kk in range(2, n):
        b[kk + 1] += c[kk] / (2 * (kk + 1))
        b[kk - 1] -= c[kk] / (2 * (kk - 1))
    b[0] = -sum(v * (-1) ** kk for kk, v in enumerate(b) if kk > 0)

    def antider(s):
        # Clenshaw's recurrence for sum b_k T_k(s)
        b1 = b2 = mpmath.mpf(0)
        for v in reversed(b[1:]):
            b1, b2 = 2 * s * b1 - b2 + v, b1
        return s * b1 - b2 + b[0]

    total = antider(mpmath.mpf(1))

    def integral(x):
        if edge is None:
            return antider((2 * x - lo - hi) / length)
        u = mpmath.sqrt(abs(x - edge) / length)
        part = antider(2 * u - 1)  # integral from the edge to x
        return part if sign == 1 else total - part

    return integral


def _dct(f):
    r"""Chebyshev coefficients from the values at the first-kind points (DCT-II):
    :math:`c_k = (2/n) \sum_j f_j \cos(\pi k (j + 1/2)/n)`, :math:`c_0` halved. In fixed point
    (Python integers with the working precision plus 20 bits, scaled by max |f|): the n^2
    products cost integer multiplications instead of mpf ones."""
    n = len(f)
    top = max(abs(v) for v in f)
    if top == 0:
        return [mpmath.mpf(0)] * n
    bits = mpmath.mp.prec + 20 + n.bit_length()
    fi = [int(mpmath.ldexp(v / top, bits)) for v in f]
    key = (n, bits)
    if key not in _GL:
        with mpmath.workprec(bits + 10):
            tab = [int(mpmath.ldexp(mpmath.cos(mpmath.pi * m / (2 * n)), bits)) for m in range(4 * n)]
        _GL[key] = [[tab[(k * (2 * j + 1)) % (4 * n)] for j in range(n)] for k in range(n)]
    rows = _GL[key]
    try:
        import flint
    except ImportError:  # pragma: no cover - python-flint is a dependency
        sums = [sum(map(operator.mul, fi, row)) for row in rows]
    else:  # the same integer products by FLINT's matrix-vector product (exact: enough bits)
        with flint.ctx.workprec(2 * bits + 2 * n.bit_length() + 64):
            mkey = ("arb_mat", n, bits)
            if mkey not in _GL:
                _GL[mkey] = flint.arb_mat([[flint.arb(v) for v in row] for row in rows])
            out = _GL[mkey] * flint.arb_mat([[flint.arb(v)] for v in fi])
            sums = []
            for i in range(n):
                man, exp = out[i, 0].mid().man_exp()
                sums.append(int(man) << int(exp) if exp >= 0 else int(man) >> -int(exp))
    c = [mpmath.ldexp(mpmath.mpf(s), -2 * bits) * top * 2 / n for s in sums]
    c[0] /= 2
    return c
