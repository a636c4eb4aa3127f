r"""The limit law of several layers, with or without an additive bias, on the shared Law machinery.

Model (conventions of issue 6, point 4; the sampler :func:`nrmt.numerics.sampling.sample_gram`
follows them): :math:`Y_0 = X` (:math:`n_0\times m`, entries of variance :math:`\sigma_x^2`),
:math:`Y_\ell = f(W_\ell Y_{\ell-1} + b_\ell 1^\top) - \mu_\ell(b_\ell)` with :math:`W_\ell` of
variance :math:`\sigma_w^2/n_{\ell-1}` and :math:`b_\ell` iid :math:`N(0, \sigma_b^2)` (or 0), and
:math:`M = \frac1m Y_L Y_L^\top`. The law of :math:`M` is computed through the :math:`m\times m`
kernels :math:`B_\ell = Y_\ell^\top Y_\ell/n_\ell` with ratios :math:`\gamma_\ell = m/n_\ell`.

The recursion
-------------
Conditionally on :math:`Y_{\ell-1}`, the rows of :math:`Y_\ell` are independent; row :math:`i`
is, after the Gaussian-equivalent linearisation of :math:`f(\cdot + b_i)` (Péché 2019; Fan & Wang
2020, Lemma on the CK linearisation; Piccolo & Schröder 2021 for the bias), a Gaussian vector with
covariance

.. math:: \Sigma(\beta) = c(\beta)^2\, K_\ell + s(\beta)^2\, I, \qquad
          K_\ell = \sigma_w^2 B_{\ell-1},\quad \beta = b_i,

where :math:`c(\beta) = \mathbb E f'(\sqrt{q_\ell}\,\xi + \beta)`,
:math:`s(\beta)^2 = \theta_1(\beta) - q_\ell c(\beta)^2` and
:math:`q_\ell = \sigma_w^2 \bar\theta_1^{(\ell-1)}` (:math:`\bar\theta_1^{(0)} = \sigma_x^2`).
The deterministic equivalent of a sum of independent rank-one terms with covariances
:math:`\Sigma(\beta_i)` (Wagner, Couillet, Debbah & Slock, IEEE Trans. IT 58 (2012), Thm. 1) gives,
with :math:`e_0 = \frac1{n}\operatorname{tr}\bar Q`, :math:`e_1 = \frac1n\operatorname{tr}K\bar Q`,

.. math::
    \delta(\beta) = c(\beta)^2 e_1 + s(\beta)^2 e_0,\quad
    \alpha = \mathbb E_\beta\frac{c^2}{1+\delta},\quad
    \tau = \mathbb E_\beta\frac{s^2}{1+\delta},\quad
    w = \frac{z-\tau}{\alpha},

.. math::
    e_0 = \frac{\gamma_\ell}{\alpha}\, m_K(w),\qquad
    e_1 = \frac{\gamma_\ell}{\alpha}\,\bigl(1 + w\, m_K(w)\bigr),\qquad
    m_{B_\ell}(z) = e_0/\gamma_\ell,

with :math:`m_K(w) = \sigma_w^{-2} m_{B_{\ell-1}}(w/\sigma_w^2)`, the previous layer's Stieltjes
transform (:math:`m(z) = \int d\mu(t)/(t-z)`) at a moved point. Without bias the averages are
single values and the step is Silverstein's equation for
:math:`\mathrm{MP}_{\gamma_\ell} \boxtimes \bigl(s^2 + c^2 K_\ell\bigr)` — Fan & Wang's recursion
:math:`\mu_\ell = \mathrm{MP}_{\gamma_\ell}\boxtimes\bigl((1-b^2) + b^2\mu_{\ell-1}\bigr)` after
normalising the activation (see ``derivations/layers_recursion.py``). At the bottom,
:math:`B_0 = X^\top X/n_0` is Marchenko–Pastur of ratio :math:`\gamma_0 = m/n_0` and scale
:math:`\sigma_x^2`. A layer with :math:`c \equiv 0` (:math:`\theta_2 = 0` without bias) forgets
everything below it: it is the bottom of the recursion, and the law is Marchenko–Pastur (the
isospectral case). Finally
:math:`G_M(z) = -\gamma_L e_0^{(L)}(\gamma_L z) + (1-\gamma_L)/z`.

All layers are solved at once: the unknowns :math:`(e_0^{(\ell)}, e_1^{(\ell)})_\ell` and the
bottom Stieltjes value form a vector of size :math:`2L + 1`, solved by damped Newton (numerical
Jacobian) along a path :math:`z = x + iy`, :math:`y` from :math:`50(|x| + \text{scale})` down to the
real axis, each step seeded by the previous one and accepted only while the solution stays on the
physical sheet (adaptive step per point): the physical branch by continuation from infinity,
never by a per-point root choice.

Precision
---------
* support edges: a scan of the float density refined by multisection (six rounds of 60 cells:
  ~1e-13 relative); on the
  mpmath path every edge other than 0 is then solved to the working precision as a fold of the
  real system (:meth:`LayersLaw._edge_mp`) and checked against a second solve.
* with a bias the float path is limited by the β rule (~1e-8 relative at 64 nodes), and below
  the bulk, where rows of vanishing size make the support reach 0 (:meth:`LayersLaw._soft_zero`),
  the density is only as fine as the rule (islands of its tail nodes).
* float path (``dps <= 15``): vectorised over the points; bias averages by Gauss–Hermite in
  :math:`\beta` (``nodes``, default 64) on float profiles
  (:func:`nrmt.theory.gaussian.gaussian_expectation_float`).
* mpmath path: Newton at the working precision seeded by the float continuation; without bias
  every constant comes exact or to the working precision from :mod:`nrmt.theory.constants`, and
  the result is good to any ``dps``; with bias each average is an ``mpmath.quad`` over
  :math:`\beta` whose nodes are memoised (each node costs two Gaussian quadratures), practical to
  about 30 digits.

References
----------
.. [FW] Z. Fan and Z. Wang, "Spectra of the conjugate kernel and neural tangent kernel for
   linear-width neural networks", NeurIPS 2020, arXiv:2005.11879 (main CK theorem; the theorem
   number in arXiv v3 not re-checked here).
.. [PS] V. Piccolo and D. Schröder, "Analysis of one-hidden-layer neural networks via the
   resolvent method", NeurIPS 2021, arXiv:2105.05115 (the bias model).
.. [WCDS] S. Wagner, R. Couillet, M. Debbah, D. Slock, "Large system analysis of linear
   precoding in correlated MISO broadcast channels under limited feedback", IEEE Trans. Inf.
   Theory 58 (2012), Theorem 1 (deterministic equivalent, rank-one terms of different covariances).
"""

import math

import mpmath
import numpy as np

from nrmt.numerics.law import Law
from nrmt.theory.errors import NoConvergence

__all__ = ["Profile", "LayersLaw"]


def _to_mp(v):
    """A number (float, int, Fraction, sympy Rational/Float, mpf) as mpf at the current precision."""
    if isinstance(v, (mpmath.mpf, mpmath.mpc)):
        return +v
    try:
        import sympy

        if isinstance(v, sympy.Basic):
            r = sympy.nsimplify(v) if v.is_Float else v
            if r.is_Rational:
                return mpmath.mpf(int(r.p)) / int(r.q)
            return mpmath.mpf(str(sympy.N(r, mpmath.mp.dps + 5)))
    except ImportError:  # pragma: no cover
        pass
    if hasattr(v, "numerator") and hasattr(v, "denominator") and not isinstance(v, float):
        return mpmath.mpf(int(v.numerator)) / int(v.denominator)
    return mpmath.mpf(v)


