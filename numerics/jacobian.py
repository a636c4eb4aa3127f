r"""The eigenvalue law of :math:`JJ^\top` for the input–output Jacobian of a deep network.

:class:`DerivativeLaw` is the law of :math:`\lambda = f'(\sqrt q Z)^2` (exact atoms for piecewise-
linear f, a quadrature rule for smooth f); :class:`JacobianLaw` is the free multiplicative product

.. math::

    \mu_{JJ^\top} = \mathop{\boxtimes}_{l=1}^{L} \big(\nu_{l} \boxtimes \mu_{W_lW_l^\top}\big),
    \qquad S_{JJ^\top}(w) = \prod_l S_{\nu_l}(w)\, S_{W_lW_l^\top}(w),

(Pennington, Schoenholz & Ganguli 2017, arXiv:1711.04735; 2018, arXiv:1802.09979;
Pastur 2020, arXiv:2001.06188, and Pastur & Slavin, arXiv:2011.11439, for the proofs and the
universality in the weight law) on the shared :class:`~nrmt.numerics.law.Law` machinery, with the
solver of :class:`~nrmt.numerics.free.FreeProduct`.

Method and precision
--------------------
* float path (``dps <= 15``): continuation of :math:`w = \psi(1/x)` from :math:`x = \infty` along
  :math:`x(1 + i\epsilon)`, :math:`\epsilon = 10^{-3}`, adaptive steps in :math:`\log x` (down to the
  smallest requested point, e.g. :math:`10^{-17}\,x_+` for the tanh-sinh nodes of the CDF), then a
  vectorised Newton descent :math:`\epsilon \to 0` at the requested points. For smooth f the law of
  :math:`\lambda` is a composite Gauss–Legendre rule (24 panels × 20 nodes on
  :math:`|Z| \le 12`, split at the kinks of f);
* mpmath path (any ``dps``): Newton at ``dps + guard`` digits from the float solution, with
  :math:`\psi_\nu(u) = \mathbb E[u\lambda/(1-u\lambda)]` exact for atoms and by tanh-sinh
  quadrature in :math:`Z` (split at the kinks, node values cached per precision) for smooth f.
  The base class verifies the digits by a second solve with more guard digits.
* CDF: :math:`F(x) = 1 - \int_x^{x_+} \rho` ("from the tail"): the continuous mass near 0 behaves
  like :math:`x^{-L/(L+1)}` and cannot be integrated from 0 (pitfall of deep products).

The atom at 0 is :math:`\max_l P(\lambda_l = 0)` (Belinschi, *The atoms of the free multiplicative
convolution of two probability distributions*, Integral Equations Operator Theory 46 (2003): :math:`\mu\boxtimes\nu(\{0\}) = \max(\mu(\{0\}), \nu(\{0\}))`).
"""

import math

import flint
import mpmath
import numpy as np
import sympy

from nrmt.numerics.certified_constants import mpf_to_arb as _to_arb
from nrmt.numerics.free import ClosedFactor, DiscreteLaw, FreeProduct, LawFactor
from nrmt.numerics.law import Law, check_dps
from nrmt.theory.activations import X, as_activation, to_sympy_number
from nrmt.theory.errors import NoConvergence
from nrmt.theory.gaussian import gaussian_expectation
from nrmt.theory.mean_field import one_sided_at_zero

__all__ = ["DerivativeLaw", "JacobianLaw", "WEIGHTS"]

WEIGHTS = ("iid", "orthogonal")

_EPS_PATH = 1e-3
_Z_MAX = 9.0
_PANEL_NODES = 20
_GRADED_NODES = 8
#: most distinct continuous layer laws in one product (each Newton step evaluates every one; 64
#: of them, tanh with q0 = 1 at depth 64, ran past 150 s)
_MAX_SMOOTH_FACTORS = 16


def _from_acb(c):
    """The midpoint of a python-flint acb as mpc at the current precision."""
    out = []
    for part in (c.real, c.imag):
        man, exp = part.mid().man_exp()
        out.append(mpmath.ldexp(mpmath.mpf(int(man)), int(exp)))
    return out[0] if out[1] == 0 else mpmath.mpc(*out)


_STABLE_FORMS = {}


def _real_function(expr):
    """A vectorised float64 function of a sympy expression in x (scipy/numpy printers)."""
    raw = sympy.lambdify(X, expr, modules=["scipy", "numpy"])

    def fn(x):
        x = np.asarray(x, dtype=float)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            out = np.asarray(raw(x), dtype=float)
        return np.broadcast_to(out, x.shape).copy() if out.shape != x.shape else out

    return fn


_PIECEWISE_CONSTANT = {}


def _is_piecewise_constant(expr):
    """True when d/dx expr vanishes away from finitely many points (Heaviside/Piecewise steps);
    cached per expression (a deep network asks once per layer)."""
    if expr not in _PIECEWISE_CONSTANT:
        _PIECEWISE_CONSTANT[expr] = _decide_piecewise_constant(expr)
    return _PIECEWISE_CONSTANT[expr]


def _decide_piecewise_constant(expr):
    d = sympy.diff(expr, X)
    d = d.replace(sympy.DiracDelta, lambda *args: sympy.Integer(0))
    try:
        return sympy.simplify(d) == 0
    except Exception:  # noqa: BLE001 - sympy may fail on exotic expressions: treat as smooth
        return False


