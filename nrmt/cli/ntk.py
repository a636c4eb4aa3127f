"""``nrmt ntk``: limit spectra of the neural tangent kernel and the conjugate kernel (Fan & Wang 2020).

::

    nrmt ntk EXPR --depth L --gamma G0,G1,...,GL [--input-spectrum FILE|NAME]
             [--x X1,X2,... | --grid A:B:N | --auto N] [--dps D] [--json] [--plot FILE.png]

The network: data X0 (d0 x n, columns of norm ~1), X_l = sigma(W_l X_{l-1})/sqrt(d_l), W_l iid
N(0, 1), f(x) = w^T x_L; gamma_l = n/d_l. The activation EXPR is normalised,
sigma = (f - E f(xi))/sd f(xi), xi ~ N(0, 1) (printed). ``--input-spectrum``: ``marchenko-pastur``
(default: Gaussian data, MP(gamma_0)), ``orthonormal`` (X0^T X0 = I), or a file of the eigenvalues
of a data set's Gram matrix X0^T X0 (``.npy``, or text); a warning is printed when the spectrum
contradicts approximately orthonormal columns (mean far from 1, a large outlier).

JSON keys (a contract): ``activation``, ``depth``, ``gamma``, ``a_sigma``, ``b_sigma``,
``r_plus``, ``q`` (q_0..q_{L-1} of the linearised NTK), ``x``, ``density`` (the NTK's),
``support``, ``atom``, ``moments`` (the NTK's first four raw moments), ``ck_moments``; also
``normalisation``, ``f_mean``, ``f_sd``, ``ck_density``, ``ck_support``, ``ck_atom``,
``input_spectrum``, ``warnings``, ``dps``. Numbers are decimal strings with ``dps`` digits.

``nrmt verify --ntk`` (:func:`run_verify`) samples networks, computes their NTK by explicit
backpropagation and compares both spectra with these laws. This module only parses, calls the
library and formats.
"""

import math
import sys

from nrmt.cli._common import (add_dps, decimal, emit_json, exact_list, grid_spec, output_path,
                              point_list, positive_int)
from nrmt.cli.density import points_from_args

__all__ = ["register", "run", "build_model", "build_result", "run_verify", "add_input_spectrum"]

#: the normalisation, as printed
NORMALISATION = "sigma = (f - E f(xi)) / sd f(xi), xi ~ N(0, 1)"


def add_input_spectrum(parser):
    """The ``--input-spectrum`` option (shared with ``nrmt verify --ntk``)."""
    parser.add_argument("--input-spectrum", dest="input_spectrum", default=None,
                        metavar="FILE|NAME",
                        help="law of X0^T X0: 'marchenko-pastur' (default, Gaussian data), "
                        "'orthonormal', or a .npy/text file of a data set's Gram eigenvalues")


def register(subparsers):
    """Add the ``ntk`` sub-command."""
    p = subparsers.add_parser(
        "ntk",
        help="spectra of the neural tangent kernel and the conjugate kernel (Fan-Wang 2020)",
        description="Limit eigenvalue laws of the NTK and the CK of a depth-L network at linear "
        "width, gamma_l = n/d_l (Fan & Wang 2020, arXiv:2005.11879). The activation is "
        "normalised: sigma = (f - E f)/sd f.",
    )
    p.add_argument("expr", metavar="EXPR", help='activation, e.g. "tanh(x)", "relu(x)"')
    p.add_argument("--depth", type=positive_int, required=True, help="number of layers L")
    p.add_argument("--gamma", type=exact_list, required=True, metavar="G0,G1,...,GL",
                   help="gamma_l = n/d_l for l = 0..L (L + 1 ratios > 0)")
    add_input_spectrum(p)
    where = p.add_mutually_exclusive_group()
    where.add_argument("--x", type=point_list, default=None, metavar="X1,X2,...",
                       help="points where the densities are printed")
    where.add_argument("--grid", type=grid_spec, default=None, metavar="A:B:N",
                       help="N equispaced points from A to B")
    where.add_argument("--auto", type=positive_int, default=None, metavar="N",
                       help="an automatic grid of about N points on the NTK's support (default 200)")
    add_dps(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--plot", metavar="FILE.png", type=output_path, default=None,
                   help="draw the CK and NTK densities side by side into FILE.png")
    p.set_defaults(func=run)


