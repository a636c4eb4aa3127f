r"""The input–output Jacobian of a deep network: its S-transform and the moments of :math:`JJ^\top`.

Network :math:`x^l = W^l h^{l-1} + b^l`, :math:`h^l = f(x^l)`, Jacobian
:math:`J = \prod_{l=L}^{1} D_l W_l`, :math:`D_l = \operatorname{diag} f'(x^l)`. In the wide limit the
eigenvalue law of :math:`JJ^\top` is the free multiplicative convolution of the laws of
:math:`D_l^2` (that of :math:`\lambda_l = f'(\sqrt{q_l} Z)^2`) and of :math:`W_l W_l^\top`:

.. math::

    S_{JJ^\top}(w) = \prod_{l=1}^{L} S_{D_l^2}(w)\, S_{W_l W_l^\top}(w), \qquad
    S_{WW^\top}(w) = \frac{1}{\sigma_w^2 (1 + w)} \ \text{(iid)}, \qquad
    S_{WW^\top}(w) = \frac{1}{\sigma_w^2} \ \text{(Haar orthogonal)}.

References: Pennington, Schoenholz & Ganguli, *Resurrecting the sigmoid in deep learning through
dynamical isometry*, NeurIPS 2017, arXiv:1711.04735 (its free-probability section: the S-transform
product and :math:`S_{WW^\top}` for Gaussian and orthogonal weights; equation numbers not confirmed); Pennington, Schoenholz &
Ganguli, *The emergence of spectral universality in deep networks*, AISTATS 2018,
arXiv:1802.09979; proofs for Gaussian weights: Pastur, *On random matrices arising in
deep neural networks. Gaussian case*, arXiv:2001.06188 (2020); for iid weights with finite fourth
moment (macroscopic universality): Pastur & Slavin, arXiv:2011.11439; orthogonal weights: Pastur,
J. Math. Phys. 63, 063505 (2022).

Moments. By Lagrange inversion of :math:`\chi(w) = w S(w)/(1+w)` (the inverse of
:math:`\psi(z) = \sum_n m_n z^n`),

.. math::

    m_n = \frac1n [w^{n-1}] \Big(\frac{1+w}{S(w)}\Big)^n ,

which for linear f and iid weights (:math:`S = (1+w)^{-L}` at :math:`\sigma_w = 1`) gives the
Fuss–Catalan numbers :math:`\frac{1}{Ln+1}\binom{(L+1)n}{n}`. The derivation script
``derivations/jacobian_s_transform.py`` checks these identities.
"""

import sympy
from sympy import Rational, Symbol, binomial, symbols

__all__ = [
    "W",
    "Z",
    "SIGMA_W2",
    "WEIGHTS",
    "s_weights",
    "chi_from_moments",
    "s_from_moments",
    "moments_from_s",
    "layer_moment_symbols",
    "jacobian_s_transform",
    "moments_exact",
    "mean_exact",
    "variance_exact",
    "fuss_catalan",
    "u_equation",
]

#: The S-transform variable.
W = Symbol("w")
#: The moment-generating variable :math:`\psi(z) = \sum m_n z^n` (z = 1/x).
Z = Symbol("z")
#: :math:`\sigma_w^2`.
SIGMA_W2 = Symbol("sigma_w2", positive=True)
#: Accepted weight kinds.
WEIGHTS = ("iid", "orthogonal")


def _check_weights(weights):
    if weights not in WEIGHTS:
        raise ValueError(f"weights must be one of {WEIGHTS}, got {weights!r}")


def s_weights(weights="iid", sigma_w2=SIGMA_W2):
    r"""S-transform of :math:`WW^\top` for square weights of entry variance :math:`\sigma_w^2/N`.

    iid: :math:`1/(\sigma_w^2(1+w))` (Marchenko–Pastur with ratio 1); Haar orthogonal scaled by
    :math:`\sigma_w`: :math:`1/\sigma_w^2` (PSG 2017).

    >>> s_weights("iid", 1)
    1/(w + 1)
    """
    _check_weights(weights)
    return 1 / (sigma_w2 * (1 + W)) if weights == "iid" else 1 / sympy.sympify(sigma_w2)


