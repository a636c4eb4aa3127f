r"""The input–output Jacobian of a deep random network: mean field, limit law of :math:`JJ^\top`, sampler.

>>> from nrmt.models.jacobian import Jacobian
>>> model = Jacobian("relu", depth=2, sigma_w="1.4142135623730950488")
>>> law = model.law()
>>> [round(float(m), 6) for m in law.moments(3)]      # closed form: 1, 1 + 2L, ...
[1.0, 5.0, 33.0]
>>> law.atom
0.5

See :mod:`nrmt.numerics.jacobian` for the method and :mod:`nrmt.theory.mean_field` for the
mean-field quantities (Poole et al. 2016; Schoenholz et al. 2017; Pennington, Schoenholz &
Ganguli 2017, 2018; Pastur 2020; Pastur & Slavin 2020).
"""

import mpmath
import sympy

from nrmt.numerics.jacobian import WEIGHTS, DerivativeLaw, JacobianLaw
from nrmt.numerics.jacobian_sampling import sample_jacobian
from nrmt.theory import mean_field
from nrmt.theory.activations import as_activation
from nrmt.theory.equations import jacobian as equations
from nrmt.theory.errors import NoConvergence
from nrmt.theory.exact import exact_parameter

__all__ = ["Jacobian"]

#: digits of the mean-field variances beyond the law's precision (the law's guard digits, twice,
#: plus margin)
_Q_EXTRA = 40

#: guard digits of the mean-field values behind ``mean_field(dps)`` (printed rounded once)
_HEADER_GUARD = 15


def _number(value, name, positive=False):
    """A parameter as an exact sympy number (:func:`nrmt.theory.exact.exact_parameter`)."""
    return exact_parameter(value, name, positive=positive, nonnegative=not positive)


