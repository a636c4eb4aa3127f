r"""Conjugate kernel and neural tangent kernel at linear width (Fan & Wang 2020): the equations.

Model (Fan & Wang [FW]_, Sec. 2). Data :math:`X_0 \in \mathbb R^{d_0\times n}` with approximately
orthonormal columns, :math:`X_\ell = \sigma(W_\ell X_{\ell-1})/\sqrt{d_\ell}`, :math:`W_\ell`
iid :math:`N(0, 1)`, output :math:`f(x) = w^\top x_L`; ratios :math:`\gamma_\ell = n/d_\ell`;
:math:`\sigma` normalised, :math:`\mathbb E\sigma(\xi) = 0`, :math:`\mathbb E\sigma(\xi)^2 = 1`
(:math:`\xi \sim N(0,1)`). nrmt normalises a given f as
:math:`\sigma = (f - \mathbb E f(\xi))/\operatorname{sd} f(\xi)` (:func:`normalisation`). Constants

.. math:: b_\sigma = \mathbb E\,\sigma'(\xi), \qquad a_\sigma = \mathbb E\,\sigma'(\xi)^2 \;(\ge b_\sigma^2).

**CK** ([FW]_, the CK theorem: the iterated Marchenko–Pastur map). The law of
:math:`X_L^\top X_L` is :math:`\mu_L`, with :math:`\mu_0` the law of :math:`X_0^\top X_0` and

.. math:: \mu_\ell = \rho^{\mathrm{MP}}_{\gamma_\ell} \boxtimes \big((1-b_\sigma^2) + b_\sigma^2\,\mu_{\ell-1}\big).

**NTK** ([FW]_, the NTK theorem). The NTK has the limit spectrum of the linearised kernel

.. math::

    K_{\mathrm{lin}} = r_+ I + \sum_{\ell=0}^{L-1} q_\ell X_\ell^\top X_\ell + X_L^\top X_L, \qquad
    q_\ell = b_\sigma^{2(L-\ell)}, \qquad r_+ = \sum_{\ell=0}^{L-1}\big(a_\sigma^{L-\ell} - b_\sigma^{2(L-\ell)}\big)

(:func:`linearisation`); its mean is :math:`1 + \sum_{k=1}^{L} a_\sigma^k` when :math:`\mu_0` has
mean 1 (:func:`kernel_mean`).

**The recursion** (both kernels; [FW]_'s recursive fixed-point equations, written here in the
form nrmt solves). Encode :math:`Z = z_0 I + \sum_{k=0}^{l} z_{k+1} X_k^\top X_k` by its vector
:math:`(z_0, \dots, z_{l+1})` and let :math:`t_l(z, w) = \lim \frac1n\operatorname{tr}(W Z^{-1})`
for :math:`W` encoded by :math:`w` (linear in :math:`w`). Given :math:`X_0, \dots, X_{l-1}`, the
rows of :math:`\sqrt{d_l} X_l` are independent with covariance (Gaussian equivalence of the
nonlinear layer) :math:`\Sigma_l = (1-b_\sigma^2) I + b_\sigma^2 X_{l-1}^\top X_{l-1}`; the
deterministic equivalent of a resolvent of a sample covariance matrix (Silverstein & Bai 1995;
Bai & Silverstein, *Spectral Analysis of Large Dimensional Random Matrices*, 2010, Thm. 4.3)
replaces :math:`z_{l+1} X_l^\top X_l` by :math:`\Sigma_l/s_l`:

.. math::

    z' = \big(z_0 + \tfrac{1-b_\sigma^2}{s_l},\ z_1,\ \dots,\ z_{l-1},\ z_l + \tfrac{b_\sigma^2}{s_l}\big),
    \qquad s_l = \frac{1}{z_{l+1}} + \gamma_l\, t_{l-1}\big(z',\ (1-b_\sigma^2, 0, \dots, 0, b_\sigma^2)\big),

and, from :math:`W Z^{-1} = W'Z^{-1} + \frac{w_{l+1}}{z_{l+1}}(I - A Z^{-1})` (:math:`A` the part
of :math:`Z` below level :math:`l`),

.. math::

    t_l(z, w) = \frac{w_{l+1}}{z_{l+1}} + t_{l-1}\Big(z',\ \big(w - \tfrac{w_{l+1}}{z_{l+1}} z\big)_{0..l}\Big),
    \qquad
    t_0(z, w) = \frac{w_1}{z_1} + \frac{z_1 w_0 - z_0 w_1}{z_1^2}\, m_0\!\Big(-\frac{z_0}{z_1}\Big),

with :math:`m_0(\zeta) = \int d\mu_0(x)/(x - \zeta)`. The Stieltjes transform of the kernel is
:math:`m(z) = t_L(z^{\mathrm{top}}, e_0)` with :math:`z^{\mathrm{top}} = (-z, 0, \dots, 0, 1)`
(CK) or :math:`(r_+ - z, q_0, \dots, q_{L-1}, 1)` (NTK); it equals
:math:`m_0(\zeta)/z^{(0)}_1` with :math:`\zeta = -z^{(0)}_0/z^{(0)}_1` at the bottom level. For
the CK each step is Silverstein's equation for :math:`\rho^{\mathrm{MP}}_{\gamma}\boxtimes\nu`,
:math:`m(z) = \int d\nu(x)/\big(x(1-\gamma-\gamma z m(z)) - z\big)` (checked symbolically in
``derivations/ntk_recursion.py``). The unknowns are :math:`s_L, \dots, s_1`; every function
below uses only + − × ÷, so it runs on sympy symbols, mpmath numbers and numpy arrays alike.

References
----------
.. [FW] Z. Fan and Z. Wang, "Spectra of the conjugate kernel and neural tangent kernel for
   linear-width neural networks", NeurIPS 2020, arXiv:2005.11879 (Sec. 2: the model; Sec. 3: the
   CK theorem (iterated MP map) and the NTK theorem (linearised kernel :math:`r_+ I + \sum_\ell
   q_\ell X_\ell^\top X_\ell + X_L^\top X_L`, recursive fixed-point equations); theorem and
   equation numbers not re-checked here).
.. [SB] J. W. Silverstein and Z. D. Bai, "On the empirical distribution of eigenvalues of a class
   of large dimensional random matrices", J. Multivariate Anal. 54 (1995) (the MP ⊠ ν equation).
"""