def build_model(args):
    """The :class:`~nrmt.models.ntk.NTK` model named by the arguments."""
    from nrmt.models.ntk import NTK

    if len(args.gamma) != args.depth + 1:
        raise ValueError(f"--gamma needs {args.depth + 1} ratios G0..G{args.depth} for --depth "
                         f"{args.depth}, got {len(args.gamma)}")
    return NTK(args.expr, args.depth, list(args.gamma), input_spectrum=args.input_spectrum)


def _warn(model, command):
    for w in model.warnings:
        print(f"nrmt {command}: warning: {w}", file=sys.stderr)


def _density_text(v, dps):
    import mpmath

    if (isinstance(v, float) and math.isinf(v)) or (isinstance(v, mpmath.mpf) and mpmath.isinf(v)):
        return "inf"
    return decimal(v, dps)


def build_result(args, model=None):
    """The JSON-ready result of ``nrmt ntk`` (and the model and laws)."""
    import mpmath

    dps = args.dps
    model = build_model(args) if model is None else model
    law, ck = model.law(dps), model.ck_law(dps)
    k = model.constants(dps)
    x = points_from_args(args, law)
    if not x:
        raise ValueError("no points to evaluate")
    with mpmath.workdps(dps + 10):
        dens = law.density_decimal(x)
        ck_dens = ck.density_decimal(x)
        res = {
            "activation": args.expr,
            "normalisation": NORMALISATION,
            "f_mean": decimal(k["f_mean"], dps),
            "f_sd": decimal(k["f_sd"], dps),
            "depth": args.depth,
            "gamma": [decimal(g, dps) for g in model.gamma],
            "a_sigma": decimal(k["a_sigma"], dps),
            "b_sigma": decimal(k["b_sigma"], dps),
            "r_plus": decimal(k["r_plus"], dps),
            "q": [decimal(v, dps) for v in k["q"]],
            "input_spectrum": model.input.describe(),
            "warnings": list(model.warnings),
            "dps": dps,
            "x": [decimal(mpmath.mpf(v), dps) for v in x],
            "density": [_density_text(v, dps) for v in dens],
            "support": [[decimal(a, dps), decimal(b, dps)] for a, b in law.support_mp],
            "atom": decimal(law.atom_mp, dps),
            "moments": [decimal(m, dps) for m in law.moments_mp(4)],
            "ck_density": [_density_text(v, dps) for v in ck_dens],
            "ck_support": [[decimal(a, dps), decimal(b, dps)] for a, b in ck.support_mp],
            "ck_atom": decimal(ck.atom_mp, dps),
            "ck_moments": [decimal(m, dps) for m in ck.moments_mp(4)],
        }
    if "input_spectrum" in res and "gamma_0" in res["input_spectrum"]:
        res["input_spectrum"]["gamma_0"] = decimal(res["input_spectrum"]["gamma_0"], dps)
    return res, model


def run(args):
    """Entry point of ``nrmt ntk``."""
    model = build_model(args)
    _warn(model, "ntk")
    res, model = build_result(args, model)
    if args.plot:
        from nrmt.kernel_plot import plot_kernels

        plot_kernels(model.ck_law(), model.law(), path=args.plot,
                     title=f"{args.expr}, L = {args.depth}, gamma = {', '.join(res['gamma'])}")
    if args.json:
        emit_json(res)
        return 0
    print(f"# NTK and CK of {res['activation']}: depth {res['depth']}, gamma = "
          f"{', '.join(res['gamma'])}, input {res['input_spectrum']['law']}")
    print(f"# activation normalised: {NORMALISATION} (E f = {res['f_mean']}, sd f = {res['f_sd']})")
    print(f"# a_sigma = {res['a_sigma']}, b_sigma = {res['b_sigma']}, r_plus = {res['r_plus']}, "
          f"q = {', '.join(res['q'])}")
    print("# NTK support: " + " U ".join(f"[{a}, {b}]" for a, b in res["support"])
          + f", atom at 0: {res['atom']}")
    print("# NTK moments m1..m4: " + ", ".join(res["moments"]))
    print("# CK support: " + " U ".join(f"[{a}, {b}]" for a, b in res["ck_support"])
          + f", atom at 0: {res['ck_atom']}")
    print("# CK moments m1..m4: " + ", ".join(res["ck_moments"]))
    width = max(len(v) for v in res["x"])
    print(f"{'x':>{width}}  {'NTK density':<22}  CK density")
    for a, b, c in zip(res["x"], res["density"], res["ck_density"]):
        print(f"{a:>{width}}  {b:<22}  {c}")
    if args.plot:
        print(f"# figure: {args.plot}")
    return 0


