r"""Free multiplicative convolution: S-transforms, their power series, and a solver for products.

For a probability law :math:`\mu` on :math:`[0, \infty)` (not :math:`\delta_0`) we use the
moment-generating function and its compositional inverse

.. math::

    \psi_\mu(z) = \int \frac{z t}{1 - z t}\, d\mu(t) = \sum_{k \ge 1} m_k z^k, \qquad
    \chi_\mu = \psi_\mu^{-1}, \qquad S_\mu(w) = \chi_\mu(w) \frac{1 + w}{w},

and the Stieltjes transform :math:`G_\mu(x) = \int d\mu(t)/(x - t) = (1 + \psi_\mu(1/x))/x`.
Voiculescu's theorem: for free :math:`a, b \ge 0`, :math:`S_{\mu_a \boxtimes \mu_b} = S_{\mu_a}
S_{\mu_b}` (Voiculescu 1987; Nica & Speicher, *Lectures on the Combinatorics of Free
Probability*, 2006, Lecture 18 (the S-transform; theorem numbers not confirmed here); Mingo & Speicher, *Free Probability and
Random Matrices*, 2017).

Two kinds of tools live here:

* **power series** (:func:`s_series`, :func:`moments_from_s_series`, :func:`free_product_moments`,
  :func:`series_inverse`): generic arithmetic on coefficient lists, so the same code runs on sympy
  expressions (exact derivations), ``fractions.Fraction``, ``mpmath.mpf`` and floats;
* **a solver** (:class:`FreeProduct`) for :math:`\psi` of a product
  :math:`\mu = \boxtimes_j \mu_j^{\boxtimes m_j}` whose factors are given either by a closed-form
  S-transform (Marchenko–Pastur, a point mass) or by their own :math:`\psi` (any law, e.g. a
  discrete law of atoms or a quadrature rule). The unknowns are :math:`w = \psi_\mu(z)` and one
  :math:`u_j = \chi_{\mu_j}(w)` per law factor; the Newton system has arrow shape and is solved in
  :math:`O(\#\text{factors})` per step, vectorised over points (numpy) or at any precision (mpmath).

The deep-network Jacobian (:mod:`nrmt.numerics.jacobian`) is the main user; the multi-layer
conjugate kernel (Fan & Wang 2020) can reuse the same pieces.
"""


import mpmath
import numpy as np

from nrmt.theory.errors import NoConvergence

__all__ = [
    "series_mul",
    "series_inverse",
    "s_series",
    "moments_from_s_series",
    "free_product_moments",
    "mp_s_series",
    "identity_s_series",
    "Factor",
    "ClosedFactor",
    "LawFactor",
    "DiscreteLaw",
    "FreeProduct",
]


# --------------------------------------------------------------------------------------------
# Power series with generic coefficients (index k holds the coefficient of w**k).
# --------------------------------------------------------------------------------------------

def series_mul(a, b, order):
    """Product of two power series truncated after ``w**order`` (generic arithmetic).

    >>> series_mul([1, 1], [1, 1], 3)
    [1, 2, 1, 0]
    """
    out = [0 * a[0]] * (order + 1)
    for i, ai in enumerate(a[: order + 1]):
        for j, bj in enumerate(b[: order + 1 - i]):
            out[i + j] = out[i + j] + ai * bj
    return out


def series_inverse(a, order):
    r"""Compositional inverse of :math:`f(z) = \sum_{k\ge1} a_k z^k` (``a[0]`` must be 0).

    Returns ``b`` with :math:`f(g(w)) = w + O(w^{order+1})`, :math:`g(w) = \sum_k b_k w^k`; the
    coefficients are built one order at a time from :math:`f(g(w)) = w` (generic arithmetic).

    >>> from fractions import Fraction
    >>> series_inverse([0, Fraction(1), Fraction(1)], 4)   # z + z^2 -> Catalan with signs
    [Fraction(0, 1), Fraction(1, 1), Fraction(-1, 1), Fraction(2, 1), Fraction(-5, 1)]
    """
    if a[0] != 0:
        raise ValueError(f"series_inverse needs a[0] == 0, got {a[0]!r}")
    if a[1] == 0:
        raise ValueError("series_inverse needs a[1] != 0 (the series is not invertible)")
    zero = 0 * a[1]
    b = [zero, 1 / a[1]] + [zero] * (order - 1)
    for n in range(2, order + 1):
        # coefficient of w**n in f(g(w)) with b[n] = 0, then solve a1*b[n] + rest = 0
        power = [zero] * (order + 1)
        power[0] = zero + 1
        total = zero
        for k in range(1, n + 1):
            power = series_mul(power, b, order)
            if k < len(a):
                total = total + a[k] * power[n]
        b[n] = -total / a[1]
    return b[: order + 1]


