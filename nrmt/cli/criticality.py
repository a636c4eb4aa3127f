"""``nrmt criticality``: weight and bias scales putting a chosen fixed point at the edge of chaos.

::

    nrmt criticality EXPR --q-star Q [--dps D] [--param NAME=VALUE ...] [--json]

σw² = 1/E f'(√q* Z)², σb² = q* − σw² E f(√q* Z)² (Schoenholz et al. 2017); exact where sympy finds
the expectations (ReLU: σw² = 2, σb = 0), else to ``--dps`` digits. Fails (exit code 2) when
σb² < 0: no critical point at that q*.

JSON keys (a contract): ``sigma_w``, ``sigma_b``, ``chi``, ``sigma_w2``, ``sigma_b2``, ``q_star``
(decimal strings), ``exact`` (sympy strings or null for ``sigma_w``, ``sigma_b``, ``sigma_w2``,
``sigma_b2``), ``activation``, ``dps``.
"""

from nrmt.cli._common import (activation_from_args, add_dps, decimal, emit_json, expression_number,
                              param_arg)

__all__ = ["register", "run", "build_result"]


def register(subparsers):
    """Add the ``criticality`` sub-command."""
    p = subparsers.add_parser(
        "criticality",
        help="sigma_w, sigma_b giving chi = 1 at a chosen fixed point q*",
        description="Edge of chaos for a chosen q*: sigma_w^2 = 1/E f'(sqrt(q*) Z)^2 and "
        "sigma_b^2 = q* - sigma_w^2 E f(sqrt(q*) Z)^2 (Poole et al. 2016; Schoenholz et al. 2017).",
    )
    p.add_argument("expr", metavar="EXPR", help='activation, e.g. "tanh(x)"')
    p.add_argument("--q-star", type=expression_number(positive=True), required=True, dest="q_star",
                   help="the fixed point q* > 0")
    add_dps(p)
    p.add_argument("--param", type=param_arg, action="append", default=[], metavar="NAME=VALUE",
                   help="value of a free parameter of EXPR (repeatable)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def build_result(args):
    """The JSON-ready result of ``nrmt criticality``."""
    from nrmt.theory.mean_field import criticality

    c = criticality(activation_from_args(args.expr, args.param), args.q_star, dps=args.dps)
    exact = {k: (None if c.exact.get(k) is None else str(c.exact[k]))
             for k in ("sigma_w", "sigma_b", "sigma_w2", "sigma_b2")}
    return {
        "activation": args.expr,
        "dps": args.dps,
        "q_star": decimal(c.q_star, args.dps),
        "sigma_w": decimal(c.sigma_w, args.dps),
        "sigma_b": decimal(c.sigma_b, args.dps),
        "sigma_w2": decimal(c.sigma_w2, args.dps),
        "sigma_b2": decimal(c.sigma_b2, args.dps),
        "chi": decimal(c.chi, args.dps),
        "exact": exact,
    }


def run(args):
    """Entry point of ``nrmt criticality``; returns the exit code."""
    r = build_result(args)
    if args.json:
        emit_json(r)
        return 0
    print(f"nrmt criticality {r['activation']} at q* = {r['q_star']}:")
    for k in ("sigma_w", "sigma_b", "sigma_w2", "sigma_b2"):
        ex = r["exact"][k]
        print(f"  {k:9} = {r[k]}" + (f"   (exact: {ex})" if ex is not None else ""))
    print(f"  chi       = {r['chi']}")
    return 0
