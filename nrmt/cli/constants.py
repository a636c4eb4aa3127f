"""``nrmt constants``: the Gaussian constants μ, θ1, θ2 (η, ζ), Hermite coefficients of an activation.

::

    nrmt constants EXPR [--sigma S] [--dps D] [--hermite K] [--param NAME=VALUE ...]
                   [--numeric] [--json]

``EXPR`` is parsed by the allow-list parser (:func:`nrmt.theory.activations.parse_expression`).
``--sigma sigma`` keeps σ symbolic; free parameters stay symbolic unless ``--param`` gives them
values. With free symbols left, only closed forms are printed (numeric values are ``null``); if no
closed form exists the command fails with exit code 2.

JSON keys (a contract): ``activation``, ``expression``, ``parameters``, ``sigma``, ``dps``, ``mean``,
``theta1``, ``theta2``, ``second_moment``, ``stein``, ``derivative_second_moment`` (decimal strings
with ``dps`` significant digits, or ``null``), ``exact`` (object: ``mean``, ``theta1``, ``theta2``,
``second_moment``, ``stein``, ``derivative_second_moment`` as sympy strings or ``null``, and
``hermite`` as a list), ``hermite`` (list of decimal strings: the probabilists' Hermite
coefficients c_k of f(σz) = Σ_k c_k He_k(z), so θ1 = Σ_{k≥1} k! c_k² and θ2 = c_1²),
``hermite_projection`` (E[f(σZ) He_k(Z)] = k! c_k), ``hermite_convention``
(this definition in words), ``method`` (which path produced each number, or why it is missing),
``error`` (absolute error estimates).

This module only parses, calls the library and formats; it computes no theory itself.
"""

import sys

from nrmt.cli._common import add_dps, decimal, emit_json, expression_number, int_between, param_arg

__all__ = ["register", "run", "build_result", "HERMITE_CONVENTION"]

#: How the two Hermite lists of the JSON output are defined.
HERMITE_CONVENTION = ("hermite[k] = c_k, the probabilists' Hermite coefficients: f(sigma z) = sum_k c_k He_k(z), "
                      "so theta1 = sum_{k>=1} k! c_k^2 and theta2 = c_1^2; "
                      "hermite_projection[k] = E[f(sigma Z) He_k(Z)] = k! c_k")

_KEYS = ("mean", "theta1", "theta2", "second_moment", "stein", "derivative_second_moment")
_LABELS = {
    "mean": "mean  mu = E f(sZ)",
    "second_moment": "E f(sZ)^2",
    "theta1": "theta1 = eta",
    "theta2": "theta2 = zeta",
    "stein": "E[Z f(sZ)]",
    "derivative_second_moment": "E f'(sZ)^2",
}


def register(subparsers):
    """Add the ``constants`` sub-command to the ``nrmt`` parser."""
    p = subparsers.add_parser(
        "constants",
        help="Gaussian constants mu, theta1 (eta), theta2 (zeta), Hermite coefficients of an activation",
        description="Gaussian constants of an activation f at scale sigma = sigma_w sigma_x "
        "(Pennington-Worah 2017 eta, zeta = Benigni-Peche theta1, theta2): mu = E f(sZ), "
        "theta1 = E f(sZ)^2 - mu^2, theta2 = (E[Z f(sZ)])^2 (Stein's lemma), the probabilists' "
        "Hermite coefficients c_k = E[f(sZ) He_k(Z)] and E f'(sZ)^2. Closed forms when they "
        "exist, otherwise verified quadrature to DPS digits.",
    )
    p.add_argument("expr", metavar="EXPR",
                   help='activation, e.g. "tanh(x)", "relu", "max(x, 0)", "leaky_relu(x, a)", "x**3 - 3*x"')
    p.add_argument("--sigma", type=expression_number(positive=True, symbol="sigma"), default=None,
                   help="sigma = sigma_w * sigma_x > 0 (default 1); 'sigma' keeps it symbolic")
    add_dps(p)
    p.add_argument("--hermite", type=int_between(0, 200), default=0, metavar="K",
                   help="also print the Hermite coefficients c_0..c_K (default: none)")
    p.add_argument("--param", type=param_arg, action="append", default=[], metavar="NAME=VALUE",
                   help="value of a free parameter of EXPR (repeatable), e.g. --param a=0.1")
    p.add_argument("--numeric", action="store_true",
                   help="skip closed forms: quadrature only")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--certified", action="store_true",
                   help="also print rigorous enclosures [lo, hi] of mean, theta1, theta2 (ball "
                   "arithmetic; JSON key 'enclosures')")
    p.set_defaults(func=run)