class Profile:
    r"""One layer's linearisation profile: the law of :math:`(c(\beta)^2, s(\beta)^2)`.

    Parameters
    ----------
    c2_float, s2_float : ndarray
        :math:`c(\beta_k)^2` and :math:`s(\beta_k)^2` at the Gauss–Hermite nodes (or one value each
        without bias).
    weights : ndarray
        Probabilities of the nodes (sum 1).
    q : number
        The variance :math:`q_\ell` of :math:`W_\ell Y_{\ell-1}` (the diagonal of :math:`K_\ell`).
    mp_average : callable or None
        ``mp_average(g)`` → :math:`\mathbb E_\beta\, g(c^2, s^2)` at the current mpmath precision
        (``None``: no mpmath path).
    linear_free : bool
        :math:`c \equiv 0` exactly (θ2 = 0 without bias): the layer forgets its input.
    noise_free : bool
        :math:`s \equiv 0` exactly (a linear activation): the layer adds no fresh noise.
    """

    def __init__(self, c2_float, s2_float, weights, q=1.0, mp_average=None, linear_free=False,
                 noise_free=False):
        self.q = q
        self.c2 = np.atleast_1d(np.asarray(c2_float, dtype=float))
        self.s2 = np.atleast_1d(np.asarray(s2_float, dtype=float))
        self.w = np.atleast_1d(np.asarray(weights, dtype=float))
        self.mp_average = mp_average
        #: bits of the profile values behind the mp averages (None: the current precision); the
        #: law pins it to its working precision so that the Newton Jacobian, taken at twice the
        #: precision, does not recompute the profile
        self.mp_prec = None
        self.linear_free = bool(linear_free)
        self.noise_free = bool(noise_free)
        # the float averages skip nodes whose weight is below float resolution of the sum
        # (Gauss-Hermite tails: weights down to 1e-100); the full arrays stay for other uses
        keep = self.w > 1e-18 * self.w.sum()
        self._c2k, self._s2k = self.c2[keep][:, None], self.s2[keep][:, None]
        self._wc2, self._ws2 = self.w[keep] * self.c2[keep], self.w[keep] * self.s2[keep]
        wk, c2k, s2k = self.w[keep], self.c2[keep], self.s2[keep]
        self._wq = (wk * c2k * c2k, wk * c2k * s2k, wk * s2k * s2k)

    def averages_float(self, e0, e1):
        r"""(α, τ) at arrays e0, e1 (float path); at :class:`_Dual` e0, e1 also their derivatives
        (:math:`\partial\alpha/\partial e_1 = -\mathbb E\,c^4/(1+\delta)^2` etc., exact)."""
        if isinstance(e0, _Dual) or isinstance(e1, _Dual):
            return self._averages_dual(_Dual.lift(e0, e1), _Dual.lift(e1, e0))
        dr, di, m = self._denominator(e0, e1)
        a = self._wc2 @ (dr * m) - 1j * (self._wc2 @ (di * m))
        t = self._ws2 @ (dr * m) - 1j * (self._ws2 @ (di * m))
        return a, t

    def _denominator(self, e0, e1):
        """1 + c² e1 + s² e0 at every (node, point) as real and imaginary parts, and 1/|.|²
        (real arithmetic: numpy's complex division is several times slower)."""
        e0 = np.asarray(e0, dtype=complex)
        e1 = np.asarray(e1, dtype=complex)
        dr = 1.0 + self._c2k * e1.real[None, :] + self._s2k * e0.real[None, :]
        di = self._c2k * e1.imag[None, :] + self._s2k * e0.imag[None, :]
        return dr, di, 1.0 / (dr * dr + di * di)

    def _averages_dual(self, e0, e1):
        dr, di, m = self._denominator(e0.v, e1.v)
        inv_r, inv_i = dr * m, -di * m                       # 1/(1+delta)
        sq_r, sq_i = inv_r * inv_r - inv_i * inv_i, 2 * inv_r * inv_i   # 1/(1+delta)^2
        wcc, wcs, wss = self._wq

        def avg(wv, re, im):
            return wv @ re + 1j * (wv @ im)

        a = avg(self._wc2, inv_r, inv_i)
        t = avg(self._ws2, inv_r, inv_i)
        cc, cs, ss = (avg(wv, sq_r, sq_i) for wv in (wcc, wcs, wss))
        da = -(cc * e1.d + cs * e0.d)
        dt = -(cs * e1.d + ss * e0.d)
        return _Dual(a, da), _Dual(t, dt)

    def averages_mp(self, e0, e1):
        """(α, τ) at mpc e0, e1 (mpmath path, current precision)."""
        if self.mp_average is None:
            raise NoConvergence("this profile has no mpmath path")
        prec = self.mp_prec
        pair = getattr(self.mp_average, "pair", None)
        if isinstance(e0, _MpDual) or isinstance(e1, _MpDual):
            n = len(e0.d if isinstance(e0, _MpDual) else e1.d)
            d0 = e0 if isinstance(e0, _MpDual) else _MpDual(e0, [0] * n)
            d1 = e1 if isinstance(e1, _MpDual) else _MpDual(e1, [0] * n)
            got = pair(d0.v, d1.v, prec, derivatives=True) if pair is not None else None
            if got is None:
                # one constant profile (no bias): the expressions themselves take duals
                alpha = self.mp_average(lambda c2, s2: c2 / (1 + c2 * d1 + s2 * d0), prec)
                tau = self.mp_average(lambda c2, s2: s2 / (1 + c2 * d1 + s2 * d0), prec)
                if not isinstance(alpha, _MpDual) or not isinstance(tau, _MpDual):
                    raise TypeError("this profile's average does not take dual numbers")
                return alpha, tau
            a, t, a0, a1, t0, t1 = got
            return (_MpDual(a, [a0 * x + a1 * y for x, y in zip(d0.d, d1.d)]),
                    _MpDual(t, [t0 * x + t1 * y for x, y in zip(d0.d, d1.d)]))
        both = pair(e0, e1, prec) if pair is not None else None
        if both is not None:
            return both
        alpha = self.mp_average(lambda c2, s2: c2 / (1 + c2 * e1 + s2 * e0), prec)
        tau = self.mp_average(lambda c2, s2: s2 / (1 + c2 * e1 + s2 * e0), prec)
        return alpha, tau


class _Dual:
    r"""A forward-mode dual number over arrays: value ``v`` (shape (N,)) and derivatives ``d``
    (shape (n, N)) with respect to the n unknowns of :class:`_System`, so that one evaluation of
    the residual gives the exact Jacobian (the chain rule, as in any forward-mode automatic
    differentiation; Griewank & Walther, *Evaluating Derivatives*, 2nd ed., SIAM 2008, Ch. 3)
    instead of n + 1 evaluations and a finite-difference error of ~1e-7."""

    __slots__ = ("v", "d")
    __array_ufunc__ = None      # ndarray op _Dual: numpy defers to the reflected method

    def __init__(self, v, d):
        self.v, self.d = v, d

    @staticmethod
    def lift(a, like):
        """``a`` as a dual (a constant when it is a plain array) shaped like the dual ``like``."""
        if isinstance(a, _Dual):
            return a
        return _Dual(np.asarray(a, dtype=complex), np.zeros_like(like.d))

    def __add__(self, o):
        if isinstance(o, _Dual):
            return _Dual(self.v + o.v, self.d + o.d)
        return _Dual(self.v + o, self.d)

    __radd__ = __add__

    def __neg__(self):
        return _Dual(-self.v, -self.d)

    def __sub__(self, o):
        if isinstance(o, _Dual):
            return _Dual(self.v - o.v, self.d - o.d)
        return _Dual(self.v - o, self.d)

    def __rsub__(self, o):
        return _Dual(o - self.v, -self.d)

    def __mul__(self, o):
        if isinstance(o, _Dual):
            return _Dual(self.v * o.v, self.d * o.v + self.v * o.d)
        return _Dual(self.v * o, self.d * o)

    __rmul__ = __mul__

    def __truediv__(self, o):
        if isinstance(o, _Dual):
            q = self.v / o.v
            return _Dual(q, (self.d - q * o.d) / o.v)
        return _Dual(self.v / o, self.d / o)

    def __rtruediv__(self, o):
        q = o / self.v
        return _Dual(q, -q * self.d / self.v)


