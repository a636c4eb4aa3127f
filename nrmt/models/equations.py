r"""The derived equations of the deep models, with the constants nrmt computes for them.

:func:`jacobian_equation` (deep input–output Jacobians) and :func:`layers_system` (several layers,
an additive bias) assemble what ``nrmt equation`` prints: the equations the solver uses, with
their constants (mean field, per-layer θ1, θ2, the bias profile as functions of b), as a
:class:`~nrmt.theory.equations.display.DerivedEquation`. The one-layer quartic is
:func:`nrmt.theory.equations.display.one_layer_from_activation`.

Jacobian. With :math:`\lambda = f'(\sqrt{q^*}Z)^2` (every layer at the fixed point :math:`q^*`, or
any q for a positively homogeneous f without bias), the S-transform of :math:`JJ^\top` is
:math:`S(w) = (S_{D^2}(w) S_{WW^\top}(w))^L` (Pennington, Schoenholz & Ganguli 2017, 2018;
Pastur 2020; Pastur & Slavin 2020) and, with :math:`u = \chi_{D^2}(w)`, the moment generating
function :math:`w = \psi(z) = \sum_n m_n z^n` solves

.. math::
    z = \frac{w}{1+w}\Big(\frac{u(1+w)}{w}\Big)^L S_{WW^\top}(w)^L, \qquad
    w = \psi_{D^2}(u) = \mathbb E\frac{u\lambda}{1-u\lambda}

(:func:`nrmt.theory.equations.jacobian.u_equation`). When λ takes finitely many values
(piecewise-linear f: ReLU, leaky ReLU, hard-tanh) :math:`\psi_{D^2}` is rational and the
resultant in u gives one polynomial :math:`P(w, z) = 0`; the factor printed is the one the
expansion :math:`w = m_1 z + m_2 z^2 + \dots` (moments of
:func:`nrmt.theory.equations.jacobian.moments_exact`) satisfies. The Stieltjes transform is
:math:`G(x) = (1 + \psi(1/x))/x`.

Several layers and bias: the system of :mod:`nrmt.numerics.layers_law` (Fan & Wang 2020; Wagner,
Couillet, Debbah & Slock 2012, Theorem 1; Piccolo & Schröder 2021 for the bias), written
symbolically layer by layer.

Examples
--------
>>> d = jacobian_equation("relu", 1, "sqrt(2)")      # ReLU, L = 1, sigma_w^2 = 2
>>> d.polynomial.sympy()
'2*z*w**2 + (3*z - 1)*w + z'
>>> d.moments                                        # chi = 1: the mean is 1
[1, 3, 11, 45]
"""

import mpmath
import sympy as sp

from nrmt.theory.equations import display
from nrmt.theory.equations import jacobian as jeq

__all__ = ["jacobian_equation", "layers_system", "JACOBIAN_SOURCE", "LAYERS_SOURCE"]

#: where the Jacobian equation comes from
JACOBIAN_SOURCE = (
    "J. Pennington, S. Schoenholz and S. Ganguli, NeurIPS 2017 (arXiv:1711.04735) and AISTATS 2018 "
    "(arXiv:1802.09979): S_JJT = prod_l S_{D_l^2} S_{W_l W_l^T}; L. Pastur, arXiv:2001.06188 (2020); "
    "L. Pastur and V. Slavin, arXiv:2011.11439 (universality); mean field: Poole et al. 2016, "
    "Schoenholz et al. 2017")

#: where the layers / bias system comes from
LAYERS_SOURCE = (
    "Z. Fan and Z. Wang, NeurIPS 2020 (arXiv:2005.11879), the CK recursion; S. Wagner, R. Couillet, "
    "M. Debbah and D. Slock, IEEE Trans. Inf. Theory 58 (2012), Theorem 1 (deterministic "
    "equivalent); V. Piccolo and D. Schroder, NeurIPS 2021 (arXiv:2105.05115), the bias model; "
    "as solved in nrmt.numerics.layers_law")

W, Z = sp.symbols("w z")
U = sp.Symbol("u")


def _exact(value, dps):
    """mpf → sympy Float with dps digits; sympy values unchanged."""
    return display._number(value, dps)