def _geometric(order, like):
    """Series of 1/(1+w) = sum (-w)^k with coefficients of the type of ``like``."""
    one = 0 * like + 1
    return [one * (-1) ** k for k in range(order + 1)]


def s_series(moments, order=None):
    r"""Coefficients :math:`s_0, s_1, \dots` of the S-transform from the raw moments.

    Parameters
    ----------
    moments : sequence
        :math:`m_1, \dots, m_K` (``m_1 != 0``); any numeric type closed under + - * / (sympy,
        Fraction, mpf, float).
    order : int, optional
        Highest power of :math:`w` returned (at most and by default :math:`K - 1`).

    Returns
    -------
    list
        :math:`[s_0, \dots, s_{order}]` with :math:`S(w) = \sum_j s_j w^j`.

    Notes
    -----
    :math:`\chi = \psi^{-1}` by :func:`series_inverse`, then :math:`S(w) = \chi(w)(1+w)/w`,
    i.e. :math:`s_j = b_{j+1} + b_j` (Nica & Speicher 2006, Lecture 18). First terms:
    :math:`s_0 = 1/m_1`, :math:`s_1 = (m_1^2 - m_2)/m_1^3`.

    Examples
    --------
    Marchenko–Pastur with ratio 1 (moments = Catalan numbers) has :math:`S(w) = 1/(1+w)`:

    >>> from fractions import Fraction as F
    >>> s_series([F(1), F(2), F(5), F(14)])
    [Fraction(1, 1), Fraction(-1, 1), Fraction(1, 1), Fraction(-1, 1)]
    """
    moments = list(moments)
    K = len(moments)
    if K == 0:
        raise ValueError("s_series needs at least one moment")
    order = K - 1 if order is None else order
    if order > K - 1:
        raise ValueError(f"order must be <= len(moments) - 1 = {K - 1}, got {order}")
    zero = 0 * moments[0]
    b = series_inverse([zero] + moments, K)
    return [b[j + 1] + b[j] for j in range(order + 1)]


def moments_from_s_series(s, k=None):
    r"""Raw moments :math:`m_1..m_k` of the law whose S-transform has coefficients ``s``.

    Inverse of :func:`s_series`: :math:`\chi(w) = w S(w)/(1+w)`, then
    :math:`\psi = \chi^{-1}` and :math:`m_n = [z^n]\psi(z)`.

    >>> moments_from_s_series([1, -1, 1, -1])     # MP with ratio 1: Catalan numbers
    [1.0, 2.0, 5.0, 14.0]
    """
    s = list(s)
    k = len(s) if k is None else k
    if k > len(s):
        raise ValueError(f"k must be <= len(s) = {len(s)}, got {k}")
    if s[0] == 0:
        raise ValueError("S(0) = 1/m1 must be nonzero")
    zero = 0 * s[0]
    s_over = series_mul(s, _geometric(k, s[0]), k - 1)         # S(w)/(1+w)
    chi = [zero] + s_over[:k]                                  # w S(w)/(1+w)
    psi = series_inverse(chi, k)
    return psi[1: k + 1]


