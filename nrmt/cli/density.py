"""``nrmt density``: the limiting eigenvalue density of the one-layer model at chosen points.

::

    nrmt density EXPR --phi P --psi Q [--sigma S | --sigma-w SW --sigma-x SX]
                 [--x X1,X2,... | --grid A:B:N | --auto N] [--dps D] [--json | --csv]
                 [--plot FILE.png]
    nrmt density --theta1 A --theta2 B --phi P --psi Q ...

Prints the density ρ(x) (continuous part; the atom at 0 is reported separately), the support, the
atom and the first four moments, every number with ``dps`` significant digits. ``--json`` keys
(a contract): ``model``, ``activation``, ``phi``, ``psi``, ``sigma``, ``sigma_w``, ``sigma_x``,
``dps``, ``theta1``, ``theta2``, ``x``, ``density``, ``support``, ``atom``, ``moments``.

The model is built by :func:`build_model` (one place to extend: bias, several layers). Parameter
values are read exactly as written (``--phi 0.1`` is 1/10, not the nearest float), so high ``dps``
answers refer to the decimal given. This module only parses, calls the library and formats.
"""

import math
import sys

from nrmt.cli._common import (MAX_POINTS, Decimals, add_dps, check_points, decimal, decimal_list,
                              decimal_ratio, emit_json, exact_list, exact_nonnegative,
                              exact_positive, grid_spec, output_path, point_list, positive_int,
                              progress_bar)

__all__ = ["register", "run", "build_model", "points_from_args", "result_dict", "grid_points"]

DEFAULT_AUTO = 200

#: points evaluated per call of the law when a progress bar is shown
_CHUNK = 50_000


