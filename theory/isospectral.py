r"""Isospectrality: when does a layer map Marchenko–Pastur data to Marchenko–Pastur output?

An activation is *isospectral* (at pre-activation scale σ) when one layer maps data whose Gram
matrix is Marchenko–Pastur to an output Gram matrix that is Marchenko–Pastur of the matching ratio
:math:`n_1/m`, up to scale (a constant factor on f is trivial). Whether the scale is preserved too
is a separate condition.

Without bias (Pennington & Worah 2017, Sec. 5; Benigni & Péché 2021 through depth):
the one-layer quartic reduces to Marchenko–Pastur iff :math:`\theta_2 = 0`, i.e.

.. math:: \text{(ISO-0)}\quad \mathbb E[\xi f(\sigma\xi)] = \sigma\,\mathbb E f'(\sigma\xi) = 0,
          \qquad \theta_1 > 0 \ (\text{f not a.e. constant}),

and the scale is preserved iff :math:`\theta_1 = \sigma_x^2` (``scale``).

With a bias :math:`b_i \sim N(0, \sigma_b^2)` (Piccolo & Schröder 2021, the key finding): the
rows of the Gaussian equivalent are :math:`c(b_i)\,(WX)_i + s(b_i) Z_i`, and the law is
Marchenko–Pastur iff

.. math:: \text{(ISO-b1)}\quad c(\beta) = \mathbb E f'(\sigma\xi+\beta) = 0 \ \ \forall\beta,
          \qquad \text{(ISO-b2)}\quad \theta_1(\beta) \equiv \text{const}.

(ISO-b1) says :math:`\frac{d}{d\beta}(\gamma_\sigma * f) \equiv 0`; the Fourier transform of the
Gaussian kernel never vanishes, so :math:`f` is a.e. constant and :math:`\theta_1 \equiv 0`: no
non-constant activation is isospectral with bias (``derivations/no_isospectral_with_bias.py``).
Numerically the check reports :math:`\max_\beta |c(\beta)|` and the spread of θ1(β) on a grid of
β in :math:`[-3\sigma_b, 3\sigma_b]`.

References
----------
.. [PW] J. Pennington and P. Worah, NIPS 2017, Sec. 5 (isospectrality; recalled).
.. [BP] L. Benigni and S. Péché, Electron. J. Probab. 26 (2021) (θ2 = 0 through depth).
.. [PS] V. Piccolo and D. Schröder, NeurIPS 2021, arXiv:2105.05115 (impossibility with bias).
"""

from dataclasses import dataclass

import mpmath
import sympy
from sympy import Eq, Symbol

from nrmt.theory.activations import X, as_activation
from nrmt.theory.bias import BETA, slope_curve
from nrmt.theory.gaussian import Z, gaussian_expectation

__all__ = [
    "Condition",
    "conditions",
    "check",
    "solve_family",
    "slope_evidence",
]

#: Symbols used in the displayed equations.
SIGMA_X = Symbol("sigma_x", positive=True)
THETA1 = Symbol("theta1", nonnegative=True)
THETA2 = Symbol("theta2", nonnegative=True)
_XI = Symbol("xi", real=True)


@dataclass
class Condition:
    """One condition: ``name``, the sympy ``equation``, its ``value`` (mpf: the left side minus
    the right side, or the max over a β grid), whether it ``holds`` (to ``dps`` digits), and
    ``required`` (part of the isospectral verdict; ``scale`` is reported apart)."""

    name: str
    equation: object
    value: object
    holds: bool
    required: bool = True

    def as_dict(self, dps=15):
        return {"name": self.name, "expression": str(self.equation),
                "value": None if self.value is None else mpmath.nstr(self.value, dps),
                "holds": bool(self.holds), "required": self.required}


def conditions(bias=False):
    r"""The conditions as sympy equations (symbols ``theta1, theta2, sigma_x, beta``).

    >>> [str(c) for c in conditions()]
    ['Eq(theta2, 0)', 'theta1 > 0', 'Eq(theta1, sigma_x**2)']
    >>> [str(c) for c in conditions(bias=True)][1]
    'Eq(Derivative(theta1(beta), beta), 0)'
    """
    if not bias:
        return [Eq(THETA2, 0), THETA1 > 0, Eq(THETA1, SIGMA_X ** 2)]
    mean = sympy.Function("E[f(sigma*xi + beta)]")(BETA)
    t1 = sympy.Function("theta1")(BETA)
    return [Eq(sympy.Derivative(mean, BETA), 0), Eq(sympy.Derivative(t1, BETA), 0), t1 > 0]


def _tol(dps, scale=1):
    return mpmath.mpf(10) ** (-dps) * max(mpmath.mpf(1), abs(scale))