class _MpDual:
    r"""A forward-mode dual number at mpmath precision: value ``v`` (mpc) and the derivatives
    ``d`` (list of mpc) with respect to the unknowns of :class:`_System` — the mpmath twin of
    :class:`_Dual`, so that :func:`_newton_mp` gets the exact Jacobian from one evaluation of
    the residual instead of n + 1 (Griewank & Walther, *Evaluating Derivatives*, Ch. 3)."""

    __slots__ = ("v", "d")

    def __init__(self, v, d):
        self.v, self.d = v, d

    def __add__(self, o):
        if isinstance(o, _MpDual):
            return _MpDual(self.v + o.v, [a + b for a, b in zip(self.d, o.d)])
        return _MpDual(self.v + o, self.d)

    __radd__ = __add__

    def __neg__(self):
        return _MpDual(-self.v, [-a for a in self.d])

    def __sub__(self, o):
        if isinstance(o, _MpDual):
            return _MpDual(self.v - o.v, [a - b for a, b in zip(self.d, o.d)])
        return _MpDual(self.v - o, self.d)

    def __rsub__(self, o):
        return _MpDual(o - self.v, [-a for a in self.d])

    def __mul__(self, o):
        if isinstance(o, _MpDual):
            return _MpDual(self.v * o.v, [a * o.v + self.v * b for a, b in zip(self.d, o.d)])
        return _MpDual(self.v * o, [a * o for a in self.d])

    __rmul__ = __mul__

    def __truediv__(self, o):
        if isinstance(o, _MpDual):
            q = self.v / o.v
            return _MpDual(q, [(a - q * b) / o.v for a, b in zip(self.d, o.d)])
        return _MpDual(self.v / o, [a / o for a in self.d])

    def __rtruediv__(self, o):
        q = o / self.v
        f = -q / self.v
        return _MpDual(q, [f * a for a in self.d])


class _System:
    """The residual of the joint system (shared by the float and the mpmath paths)."""

    #: the residual accepts :class:`_Dual` unknowns (exact Jacobian in :func:`_newton_float`)
    dual = True

    def __init__(self, profiles, gammas, sigma_w2, sigma_x2):
        self.profiles = profiles
        self.gammas = gammas            # gamma_0 .. gamma_L
        self.sw2 = sigma_w2
        self.sx2 = sigma_x2
        L = len(profiles)
        lo = 0
        for l in range(1, L + 1):
            if profiles[l - 1].linear_free:
                lo = l
        self.L, self.lo = L, lo
        self.size = 2 * (L - lo) + 1

    def idx(self, l):
        return 2 * (l - self.lo - 1)

    def top_index(self):
        return self.idx(self.L) if self.L > self.lo else self.size - 1

    def top_slots(self):
        """Indices of the unknowns carried as z * e (they have a pole at z = 0 when the top kernel
        has an atom): the top layer's pair, or the bottom unknown when it is the top."""
        if self.L > self.lo:
            return (self.idx(self.L), self.idx(self.L) + 1)
        return (self.size - 1,)

    def residual(self, v, z, mp=False):
        """Residual at scaled unknowns ``v`` (top slots hold z * e; list of arrays or of mpc)."""
        u = list(v)
        for k in self.top_slots():
            u[k] = v[k] / z
        R = self._residual(u, z, mp)
        for k in self.top_slots():
            R[k] = R[k] * z
        return R

    def _residual(self, u, z, mp=False):
        """Residual vector at unknowns ``u`` (list of arrays or of mpc) and point ``z``."""
        R = [None] * self.size
        zl = z
        for l in range(self.L, self.lo, -1):
            i = self.idx(l)
            e0, e1 = u[i], u[i + 1]
            prof = self.profiles[l - 1]
            alpha, tau = prof.averages_mp(e0, e1) if mp else prof.averages_float(e0, e1)
            w = (zl - tau) / alpha
            if l - 1 > self.lo:
                m_low = u[self.idx(l - 1)] / self.gammas[l - 1]
            elif self.lo > 0:
                m_low = u[self.size - 1] / self.gammas[self.lo]
            else:
                m_low = u[self.size - 1]
            mK = m_low / self.sw2
            g = self.gammas[l]
            R[i] = e0 - g * mK / alpha
            R[i + 1] = e1 - (g / alpha) * (1 + w * mK)
            zl = w / self.sw2
        eb = u[self.size - 1]
        if self.lo == 0:
            g0 = self.gammas[0]
            R[self.size - 1] = eb * (self.sx2 * (1 - g0 - g0 * zl * eb) - zl) - 1
        else:
            prof = self.profiles[self.lo - 1]
            if mp:
                tau = prof.mp_average(lambda c2, s2: s2 / (1 + s2 * eb))
            elif isinstance(eb, _Dual):
                inv = 1 / (1 + prof.s2[:, None] * eb.v[None, :])
                tau = _Dual((prof.w[:, None] * prof.s2[:, None] * inv).sum(0),
                            -(prof.w[:, None] * prof.s2[:, None] ** 2 * inv ** 2).sum(0) * eb.d)
            else:
                tau = (prof.w[:, None] * prof.s2[:, None] / (1 + prof.s2[:, None] * eb[None, :])).sum(0)
            R[self.size - 1] = eb * (tau - zl) - self.gammas[self.lo]
        return R

    def initial(self, z, mp=False):
        """Asymptotic values at large |z| (G ~ 1/z), layer by layer down the moved points."""
        u = [None] * self.size
        zl = z
        for l in range(self.L, self.lo, -1):
            prof = self.profiles[l - 1]
            if mp:
                alpha = prof.mp_average(lambda c2, s2: c2)
                tau = prof.mp_average(lambda c2, s2: s2)
            else:
                alpha, tau = float((prof.w * prof.c2).sum()), float((prof.w * prof.s2).sum())
            i = self.idx(l)
            u[i] = -self.gammas[l] / zl
            u[i + 1] = -self.gammas[l] * prof.q / zl   # e1 ~ -gamma q / z at infinity
            zl = (zl - tau) / alpha / self.sw2
        u[self.size - 1] = -1 / zl if self.lo == 0 else -self.gammas[self.lo] / zl
        for k in self.top_slots():
            u[k] = u[k] * z
        return u



def _advance(U, t, res, dt, act, ok, Un, tn, rn):
    """One step of a batched adaptive continuation, in place: the active points ``act`` whose
    step was accepted (``ok``) move to ``Un`` at ``tn`` and lengthen their step (x1.5, at most
    0.25); the rejected ones halve it, and a point whose step cannot shrink further (< 1e-7) is
    abandoned with an infinite residual (the caller retries it or reports nan)."""
    acc = act[ok]
    U[:, acc] = Un[:, ok]
    t[acc] = tn[ok]
    res[acc] = rn[ok]
    dt[acc] = np.minimum(dt[acc] * 1.5, 0.25)
    rej = act[~ok]
    dt[rej] = dt[rej] / 2
    dead = rej[dt[rej] < 1e-7]
    if dead.size:
        t[dead] = 1.0
        res[dead] = np.inf