from dataclasses import dataclass, field

import mpmath
import sympy

__all__ = [
    "Normalisation",
    "normalisation",
    "linearisation",
    "kernel_mean",
    "top_vector",
    "descend",
    "trace_functional",
    "residual",
    "stieltjes",
]


@dataclass(frozen=True)
class Normalisation:
    r"""The normalised activation :math:`\sigma = (f - \text{mean})/\text{sd}` and its constants.

    Attributes
    ----------
    mean, sd : mpf
        :math:`\mathbb E f(\xi)` and :math:`\operatorname{sd} f(\xi)`.
    a, b : mpf
        :math:`a_\sigma = \mathbb E f'(\xi)^2/\operatorname{Var} f`,
        :math:`b_\sigma = \mathbb E f'(\xi)/\operatorname{sd} f`.
    b2 : mpf
        :math:`b_\sigma^2` (= θ2/θ1).
    exact : dict
        Closed forms (sympy) of ``mean``, ``sd``, ``a``, ``b``, ``b2`` where they exist, else None.
    linear : bool
        f is affine (θ1 = θ2 exactly): :math:`a_\sigma = b_\sigma^2 = 1`, :math:`r_+ = 0`.
    linear_free : bool
        :math:`b_\sigma = 0` exactly (e.g. an even f): every layer forgets its input.
    dps : int
    """

    mean: object
    sd: object
    a: object
    b: object
    b2: object
    linear: bool
    linear_free: bool
    dps: int
    exact: dict = field(default_factory=dict)


def _is_zero(expr):
    return expr is not None and sympy.simplify(expr) == 0


