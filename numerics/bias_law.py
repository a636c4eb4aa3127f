r"""The limit law of one layer with an additive bias, :math:`Y = f(WX + b1^\top) - \mu(b)1^\top`.

:class:`BiasLaw` is the one-layer case of :class:`nrmt.numerics.layers_law.LayersLaw`: the rows of
the Gaussian equivalent are :math:`c(b_i)(WX)_i + s(b_i)Z_i` (a row *profile*, Piccolo & Schröder
2021's model linearised row by row), and the law solves

.. math::
    \alpha = \mathbb E_\beta\frac{c^2}{1 + c^2 e_1 + s^2 e_0},\quad
    \tau = \mathbb E_\beta\frac{s^2}{1 + c^2 e_1 + s^2 e_0},\quad
    e_0 = \frac{\gamma_1}{\alpha} m_K\!\Big(\frac{z-\tau}{\alpha}\Big),\quad
    e_1 = \frac{\gamma_1}{\alpha}\Big(1 + \frac{z-\tau}{\alpha} m_K\Big),

with :math:`K = \sigma_w^2 X^\top X/n_0` Marchenko–Pastur (ratio :math:`m/n_0`, scale
:math:`\sigma_w^2\sigma_x^2`), :math:`\beta \sim N(0, \sigma_b^2)`. With a constant profile
(σ_b = 0) this is the Pennington–Worah quartic. The quartic with the *averaged* constants
:math:`\bar\theta_1, \bar\theta_2` is a different law (it matches only the first moment); Monte
Carlo samples follow the profile law (``tests/test_bias.py``, ``docs/bias-layers.md``).

Precision: float path (the trapezoid rule in β at 106 bits on float profiles, about 12 digits);
mpmath path at any ``dps`` (:class:`nrmt.theory.bias.BiasProfileMP`: closed forms per node, or for
an analytic f all nodes at once by one lattice convolution; sums in python-flint ``acb``),
verified by the Law's two-precision check.

References
----------
.. [PS] V. Piccolo and D. Schröder, NeurIPS 2021, arXiv:2105.05115.
"""

from nrmt.numerics.layers_law import LayersLaw

__all__ = ["BiasLaw"]


class BiasLaw(LayersLaw):
    """The one-layer bias law (a :class:`~nrmt.numerics.layers_law.LayersLaw` with one layer)."""

    def __init__(self, profile, gamma0, gamma1, sigma_w=1, sigma_x=1, dps=15, mean=None):
        super().__init__([profile], [gamma0, gamma1], sigma_w, sigma_x, dps=dps, mean=mean)
