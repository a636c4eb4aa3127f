r"""The one-layer model Y = f(WX): activation and ratios → constants, quartic, Law, sampler.

``OneLayer(activation, phi, psi, sigma)`` is what a user handles: ``.constants`` (θ1 = η, θ2 = ζ of
the activation at scale σ = σw σx, exact where possible), ``.equation`` (the Pennington–Worah
quartic with those constants substituted — exact coefficients when the constants are exact),
``.law(dps)`` (a :class:`OneLayerLaw`: density, support, atom, CDF, quantiles, moments to ``dps``
digits) and ``.sample(n0, ...)`` (eigenvalues of sampled matrices). ``OneLayer.from_constants``
builds the same model from (θ1, θ2) alone; its sampler then draws Péché's linear equivalent.

References
----------
J. Pennington and P. Worah, "Nonlinear random matrix theory for deep learning", NIPS 2017, Thm 1;
L. Benigni and S. Péché, Electron. J. Probab. 26 (2021); S. Péché, Electron. Commun. Probab. 24
(2019) (the linear equivalent). See :mod:`nrmt.theory.equations.one_layer`.

Examples
--------
>>> law = OneLayer.from_constants(1, 1, phi=1, psi=1).law()   # product Wishart (Fuss-Catalan)
>>> [round(float(m), 9) for m in law.moments(4)]
[1.0, 3.0, 12.0, 55.0]
>>> [round(e, 12) for e in law.support[0]]
[0.0, 6.75]
"""


import mpmath
import sympy as sp

from nrmt.numerics.algebraic import AlgebraicLaw
from nrmt.theory.equations import one_layer as eqs
from nrmt.theory.exact import exact_parameter

__all__ = ["OneLayer", "OneLayerLaw", "check_ratio", "FLOAT_CALLABLE_DPS"]

_GUARD = 20  # extra digits of the constants behind a law at dps digits

#: the most digits a law of a float-returning Python callable (``np.tanh``) can claim
FLOAT_CALLABLE_DPS = 15


def check_ratio(name, value):
    """Validate a ratio/scale (finite, > 0) and return it as an exact sympy number.

    Strings are read as written (``"1/2"``, ``"0.1"``), binary floats by their exact binary value
    (:func:`nrmt.theory.exact.exact_parameter`): no input is rounded.

    >>> check_ratio("phi", 0.5), check_ratio("psi", "1/3")
    (1/2, 1/3)
    """
    return exact_parameter(value, name, positive=True)


#: ratios and constants accepted by :class:`OneLayerLaw`: beyond them the float path's quartic and
#: discriminant coefficients overflow (phi = 1e100) or lose the continuous part (phi = 1e40 gives
#: an empty support), so such values are refused rather than answered wrongly
RANGE_EXPONENT = 30


def check_range(name, value):
    """Refuse (ValueError, one line) a nonzero exact ``value`` outside [1e-30, 1e30].

    >>> check_range("phi", sp.Integer(10)**308)
    Traceback (most recent call last):
    ...
    ValueError: phi = 1.0e+308 is outside [1e-30, 1e30], the range in which the law is computed (its floating-point equation overflows beyond)
    """
    lim = sp.Integer(10) ** RANGE_EXPONENT
    if value != 0 and value.is_number and not 1 / lim <= abs(value) <= lim:
        shown = mpmath.nstr(mpmath.mpf(sp.Float(value, 20)._mpf_ if value.is_Float else
                                       sp.N(value, 20)), 3)
        raise ValueError(f"{name} = {shown} is outside [1e-{RANGE_EXPONENT}, 1e{RANGE_EXPONENT}], the "
                         "range in which the law is computed (its floating-point equation "
                         "overflows beyond)")
    return value


def _exact(value, name="value"):
    return exact_parameter(value, name)