class DerivativeLaw:
    r"""The law of :math:`\lambda = f'(\sqrt q Z)^2`, :math:`Z \sim N(0,1)`: one layer's :math:`D^2`.

    Parameters
    ----------
    activation : Activation or spec
    q : number >= 0
        Pre-activation variance (mpf with enough digits for the precision wanted); ``q = 0`` means
        the limit :math:`q \to 0^+`: :math:`f'(0^\pm)^2` with probability 1/2 each.

    Notes
    -----
    For piecewise-linear f (f' piecewise constant, e.g. ReLU, leaky ReLU, hard-tanh) the law is a
    finite sum of atoms :math:`\sum_i p_i \delta_{a_i}` with :math:`p_i = \Phi(k_{i+1}/\sqrt q) -
    \Phi(k_i/\sqrt q)` between consecutive kinks (exact). Otherwise it is continuous and handled by
    quadrature. Moments :math:`\mathbb E\lambda^j` come from :mod:`nrmt.theory.gaussian` (exact when
    it finds a closed form).

    Examples
    --------
    >>> d = DerivativeLaw("relu", 1)
    >>> d.atoms
    [(0, 1/2), (1, 1/2)]
    >>> d.zero_mass()
    mpf('0.5')
    """

    def __init__(self, activation, q):
        self.activation = as_activation(activation)
        if self.activation.expr is None:
            raise TypeError("the Jacobian law needs a symbolic activation (text or sympy), "
                            "not a Python callable")
        self.activation._require_numeric()
        self.fprime = self.activation.derivative()
        if self.fprime.has_delta:
            raise ValueError(f"{self.activation.text} has jumps: f' contains a Dirac delta and the "
                             "Jacobian is not defined")
        self.q = q if isinstance(q, mpmath.mpf) else mpmath.mpf(sympy.N(q, 60) if
                                                               isinstance(q, sympy.Basic) else q)
        if self.q < 0:
            raise ValueError(f"q must be >= 0, got {q}")
        self.kinks = [k for k in self.activation.kinks if k.is_number]
        self.atoms = None
        self._atom_values = None
        if self.q == 0 or _is_piecewise_constant(self.fprime.expr):
            self._build_atoms()
        self._float_law = None
        self._lam_cache = {}
        self._moment_cache = {}

    # ------------------------------------------------------------------ atoms
    def _build_atoms(self):
        e = self.fprime.expr
        if self.q == 0:
            right = one_sided_at_zero(e, 1, self.kinks) ** 2
            left = one_sided_at_zero(e, -1, self.kinks) ** 2
            pieces = [(sympy.nsimplify(left), None, 0), (sympy.nsimplify(right), 0, None)]
            self._pieces = pieces
        else:
            ks = sorted(self.kinks, key=lambda k: float(k))
            bounds = [None] + ks + [None]
            pieces = []
            for a, b in zip(bounds[:-1], bounds[1:]):
                if a is None and b is None:
                    mid = sympy.Integer(0)
                elif a is None:
                    mid = b - 1
                elif b is None:
                    mid = a + 1
                else:
                    mid = (a + b) / 2
                val = sympy.simplify(e.subs(X, mid) ** 2)
                pieces.append((val, a, b))
            self._pieces = pieces
        merged = {}
        for val, a, b in self._pieces:
            merged.setdefault(val, []).append((a, b))
        self._merged = merged
        self.atoms = [(v, self._prob_exact(v)) for v in sorted(merged, key=lambda v: float(v))]

    def _prob_exact(self, value):
        """Exact probability of an atom when q is a rational number, else None (numeric later)."""
        if self.q == 0:
            return sympy.Rational(len(self._merged[value]), 2)
        total = sympy.Integer(0)
        qs = sympy.nsimplify(str(self.q)) if self.q == mpmath.mpf(str(float(self.q))) else None
        if qs is None:
            return None
        for a, b in self._merged[value]:
            hi = 1 if b is None else (1 + sympy.erf(b / sympy.sqrt(2 * qs))) / 2
            lo = 0 if a is None else (1 + sympy.erf(a / sympy.sqrt(2 * qs))) / 2
            total += hi - lo
        return sympy.simplify(total)

    def _atom_mp(self):
        """[(value, prob)] as mpf at the current precision."""
        out = []
        for v in sorted(self._merged, key=lambda v: float(v)):
            val = mpmath.mpf(sympy.N(v, mpmath.mp.dps + 5))
            if self.q == 0:
                p = mpmath.mpf(len(self._merged[v])) / 2
            else:
                p = mpmath.mpf(0)
                sq = mpmath.sqrt(2 * self.q)
                for a, b in self._merged[v]:
                    hi = 1 if b is None else (1 + mpmath.erf(mpmath.mpf(sympy.N(b, mpmath.mp.dps + 5)) / sq)) / 2
                    lo = 0 if a is None else (1 + mpmath.erf(mpmath.mpf(sympy.N(a, mpmath.mp.dps + 5)) / sq)) / 2
                    p += hi - lo
            out.append((val, p))
        return out

    @property
    def is_discrete(self):
        """True when :math:`\\lambda` takes finitely many values (exact atoms)."""
        return self.atoms is not None

    # ------------------------------------------------------------------ float rule
    def float_law(self):
        """The law as a :class:`~nrmt.numerics.free.DiscreteLaw` (exact atoms or quadrature rule)."""
        if self._float_law is None:
            if self.is_discrete:
                with mpmath.workdps(30):
                    am = self._atom_mp()
                self._float_law = DiscreteLaw([float(v) for v, _ in am], [float(p) for _, p in am])
            else:
                z, w, edges = self._nodes_float()
                fp = _real_function(self._stable_expr())
                lam = fp(math.sqrt(float(self.q)) * z) ** 2
                keep = w > 1e-300
                if not np.all(np.isfinite(lam[keep])):
                    raise ValueError(f"f' of {self.activation.text} is not finite on the real line")
                norm = np.sum(w[keep])
                complex_fns = self._complex_derivatives()
                if complex_fns is None:
                    self._float_law = DiscreteLaw(lam[keep], w[keep] / norm)
                else:
                    self._float_law = _SmoothRule(z[keep], w[keep] / norm, lam[keep], edges, norm,
                                                  math.sqrt(float(self.q)), fp, *complex_fns)
        return self._float_law

    def _stable_expr(self):
        """f' as written or as ``sympy.simplify`` writes it, whichever is closer to mpmath on
        :math:`|x| \\le 30` in float arithmetic: the tail of :math:`\\lambda` decides the product
        law near 0, and tanh' = 1 - tanh(x)^2 has lost all its digits by x = 19 where
        cosh(x)^-2 keeps them."""
        expr = self.fprime.expr
        if expr not in _STABLE_FORMS:
            best = expr
            try:
                alt = sympy.simplify(expr)
                if alt != expr and not alt.has(sympy.Piecewise):
                    xs = np.concatenate([-np.linspace(0.1, 30, 40), np.linspace(0.1, 30, 40)])
                    with mpmath.workdps(30):
                        mf = self.fprime.mp_function()
                        ref = np.array([float(mf(mpmath.mpf(float(x)))) for x in xs])
                    errs = []
                    for cand in (expr, alt):
                        with np.errstate(all="ignore"):
                            val = _real_function(cand)(xs)
                        rel = np.abs(val - ref) / np.maximum(np.abs(ref), 1e-300)
                        errs.append(np.max(np.where(np.isfinite(rel), rel, np.inf)))
                    if errs[1] < errs[0]:
                        best = alt
            except Exception:  # noqa: BLE001 - sympy cannot simplify: keep f' as written
                best = expr
            _STABLE_FORMS[expr] = best
        return _STABLE_FORMS[expr]

    def _complex_derivatives(self):
        """(f', f'') as numpy functions of complex arguments, or None where sympy's lambdify of
        f' has no analytic continuation (kinks, Piecewise): the rule then keeps no pole terms."""
        if self.kinks or self.fprime.expr.has(sympy.Piecewise, sympy.Heaviside, sympy.Abs,
                                             sympy.sign, sympy.Max, sympy.Min):
            return None
        try:
            expr = self._stable_expr()
            f1 = sympy.lambdify(X, expr, modules=["scipy", "numpy"])
            f2 = sympy.lambdify(X, sympy.diff(expr, X), modules=["scipy", "numpy"])
            probe = np.array([0.3 + 0.2j, -1.1 + 0.05j])
            with np.errstate(all="ignore"):
                ok = np.all(np.isfinite(f1(probe) * np.ones(2))) and \
                    np.all(np.isfinite(f2(probe) * np.ones(2))) and \
                    np.any(np.asarray(f1(probe)).imag != 0)
        except Exception:  # noqa: BLE001 - no complex evaluation: no pole terms
            return None
        return (f1, f2) if ok else None

    def _splits(self):
        """Kinks of f in Z units (x = sqrt(q) Z)."""
        sq = math.sqrt(float(self.q))
        return sorted(float(k) / sq for k in self.kinks if abs(float(k) / sq) < _Z_MAX)

    def _zeros_float(self):
        """Zeros of f'(sqrt(q) Z) in Z units on |Z| < Z_max (sign changes on a fine scan, refined
        by bisection; exact zeros at scan points included), as floats."""
        sq = math.sqrt(float(self.q))
        fp = self.fprime.numpy_function()
        z = np.linspace(-_Z_MAX, _Z_MAX, 4001)
        with np.errstate(all="ignore"):
            v = np.asarray(fp(sq * z), dtype=float) * np.ones_like(z)
        out = list(z[v == 0])
        for i in np.flatnonzero(np.sign(v[:-1]) * np.sign(v[1:]) < 0):
            lo, hi, vlo = z[i], z[i + 1], v[i]
            for _ in range(60):
                mid = (lo + hi) / 2
                vm = float(fp(np.array([sq * mid]))[0])
                if vm == 0:
                    lo = hi = mid
                    break
                if np.sign(vm) == np.sign(vlo):
                    lo, vlo = mid, vm
                else:
                    hi = mid
            out.append((lo + hi) / 2)
        return sorted(out)

    def _nodes_float(self):
        r"""Composite Gauss–Legendre nodes and weights (Gaussian density included) in Z: unit
        panels on :math:`|Z| \le Z_{max}`, split at the kinks, and geometrically graded panels
        (ratio 4, down to :math:`10^{-13}`) towards each zero of f', where
        :math:`\lambda \approx c (Z - Z_0)^2` and the law of :math:`\lambda` has a
        :math:`\lambda^{-1/2}` singularity at 0 (sin, GELU): its mass near 0, which decides the
        product law at small x, is then resolved (a unit panel misses it: the density at
        :math:`x = 10^{-5}` of an orthogonal sin network came out 1e-14 instead of about 61)."""
        zeros = [z0 for z0 in self._zeros_float() if abs(z0) < _Z_MAX - 0.5]
        graded = []
        for z0 in zeros:
            steps = 0.25 * 4.0 ** -np.arange(0, 21)
            graded.extend(z0 + steps)
            graded.extend(z0 - steps)
            graded.append(z0)
        edges = np.unique(np.concatenate([np.arange(-_Z_MAX, _Z_MAX + 0.5, 1.0), self._splits(),
                                          np.array(graded, dtype=float)]))
        a, b = edges[:-1], edges[1:]
        fine = np.zeros(a.size, dtype=bool)
        for z0 in zeros:
            fine |= (np.maximum(np.abs(a - z0), np.abs(b - z0)) <= 0.25 + 1e-12)
        zs, ws = [], []
        for mask, n in ((~fine, _PANEL_NODES), (fine, _GRADED_NODES)):
            if not mask.any():
                continue
            t, wts = np.polynomial.legendre.leggauss(n)
            half, mid = (b[mask] - a[mask]) / 2, (a[mask] + b[mask]) / 2
            zs.append((mid[:, None] + half[:, None] * t).ravel())
            ws.append((half[:, None] * wts).ravel())
        z = np.concatenate(zs)
        w = np.concatenate(ws) * np.exp(-z * z / 2) / math.sqrt(2 * math.pi)
        return z, w, edges

    # ------------------------------------------------------------------ mp psi
    def _lam_nodes_key(self):
        return mpmath.mp.prec

    def _lambda_mp(self, z):
        key = (mpmath.mp.prec, z)
        v = self._lam_cache.get(key)
        if v is None:
            if len(self._lam_cache) > 200000:
                self._lam_cache.clear()
            fp = self.fprime.mp_function()
            v = fp(mpmath.sqrt(self.q) * z) ** 2
            self._lam_cache[key] = v
        return v

    def _rule_mp(self, level):
        r"""Composite Gauss–Legendre rule for :math:`\mathbb E g(\lambda)` at the current precision:
        panels of width :math:`2^{-level}` on :math:`|Z| \le Z_{max}` (Gaussian tail below
        :math:`10^{-dps}`), split at the kinks, 24 nodes each. Returns (lambda_i, weight_i)."""
        key = ("rule", mpmath.mp.prec, level)
        rule = self._lam_cache.get(key)
        if rule is None and not self._splits_mp():
            rule = self._rule_trapezoid(level)
            self._lam_cache[key] = rule
        if rule is None:
            gl = mpmath.calculus.quadrature.GaussLegendre(mpmath.mp)
            zmax = int(mpmath.ceil(mpmath.sqrt(2 * mpmath.log(10) * (mpmath.mp.dps + 5)))) + 1
            n = zmax * 2 ** (level + 1)
            edges = sorted(set([mpmath.mpf(-zmax) + mpmath.mpf(k) / 2 ** level for k in range(n + 1)]
                               + [s for s in self._splits_mp() if abs(s) < zmax]))
            fp = self.fprime.mp_function()
            sq = mpmath.sqrt(self.q)
            norm = 1 / mpmath.sqrt(2 * mpmath.pi)
            lam, wts = [], []
            for lo, hi in zip(edges[:-1], edges[1:]):
                for z, w in gl.get_nodes(lo, hi, 4, mpmath.mp.prec):
                    lam.append(fp(sq * z) ** 2)
                    wts.append(w * mpmath.exp(-z * z / 2) * norm)
            rule = (lam, wts)
            self._lam_cache[key] = rule
        return rule

    def _rule_trapezoid(self, level):
        r"""The trapezoid rule :math:`h\sum_k g(\lambda(kh))arphi(kh)`, :math:`h = 2^{-level-1}`,
        :math:`|kh| \le Z_{max}`, for an f without kinks: :math:`\lambda(Z) = f'(\sqrt q Z)^2` is then
        analytic in a strip around the real axis and the rule converges geometrically in 1/h
        (Trefethen & Weideman, SIAM Rev. 56 (2014), Thm. 5.1) — with a fraction of the nodes of
        the composite Gauss–Legendre rule (24 nodes per panel), which stays for kinks. As
        there, the caller refines until two levels agree to the working precision."""
        zmax = int(mpmath.ceil(mpmath.sqrt(2 * mpmath.log(10) * (mpmath.mp.dps + 5)))) + 1
        h = mpmath.mpf(2) ** (-level - 1)
        n = int(zmax / h)
        fp = self.fprime.mp_function()
        sq = mpmath.sqrt(self.q)
        norm = h / mpmath.sqrt(2 * mpmath.pi)
        lam, wts = [], []
        for k in range(-n, n + 1):
            z = k * h
            lam.append(fp(sq * z) ** 2)
            wts.append(norm * mpmath.exp(-z * z / 2))
        return lam, wts

    def _rule_flint(self, level):
        """The rule of :meth:`_rule_mp` as python-flint arb numbers (fast sums)."""
        key = ("rule_flint", mpmath.mp.prec, level)
        rule = self._lam_cache.get(key)
        if rule is None:
            lam, wts = self._rule_mp(level)
            rule = ([_to_arb(v) for v in lam], [_to_arb(v) for v in wts])
            self._lam_cache[key] = rule
        return rule

    def psi1_mp(self, u):
        r""":math:`1 + \psi(u) = \mathbb E[1/(1 - u\lambda)]` and :math:`\psi'(u)` at the current
        precision: exact sums over atoms, or composite Gauss–Legendre rules in Z (split at the
        kinks) refined until two levels agree to the working precision.

        Raises NoConvergence if 6 refinements do not agree (u too close to
        :math:`1/\operatorname{supp}\lambda`).
        """
        if self.is_discrete:
            psi1 = mpmath.mpf(0)
            dpsi = mpmath.mpf(0)
            for a, p in self._atom_mp_cached():
                d = 1 / (1 - u * a)
                psi1 += p * d
                dpsi += p * a * d * d
            return psi1, dpsi

        def sums(level):
            lam, wts = self._rule_flint(level)
            saved = flint.ctx.prec
            try:
                flint.ctx.prec = mpmath.mp.prec + 20
                uf = flint.acb(_to_arb(mpmath.re(u)), _to_arb(mpmath.im(u)))
                s1 = flint.acb(0)
                s2 = flint.acb(0)
                for a, w in zip(lam, wts):
                    d = 1 / (1 - uf * a)
                    s1 += w * d
                    s2 += w * a * d * d
                return _from_acb(s1), _from_acb(s2)
            finally:
                flint.ctx.prec = saved

        level = self._lam_cache.get(("level", mpmath.mp.prec), 0)
        prev = sums(level)
        tol = mpmath.eps * 2 ** 10
        for _ in range(6):
            cur = sums(level + 1)
            if abs(cur[0] - prev[0]) <= tol * abs(cur[0]) and abs(cur[1] - prev[1]) <= tol * abs(cur[1]):
                self._lam_cache[("level", mpmath.mp.prec)] = level
                return cur
            prev = cur
            level += 1
        raise NoConvergence(f"psi quadrature for {self.activation.text} did not converge at "
                            f"u = {mpmath.nstr(u, 8)}")

    def _splits_mp(self):
        sq = mpmath.sqrt(self.q)
        return [mpmath.mpf(sympy.N(k, mpmath.mp.dps + 5)) / sq for k in self.kinks]

    def _atom_mp_cached(self):
        key = ("atoms", mpmath.mp.prec)
        v = self._lam_cache.get(key)
        if v is None:
            v = self._atom_mp()
            self._lam_cache[key] = v
        return v

    # ------------------------------------------------------------------ moments, atoms
    def moments(self, k, dps):
        r""":math:`[\mathbb E\lambda, \dots, \mathbb E\lambda^k]` as mpf to ``dps`` digits."""
        key = (k, dps)
        if key not in self._moment_cache:
            if self.is_discrete:
                with mpmath.workdps(dps + 10):
                    am = self._atom_mp()
                    out = [mpmath.fsum(p * v ** j for v, p in am) for j in range(1, k + 1)]
            else:
                out = []
                sig = sympy.sqrt(sympy.nsimplify(str(self.q))) if self.q == mpmath.mpf(str(float(self.q))) \
                    else None
                for j in range(1, k + 1):
                    g = self.fprime.expr ** (2 * j)
                    if sig is not None:
                        out.append(gaussian_expectation(g, sigma=sig, dps=dps).value)
                    else:
                        # q known to high precision only: integrate at dps with the mp value of q
                        with mpmath.workdps(dps + 10):
                            fp = self.fprime.mp_function()
                            sq = mpmath.sqrt(self.q)
                            val = gaussian_expectation(lambda x, j=j: fp(sq * x) ** (2 * j), sigma=1,
                                                       dps=dps, exact=False).value
                        out.append(val)
            self._moment_cache[key] = out
        return self._moment_cache[key]

    def zero_mass(self):
        """:math:`P(\\lambda = 0)` as mpf (0 for a continuous law)."""
        if not self.is_discrete:
            return mpmath.mpf(0)
        for v, p in self._atom_mp_cached():
            if v == 0:
                return p
        return mpmath.mpf(0)

    def infimum_is_zero(self):
        r"""True when :math:`\inf \operatorname{supp} \lambda = 0`: an atom at 0, or f' with a
        real zero (a sign change or an exact zero on a scan of :math:`|x| \le 40\sqrt q`), or
        :math:`f'(x)^2 \to 0` as :math:`x \to \pm\infty` (sympy's limit)."""
        if self.is_discrete:
            return self.zero_mass() > 0
        sq = math.sqrt(float(self.q))
        fp = self.fprime.numpy_function()
        with np.errstate(all="ignore"):
            vals = fp(np.linspace(-40.0, 40.0, 8001) * sq)
        vals = vals[np.isfinite(vals)]
        if np.any(vals == 0) or (np.any(vals > 0) and np.any(vals < 0)):
            return True
        for side in (sympy.oo, -sympy.oo):
            try:
                lim = sympy.limit(self.fprime.expr ** 2, X, side)
            except Exception:  # noqa: BLE001 - sympy cannot decide: not known to vanish
                continue
            if lim == 0:
                return True
        return False

    def same_as(self, other):
        return self.activation == other.activation and self.q == other.q