def _newton_float(system, u, z, iters=40, tol=1e-14):
    """Damped Newton on all points at once; returns (u, residual norm).

    A system whose residual takes :class:`_Dual` unknowns (``system.dual``) gets the exact
    Jacobian from one dual evaluation, each point leaves the iteration as soon as its own
    step is below ``tol`` (a converged point is neither iterated nor damped again), and the
    damping re-evaluates only the points whose step it shortens; other
    systems (the NTK law's) take :func:`_newton_float_fd`."""
    if not getattr(system, "dual", False):
        return _newton_float_fd(system, u, z, iters, tol)
    n = system.size
    z = np.asarray(z, dtype=complex)
    N = z.size
    U = np.array(u, dtype=complex).reshape(n, N)
    eye = np.eye(n, dtype=complex)

    def F(V, sel):
        return np.array(system.residual(list(V), z[sel]), dtype=complex).reshape(n, -1)

    act = np.arange(N)
    Rall = None
    with np.errstate(all="ignore"):
        for _ in range(iters):
            if act.size == 0:
                break
            m = act.size
            D = [_Dual(U[j, act], np.broadcast_to(eye[j][:, None], (n, m)).copy()) for j in range(n)]
            Rd = system.residual(D, z[act])
            R = np.array([r.v for r in Rd]).reshape(n, m)
            J = np.transpose(np.array([r.d for r in Rd]).reshape(n, n, m), (2, 0, 1))
            ok = np.all(np.isfinite(J), axis=(1, 2)) & np.all(np.isfinite(R), axis=0)
            J[~ok] = np.eye(n)
            rhs = np.where(ok[None, :], -R, 0).T[..., None]
            try:
                du = np.linalg.solve(J, rhs)[..., 0].T
            except np.linalg.LinAlgError:
                du = np.zeros((n, m), dtype=complex)
                for k in range(m):
                    try:
                        du[:, k] = np.linalg.solve(J[k], rhs[k])[:, 0]
                    except np.linalg.LinAlgError:
                        pass
            Ua = U[:, act]
            r0 = np.sqrt((np.abs(R) ** 2).sum(0))
            lam = np.ones(m)
            V = Ua + du
            RV = F(V, act)
            todo = np.arange(m)
            for _bt in range(10):
                rn = np.sqrt((np.abs(RV[:, todo]) ** 2).sum(0))
                bad = ~(rn <= r0[todo] * (1 - 1e-4 * lam[todo])) & (r0[todo] > 1e-300)
                todo = todo[bad]
                if todo.size == 0:
                    break
                lam[todo] /= 2
                V[:, todo] = Ua[:, todo] + lam[todo] * du[:, todo]
                RV[:, todo] = F(V[:, todo], act[todo])
            step = np.abs(lam * du) / (1 + np.abs(Ua))
            U[:, act] = V
            if Rall is None:
                Rall = np.full((n, N), np.nan + 0j)
            Rall[:, act] = RV
            done = ~(np.max(step, axis=0) >= tol)
            act = act[~done]
        R = Rall if Rall is not None else F(U, np.arange(N))
        res = np.sqrt((np.abs(R) ** 2).sum(0)) / (1 + np.sqrt((np.abs(U) ** 2).sum(0)))
    return U, res


def _newton_float_fd(system, u, z, iters=40, tol=1e-14):
    """Damped Newton on all points at once, Jacobian by forward differences (systems whose
    residual takes no :class:`_Dual`); returns (u, residual norm)."""
    n, N = system.size, z.size
    U = np.array(u, dtype=complex)

    def F(V):
        return np.array(system.residual(list(V), z), dtype=complex)

    with np.errstate(all="ignore"):
        R = F(U)
        for _ in range(iters):
            J = np.empty((N, n, n), dtype=complex)
            for j in range(n):
                h = 1e-7 * (1 + np.abs(U[j]))
                V = U.copy()
                V[j] = V[j] + h
                J[:, :, j] = ((F(V) - R) / h).T
            ok = np.all(np.isfinite(J), axis=(1, 2)) & np.all(np.isfinite(R), axis=0)
            J[~ok] = np.eye(n)
            rhs = np.where(ok[None, :], -R, 0).T[..., None]
            try:
                du = np.linalg.solve(J, rhs)[..., 0].T
            except np.linalg.LinAlgError:
                du = np.zeros_like(U)
                for k in range(N):
                    try:
                        du[:, k] = np.linalg.solve(J[k], rhs[k])[:, 0]
                    except np.linalg.LinAlgError:
                        pass
            r0 = np.sqrt((np.abs(R) ** 2).sum(0))
            lam = np.ones(N)
            for _bt in range(10):
                V = U + lam * du
                RV = F(V)
                rn = np.sqrt((np.abs(RV) ** 2).sum(0))
                bad = ~(rn <= r0 * (1 - 1e-4 * lam)) & (r0 > 1e-300)
                if not bad.any():
                    break
                lam = np.where(bad, lam / 2, lam)
            step = np.abs(lam * du) / (1 + np.abs(U))
            U, R = V, RV
            if np.nanmax(step) < tol:
                break
        res = np.sqrt((np.abs(R) ** 2).sum(0)) / (1 + np.sqrt((np.abs(U) ** 2).sum(0)))
    return U, res