def _coeff(expr, var, n):
    """[var**n] of a function analytic at 0 (series expansion)."""
    if n == 0:
        return sympy.simplify(expr.subs(var, 0))
    ser = sympy.series(expr, var, 0, n + 1).removeO()
    return sympy.expand(ser).coeff(var, n)


def chi_from_moments(moments, order):
    r"""Series coefficients :math:`[c_1..c_{order}]` of :math:`\chi = \psi^{-1}`, by Lagrange:
    :math:`c_n = \frac1n [z^{n-1}] (z/\psi(z))^n`, :math:`\psi(z) = \sum_k m_k z^k`.

    >>> chi_from_moments([1, 2, 5], 3)
    [1, -2, 3]
    """
    psi_over_z = sum(sympy.sympify(m) * Z ** k for k, m in enumerate(moments))
    out = []
    for n in range(1, order + 1):
        out.append(sympy.simplify(Rational(1, n) * _coeff((1 / psi_over_z) ** n, Z, n - 1)))
    return out


def s_from_moments(moments, order=None):
    r"""The S-transform as a polynomial in :data:`W` (through :math:`w^{order}`) from moments.

    :math:`S(w) = \chi(w)(1+w)/w` (Voiculescu; Nica & Speicher 2006, Def. 18.15).

    >>> s_from_moments([1, 2, 5, 14])     # MP(1): 1/(1+w)
    -w**3 + w**2 - w + 1
    """
    order = len(moments) - 1 if order is None else order
    c = chi_from_moments(moments, order + 1)
    chi = sum(cn * W ** (n + 1) for n, cn in enumerate(c))
    poly = sympy.expand(sympy.cancel(chi * (1 + W) / W))
    return sum(poly.coeff(W, j) * W ** j for j in range(order + 1))


def moments_from_s(s_expr, k):
    r"""Raw moments :math:`m_1..m_k` of the law with S-transform ``s_expr`` (in :data:`W`).

    Lagrange inversion: :math:`m_n = \frac1n [w^{n-1}] ((1+w)/S(w))^n`.

    >>> moments_from_s(1 / (1 + W) ** 2, 4)     # two free MP(1): Fuss-Catalan
    [1, 3, 12, 55]
    """
    out = []
    for n in range(1, k + 1):
        out.append(sympy.simplify(Rational(1, n) * _coeff(((1 + W) / s_expr) ** n, W, n - 1)))
    return out


def layer_moment_symbols(layer, k=4):
    r"""Symbols :math:`\mu_{l,1..k}` for :math:`\mathbb E\lambda_l^j`, :math:`\lambda_l = f'(\sqrt{q_l}Z)^2`."""
    return list(symbols(f"mu_{layer}_1:{k + 1}", positive=True))


def jacobian_s_transform(depth, weights="iid", sigma_w2=SIGMA_W2, layer_moments=None, order=3):
    r""":math:`S_{JJ^\top}(w)` as a sympy expression (the :math:`S_{D^2}` factors as series).

    Parameters
    ----------
    depth : int
    weights : {"iid", "orthogonal"}
    sigma_w2 : sympy number or Symbol
    layer_moments : list of lists, optional
        :math:`[\mathbb E\lambda_l, \mathbb E\lambda_l^2, \dots]` per layer (sympy); one list for all
        layers at the fixed point; default: symbols from :func:`layer_moment_symbols`.
    order : int
        Truncation order of each :math:`S_{D^2}` series (enough for ``order + 1`` moments).
    """
    if not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be an integer >= 1, got {depth!r}")
    if layer_moments is None:
        layer_moments = [layer_moment_symbols(l, order + 1) for l in range(1, depth + 1)]
    if len(layer_moments) == 1 and depth > 1:
        layer_moments = list(layer_moments) * depth
    if len(layer_moments) != depth:
        raise ValueError(f"need 1 or {depth} lists of layer moments, got {len(layer_moments)}")
    s = sympy.Integer(1)
    for mom in layer_moments:
        s = s * s_from_moments(list(mom)[: order + 1], order) * s_weights(weights, sigma_w2)
    return s