def normalisation(activation, dps=15):
    r"""Normalise f to :math:`\sigma = (f - \mathbb E f(\xi))/\operatorname{sd} f(\xi)` and return
    :math:`a_\sigma`, :math:`b_\sigma` (exact where the Gaussian integrals have closed forms).

    .. math:: b_\sigma = \frac{\mathbb E f'(\xi)}{\sqrt{\theta_1}} = \frac{\mathbb E[\xi f(\xi)]}{\sqrt{\theta_1}},
              \qquad a_\sigma = \frac{\mathbb E f'(\xi)^2}{\theta_1}, \qquad \theta_1 = \operatorname{Var} f(\xi)

    ([FW]_, Sec. 2, for the normalised σ; the first form of :math:`b_\sigma` by Stein's lemma).

    Parameters
    ----------
    activation : str, Activation or sympy expression
    dps : int

    Returns
    -------
    Normalisation

    Raises
    ------
    ValueError
        If f is constant (sd 0) or :math:`\mathbb E f'(\xi)^2` is undefined (f jumps).

    Examples
    --------
    >>> c = normalisation("relu")
    >>> c.exact["a"], c.exact["b2"]
    (pi/(-1 + pi), pi/(2*(-1 + pi)))
    >>> normalisation("3*x + 1").linear
    True
    """
    from nrmt.theory.constants import constants

    k = constants(activation, dps=dps)
    if k.theta1 is None:
        raise ValueError("the activation must be numeric (no free parameters)")
    if k.theta1 == 0:
        raise ValueError(f"the activation {k.activation.text} is constant on the Gaussian: "
                         "it cannot be normalised (sd f = 0)")
    if k.derivative_second_moment is None:
        raise ValueError(f"E f'(xi)^2 is not defined for {k.activation.text}: "
                         f"{k.method.get('derivative_second_moment')}")
    ex = k.exact
    t1, t2 = ex.get("theta1"), ex.get("theta2")
    linear = _is_zero(t1 - t2) if t1 is not None and t2 is not None else False
    linear_free = _is_zero(t2) if t2 is not None else False
    exact = {"mean": ex.get("mean"), "sd": None, "a": None, "b": None, "b2": None}
    if t1 is not None:
        exact["sd"] = sympy.sqrt(t1)
        if ex.get("derivative_second_moment") is not None:
            exact["a"] = sympy.simplify(ex["derivative_second_moment"] / t1)
        if ex.get("stein") is not None:
            exact["b"] = sympy.simplify(ex["stein"] / sympy.sqrt(t1))
        if t2 is not None:
            exact["b2"] = sympy.simplify(t2 / t1)
    if linear:
        exact["a"], exact["b2"] = sympy.Integer(1), sympy.Integer(1)
    if linear_free:
        exact["b"], exact["b2"] = sympy.Integer(0), sympy.Integer(0)
    with mpmath.workdps(dps + 10):
        sd = mpmath.sqrt(k.theta1)
        a = k.derivative_second_moment / k.theta1
        b = k.stein / sd
        b2 = k.theta2 / k.theta1
        for key, value in (("a", a), ("b", b), ("b2", b2)):
            if exact[key] is not None:
                value = mpmath.mpf(str(sympy.N(exact[key], dps + 10)))
            if key == "a":
                a = value
            elif key == "b":
                b = value
            else:
                b2 = value
    return Normalisation(mean=k.mean, sd=sd, a=a, b=b, b2=b2, linear=linear,
                         linear_free=linear_free, dps=dps, exact=exact)


def linearisation(a, b2, depth):
    r"""The weights of the linearised NTK: :math:`r_+` and :math:`q_0, \dots, q_{L-1}`.

    .. math:: q_\ell = b_\sigma^{2(L-\ell)}, \qquad
              r_+ = \sum_{\ell=0}^{L-1}\big(a_\sigma^{L-\ell} - b_\sigma^{2(L-\ell)}\big)

    ([FW]_, the NTK theorem). Generic arithmetic (sympy, mpf, float).

    >>> linearisation(2, 1, 2)
    (4, [1, 1])
    """
    L = int(depth)
    q = [b2 ** (L - l) for l in range(L)]
    r = sum((a ** (L - l) - b2 ** (L - l) for l in range(L)), 0 * a)
    return r, q


