r"""Limit laws of the conjugate kernel and the neural tangent kernel (Fan & Wang 2020) as Laws.

:class:`KernelLaw` is the law of :math:`K = r I + \sum_{\ell=0}^{L-1} q_\ell X_\ell^\top X_\ell +
X_L^\top X_L` for the deep network of :mod:`nrmt.theory.equations.ntk`: the CK is
:math:`r = 0, q = 0`, the NTK's linearised kernel has Fan–Wang's :math:`r_+` and
:math:`q_\ell = b_\sigma^{2(L-\ell)}`. Its Stieltjes transform solves the recursive fixed-point
system of :func:`nrmt.theory.equations.ntk.residual` (unknowns :math:`s_L, \dots, s_1`), on the
shared machinery of :class:`nrmt.numerics.law.Law` (density, CDF, quantiles, moments, tables,
``dps``).

Input spectra (:class:`InputSpectrum`): the law :math:`\mu_0` of :math:`X_0^\top X_0` enters only
through its Stieltjes transform :math:`m_0` and its moments —
:class:`MarchenkoPasturInput` (Gaussian data, ratio :math:`\gamma_0 = n/d_0`) or
:class:`DiscreteInput` (the eigenvalues of a data set's Gram matrix, or the point mass at 1 of
exactly orthonormal data).

Numerics
--------
* float path: the unknowns by damped Newton (the solver of :mod:`nrmt.numerics.layers_law`)
  along a path :math:`z = x + iy`, :math:`y` from :math:`50(|x| + \text{scale})` down to the real
  axis, a step accepted only while the solution stays on the physical sheet (:math:`\operatorname{Im}
  m \ge 0` and :math:`\operatorname{Im} s_l \ge 0` for :math:`\operatorname{Im} z > 0`): the branch
  by continuation from infinity;
* mpmath path: Newton at the working precision seeded by the float continuation, every constant
  at the working precision, so any ``dps``;
* support: a scan of the float density on :math:`[r, E]` with the a-priori bound :math:`E`
  (:meth:`KernelLaw.upper_bound`) refined by multisection (~1e-14 relative; a hard edge away
  from 0, where the density blows up, is re-located off the axis to ~1e-10); on the mpmath path
  each edge is solved as a fold of the real fixed-point system. Gaps narrower than the scan step
  (:math:`E/700`) are not resolved;
* moments: the CK's exactly by the S-transform of each Marchenko–Pastur step
  (:func:`nrmt.numerics.free.free_product_moments`), the NTK's mean exactly
  (:func:`nrmt.theory.equations.ntk.kernel_mean`), its higher moments by integrating the density
  or by Cauchy's formula on a circle around the support (:meth:`KernelLaw._moments`).

References
----------
.. [FW] Z. Fan and Z. Wang, NeurIPS 2020, arXiv:2005.11879 (see :mod:`nrmt.theory.equations.ntk`).
.. [MP] V. A. Marchenko and L. A. Pastur, Math. USSR-Sb. 1 (1967) (the input law of Gaussian data).
"""

import math

import mpmath
import numpy as np

from nrmt.numerics.free import free_product_moments, moments_from_s_series, mp_s_series
from nrmt.numerics.law import Law
from nrmt.numerics.layers_law import _advance, _newton_float, _newton_mp
from nrmt.theory.equations import ntk as eq
from nrmt.theory.errors import NoConvergence

__all__ = [
    "InputSpectrum",
    "MarchenkoPasturInput",
    "DiscreteInput",
    "KernelLaw",
    "ck_moments",
]


# --------------------------------------------------------------------------- input spectra
class InputSpectrum:
    r"""The law :math:`\mu_0` of :math:`X_0^\top X_0` (abstract): Stieltjes transform
    :math:`m_0(\zeta) = \int d\mu_0(x)/(x - \zeta)`, moments, rank, largest point."""

    name = "input"

    def m_float(self, zeta):
        """:math:`m_0` at complex ndarray points (vectorised)."""
        raise NotImplementedError

    def m_mp(self, zeta):
        """:math:`m_0` at one mpc point (current precision)."""
        raise NotImplementedError

    def moments_mp(self, k):
        """Raw moments :math:`m_1..m_k` as mpf (current precision)."""
        raise NotImplementedError

    @property
    def rank(self):
        """Fraction of nonzero eigenvalues (1 − the atom at 0)."""
        raise NotImplementedError

    @property
    def upper(self):
        """The largest point of the support (float)."""
        raise NotImplementedError

    def describe(self):
        """A short dict for JSON."""
        return {"law": self.name}