def grid_points(a, b, n, digits):
    """``n`` equispaced points from ``a`` to ``b`` (decimal text): the exact rationals
    a + k (b - a)/(n - 1), each rounded once to ``digits`` significant digits (exact integer
    arithmetic; a point that is exactly 0 is ``0``), in the printed layout.

    >>> grid_points("0", "1", 3, 5), grid_points("-0.5", "0.5", 7, 4)[2:5]
    (['0', '0.5', '1.0'], ['-0.1667', '0', '0.1667'])
    """
    from fractions import Fraction

    fa, fb = Fraction(a), Fraction(b)
    if n == 1:
        return Decimals([decimal_ratio(fa.numerator, fa.denominator, digits)[0]], digits)
    m = n - 1
    den = fa.denominator * fb.denominator // math.gcd(fa.denominator, fb.denominator)
    pa, pb = fa.numerator * (den // fa.denominator), fb.numerator * (den // fb.denominator)
    # point k is (pa (m - k) + pb k) / (den m): the numerator moves by pb - pa from one to the next
    num, step, den_m = pa * m, pb - pa, den * m
    out = []
    append = out.append
    hint = None
    lo, hi = 10 ** (digits - 1), 10 ** digits
    scale_n = scale_d = 1  # |point| 10^(digits - 1 - e) = |num| scale_n / (den_m scale_d)
    d = lo_d = hi_d = 0  # (empty range: the first point takes the general path)
    for _ in range(n):
        a = -num if num < 0 else num
        nn = a * scale_n
        if num == 0 or not lo_d <= nn < hi_d:  # zero, or a new decade: the general rounding
            text, e = decimal_ratio(num, den_m, digits, hint)
            append(text)
            num += step
            if e is not None and -5 < e < digits:  # the decade's constants for the fast path
                hint, p = e, digits - 1 - e
                scale_n, scale_d = (10**p, 1) if p >= 0 else (1, 10**-p)
                d = den_m * scale_d
                lo_d, hi_d = lo * d, hi * d
            continue
        # 10^e <= |point| < 10^(e+1) with -5 < e < digits: nstr's fixed layout
        q, r = divmod(nn, d)
        if 2 * r > d or (2 * r == d and q & 1):
            q += 1
            if q == hi:
                text, _ = decimal_ratio(num, den_m, digits, hint)
                append(text)
                num += step
                continue
        sd = str(q)
        if hint >= 0:
            text = (sd[:hint + 1] + "." + sd[hint + 1:]).rstrip("0")
            if text[-1] == ".":
                text += "0"
        else:
            text = ("0." + "0" * (-hint - 1) + sd).rstrip("0")
        append(text if num > 0 else "-" + text)
        num += step
    return Decimals(out, digits)


def register(subparsers):
    """Add the ``density`` sub-command."""
    p = subparsers.add_parser(
        "density",
        help="limiting eigenvalue density of (1/m) f(WX) f(WX)^T at chosen points",
        description="Density, support, atom and moments of the limiting eigenvalue law of "
        "M = (1/m) Y Y^T, Y = f(WX) (Pennington-Worah 2017, Thm 1), every number with DPS "
        "significant digits. Give the activation EXPR, or its constants --theta1/--theta2.",
    )
    p.add_argument("expr", metavar="EXPR", nargs="?", default=None,
                   help='activation, e.g. "tanh(x)", "relu(x)", "x**3 - 3*x"')
    p.add_argument("--theta1", type=exact_positive, default=None,
                   help="theta1 = E f(sigma Z)^2 - mu^2 (instead of EXPR)")
    p.add_argument("--theta2", type=exact_nonnegative, default=None,
                   help="theta2 = (E[Z f(sigma Z)])^2 (instead of EXPR)")
    p.add_argument("--phi", type=exact_positive, required=True, help="phi = n0/m")
    p.add_argument("--psi", type=exact_list, required=True,
                   help="psi = n0/n1 (a comma list Q1,...,QL for several layers)")
    p.add_argument("--sigma", type=exact_positive, default=None,
                   help="sigma = sigma_w * sigma_x, scale of the pre-activations (default 1)")
    p.add_argument("--sigma-w", dest="sigma_w", type=exact_positive, default=None,
                   help="weight scale sigma_w (sigma = sigma_w * sigma_x)")
    p.add_argument("--bias-sigma", dest="bias_sigma", type=exact_nonnegative, default=None,
                   help="bias standard deviation sigma_b: Y = f(WX + b 1^T), b iid N(0, sigma_b^2)")
    p.add_argument("--sigma-x", dest="sigma_x", type=exact_positive, default=None,
                   help="data scale sigma_x (sigma = sigma_w * sigma_x)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--x", type=point_list, default=None, metavar="X1,X2,...",
                       help="points where the density is evaluated (decimals, taken exactly)")
    where.add_argument("--grid", type=grid_spec, default=None, metavar="A:B:N",
                       help=f"N equispaced points from A to B (N <= {MAX_POINTS})")
    where.add_argument("--auto", type=positive_int, default=None, metavar="N",
                       help=f"about N points resolving the support edges and 0 (default {DEFAULT_AUTO})")
    add_dps(p)
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="one JSON object (see the module doc for keys)")
    fmt.add_argument("--csv", action="store_true", help="CSV: x,density")
    p.add_argument("--plot", metavar="FILE.png", type=output_path, default=None,
                   help="also draw the density into FILE.png")
    p.add_argument("--certified", action="store_true",
                   help="also give rigorous enclosures [lo, hi] of the density at each point (ball "
                   "arithmetic; JSON key 'enclosures'; null where a point cannot be certified)")
    p.set_defaults(func=run)


