"""``nrmt isospectral EXPR``: does one layer of this activation preserve Marchenko–Pastur spectra?

Checks the conditions of :mod:`nrmt.theory.isospectral` (without bias: θ2 = 0, θ1 > 0; the scale
θ1 = σ_x² reported apart; with ``--bias-sigma SB > 0``: c(β) = E f′(σξ+β) = 0 and θ1(β) constant
on a grid of β in ±3 SB), or with ``--solve a,b`` solves a family for its parameters.

JSON keys (``--json``): ``activation``, ``sigma``, ``bias_sigma``, ``dps``, ``isospectral``
(true/false; null with ``--solve``), ``conditions`` (list of ``name``, ``expression``, ``value``,
``holds``, ``required``), with ``--solve``: ``solutions`` (list of {parameter: value} making θ2 = 0),
``solutions_with_scale`` (also θ1 = σ_x²), ``stein`` (closed form of E[ξ f(σξ)]), and with a bias:
``slope_grid`` (list of [β, c(β)]).
"""

from nrmt.cli._common import add_dps, decimal, emit_json, exact_nonnegative, exact_positive, positive_int

__all__ = ["register", "run"]


def register(subparsers):
    p = subparsers.add_parser(
        "isospectral", help="isospectrality conditions of an activation (with or without bias)",
        description="Check whether a layer f(WX) maps Marchenko-Pastur data to Marchenko-Pastur "
        "output (theta2 = 0), whether the scale is kept (theta1 = sigma_x^2), and with a bias "
        "whether E f'(sigma xi + beta) = 0 for every beta; or solve a family for its parameters.")
    p.add_argument("expr", metavar="EXPR", help='activation, e.g. "abs(x)", "a*x + b*(x**2 - 1)"')
    p.add_argument("--sigma", type=exact_positive, default=1, help="sigma = sigma_w sigma_x (default 1)")
    p.add_argument("--sigma-x", dest="sigma_x", type=exact_positive, default=None,
                   help="data scale for the scale condition theta1 = sigma_x^2 (default: sigma)")
    p.add_argument("--bias-sigma", dest="bias_sigma", type=exact_nonnegative, default=0,
                   help="bias standard deviation sigma_b (default 0: no bias)")
    p.add_argument("--solve", default=None, metavar="A,B,...",
                   help="solve theta2 = 0 for these parameters of EXPR")
    p.add_argument("--grid", type=positive_int, default=25, help="number of beta values for the bias check")
    add_dps(p)
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.set_defaults(func=run)


def _num(v):
    """An exact CLI number for JSON: an int when it is one, else a float."""
    return None if v is None else (int(v) if v == int(v) else float(v))


def run(args):
    from nrmt.theory import isospectral as iso

    dps = args.dps
    out = {"activation": args.expr, "sigma": _num(args.sigma), "bias_sigma": _num(args.bias_sigma),
           "dps": dps}
    if args.solve:
        params = [s.strip() for s in args.solve.split(",") if s.strip()]
        r = iso.solve_family(args.expr, params, sigma=args.sigma, sigma_x=args.sigma_x)
        out["isospectral"] = None
        out["stein"] = str(r["stein"])
        out["theta1"] = None if r["theta1"] is None else str(r["theta1"])
        out["solutions"] = [{str(k): str(v) for k, v in s.items()} for s in r["isospectral"]]
        out["solutions_with_scale"] = (None if r["with_scale"] is None else
                                       [{str(k): str(v) for k, v in s.items()} for s in r["with_scale"]])
        out["conditions"] = [{"name": "theta2_zero", "expression": f"Eq({r['stein']}, 0)",
                              "value": None, "holds": bool(r["isospectral"]), "required": True}]
        if args.bias_sigma > 0:
            out["conditions"].append({"name": "slope_zero_all_beta",
                                      "expression": "E f'(sigma xi + beta) = 0 for all beta",
                                      "value": None, "holds": False, "required": True})
    else:
        ok, conds = iso.check(args.expr, sigma=args.sigma, sigma_x=args.sigma_x,
                              sigma_b=args.bias_sigma, dps=dps, grid=args.grid)
        out["isospectral"] = bool(ok)
        out["conditions"] = [c.as_dict(dps) for c in conds]
        if args.bias_sigma > 0:
            betas, cs = iso.slope_evidence(args.expr, args.sigma, args.bias_sigma, dps=dps,
                                           grid=args.grid)
            out["slope_grid"] = [[decimal(b, dps), decimal(c, dps)] for b, c in zip(betas, cs)]
    if args.json:
        emit_json(out)
        return 0
    if out["isospectral"] is not None:
        print(f"# {args.expr}: {'isospectral' if out['isospectral'] else 'not isospectral'}"
              + (f" (bias sigma_b = {args.bias_sigma})" if args.bias_sigma > 0 else ""))
    for c in out["conditions"]:
        tag = "holds" if c["holds"] else "fails"
        extra = "" if c.get("required", True) else "  (scale, reported apart)"
        print(f"{c['name']:<26} {tag:<6} {c['expression']}  value = {c['value']}{extra}")
    if args.solve:
        print(f"# E[xi f(sigma xi)] = {out['stein']}")
        print("# theta2 = 0 for: " + ("; ".join(str(s) for s in out["solutions"]) or "no solution"))
        if out["solutions_with_scale"] is not None:
            print("# and theta1 = sigma_x^2 for: "
                  + ("; ".join(str(s) for s in out["solutions_with_scale"]) or "no solution"))
    if "slope_grid" in out:
        print("# c(beta) = E f'(sigma xi + beta) on the beta grid:")
        for b, c in out["slope_grid"]:
            print(f"{b:>24}  {c}")
    return 0