def build_result(expr, sigma=None, dps=15, hermite=0, params=(), exact=True, certified=False):
    """The result as a dict (the JSON object printed by ``nrmt constants --json``)."""
    import sympy

    from nrmt.theory.activations import Activation
    from nrmt.theory.constants import constants

    act = Activation(expr)
    if params:
        values = dict(params)
        act = act.subs(**values)
    sig = 1 if sigma is None else sigma
    c = constants(act, sigma=sig, dps=dps, hermite=hermite, exact=exact)
    symbolic = not getattr(c.sigma, "is_number", True) or bool(act.parameters)
    out = {
        "activation": expr,
        "expression": str(act.expr) if act.expr is not None else None,
        "parameters": [s.name for s in act.parameters],
        "sigma": decimal(_mp(c.sigma, dps), dps) if c.sigma.is_number else str(c.sigma),
        "dps": dps,
    }
    for key in _KEYS:
        out[key] = decimal(getattr(c, key), dps)
    out["exact"] = {key: _sympy_str(c.exact.get(key)) for key in _KEYS}
    exact_projection = c.exact.get("hermite", [])
    out["exact"]["hermite"] = [
        _sympy_str(None if v is None else v / sympy.factorial(k)) for k, v in enumerate(exact_projection)
    ]
    out["exact"]["hermite_projection"] = [_sympy_str(v) for v in exact_projection]
    out["hermite"] = [] if symbolic else [decimal(v, dps) for v in c.hermite_expansion]
    out["hermite_projection"] = [] if symbolic else [decimal(v, dps) for v in c.hermite]
    out["hermite_convention"] = HERMITE_CONVENTION
    out["method"] = dict(c.method)
    out["error"] = {k: decimal(v, 3) if v is not None else None for k, v in c.error.items()}
    out["symbolic"] = symbolic
    if certified:
        from nrmt.numerics.certified_constants import certified_constants

        out["enclosures"] = certified_constants(act, sigma=sig, dps=dps).enclosures(dps)
    return out


def _mp(value, dps):
    import mpmath
    import sympy

    return mpmath.mpf(sympy.N(value, dps + 5))


def _sympy_str(value):
    return None if value is None else str(value)


def run(args):
    """Run ``nrmt constants``; returns the exit code."""
    result = build_result(args.expr, sigma=args.sigma, dps=args.dps, hermite=args.hermite,
                          params=args.param, exact=not args.numeric,
                          certified=getattr(args, "certified", False))
    if args.json:
        emit_json(result)
    else:
        sys.stdout.write(format_table(result))
    return 0


def format_table(result):
    """A readable table of a :func:`build_result` dict."""
    lines = [
        f"activation  {result['activation']}"
        + (f"   ({result['expression']})" if result["expression"] and result["expression"] != result["activation"] else ""),
        f"sigma       {result['sigma']}",
        f"dps         {result['dps']}",
    ]
    if result["symbolic"]:
        names = ", ".join(result["parameters"]) or "sigma"
        lines.append(f"symbolic in {names}: closed forms only (give --param NAME=VALUE / --sigma NUMBER for numbers)")
    lines.append("")
    width = max(len(v) for v in _LABELS.values())
    lines.append(f"{'quantity':<{width}}  {'value':<{max(result['dps'] + 8, 12)}}  {'method':<10}  exact")
    for key in ("mean", "second_moment", "theta1", "theta2", "stein", "derivative_second_moment"):
        value = result[key] if result[key] is not None else "-"
        method = result["method"].get(key, "")
        exact = result["exact"].get(key) or ""
        if method not in ("exact", "quadrature"):
            exact, method = method, "-"
        lines.append(f"{_LABELS[key]:<{width}}  {value:<{max(result['dps'] + 8, 12)}}  {method:<10}  {exact}")
    if result["exact"]["hermite"] or result["hermite"]:
        lines.append("")
        lines.append("Hermite coefficients c_k of f(sz) = sum_k c_k He_k(z)  (theta1 = sum_k>=1 k! c_k^2)")
        count = max(len(result["hermite"]), len(result["exact"]["hermite"]))
        for k in range(count):
            value = result["hermite"][k] if k < len(result["hermite"]) else "-"
            exact = result["exact"]["hermite"][k] if k < len(result["exact"]["hermite"]) else None
            lines.append(f"  c_{k:<3} {value:<{max(result['dps'] + 8, 12)}}  {exact or ''}")
    if result.get("enclosures"):
        lines.append("")
        lines.append("certified enclosures (ball arithmetic, rounded outward)")
        for key, (lo, hi) in result["enclosures"].items():
            lines.append(f"  {key:<8} [{lo}, {hi}]")
    return "\n".join(lines) + "\n"