def free_product_moments(factors, k=4):
    r"""Moments of a free multiplicative product from the moments of its factors.

    Parameters
    ----------
    factors : sequence of (moments, multiplicity)
        Each factor's raw moments :math:`m_1..m_k` (any generic numeric type) and how many
        times it enters the product.
    k : int
        Number of moments wanted.

    Returns
    -------
    list
        :math:`m_1..m_k` of :math:`\boxtimes_j \mu_j^{\boxtimes m_j}`, from
        :math:`S = \prod_j S_{\mu_j}^{m_j}` (Voiculescu; Nica & Speicher 2006, Lecture 18).

    Examples
    --------
    Two free MP(1) laws: the Fuss–Catalan numbers 1, 3, 12, 55.

    >>> from fractions import Fraction as F
    >>> free_product_moments([([F(1), F(2), F(5), F(14)], 2)])
    [Fraction(1, 1), Fraction(3, 1), Fraction(12, 1), Fraction(55, 1)]
    """
    s_total = None
    for moments, mult in factors:
        if mult < 0 or int(mult) != mult:
            raise ValueError(f"multiplicity must be a nonnegative integer, got {mult!r}")
        s = s_series(list(moments)[:k], k - 1)
        for _ in range(int(mult)):
            s_total = s if s_total is None else series_mul(s_total, s, k - 1)
    if s_total is None:
        raise ValueError("free_product_moments needs at least one factor")
    return moments_from_s_series(s_total, k)


def mp_s_series(ratio, scale, order, one=1):
    r"""Series of the Marchenko–Pastur S-transform :math:`1/(s(1 + c w))`, ratio c, scale s.

    >>> mp_s_series(1, 2.0, 3)
    [0.5, -0.5, 0.5, -0.5]
    """
    return [one * (-ratio) ** j / scale for j in range(order + 1)]


def identity_s_series(scale, order, one=1):
    """Series of the S-transform of the point mass at ``scale``: :math:`1/s` (constant)."""
    return [one / scale] + [0 * one] * order


# --------------------------------------------------------------------------------------------
# Factors of a free product and the solver.
# --------------------------------------------------------------------------------------------

class Factor:
    """One factor of a free multiplicative product (base class; see the subclasses)."""

    multiplicity = 1


class ClosedFactor(Factor):
    r"""A factor with a closed-form S-transform :math:`S(w) = 1/(s\,(1 + c w))`.

    ``ratio = c = 0`` is the point mass at ``scale = s`` (e.g. Haar-orthogonal weights
    :math:`W W^\top = \sigma_w^2 I`); ``c = 1`` is :math:`s\cdot` MP(1), the law of
    :math:`W W^\top` for square iid :math:`W` with entry variance :math:`s/N`.
    """

    def __init__(self, scale, ratio=0, multiplicity=1, name=""):
        self.scale = scale
        self.ratio = ratio
        self.multiplicity = int(multiplicity)
        self.name = name or f"S=1/({scale}(1+{ratio}w))"

    # log S and d/dw log S, numpy (vectorised) or mpmath (scalar) depending on the input
    def log_s(self, w, lib):
        return -lib.log(self.scale) - (lib.log(1 + self.ratio * w) if self.ratio else 0)

    def dlog_s(self, w):
        return -self.ratio / (1 + self.ratio * w) if self.ratio else 0 * w

    def series(self, order, one=1):
        return mp_s_series(self.ratio, self.scale, order, one) if self.ratio else \
            identity_s_series(self.scale, order, one)

    def __repr__(self):
        return f"ClosedFactor(scale={self.scale!r}, ratio={self.ratio!r}, " \
               f"multiplicity={self.multiplicity})"