def jacobian_equation(activation, depth, sigma_w, sigma_b=0, weights="iid", dps=15):
    r"""The Jacobian's equation for the moment generating function, with the mean-field constants.

    Parameters
    ----------
    activation : str, sympy expression or Activation
    depth : int
    sigma_w, sigma_b : numbers (exact or decimal)
    weights : {"iid", "orthogonal"}
    dps : int
        Digits of the numeric constants.

    Returns
    -------
    DerivedEquation
        ``polynomial`` is :math:`P(w, z)` when λ is discrete, else ``None`` (the system then holds
        the u-equation and the definition of :math:`\psi_{D^2}`).
    """
    from nrmt.models.jacobian import Jacobian
    from nrmt.numerics.jacobian import DerivativeLaw

    model = Jacobian(activation, depth, sigma_w, sigma_b=sigma_b, weights=weights)
    mf = model.mean_field(dps + 10)
    q = mf["q"][0]
    lam = DerivativeLaw(model.activation, q)
    sw2 = sp.nsimplify(model.sigma_w ** 2) if model.sigma_w.is_Float else model.sigma_w ** 2
    atoms = None
    if lam.is_discrete:
        with mpmath.workdps(dps + 10):
            numeric = lam._atom_mp()          # the probabilities to dps digits where not exact
        atoms = [(sp.nsimplify(v) if isinstance(v, sp.Float) else sp.sympify(v),
                  p if isinstance(p, sp.Basic) else _exact(pn, dps))
                 for (v, p), (_, pn) in zip(lam.atoms, numeric)]
        layer_moments = [sp.Add(*[p * v ** k for v, p in atoms]) for k in range(1, 5)]
    else:
        layer_moments = [_exact(m, dps) for m in lam.moments(4, dps + 5)]
    moments = jeq.moments_exact(4, depth, weights, sw2, [layer_moments])
    moments = [display.tidy(m) for m in moments]
    z_of_u, u = jeq.u_equation(depth, weights, sw2)
    psi_lam = sp.Function("psi_D2")
    system = [sp.Eq(Z, display.tidy(z_of_u.subs(u, U))), sp.Eq(W, psi_lam(U))]
    system_items = [{
        "name": f"moment generating function w = psi(z) = sum_n m_n z^n, u = chi_D2(w), depth {depth}",
        "equations": [f"{display.sympy_text(e.lhs)} = {display.sympy_text(e.rhs)}" for e in system]
        + ["psi_D2(u) = E[u*lambda/(1 - u*lambda)], lambda = f'(sqrt(q)*Z)**2"],
        "text": [f"{display.text(e.lhs)} = {display.text(e.rhs)}" for e in system]
        + ["ψ_D²(u) = E[u λ/(1 − u λ)],  λ = f′(√q Z)²"],
        "latex": [f"{display.latex(e.lhs)} = {display.latex(e.rhs)}" for e in system]
        + [r"\psi_{D^2}(u) = \mathbb{E}\frac{u\lambda}{1-u\lambda},\quad \lambda = f'(\sqrt{q}Z)^2"],
    }]
    polynomial = None
    if atoms is not None:
        # decimal probabilities stand as symbols p_i through the elimination and the choice of
        # the factor (exact arithmetic), and are substituted at the end
        probs = {sp.Symbol(f"p_{i}", positive=True): p for i, (v, p) in enumerate(atoms)
                 if p.has(sp.Float)}
        named = [(v, next((k for k, val in probs.items() if val is p), p)) for v, p in atoms]
        psi_d2 = sp.Add(*[p * v * U / (1 - v * U) for v, p in named if v != 0])
        num, _ = sp.fraction(sp.together(psi_d2 - W))
        zn, _ = sp.fraction(sp.together(z_of_u.subs(u, U) - Z))
        res = sp.resultant(sp.expand(num), sp.expand(zn), U)
        sym_moments = jeq.moments_exact(4, depth, weights, sw2,
                                        [[sp.Add(*[p * v ** k for v, p in named]) for k in range(1, 5)]])
        factor = _physical_factor(res, sym_moments)
        polynomial = display.Equation(sp.expand(factor.subs(probs)), (W, Z))
    constants = {"q_star": None if mf["q_star"] is None else _exact(mf["q_star"], dps),
                 "chi": None if mf["chi"] is None else _exact(mf["chi"], dps),
                 "sigma_w2": sw2, "sigma_b": model.sigma_b}
    for k, m in enumerate(layer_moments, 1):
        constants[f"E_lambda{k}"] = m
    extra = {
        "system": system_items,
        "description": f"Jacobian of a depth-{depth} network, {weights} weights: S-transform "
                       "product (free multiplicative convolution)",
        "convention": "w = psi(z) = sum_n m_n z^n = ∫ z t/(1 − z t) ρ(dt);  G(x) = (1 + psi(1/x))/x",
        "variable_map": "psi",
        "lambda_atoms": None if atoms is None else [[display.sympy_text(v), display.sympy_text(p)]
                                                    for v, p in atoms],
        "depth": depth, "weights": weights,
    }
    params = {"depth": sp.Integer(depth), "sigma_w": model.sigma_w, "sigma_b": model.sigma_b}
    return display.DerivedEquation("jacobian", params, constants, polynomial, polynomial,
                                   discriminant=None, moments=moments, atom=_zero_atom(atoms),
                                   source=JACOBIAN_SOURCE, activation=model.activation.text,
                                   extra=extra)