def moments_exact(k, depth, weights="iid", sigma_w2=SIGMA_W2, layer_moments=None):
    r"""The first ``k`` raw moments of :math:`JJ^\top` in closed form (sympy).

    From :func:`jacobian_s_transform` and :func:`moments_from_s`; the layer moments are symbols
    :math:`\mu_{l,j}` unless given.

    Examples
    --------
    Linear network, iid weights, :math:`\sigma_w = 1`: Fuss–Catalan numbers.

    >>> moments_exact(4, 3, "iid", 1, [[1, 1, 1, 1]])
    [1, 4, 22, 140]
    """
    s = jacobian_s_transform(depth, weights, sigma_w2, layer_moments, order=k - 1)
    return moments_from_s(s, k)


def mean_exact(depth, sigma_w2=SIGMA_W2, layer_means=None):
    r""":math:`m_1(JJ^\top) = \prod_l \chi_l = \prod_l \sigma_w^2 \mathbb E\lambda_l` (both weight kinds).

    PSG 2017 (:math:`\chi` = mean squared singular value per layer).
    """
    if layer_means is None:
        layer_means = [layer_moment_symbols(l, 1)[0] for l in range(1, depth + 1)]
    if len(layer_means) == 1:
        layer_means = list(layer_means) * depth
    out = sympy.Integer(1)
    for m in layer_means:
        out = out * sigma_w2 * m
    return out


def variance_exact(depth, weights="iid", sigma_w2=SIGMA_W2, layer_moments=None):
    r"""Variance of the eigenvalue law of :math:`JJ^\top`:

    .. math::

        \operatorname{Var} = \Big(\prod_l \chi_l\Big)^2 \sum_{l=1}^{L}
        \Big(\frac{\mu_{l,2}}{\mu_{l,1}^2} - 1 + \kappa\Big),
        \qquad \kappa = 1 \ \text{(iid)}, \ 0 \ \text{(orthogonal)},

    because :math:`m_2/m_1^2 - 1` adds under :math:`\boxtimes` (it is :math:`-s_1/s_0^2`, and
    :math:`s_1/s_0` adds). At :math:`\chi = 1` it grows linearly in L (PSG 2018).
    """
    _check_weights(weights)
    if layer_moments is None:
        layer_moments = [layer_moment_symbols(l, 2) for l in range(1, depth + 1)]
    if len(layer_moments) == 1:
        layer_moments = list(layer_moments) * depth
    kappa = 1 if weights == "iid" else 0
    mean = mean_exact(depth, sigma_w2, [m[0] for m in layer_moments])
    total = sum(m[1] / m[0] ** 2 - 1 + kappa for m in layer_moments)
    return mean ** 2 * total


def fuss_catalan(depth, n):
    r"""Fuss–Catalan number :math:`\frac{1}{Ln+1}\binom{(L+1)n}{n}`: the n-th moment of the
    product of L free MP(1) laws (Mlotkowski, Doc. Math. 15 (2010) 939; Penson & Życzkowski,
    Phys. Rev. E 83, 061118 (2011)).

    >>> [fuss_catalan(2, n) for n in range(1, 5)]
    [1, 3, 12, 55]
    """
    return binomial((depth + 1) * n, n) / (depth * n + 1)


def u_equation(depth, weights="iid", sigma_w2=SIGMA_W2):
    r"""The single-unknown equation at the fixed point (all layers alike), as ``(z_of_u, w)``.

    With :math:`u = \chi_{D^2}(w)` and :math:`w = \psi_{D^2}(u)`,

    .. math::

        z = \frac{w}{1+w}\Big(\frac{u(1+w)}{w}\Big)^L S_{WW^\top}(w)^L ,

    returned as a sympy expression in the symbols ``u`` and ``w`` (w to be replaced by
    :math:`\psi_{D^2}(u)`).
    """
    u = Symbol("u")
    return W / (1 + W) * (u * (1 + W) / W) ** depth * s_weights(weights, sigma_w2) ** depth, u
