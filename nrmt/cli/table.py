"""``nrmt table``: a density/CDF table of the one-layer law, for publication or later checking.

::

    nrmt table EXPR --phi P --psi Q [--sigma S] [--dps D] [--points N] [--format csv|json]
               [--output FILE] [--workers N | --scheduler ADDRESS]

The table lists ``x``, the density ``rho(x)`` (absolutely continuous part, the atom excluded) and the
CDF ``F(x)`` (atom included) on the law's ``auto`` grid, which resolves the support edges and the
neighbourhood of 0 (:meth:`nrmt.numerics.law.Law.grid`). Every number is printed with ``dps``
significant digits. CSV output starts with ``#`` header lines recording what is needed to
re-compute any row: the activation, θ1, θ2, φ, ψ, σ, dps, nrmt's version, the support and the atom.

This module only parses, calls the library and formats; it computes no theory itself.
"""

import csv
import io
import sys

from nrmt.cli._common import (add_dps, add_engine, check_points, decimal, decimal_list, emit_json,
                              exact_positive, output_path, positive_int)

__all__ = ["register", "run", "build_table", "format_csv", "DEFAULT_POINTS"]

#: Default number of grid points (the issue asks for at least 200 rows).
DEFAULT_POINTS = 240


def register(subparsers):
    """Add the ``table`` sub-command to the ``nrmt`` parser."""
    p = subparsers.add_parser(
        "table",
        help="density/CDF table of the one-layer law on an edge-resolving grid",
        description="Write a table of the limiting eigenvalue law of M = (1/m) Y Y^T, Y = f(WX) "
        "(Pennington-Worah 2017): x, density rho(x) (atom excluded) and CDF F(x) (atom included) on "
        "a grid that resolves the support edges, every value with DPS significant digits. CSV output "
        "(the default) starts with '#' lines recording the activation, theta1, theta2, phi, psi, "
        "sigma, dps, the nrmt version, the support and the atom.",
    )
    p.add_argument("expr", metavar="EXPR", help='activation, e.g. "tanh(x)", "relu", "x**3 - 3*x"')
    p.add_argument("--phi", type=exact_positive, required=True, help="phi = n0/m")
    p.add_argument("--psi", type=exact_positive, required=True, help="psi = n0/n1")
    p.add_argument("--sigma", type=exact_positive, default=1,
                   help="sigma = sigma_w * sigma_x, the pre-activation scale (default 1)")
    add_dps(p)
    p.add_argument("--points", type=positive_int, default=DEFAULT_POINTS,
                   help=f"number of grid points (default {DEFAULT_POINTS}); the grid is the law's "
                   "'auto' grid, denser near the support edges and near 0")
    p.add_argument("--format", choices=("csv", "json"), default="csv",
                   help="csv (default; '#' header lines, then x,density,cdf) or json (one object)")
    p.add_argument("--output", "-o", metavar="FILE", type=output_path, default=None,
                   help="write to FILE instead of standard output")
    add_engine(p, "spread the CDF integrals over a local Dask cluster of N worker "
               "processes (the same file, byte for byte)",
               "spread them over the Dask cluster at ADDRESS (tcp://HOST:PORT)")
    p.set_defaults(func=run)


