r"""Several layers (bias optional): activation, ratios → per-layer constants, Law, sampler.

``Layers(activation, phi, psi=[ψ1, ..., ψL], sigma_w=1, sigma_x=1, sigma_b=0)`` models
:math:`Y_0 = X`, :math:`Y_\ell = f(W_\ell Y_{\ell-1} + b_\ell 1^\top) - \mu_\ell(b_\ell)` with
φ = n0/m, ψ_ℓ = n_{ℓ−1}/n_ℓ, :math:`W_\ell` entries of variance :math:`\sigma_w^2/n_{\ell-1}`, X
entries of variance :math:`\sigma_x^2`, :math:`b_\ell` iid :math:`N(0,\sigma_b^2)` (issue 6, point 4),
and :math:`M = \frac1m Y_LY_L^\top`. The variance of :math:`W_\ell Y_{\ell-1}` is
:math:`q_1 = \sigma_w^2\sigma_x^2`, :math:`q_{\ell+1} = \sigma_w^2\bar\theta_1^{(\ell)}` (the
bias adds :math:`\sigma_b^2` to the pre-activation variance, reported as ``q_total``). The law is
:class:`nrmt.numerics.layers_law.LayersLaw` (Fan–Wang's recursion, with the bias profile of
:mod:`nrmt.theory.bias`); the sampler is :func:`nrmt.numerics.sampling.sample_gram`, which follows
the same conventions.

Examples
--------
>>> import math
>>> model = Layers("abs(x)", phi=0.5, psi=[1, 1])    # |x| is even: theta2 = 0 at every layer
>>> t1 = (1 - 2 / math.pi) ** 2                      # theta1 after two layers (sigma_w = sigma_x = 1)
>>> lo, hi = model.law().support[0]                  # Marchenko-Pastur, ratio n_L/m = 1/2
>>> abs(lo - t1 * (1 - 0.5 ** 0.5) ** 2) < 1e-9, abs(hi - t1 * (1 + 0.5 ** 0.5) ** 2) < 1e-9
(True, True)
"""

import math

import mpmath
import numpy as np
import sympy as sp

from nrmt.numerics.layers_law import LayersLaw, Profile
from nrmt.theory.activations import as_activation
from nrmt.theory.bias import BiasProfileMP, float_profile

__all__ = ["Layers", "check_psi_list"]

_MP_EXTRA = 40   # digits of the constants behind an mp law (guard digits of the Law, doubled)


def _ratio(name, value):
    """A ratio > 0 within the range the laws are computed in
    (:func:`nrmt.models.one_layer.check_range`)."""
    from nrmt.models.one_layer import check_range

    return check_range(name, _positive(name, value))


def _positive(name, value, allow_zero=False):
    """A ratio or scale as an exact sympy number (:func:`nrmt.theory.exact.exact_parameter`:
    strings as written, floats by their exact binary value), > 0 (>= 0 with ``allow_zero``)."""
    from nrmt.theory.exact import exact_parameter

    return exact_parameter(value, name, positive=not allow_zero, nonnegative=allow_zero)


def check_psi_list(psi):
    """ψ as a non-empty list of ratios > 0 (a single number means one layer).

    >>> check_psi_list(2)
    [2]
    """
    if isinstance(psi, (list, tuple)):
        if not psi:
            raise ValueError("psi must list at least one ratio (one per layer), got []")
        return [_ratio(f"psi[{i}]", p) for i, p in enumerate(psi)]
    return [_ratio("psi", psi)]