def kernel_mean(a, b2, depth, input_mean=1):
    r"""The mean eigenvalue (normalised trace) of the limit NTK.

    With :math:`c_0 = \int x\,d\mu_0` and :math:`c_\ell = (1 - b_\sigma^2) + b_\sigma^2 c_{\ell-1}`
    (the mean of :math:`\mu_\ell`, [FW]_ CK theorem) the linearised kernel has mean
    :math:`r_+ + \sum_{\ell<L} q_\ell c_\ell + c_L`, which for :math:`c_0 = 1` is
    :math:`1 + \sum_{k=1}^{L} a_\sigma^k` (each gradient term's diagonal; the issue's exact mean).

    >>> import sympy
    >>> a, b2 = sympy.symbols("a b2")
    >>> sympy.expand(kernel_mean(a, b2, 3))
    a**3 + a**2 + a + 1
    """
    r, q = linearisation(a, b2, depth)
    c = input_mean
    total = r
    for ql in q:
        total = total + ql * c
        c = (1 - b2) + b2 * c
    return total + c


def top_vector(z, depth, r=0, q=None):
    r"""The top level vector :math:`(r - z, q_0, \dots, q_{L-1}, 1)` (CK: r = 0, q = 0)."""
    q = [0 * z] * depth if q is None else list(q)
    if len(q) != depth:
        raise ValueError(f"need {depth} weights q, got {len(q)}")
    return [r - z] + [qi + 0 * z for qi in q] + [1 + 0 * z]


def descend(top, s, b2):
    r"""The level vectors :math:`z^{(L)}, z^{(L-1)}, \dots, z^{(0)}` for the unknowns
    :math:`s = (s_L, \dots, s_1)`: each step drops the last entry and adds
    :math:`(1-b_\sigma^2)/s_l` to the first and :math:`b_\sigma^2/s_l` to the new last entry."""
    levels = [list(top)]
    cur = list(top)
    for sl in s:
        nxt = cur[:-1]
        nxt[0] = nxt[0] + (1 - b2) / sl
        nxt[-1] = nxt[-1] + b2 / sl
        levels.append(nxt)
        cur = nxt
    return levels


def trace_functional(levels, level, w, m0, identity_base=False):
    r""":math:`t_{\text{level}}(z^{(\text{level})}, w)` by the downward pass (module docstring).

    ``levels`` as returned by :func:`descend` (index 0 is the top level L); ``m0`` the input
    Stieltjes transform. ``identity_base``: the bottom matrix is absent (:math:`z^{(0)}_1 \equiv 0`,
    :math:`b_\sigma = 0`), so :math:`t_0 = w_0/z_0`.
    """
    L = len(levels) - 1
    w = list(w)
    t = 0
    for j in range(level, 0, -1):
        zj = levels[L - j]
        c = w[-1] / zj[-1]
        t = t + c
        w = [wi - c * zi for wi, zi in zip(w[:-1], zj[:-1])]
    z0 = levels[L]
    if identity_base:
        return t + w[0] / z0[0]
    return t + w[1] / z0[1] + (z0[1] * w[0] - z0[0] * w[1]) / z0[1] ** 2 * m0(-z0[0] / z0[1])


def residual(s, top, gammas, b2, m0, identity_base=False):
    r"""The fixed-point residuals :math:`s_l - 1/z^{(l)}_{l+1} - \gamma_l\,t_{l-1}(z^{(l-1)}, \sigma_l)`,
    l = L..1, with :math:`\sigma_l = (1-b_\sigma^2, 0, \dots, 0, b_\sigma^2)` (module docstring).

    Parameters
    ----------
    s : list
        :math:`s_L, \dots, s_1`.
    top : list
        The top vector (:func:`top_vector`).
    gammas : list
        :math:`\gamma_0, \dots, \gamma_L`.
    b2 : number
    m0 : callable
        Stieltjes transform of the input law.
    """
    L = len(s)
    levels = descend(top, s, b2)
    out = []
    for i, l in enumerate(range(L, 0, -1)):
        sig = [1 - b2] + [0 * b2] * (l - 1) + [b2]
        t = trace_functional(levels, l - 1, sig, m0, identity_base)
        out.append(s[i] - 1 / levels[i][-1] - gammas[l] * t)
    return out


def stieltjes(s, top, b2, m0, identity_base=False):
    r""":math:`m(z) = t_L(z^{\mathrm{top}}, e_0)` at the solved unknowns ``s``."""
    levels = descend(top, s, b2)
    e0 = [1] + [0] * (len(top) - 1)
    return trace_functional(levels, len(s), e0, m0, identity_base)
