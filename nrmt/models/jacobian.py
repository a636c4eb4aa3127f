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
from nrmt.theory.activations import as_activation, to_sympy_number
from nrmt.theory.equations import jacobian as equations
from nrmt.theory.errors import NoConvergence

__all__ = ["Jacobian"]

#: digits of the mean-field variances beyond the law's precision (the law's guard digits, twice,
#: plus margin)
_Q_EXTRA = 40


def _number(value, name, positive=False):
    try:
        v = to_sympy_number(value, name)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{name}: {exc}") from None
    if not v.is_number or not v.is_real:
        raise ValueError(f"{name} must be a real number, got {value!r}")
    if positive and not v > 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    if not positive and v < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return v


class Jacobian:
    r"""Jacobian :math:`J = \prod_{l=L}^{1} D_l W_l` of a depth-L network of width N → ∞.

    Parameters
    ----------
    activation : str, sympy.Expr or Activation
    depth : int >= 1
    sigma_w : number > 0
        Weight scale: entries of variance :math:`\sigma_w^2/N` (iid), or :math:`\sigma_w` times a
        Haar-orthogonal matrix. Numbers are taken exactly from their decimal form (strings with
        many digits, or sympy expressions such as ``sympy.sqrt(2)``, give more digits).
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
        r"""Mean-field quantities to ``dps`` digits (mpf; lists per layer).

        Returns
        -------
        dict
            ``q_star`` (fixed point or None), ``chi`` (:math:`\sigma_w^2 \mathbb E f'(\sqrt{q^*}Z)^2`
            or None), ``q`` (:math:`[q_1..q_L]` used by the law), ``chi_layers``
            (:math:`\chi_l = \sigma_w^2 \mathbb E f'(\sqrt{q_l}Z)^2`), ``mean``
            (:math:`\prod_l \chi_l`, the first moment of :math:`JJ^\top`).
        """
        if dps in self._mf:
            return self._mf[dps]
        f = self.activation
        q_star = None
        try:
            q_star = mean_field.fixed_point_q(f, self.sigma_w, self.sigma_b, dps=dps)
        except NoConvergence:
            if not self.homogeneous and self.q0 is None:
                raise
        if self.homogeneous:
            # q-free law: use q = 1 (or the input's scale) for D^2; q* as the map says
            qs = [mpmath.mpf(1)] * self.depth if self.q0 is None or self.q0 == 0 else \
                mean_field.length_sequence(f, self.q0, self.depth, self.sigma_w, self.sigma_b, dps)
        elif self.q0 is None:
            qs = [q_star] * self.depth
        else:
            qs = mean_field.length_sequence(f, self.q0, self.depth, self.sigma_w, self.sigma_b, dps)
        chis = []
        for q in qs:
            chis.append(mean_field.chi(f, q, self.sigma_w, dps))
        chi_star = None if q_star is None else (
            chis[0] if self.homogeneous else mean_field.chi(f, q_star, self.sigma_w, dps))
        with mpmath.workdps(dps + 10):
            mean = mpmath.fprod(chis)
        out = {"q_star": q_star, "chi": chi_star, "q": qs, "chi_layers": chis, "mean": +mean}
        self._mf[dps] = out
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
            qs = self.mean_field(qdps)["q"]
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