class Layers:
    r"""L layers with optional bias (module docstring).

    Parameters
    ----------
    activation : str, sympy expression, Activation or callable
    phi : float > 0
        φ = n0/m.
    psi : float or list of float > 0
        ψ_ℓ = n_{ℓ−1}/n_ℓ, one per layer.
    sigma_w, sigma_x : float > 0
    sigma_b : float >= 0
        Bias scale (0: no bias).
    nodes : int or None
        The rule in β of the float bias averages: None (default) the trapezoid rule of
        :func:`nrmt.theory.bias.trapezoid_gauss_rule` (~1e-9 or better), an int a Gauss–Hermite
        rule with that many nodes (slow convergence: ~1e-6 at 64 nodes for ReLU at σ_b = 1).
    """

    kind = "layers"

    def __init__(self, activation, phi, psi, *, sigma_w=1, sigma_x=1, sigma_b=0, nodes=None):
        self.activation = as_activation(activation)
        self.phi = _ratio("phi", phi)
        self.psi = check_psi_list(psi)
        self.sigma_w = _positive("sigma_w", sigma_w)
        self.sigma_x = _positive("sigma_x", sigma_x)
        self.sigma_b = _positive("sigma_b", sigma_b, allow_zero=True)
        if nodes is not None and (isinstance(nodes, bool) or not isinstance(nodes, int) or nodes < 4):
            raise ValueError(f"nodes must be an integer >= 4, got {nodes!r}")
        self.nodes = nodes
        self._laws = {}
        self._float = None
        self._mp = {}

    @property
    def depth(self):
        """Number of layers L."""
        return len(self.psi)

    def gammas(self):
        r""":math:`\gamma_\ell = m/n_\ell` for ℓ = 0..L (γ0 = 1/φ, γℓ = γℓ₋₁ ψℓ), exact when the
        ratios are."""
        g = [1 / sp.nsimplify(self.phi) if isinstance(self.phi, (int, sp.Basic)) else 1 / self.phi]
        for p in self.psi:
            g.append(g[-1] * p)
        return g

    # ------------------------------------------------------------ constants
    def _float_layers(self):
        """Per-layer float profiles and constants (cached)."""
        if self._float is None:
            out = []
            second = float(self.sigma_x) ** 2
            sw2 = float(self.sigma_w) ** 2
            for _ in range(self.depth):
                q = sw2 * second
                prof = float_profile(self.activation, q, float(self.sigma_b), nodes=self.nodes)
                w = prof["weights"]
                theta1 = float((w * prof["theta1"]).sum())
                theta2 = float((w * prof["c2"]).sum()) * q
                out.append({"q": q, "prof": prof, "theta1": theta1, "theta2": theta2})
                second = theta1
            self._float = out
        return self._float

    def _exact_scales(self):
        """σ_w² and σ_x² as exact sympy numbers (a float is taken as the binary number it is)."""
        from nrmt.theory.exact import exact_parameter

        return (exact_parameter(self.sigma_w, "sigma_w") ** 2,
                exact_parameter(self.sigma_x, "sigma_x") ** 2)

    def _mp_layers(self, dps):
        """Per-layer mp constants at ``dps`` digits. Without bias: the exact engine of
        nrmt.theory.constants at each layer's σ = √q_ℓ, q_ℓ kept as an exact sympy number while the
        constants have closed forms (so θ2 = 0 of an even f, θ1 = θ2 of a linear f and closed forms
        stay exact through the layers); each dict also holds ``theta2_zero`` and ``linear`` (facts
        from the exact engine: parity, an affine f, never a tolerance) and ``theta1_exact``."""
        if dps not in self._mp:
            from nrmt.theory.constants import _is_affine, constants

            out = []
            sw2_x, sx2_x = self._exact_scales()
            affine = _is_affine(self.activation)
            with mpmath.workdps(dps):
                q_x = sw2_x * sx2_x            # exact while the closed forms last, else None
                q = _to_mpf(q_x)
                for _ in range(self.depth):
                    if float(self.sigma_b) == 0:
                        sigma = sp.sqrt(q_x) if q_x is not None else mpmath.sqrt(q)
                        k = constants(self.activation, sigma=sigma, dps=dps)
                        t1_x, t2_x = k.exact.get("theta1"), k.exact.get("theta2")
                        theta2_zero = t2_x is not None and t2_x == 0
                        theta1 = k.theta1
                        theta2 = mpmath.mpf(0) if theta2_zero else k.theta2
                        if affine:
                            theta2 = theta1
                        out.append({"q": q, "theta1": theta1, "theta2": theta2, "bias": None,
                                    "theta2_zero": theta2_zero, "linear": affine,
                                    "theta1_exact": t1_x if _is_number(t1_x) else None})
                        q_x = sw2_x * t1_x if (q_x is not None and _is_number(t1_x)) else None
                    else:
                        bp = BiasProfileMP(self.activation, mpmath.sqrt(q), self.sigma_b)
                        theta1 = theta2 = None     # the law does not need them: on demand
                        if len(out) < self.depth - 1:
                            theta1 = bp.average(lambda mu, t1, c2, s2: t1)
                        out.append({"q": q, "theta1": theta1, "theta2": theta2, "bias": bp,
                                    "theta2_zero": False, "linear": affine, "theta1_exact": None})
                        q_x = None
                    if q_x is not None:
                        q = _to_mpf(q_x)
                    elif theta1 is not None:
                        q = _to_mpf(self._exact_scales()[0]) * theta1
            self._mp[dps] = out
        return self._mp[dps]

    def layer_constants(self, dps=15):
        """One dict per layer: ``q`` (variance of W_ℓ Y_{ℓ−1}), ``q_total`` (q + σ_b²), ``theta1``,
        ``theta2`` (averaged over the bias when σ_b > 0), ``theta2_over_theta1`` (Fan–Wang's b²)."""
        if dps <= 15:
            rows = [(d["q"], d["theta1"], d["theta2"]) for d in self._float_layers()]
            if float(self.sigma_b) == 0:
                # exact facts (parity, an affine f) override the quadrature: θ2 = 0 stays 0 and
                # θ2 = θ1 stays equal at every layer (issue 12, point 1), never a tolerance
                facts = self._mp_layers(15)
                rows = [(q, t1, 0.0 if f["theta2_zero"] else (t1 if f["linear"] else t2))
                        for (q, t1, t2), f in zip(rows, facts)]
        else:
            rows = []
            for d in self._mp_layers(dps):
                if d["bias"] is not None and d["theta2"] is None:
                    with mpmath.workdps(dps):
                        d["theta1"] = d["bias"].average(lambda mu, t1, c2, s2: t1)
                        d["theta2"] = d["q"] * d["bias"].average(lambda mu, t1, c2, s2: c2)
                rows.append((d["q"], d["theta1"], d["theta2"]))
        out = []
        sb2 = float(self.sigma_b) ** 2
        for q, t1, t2 in rows:
            out.append({"q": q, "q_total": q + sb2, "theta1": t1, "theta2": t2,
                        "theta2_over_theta1": t2 / t1 if t1 else None})
        return out

    def _profiles(self, dps):
        fl = self._float_layers()
        digits = max(dps, 15) + _MP_EXTRA
        profiles = []
        from nrmt.theory.constants import _is_affine

        biased = float(self.sigma_b) > 0
        facts = None if biased else self._mp_layers(15)
        for i, d in enumerate(fl):
            p = d["prof"]
            # by fact (parity, an affine f; nrmt.theory.constants), never by a tolerance
            linear_free = not biased and facts[i]["theta2_zero"]
            noise_free = _is_affine(self.activation)
            avg = _lazy_average(self, digits, i)
            c2 = np.zeros_like(p["c2"]) if linear_free else p["c2"]
            profiles.append(Profile(c2, p["s2"], p["weights"], q=d["q"], mp_average=avg,
                                    linear_free=linear_free, noise_free=noise_free))
        return profiles

    #: digits the float path (dps <= 15) delivers with a bias: the average over the bias uses the
    #: trapezoid rule in β tuned to 106 bits (:data:`nrmt.theory.bias.FLOAT_RULE_BITS`) and
    #: Newton to ~1e-15; against the mpmath path (ReLU, σ_b = 1, φ = 0.5, ψ = 2, x = 0.3, 0.5,
    #: 0.8): 5e-15, 2e-16, 4e-16 relative; edges by multisection to ~4e-14 of the top edge.
    #: 12 digits leaves a margin of two to three digits for harder profiles
    #: (``tests/test_bias.py::test_float_bias_law_matches_mp_path``). Without bias, every
    #: requested digit. The mpmath path (dps > 15) delivers every requested digit (:meth:`law`)
    BIAS_DIGITS = 12

    @property
    def digits(self):
        """The number of correct digits the float path delivers (``None``: as many as asked)."""
        return self.BIAS_DIGITS if float(self.sigma_b) > 0 else None

    def _law_dps(self, dps):
        """Validate the precision asked of the law."""
        from nrmt.numerics.law import check_dps

        return check_dps(dps)

    def law(self, dps=15):
        """The limiting law of M as a :class:`~nrmt.numerics.layers_law.LayersLaw` at ``dps`` digits.

        Without bias any ``dps``. With bias: ``dps <= 15`` the float path (about
        :attr:`BIAS_DIGITS` digits); ``dps > 15`` the mpmath path, every digit: the average over
        β by the trapezoid rule tuned to the working precision
        (:meth:`nrmt.theory.bias.BiasProfileMP.average`), verified by the Law's two-precision
        check. Its cost is the profile at each node (closed forms when the exact engine has them,
        e.g. ReLU: about 2 minutes at dps 20 with the support edges; a Gaussian quadrature per
        node otherwise, much slower).
        """
        dps = self._law_dps(dps)
        if dps not in self._laws and float(self.sigma_b) == 0 and self._mp_layers(15)[-1]["theta2_zero"]:
            self._laws[dps] = self._marchenko_pastur_law(dps)
        if dps not in self._laws:
            mean = self._float_layers()[-1]["theta1"]
            self._laws[dps] = LayersLaw(self._profiles(dps), self.gammas(), self.sigma_w,
                                        self.sigma_x, dps=dps, mean=mean)
        return self._laws[dps]

    def _marchenko_pastur_law(self, dps):
        r"""The law when the last layer has θ2 = 0 exactly (an even f; no bias): the rows of
        :math:`Y_L` are, in the limit, independent of :math:`Y_{L-1}` with iid entries of variance
        :math:`\theta_1^{(L)}`, so :math:`M` is Marchenko–Pastur with ratio :math:`n_L/m` and
        scale :math:`\theta_1^{(L)}` whatever the layers below (Benigni & Péché, EJP 26 (2021),
        the multi-layer θ2 = 0 case; Pennington & Worah 2017, Sec. 4): the one-layer law
        (:class:`~nrmt.models.one_layer.OneLayerLaw`, exact polynomial equation) with
        φ' = n_{L−1}/m, ψ' = ψ_L and constants (θ1^{(L)}, 0). θ1^{(L)} is the exact closed form when
        there is one, else the layer constant at dps + 30 digits."""
        from nrmt.models.one_layer import OneLayerLaw
        from nrmt.theory.exact import exact_parameter

        t1 = self._mp_layers(15)[-1]["theta1_exact"]
        if t1 is None:
            t1 = self._mp_layers(max(dps, 15) + 30)[-1]["theta1"]
        g = [exact_parameter(v, "ratio") for v in ([self.phi] + list(self.psi))]
        phi_prev = g[0]
        for p in g[1:-1]:
            phi_prev = phi_prev / p
        return OneLayerLaw(phi_prev, g[-1], t1, sp.Integer(0), dps=dps)

    # ------------------------------------------------------------ sampling
    def widths(self, n0):
        """``([n0, n1, ..., nL], m)`` for this model's ratios."""
        from nrmt.numerics.sampling import widths_from_ratios

        return widths_from_ratios(n0, float(self.phi), [float(p) for p in self.psi])

    def sample(self, n0, entries="gaussian", trials=1, rng=None):
        """Eigenvalues of M for sampled networks (:func:`nrmt.numerics.sampling.sample_gram`)."""
        from nrmt.numerics.sampling import sample_gram

        widths, m = self.widths(n0)
        return sample_gram(self.activation, widths, m, sigma_w=float(self.sigma_w),
                           sigma_x=float(self.sigma_x), sigma_b=float(self.sigma_b),
                           entries=entries, trials=trials, rng=rng)

    def describe(self, dps=15):
        """A dict for JSON: model, activation, ratios, σ's, θ1/θ2 of the last layer and
        ``layers`` (one dict per layer: q, q_total, theta1, theta2, theta2_over_theta1)."""
        layers = self.layer_constants(dps)
        return {
            "model": self.kind,
            "activation": self.activation.text,
            "phi": self.phi,
            "psi": list(self.psi),
            "sigma": float(self.sigma_w) * float(self.sigma_x),
            "sigma_w": self.sigma_w,
            "sigma_x": self.sigma_x,
            "sigma_b": self.sigma_b,
            "theta1": layers[-1]["theta1"],
            "theta2": layers[-1]["theta2"],
            "theta1_exact": None,
            "theta2_exact": None,
            "layers": layers,
        }

    def __repr__(self):
        return (f"Layers({self.activation.text!r}, phi={self.phi}, psi={self.psi}, "
                f"sigma_w={self.sigma_w}, sigma_x={self.sigma_x}, sigma_b={self.sigma_b})")

    def _repr_latex_(self):
        """The model typeset in a notebook: activation, parameters, equation
        (:func:`nrmt.theory.equations.display.model_latex`)."""
        from nrmt.theory.equations.display import model_latex

        return model_latex(self)