class LayersLaw(Law):
    r"""Limit law of :math:`M = \frac1m Y_LY_L^\top` for L layers (bias optional).

    Parameters
    ----------
    profiles : list of Profile
        One per layer (layer 1 first).
    gammas : list of numbers
        :math:`\gamma_\ell = m/n_\ell`, ℓ = 0..L.
    sigma_w, sigma_x : number
    dps : int
    mean : number, optional
        The first moment (:math:`\bar\theta_1^{(L)}`), used for the scale and as ``moments()[0]``.

    Notes
    -----
    The module docstring gives the equations (Fan & Wang 2020; Piccolo & Schröder 2021 for the
    bias; the deterministic equivalent of Wagner et al. 2012). The atom at 0 is
    :math:`1 - \gamma_L r_L` with the rank fractions :math:`r_0 = \min(1, 1/\gamma_0)`,
    :math:`r_\ell = \min(1/\gamma_\ell,\ 1 \text{ if } s \not\equiv 0 \text{ else } r_{\ell-1})`.
    """

    #: initial number of steps of the (adaptive) continuation path from x + 50 i (|x| + scale)
    #: down to the real axis
    steps = 20

    def __init__(self, profiles, gammas, sigma_w=1, sigma_x=1, dps=15, mean=None):
        super().__init__(dps)
        if len(gammas) != len(profiles) + 1:
            raise ValueError(f"need {len(profiles) + 1} ratios gamma_0..gamma_L, got {len(gammas)}")
        self.profiles = list(profiles)
        self.gammas = [float(g) for g in gammas]
        self._gammas_exact = list(gammas)
        self.sigma_w = sigma_w
        self.sigma_x = sigma_x
        self._mean = mean
        self._sys = _System(self.profiles, self.gammas, float(sigma_w) ** 2, float(sigma_x) ** 2)

    # -------------------------------------------------------------- pieces
    def _mean_float(self):
        if self._mean is not None:
            return float(self._mean)
        p = self.profiles[-1]
        return float((p.w * (p.c2 * 1.0 + p.s2)).sum())

    def _float_scale(self):
        return max(self._mean_float(), 1e-12)

    def _stieltjes_float(self, z):
        z = np.asarray(z, dtype=complex)
        flat = z.ravel()
        out = np.full(flat.shape, np.nan + 0j)
        # group by imaginary part: continuation to each Im z (boundary values when Im z == 0)
        for y in np.unique(flat.imag):
            sel = np.nonzero(flat.imag == y)[0]
            out[sel] = self._g_at(flat[sel].real, y)
        return out.reshape(z.shape)

    def _g_at(self, x, y):
        """G at x + i y (y >= 0) by continuation; points whose Newton residual stays large or whose
        G leaves the lower half plane (a jump to another branch) are redone on a finer path."""
        gL = self.gammas[-1]
        g = np.full(x.shape, np.nan + 0j)
        todo = np.arange(x.size)
        steps = self.steps
        while todo.size and steps <= 4 * self.steps:
            u, res = self._continue(x[todo], y, steps)
            zz = x[todo] + 1j * y
            with np.errstate(all="ignore"):
                gg = (-u[self._sys.top_index()] + 1 - gL) / np.where(zz == 0, 1e-300, zz)
            ok = (res < 1e-9) & np.isfinite(gg) & (gg.imag <= 1e-9 * np.abs(gg))
            g[todo[ok]] = gg[ok]
            todo = todo[~ok]
            steps *= 2
        return g

    def _continue(self, x, y, steps=None):
        """Float unknowns at x + i y (y >= 0; y == 0 → boundary value, reached at Im ~ 1e-13 scale).

        Adaptive continuation in t (z = x + i y0^(1-t) floor^t), each point with its own step: a
        step is accepted only when Newton converges within a few iterations, the unknowns move by
        less than a fraction of their size, and the candidate stays on the physical sheet
        (Im G <= 0 and Im e0 >= 0 at every layer for Im z > 0); otherwise the step is halved. A
        fixed step list jumped to a non-physical root at large Im z (centred ReLU with bias: a
        real G inside the bulk, hence spurious gaps in the support). ``steps`` sets the initial
        number of steps (the first step size is 1/steps).
        """
        scale = self._float_scale()
        gL = self.gammas[-1]
        x = np.asarray(x, dtype=float)
        N = x.size
        y0 = 50.0 * (np.abs(x) + scale)
        # the boundary value is reached at Im z = 1e-13 of the point's own size (of the scale at
        # and above it): a height fixed to the scale smooths G over a window as wide as a point
        # near 0 itself (x = 3e-7 with the height 1e-13 gave a spurious density of 3e-7, an island
        # of the support of a two-layer tanh law)
        floor = (1e-13 * np.where(x != 0, np.minimum(np.abs(x), scale), scale) if y == 0
                 else np.full(N, float(y)))
        log_y0, log_f = np.log(y0), np.log(floor)
        U = np.array(self._sys.initial(gL * (x + 1j * y0)), dtype=complex).reshape(self._sys.size, N)
        t = np.zeros(N)
        dt = np.full(N, 1.0 / (steps or 20))
        res = np.zeros(N)
        sys = self._sys
        top = set(sys.top_slots())
        e0_slots = [k for k in range(0, sys.size - 1, 2) if k not in top]
        for _ in range(4000):
            act = np.nonzero(t < 1.0)[0]
            if act.size == 0:
                break
            tn = np.minimum(t[act] + dt[act], 1.0)
            yy = np.exp(log_y0[act] * (1 - tn) + log_f[act] * tn)
            z = gL * (x[act] + 1j * yy)
            Un, rn = _newton_float(sys, list(U[:, act]), z, iters=12, tol=1e-12)
            with np.errstate(all="ignore"):
                gg = (-Un[sys.top_index()] + 1 - gL) / z
                move = np.max(np.abs(Un - U[:, act]) / (1 + np.abs(U[:, act])), axis=0)
                ok = (rn < 1e-9) & np.isfinite(gg) & (gg.imag <= 1e-9 * np.abs(gg)) & (move < 0.25)
                for k in e0_slots:
                    ok &= Un[k].imag >= -1e-9 * np.abs(Un[k])
                kb = sys.size - 1
                if kb not in top:
                    ok &= Un[kb].imag >= -1e-9 * np.abs(Un[kb])
            _advance(U, t, res, dt, act, ok, Un, tn, rn)
        else:
            res[t < 1.0] = np.inf
        if y == 0:   # the boundary value itself: Newton on the real axis from the last point
            U2, res2 = _newton_float(self._sys, list(U), gL * (x + 0j))
            take = res2 <= np.maximum(res, 1e-15)
            U = np.where(take[None, :], U2, U)
            res = np.where(take, res2, res)
        return U, res

    def _sys_mp(self):
        """The system at the current precision (the ratios and scales converted exactly)."""
        return _System(self.profiles, [_to_mp(g) for g in self._gammas_exact],
                       _to_mp(self.sigma_w) ** 2, _to_mp(self.sigma_x) ** 2)

    def _stieltjes_mp(self, z, seed):
        r"""G(z) at the current precision: Newton on the joint system (:func:`_newton_mp`).

        Start: the solution of the same point at a lower precision when there is one (the Law's
        second, more precise solve then takes one or two steps), else the float continuation.
        Where Newton from the float start does not settle — a real point within float resolution
        of a support edge, where the float start lies on the real fold or on the wrong side of it —
        the solution is continued in mpmath from :math:`x + i\eta` down to the real axis
        (:meth:`_continue_mp`)."""
        gL = _to_mp(self._gammas_exact[-1])
        zt = gL * z
        sys_mp = self._sys_mp()
        for p in self.profiles:
            p.mp_prec = mpmath.mp.prec
        memo = self._cache.setdefault("mp_solutions", {})
        key = (complex(z), mpmath.nstr(z, 60))
        prev = memo.get(key)
        u = None
        if prev is not None and prev[0] < mpmath.mp.prec:
            try:
                u = _newton_mp(sys_mp, [mpmath.mpc(v) for v in prev[1]], zt)
            except NoConvergence:
                u = None
        if u is None and self._near_edge(z):
            u = self._continue_mp(sys_mp, z)
        if u is None:
            x, y = float(mpmath.re(z)), float(mpmath.im(z))
            seeds = self._cache.get("float_seeds", {})
            if complex(x, y) in seeds:
                u0, res = seeds[complex(x, y)]
            else:
                u0, res = self._continue(np.array([x]), y)
            try:
                if not res[0] < 1e-6:
                    raise NoConvergence(f"float continuation failed at z = {complex(z)}")
                u = _newton_mp(sys_mp, [mpmath.mpc(complex(v[0])) for v in u0], zt)
            except NoConvergence:
                u = self._continue_mp(sys_mp, z)
        if len(memo) > 4096:
            memo.clear()
        memo[key] = (mpmath.mp.prec, u)
        ptop = u[sys_mp.top_index()]
        return (-ptop + 1 - gL) / z

    def _mp_many(self, zs, dps=None):
        """As :meth:`Law._mp_many`, with the float starts of all points computed first in one
        vectorised continuation (per point they cost more than the mpmath Newton itself)."""
        pts = {}
        for z in zs:
            c = complex(z)
            c = complex(c.real, abs(c.imag))
            if np.isfinite(c) and c.real != 0 or c.imag != 0:
                pts.setdefault(c.imag, set()).add(c.real)
        seeds = {}
        for y, xs in pts.items():
            xs = np.array(sorted(xs))
            U, res = self._continue(xs, y)
            for k, x in enumerate(xs):
                seeds[complex(x, y)] = (U[:, k:k + 1], res[k:k + 1])
        self._cache["float_seeds"] = seeds
        try:
            return Law._mp_many(self, zs, dps)
        finally:
            self._cache.pop("float_seeds", None)

    def _density_points_mp(self, xs, a, b):
        r"""Density at the quadrature nodes of [a, b] (:meth:`Law._density_points_mp`), except at
        nodes closer to a soft edge (an edge other than a hard edge at 0) than
        :math:`10^{-(dps+6)}(b-a)`: there the density is :math:`O(\sqrt{\delta})` and the
        tanh-sinh weight :math:`O(\delta)`, so the node adds less than :math:`10^{-(dps+6)}` of
        :math:`\max
ho\,(b-a)` to the integral; it is taken as 0 instead of being solved at a
        precision that grows with :math:`\log(1/\delta)` (the fold makes the solution there as
        ill-conditioned as :math:`\epsilon/\sqrt\delta`)."""
        k = self._inside((a + b) / 2)
        if k is None:
            return [mpmath.mpf(0)] * len(xs)
        lo, hi = self.support_mp[k]
        cut = mpmath.mpf(10) ** (-self._dps - 6) * (hi - lo)
        soft_lo = lo != 0 or not self._hard_edge_at_zero()
        keep = [not ((soft_lo and x - lo < cut) or hi - x < cut) for x in xs]
        vals = iter(Law._density_points_mp(self, [x for x, k_ in zip(xs, keep) if k_], a, b))
        return [next(vals) if k_ else mpmath.mpf(0) for k_ in keep]

    def _near_edge(self, z):
        """Whether z is a real point closer to 0 or to a support edge than 1e-9 of its size: there
        the float start (accurate to ~1e-12 at x + 1e-13 i) cannot tell the branches apart."""
        if mpmath.im(z) != 0 or "support" not in {k[0] for k in self._cache if isinstance(k, tuple)}:
            return mpmath.im(z) == 0 and abs(mpmath.re(z)) < 1e-9 * self._float_scale()
        x = mpmath.re(z)
        near = abs(x) < 1e-9 * self._float_scale()
        for a, b in self.support_mp:
            near |= any(abs(x - e) < 1e-9 * abs(e) for e in (a, b) if e != 0)
        return near

    def _continue_mp(self, sys_mp, z):
        r"""The solution at z (Im z >= 0) by an mpmath continuation in the imaginary part: from
        :math:`x + i\eta_0` (:math:`\eta_0` = 1e-6 of the scale, where the float continuation is
        accurate and the roots are well apart) down by factors of 8 to below the working
        resolution, then onto z itself; each step is Newton from the previous solution."""
        gL = _to_mp(self._gammas_exact[-1])
        x, y = mpmath.re(z), mpmath.im(z)
        scale = mpmath.mpf(self._float_scale()) + abs(x)
        eta = max(mpmath.mpf(10) ** -6 * scale, y)
        u0, res = self._continue(np.array([float(x)]), float(eta))
        if not res[0] < 1e-9:
            raise NoConvergence(f"float continuation failed at z = {complex(x + 1j * eta)}")
        u = _newton_mp(sys_mp, [mpmath.mpc(complex(v[0])) for v in u0], gL * mpmath.mpc(x, eta))
        stop = (abs(x) or scale) * mpmath.mpf(2) ** (-mpmath.mp.prec)
        while eta > max(y, stop):
            eta = max(eta / 8, y)
            u = _newton_mp(sys_mp, u, gL * mpmath.mpc(x, eta))
        return _newton_mp(sys_mp, u, gL * z)

    def _atom(self):
        r = min(mpmath.mpf(1), 1 / _to_mp(self._gammas_exact[0]))
        for l, p in enumerate(self.profiles, start=1):
            cap = 1 / _to_mp(self._gammas_exact[l])
            if p.linear_free:
                r = min(cap, mpmath.mpf(1))
            elif p.noise_free:
                r = min(cap, r)
            else:
                r = min(cap, mpmath.mpf(1))
        a = 1 - _to_mp(self._gammas_exact[-1]) * r
        return a if a > 0 else mpmath.mpf(0)

    def _support(self):
        """Float path: the scanned edges (multisection, ~1e-12 relative). mpmath path: each edge
        other than 0 solved to the working precision as a fold of the real system
        (:meth:`_edge_mp`), checked against a second solve with 20 more digits."""
        edges = self._support_float()
        if self.is_float:
            return [(mpmath.mpf(a), mpmath.mpf(b)) for a, b in edges]
        cur = mpmath.mp.dps
        out = []
        for a, b in edges:
            pair = []
            for e in (a, b):
                if e == 0:
                    pair.append(mpmath.mpf(0))
                    continue
                with mpmath.workdps(2 * cur):
                    e1 = self._edge_mp(e)
                with mpmath.workdps(2 * cur + 20):
                    e2 = self._edge_mp(e)
                if not abs(e1 - e2) <= mpmath.mpf(10) ** (-cur) * abs(e2):
                    raise NoConvergence(f"support edge near {e:.12g} did not settle to {cur} digits")
                pair.append(+e2)
            out.append(tuple(pair))
        return out

    def _edge_mp(self, e):
        r"""A support edge at the current precision: the real point where the real branch folds.

        At an edge :math:`x_*` the physical real solution :math:`u(x)` of the system
        :math:`F(u, x) = 0` (module docstring; :math:`u` real off the support) meets a second real
        solution and both turn complex: :math:`\partial_u F` is singular there. Newton's method on
        the extended system :math:`F(u, x) = 0`, :math:`\partial_u F(u, x)\,v = 0`,
        :math:`\ell\cdot v = 1` (the standard fold / limit-point system, e.g. Seydel, *Practical
        Bifurcation and Stability Analysis*, 3rd ed., Sec. 5.5) in the unknowns
        :math:`(u, v, x)`, seeded by the float edge ``e`` (~1e-12) and the float solution there;
        :math:`\partial_u F\,v` by central differences with step :math:`\epsilon^{1/3}`, so the
        edge holds about two thirds of the working digits (the caller works at twice the digits
        it returns).
        """
        sys_mp = _System(self.profiles, [_to_mp(g) for g in self._gammas_exact],
                         _to_mp(self.sigma_w) ** 2, _to_mp(self.sigma_x) ** 2)
        gL = _to_mp(self._gammas_exact[-1])
        n = sys_mp.size
        U, _res = self._continue(np.array([float(e)]), 0.0)
        u = [mpmath.mpf(float(np.real(U[k][0]))) for k in range(n)]
        x = mpmath.mpf(e)
        eps = mpmath.mpf(2) ** (-mpmath.mp.prec)
        hd = eps ** (mpmath.mpf(1) / 3)

        def F(uu, xx):
            return [mpmath.re(r) for r in sys_mp.residual(uu, gL * xx, mp=True)]

        def Ju(uu, xx):
            J = mpmath.matrix(n, n)
            R0 = F(uu, xx)
            for j in range(n):
                h = mpmath.sqrt(eps) * (1 + abs(uu[j]))
                vv = list(uu)
                vv[j] += h
                Rv = F(vv, xx)
                for i in range(n):
                    J[i, j] = (Rv[i] - R0[i]) / h
            return J

        # the null vector at the seed by inverse iteration
        J = Ju(u, x)
        for i in range(n):
            J[i, i] += eps ** (mpmath.mpf(1) / 4) * (1 + abs(J[i, i]))
        v = mpmath.lu_solve(J, mpmath.matrix([1] * n))
        v = [v[i] for i in range(n)]
        nv = mpmath.sqrt(sum(t * t for t in v))
        v = [t / nv for t in v]
        ell = list(v)

        def G(w):
            uu, vv, xx = w[:n], w[n:2 * n], w[2 * n]
            Fp = F([a + hd * b for a, b in zip(uu, vv)], xx)
            Fm = F([a - hd * b for a, b in zip(uu, vv)], xx)
            return (F(uu, xx) + [(p - m) / (2 * hd) for p, m in zip(Fp, Fm)]
                    + [sum(a * b for a, b in zip(ell, vv)) - 1])

        w = u + v + [x]
        N = 2 * n + 1
        for _ in range(40):
            R = G(w)
            Jg = mpmath.matrix(N, N)
            for j in range(N):
                h = hd * (1 + abs(w[j]))
                ww = list(w)
                ww[j] += h
                Rw = G(ww)
                for i in range(N):
                    Jg[i, j] = (Rw[i] - R[i]) / h
            dw = mpmath.lu_solve(Jg, mpmath.matrix([-r for r in R]))
            w = [w[i] + dw[i] for i in range(N)]
            if abs(dw[N - 1]) <= mpmath.mpf(10) ** (-(2 * mpmath.mp.dps) // 3) * abs(w[N - 1]):
                return w[N - 1]
        raise NoConvergence(f"the fold system for the support edge near {e:.12g} did not converge")

    def _support_float(self):
        """Edges from a log + linear scan of the float density, refined by float bisection."""
        if "support_float" in self._cache:
            return self._cache["support_float"]
        scale = self._float_scale()
        # Marchenko-Pastur-like guess of the top edge (mean times (1 + sqrt(n_L/m))^2), doubled
        # until the density vanishes on the upper half of [0, hi]
        hi = 2.0 * scale * (1.0 + (1.0 / self.gammas[-1]) ** 0.5) ** 2
        for _ in range(8):
            xs = np.linspace(hi * 0.5, hi, 60)
            if np.all(self._rho(xs) <= 0):
                break
            hi *= 2
        xs = np.unique(np.concatenate([np.geomspace(hi * 1e-9, hi * 0.02, 120),
                                       np.linspace(hi * 0.02, hi, 600)]))
        rho = self._rho(xs)
        on = rho > 0
        brackets = []          # (off, on) pairs around each edge
        i, n = 0, len(xs)
        while i < n:
            if on[i]:
                j = i
                while j + 1 < n and on[j + 1]:
                    j += 1
                brackets.append((xs[i - 1], xs[i]) if i > 0 else (0.0, 0.0))
                brackets.append((xs[j + 1], xs[j]) if j + 1 < n else (xs[j], xs[j]))
                i = j + 1
            else:
                i += 1
        if brackets and self._soft_zero():
            # rows of vanishing size: the support reaches 0; the pieces below the bulk that the
            # scan finds are islands of the beta rule's tail nodes, not gaps of the law: only the
            # edges from the top of the widest piece up are refined
            pieces = [(brackets[k], brackets[k + 1]) for k in range(0, len(brackets), 2)]
            k = int(np.argmax([hi[1] - lo[1] for lo, hi in pieces]))
            ends = self._refine([pieces[k][1]] + [b for pc in pieces[k + 1:] for b in pc])
            ends = [0.0] + ends
        else:
            ends = self._refine(brackets)
        edges = [(ends[k], ends[k + 1]) for k in range(0, len(ends), 2)]
        self._cache["support_float"] = edges
        return edges

    def _soft_zero(self):
        r"""Whether the support reaches 0 with a vanishing density (no blow-up).

        With a bias, the last layer's row variance :math:`\theta_1(\beta) = s(\beta)^2 + q\,c(\beta)^2`
        may tend to 0 in a tail of :math:`\beta \sim N(0, \sigma_b^2)` (tanh for
        :math:`|\beta|\to\infty`, ReLU for :math:`\beta\to-\infty`): a positive fraction of the
        rows is then arbitrarily small, and when :math:`n_L < m` (:math:`\gamma_L > 1`, no atom)
        each such row carries an eigenvalue of its own size, so the law has positive density on
        :math:`(0, \varepsilon)` for every :math:`\varepsilon` (Silverstein & Choi 1995, the
        support of a sample covariance law whose population law reaches 0). A finite
        Gauss–Hermite rule in β turns that thin tail into islands below the bulk; they are merged
        into one interval from 0. Test: the row variance at the outermost nodes of a side is below
        1e-6 of the mean and decreasing outwards.
        """
        if "soft_zero" in self._cache:
            return self._cache["soft_zero"]
        p = self.profiles[-1]
        out = False
        if self.gammas[-1] > 1 and p.w.size >= 8:
            r = p.s2 + float(p.q) * p.c2
            mean = float((p.w * r).sum())
            r = np.maximum(r, 1e-12 * mean)        # underflow and rounding at the far nodes
            for side in (r[:4], r[::-1][:4]):
                if side[0] < 1e-6 * mean and np.all(np.diff(side) >= 0):
                    out = True
        self._cache["soft_zero"] = out
        return out

    def _hard_edge_at_zero(self):
        return Law._hard_edge_at_zero(self) and not self._soft_zero()

    def _density_mp(self, xs, dps=None):
        res = Law._density_mp(self, xs, dps)
        if self._soft_zero():
            res = [mpmath.mpf(0) if x == 0 else v for x, v in zip(xs, res)]
        return res

    def _rho(self, xs):
        g = self._stieltjes_float(np.asarray(xs, dtype=float) + 0j)
        rho = -g.imag / np.pi
        scale = np.maximum(np.abs(g), 1e-300)
        with np.errstate(invalid="ignore"):
            return np.where(np.isfinite(rho) & (rho > 1e-9 * scale), rho, 0.0)

    def _refine(self, brackets, rounds=6, k=60):
        """All edges at once by multisection: each round splits every bracket into k cells (the scan's
        cells are ~2e-3 of the top edge; six rounds of 60 leave ~4e-14 of it)."""
        off = np.array([b[0] for b in brackets], dtype=float)
        on = np.array([b[1] for b in brackets], dtype=float)
        if off.size == 0:
            return []
        for _ in range(rounds):
            t = np.linspace(0.0, 1.0, k + 1)[1:-1]
            pts = off[:, None] + (on - off)[:, None] * t[None, :]
            inside = self._rho(pts.ravel()).reshape(pts.shape) > 0
            # first point (from the off side) that is inside
            first = np.where(inside.any(axis=1), inside.argmax(axis=1), k - 1)
            new_on = np.where(first < k - 1, pts[np.arange(len(off)), np.minimum(first, k - 2)], on)
            new_off = np.where(first > 0, pts[np.arange(len(off)), np.maximum(first - 1, 0)], off)
            new_off = np.where(first == 0, off, new_off)
            off, on = new_off, new_on
        return list(0.5 * (off + on))

    def _density_float_raw(self, x):
        """-Im G(x + i0)/pi at float quadrature nodes, memoised on the node array (the moment and
        CDF rules evaluate the same tanh-sinh nodes once per moment)."""
        x = np.asarray(x, dtype=float)
        memo = self._cache.setdefault("density_raw", {})
        key = x.tobytes()
        if key not in memo:
            if len(memo) > 512:
                memo.clear()
            memo[key] = Law._density_float_raw(self, x)
        return memo[key].copy()

    def _moments(self, k):
        """The raw moments: without bias by the exact moment recursion
        (:meth:`_moments_recursion`), with a bias by Cauchy's formula (:meth:`_moments_cauchy`)."""
        if all(p.w.size == 1 and p.mp_average is not None for p in self.profiles):
            return self._moments_recursion(k)
        return self._moments_cauchy(k)

    def _moments_recursion(self, k):
        r"""The moments without bias, exactly (to the working precision) from the layer constants.

        :math:`B_\ell` is a sample covariance matrix (dimension m, :math:`n_\ell` samples,
        :math:`\gamma_\ell = m/n_\ell`) with population law :math:`H_\ell = s^2 + c^2\sigma_w^2
        B_{\ell-1}` (module docstring). Expanding Silverstein's equation
        :math:`m(z) = \int dH(t)/(t(1-\gamma-\gamma z m(z)) - z)` (Silverstein & Bai, J.
        Multivariate Anal. 54 (1995), Thm. 1.1) in :math:`w = 1/z` gives the explicit recursion

        .. math:: m_k = \sum_{j=1}^{k} h_j\, [w^{k-j}]\, u(w)^j,\qquad
                  u(w) = 1 + \gamma\sum_{i\ge1} m_i w^i,

        with :math:`h_j` the moments of :math:`H_\ell` (binomial in those of :math:`B_{\ell-1}`;
        :math:`H_0 = \delta_{\sigma_x^2}`). The nonzero eigenvalues of :math:`M` are those of
        :math:`\frac{n_L}{m}B_L`, so :math:`m_k(M) = \gamma_L^{1-k} m_k(B_L)`. No integral, no
        solve: as exact as the constants (:math:`c^2 = \theta_2/q`, :math:`s^2 = \theta_1 -
        \theta_2` at the working precision, or exact zeros)."""
        def mp_exact(v):
            return _to_mp(v)

        def sample_cov(h, gamma):
            m = []
            for kk in range(1, k + 1):
                u = [mpmath.mpf(1)] + [gamma * mi for mi in m]    # u truncated at degree kk-1
                acc = mpmath.mpf(0)
                power = [mpmath.mpf(1)]                            # u^0
                for j in range(1, kk + 1):
                    power = _series_mul(power, u, kk - j)
                    acc += h[j] * power[kk - j]
                m.append(acc)
            return m

        sw2 = mp_exact(self.sigma_w) ** 2
        sx2 = mp_exact(self.sigma_x) ** 2
        gam = [mp_exact(g) for g in self._gammas_exact]
        moms = sample_cov([sx2 ** j for j in range(k + 1)], gam[0])
        for l, prof in enumerate(self.profiles, start=1):
            c2 = prof.mp_average(lambda c2, s2: c2)
            s2 = prof.mp_average(lambda c2, s2: s2)
            lower = [mpmath.mpf(1)] + moms
            h = [sum((mpmath.binomial(j, r) * s2 ** (j - r) * (c2 * sw2) ** r * lower[r]
                      for r in range(j + 1)), mpmath.mpf(0)) for j in range(k + 1)]
            moms = sample_cov(h, gam[l])
        gL = gam[-1]
        return [gL ** (1 - j) * mj for j, mj in enumerate(moms, start=1)]

    def _moments_cauchy(self, k):
        r"""The moments by Cauchy's formula on a circle around the whole law,
        :math:`m_j = \frac1{2\pi i}\oint z^j G(z)\,dz` on :math:`|z - b/2| = b` (b the top
        edge; the support and the atom lie in :math:`|z - b/2| \le b/2`), by the trapezoid rule
        on N points, whose error is that of the aliased Laurent coefficients,
        :math:`O(2^{-N})` (Trefethen & Weideman, SIAM Rev. 56 (2014), Thm. 2.1 on the
        annulus); N = 3.33 (dps + 10) + 4k, G at each point verified to dps + 5 digits by the
        Law's two-precision check. The points are off the real axis, where the equations are
        well conditioned (no fold), so this is much faster than integrating the density. The
        float path uses the same rule with N = 64 (one vectorised continuation)."""
        if self.is_float:
            # the same rule on the float path: 64 points, one vectorised continuation
            top = float(self.support_mp[-1][1]) if self.support_mp else self._float_scale()
            c, R, N = top / 2, top, 64
            th = 2 * np.pi * (np.arange(N // 2) + 0.5) / N
            zs = c + R * np.exp(1j * th)
            gs = self._float_path(zs)
            return [mpmath.mpf(2 * float(np.sum((zs ** j * gs * (zs - c)).real)) / N)
                    for j in range(1, k + 1)]
        top = self.support_mp[-1][1] if self.support_mp else mpmath.mpf(self._float_scale())
        c, R = top / 2, top
        N = 2 * int((mpmath.mpf(10) / 3 * (self._dps + 10) + 4 * k) / 2 + 1)
        thetas = [2 * mpmath.pi * (j + mpmath.mpf(1) / 2) / N for j in range(N // 2)]
        zs = [c + R * mpmath.expj(t) for t in thetas]
        gs = self._mp_many(zs, self._dps + 5)
        out = []
        for j in range(1, k + 1):
            # the conjugate points (theta -> 2 pi - theta) add the complex conjugate: 2 Re
            acc = mpmath.fsum(mpmath.re(z ** j * g * (z - c)) for z, g in zip(zs, gs))
            out.append(2 * acc / N)
        return out

    def _scale(self):
        sup = self._support_float()
        return max([b for _, b in sup] + [self._float_scale()])


def _series_mul(a, b, deg):
    """Product of two truncated power series (coefficient lists), kept to degree ``deg``."""
    out = [mpmath.mpf(0)] * (deg + 1)
    for i, ai in enumerate(a[:deg + 1]):
        for j, bj in enumerate(b[:deg + 1 - i]):
            out[i + j] += ai * bj
    return out


def _jacobian_dual(system, u, z):
    """The Jacobian (mpmath matrix) and the residual at ``u``, from one evaluation of the
    residual on :class:`_MpDual` unknowns at the working precision."""
    n = system.size
    zero, one = mpmath.mpf(0), mpmath.mpf(1)
    D = [_MpDual(mpmath.mpc(u[j]), [one if i == j else zero for i in range(n)]) for j in range(n)]
    Rd = system.residual(D, z, mp=True)
    J = mpmath.matrix(n, n)
    R = []
    for i, r in enumerate(Rd):
        if not isinstance(r, _MpDual):
            raise TypeError("residual without derivatives")
        R.append(r.v)
        for j in range(n):
            J[i, j] = r.d[j]
    return J, R


def _newton_mp(system, u, z, iters=200):
    r"""Newton at the current mpmath precision.

    The residual is evaluated at the working precision and again at twice it: their difference
    is the rounding noise of the working evaluation. Newton stops when the relative step is
    below the working resolution, or when the residual (the accurate one) is no larger than a
    few times that noise — the solution is then as accurate as the working precision can make
    it (near a support edge, where the Jacobian is nearly singular, or near a hard edge at 0,
    where the equations cancel), and the Law's two-precision check judges its digits.
    The Jacobian is exact: from one evaluation of the residual on dual numbers
    (:func:`_jacobian_dual`), or, where a profile's average takes no duals, a forward difference
    at twice the precision with a step relative to each unknown (:math:`2^{-p-10}|u_j|`; an
    absolute step was larger than the unknowns themselves near a hard edge at 0).
    """
    n = system.size
    prec = mpmath.mp.prec
    eps = mpmath.mpf(2) ** (-prec)
    dual = True
    for _ in range(iters):
        J = None
        if dual:
            try:
                J, R = _jacobian_dual(system, u, z)
            except TypeError:           # a profile whose average takes no duals: differences
                dual = False
        if J is None:
            R = system.residual(u, z, mp=True)
        with mpmath.workprec(2 * prec + 20):
            R2 = system.residual(u, z, mp=True)
            noise = max(abs(a - b) for a, b in zip(R, R2))
            if max(abs(b) for b in R2) <= 16 * noise:
                return u
            big = max(abs(v) for v in u)
            if J is None:
                J = mpmath.matrix(n, n)
                for j in range(n):
                    h = mpmath.mpf(2) ** (-prec - 10) * max(abs(u[j]), eps * big, mpmath.mpf(2) ** (-4 * prec))
                    v = list(u)
                    v[j] = v[j] + h
                    Rv = system.residual(v, z, mp=True)
                    for i in range(n):
                        J[i, j] = (Rv[i] - R2[i]) / h
            try:
                du = mpmath.lu_solve(J, mpmath.matrix([-r for r in R2]))
            except ZeroDivisionError:
                break
        u = [u[i] + du[i] for i in range(n)]
        size = max(abs(du[i]) / max(abs(u[i]), eps * big) for i in range(n))
        if not mpmath.isfinite(size):
            break
        if size < eps * 2 ** 4:
            return u
    raise NoConvergence(f"mpmath Newton for the layers law did not converge at z = {complex(z)}")
