r"""Bias constants: the Gaussian constants of :math:`f(\cdot + \beta)` as functions of the bias β.

With an additive bias the pre-activation of row :math:`i` is :math:`\sigma\xi + b_i`
(:math:`\xi \sim N(0,1)`, :math:`b_i \sim N(0, \sigma_b^2)` iid). Row by row the constants are

.. math::
    \mu(\beta) = \mathbb E f(\sigma\xi + \beta),\qquad
    \theta_1(\beta) = \mathbb E f(\sigma\xi+\beta)^2 - \mu(\beta)^2,

.. math::
    c(\beta) = \mathbb E f'(\sigma\xi + \beta) = \frac{\mathbb E[\xi f(\sigma\xi+\beta)]}{\sigma},
    \qquad \theta_2(\beta) = \sigma^2 c(\beta)^2 = \bigl(\mathbb E[\xi f(\sigma\xi+\beta)]\bigr)^2

(the Stein form needs no derivative, so kinks are fine). At β = 0 they are the one-layer
constants of :mod:`nrmt.theory.constants`. The *averaged* constants over
:math:`\beta\sim N(0,\sigma_b^2)` are :math:`\bar\theta_1 = \mathbb E_\beta\theta_1(\beta)`,
:math:`\bar\theta_2 = \mathbb E_\beta\theta_2(\beta)` — the constants with which Piccolo &
Schröder's bias theorem is stated (as recalled in ``shared/theory/deep.md``; the definition of
their bias constants is to be matched to the paper's PDF). nrmt's bias law
(:mod:`nrmt.numerics.bias_law`) uses the whole profile :math:`\beta\mapsto(c(\beta)^2,
\theta_1(\beta) - \theta_2(\beta))`, which Monte Carlo supports; the averaged-constant quartic is
available for comparison and is measurably off for σ_b ≳ 0.5 (``docs/bias-layers.md``).

The outlier: without row-wise centring, :math:`Y = \mu(b)1^\top + \tilde Y` and
:math:`\frac1m\|\mu(b)1^\top\|^2 = \|\mu(b)\|^2 \approx n_1\,\mathbb E_\beta\mu(\beta)^2`, the
leading-order location of the one outlier of :math:`M`.

References
----------
.. [PS] V. Piccolo and D. Schröder, "Analysis of one-hidden-layer neural networks via the resolvent
   method", NeurIPS 2021, arXiv:2105.05115 (model with additive rank-one bias; the key finding that
   no activation is isospectral with bias).
.. [Stein] C. Stein, Ann. Statist. 9 (1981), Lemma 1.
"""

from dataclasses import dataclass, field

import mpmath
import sympy
from sympy import Symbol

from nrmt.theory.activations import Activation, X, as_activation
from nrmt.theory.digits import returns_digits
from nrmt.theory.gaussian import Z, gaussian_expectation

__all__ = [
    "BETA",
    "BiasConstants",
    "AveragedConstants",
    "bias_constants",
    "bias_functions",
    "averaged_constants",
    "slope_curve",
    "BiasProfileMP",
    "gauss_hermite",
    "trapezoid_gauss_rule",
    "float_profile",
]

#: The symbol of the bias value in closed forms.
BETA = Symbol("beta", real=True)

_GUARD = 10

#: bits the float path's trapezoid rule in β is tuned for (:func:`float_profile`): twice float
#: resolution, so that an integrand analytic only in a strip of half-width 1/2 still gets ~1e-16
#: (ReLU, σ_b = 1, φ = 0.5, ψ = 2 at x = 0.3: 1.3e-7 with 53 bits, 2.6e-11 with 80, 5e-15 with
#: 106, against the mpmath path)
FLOAT_RULE_BITS = 106


def _sym(v):
    """A numeric shift as a sympy number (mpf → sympy Float at the working precision): works around
    ``to_sympy_number`` dropping the sign of a negative mpf (reported to engineer A)."""
    if isinstance(v, mpmath.mpf):
        digits = max(mpmath.mp.dps, 15) + 5
        return sympy.Float(mpmath.nstr(v, digits, strip_zeros=False), digits)
    return v


def _square(act):
    if act.expr is not None:
        return Activation(act.expr ** 2)
    f = act.mp_function()
    return Activation(lambda x: f(x) ** 2)


def _check_sigma(sigma, name="sigma"):
    try:
        value = mpmath.mpf(sigma) if not isinstance(sigma, sympy.Basic) else sigma
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {sigma!r}") from None
    if not isinstance(value, sympy.Basic) and not value > 0:
        raise ValueError(f"{name} must be > 0, got {sigma}")
    return sigma