class Jacobian:
    r"""Jacobian :math:`J = \prod_{l=L}^{1} D_l W_l` of a depth-L network of width N → ∞.

    Parameters
    ----------
    activation : str, sympy.Expr or Activation
    depth : int >= 1
    sigma_w : number > 0
        Weight scale: entries of variance :math:`\sigma_w^2/N` (iid), or :math:`\sigma_w` times a
        Haar-orthogonal matrix. Numbers are taken exactly
        (:func:`nrmt.theory.exact.exact_parameter`): strings as written (``"1/2"``, ``"1.29922"``,
        ``"sqrt(2)"``), floats by their exact binary value.
    sigma_b : number >= 0
        Bias standard deviation.
    q0 : number >= 0, optional
        Mean square of the input :math:`\lVert x^0\rVert^2/N`: :math:`q_1 = \sigma_w^2 q_0 +
        \sigma_b^2`, then the length map. Default: every layer at the fixed point :math:`q^*`.
    weights : {"iid", "orthogonal"}

    Notes
    -----
    For a positively homogeneous f (linear, ReLU, leaky ReLU) without bias the law of
    :math:`f'(\sqrt q Z)^2` does not depend on q, so the Jacobian law is defined whatever the
    length map does; ``q_star`` is then reported as 0 (ordered, :math:`\chi < 1`), None
    (:math:`\chi > 1`: no finite fixed point) or the input scale (:math:`\chi = 1`: every q is fixed).
    """

    def __init__(self, activation, depth, sigma_w, sigma_b=0, q0=None, weights="iid"):
        self.activation = as_activation(activation)
        if self.activation.expr is None:
            raise TypeError("the Jacobian model needs a symbolic activation (text or sympy)")
        self.activation._require_numeric()
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
            raise ValueError(f"depth must be an integer >= 1, got {depth!r}")
        if weights not in WEIGHTS:
            raise ValueError(f"weights must be one of {WEIGHTS}, got {weights!r}")
        self.depth = depth
        self.sigma_w = _number(sigma_w, "sigma_w", positive=True)
        self.sigma_b = _number(sigma_b, "sigma_b")
        self.q0 = None if q0 is None else _number(q0, "q0")
        self.weights = weights
        self.homogeneous = self.sigma_b == 0 and mean_field.is_positively_homogeneous(self.activation)
        self._laws = {}
        self._mf = {}

    # ---------------------------------------------------------------- mean field
    def mean_field(self, dps=15):
        r"""Mean-field quantities (mpf; lists per layer), each right to ``dps`` digits and carrying
        guard digits beyond them (round once when printing).

        Returns
        -------
        dict
            ``q_star`` (fixed point or None), ``chi`` (:math:`\sigma_w^2 \mathbb E f'(\sqrt{q^*}Z)^2`
            or None), ``q`` (:math:`[q_1..q_L]` used by the law), ``chi_layers``
            (:math:`\chi_l = \sigma_w^2 \mathbb E f'(\sqrt{q_l}Z)^2`), ``mean``
            (:math:`\prod_l \chi_l`, the first moment of :math:`JJ^\top`).

        Raises
        ------
        NoFixedPoint
            Without ``q0``, when the length map has no finite fixed point (e.g. ReLU with
            :math:`\sigma_w^2 = 2` and a bias): the message says to give ``q0``.
        """
        return self._mean_field_at(max(dps + _HEADER_GUARD, 30))

    def _mean_field_at(self, digits):
        """The mean field computed with ``digits`` working digits (cached)."""
        if digits in self._mf:
            return self._mf[digits]
        f = self.activation
        q_star = None
        try:
            q_star = mean_field.fixed_point_q(f, self.sigma_w, self.sigma_b, dps=digits)
        except mean_field.NoFixedPoint as exc:
            if not self.homogeneous and self.q0 is None:
                raise mean_field.NoFixedPoint(
                    f"{exc}; give the input's mean square q0 (--q0) to set the layers' "
                    "variances q_1 = sigma_w^2 q0 + sigma_b^2, ...") from None
        except NoConvergence:
            if not self.homogeneous and self.q0 is None:
                raise
        if self.homogeneous:
            # q-free law: use q = 1 (or the input's scale) for D^2; q* as the map says
            qs = [mpmath.mpf(1)] * self.depth if self.q0 is None or self.q0 == 0 else \
                mean_field.length_sequence(f, self.q0, self.depth, self.sigma_w, self.sigma_b, digits)
        elif self.q0 is None:
            qs = [q_star] * self.depth
        else:
            qs = mean_field.length_sequence(f, self.q0, self.depth, self.sigma_w, self.sigma_b,
                                            digits)
        chis = []
        by_q = {}
        for q in qs:
            key = q._mpf_
            if key not in by_q:
                by_q[key] = mean_field.chi(f, q, self.sigma_w, digits)
            chis.append(by_q[key])
        chi_star = None if q_star is None else (
            chis[0] if self.homogeneous else mean_field.chi(f, q_star, self.sigma_w, digits))
        with mpmath.workdps(digits + 10):
            mean = +mpmath.fprod(chis)
        out = {"q_star": q_star, "chi": chi_star, "q": qs, "chi_layers": chis, "mean": mean}
        self._mf[digits] = out
        return out

    @property
    def constants(self):
        """``{"q_star", "chi"}`` at 15 digits (the mean-field constants)."""
        mf = self.mean_field(15)
        return {"q_star": mf["q_star"], "chi": mf["chi"]}

    @property
    def equation(self):
        r""":math:`S_{JJ^\top}(w)` (sympy), with the layer moments :math:`\mu_{l,j}` as symbols."""
        sw2 = self.sigma_w ** 2
        return equations.jacobian_s_transform(self.depth, self.weights, sw2)

    # ---------------------------------------------------------------- law
    def law(self, dps=15):
        """The limit law of the eigenvalues of :math:`JJ^\\top` (a :class:`~nrmt.numerics.law.Law`)."""
        key = dps
        if key not in self._laws:
            # behind the float path too, the variances carry guard digits: the moments and edges
            # are solved at the working precision, and depth amplifies an error in q
            qdps = 30 if dps <= 15 else dps + _Q_EXTRA
            qs = self._mean_field_at(qdps)["q"]
            layer_laws = []
            cache = {}
            for q in qs:
                k = mpmath.nstr(q, qdps)
                if k not in cache:
                    cache[k] = DerivativeLaw(self.activation, q)
                layer_laws.append(cache[k])
            self._laws[key] = JacobianLaw(layer_laws, self.sigma_w, self.weights, dps=dps)
        return self._laws[key]

    # ---------------------------------------------------------------- sampling
    def sizes(self, n0):
        """Matrix sizes sampled for width ``n0`` (square layers)."""
        return {"n0": n0, "n1": n0, "m": n0, "widths": [n0] * (self.depth + 1)}

    def sample(self, n0, entries="gaussian", trials=1, rng=None):
        """Squared singular values of sampled Jacobians of width ``n0`` (pooled over trials).

        Returns a :class:`~nrmt.numerics.jacobian_sampling.JacobianSample` (array-like, with the
        float64 resolution ``floor``).
        """
        kwargs = dict(sigma_w=float(self.sigma_w), sigma_b=float(self.sigma_b),
                      weights=self.weights, entries=entries, trials=trials, rng=rng)
        if self.q0 is not None:
            kwargs["q0"] = float(self.q0)
        elif self.homogeneous:
            kwargs["q0"] = 1.0
        else:
            kwargs["q_star"] = float(self.mean_field(15)["q_star"])
        return sample_jacobian(self.activation, self.depth, n0, **kwargs)

    def describe(self, dps=15):
        """The model's parameters and mean-field constants (dict for JSON)."""
        mf = self.mean_field(dps)
        return {
            "model": "jacobian",
            "activation": self.activation.text,
            "depth": self.depth,
            "sigma_w": self.sigma_w,
            "sigma_b": self.sigma_b,
            "q0": self.q0,
            "weights": self.weights,
            "q_star": mf["q_star"],
            "chi": mf["chi"],
            "q_layers": mf["q"],
            "chi_layers": mf["chi_layers"],
        }

    def __repr__(self):
        return (f"Jacobian({self.activation.text!r}, depth={self.depth}, sigma_w={self.sigma_w}, "
                f"sigma_b={self.sigma_b}, q0={self.q0}, weights={self.weights!r})")

    def _repr_latex_(self):
        """The model typeset in a notebook: activation, parameters, equation
        (:func:`nrmt.theory.equations.display.model_latex`)."""
        from nrmt.theory.equations.display import model_latex

        return model_latex(self)