def check(activation, sigma=1, sigma_x=None, sigma_b=0, dps=15, grid=25):
    r"""Which isospectrality conditions an activation satisfies, with values to ``dps`` digits.

    Parameters
    ----------
    activation : Activation or spec (no free parameters; see :func:`solve_family`)
    sigma : number > 0
        σ = σ_w σ_x, the pre-activation scale.
    sigma_x : number > 0, optional
        Data scale for the ``scale`` condition θ1 = σ_x² (default: σ, i.e. σ_w = 1).
    sigma_b : number >= 0
        Bias scale; > 0 adds (ISO-b1), (ISO-b2) on a grid of ``grid`` β values in ±3σ_b.
    dps : int

    Returns
    -------
    (bool, list of Condition)
        The verdict (all required conditions hold) and the conditions.

    Examples
    --------
    >>> ok, conds = check("abs(x)")
    >>> ok, [(c.name, c.holds) for c in conds]
    (True, [('theta2_zero', True), ('nonconstant', True), ('scale', False)])
    >>> check("abs(x)", sigma_b=0.5, grid=5)[0]
    False
    """
    from nrmt.theory.constants import constants

    act = as_activation(activation)
    if act.expr is not None and act.parameters:
        names = ", ".join(str(p) for p in act.parameters)
        raise ValueError(f"the activation has free parameters ({names}): give them values, or "
                         "solve for them with solve_family / --solve")
    k = constants(act, sigma=sigma, dps=dps)
    sx = sigma if sigma_x is None else sigma_x
    with mpmath.workdps(dps + 10):
        sx2 = mpmath.mpf(sx) ** 2
        t1, t2 = k.theta1, k.theta2
        conds = [
            Condition("theta2_zero", Eq(THETA2, 0), t2, abs(t2) <= _tol(dps, t1)),
            Condition("nonconstant", THETA1 > 0, t1, t1 > _tol(dps)),
            Condition("scale", Eq(THETA1, SIGMA_X ** 2), t1 - sx2, abs(t1 - sx2) <= _tol(dps, sx2),
                      required=False),
        ]
    if float(sigma_b) > 0:
        betas, cs, t1s = slope_evidence(act, sigma, sigma_b, dps=dps, grid=grid, with_theta1=True)
        with mpmath.workdps(dps + 10):
            cmax = max(abs(c) for c in cs)
            spread = max(t1s) - min(t1s)
        eq_b1, eq_b2, _ = conditions(bias=True)
        conds.append(Condition("slope_zero_all_beta", eq_b1, cmax, cmax <= _tol(dps)))
        conds.append(Condition("theta1_constant_in_beta", eq_b2, spread, spread <= _tol(dps, max(t1s))))
    ok = all(c.holds for c in conds if c.required)
    return ok, conds


def slope_evidence(activation, sigma=1, sigma_b=1, dps=15, grid=25, with_theta1=False):
    r"""c(β) = E f′(σξ+β) (and θ1(β)) on ``grid`` equispaced β in [−3σ_b, 3σ_b].

    Returns ``(betas, c_values)`` (and θ1 values with ``with_theta1``), mpf at ``dps`` digits.

    >>> b, c = slope_evidence("abs(x)", 1, 1, grid=3)
    >>> [mpmath.nstr(v, 6) for v in c]           # 2 Phi(beta) - 1 at beta = -3, 0, 3
    ['-0.9973', '0.0', '0.9973']
    """
    from nrmt.theory.bias import bias_constants

    act = as_activation(activation)
    n = int(grid)
    if n < 2:
        raise ValueError(f"grid must be >= 2, got {grid}")
    with mpmath.workdps(dps + 10):
        sb = mpmath.mpf(sigma_b)
        betas = [-3 * sb + 6 * sb * i / (n - 1) for i in range(n)]
    cs = slope_curve(act, betas, sigma=sigma, dps=dps)
    if not with_theta1:
        return betas, cs
    t1s = [bias_constants(act, b, sigma=sigma, dps=dps, exact=False).theta1 for b in betas]
    return betas, cs, t1s


def solve_family(activation, params, sigma=1, sigma_x=None):
    r"""Parameter values making a family isospectral (θ2 = 0), exactly where sympy can.

    The Stein form :math:`\mathbb E[\xi f(\sigma\xi)]` is computed in closed form with the
    parameters symbolic (A's exact engine), then solved with sympy.

    Parameters
    ----------
    activation : text or sympy expression with free parameters, e.g. ``"a*x + b*(x**2 - 1)"``
    params : list of str
        The parameters to solve for.
    sigma, sigma_x : numbers (σ_x defaults to σ)

    Returns
    -------
    dict
        ``stein`` (the closed form of E[ξ f(σξ)]), ``isospectral`` (list of solution dicts for
        θ2 = 0), ``with_scale`` (solutions of θ2 = 0 and θ1 = σ_x² together; may be empty or
        ``None`` when sympy cannot solve), ``theta1`` (closed form, or None).

    Examples
    --------
    >>> r = solve_family("a*x + b*(x**2 - 1) + c*(x**3 - 3*x)", ["a"], sigma=2)
    >>> r["isospectral"]
    [{a: -9*c}]
    >>> solve_family("Abs(x) + a*x", ["a"])["isospectral"]
    [{a: 0}]
    """
    act = as_activation(activation)
    if act.expr is None:
        raise TypeError("solve_family needs a symbolic activation (text or sympy expression)")
    names = {str(p): p for p in act.parameters}
    syms = []
    for p in params:
        if p not in names:
            raise ValueError(f"{p!r} is not a parameter of {act.text} (parameters: "
                             f"{', '.join(names) or 'none'})")
        syms.append(names[p])
    sig = sympy.nsimplify(sigma)
    stein = gaussian_expectation(act, sigma=sig, exact=True, weight=Z).exact
    if stein is None:
        raise ValueError(f"no closed form for E[xi f(sigma xi)] of {act.text}: cannot solve exactly")
    stein = sympy.simplify(stein)
    sols = sympy.solve([Eq(stein, 0)], syms, dict=True)
    mean = gaussian_expectation(act, sigma=sig, exact=True).exact
    sq = gaussian_expectation(as_activation(act.expr ** 2), sigma=sig, exact=True).exact
    theta1 = None if mean is None or sq is None else sympy.simplify(sq - mean ** 2)
    with_scale = None
    if theta1 is not None:
        sx2 = (sig if sigma_x is None else sympy.nsimplify(sigma_x)) ** 2
        try:
            with_scale = sympy.solve([Eq(stein, 0), Eq(theta1, sx2)], syms, dict=True)
        except (NotImplementedError, ValueError):
            with_scale = None
    return {"stein": stein, "isospectral": sols, "with_scale": with_scale, "theta1": theta1}