def _zero_atom(atoms):
    """P(λ = 0): the atom at 0 of JJ^T (Belinschi 2003: the largest atom of the factors; all the
    layers alike here); 0 for a continuous λ."""
    return sp.Add(*[p for v, p in atoms if v == 0]) if atoms else sp.Integer(0)


def _physical_factor(expr, moments):
    """The irreducible factor of P(w, z) that the series w = m1 z + m2 z² + m3 z³ solves."""
    series = sp.Add(*[m * Z ** (k + 1) for k, m in enumerate(moments[:3])])
    best, order = None, -1
    for f, _ in sp.factor_list(sp.expand(expr), W, Z)[1]:
        if not f.has(W):
            continue
        r = sp.expand(f.subs(W, series))
        lowest = min((sp.Poly(r, Z).monoms() or [(99,)]))[0] if r != 0 else 99
        # a factor solved by the series vanishes through order z^3 at least
        vanish = 99 if r == 0 else lowest
        if vanish > order:
            best, order = f, vanish
    if best is None:  # pragma: no cover - the resultant always has a factor in w
        raise ValueError("no factor of the Jacobian equation contains w")
    return best


def layers_system(activation, phi, psi, sigma=1, sigma_b=0, dps=15):
    r"""The recursion of several layers (and/or an additive bias), symbolic, with its constants.

    Parameters
    ----------
    activation : str, sympy expression or Activation
    phi : number
        φ = n0/m.
    psi : list of numbers
        ψ_ℓ = n_{ℓ−1}/n_ℓ.
    sigma : number
        σ_w σ_x at the first layer (σ_x = 1: the input has unit variance, σ_w = sigma).
    sigma_b : number
        Bias standard deviation (0: none).
    dps : int

    Returns
    -------
    DerivedEquation
        ``polynomial`` is ``None``; ``extra["system"]`` holds the equations per layer,
        ``extra["layers"]`` the constants per layer, ``extra["profile"]`` the bias profile.
    """
    from nrmt.theory.activations import as_activation
    from nrmt.theory.bias import BETA, bias_functions
    from nrmt.theory.constants import constants

    act = as_activation(activation)
    phi = sp.sympify(phi)
    psis = [sp.sympify(p) for p in psi]
    sw = sp.sympify(sigma)
    sb = sp.sympify(sigma_b)
    L = len(psis)
    gammas = [1 / phi]
    for p in psis:
        gammas.append(gammas[-1] * p)
    layers, q = [], sw ** 2              # sigma_x = 1
    profile = None
    for ell in range(1, L + 1):
        row = {"layer": ell, "q": q, "gamma": gammas[ell]}
        if sb == 0:
            c = constants(act, sigma=sp.sqrt(q) if not q.has(sp.Float) else mpmath.sqrt(mpmath.mpf(str(q))),
                          dps=dps + 5)
            t1 = c.exact.get("theta1") if c.exact.get("theta1") is not None else _exact(c.theta1, dps)
            t2 = c.exact.get("theta2") if c.exact.get("theta2") is not None else _exact(c.theta2, dps)
            row.update(theta1=display.tidy(t1), theta2=display.tidy(t2),
                       c2=display.tidy(t2 / q), s2=display.tidy(t1 - t2))
        else:
            from nrmt.theory.bias import averaged_constants

            a = averaged_constants(act, sigma=mpmath.sqrt(mpmath.mpf(sp.N(q, dps + 10))), sigma_b=sb,
                                   dps=min(dps, 15))
            t1, t2 = _exact(a.theta1, min(dps, 8)), _exact(a.theta2, min(dps, 8))
            row.update(theta1=t1, theta2=t2)
            if profile is None:
                fs = bias_functions(act, sigma=sp.sqrt(q) if not q.has(sp.Float) else 1)
                profile = {k: fs.get(k) for k in ("mean", "slope", "theta1", "theta2")}
        layers.append(row)
        q = sw ** 2 * row["theta1"]
    system = _system_equations(L, sb != 0)
    description = (f"{L} layers" if L > 1 else "one layer") + (" with bias" if sb != 0 else "") + \
        ": Y_l = f(W_l Y_(l-1) + b_l) - mu_l(b_l), M = Y_L Y_L^T/m"
    extra = {
        "system": system,
        "layers": layers,
        "description": description,
        "convention": display.CONVENTION + ";  m_l(z) = ∫ ρ_l(dt)/(t − z) for the kernels "
                      "B_l = Y_l^T Y_l/n_l",
    }
    if sb != 0:
        extra["profile"] = profile
        extra["profile_variable"] = str(BETA)
    params = {"phi": phi, "psi": sp.Tuple(*psis) if L > 1 else psis[0], "sigma": sw, "sigma_b": sb}
    consts = {"theta1": layers[-1]["theta1"], "theta2": layers[-1]["theta2"]}
    return display.DerivedEquation("layers" if sb == 0 else "bias", params, consts, None, None,
                                   moments=[layers[-1]["theta1"]], source=LAYERS_SOURCE,
                                   activation=act.text, extra=extra)


