"""``nrmt equation``: the derived equation of a model, as a person would write it in a paper.

::

    nrmt equation [EXPR] [--theta1 T1 --theta2 T2] --phi P --psi Q [--sigma S] [--bias-sigma SB]
                  [--format text|latex|sympy] [--json] [--check] [--substitute] [--dps D]
    nrmt equation EXPR --psi Q1,...,QL --phi P ...          (several layers: the recursion)
    nrmt equation EXPR --jacobian --depth L --sigma-w SW [--sigma-b SB] [--weights iid|orthogonal]

P, Q, S, T1, T2 are numbers (``0.5``), exact fractions (``1/2``), constants (``sqrt(2)``) or symbol
names, which stay symbolic (``--phi phi --psi psi --theta1 theta1 --theta2 theta2`` prints the
generic quartic). Constants of an activation are exact where a closed form exists, else decimals
with ``--dps`` digits. Without ``--substitute`` the equation is printed in θ1, θ2 with their
values listed; the JSON ``polynomial`` always has the values substituted (it is the equation the
solver uses, and what ``--check`` re-parses and evaluates at the law's G(z)).

JSON keys (a contract). One layer: ``activation``, ``model``, ``parameters`` {phi, psi, sigma},
``constants`` {mean, theta1, theta2} (sympy strings), ``variables`` (``["G", "z"]``),
``convention``, ``polynomial`` (sympy string P(G, z), the equation being P = 0),
``coefficients`` (powers of G, highest first, sympy strings in z), ``degree``, ``discriminant``
(sympy string in z), ``moments`` (exact m1..m4), ``atom``, ``latex``, ``source``; with ``--check``
also ``check`` {residual, points, dps}. Several layers / bias: ``system`` (the per-layer
equations, sympy strings, and their LaTeX), ``layers`` (per-layer constants), ``profile`` (bias:
the constants as functions of b). Jacobian: ``polynomial`` in (w, z) when the law of f'(√q* Z)²
is discrete, ``system`` (the S-transform equation), ``constants`` (mean field).

This module only parses, calls the library and formats; it computes no theory itself.
"""

import sys

from nrmt.cli._common import add_dps, emit_json, param_arg, parameter_arg, positive_int

__all__ = ["register", "run", "build_result", "parameter_arg"]