class OneLayerLaw(AlgebraicLaw):
    r"""The Pennington–Worah law for given (φ, ψ, θ1, θ2), as an :class:`AlgebraicLaw`.

    The coefficient table is the quartic of :func:`nrmt.theory.equations.one_layer.equation`
    (degree dropped when θ2 = 0 or θ1 = θ2); the atom at 0 and the moments are the closed forms
    :func:`~nrmt.theory.equations.one_layer.atom_exact` and
    :func:`~nrmt.theory.equations.one_layer.moments_exact`.

    Parameters
    ----------
    phi, psi : positive numbers (int, Fraction, str such as ``"1/2"``, sympy, float, mpf),
        taken exactly (:func:`nrmt.theory.exact.exact_parameter`)
    theta1, theta2 : numbers with θ1 > 0 and 0 <= θ2 <= θ1
    dps : int
    """

    def __init__(self, phi, psi, theta1, theta2, dps=15):
        ph = check_ratio("phi", phi)
        ps = check_ratio("psi", psi)
        t1 = check_ratio("theta1", theta1)
        t2 = exact_parameter(theta2, "theta2", nonnegative=True)
        for name, v in (("phi", ph), ("psi", ps), ("theta1", t1), ("theta2", t2)):
            check_range(name, v)
        sign = eqs.exact_sign(t1 - t2)  # decided exactly (no float tolerance, no simplify)
        if sign < 0:
            raise ValueError(f"theta2 must be <= theta1, got theta1={theta1}, theta2={theta2}")
        self.linear = sign == 0
        self.params = {"phi": ph, "psi": ps, "theta1": t1, "theta2": t2}
        eq = eqs.equation(ph, ps, t1, t2)
        rows = []
        for k in range(eq.degree() + 1):
            c = sp.Poly(eq.coeff_monomial(eqs.G**k), eqs.z)
            rows.append(list(reversed(c.all_coeffs())) if not c.is_zero else [sp.Integer(0)])
        super().__init__(rows, dps, atom=eqs.atom_exact(ph, ps, linear=self.linear))

    def _moments(self, k):
        # the order-by-order series on the generated quartic, in mpf arithmetic with 10 guard digits
        digits = mpmath.mp.dps + 10
        with mpmath.workdps(digits):
            vals = []
            for name in ("phi", "psi", "theta1", "theta2"):
                v = self.params[name]
                vals.append(mpmath.mpf(int(v.p)) / int(v.q) if v.is_Rational
                            else mpmath.mpf(sp.Float(sp.N(v, digits), digits)._mpf_))
            return eqs.moments_numeric(k, *vals)

    def _scale(self):
        # the upper edge is below m1 + a few standard deviations; the discriminant gives it exactly
        return super()._scale()