class MarchenkoPasturInput(InputSpectrum):
    r"""Marchenko–Pastur law of ratio :math:`\gamma_0` and mean 1: :math:`X_0^\top X_0` for data of
    iid entries of variance :math:`1/d_0` (:math:`\gamma_0 = n/d_0`).

    .. math:: m_0(\zeta) = \frac{1 - \gamma_0 - \zeta + \sqrt{(\zeta-\lambda_-)(\zeta-\lambda_+)}}{2\gamma_0\zeta},
              \qquad \lambda_\pm = (1 \pm \sqrt{\gamma_0})^2,

    the square root as the product of two principal roots (cut on :math:`[\lambda_-, \lambda_+]`
    only, :math:`\sim\zeta` at infinity), evaluated in the form without cancellation
    (:math:`m_0 = 2/(1-\gamma_0-\zeta-\sqrt{\cdot})`, the roots' product being
    :math:`1/(\gamma_0\zeta)`) [MP]_.

    >>> mp = MarchenkoPasturInput(0.5)
    >>> complex(mp.m_float(np.array([-1.0 + 0j]))[0]).real > 0, mp.rank
    (True, 1.0)
    """

    name = "marchenko-pastur"

    def __init__(self, gamma0):
        g = float(gamma0)
        if not (g > 0 and math.isfinite(g)):
            raise ValueError(f"gamma_0 must be > 0, got {gamma0}")
        self.gamma = gamma0
        self._g = g

    def _formula(self, zeta, g, sqrt):
        lo, hi = (1 - sqrt(g)) ** 2, (1 + sqrt(g)) ** 2
        r = sqrt(zeta - lo) * sqrt(zeta - hi)
        return 1 - g - zeta, r

    def m_float(self, zeta):
        zeta = np.asarray(zeta, dtype=complex)
        g = self._g
        with np.errstate(all="ignore"):
            c, r = self._formula(zeta, g, np.sqrt)
            plus, minus = c + r, c - r
            return np.where(np.abs(minus) >= np.abs(plus), 2 / minus, plus / (2 * g * zeta))

    def m_mp(self, zeta):
        g = _mpf(self.gamma)
        c, r = self._formula(zeta, g, mpmath.sqrt)
        plus, minus = c + r, c - r
        return 2 / minus if abs(minus) >= abs(plus) else plus / (2 * g * zeta)

    def moments_mp(self, k):
        return moments_from_s_series(mp_s_series(_mpf(self.gamma), mpmath.mpf(1), k - 1,
                                                 one=mpmath.mpf(1)), k)

    @property
    def rank(self):
        return min(1.0, 1.0 / self._g)

    @property
    def upper(self):
        return (1 + math.sqrt(self._g)) ** 2

    def describe(self):
        return {"law": self.name, "gamma_0": self.gamma}