def register(subparsers):
    """Add the ``equation`` sub-command to the ``nrmt`` parser."""
    p = subparsers.add_parser(
        "equation",
        help="the derived equation (Stieltjes transform, system, S-transform) as text, LaTeX or sympy",
        description="Print the self-consistent equation of a model, collected in powers of G and z "
        "with its constants, coefficients, discriminant, exact moments and atom: one layer "
        "(Pennington-Worah quartic), several layers and bias (the recursion nrmt solves), deep "
        "Jacobians (S-transform). Parameters may be numbers, fractions (1/2) or symbol names.",
    )
    p.add_argument("expr", metavar="EXPR", nargs="?", default=None,
                   help='activation, e.g. "tanh(x)", "relu", "x*erf(x/sqrt(2))" (or give --theta1 '
                   "and --theta2)")
    p.add_argument("--theta1", type=parameter_arg(nonnegative=True), default=None, metavar="T1",
                   help="theta1 = eta (instead of EXPR): number, fraction or symbol name")
    p.add_argument("--theta2", type=parameter_arg(nonnegative=True), default=None, metavar="T2",
                   help="theta2 = zeta (instead of EXPR)")
    p.add_argument("--phi", type=parameter_arg(), default=None, metavar="P",
                   help="phi = n0/m: number, fraction (1/2) or symbol name (phi)")
    p.add_argument("--psi", type=parameter_arg(allow_list=True), default=None, metavar="Q",
                   help="psi = n0/n1; a list Q1,...,QL for L layers")
    p.add_argument("--sigma", type=parameter_arg(), default=None, metavar="S",
                   help="sigma = sigma_w sigma_x (default 1; a symbol name keeps it symbolic)")
    p.add_argument("--bias-sigma", type=parameter_arg(nonnegative=True), default=None,
                   dest="bias_sigma", metavar="SB", help="bias standard deviation (one layer or layers)")
    p.add_argument("--param", type=param_arg, action="append", default=[], metavar="NAME=VALUE",
                   help="value of a free parameter of EXPR (repeatable)")
    p.add_argument("--jacobian", action="store_true",
                   help="the input-output Jacobian's S-transform equation (needs --depth, --sigma-w)")
    p.add_argument("--depth", type=positive_int, default=None, help="Jacobian depth L")
    p.add_argument("--sigma-w", type=parameter_arg(), default=None, dest="sigma_w", metavar="SW",
                   help="Jacobian weight scale")
    p.add_argument("--sigma-b", type=parameter_arg(nonnegative=True), default=None, dest="sigma_b",
                   metavar="SB", help="Jacobian bias scale (default 0)")
    p.add_argument("--weights", choices=("iid", "orthogonal"), default="iid",
                   help="Jacobian weights (default iid)")
    p.add_argument("--format", choices=("text", "latex", "sympy"), default="text",
                   help="notation of the printed equation (default text)")
    p.add_argument("--substitute", action="store_true",
                   help="substitute the constants' values (default: theta1, theta2 with values listed)")
    p.add_argument("--check", action="store_true",
                   help="re-parse the printed polynomial and evaluate it at the law's G(z) at a few z "
                   "off the real axis; print the residual")
    add_dps(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def _validate(args):
    if args.jacobian:
        if args.expr is None:
            raise ValueError("--jacobian needs an activation EXPR")
        if args.depth is None or args.sigma_w is None:
            raise ValueError("--jacobian needs --depth and --sigma-w")
        if args.sigma_b is None:
            args.sigma_b = 0
        if args.sigma_w.free_symbols or getattr(args.sigma_b, "free_symbols", None):
            raise ValueError("--sigma-w and --sigma-b must be numbers (the mean field is numeric)")
        return
    if args.depth is not None or args.sigma_w is not None or args.sigma_b is not None:
        raise ValueError("--depth, --sigma-w and --sigma-b belong to --jacobian")
    if args.phi is None or args.psi is None:
        raise ValueError("give --phi and --psi")
    thetas = (args.theta1 is not None, args.theta2 is not None)
    if args.expr is None and not all(thetas):
        raise ValueError("give an activation EXPR or both --theta1 and --theta2")
    if args.expr is not None and any(thetas):
        raise ValueError("give either EXPR or --theta1/--theta2, not both")
    if len(args.psi) > 1 or args.bias_sigma is not None:
        if args.expr is None:
            raise ValueError("several layers and bias need an activation EXPR")
        if any(v is not None and v.free_symbols for v in
               [args.phi, args.sigma, args.bias_sigma, *args.psi]):
            raise ValueError("several layers and bias need numbers (their constants are computed)")


def build_result(args):
    """The :class:`~nrmt.theory.equations.display.DerivedEquation` for the parsed arguments."""
    from nrmt.theory.equations import display

    _validate(args)
    if args.jacobian:
        from nrmt.cli._common import activation_from_args

        from nrmt.models.equations import jacobian_equation

        return jacobian_equation(activation_from_args(args.expr, args.param), args.depth,
                                 args.sigma_w, args.sigma_b, args.weights, dps=args.dps)
    if len(args.psi) > 1 or (args.bias_sigma is not None and args.bias_sigma != 0):
        from nrmt.cli._common import activation_from_args

        from nrmt.models.equations import layers_system

        return layers_system(activation_from_args(args.expr, args.param), args.phi, args.psi,
                             sigma=args.sigma or 1, sigma_b=args.bias_sigma or 0, dps=args.dps)
    psi = args.psi[0]
    if args.expr is None:
        return display.one_layer_equation(args.phi, psi, args.theta1, args.theta2, dps=args.dps)
    return display.one_layer_from_activation(args.expr, args.phi, psi, sigma=args.sigma,
                                             params=args.param, dps=args.dps)


def _law(derived, args):
    """The solver's law for the model of ``derived`` at ``--dps`` digits."""
    if derived.polynomial is None:
        raise ValueError("--check evaluates a polynomial equation: one layer, or a Jacobian whose "
                         "f'(sqrt(q) Z)^2 takes finitely many values")
    if derived.model == "jacobian":
        from nrmt.models.jacobian import Jacobian

        return Jacobian(args.expr, args.depth, args.sigma_w, args.sigma_b,
                        weights=args.weights).law(args.dps)
    from nrmt.models.one_layer import OneLayer

    p = derived.parameters
    if any(v.free_symbols for v in (p["phi"], p["psi"], p["sigma"])) or any(
            v is not None and v.free_symbols for v in derived.constants.values()):
        raise ValueError("--check needs numbers: the equation has symbolic parameters")
    if args.expr is None:
        return OneLayer.from_constants(args.theta1, args.theta2, p["phi"], p["psi"]).law(args.dps)
    from nrmt.cli._common import activation_from_args

    model = OneLayer(activation_from_args(args.expr, args.param), p["phi"], p["psi"], sigma=p["sigma"])
    return model.law(args.dps)


def _check(derived, args):
    """Residual of the printed polynomial at the solver's G (the law at ``--dps`` digits)."""
    law = _law(derived, args)
    residual, points = derived.residual(law.stieltjes, derived.check_points(), dps=args.dps)
    return {"residual": residual, "points": points, "dps": args.dps}


def run(args):
    """Run ``nrmt equation``; returns the exit code."""
    derived = build_result(args)
    check = _check(derived, args) if args.check else None
    if args.json:
        out = derived.as_dict(substitute=args.substitute)
        if check is not None:
            import mpmath

            out["check"] = {"residual": mpmath.nstr(check["residual"], 3),
                            "points": [mpmath.nstr(p, 6) for p in check["points"]],
                            "dps": check["dps"]}
        emit_json(out)
    else:
        sys.stdout.write(derived.report(args.format, substitute=args.substitute))
        if check is not None:
            import mpmath

            pts = ", ".join(mpmath.nstr(p, 4) for p in check["points"])
            sys.stdout.write(f"check         relative residual {mpmath.nstr(check['residual'], 3)} "
                             f"of the printed polynomial at the solver's solution, dps {check['dps']} "
                             f"(z = {pts})\n")
    return 0