class _SmoothRule(DiscreteLaw):
    r"""The float law of :math:`\lambda = g(Z) = f'(\sqrt q Z)^2` for a smooth f: the composite
    Gauss–Legendre rule in Z of :meth:`DerivativeLaw._nodes_float`, with :math:`\psi` corrected
    where :math:`\tau = 1/u` comes close to the support of :math:`\lambda`.

    There :math:`1/(1 - u g(Z))` has a pole at a complex :math:`Z^*` with :math:`g(Z^*) = \tau`, a
    distance :math:`\delta = |\operatorname{Im} Z^*|` from the real axis; a panel much wider than
    :math:`\delta` misses it (tanh, orthogonal weights: the product's density at
    :math:`10^{-2}x_+` was 5e-7 off, with a false gap at :math:`10^{-3}x_+`). On the three panels
    around each such pole (found by Newton's method on :math:`g(Z) = \tau` in complex Z) the rule
    is replaced by Gauss–Legendre in s with :math:`Z = \operatorname{Re} Z^* \pm \delta \sinh s`
    on either side, the sinh transformation for nearly singular integrals (Johnston & Elliott,
    Int. J. Numer. Meth. Engng 62 (2005) 564–578), which maps the pole to
    :math:`s = \pm i\pi/2` whatever :math:`\delta`: panels of length at most 2 in s, 16 nodes each
    (Bernstein ellipse :math:`\rho = 2.8`, about 1e-14).
    Neighbouring poles share their panels, split halfway between them.
    """

    _SINH_PANEL = 1.0
    _SINH_NODES = 12

    def __init__(self, z, w, lam, edges, norm, sq, fp_real, f1, f2):
        super().__init__(lam, w)
        self.z = np.asarray(z, dtype=float)
        self.edges = np.asarray(edges, dtype=float)
        self.norm = float(norm)
        self.sq = float(sq)
        self.fp_real = fp_real
        self.f1, self.f2 = f1, f2
        with np.errstate(all="ignore"):
            self.lam_edges = np.asarray(fp_real(self.sq * self.edges), dtype=float) ** 2
        t, wt = np.polynomial.legendre.leggauss(self._SINH_NODES)
        self._t, self._wt = (t + 1) / 2, wt / 2

    def _g(self, Z):
        a = self.f1(self.sq * Z)
        return a * a, 2 * self.sq * a * self.f2(self.sq * Z)

    def _poles(self, u):
        """(point, A, B, c, delta) of the poles closer to the real axis than their panel width."""
        tau = 1.0 / u
        fin = np.isfinite(tau) & (tau.imag != 0)
        above = self.lam_edges[None, :] > tau.real[:, None]
        pi, ki = np.nonzero((above[:, :-1] != above[:, 1:]) & fin[:, None])
        if pi.size == 0:
            return None
        a, b = self.edges[ki], self.edges[ki + 1]
        la, lb = self.lam_edges[ki], self.lam_edges[ki + 1]
        tp = tau[pi]
        # lambda varies exponentially across a panel (tanh: sech^4): interpolate and solve
        # log g(Z) = log tau (Newton steps capped at half a panel)
        pos = (la > 0) & (lb > 0) & (tp.real > 0)
        with np.errstate(all="ignore"):
            t_log = (np.log(tp.real) - np.log(la)) / (np.log(lb) - np.log(la))
        t_lin = (tp.real - la) / (lb - la)
        zr = a + (b - a) * np.where(pos & np.isfinite(t_log), t_log, t_lin)
        h = b - a
        _, dg = self._g(zr.astype(complex))
        Z = zr + 1j * np.clip(tp.imag / dg.real, -h, h)
        for _ in range(40):
            g, dg = self._g(Z)
            step = np.where(pos, np.log(g / tp) * g / dg, (g - tp) / dg)
            big = np.abs(step) > h / 2
            step = np.where(big, step * (h / 2) / np.abs(step), step)
            Z = Z - step
            fin = np.isfinite(step)
            if np.all(np.abs(step[fin]) <= 1e-15 * (1 + np.abs(Z[fin]))):
                break
        g, _ = self._g(Z)
        ok = np.isfinite(Z) & (np.abs(g - tp) <= 1e-11 * np.abs(tp)) & \
            (Z.real > a - h) & (Z.real < b + h) & (np.abs(Z.imag) < h / 2)
        if not ok.any():
            return None
        pi, ki, Z = pi[ok], ki[ok], Z[ok]
        P = self.edges.size - 1
        A = self.edges[np.maximum(ki - 1, 0)]
        B = self.edges[np.minimum(ki + 2, P)]
        c = np.clip(Z.real, A, B)
        order = np.lexsort((c, pi))
        pi, A, B, c, Z = pi[order], A[order], B[order], c[order], Z[order]
        # windows of one point's neighbouring poles overlap: they meet halfway between the poles
        meet = (pi[1:] == pi[:-1]) & (B[:-1] > A[1:])
        mid = (c[:-1] + c[1:]) / 2
        B[:-1] = np.where(meet, mid, B[:-1])
        A[1:] = np.where(meet, mid, A[1:])
        delta = np.maximum(np.abs(Z.imag), 1e-30 * (B - A + 1e-300))
        return pi, A, B, c, delta

    def psi1_float(self, u):
        u = np.asarray(u, dtype=complex)
        shape = u.shape
        u = u.ravel()
        with np.errstate(all="ignore"):
            poles = self._poles(u)
        if poles is None:
            psi1, dpsi = super().psi1_float(u)
            return psi1.reshape(shape), dpsi.reshape(shape)
        pi, A, B, c, delta = poles
        pts, row = np.unique(pi, return_inverse=True)
        keep = np.ones((pts.size, self.z.size), dtype=bool)
        for r, lo, hi in zip(row, A, B):
            keep[r] &= (self.z < lo) | (self.z > hi)
        psi1 = np.empty(u.shape, dtype=complex)
        dpsi = np.empty(u.shape, dtype=complex)
        rest = np.ones(u.shape, dtype=bool)
        rest[pts] = False
        if rest.any():
            p1, dp = super().psi1_float(u[rest])
            psi1[rest], dpsi[rest] = p1, dp
        with np.errstate(all="ignore"):
            d = 1.0 / (1.0 - u[pts, None] * self.values[None, :])
            wk = self.weights[None, :] * keep
            s1 = np.sum(wk * d, axis=1)
            s2 = np.sum(wk * self.values[None, :] * d * d, axis=1)
            for e in (A, B):
                L = np.abs(e - c)
                S = np.arcsinh(L / delta)
                M = max(1, int(np.ceil(np.max(S) / self._SINH_PANEL)))
                frac = ((np.arange(M)[:, None] + self._t[None, :]) / M).ravel()
                s = S[:, None] * frac[None, :]
                ws = (S / M)[:, None] * np.tile(self._wt, M)[None, :]
                Z = c[:, None] + np.sign(e - c)[:, None] * delta[:, None] * np.sinh(s)
                wz = ws * delta[:, None] * np.cosh(s) * np.exp(-Z * Z / 2) / \
                    (math.sqrt(2 * math.pi) * self.norm)
                lam = np.asarray(self.fp_real(self.sq * Z), dtype=float) ** 2
                dd = 1.0 / (1.0 - u[pi, None] * lam)
                np.add.at(s1, row, np.sum(wz * dd, axis=1))
                np.add.at(s2, row, np.sum(wz * lam * dd * dd, axis=1))
        psi1[pts], dpsi[pts] = s1, s2
        return psi1.reshape(shape), dpsi.reshape(shape)