@dataclass(frozen=True)
class BiasConstants:
    """The constants of f(· + β) at one bias value (module docstring).

    Attributes
    ----------
    beta, sigma : numbers
    dps : int
    mean, second_moment, slope, theta1, theta2 : mpf
        μ(β), E f(σξ+β)², c(β) = E f′(σξ+β), θ1(β), θ2(β) = σ² c(β)².
    exact : dict
        Closed forms (sympy, in numbers) where the exact engine found them, else None.
    """

    beta: object
    sigma: object
    dps: int
    mean: object
    second_moment: object
    slope: object
    theta1: object
    theta2: object
    exact: dict = field(default_factory=dict)


def _expect(act, sigma, shift, dps, exact, weight=None):
    r = gaussian_expectation(act, sigma=_sym(sigma), shift=_sym(shift), dps=dps + _GUARD,
                             exact=exact, weight=weight)
    return r.value, r.exact


@returns_digits
def bias_constants(activation, beta, sigma=1, dps=15, exact=True):
    r"""μ(β), θ1(β), c(β) and θ2(β) at one bias value, to ``dps`` digits (exact when possible).

    Parameters
    ----------
    activation : Activation, str, sympy.Expr or callable
    beta : number
        The bias value β.
    sigma : number > 0
        Standard deviation of the weight part of the pre-activation (σ_w σ_x at layer 1).
    dps : int
    exact : bool
        Try closed forms first (A's exact engine).

    Returns
    -------
    BiasConstants

    Notes
    -----
    .. math:: c(\beta) = \mathbb E[\xi f(\sigma\xi+\beta)]/\sigma, \quad
              \theta_2(\beta) = \sigma^2 c(\beta)^2 \quad (\text{Stein's lemma})

    Examples
    --------
    >>> k = bias_constants("relu", 0)            # ReLU at beta = 0: c = 1/2, theta2 = 1/4
    >>> k.slope, k.theta2
    (mpf('0.5'), mpf('0.25'))
    >>> k = bias_constants("abs(x)", 1, dps=20)  # c(beta) = 2 Phi(beta) - 1 = erf(1/sqrt 2)
    >>> mpmath.nstr(k.slope, 15)
    '0.682689492137086'
    """
    act = as_activation(activation)
    _check_sigma(sigma)
    with mpmath.workdps(dps + _GUARD):
        mu, mu_x = _expect(act, sigma, beta, dps, exact)
        m2, m2_x = _expect(_square(act), sigma, beta, dps, exact)
        st, st_x = _expect(act, sigma, beta, dps, exact, weight=Z)
        sig = mpmath.mpf(sigma) if not isinstance(sigma, sympy.Basic) else mpmath.mpf(sympy.N(sigma, dps + _GUARD))
        slope = st / sig
        theta1 = m2 - mu ** 2
        theta2 = st ** 2
    closed = {
        "mean": mu_x, "second_moment": m2_x,
        "slope": None if st_x is None else sympy.simplify(st_x / sympy.sympify(sigma)),
        "theta1": None if (mu_x is None or m2_x is None) else sympy.simplify(m2_x - mu_x ** 2),
        "theta2": None if st_x is None else sympy.expand(st_x ** 2),
    }
    with mpmath.workdps(dps):
        return BiasConstants(beta, sigma, dps, +mu, +m2, +slope, +theta1, +theta2, closed)


def bias_functions(activation, sigma=1):
    r"""Closed forms of μ(β), E f², c(β), θ1(β), θ2(β) as sympy expressions in :data:`BETA`.

    Entries are ``None`` where the exact engine finds no closed form (use :func:`bias_constants`
    numerically then).

    Examples
    --------
    >>> fs = bias_functions("relu")
    >>> sympy.simplify(fs["slope"] - (1 + sympy.erf(BETA / sympy.sqrt(2))) / 2)
    0
    """
    act = as_activation(activation)
    out = {}
    for key, a, w in (("mean", act, None), ("second_moment", _square(act), None), ("stein", act, Z)):
        try:
            r = gaussian_expectation(a, sigma=sigma, shift=BETA, dps=15, exact=True, weight=w)
            out[key] = r.exact
        except Exception:  # no closed form with a symbolic shift
            out[key] = None
    s = sympy.sympify(sigma)
    out["slope"] = None if out["stein"] is None else sympy.simplify(out["stein"] / s)
    out["theta1"] = (None if out["mean"] is None or out["second_moment"] is None
                     else sympy.simplify(out["second_moment"] - out["mean"] ** 2))
    out["theta2"] = None if out["stein"] is None else sympy.simplify(out["stein"] ** 2)
    out.pop("stein")
    return out