# ------------------------------------------------------------------ nrmt verify --ntk
def _cmp_dict(c, law, noise_ratio, dps, sample_digits):
    def s(v):
        return None if v is None else decimal(float(v), sample_digits)

    return {
        "ks": s(c.ks), "ks_scale": s(c.ks_scale), "ks_ratio": s(c.ks_ratio),
        "ks_split": s(c.ks_split), "ks_noise_ratio": s(noise_ratio),
        "w1": s(c.w1), "w1_scale": s(c.w1_scale), "w1_ratio": s(c.w1_ratio),
        "moments_theory": [decimal(v, min(dps, 15)) for v in law.moments_mp(len(c.moments_theory))]
        if c.moments_theory else [],
        "moments_sample": [s(v) for v in c.moments_sample],
        "moment_se": None if c.moment_se is None else [s(v) for v in c.moment_se],
        "atom_theory": decimal(law.atom_mp, min(dps, 15)), "atom_sample": s(c.atom_sample),
    }


def run_verify(args):
    """``nrmt verify --ntk``: sample networks (n = --n0 data points), compare CK and NTK spectra
    with their limit laws; text or JSON, and a figure with ``--plot``."""
    import time

    from nrmt.verification import SAMPLE_DIGITS, _jsonable

    t0 = time.perf_counter()
    if args.depth is None or args.gamma is None:
        raise ValueError("--ntk needs --depth and --gamma")
    model = build_model(args)
    _warn(model, "verify")
    v = model.verify(args.n0, trials=args.trials, entries=args.entries, rng=args.seed,
                     moments=args.moments)
    res = {
        "ck": _cmp_dict(v.ck, model.ck_law(), v.noise_ratio(v.ck), args.dps, SAMPLE_DIGITS),
        "ntk": _cmp_dict(v.ntk, model.law(), v.noise_ratio(v.ntk), args.dps, SAMPLE_DIGITS),
        "n": int(args.n0),
        "widths": [int(w) for w in v.sample.widths],
        "trials": int(args.trials),
        "seed": args.seed,
        "entries": args.entries,
        "activation": args.expr,
        "normalisation": NORMALISATION,
        "model": _jsonable(model.describe()),
        "seconds_sampling": round(v.seconds_sampling, 3),
        "plot": None,
    }
    if args.plot:
        from nrmt.kernel_plot import plot_kernels

        plot_kernels(model.ck_law(), model.law(), ck_sample=v.sample.ck, ntk_sample=v.sample.ntk,
                     comparisons=(v.ck, v.ntk), path=args.plot,
                     title=f"{args.expr}, L = {args.depth}, n = {args.n0} x {args.trials} trials")
        res["plot"] = args.plot
    res["seconds"] = round(time.perf_counter() - t0, 3)
    if args.json:
        emit_json(res)
        return 0
    widths = " x ".join(str(w) for w in res["widths"])
    print(f"nrmt verify --ntk {args.expr}: n = {res['n']} data points, widths d0..dL = {widths}, "
          f"{res['trials']} network(s), {res['entries']} entries, seed {res['seed']}")
    print(f"  activation normalised: {NORMALISATION}")
    for name in ("ck", "ntk"):
        r = res[name]
        split = "-" if r["ks_split"] is None else f"{float(r['ks_split']):.2g}"
        print(f"  {name.upper():<3} KS = {float(r['ks']):.4g} (rigidity noise ~ {float(r['ks_scale']):.2g}, "
              f"trial-split noise ~ {split}; KS / max = {float(r['ks_noise_ratio']):.2f})   "
              f"W1 = {float(r['w1']):.4g} (noise ~ {float(r['w1_scale']):.2g})")
        if r["moments_theory"]:
            se = r["moment_se"] or [None] * len(r["moments_theory"])
            for k, (t, s, e) in enumerate(zip(r["moments_theory"], r["moments_sample"], se), 1):
                es = "-" if e is None else f"{float(e):.3g}"
                print(f"      m{k}  theory {float(t):<15.10g} sample {float(s):<15.10g} s.e. {es}")
    if args.trials < 2:
        print("  (the NTK's network-to-network noise and the moments' standard errors need "
              "--trials >= 2)")
    print(f"  {res['seconds']:.2f} s ({res['seconds_sampling']:.2f} s sampling)")
    if res["plot"]:
        print(f"  figure: {res['plot']}")
    return 0