class JacobianLaw(Law):
    r"""Eigenvalue law of :math:`JJ^\top`, :math:`J = \prod_{l=L}^{1} D_l W_l` (wide limit).

    Parameters
    ----------
    layer_laws : list of DerivativeLaw
        One per layer (layer 1 first); equal laws are grouped.
    sigma_w : number > 0
    weights : {"iid", "orthogonal"}
    dps : int

    Notes
    -----
    Solves :math:`S_{JJ^\top} = \prod_l S_{D_l^2} S_{W_lW_l^\top}` with
    :math:`S_{WW^\top} = 1/(\sigma_w^2(1+w))` (iid) or :math:`1/\sigma_w^2` (orthogonal)
    (PSG 2017) for :math:`w = \psi(1/x)`, then :math:`G(x) = (1+w)/x`.
    """

    def __init__(self, layer_laws, sigma_w, weights="iid", dps=15):
        super().__init__(dps)
        if weights not in WEIGHTS:
            raise ValueError(f"weights must be one of {WEIGHTS}, got {weights!r}")
        if not layer_laws:
            raise ValueError("need at least one layer")
        self.weights = weights
        self.depth = len(layer_laws)
        self.sigma_w_exact = to_sympy_number(sigma_w, "sigma_w")
        if not (self.sigma_w_exact.is_number and self.sigma_w_exact > 0):
            raise ValueError(f"sigma_w must be a number > 0, got {sigma_w}")
        groups = []
        for dl in layer_laws:
            for g in groups:
                if g[0].same_as(dl):
                    g[1] += 1
                    break
            else:
                groups.append([dl, 1])
        self.groups = [(g[0], g[1]) for g in groups]
        smooth = sum(not dl.is_discrete for dl, _ in self.groups)
        if smooth > _MAX_SMOOTH_FACTORS:
            raise ValueError(
                f"the layers' variances q_l take {smooth} distinct values (they have not settled "
                "at a fixed point, e.g. with q0 given) and the free product of that many "
                f"quadrature laws is beyond this solver (at most {_MAX_SMOOTH_FACTORS}, minutes "
                "past that); give no q0 (layers at the fixed point) or a depth <= "
                f"{_MAX_SMOOTH_FACTORS}")
        if weights == "orthogonal":
            self._refuse_orthogonal_without_density()
        for dl, _ in self.groups:
            if not dl.float_law().mean > 0:
                raise ValueError(f"E f'(sqrt(q) Z)^2 = 0 for {dl.activation.text}: the Jacobian vanishes")
        self._build_product()
        self._path = None           # (log x descending, w, u) on the ray x (1 + i eps)
        self._mp_state = {}
        self._edge = None

    def _refuse_orthogonal_without_density(self):
        r"""With orthogonal weights :math:`W_lW_l^\top = \sigma_w^2 I`: for L = 1,
        :math:`JJ^\top = \sigma_w^2 D_1^2` is the law of :math:`\sigma_w^2 f'(\sqrt{q_1}Z)^2`
        itself (atoms for piecewise-linear f; no free convolution to solve); when every
        :math:`D_l^2` is constant (one atom, e.g. :math:`q^* = 0`), :math:`JJ^\top` is a multiple
        of the identity. Both are refused with the law named."""
        sw2 = float(self.sigma_w_exact) ** 2
        if self.depth == 1:
            dl = self.groups[0][0]
            if dl.is_discrete:
                atoms = ", ".join(f"{sw2 * float(v):.6g} (mass {float(p):.6g})"
                                  for v, p in zip(dl.float_law().values, dl.float_law().weights))
                raise ValueError("with orthogonal weights and L = 1, J J^T = sigma_w^2 D^2 has a "
                                 f"purely atomic law (atoms at {atoms}): no density")
            raise ValueError(
                "with orthogonal weights and L = 1, J J^T = sigma_w^2 D^2: its eigenvalue law is "
                f"that of sigma_w^2 f'(sqrt(q) Z)^2, q = {float(dl.q):.6g} (no free product); the "
                "free-product solver needs L >= 2 or iid weights")
        point = []
        for dl, m in self.groups:
            law = dl.float_law()
            values = law.values[law.weights > 0]
            if not dl.is_discrete or len(set(values.tolist())) != 1:
                break
            point.append(float(values[0]) ** m)
        if len(point) == len(self.groups):
            value = sw2 ** self.depth * math.prod(point)
            raise ValueError(f"with orthogonal weights and f'(sqrt(q_l) Z)^2 constant in every "
                             f"layer, J J^T = {value:.6g} I: a point mass, no density")
        atom = self._orthogonal_nonzero_atom()
        if atom is not None:
            raise ValueError(
                f"with orthogonal weights J J^T has an atom at x = {float(atom[0]):.6g} of mass "
                f"{float(atom[1]):.6g} (Belinschi 2003: an atom where two factors' atom masses add "
                "up to more than 1), besides its density; nrmt's laws carry atoms at 0 only")

    def _orthogonal_nonzero_atom(self):
        r"""The largest atom of :math:`\boxtimes_l \nu_l` away from 0, as (x, mass), or None.

        Belinschi, *The atoms of the free multiplicative convolution of two probability
        distributions*, Integral Equations Operator Theory 46 (2003): :math:`\mu \boxtimes \nu`
        has an atom at :math:`t = uv \ne 0` iff :math:`\mu(\{u\}) + \nu(\{v\}) > 1`, of mass
        :math:`\mu(\{u\}) + \nu(\{v\}) - 1`; applied layer by layer (a continuous factor has
        no atoms, so the product then has none away from 0). Masses at 30 digits."""
        with mpmath.workdps(30):
            current = None
            for dl, m in self.groups:
                if not dl.is_discrete:
                    return None
                atoms = {v: p for v, p in dl._atom_mp_cached() if v != 0 and p > 0}
                for _ in range(m):
                    if current is None:
                        current = dict(atoms)
                        continue
                    nxt = {}
                    for u, pu in current.items():
                        for v, pv in atoms.items():
                            mass = pu + pv - 1
                            if mass > mpmath.mpf(10) ** -25:
                                nxt[u * v] = nxt.get(u * v, 0) + mass
                    current = nxt
                    if not current:
                        return None
            if not current or self.depth == 1:
                return None
            x, mass = max(current.items(), key=lambda kv: kv[1])
            return x * self.sigma_w ** (2 * self.depth), mass

    @property
    def sigma_w(self):
        """sigma_w as mpf at the current precision."""
        return mpmath.mpf(sympy.N(self.sigma_w_exact, mpmath.mp.dps + 5))

    def _build_product(self, sw2=None):
        sw2 = float(self.sigma_w_exact) ** 2 if sw2 is None else sw2
        closed = ClosedFactor(sw2, 1.0 if self.weights == "iid" else 0.0, multiplicity=self.depth,
                              name="WW^T")
        self.product = FreeProduct([closed] + [
            LawFactor(dl.float_law(), mp_psi1=dl.psi1_mp, multiplicity=m, name=f"q={float(dl.q):.6g}")
            for dl, m in self.groups])

    def _product_mp(self):
        """The same product with the closed factor scale at the current precision."""
        closed = ClosedFactor(self.sigma_w ** 2, 1 if self.weights == "iid" else 0,
                              multiplicity=self.depth)
        fp = FreeProduct([closed] + [LawFactor(dl.float_law(), mp_psi1=dl.psi1_mp, multiplicity=m)
                                     for dl, m in self.groups])
        return fp

    # -------------------------------------------------------------- float path
    def _upper_bound(self):
        b = 1.0
        for dl, m in self.groups:
            b *= (float(self.sigma_w_exact) ** 2 * dl.float_law().max_value *
                  (4.0 if self.weights == "iid" else 1.0)) ** m
        return b

    def _extend_path(self, x_min):
        """Trace w, u along x (1 + i eps) from above the support down to ``x_min``."""
        fp = self.product
        if self._path is None:
            if self._edge is None:
                self._edge = self._edge_float()
            r0 = 4.0 / self._z_real_float(*self._edge)      # four times the upper edge
            lx = [math.log(r0)]
            z0 = np.array([1.0 / (r0 * (1 + 1j * _EPS_PATH))])
            w, u = fp.initial_guess(z0)
            w, u, ok = fp._newton_float(z0, w, u)
            if not ok[0]:
                raise NoConvergence("could not start the Jacobian continuation at large x")
            W = [w[0]]
            U = [u[0]]
        else:
            lx, W, U = (list(a) for a in self._path)
        target = math.log(x_min)
        h = 0.05
        cur_l, cur_w, cur_u = lx[-1], W[-1], U[-1]
        fails = 0
        while cur_l > target:
            step = min(h, cur_l - target) if cur_l - target > 1e-12 else cur_l - target
            nl = cur_l - step
            zt = np.array([np.exp(-nl) / (1 + 1j * _EPS_PATH)])
            w, u, ok = fp._newton_float(zt, np.array([cur_w]), cur_u[None, :], maxiter=12)
            # Herglotz: Im G(zeta) < 0 for Im zeta > 0 (G = v / zeta); a step that lands on
            # the conjugate root (across the cut at a support edge) is refused. Where the density
            # is 0 (below the support, a gap) Im G on the ray is only eps_path |G| and rounds to
            # either sign: a relative margin, or the path stalls there (it did at x = 5.7e-21)
            zeta = np.exp(nl) * (1 + 1j * _EPS_PATH)
            g = w[0] / zeta
            good = ok[0] and abs(w[0] - cur_w) <= 0.5 * abs(cur_w) + 1e-12 and \
                g.imag < 1e-9 * abs(g)
            if good:
                cur_l, cur_w, cur_u = nl, w[0], u[0]
                lx.append(cur_l)
                W.append(cur_w)
                U.append(cur_u)
                h = min(h * 1.3, 0.1)
                fails = 0
            else:
                h /= 4
                fails += 1
                if fails > 30:
                    self._path = (np.array(lx), np.array(W), np.array(U))
                    raise NoConvergence(f"Jacobian continuation stalled at x = {math.exp(cur_l):.6g}")
        self._path = (np.array(lx), np.array(W), np.array(U))

    def _solve_real_float(self, x):
        """(w, u) at real x > 0 (boundary values from the upper half plane), vectorised."""
        x = np.asarray(x, dtype=float)
        if self._path is None or math.log(x.min()) < self._path[0][-1] - 1e-12:
            self._extend_path(x.min() * 0.999)
        lx, W, U = self._path
        # nearest traced state (lx is decreasing)
        idx = np.searchsorted(-lx, -np.log(x))
        idx = np.clip(idx, 0, len(lx) - 1)
        w, u = W[idx].copy(), U[idx].copy()
        fp = self.product
        # first eps = _EPS_PATH, then straight to eps = 0; the points where that fails or lands
        # on the conjugate root go down the eps ladder
        z = 1.0 / (x * (1 + 1j * _EPS_PATH))
        nw, nu, ok = fp._newton_float(z, w, u, maxiter=40)
        for i in np.flatnonzero(~ok):
            nw[i], nu[i] = self._walk(x[i], W[idx[i]], U[idx[i]], lx[idx[i]])
        ok = np.isfinite(nw)
        w = np.where(ok, nw, np.nan + 0j)
        u = np.where(ok[:, None], nu, u)
        fw, fu, fok = fp._newton_float(1.0 / x.astype(complex), w, u, maxiter=40)
        fok &= (fw / x).imag <= 1e-14 * np.abs(fw / x)
        fok &= np.abs(fw - w) <= 0.05 * np.abs(w)
        if np.all(fok | ~ok):
            return np.where(fok, fw, w), np.where(fok[:, None], fu, u)
        good = fok.copy()
        rest = np.flatnonzero(~fok & ok)
        w_r, u_r = self._descend(x[rest], w[rest], u[rest])
        w = np.where(good, fw, w)
        u = np.where(good[:, None], fu, u)
        w[rest], u[rest] = w_r, u_r
        return w, u

    def _descend(self, x, w, u):
        """eps ladder 1e-3 -> 0 for points next to an edge (vectorised)."""
        fp = self.product
        for eps in (1e-5, 1e-7, 1e-9, 1e-11, 1e-13, 0.0):
            z = 1.0 / (x * (1 + 1j * eps))
            nw, nu, ok = fp._newton_float(z, w, u, maxiter=40)
            # where a smaller eps fails (next to an edge) or lands on the conjugate root (Im G
            # must stay <= 0), keep the last converged value
            zeta = x * (1 + 1j * eps)
            ok &= (nw / zeta).imag <= 1e-14 * np.abs(nw / zeta)
            w = np.where(ok, nw, w)
            u = np.where(ok[:, None], nu, u)
        return w, u

    def _walk(self, x, w0, u0, l0):
        """Sequential continuation on x (1 + i eps) from the traced state at log x = l0 to x."""
        fp = self.product
        zs = np.exp(-np.linspace(l0, math.log(x), 20)) / (1 + 1j * _EPS_PATH)
        W, U, ok = fp.solve_path_float(zs, w0, u0)
        if not ok[-1]:
            return np.nan, np.full(len(fp.laws), np.nan + 0j)
        return W[-1], U[-1]

    def _solve_complex_float(self, z):
        """(w, u) at one point with Im z > 0 or z < 0: continuation along the ray of z."""
        fp = self.product
        r, th = abs(z), np.angle(z)
        if self._edge is None:
            self._edge = self._edge_float()
        r0 = 4.0 * max(1.0 / self._z_real_float(*self._edge), r)
        if abs(th) < _EPS_PATH:
            th = _EPS_PATH
        rs = np.exp(np.linspace(math.log(r0), math.log(r), max(20, int(30 * math.log(r0 / r) + 2))))
        zs = 1.0 / (rs * np.exp(1j * th))
        W, U, ok = fp.solve_path_float(zs)
        if not ok[-1]:
            return np.nan, None
        w, u = W[-1], U[-1]
        if th != np.angle(z):
            for e in np.linspace(th, np.angle(z), 8)[1:]:
                w2, u2, ok = fp._newton_float(np.array([1.0 / (r * np.exp(1j * e))]),
                                              np.array([w]), u[None, :])
                w, u = w2[0], u2[0]
        return w, u

    def _stieltjes_float(self, z):
        z = np.asarray(z, dtype=complex)
        out = np.full(z.shape, np.nan + 0j)
        flat = z.ravel()
        res = out.ravel()
        real_pos = (flat.imag == 0) & (flat.real > 0)
        if np.any(real_pos):
            # G at real points is kept: the moments and the mass integrate the density on the
            # same tanh-sinh nodes, one integral per moment
            xs = flat.real[real_pos]
            cache = self._cache.setdefault(("g_real", self._dps), {})
            g = np.array([cache.get(v, np.nan) for v in xs.tolist()], dtype=complex)
            todo = np.isnan(g)
            if todo.any():
                w, _ = self._solve_real_float(xs[todo])
                g[todo] = w / xs[todo]
                if len(cache) > 500000:
                    cache.clear()
                cache.update(zip(xs[todo].tolist(), g[todo].tolist()))
            res[real_pos] = g
        for i in np.flatnonzero(~real_pos):
            if flat[i] == 0:
                continue
            w, _ = self._solve_complex_float(flat[i])
            res[i] = w / flat[i]
        return res.reshape(z.shape)

    def _float_state(self, z):
        zc = complex(z)
        if zc.imag == 0 and zc.real > 0:
            w, u = self._solve_real_float(np.array([zc.real]))
            return w[0], u[0]
        return self._solve_complex_float(zc)

    # -------------------------------------------------------------- mp path
    def _stieltjes_mp(self, z, seed):
        """Newton at the current precision from the float solution (or the last mp one).

        For real x the equations have real coefficients, so the conjugate of a root is a root: a
        result with Im v > 0 (the unphysical conjugate, reachable next to an edge) is conjugated.
        Within a relative distance 10^(-2 dps) of a support edge the density is below
        10^(-dps) (square-root edge) and G is its value at the edge (real).
        """
        key = (complex(z))
        real = mpmath.im(z) == 0 and mpmath.re(z) > 0
        if real and not self.is_float:
            x = mpmath.re(z)
            near = mpmath.mpf(10) ** (-2 * mpmath.mp.dps)
            for edge in self._edges_mp():
                if edge[0] > 0 and abs(x - edge[0]) <= near * edge[0]:
                    return (1 + edge[1]) / x
        state = self._mp_state.get(key)
        if state is None:
            w0, u0 = self._float_state(z)
            if not np.isfinite(w0) or u0 is None or not np.all(np.isfinite(u0)):
                raise NoConvergence(f"no float start for the Jacobian law at z = {complex(z)}")
            state = (mpmath.mpc(w0), [mpmath.mpc(v) for v in u0])
        fp = self._product_mp()
        v0, u0 = state
        if real and abs(mpmath.im(v0)) <= mpmath.mpf(10) ** (-mpmath.mp.dps // 2) * abs(v0):
            # a real start cannot reach a complex root (Newton keeps real iterates real): next to
            # an edge, where float cannot tell the two, nudge it towards Im v < 0 (Im G < 0)
            v0 = mpmath.mpc(mpmath.re(v0), -mpmath.mpf(10) ** (-mpmath.mp.dps // 2) * abs(v0))
        try:
            w, u = fp.newton_mp(1 / z, v0, u0, maxiter=200)
        except NoConvergence:
            if not real:
                raise
            # next to an edge the start may sit between the two conjugate roots, where the
            # Jacobian nearly vanishes: restart below the real axis at a few distances
            for k in (4, 8, 12, 16, 24, 32):
                try:
                    v1 = mpmath.mpc(mpmath.re(v0), -mpmath.mpf(10) ** (-k) * abs(v0))
                    w, u = fp.newton_mp(1 / z, v1, u0, maxiter=200)
                    break
                except NoConvergence:
                    continue
            else:
                raise
        if real and mpmath.im(w) > 0:
            w, u = mpmath.conj(w), [mpmath.conj(v) for v in u]
        self._mp_state[key] = (w, u)
        return w / z

    def _edges_mp(self):
        """[(x_edge, w_edge)] at the current precision (from the support computation)."""
        self.support_mp
        return self._cache.get(("edges", self._dps), [])

    # -------------------------------------------------------------- atom, moments, support
    def _atom(self):
        return max(dl.zero_mass() for dl, _ in self.groups)

    def _moments(self, k):
        r"""Closed form from the S-transform series (:func:`nrmt.numerics.free.free_product_moments`)
        with the layer moments :math:`\mathbb E\lambda_l^j`: exact atoms or
        :func:`nrmt.theory.gaussian.gaussian_expectation` at the working precision (float path
        included)."""
        fp = self._product_mp()
        # also behind the float path: the layer moments at the working precision (the float
        # quadrature rule leaves the last two digits of m3, m4 wrong at depth 16)
        dps = mpmath.mp.dps
        return fp.moments(k, [dl.moments(k, dps) for dl, _ in self.groups])

    def _edge_float(self):
        """Upper edge: first critical point of log z(w) on the real branch w > 0 (float)."""
        with np.errstate(all="ignore"):
            return self._edge_float_kernel()

    def _edge_float_kernel(self):
        fp = self.product
        J = len(fp.laws)

        def state(w, u_start):
            u = u_start.copy()
            for _ in range(100):
                du_all = np.empty(J)
                for j, f in enumerate(fp.laws):
                    p1, dp = f.float_law.psi1_float(np.array([u[j]]))
                    du = (1 + w - p1[0].real) / dp[0].real
                    # keep u below the first pole 1/lambda_max
                    cap = 1.0 / f.float_law.max_value
                    nu = u[j] + du
                    if nu >= cap:
                        nu = (u[j] + cap) / 2
                    if nu <= 0:
                        nu = u[j] / 2
                    du_all[j] = nu - u[j]
                    u[j] = nu
                if np.all(np.abs(du_all) <= 1e-15 * np.abs(u)):
                    break
            return u

        def dlogz(w, u):
            d = 1 / w - 1 / (1 + w)
            for f in fp.closed:
                d += f.multiplicity * f.dlog_s(w)
            for j, f in enumerate(fp.laws):
                _, dp = f.float_law.psi1_float(np.array([u[j]]))
                d += f.multiplicity * (1 / (1 + w) - 1 / w + 1 / (u[j] * dp[0].real))
            return d

        w = 1e-8                  # w = psi(1/x) is dimensionless: the edge has w = O(1/L)
        u = np.array([w / f.mean for f in fp.laws])
        u = state(w, u)
        prev = (w, u, dlogz(w, u))
        for _ in range(4000):
            w = w * 1.05
            u = state(w, prev[1])
            d = dlogz(w, u)
            if d <= 0:
                lo, hi, ulo = prev[0], w, prev[1]
                for _ in range(200):
                    mid = (lo + hi) / 2
                    um = state(mid, ulo)
                    if dlogz(mid, um) > 0:
                        lo, ulo = mid, um
                    else:
                        hi = mid
                    if hi - lo <= 1e-15 * hi:
                        break
                return lo, ulo
            prev = (w, u, d)
        raise NoConvergence("could not locate the upper edge of the Jacobian law")

    @staticmethod
    def _z_real_mp(fp, w, u):
        """z = chi(w) on the real branch, as a real product (no logarithms of negatives)."""
        out = w / (1 + w)
        for f in fp.closed:
            out *= (1 / (f.scale * (1 + f.ratio * w))) ** f.multiplicity
        for j, f in enumerate(fp.laws):
            out *= (u[j] * (1 + w) / w) ** f.multiplicity
        return out

    def _edge_mp(self, w0, u0):
        """A support edge at the current precision: the critical point of log z(w) on the real
        branch, by the secant method on d log z/dw (inner Newton for psi_j(u_j) = w), started
        from a real float state (w0, u0) next to the edge. Returns x = 1/z(w_c)."""
        fp = self._product_mp()

        def solve_u(w, u):
            # Newton for 1 + psi_j(u_j) = 1 + w. Its rounding floor is set by the residual,
            # eps |1 + w| / |psi_j'(u_j)|, not by |u_j|: with psi_j' ~ 1 and u_j ~ 0.06 (hard-tanh
            # at depth 16) a step test eps |u_j| was never met and the iterates swapped the last
            # bit for 200 steps. Stop at that floor (or when the step stops shrinking there).
            u = list(u)
            for j, f in enumerate(fp.laws):
                prev = None
                for _ in range(200):
                    p1, dp = f.mp_psi1(u[j])
                    du = (1 + w - p1) / dp
                    u[j] = u[j] + du
                    floor = mpmath.eps * 16 * (abs(u[j]) + abs((1 + w) / dp))
                    if abs(du) <= floor or (prev is not None and abs(du) <= 64 * floor
                                             and abs(du) >= abs(prev) / 2):
                        break
                    prev = du
                else:
                    raise NoConvergence("support edge: inner Newton failed")
            return u

        ucur = [mpmath.mpf(float(np.real(v))) for v in u0]

        def D(w):
            nonlocal ucur
            ucur = solve_u(w, ucur)
            d = 1 / w - 1 / (1 + w)
            for f in fp.closed:
                d += f.multiplicity * f.dlog_s(w)
            for j, f in enumerate(fp.laws):
                _, dp = f.mp_psi1(ucur[j])
                d += f.multiplicity * (1 / (1 + w) - 1 / w + 1 / (ucur[j] * dp))
            return d

        w0 = mpmath.mpf(float(np.real(w0)))
        wc = mpmath.findroot(D, (w0, w0 * (1 + mpmath.mpf(10) ** -6)), solver="secant",
                             tol=mpmath.eps ** 2 * 1e4, maxsteps=200)
        ucur = solve_u(wc, ucur)
        x = 1 / self._z_real_mp(fp, wc, ucur)
        self._cache.setdefault(("edges", self._dps), []).append((x, wc))
        return x

    def _lower_edge_float(self, hi):
        """(x_-, w, u) with a real state just below x_-, or None when the support reaches 0.

        Scans :math:`[10^{-9}x_+, x_+]` first, then further down (a deep product spreads its
        continuous part over many decades: ReLU at depth 64 has it below :math:`10^{-9}x_+`)."""
        def on(w):
            return -w.imag > 1e-10 * np.abs(w)

        for low in (1e-9, 1e-40, 1e-150):
            w, _ = self._solve_real_float(np.array([low, low * 1e3]) * hi)
            if np.all(on(w)):
                if low > 1e-9:
                    return None
                # on the support at 1e-9 x_+ and 1e-6 x_+; the continuous part may still stop
                # further down (hard-tanh, iid, depth 16: an atom at 0 and a lower edge near
                # 5e-13 x_+, where taking the support to reach 0 left G real and the mp check
                # unsettled at 3.7e-12). A density that falls off as a power of x reaches 0 and
                # must not be cut by a threshold on Im w (hard-tanh, iid with a bias: Im w ~
                # x^(1/L), 3e-19 |w| at 1e-40 x_+ for L = 2): at 1e-40..1e-37 x_+ it shows as
                # Im w < 0 growing by one constant factor per decade; anything else there (G
                # real to rounding: Im w of either sign, no pattern) is a gap, scanned from there
                wd, _ = self._solve_real_float(np.array([1e-40, 1e-39, 1e-38, 1e-37]) * hi)
                im = wd.imag
                if np.all(im < 0):
                    ratio = im[1:] / im[:-1]
                    if np.all(ratio > 1) and np.max(ratio) <= 1.01 * np.min(ratio):
                        return None
                low = 1e-40
            xs = np.geomspace(low * hi, hi, int(40 * math.log10(1 / low)) + 40)
            w, _ = self._solve_real_float(xs)
            mask = on(w)
            if mask.any():
                break
        else:
            raise NoConvergence("the Jacobian law has no continuous part on a scan of its range "
                                f"[1e-150 x_+, x_+], x_+ = {hi:.6g}")
        i = int(np.argmax(mask))
        if i == 0:
            return None
        lo, up = xs[i - 1], xs[i]
        for _ in range(60):
            mid = math.sqrt(lo * up)
            wm, _ = self._solve_real_float(np.array([mid]))
            if -wm[0].imag > 1e-10 * abs(wm[0]):
                up = mid
            else:
                lo = mid
            if up - lo <= 1e-13 * up:
                break
        x_out = lo * (1 - 1e-7)
        w_out, u_out = self._solve_real_float(np.array([x_out]))
        return lo, w_out[0], u_out[0]

    def _reaches_zero(self):
        r"""True when the support reaches 0, decided from the factors, not from a scan: with iid
        weights (the Marchenko–Pastur factor MP(1) has 0 in its support) or when some layer's
        :math:`\lambda_l` has :math:`\inf \lambda_l = 0` (an atom at 0, a zero of f', or
        :math:`f' \to 0` at infinity). The bottom of the support of :math:`a^{1/2} b a^{1/2}` is at
        most :math:`\lVert b\rVert` times that of :math:`a` (Loewner order), and so is that of
        :math:`\mu_a \boxtimes \mu_b`; without an atom at 0 that bottom belongs to the continuous
        part. With an atom at 0 the continuous part may start above 0 (ReLU, L = 1): scanned.
        A scan would see a super-exponentially small density
        (e.g. tanh: :math:`\lambda` has a log-normal-like tail at 0) as a gap."""
        if self._atom() > 0:
            return False            # the atom holds the bottom of the spectrum: scan for a gap
        if self.weights == "iid":
            return True
        return any(dl.infimum_is_zero() for dl, _ in self.groups)

    def _support(self):
        if self._edge is None:
            self._edge = self._edge_float()
        norm = self._norm_edge_mp()
        hi_float = 1 / self._z_real_float(*self._edge)
        if norm is not None and abs(hi_float - float(norm)) <= 1e-6 * float(norm):
            # no critical point: w -> infinity at the edge, which is then the norm bound
            # sigma_w^(2L) prod_l max(lambda_l) (orthogonal weights, lambda with a largest atom:
            # the density blows up there, e.g. the arcsine law of two free projections)
            hi = norm
            low = None if self._reaches_zero() else self._lower_edge_float(float(hi))
            if low is None:
                return [(mpmath.mpf(0), hi)]
            if self.is_float:
                return [(mpmath.mpf(low[0]), hi)]
            return [(self._edge_mp(low[1] - 1, low[2]), hi)]
        # the edges are solved at the working precision also behind the float path: a handful
        # of numbers, each printed with dps digits (the float bisection alone leaves the last
        # digit or two wrong, e.g. 6.75000000000001 for the edge 27/4 of a linear L = 2 network).
        # Where that refinement fails on the float path (an edge next to a pole of the layer
        # transform), the float bisection's edges are kept: double precision, as before.
        try:
            hi = self._edge_mp(*self._edge)
            low = None if self._reaches_zero() else self._lower_edge_float(float(hi))
            if low is None:
                return [(mpmath.mpf(0), hi)]
            lo = self._edge_mp(low[1] - 1, low[2])
            return [(lo, hi)]
        except (NoConvergence, ValueError, ZeroDivisionError, TypeError):
            if not self.is_float:
                raise
        hi = mpmath.mpf(hi_float)
        low = None if self._reaches_zero() else self._lower_edge_float(float(hi))
        return [(mpmath.mpf(0) if low is None else mpmath.mpf(low[0]), hi)]

    def _norm_edge_mp(self):
        """sigma_w^(2L) prod_l max(lambda_l) for orthogonal weights and discrete layer laws (the
        operator-norm bound), else None."""
        if self.weights != "orthogonal" or not all(dl.is_discrete for dl, _ in self.groups):
            return None
        out = self.sigma_w ** (2 * self.depth)
        for dl, m in self.groups:
            out *= max(v for v, p in dl._atom_mp_cached() if p > 0) ** m
        return out

    def _z_real_float(self, w, u):
        fp = self.product
        out = w / (1 + w)
        for f in fp.closed:
            out *= (1 / (f.scale * (1 + f.ratio * w))) ** f.multiplicity
        for j, f in enumerate(fp.laws):
            out *= (float(np.real(u[j])) * (1 + w) / w) ** f.multiplicity
        return float(np.real(out))

    def _scale(self):
        return float(self.support_mp[-1][1])

    # -------------------------------------------------------------- CDF from the tail
    def _piece(self, a, c):
        r"""Mass of the continuous part on [a, c]; from a hard edge at 0 it is computed from the
        tail, :math:`(1 - \text{atom}) - \int_c^{x_+}\rho`, since the density near 0 behaves like
        :math:`x^{-L/(L+1)}` (no quadrature from 0 resolves it for deep products)."""
        key = ("piece", a, c)
        if (key, self._dps) not in self._cache:
            sup = self.support_mp
            if a == 0 and sup and sup[0][0] == 0 and len(sup) == 1:
                b = sup[0][1]
                tail = self._integrate(c, b) if c < b else mpmath.mpf(0)
                val = (1 - self.atom_mp) - tail
            else:
                val = self._integrate(a, c)
            self._cache[(key, self._dps)] = val
        return self._cache[(key, self._dps)]

    # -------------------------------------------------------------- float CDF table
    def _cdf_table(self):
        """F at cell edges from the tail, for the float path (built once).

        Cells: logarithmic from 1e-25 x_+ to x_+/4 when the support reaches 0 (10 per decade),
        cosine-clustered up to x_+ (and on [x_-, x_+] otherwise); 8-point Gauss–Legendre per
        cell; F(x_k) = 1 - sum of the cells above x_k.
        """
        table = self._cache.get(("cdf_table", self._dps))
        if table is not None:
            return table
        (a, b), = [(float(lo), float(hi)) for lo, hi in self.support_mp[:1]]
        atom = float(self.atom_mp)
        if a == 0:
            lo = b * 1e-25
            left = np.geomspace(lo, b / 4, 10 * 25 + 1)
            t = np.linspace(0, 1, 161)
            right = b / 4 + (b - b / 4) * (1 - np.cos(np.pi * t)) / 2
            edges = np.unique(np.concatenate([left, right]))
        else:
            t = np.linspace(0, 1, 301)
            edges = a + (b - a) * (1 - np.cos(np.pi * t)) / 2
        gu, gw = np.polynomial.legendre.leggauss(8)
        mid = (edges[:-1] + edges[1:]) / 2
        half = (edges[1:] - edges[:-1]) / 2
        pts = (mid[:, None] + half[:, None] * gu[None, :]).ravel()
        rho_all = self._density_float_raw(np.concatenate([pts, edges[:-1]]))
        rho = rho_all[:pts.size].reshape(mid.size, gu.size)
        rho_edges = np.concatenate([rho_all[pts.size:], [0.0]])
        cells = half * np.sum(rho * gw[None, :], axis=1)
        tail = np.concatenate([np.cumsum(cells[::-1])[::-1], [0.0]])
        F = 1.0 - tail
        gamma = None
        if a == 0 and F[0] - atom > 0:
            gamma = edges[0] * rho_edges[0] / (F[0] - atom)
        table = (edges, F, rho_edges, atom, a, gamma)
        self._cache[("cdf_table", self._dps)] = table
        return table

    def _cdf_float(self, x):
        """Vectorised float CDF from :meth:`_cdf_table` (cubic Hermite between the edges; a power
        law F - atom ~ x^gamma below 1e-25 x_+)."""
        edges, F, rho, atom, a, gamma = self._cdf_table()
        x = np.asarray(x, dtype=float)
        out = np.where(x >= 0, atom, 0.0)
        out = np.where(x >= edges[-1], 1.0, out)
        inside = (x >= edges[0]) & (x < edges[-1])
        xi = x[inside]
        j = np.clip(np.searchsorted(edges, xi, side="right") - 1, 0, edges.size - 2)
        x0, x1 = edges[j], edges[j + 1]
        h = x1 - x0
        u = (xi - x0) / h
        h00 = (1 + 2 * u) * (1 - u) ** 2
        h10 = u * (1 - u) ** 2
        h01 = u * u * (3 - 2 * u)
        h11 = u * u * (u - 1)
        val = h00 * F[j] + h10 * h * rho[j] + h01 * F[j + 1] + h11 * h * rho[j + 1]
        out[inside] = np.clip(val, F[j], F[j + 1])
        if gamma is not None:
            small = (x > 0) & (x < edges[0])
            out[small] = atom + (F[0] - atom) * (x[small] / edges[0]) ** gamma
        return out

    def _cdf_mp(self, x):
        if self.is_float:
            return mpmath.mpf(float(self._cdf_float(np.array([float(x)]))[0]))
        return super()._cdf_mp(x)

    def cdf_table_float(self, cells=None):
        """A vectorised float CDF object for :func:`nrmt.numerics.compare.compare` (built from
        the tail, so the mass near 0 of deep products is right): attributes ``atom``,
        ``support``, ``nodes``, ``error``, ``continuous_mass``; call it on an array."""
        return _TailCdf(self)


class _TailCdf:
    """The float CDF of a :class:`JacobianLaw`, with the interface of compare's CdfTable."""

    def __init__(self, law):
        edges, F, _, atom, _, _ = law._cdf_table()
        self.law = law
        self.atom = atom
        self.support = [(float(a), float(b)) for a, b in law.support_mp]
        self.nodes = edges
        self.continuous_mass = 1.0 - atom
        # F(x_+) = 1 by construction; the error is that of the 8-point rule per cell, estimated
        # by the F values' agreement with the atom + power-law extrapolation at the lowest edge
        self.error = 0.0

    def __call__(self, x):
        x = np.asarray(x, dtype=float)
        return self.law._cdf_float(x.ravel()).reshape(x.shape)
