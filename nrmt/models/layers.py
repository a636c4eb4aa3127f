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


def _positive(name, value, allow_zero=False):
    if isinstance(value, bool) or value is None:
        raise TypeError(f"{name} must be a number, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {value!r}") from None
    if math.isnan(v) or math.isinf(v):
        raise ValueError(f"{name} must be finite, got {value}")
    if v < 0 or (v == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {value}")
    return value


def check_psi_list(psi):
    """ψ as a non-empty list of ratios > 0 (a single number means one layer).

    >>> check_psi_list(2)
    [2]
    """
    if isinstance(psi, (list, tuple)):
        if not psi:
            raise ValueError("psi must list at least one ratio (one per layer), got []")
        return [_positive(f"psi[{i}]", p) for i, p in enumerate(psi)]
    return [_positive("psi", psi)]


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
    nodes : int
        Gauss–Hermite nodes in β for the float bias averages.
    """

    kind = "layers"

    def __init__(self, activation, phi, psi, *, sigma_w=1, sigma_x=1, sigma_b=0, nodes=64):
        self.activation = as_activation(activation)
        self.phi = _positive("phi", phi)
        self.psi = check_psi_list(psi)
        self.sigma_w = _positive("sigma_w", sigma_w)
        self.sigma_x = _positive("sigma_x", sigma_x)
        self.sigma_b = _positive("sigma_b", sigma_b, allow_zero=True)
        if isinstance(nodes, bool) or not isinstance(nodes, int) or nodes < 4:
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

    def _mp_layers(self, dps):
        """Per-layer mp constants at ``dps`` digits (no bias: exact engine of nrmt.theory.constants)."""
        if dps not in self._mp:
            from nrmt.theory.constants import constants

            out = []
            with mpmath.workdps(dps):
                second = mpmath.mpf(self.sigma_x) ** 2
                sw2 = mpmath.mpf(self.sigma_w) ** 2
                for _ in range(self.depth):
                    q = sw2 * second
                    if float(self.sigma_b) == 0:
                        k = constants(self.activation, sigma=mpmath.sqrt(q), dps=dps)
                        theta1, theta2 = k.theta1, k.theta2
                        out.append({"q": q, "theta1": theta1, "theta2": theta2, "bias": None})
                    else:
                        bp = BiasProfileMP(self.activation, mpmath.sqrt(q), self.sigma_b)
                        theta1 = bp.average(lambda mu, t1, c2, s2: t1)
                        theta2 = q * bp.average(lambda mu, t1, c2, s2: c2)
                        out.append({"q": q, "theta1": theta1, "theta2": theta2, "bias": bp})
                    second = theta1
            self._mp[dps] = out
        return self._mp[dps]

    def layer_constants(self, dps=15):
        """One dict per layer: ``q`` (variance of W_ℓ Y_{ℓ−1}), ``q_total`` (q + σ_b²), ``theta1``,
        ``theta2`` (averaged over the bias when σ_b > 0), ``theta2_over_theta1`` (Fan–Wang's b²)."""
        if dps <= 15:
            rows = [(d["q"], d["theta1"], d["theta2"]) for d in self._float_layers()]
        else:
            rows = [(d["q"], d["theta1"], d["theta2"]) for d in self._mp_layers(dps)]
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
        for i, d in enumerate(fl):
            p = d["prof"]
            tiny = 1e-28 * max(1.0, d["theta1"])
            linear_free = float(self.sigma_b) == 0 and d["theta2"] <= tiny
            noise_free = bool(np.all(p["s2"] <= 1e-13 * max(1.0, d["theta1"])))
            avg = _lazy_average(self, digits, i)
            c2 = np.zeros_like(p["c2"]) if linear_free else p["c2"]
            profiles.append(Profile(c2, p["s2"], p["weights"], q=d["q"], mp_average=avg,
                                    linear_free=linear_free, noise_free=noise_free))
        return profiles

    #: digits the law with a bias delivers: the average over the bias uses a fixed Gauss–Hermite
    #: rule (64 nodes), whose error is about 1e-8 (edges and moments moved by ~1e-8 between 64
    #: and 128 nodes); without bias, every requested digit
    BIAS_DIGITS = 8

    @property
    def digits(self):
        """The number of correct digits the law delivers (``None``: as many as asked)."""
        return self.BIAS_DIGITS if float(self.sigma_b) > 0 else None

    def _law_dps(self, dps):
        """Validate the precision asked of the law (with a bias: the float path only)."""
        from nrmt.numerics.law import check_dps

        dps = check_dps(dps)
        if self.digits is not None and dps > 15:
            raise ValueError(f"with a bias the law is computed to about {self.digits} digits "
                             f"(float path, dps <= 15), got dps = {dps}")
        return dps

    def law(self, dps=15):
        """The limiting law of M as a :class:`~nrmt.numerics.layers_law.LayersLaw` at ``dps`` digits.

        Without bias any ``dps``. With bias only the float path (``dps <= 15``), correct to about
        :attr:`BIAS_DIGITS` digits; the mpmath path would average over β with Gauss–Hermite at
        ``dps + 20`` nodes, three Gaussian quadratures per node, and does not finish in useful
        time, so it is refused with a clear error.
        """
        dps = self._law_dps(dps)
        if dps not in self._laws:
            mean = self._float_layers()[-1]["theta1"]
            self._laws[dps] = LayersLaw(self._profiles(dps), self.gammas(), self.sigma_w,
                                        self.sigma_x, dps=dps, mean=mean)
        return self._laws[dps]

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


def _lazy_average(model, digits, i):
    """E_beta g(c^2, s^2) for layer i at the current mp precision; the layer constants at
    ``digits`` digits are computed on first use (only the mpmath path needs them)."""

    def avg(g):
        m = model._mp_layers(digits)[i]
        if m["bias"] is None:
            c2 = m["theta2"] / m["q"]
            s2 = max(m["theta1"] - m["theta2"], mpmath.mpf(0))
            return g(+c2, +s2)
        return m["bias"].average(lambda mu, t1, c2, s2: g(c2, s2))

    return avg