class BiasProfileMP:
    r"""β ↦ (μ(β), θ1(β), c(β)², s(β)²) at mpmath precision, memoised per node and precision.

    Used for the averages :math:`\mathbb E_\beta\, g(c^2, s^2)` over :math:`\beta\sim N(0,
    \sigma_b^2)` by ``mpmath.quad`` (tanh-sinh on ]-∞, 0] and [0, ∞[): the nodes repeat from one
    call to the next at the same precision, so each node's two Gaussian quadratures run once.

    Parameters
    ----------
    activation : Activation or spec
    sigma : number > 0
        Weight part of the pre-activation standard deviation.
    sigma_b : number >= 0
    """

    def __init__(self, activation, sigma, sigma_b):
        self.act = as_activation(activation)
        self.sq = _square(self.act)
        self.sigma = sigma
        self.sigma_b = sigma_b
        self._memo = {}

    def _closed_forms(self):
        """μ(β), E f(σξ+β)² and c(β) as mpmath functions of (β, σ) from the exact engine's closed
        forms at symbolic β and σ (:func:`bias_functions`), or None when one is missing."""
        if not hasattr(self, "_closed"):
            self._closed = None
            if self.act.expr is not None:
                sig = Symbol("sigma", positive=True)
                try:
                    fs = bias_functions(self.act, sig)
                except Exception:  # noqa: BLE001 - no closed form: quadrature per node
                    fs = {}
                keys = ("mean", "second_moment", "slope")
                if all(fs.get(k) is not None for k in keys):
                    self._closed = [sympy.lambdify((BETA, sig), fs[k], modules="mpmath") for k in keys]
        return self._closed

    def at(self, beta, prec=None):
        """(μ, θ1, c², s²) at one β (mpf), to ``prec`` bits (default: the current precision):
        from the closed forms with 40 guard bits (θ1 = E f² − μ² cancels in the tails), else
        by a Gaussian quadrature per node."""
        prec = prec or mpmath.mp.prec
        key = (prec, beta)
        closed = self._closed_forms() if key not in self._memo else None
        if closed is not None:
            with mpmath.workprec(prec + 40):
                sig = mpmath.mpf(self.sigma)
                mu, m2, slope = (mpmath.mpf(mpmath.re(fn(beta, sig))) for fn in closed)
                theta1 = m2 - mu ** 2
                c2 = slope ** 2
                s2 = max(theta1 - sig ** 2 * c2, mpmath.mpf(0))
            self._memo[key] = (mu, theta1, c2, s2)
        if key not in self._memo:
            with mpmath.workprec(prec):
                dps = mpmath.mp.dps
                mu = _robust(self.act, self.sigma, beta, dps)
                m2 = _robust(self.sq, self.sigma, beta, dps)
                st = _robust(self.act, self.sigma, beta, dps, weight=Z)
                sig2 = mpmath.mpf(self.sigma) ** 2
                theta1 = m2 - mu ** 2
                c2 = st ** 2 / sig2
                s2 = max(theta1 - st ** 2, mpmath.mpf(0))
            self._memo[key] = (mu, theta1, c2, s2)
        return self._memo[key]

    def average(self, g, prec=None):
        r""":math:`\mathbb E_\beta\, g(\mu, \theta_1, c^2, s^2)` at the current precision, the
        profile values to ``prec`` bits (default: the current precision).

        The trapezoid rule in :math:`t = \beta/\sigma_b` with step
        :math:`h = 2\pi/(p\ln 2)` on :math:`|t| \le \sqrt{2p\ln 2} + 1` (p = ``prec``):
        for an integrand analytic in the strip :math:`|\operatorname{Im} t| < d` its error is
        :math:`O(e^{-2\pi d/h}) = O(2^{-p d})` (Trefethen & Weideman, SIAM Rev. 56 (2014),
        Thm. 5.1), and the truncated Gaussian tail is below :math:`2^{-p}`. The rule depends on
        the precision, so the Law's two-precision check also checks the rule (d ≥ 1 gives every
        digit; a smaller d shows up as a disagreement and more guard digits).
        """
        sb = mpmath.mpf(self.sigma_b)
        prec = prec or mpmath.mp.prec
        if sb == 0:
            return g(*self.at(mpmath.mpf(0), prec))
        ws, vals = self._nodes(prec)
        return mpmath.fsum(w * g(*v) for w, v in zip(ws, vals))

    def _nodes(self, prec):
        """Weights and profile values (μ, θ1, c², s²) of the β rule at ``prec`` bits: the lattice
        table (:meth:`_lattice`) for an analytic f without closed forms, else the trapezoid rule
        of :func:`trapezoid_gauss_rule` with the values node by node (:meth:`at`)."""
        table = self._lattice(prec) if self._closed_forms() is None else None
        if table is not None:
            return table[0], table[1]
        ts, ws = trapezoid_gauss_rule(prec)
        sb = mpmath.mpf(self.sigma_b)
        return ws, [self.at(sb * t, prec) for t in ts]

    def alpha_tau(self, e0, e1, prec=None, derivatives=False):
        r"""The pair :math:`\mathbb E_\beta\, c^2/(1 + c^2e_1 + s^2e_0)`,
        :math:`\mathbb E_\beta\, s^2/(1 + c^2e_1 + s^2e_0)` at mpc ``e0``, ``e1`` (the averages the
        law's system needs at every residual) over the nodes of the β rule (:meth:`_nodes`), in
        fixed-point integer arithmetic with the working precision plus 40 bits (an absolute
        error of about :math:`2^{-p-40}` per node; the sums have positive weights): about
        2.5 times faster than python-flint ``acb`` and 15 times faster than mpmath ``mpc``
        arithmetic. ``None`` without a bias. With ``derivatives``, also
        :math:`\partial_{e_0}\alpha = -\mathbb E\,c^2s^2/(1+\delta)^2`,
        :math:`\partial_{e_1}\alpha = -\mathbb E\,c^4/(1+\delta)^2`,
        :math:`\partial_{e_0}\tau = -\mathbb E\,s^4/(1+\delta)^2`,
        :math:`\partial_{e_1}\tau = -\mathbb E\,c^2s^2/(1+\delta)^2` (δ = c²e1 + s²e0), from the
        same loop: (α, τ, ∂α/∂e0, ∂α/∂e1, ∂τ/∂e0, ∂τ/∂e1)."""
        prec = prec or mpmath.mp.prec
        if mpmath.mpf(self.sigma_b) == 0:
            return None
        P = mpmath.mp.prec + 40
        key = ("fixed", prec, P)
        memo = self.__dict__.setdefault("_tables", {})
        if key not in memo:
            ws, vals = self._nodes(prec)
            rows = []
            for w, (_mu, _t1, c2, s2) in zip(ws, vals):
                rows.append((_fix(w * c2, P), _fix(w * s2, P), _fix(c2, P), _fix(s2, P),
                             _fix(w * c2 * c2, P), _fix(w * c2 * s2, P), _fix(w * s2 * s2, P)))
            memo[key] = rows
        e0, e1 = mpmath.mpc(e0), mpmath.mpc(e1)
        e0r, e0i, e1r, e1i = (_fix(v, P) for v in (e0.real, e0.imag, e1.real, e1.imag))
        one = 1 << P
        two = 2 * P
        ar = ai = tr = ti = 0
        if not derivatives:
            for wc, wsq, c2, s2, _cc, _cs, _ss in memo[key]:
                dr = one + ((c2 * e1r + s2 * e0r) >> P)
                di = (c2 * e1i + s2 * e0i) >> P
                m = dr * dr + di * di
                ir = (dr << two) // m              # 1/(1 + delta) = conj / |.|^2, scaled 2^P
                ii = -((di << two) // m)
                ar += wc * ir
                ai += wc * ii
                tr += wsq * ir
                ti += wsq * ii
            return (mpmath.mpc(_unfix(ar, two), _unfix(ai, two)),
                    mpmath.mpc(_unfix(tr, two), _unfix(ti, two)))
        ccr = cci = csr = csi = ssr = ssi = 0
        for wc, wsq, c2, s2, wcc, wcs, wss in memo[key]:
            dr = one + ((c2 * e1r + s2 * e0r) >> P)
            di = (c2 * e1i + s2 * e0i) >> P
            m = dr * dr + di * di
            ir = (dr << two) // m
            ii = -((di << two) // m)
            ar += wc * ir
            ai += wc * ii
            tr += wsq * ir
            ti += wsq * ii
            qr = (ir * ir - ii * ii) >> P          # 1/(1 + delta)^2, scaled 2^P
            qi = (2 * ir * ii) >> P
            ccr += wcc * qr
            cci += wcc * qi
            csr += wcs * qr
            csi += wcs * qi
            ssr += wss * qr
            ssi += wss * qi

        def c(re, im, sign=1):
            return mpmath.mpc(_unfix(sign * re, two), _unfix(sign * im, two))

        cs = c(csr, csi, -1)
        return c(ar, ai), c(tr, ti), cs, c(ccr, cci, -1), c(ssr, ssi, -1), cs

    def _lattice(self, prec):
        r"""The profile at every node of a β rule, all at once, for an analytic f without closed
        forms (``None`` otherwise, or when the rule's check fails: then node by node).

        Both averages are trapezoid rules on one lattice :math:`u_m = m\delta` of
        pre-activation values: :math:`\sigma x_j = j\delta` for the Gaussian average in ξ at a
        node and :math:`\beta_k = k r\delta` for the nodes in β, so
        :math:`\mathbb E f(\sigma\xi+\beta_k)\approx\sum_j v_j f((j + kr)\delta)` needs f only on
        the lattice (a few thousand points instead of three quadratures per node), and the sums
        over j for all k at once are one exact integer convolution (a ``flint.fmpz_poly``
        product of fixed-point values). Step :math:`\delta = \pi/(p\ln 2)` with p = ``prec`` + 40
        bits (θ1 = E f² − μ² cancels in the tails): for f analytic in the strip
        :math:`|\operatorname{Im} u| < d` the rule in ξ errs by :math:`O(2^{-2dp})` (Trefethen &
        Weideman, SIAM Rev. 56 (2014), Thm. 5.1), every digit for d ≥ 1/2 (tanh: d = π/2). The
        error is checked a posteriori, not assumed: the rule of step 2δ (every other lattice
        point) errs by about the square root of the δ rule's error, so their difference below
        :math:`2^{-p/2}` of the scale puts the δ rule's error near :math:`2^{-p}`; otherwise δ
        is halved (twice at most, then node by node). The β rule has step
        :math:`r\delta/\sigma_b \le \pi/(p\ln 2)` (a strip of half-width 1/2 in β, as
        :data:`FLOAT_RULE_BITS`) and is checked by the law's two-precision check.
        """
        memo = self.__dict__.setdefault("_tables", {})
        prec = -(-prec // 32) * 32        # nearby precisions (points near an edge) share a table
        if prec not in memo:
            memo[prec] = None
            if self._analytic():
                for halvings in range(3):
                    memo[prec] = _lattice_table(self._f_mp, mpmath.mpf(self.sigma),
                                                mpmath.mpf(self.sigma_b), prec + 40, 2 ** halvings)
                    if memo[prec] is not None:
                        break
        return memo[prec]

    def _analytic(self):
        """Whether f is a closed expression analytic near the real axis: no kinks, no Dirac
        delta, and :func:`nrmt.numerics.certified_constants.holomorphic` accepts it (it refuses
        ``Abs``, ``Max``, ``Piecewise``, ``sign``, … and functions without a ball form)."""
        if not hasattr(self, "_is_analytic"):
            self._is_analytic = False
            if self.act.expr is not None and not self.act.parameters:
                from nrmt.numerics.certified_constants import holomorphic

                try:
                    self._f_mp = holomorphic(self.act.expr)
                    self._is_analytic = not self.act.kinks and not self.act.has_delta
                except Exception:  # noqa: BLE001 - not analytic or no ball form: node by node
                    self._is_analytic = False
        return self._is_analytic


def _fix(v, shift):
    """The integer floor(v 2^shift) of an mpf (from its mantissa and exponent: no rounding of
    v itself)."""
    sign, man, exp, _bc = mpmath.mpf(v)._mpf_
    k = exp + shift
    r = man << k if k >= 0 else man >> -k
    return -r if sign else r


def _unfix(n, shift):
    """n 2^-shift as an mpf at the current precision."""
    return +mpmath.mpf((n, -shift)) if n else mpmath.mpf(0)


def _arb_fix(a, shift):
    """floor(mid(a) 2^shift) as a Python int (a python-flint arb)."""
    man, exp = a.mid().man_exp()
    man, k = int(man), int(exp) + shift
    return man << k if k >= 0 else man >> -k


def _lattice_table(f, sigma, sigma_b, p, refine):
    """β weights, (μ, θ1, c², s²) at the β nodes of one lattice (:meth:`BiasProfileMP._lattice`)
    to ``p`` bits, and the nodes β_k; ``None`` when the rule in ξ fails its check.

    ``f`` is the activation compiled for python-flint balls
    (:func:`nrmt.numerics.certified_constants.holomorphic`): the lattice values, the Gaussian
    weights and the fixed-point integers come from arb arithmetic at ``p`` + 20 bits."""
    from flint import acb, arb, ctx

    from nrmt.numerics.certified_constants import mpf_to_arb

    with mpmath.workprec(p + 20), ctx.workprec(p + 20):
        ln2p = p * mpmath.ln2
        delta = mpmath.pi / ln2p / refine
        r = max(1, int(mpmath.floor(sigma_b * refine)))          # β step r δ / σ_b <= π/(p ln 2)
        tail = mpmath.sqrt(2 * ln2p) + 2
        K = int(tail * sigma_b / (r * delta)) + 1                 # β nodes k r δ, |k| <= K
        d_arb = mpf_to_arb(delta)                                 # the lattice step, exactly

        def fv(m):
            v = f(acb(d_arb * m), False)
            return v.real

        # ξ nodes j δ / σ, |j| <= J: the Gaussian tail times the size of f there below 2^-p
        # (the size first from 65 samples of f over the range, then checked on the lattice)
        reach = float((tail + 8) * sigma + K * r * delta)
        big = max(abs(float(fv(int(reach * (k - 32) / 32 / float(delta))).mid())) for k in range(65)) + 1
        J = int((mpmath.sqrt(2 * (ln2p + mpmath.log(big))) + 2) * sigma / delta) + 1
        for _ in range(4):
            M = J + K * r
            F = [fv(m) for m in range(-M, M + 1)]
            if not all(v.is_finite() for v in F):
                return None
            big = max(abs(float(v.mid())) for v in F) + 1
            need = mpmath.sqrt(2 * (ln2p + mpmath.log(big))) + 2
            if need <= J * delta / sigma:
                break
            J = int(need * sigma / delta) + 1
        else:
            return None
        # fixed point: F with SF fractional bits, F^2 with SF2, the weights with SW
        eb = int(mpmath.ceil(mpmath.log(big, 2))) + 1
        SF, SF2, SW = p + 20 - eb, p + 20 - 2 * eb, p + 22
        Fi = [_arb_fix(v, SF) for v in F]
        F2i = [(v * v) >> (2 * SF - SF2) if 2 * SF >= SF2 else (v * v) << (SF2 - 2 * SF) for v in Fi]
        s_arb = mpf_to_arb(sigma)
        xs = [d_arb * j / s_arb for j in range(-J, J + 1)]
        gw = [(-(x * x) / 2).exp() for x in xs]
        at = [M + k * r for k in range(-K, K + 1)]
        rules = []
        for keep in (lambda j: True, lambda j: j % 2 == 0):     # steps δ and 2δ
            w = [g if keep(j) else arb(0) for j, g in zip(range(-J, J + 1), gw)]
            tot = sum(w, arb(0))
            v = [_arb_fix(t / tot, SW) for t in w]
            vx = [_arb_fix(t * x / tot, SW) for t, x in zip(w, xs)]
            rules.append([_correlate_int(v, Fi, at, SW + SF), _correlate_int(v, F2i, at, SW + SF2),
                          _correlate_int(vx, Fi, at, SW + SF)])
        for fine, coarse in zip(*rules):
            scale = max(abs(t) for t in fine) + 1
            if max(abs(s - t) for s, t in zip(fine, coarse)) > mpmath.ldexp(scale, -(p // 2)):
                return None
        ts = [k * r * delta / sigma_b for k in range(-K, K + 1)]
        bw = [mpmath.exp(-t * t / 2) for t in ts]
        tot = mpmath.fsum(bw)
        sig2 = sigma * sigma
        vals = []
        for mu, m2, st in zip(*rules[0]):
            theta1 = m2 - mu * mu
            vals.append((mu, theta1, st * st / sig2, max(theta1 - st * st, mpmath.mpf(0))))
    with mpmath.workprec(p):
        return ([+(w / tot) for w in bw], [tuple(+t for t in v) for v in vals],
                [+(t * sigma_b) for t in ts])


def _correlate_int(v, F, at, shift):
    r""":math:`s_n = 2^{-shift}\sum_{j=-J}^{J} v_j F_{n+j}` at the lattice indices ``at`` (v listed
    for j = -J..J, F over the whole lattice, both fixed-point integers) as mpf, by one exact
    product of integer polynomials (``flint.fmpz_poly``)."""
    from flint import fmpz_poly

    J = (len(v) - 1) // 2
    c = (fmpz_poly(v[::-1]) * fmpz_poly(F)).coeffs()     # a_i = v_{J-i}: the product correlates
    # coefficient n + J of the product is sum_j v_j F_{n+j}
    return [_unfix(int(c[n + J]) if n + J < len(c) else 0, shift) for n in at]


def trapezoid_gauss_rule(prec):
    r"""Nodes and weights of the trapezoid rule for :math:`\mathbb E\,g(t)`, :math:`t\sim N(0,1)`,
    tuned to ``prec`` bits (:meth:`BiasProfileMP.average`), the weights normalised to sum 1.

    >>> ts, ws = trapezoid_gauss_rule(100)
    >>> mpmath.nstr(mpmath.fsum(w * t**4 for t, w in zip(ts, ws)), 20)
    '3.0'
    """
    key = (prec, mpmath.mp.prec)
    if key not in _TRAP_CACHE:
        with mpmath.workprec(prec + 20):
            p = mpmath.mpf(prec) * mpmath.ln2
            h = 2 * mpmath.pi / p
            T = mpmath.sqrt(2 * p) + 1
            n = int(T / h) + 1
            ts = [h * k for k in range(-n, n + 1)]
            ws = [mpmath.exp(-t * t / 2) for t in ts]
            tot = mpmath.fsum(ws)
            ws = [w / tot for w in ws]
        _TRAP_CACHE[key] = ([+t for t in ts], [+w for w in ws])
    return _TRAP_CACHE[key]


_TRAP_CACHE = {}


def gauss_hermite(n):
    r"""Nodes and weights of the n-point Gauss–Hermite rule for :math:`N(0,1)` (weights sum to 1),
    at the current mpmath precision: numpy's float nodes refined by Newton on :math:`He_n`.

    >>> xs, ws = gauss_hermite(5)
    >>> mpmath.nstr(mpmath.fsum(w * x**4 for x, w in zip(xs, ws)), 15)
    '3.0'
    """
    import numpy as np

    key = (n, mpmath.mp.prec)
    if key in _GH_CACHE:
        return _GH_CACHE[key]
    x0, _ = np.polynomial.hermite_e.hermegauss(n)

    def he(x):
        p0, p1 = mpmath.mpf(1), x
        for k in range(1, n):
            p0, p1 = p1, x * p1 - k * p0
        return p1, p0          # He_n, He_{n-1}

    xs, ws = [], []
    eps = mpmath.mpf(2) ** (-mpmath.mp.prec + 6)
    for v in x0:
        x = mpmath.mpf(float(v))
        for _ in range(100):
            pn, pm = he(x)
            dx = pn / (n * pm)
            x -= dx
            if abs(dx) <= eps * (1 + abs(x)):
                break
        pn, pm = he(x)
        xs.append(x)
        ws.append(mpmath.factorial(n - 1) / (n * pm ** 2))
    _GH_CACHE[key] = (xs, ws)
    return xs, ws


_GH_CACHE = {}


def _robust(act, sigma, beta, dps, weight=None):
    """E[weight f(σξ+β)] to ``dps`` digits, or — for a tiny value at a far node, where a relative
    criterion cannot be met — to fewer digits (its absolute error stays far below the node's
    Gaussian weight)."""
    from nrmt.theory.errors import NoConvergence

    d = dps
    while True:
        try:
            return gaussian_expectation(act, sigma=_sym(sigma), shift=_sym(beta), dps=d,
                                        exact=False, weight=weight).value
        except NoConvergence:
            if d <= 8:
                raise
            d = max(8, d // 2)


@dataclass(frozen=True)
class AveragedConstants:
    r"""Averages over :math:`\beta\sim N(0,\sigma_b^2)` (module docstring).

    Attributes
    ----------
    theta1, theta2 : mpf
        :math:`\bar\theta_1 = \mathbb E\theta_1(\beta)`, :math:`\bar\theta_2 = \mathbb E\theta_2(\beta)`.
    theta1_sq : mpf
        :math:`\mathbb E\theta_1(\beta)^2` (the profile's spread: ≥ θ̄1², equal iff θ1(β) is constant).
    mean_square : mpf
        :math:`\mathbb E\mu(\beta)^2` (outlier location per row, see the module docstring).
    """

    sigma: object
    sigma_b: object
    dps: int
    theta1: object
    theta2: object
    theta1_sq: object
    mean_square: object


@returns_digits
def averaged_constants(activation, sigma=1, sigma_b=1, dps=15):
    r"""The constants averaged over the bias law, to ``dps`` digits (``mpmath.quad`` in β).

    Examples
    --------
    >>> a = averaged_constants("x**3 - 3*x", sigma=1, sigma_b=0)   # no bias: theta2 = 0
    >>> a.theta1, a.theta2
    (mpf('6.0'), mpf('0.0'))
    >>> a = averaged_constants("abs(x)", sigma=1, sigma_b=1)        # E theta1 = 2 - E mu^2 < 2
    >>> bool(a.theta2 > 0 and a.theta1 < 2)
    True
    """
    _check_sigma(sigma)
    if not float(sigma_b) >= 0:
        raise ValueError(f"sigma_b must be >= 0, got {sigma_b}")
    if float(sigma_b) == 0:
        from nrmt.theory.constants import constants

        k = constants(activation, sigma=sigma, dps=dps)
        with mpmath.workdps(dps):
            return AveragedConstants(sigma, sigma_b, dps, k.theta1, k.theta2, +k.theta1 ** 2,
                                     +k.mean ** 2)
    if dps <= 15:
        return _averaged_float(activation, sigma, sigma_b, dps)
    prof = BiasProfileMP(activation, sigma, sigma_b)
    with mpmath.workdps(dps + _GUARD):
        sig2 = mpmath.mpf(sigma) ** 2
        t1 = prof.average(lambda mu, th1, c2, s2: th1)
        t2 = prof.average(lambda mu, th1, c2, s2: sig2 * c2)
        t1sq = prof.average(lambda mu, th1, c2, s2: th1 ** 2)
        ms = prof.average(lambda mu, th1, c2, s2: mu ** 2)
    with mpmath.workdps(dps):
        return AveragedConstants(sigma, sigma_b, dps, +t1, +t2, +t1sq, +ms)


def _averaged_float(activation, sigma, sigma_b, dps, nodes=80):
    """Float path of :func:`averaged_constants` (Gauss–Hermite in β, float Gaussian expectations)."""
    import numpy as np

    from nrmt.theory.gaussian import gaussian_expectation_float

    act = as_activation(activation)
    prof = float_profile(act, float(sigma) ** 2, float(sigma_b), nodes=nodes)
    t1 = float((prof["weights"] * prof["theta1"]).sum())
    t2 = float((prof["weights"] * prof["c2"]).sum()) * float(sigma) ** 2
    t1sq = float((prof["weights"] * prof["theta1"] ** 2).sum())
    ms = float((prof["weights"] * prof["mean"] ** 2).sum())
    with mpmath.workdps(dps):
        return AveragedConstants(sigma, sigma_b, dps, +mpmath.mpf(t1), +mpmath.mpf(t2),
                                 +mpmath.mpf(t1sq), +mpmath.mpf(ms))


def float_profile(activation, q, sigma_b, nodes=None):
    r"""Float64 profile at the nodes of a rule in β: dict of ndarrays ``beta, weights, mean,
    theta1, c2, s2`` (c² = c(β)², s² = θ1(β) − q c(β)²). The rule: ``nodes=None`` the trapezoid
    rule of :func:`trapezoid_gauss_rule` at 106 bits (:data:`FLOAT_RULE_BITS`; ~200 nodes above
    float resolution of the weights; error ~2^(-106 d) for an integrand analytic in a strip of
    half-width d in β/σ_b: the bias law's integrand 1/(1 + c²e1 + s²e0) has d well below 1 near
    the soft zero of ReLU, where the 53-bit rule was off by 1e-7 and this one by 5e-15), an int the Gauss–Hermite rule with that many
    nodes (its error decays only like exp(-c sqrt(nodes)) for such integrands: ~1e-6 at 64 nodes
    for the bias law of ReLU at σ_b = 1). Values from
    :func:`nrmt.theory.gaussian.gaussian_expectation_float` (kinks split). Without bias one node.

    >>> p = float_profile("relu", 1.0, 0.0)
    >>> round(float(p["c2"][0]), 12), round(float(p["theta1"][0]), 12) == round(0.5 - 1 / (2 * 3.141592653589793), 12)
    (0.25, True)
    """
    import numpy as np

    from nrmt.theory.gaussian import gaussian_expectation_float

    act = as_activation(activation)
    if float(sigma_b) > 0 and nodes is None:
        ts, ws = trapezoid_gauss_rule(FLOAT_RULE_BITS)
        w = np.array([float(v) for v in ws])
        betas = float(sigma_b) * np.array([float(t) for t in ts])
    elif float(sigma_b) > 0:
        x, w = np.polynomial.hermite_e.hermegauss(nodes)
        w = w / w.sum()
        betas = float(sigma_b) * x
    else:
        betas, w = np.zeros(1), np.ones(1)
    s = float(q) ** 0.5
    if act.expr is not None:
        f_sq = Activation(act.expr ** 2)
        f_x = Activation(X * act.expr)
    else:
        fn = act.numpy_function()
        f_sq = lambda u: fn(u) ** 2  # noqa: E731
        f_x = lambda u: u * fn(u)  # noqa: E731
    ev = act if act.expr is not None else act.numpy_function()
    mu = np.atleast_1d(gaussian_expectation_float(ev, s, betas))
    m2 = np.atleast_1d(gaussian_expectation_float(f_sq, s, betas))
    xf = np.atleast_1d(gaussian_expectation_float(f_x, s, betas))
    c = (xf - betas * mu) / float(q)           # E[Z f(sZ+b)]/s = (E[x f] - b E f)/s^2
    theta1 = m2 - mu ** 2
    s2 = np.maximum(theta1 - float(q) * c ** 2, 0.0)
    return {"beta": betas, "weights": w, "mean": mu, "theta1": theta1, "c2": c ** 2, "s2": s2}


@returns_digits
def slope_curve(activation, betas, sigma=1, dps=15, exact=False):
    r"""c(β) = E f′(σξ + β) on a list of β values (the bias isospectrality evidence).

    Examples
    --------
    >>> [mpmath.nstr(c, 6) for c in slope_curve("abs(x)", [-1, 0, 1])]
    ['-0.682689', '0.0', '0.682689']
    """
    act = as_activation(activation)
    out = []
    with mpmath.workdps(dps + _GUARD):
        sig = mpmath.mpf(sigma)
        for b in betas:
            st = gaussian_expectation(act, sigma=_sym(sigma), shift=_sym(b), dps=dps + _GUARD,
                                      exact=exact, weight=Z).value
            out.append(st / sig)
    with mpmath.workdps(dps):
        return [+v for v in out]