class DiscreteLaw:
    r"""A law :math:`\sum_i p_i \delta_{a_i}` on :math:`[0, \infty)` with vectorised :math:`\psi`.

    Used both for exact atoms (piecewise-linear activations) and for quadrature rules standing
    for a continuous law (the float path). ``values``/``weights`` are float arrays; the exact
    versions (mpf or sympy), when given, serve the mpmath path.
    """

    def __init__(self, values, weights, mp_values=None, mp_weights=None):
        self.values = np.asarray(values, dtype=float)
        self.weights = np.asarray(weights, dtype=float)
        if self.values.shape != self.weights.shape or self.values.ndim != 1:
            raise ValueError("values and weights must be 1-d arrays of the same length")
        if np.any(self.values < 0) or np.any(self.weights < 0):
            raise ValueError("a DiscreteLaw needs values >= 0 and weights >= 0")
        self.mp_values = mp_values
        self.mp_weights = mp_weights
        pos = self.weights > 0
        self._max = float(np.max(self.values[pos])) if pos.any() else 0.0
        self._min = float(np.min(self.values[pos])) if pos.any() else 0.0

    def psi1_float(self, u):
        r""":math:`1 + \psi(u) = \mathbb E[1/(1 - u\lambda)]` and :math:`\psi'(u)`, complex ndarray u.

        :math:`1 + \psi` rather than :math:`\psi` keeps full relative precision where
        :math:`\psi \to -1` (large u, the eigenvalues near 0 of deep products).
        """
        u = np.asarray(u, dtype=complex)[..., None]
        d = 1.0 / (1.0 - u * self.values)
        psi1 = np.sum(self.weights * d, axis=-1)
        dpsi = np.sum(self.weights * self.values * d * d, axis=-1)
        return psi1, dpsi

    def psi1_mp(self, u):
        """:math:`1 + \\psi(u)` and :math:`\\psi'(u)` at the current mpmath precision."""
        vals = self.mp_values if self.mp_values is not None else [mpmath.mpf(v) for v in self.values]
        wts = self.mp_weights if self.mp_weights is not None else [mpmath.mpf(p) for p in self.weights]
        psi1 = mpmath.mpf(0)
        dpsi = mpmath.mpf(0)
        for a, p in zip(vals, wts):
            a = mpmath.mpmathify(a)
            d = 1 / (1 - u * a)
            psi1 += p * d
            dpsi += p * a * d * d
        return psi1, dpsi

    @property
    def mean(self):
        return float(np.sum(self.weights * self.values))

    @property
    def max_value(self):
        return self._max

    @property
    def min_value(self):
        return self._min

    @property
    def zero_mass(self):
        return float(np.sum(self.weights[self.values == 0]))


class LawFactor(Factor):
    r"""A factor known through :math:`\psi` of its law (any law on :math:`[0,\infty)`).

    Parameters
    ----------
    float_law : DiscreteLaw
        Gives ``psi1_float(u) -> (1 + psi, dpsi)`` vectorised over complex arrays (a quadrature
        rule or exact atoms).
    mp_psi1 : callable, optional
        ``mp_psi1(u) -> (1 + psi, dpsi)`` at the current mpmath precision; exact (atoms) or an
        adaptive quadrature. Defaults to ``float_law.psi1_mp``.
    mean : float
        :math:`m_1` of the law (starts the branch at :math:`z \to 0`).
    multiplicity : int
    """

    def __init__(self, float_law, mp_psi1=None, mean=None, multiplicity=1, name=""):
        self.float_law = float_law
        self.mp_psi1 = mp_psi1 if mp_psi1 is not None else float_law.psi1_mp
        self.mean = float(mean if mean is not None else float_law.mean)
        if not self.mean > 0:
            raise ValueError(f"a free factor needs a law with mean > 0, got mean {self.mean}")
        self.multiplicity = int(multiplicity)
        self.name = name

    def __repr__(self):
        return f"LawFactor({self.name or 'law'}, mean={self.mean:.6g}, " \
               f"multiplicity={self.multiplicity})"


def _wrap_angle(v):
    """Reduce the imaginary part of a complex log into (-pi, pi] (numpy, vectorised)."""
    return v.real + 1j * (np.mod(v.imag + np.pi, 2 * np.pi) - np.pi)