def _system_equations(L, bias):
    """The per-layer equations of :mod:`nrmt.numerics.layers_law` (sympy text, text, LaTeX)."""
    z, G, sw2, sx2 = sp.symbols("z G sigma_w2 sigma_x2")
    names = {sw2: r"\sigma_w^2", sx2: r"\sigma_x^2"}
    items = []

    def block(name, eqs, averaged=()):
        strs = {"name": name, "equations": [], "text": [], "latex": []}
        for lhs, rhs in eqs:
            avg = lhs in averaged
            strs["equations"].append(f"{display.sympy_text(lhs)} = " + (
                f"E_b[{display.sympy_text(rhs)}]" if avg else display.sympy_text(rhs)))
            strs["text"].append(f"{display.text(lhs)} = " + (
                f"E_b[{display.text(rhs)}]" if avg else display.text(rhs)))
            ltx = display.latex(rhs, names)
            strs["latex"].append(f"{display.latex(lhs, names)} = " + (
                rf"\mathbb{{E}}_b\left[{ltx}\right]" if avg else ltx))
        return strs

    gL = sp.Symbol(f"gamma_{L}")
    for ell in range(L, 0, -1):
        e0, e1, zl, wl, c, s, g, alpha, tau = sp.symbols(
            f"e0_{ell} e1_{ell} z_{ell} w_{ell} c_{ell} s_{ell} gamma_{ell} alpha_{ell} tau_{ell}")
        names.update({e0: rf"e_0^{{({ell})}}", e1: rf"e_1^{{({ell})}}"})
        m_prev = sp.Function(f"m_{ell - 1}")
        delta = c ** 2 * e1 + s ** 2 * e0
        eqs = []
        if ell == L:
            eqs.append((G, -gL * sp.Function(f"e0_{L}")(gL * z) + (1 - gL) / z))
            eqs.append((zl, gL * z))
        else:
            eqs.append((zl, sp.Symbol(f"w_{ell + 1}") / sw2))
        eqs += [
            (alpha, c ** 2 / (1 + delta)),
            (tau, s ** 2 / (1 + delta)),
            (wl, (zl - tau) / alpha),
            (e0, g * m_prev(wl / sw2) / (sw2 * alpha)),
            (e1, g / alpha * (1 + wl * m_prev(wl / sw2) / sw2)),
            (sp.Function(f"m_{ell}")(zl), e0 / g),
        ]
        name = f"layer {ell}: c_{ell}^2 = theta2/q, s_{ell}^2 = theta1 - theta2" + (
            " (functions of the bias b; E_b averages over b ~ N(0, sigma_b^2))" if bias else "")
        items.append(block(name, eqs, averaged=(alpha, tau) if bias else ()))
    z0, m0, g0 = sp.symbols("z_0 m_0 gamma_0")
    bottom = [(sp.Integer(0), sx2 * g0 * z0 * m0 ** 2 + (z0 - sx2 * (1 - g0)) * m0 + 1),
              (z0, sp.Symbol("w_1") / sw2)]
    items.append(block("input: B_0 = X^T X/n_0, Marchenko-Pastur of ratio gamma_0 = m/n_0 "
                       "(m_0 = m_0(z_0))", bottom))
    return items