class DiscreteInput(InputSpectrum):
    r"""The empirical law :math:`\frac1n\sum_i \delta_{\lambda_i}` of given eigenvalues of
    :math:`X_0^\top X_0` (a data set's Gram spectrum), or a point mass (``[1]``: orthonormal data).

    .. math:: m_0(\zeta) = \frac1n \sum_i \frac{1}{\lambda_i - \zeta}

    Parameters
    ----------
    values : array_like of float >= 0
    name : str

    Examples
    --------
    >>> d = DiscreteInput([1.0])
    >>> complex(d.m_float(np.array([2.0 + 0j]))[0])
    (-1+0j)
    """

    #: eigenvalues are summed in blocks of this many points times values
    _BLOCK = 2_000_000

    def __init__(self, values, name="data"):
        v = np.asarray(values, dtype=float).ravel()
        if v.size == 0:
            raise ValueError("the input spectrum is empty")
        if not np.all(np.isfinite(v)):
            raise ValueError("the input spectrum contains non-finite values")
        if np.any(v < 0):
            raise ValueError(f"eigenvalues of a Gram matrix must be >= 0, got {v.min():.6g}")
        self.values = np.sort(v)
        self.name = name
        # merge equal values (a point mass, exact zeros) into weights
        uniq, counts = np.unique(self.values, return_counts=True)
        self._vals, self._w = uniq, counts / v.size

    def m_float(self, zeta):
        zeta = np.asarray(zeta, dtype=complex)
        flat = zeta.ravel()
        out = np.empty(flat.shape, dtype=complex)
        step = max(1, self._BLOCK // max(self._vals.size, 1))
        with np.errstate(all="ignore"):
            for i in range(0, flat.size, step):
                zz = flat[i:i + step, None]
                out[i:i + step] = (self._w / (self._vals - zz)).sum(axis=1)
        return out.reshape(zeta.shape)

    def m_mp(self, zeta):
        return mpmath.fsum(mpmath.mpf(float(w)) / (mpmath.mpf(float(v)) - zeta)
                           for v, w in zip(self._vals, self._w))

    def moments_mp(self, k):
        vals = [mpmath.mpf(float(v)) for v in self._vals]
        wts = [mpmath.mpf(float(w)) for w in self._w]
        return [mpmath.fsum(w * v ** j for v, w in zip(vals, wts)) for j in range(1, k + 1)]

    @property
    def rank(self):
        return float(1.0 - self._w[self._vals == 0].sum())

    @property
    def upper(self):
        return float(self._vals[-1])

    @property
    def mean(self):
        """The mean eigenvalue (the mean squared column norm of the data)."""
        return float(self.values.mean())

    def describe(self):
        return {"law": self.name, "size": int(self.values.size), "mean": self.mean,
                "max": self.upper, "zero_fraction": 1.0 - self.rank}


def _mpf(v):
    """A number (float, int, Fraction, sympy, mpf) as mpf at the current precision."""
    if isinstance(v, (mpmath.mpf, mpmath.mpc)):
        return +v
    if hasattr(v, "numerator") and hasattr(v, "denominator") and not isinstance(v, float):
        return mpmath.mpf(int(v.numerator)) / int(v.denominator)
    try:
        return mpmath.mpf(v)
    except (TypeError, ValueError):
        import sympy

        return mpmath.mpf(str(sympy.N(v, mpmath.mp.dps + 5)))


# --------------------------------------------------------------------------- exact moments
def ck_moments(b2, gammas, input_spectrum, k):
    r"""Raw moments :math:`m_1..m_k` of the CK law :math:`\mu_L` (mpf at the current precision).

    Each step :math:`\mu_\ell = \rho^{\mathrm{MP}}_{\gamma_\ell}\boxtimes\nu_\ell`,
    :math:`\nu_\ell = (1-b^2) + b^2\mu_{\ell-1}` ([FW]_ CK theorem) by the S-transform
    (:func:`nrmt.numerics.free.free_product_moments`), the moments of :math:`\nu_\ell` from those
    of :math:`\mu_{\ell-1}` by the binomial theorem.

    >>> with mpmath.workdps(20):
    ...     [mpmath.nstr(v, 10) for v in ck_moments(mpmath.mpf(1), [1, 1], MarchenkoPasturInput(1), 3)]
    ['1.0', '3.0', '12.0']
    """
    b2 = _mpf(b2)
    mu = input_spectrum.moments_mp(k)
    for g in gammas[1:]:
        c = 1 - b2
        full = [mpmath.mpf(1)] + list(mu)
        nu = [mpmath.fsum(mpmath.binomial(j, i) * c ** (j - i) * b2 ** i * full[i] for i in range(j + 1))
              for j in range(1, k + 1)]
        mp_law = moments_from_s_series(mp_s_series(_mpf(g), mpmath.mpf(1), k - 1, one=mpmath.mpf(1)), k)
        mu = free_product_moments([(mp_law, 1), (nu, 1)], k)
    return mu


# --------------------------------------------------------------------------- the law
class _System:
    """The residual of the fixed-point system in the shape the layers' Newton solvers take."""

    def __init__(self, law, mp):
        self.law = law
        self.mp = mp
        self.size = law.depth_effective

    def residual(self, u, z, mp=False):
        law = self.law
        p = law._params_mp() if mp else law._params
        m0 = law.input.m_mp if mp else law.input.m_float
        top = eq.top_vector(z, law.depth_effective, p["r"], p["q"])
        return eq.residual(list(u), top, p["gammas"], p["b2"], m0, law.identity_base)


class KernelLaw(Law):
    r"""Limit law of :math:`K = r I + \sum_{\ell<L} q_\ell X_\ell^\top X_\ell + X_L^\top X_L`.

    Parameters
    ----------
    b2 : number
        :math:`b_\sigma^2` (exact zero: every layer forgets its input).
    gammas : sequence
        :math:`\gamma_0, \dots, \gamma_L`.
    input_spectrum : InputSpectrum
    r : number, optional
        The identity weight (NTK: :math:`r_+`; CK: 0).
    q : sequence, optional
        :math:`q_0..q_{L-1}` (default zeros: the CK).
    linear : bool
        The activation is linear (:math:`b^2 = 1`): atoms follow the ranks of the data.
    mean : number, optional
        The exact first moment (the NTK's :func:`~nrmt.theory.equations.ntk.kernel_mean`).
    dps : int

    Examples
    --------
    The linear CK of one layer on Marchenko–Pastur data: the free product of two MP(1) laws,
    with Fuss–Catalan moments 1, 3, 12:

    >>> law = KernelLaw(1, [1, 1], MarchenkoPasturInput(1), linear=True)
    >>> [round(float(v), 9) for v in law.moments(3)]
    [1.0, 3.0, 12.0]
    >>> lo, hi = law.support[0]
    >>> lo, round(hi, 9)                                 # edge 27/4 of Fuss-Catalan(2)
    (0.0, 6.75)
    """

    #: initial number of steps of the continuation path
    steps = 20

    def __init__(self, b2, gammas, input_spectrum, *, r=0, q=None, linear=False, mean=None,
                 dps=15):
        super().__init__(dps)
        gammas = list(gammas)
        if len(gammas) < 2:
            raise ValueError(f"need gamma_0..gamma_L with L >= 1, got {len(gammas)} ratio(s)")
        for i, g in enumerate(gammas):
            if not float(g) > 0 or not math.isfinite(float(g)):
                raise ValueError(f"gamma_{i} must be > 0, got {g}")
        if not isinstance(input_spectrum, InputSpectrum):
            raise TypeError(f"input_spectrum must be an InputSpectrum, got {type(input_spectrum).__name__}")
        L = len(gammas) - 1
        q = [0] * L if q is None else list(q)
        if len(q) != L:
            raise ValueError(f"need {L} weights q_0..q_{L - 1}, got {len(q)}")
        self.depth = L
        self.input = input_spectrum
        self.linear = bool(linear)
        self.identity_base = float(b2) == 0 and b2 == 0
        self._exact = {"b2": b2, "gammas": gammas, "r": r, "q": q}
        if self.identity_base:
            # b = 0: the top layer forgets everything below it; the kernel is r + (q's vanish)
            # X_L^T X_L with X_L^T X_L ~ MP(gamma_L): one level over the point mass at 1
            self._exact = {"b2": b2, "gammas": [gammas[0], gammas[-1]], "r": r, "q": [0]}
        self.depth_effective = len(self._exact["gammas"]) - 1
        self._params = {"b2": float(b2), "gammas": [float(g) for g in self._exact["gammas"]],
                        "r": float(r), "q": [float(v) for v in self._exact["q"]]}
        self._mean = mean
        self._sys = _System(self, mp=False)

    # ------------------------------------------------------------------ pieces
    def _params_mp(self):
        key = ("params", mpmath.mp.prec)
        if key not in self._cache:
            e = self._exact
            self._cache[key] = {"b2": _mpf(e["b2"]), "gammas": [_mpf(g) for g in e["gammas"]],
                                "r": _mpf(e["r"]), "q": [_mpf(v) for v in e["q"]]}
        return self._cache[key]

    @property
    def is_ck(self):
        """Whether this is a CK law (r = 0 and every q = 0)."""
        return self._params["r"] == 0 and all(v == 0 for v in self._params["q"])

    def upper_bound(self):
        r"""An a-priori bound on the support (float): with :math:`E_0 = \max\operatorname{supp}\mu_0`,
        :math:`E_\ell = (1+\sqrt{\gamma_\ell})^2\,((1-b^2) + b^2 E_{\ell-1})` (the top edge of
        :math:`\rho^{\mathrm{MP}}_\gamma\boxtimes\nu` is at most :math:`(1+\sqrt\gamma)^2 \max\nu`),
        the kernel lies below :math:`r + \sum_\ell q_\ell E_\ell + E_L`."""
        p = self._params
        e = 1.0 if self.identity_base else self.input.upper
        total = p["r"]
        for l, g in enumerate(p["gammas"][1:], start=1):
            total += p["q"][l - 1] * e
            e = (1 + math.sqrt(g)) ** 2 * ((1 - p["b2"]) + p["b2"] * e)
        return total + e

    def _float_scale(self):
        return max(self.upper_bound(), 1e-12)

    def _initial(self, z):
        """s_l at large |z| (t -> 0): s_l = 1 / (last entry of level l)."""
        p = self._params
        top = eq.top_vector(z, self.depth_effective, p["r"], p["q"])
        s = []
        cur = top
        for _ in range(self.depth_effective):
            sl = 1 / cur[-1]
            s.append(sl)
            nxt = cur[:-1]
            nxt[0] = nxt[0] + (1 - p["b2"]) / sl
            nxt[-1] = nxt[-1] + p["b2"] / sl
            cur = nxt
        return s

    def _m_of(self, U, z, mp=False):
        p = self._params_mp() if mp else self._params
        m0 = self.input.m_mp if mp else self.input.m_float
        top = eq.top_vector(z, self.depth_effective, p["r"], p["q"])
        return eq.stieltjes(list(U), top, p["b2"], m0, self.identity_base)

    # ------------------------------------------------------------------ float path
    def _stieltjes_float(self, z):
        z = np.asarray(z, dtype=complex)
        flat = z.ravel()
        out = np.full(flat.shape, np.nan + 0j)
        for y in np.unique(flat.imag):
            sel = np.nonzero(flat.imag == y)[0]
            out[sel] = self._g_at(flat[sel].real, y)
        return out.reshape(z.shape)

    def _g_at(self, x, y):
        """G = -m at x + i y, redone on finer paths where the first one failed."""
        g = np.full(x.shape, np.nan + 0j)
        todo = np.arange(x.size)
        steps = self.steps
        while todo.size and steps <= 4 * self.steps:
            U, res = self._continue(x[todo], y, steps)
            with np.errstate(all="ignore"):
                m = np.asarray(self._m_of(U, x[todo] + 1j * y), dtype=complex)
            ok = (res < 1e-9) & np.isfinite(m) & (m.imag >= -1e-9 * np.abs(m))
            g[todo[ok]] = -m[ok]
            todo = todo[~ok]
            steps *= 2
        return g

    def _continue(self, x, y, steps=None):
        """Unknowns at x + i y (y >= 0; y == 0: boundary values, reached at Im z ~ 1e-13 scale)
        by adaptive continuation from x + 50 i (|x| + scale) (module docstring)."""
        scale = self._float_scale()
        x = np.asarray(x, dtype=float)
        N = x.size
        y0 = 50.0 * (np.abs(x) + scale)
        floor = 1e-13 * scale if y == 0 else y
        log_y0, log_f = np.log(y0), math.log(floor)
        z_start = x + 1j * y0
        U = np.array([np.broadcast_to(v, (N,)) for v in self._initial(z_start)], dtype=complex)
        U, _ = _newton_float(self._sys, list(U), z_start, iters=20)
        t = np.zeros(N)
        dt = np.full(N, 1.0 / (steps or self.steps))
        res = np.zeros(N)
        for _ in range(4000):
            act = np.nonzero(t < 1.0)[0]
            if act.size == 0:
                break
            tn = np.minimum(t[act] + dt[act], 1.0)
            yy = np.exp(log_y0[act] * (1 - tn) + log_f * tn)
            z = x[act] + 1j * yy
            Un, rn = _newton_float(self._sys, list(U[:, act]), z, iters=12, tol=1e-12)
            with np.errstate(all="ignore"):
                m = np.asarray(self._m_of(Un, z), dtype=complex)
                move = np.max(np.abs(Un - U[:, act]) / (1 + np.abs(U[:, act])), axis=0)
                ok = (rn < 1e-9) & np.isfinite(m) & (m.imag >= -1e-9 * np.abs(m)) & (move < 0.25)
                ok &= np.all(Un.imag >= -1e-9 * np.abs(Un), axis=0)
            _advance(U, t, res, dt, act, ok, Un, tn, rn)
        else:
            res[t < 1.0] = np.inf
        if y == 0:
            # near a hard edge the unknowns grow like 1/sqrt(distance) and Newton on the axis
            # converges slowly: enough iterations to reach the real root just outside the edge
            U2, res2 = _newton_float(self._sys, list(U), x + 0j, iters=100)
            take = res2 <= np.maximum(res, 1e-15)
            U = np.where(take[None, :], U2, U)
            res = np.where(take, res2, res)
        return U, res

    # ------------------------------------------------------------------ mpmath path
    def _stieltjes_mp(self, z, seed):
        memo = self._cache.setdefault("mp_unknowns", {})
        key = (mpmath.nstr(mpmath.re(z), 40), mpmath.nstr(mpmath.im(z), 40))
        real = mpmath.im(z) == 0
        if key in memo:            # the same point at lower precision: a much better seed
            u = list(memo[key])
        else:
            x, y = float(mpmath.re(z)), float(mpmath.im(z))
            U, res = self._continue(np.array([x]), y)
            if not res[0] < 1e-6:
                raise NoConvergence(f"float continuation failed at z = {complex(z)}")
            u = [mpmath.mpc(complex(v[0])) for v in U]
        if real and key not in memo:
            # near an edge the float seed may sit on the real branch (the float x rounded across
            # the edge); Newton from a real seed at a real point stays real: start off the axis
            u = [v + 1e-6j * (1 + abs(v)) for v in u]
        u = _newton_mp(_System(self, mp=True), u, z)
        if len(memo) > 4096:
            memo.clear()
        memo[key] = u
        m = self._m_of(u, z, mp=True)
        if real and mpmath.im(m) < 0:
            m = mpmath.conj(m)      # the conjugate root; the boundary value has Im m >= 0
        return -m

    # ------------------------------------------------------------------ atom, support, moments
    def _atom(self):
        """Mass at 0: 1 − rank. CK: rank min(1, 1/γ_L) (nonlinear) or min(rank μ0, 1/γ_1..1/γ_L)
        (linear). NTK: none when r > 0; linear NTK (r = 0, q = 1): ker K = ker X_0."""
        r0 = min(mpmath.mpf(1), _mpf(self.input.rank))
        gam = self._params_mp()["gammas"]
        if not self.is_ck:
            if self._params["r"] > 0:
                return mpmath.mpf(0)
            return 1 - r0
        if self.linear:
            rank = r0
            for g in gam[1:]:
                rank = min(rank, 1 / g)
        else:
            rank = min(mpmath.mpf(1), 1 / gam[-1])
        return 1 - rank

    def _rho(self, xs):
        """Boundary density at float points, 0 where it is not clearly positive."""
        g = self._stieltjes_float(np.asarray(xs, dtype=float) + 0j)
        rho = -g.imag / np.pi
        with np.errstate(invalid="ignore"):
            return np.where(np.isfinite(rho) & (rho > 1e-9 * np.maximum(np.abs(g), 1e-300)), rho, 0.0)

    def _inside_off_axis(self, xs):
        r"""Inside or outside the support, decided off the axis at :math:`y` and :math:`2y`
        (:math:`y = 10^{-13}` scale): outside, :math:`\operatorname{Im} m(x + iy)` grows linearly
        with :math:`y`; inside it tends to :math:`\pi\rho(x) > 0`. Used next to a hard edge,
        where the unknowns grow like :math:`1/\sqrt{\text{distance}}` and Newton's method on the
        axis stalls just outside the edge at a nearly real point with a tiny residual."""
        xs = np.asarray(xs, dtype=float)
        y = 1e-13 * self._float_scale()
        U, res = self._continue(xs, y)
        U2, res2 = _newton_float(self._sys, list(U), xs + 2j * y, iters=20)
        with np.errstate(all="ignore"):
            m1 = np.asarray(self._m_of(U, xs + 1j * y), dtype=complex)
            m2 = np.asarray(self._m_of(U2, xs + 2j * y), dtype=complex)
            inside = (res < 1e-9) & (res2 < 1e-9) & np.isfinite(m1) & np.isfinite(m2)
            return inside & (m1.imag > 1e-9 * np.abs(m1)) & (m2.imag < 1.5 * m1.imag)

    def _hard_edge_refine(self, edges):
        """Edges where the density blows up (its value 1e-6 of the width inside is above its value
        1e-3 inside, the reverse of a square-root edge) are re-located by
        :meth:`_inside_off_axis` (three multisection rounds in a bracket of 1e-6 of the width)."""
        out = []
        for a, b in edges:
            pair = [a, b]
            w = b - a
            for i, (e, sign) in enumerate(((a, 1.0), (b, -1.0))):
                if e == 0 or e == self._params["r"] or w <= 0:
                    continue
                near, far = self._rho(np.array([e + sign * 1e-6 * w, e + sign * 1e-3 * w]))
                if not near > far:
                    continue
                off, on = e - sign * 1e-6 * w, e + sign * 1e-6 * w
                t = np.linspace(0.0, 1.0, 41)[1:-1]
                for _ in range(3):
                    pts = off + (on - off) * t
                    ins = self._inside_off_axis(pts)
                    k = int(np.argmax(ins)) if ins.any() else len(t) - 1
                    on = pts[k] if ins.any() else on
                    off = pts[k - 1] if k > 0 else off
                pair[i] = 0.5 * (off + on)
            out.append(tuple(pair))
        return out

    def _support_float(self):
        if "support_float" in self._cache:
            return self._cache["support_float"]
        lo = self._params["r"]
        hi = 1.02 * self.upper_bound()
        xs = np.unique(np.concatenate([lo + np.geomspace((hi - lo) * 1e-9, (hi - lo) * 0.02, 100),
                                       np.linspace(lo, hi, 700)[1:]]))
        on = self._rho(xs) > 0
        brackets = []
        i, n = 0, len(xs)
        while i < n:
            if on[i]:
                j = i
                while j + 1 < n and on[j + 1]:
                    j += 1
                brackets.append((xs[i - 1], xs[i]) if i > 0 else (lo, lo))
                brackets.append((xs[j + 1], xs[j]) if j + 1 < n else (xs[j], xs[j]))
                i = j + 1
            else:
                i += 1
        ends = self._multisect(brackets)
        edges = self._hard_edge_refine([(ends[k], ends[k + 1]) for k in range(0, len(ends), 2)])
        self._cache["support_float"] = edges
        return edges

    def _multisect(self, brackets, rounds=7, k=40):
        """All edges at once: each round splits every (off, on) bracket into k cells."""
        off = np.array([b[0] for b in brackets], dtype=float)
        on = np.array([b[1] for b in brackets], dtype=float)
        if off.size == 0:
            return []
        t = np.linspace(0.0, 1.0, k + 1)[1:-1]
        for _ in range(rounds):
            pts = off[:, None] + (on - off)[:, None] * t[None, :]
            inside = self._rho(pts.ravel()).reshape(pts.shape) > 0
            first = np.where(inside.any(axis=1), inside.argmax(axis=1), k - 1)
            idx = np.arange(off.size)
            new_on = np.where(first < k - 1, pts[idx, np.minimum(first, k - 2)], on)
            new_off = np.where(first > 0, pts[idx, np.maximum(first - 1, 0)], off)
            off, on = new_off, new_on
        return list(0.5 * (off + on))

    def _support(self):
        edges = self._support_float()
        if self.is_float:
            return [(mpmath.mpf(a), mpmath.mpf(b)) for a, b in edges]
        out = []
        for a, b in edges:
            out.append(tuple(self._refine_mp(e, lower=(k == 0)) for k, e in enumerate((a, b))))
        return out

    def _refine_mp(self, e, lower):
        r"""An edge at the working precision: the real point where the real solution folds.

        At an edge :math:`x_*` the real solution :math:`s(x)` of :math:`F(s, x) = 0` meets a
        second one and both turn complex, so :math:`\det\partial_s F = 0` there: Newton's
        method (``mpmath.findroot``) on :math:`(F(s, x), \det\partial_s F(s, x)) = 0` in
        :math:`(s, x)`, seeded by the float edge and the float solution there (the fold /
        limit-point system, e.g. Seydel, *Practical Bifurcation and Stability Analysis*, 3rd ed.,
        Sec. 5.5), :math:`\partial_s F` by central differences at twice the working precision.
        Solved at two precisions, which must agree. An edge at 0 or at r stays exact.
        """
        if e == 0 or e == self._params["r"]:
            return _mpf(self._exact["r"]) if e else mpmath.mpf(0)
        cur = mpmath.mp.dps
        with mpmath.workdps(cur + 10):
            e1 = self._fold(e)
        with mpmath.workdps(cur + 30):
            e2 = self._fold(e)
        if not abs(e1 - e2) <= mpmath.mpf(10) ** (-cur) * abs(e2):
            raise NoConvergence(f"support edge near {e:.12g} did not settle to {cur} digits")
        return +e2

    def _fold(self, e):
        U, _ = self._continue(np.array([float(e)]), 0.0)
        n = self.depth_effective
        sysmp = _System(self, mp=True)
        u0 = [mpmath.mpf(float(np.real(U[k][0]))) for k in range(n)]
        prec = mpmath.mp.dps

        def F(*v):
            with mpmath.workdps(2 * prec):
                u, x = [mpmath.mpf(t) for t in v[:-1]], mpmath.mpf(v[-1])
                R = [mpmath.re(r) for r in sysmp.residual(u, mpmath.mpc(x), mp=True)]
                h = mpmath.mpf(10) ** (-prec // 2 - 2)
                J = mpmath.matrix(n, n)
                for j in range(n):
                    up, um = list(u), list(u)
                    up[j] += h * (1 + abs(u[j]))
                    um[j] -= h * (1 + abs(u[j]))
                    Rp = sysmp.residual(up, mpmath.mpc(x), mp=True)
                    Rm = sysmp.residual(um, mpmath.mpc(x), mp=True)
                    for i in range(n):
                        J[i, j] = mpmath.re(Rp[i] - Rm[i]) / (up[j] - um[j])
                return R + [mpmath.det(J)]

        try:
            root = mpmath.findroot(F, u0 + [mpmath.mpf(float(e))],
                                   tol=mpmath.mpf(10) ** (-2 * prec + 10), maxsteps=60)
        except (ValueError, ZeroDivisionError):
            raise NoConvergence(f"the support edge near {float(e):.12g} is not a fold of the "
                                "fixed-point system (a hard edge, where the density blows up?): "
                                "it is known to float precision only; use dps <= 15") from None
        return root[n] if n >= 1 else root

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

    def _moments_circle_float(self, k, points=176):
        r"""Float path: moments by Cauchy's formula on a circle :math:`|z - c| = \rho` around the
        support (and the atom), :math:`c` its centre, :math:`\rho` 1.25 times its half-width:
        the central moments :math:`\frac1N\sum_j G(z_j)(z_j - c)^{j+1}` (trapezoid rule, error
        :math:`O(1.25^{-N})`, one vectorised solve at N points away from every edge), then the
        raw moments by the binomial theorem."""
        sup = self._support_float()
        lo, hi = min(a for a, _ in sup), max(b for _, b in sup)
        if self.atom_mp > 0:
            lo = min(lo, 0.0)
        c, rho = 0.5 * (lo + hi), 0.625 * (hi - lo)
        theta = 2 * np.pi * np.arange(points) / points
        w = np.exp(1j * theta)
        g = self._float_path(c + rho * w)
        central = [1.0] + [float(np.mean(g * (rho * w) ** (j + 1)).real) for j in range(1, k + 1)]
        return [mpmath.mpf(sum(math.comb(j, i) * central[i] * c ** (j - i) for i in range(j + 1)))
                for j in range(1, k + 1)]

    def _moments_cauchy(self, k):
        r"""Moments on the mpmath path by Cauchy's formula on a circle of radius R twice the top
        edge: :math:`m_j = \frac{1}{2\pi i}\oint G(z) z^j dz`, the trapezoid rule on N points
        (error :math:`O(2^{-N})`, far from the support, no edge to resolve), conjugate symmetry
        halving the work."""
        R = 2 * max(abs(b) for _, b in self.support_mp)
        N = int((mpmath.mp.dps + 10) * 3.33) + 2 * k + 8
        N += N % 2
        sums = [mpmath.mpf(0)] * k
        for j in range(N // 2 + 1):
            z = R * mpmath.expjpi(mpmath.mpf(2 * j) / N)
            g = self._mp_point(z, complex(self._float_path(np.array([complex(z)]))[0]),
                               mpmath.mp.dps)
            w = 1 if j in (0, N // 2) else 2             # j and N - j are conjugate
            for i in range(k):
                sums[i] += w * mpmath.re(g * z ** (i + 2))
        return [v / N for v in sums]

    def _density_points_mp(self, xs, a, b):
        r"""Quadrature nodes of the mp path; a node within
        :math:`\delta = 10^{-(2\,dps/3 + 3)}` (times the scale) of a support edge gets density 0:
        there the density is :math:`O(\sqrt\delta)`, the integral loses :math:`O(\delta^{3/2})`
        (below :math:`10^{-dps}`), and the two roots that meet at the edge are closer than
        Newton's method resolves at the working precision."""
        k = self._inside((a + b) / 2)
        if k is None:
            return [mpmath.mpf(0)] * len(xs)
        lo, hi = self.support_mp[k]
        delta = mpmath.mpf(10) ** (-(2 * self.dps) // 3 - 3) * max(abs(hi), 1)
        near = [abs(x - lo) < delta or abs(hi - x) < delta for x in xs]
        far = [x for x, nr in zip(xs, near) if not nr]
        vals = iter(Law._density_points_mp(self, far, a, b) if far else [])
        return [mpmath.mpf(0) if nr else next(vals) for nr in near]

    def _scale(self):
        sup = self._support_float()
        return max([b for _, b in sup] + [1.0])

    def _moments(self, k):
        """CK: exact (:func:`ck_moments`). NTK: the exact mean; the others by integrating the
        density (float path, Marchenko–Pastur input), by Cauchy's formula on a circle around the
        support (float path, a data spectrum: fewer evaluations of its costly :math:`m_0`), or on
        a circle far from it (mpmath path)."""
        if self.is_ck:
            return ck_moments(self._exact["b2"], self._exact["gammas"],
                              self.input if not self.identity_base else DiscreteInput([1.0]), k)
        if not self.is_float:
            out = self._moments_cauchy(k)
        elif isinstance(self.input, DiscreteInput):
            out = self._moments_circle_float(k)    # m0 costs a sum over the data per point
        else:
            out = self._moments_numeric(k)
        if self._mean is not None:
            out[0] = _mpf(self._mean)
        return out