class FreeProduct:
    r"""The free multiplicative product :math:`\mu = \boxtimes_j \mu_j^{\boxtimes m_j}` and its
    :math:`\psi_\mu`.

    Parameters
    ----------
    factors : list of :class:`ClosedFactor` / :class:`LawFactor`
        At least one; every law factor must have mean > 0.

    Notes
    -----
    The unknowns are :math:`v = 1 + w`, :math:`w = \psi_\mu(z)`, and one
    :math:`u_j = \chi_{\mu_j}(w)` per law factor. The equations solved are (Nica & Speicher 2006,
    Lecture 18)

    .. math::

        F_0 = \log\frac{w}{v} + \sum_{\text{closed}} m_j \log S_j(w)
              + \sum_{\text{law}} m_j \log\frac{u_j v}{w} - \log z = 0 \pmod{2\pi i},
        \qquad F_j = 1 + \psi_{\mu_j}(u_j) - v = 0.

    Newton's step eliminates :math:`\Delta u_j = (\Delta v - F_j)/\psi_j'(u_j)` (arrow-shaped
    Jacobian), so a step costs one evaluation of each :math:`\psi_j, \psi_j'`. The physical branch
    is reached by continuation from :math:`z \to 0` (:math:`w \approx m_1 z`,
    :math:`u_j \approx w/m_1(\mu_j)`). Then :math:`G_\mu(x) = v/x` at :math:`z = 1/x`. Working with
    :math:`v` keeps relative precision where :math:`w \to -1` (small x).

    Examples
    --------
    Marchenko–Pastur with ratio 1 at x = 1: :math:`G = (1 - i\sqrt 3)/2`.

    >>> import numpy as np
    >>> mp1 = FreeProduct([ClosedFactor(1.0, 1.0)])
    >>> v, u, ok = mp1.solve_path_float(1 / (np.geomspace(100, 1, 60) * (1 + 1e-9j)))
    >>> bool(abs(v[-1] - (1 - 3 ** 0.5 * 1j) / 2) < 1e-6)
    True
    """

    def __init__(self, factors):
        factors = list(factors)
        if not factors:
            raise ValueError("FreeProduct needs at least one factor")
        self.closed = [f for f in factors if isinstance(f, ClosedFactor)]
        self.laws = [f for f in factors if isinstance(f, LawFactor)]
        if len(self.closed) + len(self.laws) != len(factors):
            raise TypeError("factors must be ClosedFactor or LawFactor instances")
        self.factors = factors
        m1 = 1.0
        for f in self.closed:
            m1 *= float(f.scale) ** f.multiplicity
        for f in self.laws:
            m1 *= f.mean ** f.multiplicity
        self.mean = m1
        self._mult = np.array([f.multiplicity for f in self.laws], dtype=float)

    # ---------------------------------------------------------------- float kernel
    def _closed_terms(self, w, v, lib):
        """Sum of m log S and of m d/dw log S over the closed factors."""
        logs = 0 * w
        dlog = 0 * w
        for f in self.closed:
            if f.ratio:
                arg = v if f.ratio == 1 else 1 + f.ratio * w
                logs = logs - f.multiplicity * (lib.log(f.scale) + lib.log(arg))
                dlog = dlog - f.multiplicity * f.ratio / arg
            else:
                logs = logs - f.multiplicity * lib.log(f.scale)
        return logs, dlog

    def _residual_float(self, z, v, u):
        """F0 (wrapped), F_j, dF0/dv (partial) and psi_j'; v: (n,), u: (n, J)."""
        w = v - 1.0
        logs, dF0 = self._closed_terms(w, v, np)
        logs = logs + np.log(w) - np.log(v)
        dF0 = dF0 + 1.0 / w - 1.0 / v
        J = len(self.laws)
        F = np.empty((v.shape[0], J), dtype=complex)
        dpsi = np.empty((v.shape[0], J), dtype=complex)
        for j, f in enumerate(self.laws):
            p1, dp = f.float_law.psi1_float(u[:, j])
            F[:, j] = p1 - v
            dpsi[:, j] = dp
            logs = logs + f.multiplicity * (np.log(u[:, j]) + np.log(v) - np.log(w))
            dF0 = dF0 + f.multiplicity * (1.0 / v - 1.0 / w)
        F0 = _wrap_angle(logs - np.log(z))
        return F0, F, dF0, dpsi

    def _newton_float(self, z, v, u, maxiter=60, damp=0.3):
        """Vectorised damped Newton; returns (v, u, converged mask).

        A point converges when the relative Newton step falls below ``64 eps``; points that
        never get there (next to a support edge, where the root is double and Newton is linear)
        are accepted when their residual is below ``sqrt(eps)``.
        """
        with np.errstate(all="ignore"):
            return self._newton_float_kernel(z, v, u, maxiter, damp)

    def _newton_float_kernel(self, z, v, u, maxiter, damp):
        v = v.copy()
        u = u.copy()
        tol = 64 * np.finfo(float).eps
        done = np.zeros(v.shape[0], dtype=bool)
        for _ in range(maxiter):
            act = ~done
            if not act.any():
                break
            F0, F, dF0, dpsi = self._residual_float(z[act], v[act], u[act])
            ua = u[act]
            va = v[act]
            coef = self._mult / (ua * dpsi)                 # m_j / (u_j psi_j')
            denom = dF0 + coef.sum(axis=1)
            dv = (-F0 + (coef * F).sum(axis=1)) / denom
            du = (dv[:, None] - F) / dpsi
            # damping: |dv| <= damp |v| and |dw| <= damp |w|... whichever is looser, and u steps
            ref = np.maximum(np.abs(va), np.abs(va - 1.0))
            scale = np.ones(dv.shape)
            big = np.abs(dv) > damp * ref + 1e-300
            scale[big] = damp * ref[big] / np.abs(dv[big])
            if du.size:
                ratio = np.max(np.abs(du) / (np.abs(ua) + 1e-300), axis=1)
                bigu = ratio > damp
                scale[bigu] = np.minimum(scale[bigu], damp / ratio[bigu])
            bad = ~np.isfinite(dv) | np.any(~np.isfinite(du), axis=1)
            idx = np.flatnonzero(act)
            step_ok = ~bad
            v[idx[step_ok]] += scale[step_ok] * dv[step_ok]
            u[idx[step_ok]] += scale[step_ok, None] * du[step_ok]
            small = (np.abs(dv) <= tol * np.minimum(np.abs(va), np.abs(va - 1.0))) & (scale == 1.0)
            if du.size:
                small &= np.all(np.abs(du) <= tol * np.abs(ua) + 1e-300, axis=1)
            done[idx[small & step_ok]] = True
            if bad.any():
                done[idx[bad]] = True                          # give up on those (flagged below)
                v[idx[bad]] = np.nan
        conv = done & np.isfinite(v)
        rest = ~done & np.isfinite(v)
        if rest.any():
            F0, F, _, _ = self._residual_float(z[rest], v[rest], u[rest])
            res = np.abs(F0) + (np.abs(F) / (np.abs(v[rest, None]) + 1e-300)).sum(axis=1)
            conv[np.flatnonzero(rest)[res <= np.sqrt(np.finfo(float).eps)]] = True
        return v, u, conv

    def initial_guess(self, z):
        """Series start :math:`v \\approx 1 + m_1 z`, :math:`u_j \\approx m_1 z/m_1(\\mu_j)`."""
        z = np.asarray(z, dtype=complex)
        w = self.mean * z
        u = np.stack([w / f.mean for f in self.laws], axis=-1) if self.laws else \
            np.zeros(z.shape + (0,), dtype=complex)
        return 1.0 + w, u

    def solve_path_float(self, zs, v0=None, u0=None, maxiter=60):
        """Continuation along the points ``zs`` (in order), each start = previous solution.

        Returns (v, u, ok): v = 1 + psi (n,), u (n, J), ok (n,) bool. A step that fails to
        converge is retried with the interval halved (up to 12 times).
        """
        zs = np.asarray(zs, dtype=complex)
        n = zs.shape[0]
        J = len(self.laws)
        V = np.full(n, np.nan + 0j)
        U = np.full((n, J), np.nan + 0j)
        ok = np.zeros(n, dtype=bool)
        if v0 is None:
            v_prev, u_prev = self.initial_guess(zs[:1])
            v_prev, u_prev = v_prev[0], u_prev[0]
        else:
            v_prev, u_prev = complex(v0), np.asarray(u0, dtype=complex)
        z_prev = None
        for i in range(n):
            target = zs[i]
            if z_prev is None:
                zv, zu, c = self._newton_float(np.array([target]), np.array([v_prev]),
                                               u_prev[None, :], maxiter)
                if not c[0]:
                    break
                v_prev, u_prev, z_prev = zv[0], zu[0], target
            else:
                lo = 0.0
                t = 1.0
                vc, uc = v_prev, u_prev
                tries = 0
                while lo < 1.0:
                    zt = z_prev * (target / z_prev) ** t        # geometric interpolation
                    zv, zu, c = self._newton_float(np.array([zt]), np.array([vc]), uc[None, :],
                                                   maxiter)
                    if c[0]:
                        vc, uc, lo = zv[0], zu[0], t
                        t = 1.0
                    else:
                        tries += 1
                        if tries > 12:
                            break
                        t = lo + (t - lo) / 2
                if lo < 1.0:
                    break
                v_prev, u_prev, z_prev = vc, uc, target
            V[i], U[i], ok[i] = v_prev, u_prev, True
        return V, U, ok

    # ---------------------------------------------------------------- mpmath kernel
    def newton_mp(self, z, v, u, tol=None, maxiter=80, damp=mpmath.mpf("0.3")):
        """Newton at the current mpmath precision from (v, u); returns (v, u).

        Raises NoConvergence when the relative step does not fall below ``tol`` (default
        ``eps * 2**8``) within ``maxiter`` iterations.
        """
        z = mpmath.mpc(z)
        v = mpmath.mpc(v)
        u = [mpmath.mpc(x) for x in u]
        tol = mpmath.eps * 256 if tol is None else tol
        two_pi = 2 * mpmath.pi
        prev_step = None
        for _ in range(maxiter):
            w = v - 1
            logs, dF0 = self._closed_terms(w, v, mpmath)
            logs += mpmath.log(w) - mpmath.log(v)
            dF0 += 1 / w - 1 / v
            F = []
            dpsi = []
            for j, f in enumerate(self.laws):
                p1, dp = f.mp_psi1(u[j])
                F.append(p1 - v)
                dpsi.append(dp)
                logs += f.multiplicity * (mpmath.log(u[j]) + mpmath.log(v) - mpmath.log(w))
                dF0 += f.multiplicity * (1 / v - 1 / w)
            F0 = logs - mpmath.log(z)
            F0 = mpmath.mpc(F0.real, F0.imag - two_pi * mpmath.nint(F0.imag / two_pi))
            coef = [f.multiplicity / (u[j] * dpsi[j]) for j, f in enumerate(self.laws)]
            denom = dF0 + mpmath.fsum(coef)
            dv = (-F0 + mpmath.fsum(c * Fj for c, Fj in zip(coef, F))) / denom
            du = [(dv - F[j]) / dpsi[j] for j in range(len(self.laws))]
            scale = mpmath.mpf(1)
            ref = max(abs(v), abs(w))
            if abs(dv) > damp * ref:
                scale = damp * ref / abs(dv)
            for j in range(len(u)):
                if abs(du[j]) > damp * abs(u[j]):
                    scale = min(scale, damp * abs(u[j]) / abs(du[j]))
            v += scale * dv
            u = [u[j] + scale * du[j] for j in range(len(u))]
            step = abs(dv) / min(abs(v), abs(v - 1))
            if scale == 1 and step <= tol and all(
                    abs(du[j]) <= tol * abs(u[j]) for j in range(len(u))):
                return v, u
            # next to a double root (a support edge) the attainable accuracy is eps/|F'|: stop
            # when the full steps are below sqrt(eps) and no longer shrink (rounding level)
            if scale == 1 and step <= mpmath.sqrt(mpmath.eps) and prev_step is not None \
                    and step >= prev_step / 4:
                return v, u
            prev_step = step if scale == 1 else None
        raise NoConvergence(
            f"free-product Newton did not converge at z = {mpmath.nstr(z, 8)} "
            f"within {maxiter} iterations")

    def moments(self, k, factor_moments):
        """Raw moments of the product from each law factor's moments (closed factors known).

        ``factor_moments[j]`` are the moments :math:`m_1..m_k` of ``self.laws[j]`` (any generic
        type); returns :math:`m_1..m_k` of :math:`\\mu` (same type).
        """
        if len(factor_moments) != len(self.laws):
            raise ValueError(f"need moments for {len(self.laws)} law factors, "
                             f"got {len(factor_moments)}")
        one = factor_moments[0][0] * 0 + 1 if factor_moments else 1
        s_total = [one] + [0 * one] * (k - 1)
        for f in self.closed:
            s = f.series(k - 1, one)
            for _ in range(f.multiplicity):
                s_total = series_mul(s_total, s, k - 1)
        for f, mom in zip(self.laws, factor_moments):
            s = s_series(list(mom)[:k], k - 1)
            for _ in range(f.multiplicity):
                s_total = series_mul(s_total, s, k - 1)
        return moments_from_s_series(s_total, k)
