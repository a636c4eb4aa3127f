"""``nrmt jacobian``: the limit law of the squared singular values of a deep network's Jacobian.

::

    nrmt jacobian EXPR --depth L --sigma-w SW [--sigma-b SB] [--q0 Q] [--weights iid|orthogonal]
                  [--x X1,X2,... | --auto N] [--dps D] [--cdf] [--param NAME=VALUE ...] [--json]

Numbers (``--sigma-w 1.4142135623730950488``, ``--sigma-w "sqrt(2)"``) are taken exactly. Without
``--q0`` every layer sits at the fixed point q* of the length map; with it, q_1 = σw² q0 + σb².

JSON keys (a contract): ``q_star``, ``chi`` (mean-field, decimal strings or null), ``x``,
``density``, ``cdf`` (lists of decimal strings; ``cdf`` is null with ``--dps`` > 15 unless
``--cdf`` is given), ``atom``, ``moments`` (the first four raw moments
of JJᵀ's eigenvalue law, closed form), ``mean`` (∏ χ_l), ``support`` (list of [lo, hi]),
``q_layers``, ``chi_layers``, ``depth``, ``weights``, ``sigma_w``, ``sigma_b``, ``q0``,
``activation``, ``dps``.

This module only parses, calls the library and formats; it computes no theory itself.
"""

from nrmt.cli._common import (activation_from_args, add_dps, check_points, decimal, decimal_list,
                              emit_json,
                              expression_number, nonnegative_point_list, param_arg, positive_int)

__all__ = ["register", "run", "build_result", "build_model", "MAX_DEPTH"]

#: the deepest network the law is computed for: the mean field, the S-transform product and the
#: printed per-layer lists grow linearly with the depth (depth 1000 takes seconds)
MAX_DEPTH = 10_000


def register(subparsers):
    """Add the ``jacobian`` sub-command."""
    p = subparsers.add_parser(
        "jacobian",
        help="spectrum of J J^T for the input-output Jacobian of a deep network",
        description="Limit law of the eigenvalues of J J^T, J = D_L W_L ... D_1 W_1 "
        "(D_l = diag f'(h_l)), from the S-transform product S = prod_l S_{D_l^2} S_{W W^T} "
        "(Pennington-Schoenholz-Ganguli 2017/2018; Pastur 2020; Pastur-Slavin 2020).",
    )
    p.add_argument("expr", metavar="EXPR", help='activation, e.g. "tanh(x)", "relu(x)"')
    p.add_argument("--depth", type=positive_int, required=True,
                   help=f"number of layers L (at most {MAX_DEPTH})")
    p.add_argument("--sigma-w", type=expression_number(positive=True), required=True, dest="sigma_w",
                   help="weight scale: entries of variance sigma_w^2/N")
    p.add_argument("--sigma-b", type=expression_number(nonnegative=True), default=0, dest="sigma_b",
                   help="bias standard deviation (default 0)")
    p.add_argument("--q0", type=expression_number(nonnegative=True), default=None,
                   help="input mean square |x0|^2/N (default: layers at the fixed point q*)")
    p.add_argument("--weights", choices=("iid", "orthogonal"), default="iid",
                   help="iid weights (default) or Haar-orthogonal weights")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--x", type=nonnegative_point_list, default=None, metavar="X1,X2,...",
                       help="points where the density and CDF are printed")
    where.add_argument("--auto", type=positive_int, default=None, metavar="N",
                       help="an automatic grid of about N points (default 20)")
    add_dps(p)
    p.add_argument("--cdf", action="store_true",
                   help="with --dps > 15, also compute the CDF to dps digits (slow: a tail integral "
                   "per point); with dps <= 15 the CDF is always printed")
    p.add_argument("--param", type=param_arg, action="append", default=[], metavar="NAME=VALUE",
                   help="value of a free parameter of EXPR (repeatable)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def build_model(args):
    """The :class:`~nrmt.models.jacobian.Jacobian` model named by the arguments."""
    from nrmt.models.jacobian import Jacobian

    if args.depth > MAX_DEPTH:
        raise ValueError(f"--depth {args.depth} is beyond what nrmt computes (at most {MAX_DEPTH} "
                         "layers: the cost and the printed per-layer lists grow with the depth)")
    return Jacobian(activation_from_args(args.expr, args.param), args.depth, args.sigma_w,
                    sigma_b=args.sigma_b, q0=args.q0, weights=args.weights)


def _exact_decimal(value, dps):
    """A sympy number (the exact CLI input) as a decimal string."""
    if value is None:
        return None
    import sympy

    return decimal(sympy.N(sympy.sympify(value), dps + 5), dps)


def build_result(args):
    """The JSON-ready result of ``nrmt jacobian``."""
    dps = args.dps
    if args.auto is not None:
        check_points(args.auto, "--auto")
    model = build_model(args)
    law = model.law(dps=dps)
    mf = model.mean_field(dps)
    if args.x is not None:
        x = list(args.x)
    else:
        x = decimal_list(law.grid(args.auto or 20), dps)
    # the law evaluates the density at the decimals as written (x is text)
    density = law.density_decimal(x)
    if dps <= 15 or args.cdf:
        cdf = law.cdf_decimal(x)  # the law reads the decimals (float or mp path)
    else:
        cdf = None
    return {
        "activation": args.expr,
        "depth": args.depth,
        "weights": args.weights,
        "sigma_w": _exact_decimal(args.sigma_w, dps),
        "sigma_b": _exact_decimal(args.sigma_b, dps),
        "q0": _exact_decimal(args.q0, dps),
        "dps": dps,
        "q_star": decimal(mf["q_star"], dps),
        "chi": decimal(mf["chi"], dps),
        "mean": decimal(mf["mean"], dps),
        "q_layers": [decimal(q, dps) for q in mf["q"]],
        "chi_layers": [decimal(c, dps) for c in mf["chi_layers"]],
        "support": [[decimal(a, dps), decimal(b, dps)] for a, b in law.support_mp],
        "atom": decimal(law.atom_mp, dps),
        "moments": [decimal(m, dps) for m in law.moments_mp(4)],
        "x": [decimal(v, dps) for v in x],
        "density": decimal_list(density, dps),
        "cdf": None if cdf is None else decimal_list(cdf, dps),
    }


def run(args):
    """Entry point of ``nrmt jacobian``; returns the exit code."""
    r = build_result(args)
    if args.json:
        emit_json(r)
        return 0
    print(f"nrmt jacobian {r['activation']}: depth {r['depth']}, {r['weights']} weights, "
          f"sigma_w = {r['sigma_w']}, sigma_b = {r['sigma_b']}")
    print(f"  q* = {r['q_star']}   chi = {r['chi']}   mean = prod chi_l = {r['mean']}")
    print(f"  support {', '.join('[' + a + ', ' + b + ']' for a, b in r['support'])}   "
          f"atom at 0: {r['atom']}")
    print("  moments m1..m4: " + ", ".join(r["moments"]))
    print(f"  {'x':>24}  {'density':>24}  {'cdf':>24}")
    for x, d, c in zip(r["x"], r["density"], r["cdf"] or ["-"] * len(r["x"])):
        print(f"  {x:>24}  {d:>24}  {c:>24}")
    return 0