def build_model(args):
    """The model the arguments describe (extend here for bias and several layers).

    Returns an object with ``law(dps)`` and ``describe(dps)`` (see :class:`~nrmt.models.one_layer.OneLayer`).
    """
    from nrmt.models.one_layer import OneLayer

    given_constants = args.theta1 is not None or args.theta2 is not None
    if given_constants and args.expr is not None:
        raise ValueError("give either EXPR or --theta1/--theta2, not both")
    if not given_constants and args.expr is None:
        raise ValueError("give an activation EXPR or --theta1 A --theta2 B")
    if given_constants and (args.theta1 is None or args.theta2 is None):
        raise ValueError("--theta1 and --theta2 go together")
    bias = getattr(args, "bias_sigma", None) or 0
    if len(args.psi) != 1 or bias:
        # several layers and/or a bias: nrmt.models.layers / nrmt.models.bias (engineer E)
        if given_constants:
            raise ValueError("--theta1/--theta2 describe one bias-free layer: give an activation EXPR")
        from nrmt.models.bias import Bias
        from nrmt.models.layers import Layers

        if args.sigma is not None and args.sigma_w is None and args.sigma_x is None:
            sw, sx = args.sigma, 1
        else:
            sw = args.sigma_w if args.sigma_w is not None else 1
            sx = args.sigma_x if args.sigma_x is not None else 1
        if len(args.psi) == 1:
            return Bias(args.expr, args.phi, args.psi[0], bias, sigma_w=sw, sigma_x=sx)
        return Layers(args.expr, args.phi, list(args.psi), sigma_w=sw, sigma_x=sx, sigma_b=bias)
    psi = args.psi[0]
    if args.sigma is not None and (args.sigma_w is not None or args.sigma_x is not None):
        sw = args.sigma_w if args.sigma_w is not None else 1
        sx = args.sigma_x if args.sigma_x is not None else 1
        if args.sigma != sw * sx:
            raise ValueError(f"--sigma must equal sigma_w * sigma_x = {sw * sx}, got {args.sigma}")
    if given_constants:
        if args.sigma is not None or args.sigma_w is not None or args.sigma_x is not None:
            raise ValueError("--sigma/--sigma-w/--sigma-x apply to an activation, not to --theta1/--theta2")
        return OneLayer.from_constants(args.theta1, args.theta2, phi=args.phi, psi=psi)
    sigma = args.sigma if args.sigma is not None else 1
    return OneLayer(args.expr, args.phi, psi, sigma, sigma_w=args.sigma_w, sigma_x=args.sigma_x)


def _requested_points(args):
    """How many points the arguments ask for (checked before any computation)."""
    if args.x is not None:
        return len(args.x), "--x"
    if args.grid is not None:
        return args.grid[2], "--grid"
    return (args.auto if args.auto is not None else DEFAULT_AUTO), "--auto"


def points_from_args(args, law):
    """The evaluation points as decimal text: ``--x`` as written, ``--grid`` and the law's auto
    grid rounded to dps digits (the decimals printed are the points evaluated)."""
    dps = law.dps
    if args.x is not None:
        return list(args.x)
    if args.grid is not None:
        a, b, n = args.grid
        return grid_points(a, b, n, dps)
    n = args.auto if args.auto is not None else DEFAULT_AUTO
    return Decimals(decimal_list(law.grid(max(n, 2)), dps), dps)


def _densities(law, x):
    """The law's density at the decimal points (the law picks the path), with a progress bar on a
    terminal when there are many."""
    bar = progress_bar(len(x), "density") if len(x) > 2 * _CHUNK else None
    if bar is None:
        return law.density_decimal(x)
    out = []
    try:
        for k in range(0, len(x), _CHUNK):
            out.extend(law.density_decimal(x[k:k + _CHUNK]))
            bar.update(min(_CHUNK, len(x) - k))
    finally:
        bar.close()
    return out


def result_dict(model, law, x, dps):
    """The JSON object (decimal strings with ``dps`` digits for every computed number)."""
    desc = model.describe(dps)
    dens = _densities(law, x)
    return {
        "model": desc["model"],
        "activation": desc["activation"],
        "phi": _num(desc["phi"]),
        "psi": [_num(p) for p in desc["psi"]] if isinstance(desc["psi"], list) else _num(desc["psi"]),
        "sigma": _num(desc["sigma"]) if desc["activation"] is not None else None,
        "sigma_w": _num(desc["sigma_w"]),
        "sigma_x": _num(desc["sigma_x"]),
        "dps": dps,
        "theta1": decimal(desc["theta1"], dps),
        "theta2": decimal(desc["theta2"], dps),
        "theta1_exact": desc.get("theta1_exact"),
        "theta2_exact": desc.get("theta2_exact"),
        "x": decimal_list(x, dps),
        "density": _dec_densities(dens, dps),
        "support": [[decimal(a, dps), decimal(b, dps)] for a, b in law.support_mp],
        "atom": decimal(law.atom_mp, dps),
        "moments": [decimal(m, dps) for m in law.moments_mp(4)],
        **_layers_keys(desc, dps),
    }