class OneLayer:
    r"""The one-layer model :math:`M = \frac1m f(WX) f(WX)^\top` (see the module docstring).

    Parameters
    ----------
    activation : str, sympy expression, Activation or callable
        The activation f (centred by the theory: only θ1, θ2 matter).
    phi, psi : number > 0
        φ = n0/m, ψ = n0/n1. Any exact or binary number or a string such as ``"1/2"``; taken
        exactly (:func:`nrmt.theory.exact.exact_parameter`: a float is its exact binary value,
        ``"0.1"`` is 1/10), so the law at any ``dps`` is that of the number passed.
    sigma : number > 0, optional
        σ = σw σx, the standard deviation of the entries of WX (default 1).
    sigma_w, sigma_x : number > 0, optional
        Give σ as their product instead (both or either; the missing one is 1).

    Raises
    ------
    ValueError, TypeError
        On φ, ψ, σ not finite and > 0, or inconsistent σ and σw σx.
    """

    kind = "one-layer"

    def __init__(self, activation, phi, psi, sigma=1, *, sigma_w=None, sigma_x=None):
        phi = check_ratio("phi", phi)
        psi = check_ratio("psi", psi)
        sigma = check_ratio("sigma", sigma)
        if sigma_w is not None or sigma_x is not None:
            sigma_w = check_ratio("sigma_w", sigma_w) if sigma_w is not None else None
            sigma_x = check_ratio("sigma_x", sigma_x) if sigma_x is not None else None
            prod = (sigma_w if sigma_w is not None else 1) * (sigma_x if sigma_x is not None else 1)
            if sigma != 1 and sp.simplify(sigma - prod) != 0:
                raise ValueError(f"sigma must equal sigma_w * sigma_x = {prod}, got {sigma}")
            sigma = prod
        self.sigma_w = sigma_w
        self.sigma_x = sigma_x
        self.phi, self.psi, self.sigma = phi, psi, sigma
        self._theta = None
        if activation is not None:
            from nrmt.theory.activations import as_activation

            self.activation = as_activation(activation)
        else:
            self.activation = None
        self._constants = {}
        self._laws = {}

    @classmethod
    def from_constants(cls, theta1, theta2, phi, psi):
        """The model given by its constants (θ1, θ2) instead of an activation."""
        theta1 = check_ratio("theta1", theta1)
        theta2 = exact_parameter(theta2, "theta2", nonnegative=True)
        self = cls(None, phi, psi)
        OneLayerLaw(phi, psi, theta1, theta2, dps=15)  # validates theta2 <= theta1
        self._theta = (theta1, theta2)
        return self

    # ------------------------------------------------------------ constants
    def constants_at(self, dps=15):
        """The Gaussian constants of the activation at ``dps`` digits (cached)."""
        if self.activation is None:
            raise ValueError("this model was given by its constants (theta1, theta2): no activation")
        if dps not in self._constants:
            from nrmt.theory.constants import constants

            self._constants[dps] = constants(self.activation, sigma=_exact(self.sigma), dps=dps)
        return self._constants[dps]

    @property
    def constants(self):
        """The activation's :class:`~nrmt.theory.constants.Constants` (15 digits; exact forms in
        ``.exact``), or a dict ``{"theta1", "theta2"}`` for a model given by its constants."""
        if self.activation is None:
            return {"theta1": self._theta[0], "theta2": self._theta[1]}
        return self.constants_at(15)

    def float_callable(self):
        """True when the activation is a Python callable that returns floats (e.g. ``np.tanh``):
        its values carry at most :data:`FLOAT_CALLABLE_DPS` digits, and so do the law's."""
        if self.activation is None or self.activation.expr is not None:
            return False
        try:
            return isinstance(self.activation.mp_function()(mpmath.mpf("0.1")), float)
        except Exception:  # noqa: BLE001 - the constants will report a failing callable
            return False

    def _check_digits(self, dps):
        if dps > FLOAT_CALLABLE_DPS and self.float_callable():
            raise ValueError(
                f"the activation {self.activation.text} is a Python callable returning floats: its "
                f"values carry about 15 digits, so at most dps = {FLOAT_CALLABLE_DPS} is possible, "
                f"got dps = {dps} (give the activation as an expression for more digits)")

    def thetas(self, dps=15):
        """(θ1, θ2) as exact sympy numbers when known in closed form, else mpf with dps + 20 digits
        (float-returning callables: the float64 values, ``dps <= 15`` only)."""
        if self._theta is not None:
            return self._theta
        self._check_digits(dps)
        c = self.constants_at(FLOAT_CALLABLE_DPS if self.float_callable() else dps + _GUARD)
        out = []
        for key in ("theta1", "theta2"):
            ex = c.exact.get(key)
            if ex is not None and ex.is_number:
                out.append(sp.nsimplify(ex) if ex.is_Float else ex)
            else:
                out.append(getattr(c, key))
        return tuple(out)

    # ------------------------------------------------------------ equation, law
    @property
    def equation(self):
        """The quartic (sympy Poly in G, coefficients in z) with this model's constants: exact
        coefficients when the constants are exact."""
        t1, t2 = self.thetas(15)
        return eqs.equation(self.phi, self.psi, _exact(t1), _exact(t2))

    def law(self, dps=15):
        """The limiting spectral law as a :class:`OneLayerLaw` answering at ``dps`` digits."""
        from nrmt.numerics.law import check_dps

        dps = check_dps(dps)
        if dps not in self._laws:
            t1, t2 = self.thetas(dps)
            self._laws[dps] = OneLayerLaw(self.phi, self.psi, t1, t2, dps=dps)
        return self._laws[dps]

    def certified(self, dps=15):
        """Rigorous enclosures for this model (ball arithmetic, see ``docs/certified.md``): a
        :class:`~nrmt.numerics.certified_density.CertifiedOneLayer` with ``.density(x)`` (balls),
        ``.discriminant_roots()``, ``.enclosures(x)`` and the certified ``.constants``."""
        from nrmt.numerics.certified_density import CertifiedOneLayer

        ph, ps = _exact(self.phi), _exact(self.psi)
        if self.activation is None:
            return CertifiedOneLayer.from_constants(self._theta[0], self._theta[1], ph, ps, dps=dps)
        return CertifiedOneLayer(self.activation, ph, ps, sigma=_exact(self.sigma), dps=dps)

    # ------------------------------------------------------------ sampling
    def sample(self, n0, entries="gaussian", trials=1, rng=None, progress=False):
        """Eigenvalues of M for sampled W, X (pooled over ``trials``), widths n1 = n0/ψ, m = n0/φ.

        With an activation: :func:`nrmt.numerics.sampling.sample_gram`; for a model given by its
        constants: Péché's linear equivalent
        (:func:`nrmt.numerics.sampling.sample_linear_equivalent`).
        """
        from nrmt.numerics import sampling

        (n0_, n1), m = sampling.widths_from_ratios(n0, float(self.phi), float(self.psi))
        if self.activation is None:
            t1, t2 = (float(v) for v in self._theta)
            return sampling.sample_linear_equivalent(t1, t2, n0_, n1, m, entries=entries,
                                                     trials=trials, rng=rng, progress=progress)
        sw = float(self.sigma_w) if self.sigma_w is not None else float(self.sigma) / (
            float(self.sigma_x) if self.sigma_x is not None else 1.0)
        sx = float(self.sigma_x) if self.sigma_x is not None else 1.0
        return sampling.sample_gram(self.activation, [n0_, n1], m, sigma_w=sw, sigma_x=sx,
                                    entries=entries, trials=trials, rng=rng, progress=progress)

    def describe(self, dps=15):
        """A dict for JSON/tables: model, activation, ratios, σ's, θ1, θ2 (mpf), their exact forms."""
        t1, t2 = self.thetas(dps)
        with mpmath.workdps(dps + 5):
            n1 = mpmath.mpf(sp.N(t1, dps + 5)) if isinstance(t1, sp.Basic) else t1
            n2 = mpmath.mpf(sp.N(t2, dps + 5)) if isinstance(t2, sp.Basic) else t2
        return {
            "model": self.kind,
            "activation": None if self.activation is None else self.activation.text,
            "phi": self.phi,
            "psi": self.psi,
            "sigma": self.sigma,
            "sigma_w": self.sigma_w,
            "sigma_x": self.sigma_x,
            "theta1": n1,
            "theta2": n2,
            "theta1_exact": str(t1) if isinstance(t1, sp.Basic) else None,
            "theta2_exact": str(t2) if isinstance(t2, sp.Basic) else None,
        }

    def __repr__(self):
        act = "constants" if self.activation is None else repr(self.activation.text)
        return f"OneLayer({act}, phi={self.phi}, psi={self.psi}, sigma={self.sigma})"

    def _repr_latex_(self):
        """The model typeset in a notebook: activation, parameters, equation
        (:func:`nrmt.theory.equations.display.model_latex`)."""
        from nrmt.theory.equations.display import model_latex

        return model_latex(self)