def _is_number(v):
    """A sympy number without free symbols (a usable closed form)."""
    return v is not None and isinstance(v, sp.Basic) and v.is_number and not v.free_symbols


def _to_mpf(v):
    """An exact sympy number (or None) as mpf at the current precision."""
    if v is None:
        return None
    if v.is_Rational:
        return mpmath.mpf(int(v.p)) / int(v.q)
    return mpmath.mpf(sp.Float(sp.N(v, mpmath.mp.dps + 10), mpmath.mp.dps + 10)._mpf_)


def _lazy_average(model, digits, i):
    """E_beta g(c^2, s^2) for layer i at the current mp precision; the layer constants at
    ``digits`` digits are computed on first use (only the mpmath path needs them)."""

    def avg(g, prec=None):
        m = model._mp_layers(digits)[i]
        if m["bias"] is None:
            c2 = m["theta2"] / m["q"]
            s2 = max(m["theta1"] - m["theta2"], mpmath.mpf(0))
            return g(+c2, +s2)
        return m["bias"].average(lambda mu, t1, c2, s2: g(c2, s2), prec)

    def pair(e0, e1, prec=None, derivatives=False):
        m = model._mp_layers(digits)[i]
        return None if m["bias"] is None else m["bias"].alpha_tau(e0, e1, prec, derivatives)

    avg.pair = pair
    return avg