def build_table(expr, phi, psi, sigma=1, dps=15, points=DEFAULT_POINTS, integrals=None):
    """The table as a dict of decimal strings (the JSON object ``nrmt table --format json`` prints).

    ``integrals``: how the CDF's integrals are computed (:meth:`nrmt.numerics.law.Law.cdf`; on
    Dask workers with :func:`nrmt.sweep.tables.dask_integrals`), the same digits either way.

    Keys: ``activation`` (the text given), ``expression`` (the parsed sympy form), ``phi``, ``psi``, ``sigma``, ``dps``, ``theta1``, ``theta2``, ``version``,
    ``support`` (list of ``[lo, hi]``), ``atom``, ``columns`` (``["x", "density", "cdf"]``),
    ``x``, ``density``, ``cdf`` (lists of decimal strings with ``dps`` significant digits).
    """
    from nrmt import __version__
    from nrmt.models.one_layer import OneLayer
    from nrmt.theory.activations import as_activation

    model = OneLayer(expr, phi, psi, sigma)
    law = model.law(dps=dps)
    # the constants the law was built from, to dps digits (exact sympy numbers when known)
    theta1, theta2 = (_number(v, dps) for v in model.thetas(dps))
    # The printed x are the grid points rounded to dps digits; density and CDF are evaluated at
    # exactly those decimals, so that every row can be re-computed from the text alone (the law
    # chooses the path that keeps the density right at the decimal, next to an edge too).
    x_text = decimal_list(law.grid(points), dps)
    density = law.density_decimal(x_text)
    cdf = law.cdf_decimal(x_text, integrals=integrals)
    return {
        "activation": expr,
        "expression": str(as_activation(expr).expr),
        "phi": decimal(phi, dps),
        "psi": decimal(psi, dps),
        "sigma": decimal(sigma, dps),
        "dps": dps,
        "theta1": decimal(theta1, dps),
        "theta2": decimal(theta2, dps),
        "version": __version__,
        "support": [[decimal(lo, dps), decimal(hi, dps)] for lo, hi in law.support_mp],
        "atom": decimal(law.atom_mp, dps),
        "columns": ["x", "density", "cdf"],
        "x": x_text,
        "density": decimal_list(density, dps),
        "cdf": decimal_list(cdf, dps),
    }


def _number(value, dps):
    """An mpf with dps + 10 digits from an mpf or an exact sympy number."""
    import mpmath

    with mpmath.workdps(dps + 10):
        if hasattr(value, "evalf"):  # sympy
            return mpmath.mpf(str(value.evalf(dps + 10)))
        return +mpmath.mpf(value)


def format_csv(table):
    """CSV text: ``#`` header lines (``# key: value``), then ``x,density,cdf`` rows."""
    support = " ".join(f"[{lo}, {hi}]" for lo, hi in table["support"])
    head = [
        "# nrmt table: limiting eigenvalue law of M = (1/m) Y Y^T, Y = f(WX) (Pennington-Worah 2017, Thm 1)",
        f"# activation: {table['activation']}",
        f"# expression: {table['expression']}",
        f"# theta1: {table['theta1']}",
        f"# theta2: {table['theta2']}",
        f"# phi: {table['phi']}",
        f"# psi: {table['psi']}",
        f"# sigma: {table['sigma']}",
        f"# dps: {table['dps']}",
        f"# nrmt version: {table['version']}",
        f"# support: {support}",
        f"# atom: {table['atom']}",
        "# columns: x = eigenvalue; density = rho(x), the absolutely continuous part (atom excluded); "
        "cdf = F(x), atom at 0 included",
    ]
    buf = io.StringIO()
    buf.write("\n".join(head) + "\n")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(table["columns"])
    for row in zip(table["x"], table["density"], table["cdf"]):
        writer.writerow(row)
    return buf.getvalue()


def run(args):
    """Compute the table and write it (CSV or JSON) to standard output or ``--output``."""
    check_points(args.points, "--points")
    from nrmt.sweep.tables import dask_integrals

    recipe = ("one-layer", args.expr, args.phi, args.psi, args.sigma, args.dps)
    with dask_integrals(recipe, workers=args.workers, scheduler=args.scheduler) as integrals:
        table = build_table(args.expr, args.phi, args.psi, args.sigma, args.dps, args.points,
                            integrals=integrals)
    if args.output is None:
        stream, close = sys.stdout, False
    else:
        stream, close = open(args.output, "w", encoding="utf-8"), True
    try:
        if args.format == "json":
            emit_json(table, stream)
        else:
            stream.write(format_csv(table))
    finally:
        if close:
            stream.close()
    return 0
