r"""One layer with an additive bias: ``Bias(activation, phi, psi, sigma_b, sigma_w=1, sigma_x=1)``.

:math:`Y = f(WX + b1^\top)` with :math:`b` iid :math:`N(0, \sigma_b^2)`, centred row by row by
:math:`\mu(b_i)` (which removes the rank-one mean and its outlier), :math:`M = \frac1m YY^\top`.
``.law()`` is the profile law (:class:`nrmt.numerics.bias_law.BiasLaw`), ``.averaged_law()`` the
Pennington–Worah quartic with the averaged constants (for comparison), ``.outlier(n1)`` the
leading-order location :math:`n_1\mathbb E_\beta\mu(\beta)^2` of the outlier of the *uncentred*
matrix, ``.bias_constants(beta)`` the constants at one bias value (:mod:`nrmt.theory.bias`).

Examples
--------
>>> model = Bias("abs(x)", phi=0.5, psi=1, sigma_b=1.0)
>>> k = model.bias_constants(0)
>>> k.theta2                                           # |x| has theta2 = 0 at beta = 0 ...
mpf('0.0')
>>> bool(model.averaged_constants().theta2 > 0.1)      # ... but not averaged over the bias
True
"""

import mpmath

from nrmt.models.layers import Layers, _positive
from nrmt.numerics.bias_law import BiasLaw

__all__ = ["Bias"]


class Bias(Layers):
    """One layer with bias (module docstring). Same methods as :class:`~nrmt.models.layers.Layers`."""

    kind = "bias"

    def __init__(self, activation, phi, psi, sigma_b, *, sigma_w=1, sigma_x=1, nodes=None):
        if isinstance(psi, (list, tuple)):
            if len(psi) != 1:
                raise ValueError(f"Bias is one layer: give one psi, got {psi}")
            psi = psi[0]
        _positive("sigma_b", sigma_b, allow_zero=True)
        super().__init__(activation, phi, [psi], sigma_w=sigma_w, sigma_x=sigma_x,
                         sigma_b=sigma_b, nodes=nodes)

    @property
    def sigma(self):
        """σ = σ_w σ_x (weight part of the pre-activation standard deviation)."""
        return self.sigma_w * self.sigma_x

    def law(self, dps=15):
        """The profile law as a :class:`~nrmt.numerics.bias_law.BiasLaw` at ``dps`` digits
        (``dps <= 15``: the float path, correct to about :attr:`BIAS_DIGITS` digits; above, the
        mpmath path, every digit, see :meth:`Layers.law`)."""
        dps = self._law_dps(dps)
        if dps not in self._laws:
            g = self.gammas()
            mean = self._float_layers()[-1]["theta1"]
            self._laws[dps] = BiasLaw(self._profiles(dps)[0], g[0], g[1], self.sigma_w,
                                      self.sigma_x, dps=dps, mean=mean)
        return self._laws[dps]

    def bias_constants(self, beta, dps=15):
        """μ(β), θ1(β), c(β), θ2(β) (:func:`nrmt.theory.bias.bias_constants`)."""
        from nrmt.theory.bias import bias_constants

        return bias_constants(self.activation, beta, sigma=self.sigma, dps=dps)

    def averaged_constants(self, dps=15):
        """θ̄1, θ̄2, E θ1², E μ² over the bias (:func:`nrmt.theory.bias.averaged_constants`)."""
        from nrmt.theory.bias import averaged_constants

        return averaged_constants(self.activation, sigma=self.sigma, sigma_b=self.sigma_b, dps=dps)

    def averaged_law(self, dps=15):
        """The Pennington–Worah quartic with the averaged constants θ̄1, θ̄2 (a comparison law:
        not the limit of the model, see the module docstring of :mod:`nrmt.numerics.bias_law`)."""
        from nrmt.models.one_layer import OneLayer

        a = self.averaged_constants(dps)
        return OneLayer.from_constants(a.theta1, a.theta2, self.phi, self.psi[0]).law(dps)

    def outlier(self, n1, dps=15):
        r"""Leading-order location :math:`n_1\,\mathbb E_\beta\mu(\beta)^2` of the outlier of the
        uncentred :math:`M` (one eigenvalue; its O(1) correction is not computed)."""
        n1 = _positive("n1", n1)
        with mpmath.workdps(dps):
            return +(n1 * self.averaged_constants(dps).mean_square)

    def describe(self, dps=15):
        d = super().describe(dps)
        d["psi"] = self.psi[0]
        a = self.averaged_constants(dps)
        d.update({"theta1_averaged": a.theta1, "theta2_averaged": a.theta2,
                  "mean_square": a.mean_square})
        return d