def _as_list(values):
    return values.tolist() if hasattr(values, "tolist") else list(values)


def _layers_keys(desc, dps):
    """The ``layers`` key (several layers / bias, engineer E): one object per layer."""
    if "layers" not in desc:
        return {}
    out = {"layers": [{k: (decimal(v, dps) if v is not None else None) for k, v in layer.items()}
                      for layer in desc["layers"]]}
    if "sigma_b" in desc:
        out["bias_sigma"] = _num(desc["sigma_b"])
    return out


def _num(v):
    if v is None:
        return None
    f = float(v)
    return int(f) if f == int(f) and abs(f) < 2**53 else f


def _dec_densities(values, dps):
    """The densities as decimals (a float64 array formatted in one pass), ``inf`` at a hard edge."""
    texts = decimal_list(values, dps)
    inf = float("inf")
    for i, v in enumerate(_as_list(values)):
        if v == inf:
            texts[i] = "inf"
    return texts


def run(args):
    n, option = _requested_points(args)
    check_points(n, option)
    model = build_model(args)
    law = model.law(args.dps)
    dps = args.dps
    digits = getattr(model, "digits", None)
    if digits is not None and digits < dps <= 15:
        # print only the digits the float path delivers (bias: the trapezoid rule in b at 106
        # bits); above dps 15 the mpmath path delivers every digit asked
        print(f"nrmt density: note: this law is computed to about {digits} digits; printing {digits} "
              f"(asked {dps})", file=sys.stderr)
        dps = digits
    x = points_from_args(args, law)
    if not x:
        raise ValueError("no points to evaluate")
    res = result_dict(model, law, x, dps)
    if getattr(args, "certified", False):
        if not hasattr(model, "certified"):
            raise ValueError("--certified is available for the one-layer model only")
        res["enclosures"] = model.certified(dps).enclosures(x, strict=False)
    if args.plot:
        import numpy as np

        from nrmt.plotting import plot_density

        # the law alone (an empty sample): nrmt.plotting draws density, edges and atom
        params = {k: res[k] for k in ("activation", "phi", "psi", "theta1", "theta2") if res[k] is not None}
        ax = plot_density(np.empty(0), law.with_dps(15), params=params)
        ax.figure.savefig(args.plot, dpi=120, bbox_inches="tight")
    if args.json:
        emit_json(res)
    elif args.csv:
        sys.stdout.write("x,density\n" + "".join(f"{a},{b}\n" for a, b in zip(res["x"], res["density"])))
    else:
        name = res["activation"] or f"theta1={res['theta1']}, theta2={res['theta2']}"
        print(f"# {res['model']} law: {name}, phi={res['phi']}, psi={res['psi']}"
              + (f", sigma={res['sigma']}" if res["sigma"] is not None else ""))
        print(f"# theta1 = {res['theta1']}, theta2 = {res['theta2']}")
        print("# support: " + " U ".join(f"[{a}, {b}]" for a, b in res["support"]))
        print(f"# atom at 0: {res['atom']}")
        print("# moments m1..m4: " + ", ".join(res["moments"]))
        width = max(len(v) for v in res["x"])
        print(f"{'x':>{width}}  density")
        for a, b in zip(res["x"], res["density"]):
            print(f"{a:>{width}}  {b}")
        if "enclosures" in res:
            print("# certified enclosures (ball arithmetic, rounded outward; - = not certifiable)")
            for a, e in zip(res["x"], res["enclosures"]["density"]):
                print(f"{a:>{width}}  " + (f"[{e[0]}, {e[1]}]" if e else "-"))
    return 0
