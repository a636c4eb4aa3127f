"""``nrmt verify``: sample the model's matrices and measure the distance to its limit law.

::

    nrmt verify EXPR --phi P --psi Q --n0 N [--sigma S | --sigma-w SW --sigma-x SX]
                [--entries LAW] [--trials T] [--seed K] [--moments K] [--dps D]
                [--param NAME=VALUE ...] [--json] [--plot FILE.png] [--logx]

LAW: ``gaussian`` (default), ``rademacher``, ``uniform``, ``student-t:NU`` (NU > 4),
``bernoulli:P`` (sparse, 0 < P <= 1); entries of X and W, rescaled to the model's variances.
Sizes: n1 = round(n0/ψ), m = round(n0/φ). ``--psi`` takes a comma list (one ψ per layer, for the
several-layer model); ``--sigma`` is σ = σ_w σ_x (one layer), ``--sigma-w``/``--sigma-x`` set them
apart (defaults 1).

JSON keys (a contract): ``ks``, ``ks_scale``, ``ks_ratio``, ``ks_split``, ``w1``, ``w1_scale``,
``moments_theory``, ``moments_sample``, ``moment_se``, ``atom_theory``, ``atom_sample`` (decimal
strings; theory values with ``--dps`` digits), ``n0``, ``n1``, ``m``, ``trials``, ``seed`` (plain
integers), ``entries``, ``model`` (the model's ``describe()``), ``seconds`` (wall-clock of the whole
run), ``seconds_sampling``, ``plot`` (the file written or null).

The computation is :func:`nrmt.verification.verify_run` (``nrmt sweep`` runs the same function in
Dask tasks); this module parses, calls it and formats.
"""

import argparse
import sys

from nrmt.cli._common import (add_dps, emit_json, exact_list, exact_nonnegative, exact_positive,
                              int_between, nonnegative_int, output_path, param_arg, positive_int)

__all__ = ["register", "run", "build_model", "model_sizes", "build_result", "entries_arg",
           "check_resources"]

def __getattr__(name):
    # nrmt.verification is imported when a verification runs, not when the parser is built
    if name in ("build_model", "model_sizes", "check_resources"):
        import nrmt.verification

        return getattr(nrmt.verification, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def entries_arg(text):
    """argparse type for ``--entries``: an entry-law spec (checked by ``entry_law``)."""
    from nrmt.numerics.entries import entry_law

    try:
        return entry_law(text).name
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(subparsers):
    """Add the ``verify`` sub-command to the ``nrmt`` parser."""
    p = subparsers.add_parser(
        "verify",
        help="Monte Carlo check of a limit law: KS, W1 and moments against sampled spectra",
        description="Sample M = (1/m) Y Y^T with Y = f(W X) (n1 x n0 weights of variance "
        "sigma_w^2/n0, n0 x m data of variance sigma_x^2; f centred by its Gaussian mean), pool "
        "the eigenvalues of T independent matrices and compare them with the model's limit law: "
        "Kolmogorov-Smirnov and Wasserstein-1 distances and the first moments, each with the "
        "noise scale to expect at that size. n1 = round(n0/psi), m = round(n0/phi).",
    )
    p.add_argument("expr", metavar="EXPR", help='activation, e.g. "tanh(x)", "relu(x) - 1/sqrt(2*pi)"')
    p.add_argument("--phi", type=exact_positive, default=None,
                   help="phi = n0/m > 0 (required unless --jacobian)")
    p.add_argument("--psi", type=exact_list, default=None, metavar="Q[,Q2,...]",
                   help="psi = n0/n1 > 0 (a comma list gives one psi_l = n_{l-1}/n_l per layer)")
    p.add_argument("--n0", type=positive_int, required=True, help="input dimension n0")
    p.add_argument("--sigma", type=exact_positive, default=None,
                   help="sigma = sigma_w * sigma_x (one layer; default 1)")
    p.add_argument("--sigma-w", type=exact_positive, default=None, dest="sigma_w",
                   help="weight scale sigma_w (default 1)")
    p.add_argument("--sigma-x", type=exact_positive, default=None, dest="sigma_x",
                   help="data scale sigma_x (default 1)")
    p.add_argument("--bias-sigma", type=exact_nonnegative, default=0, dest="bias_sigma",
                   help="bias standard deviation sigma_b of Y = f(WX + b 1^T) (default 0)")
    p.add_argument("--entries", type=entries_arg, default="gaussian", metavar="LAW",
                   help="entry law of X and W: gaussian (default), rademacher, uniform, "
                   "student-t:NU (NU > 4), bernoulli:P (sparse, 0 < P <= 1)")
    p.add_argument("--trials", type=positive_int, default=1, help="independent matrices (default 1)")
    p.add_argument("--seed", type=nonnegative_int, default=None, help="random seed (reproducible run)")
    p.add_argument("--moments", type=int_between(0, 8), default=4, metavar="K",
                   help="number of raw moments compared (default 4)")
    add_dps(p)
    p.add_argument("--param", type=param_arg, action="append", default=[], metavar="NAME=VALUE",
                   help="value of a free parameter of EXPR (repeatable)")
    p.add_argument("--json", action="store_true", help="print one JSON object (no progress bar)")
    p.add_argument("--plot", metavar="FILE.png", type=output_path, default=None,
                   help="write a figure: histogram over the density, CDF comparison")
    p.add_argument("--logx", action="store_true", help="logarithmic eigenvalue axis in the plot")
    p.add_argument("--no-progress", action="store_true", dest="no_progress",
                   help="never show the progress bar")
    jac = p.add_argument_group("deep Jacobians (--jacobian): squared singular values of "
                               "J = D_L W_L ... D_1 W_1, width N = --n0, against nrmt jacobian's law")
    jac.add_argument("--jacobian", action="store_true",
                     help="verify the Jacobian spectrum (needs --depth and --sigma-w)")
    jac.add_argument("--depth", type=positive_int, default=None, help="number of layers L")
    jac.add_argument("--sigma-b", type=exact_nonnegative, default=0, dest="sigma_b",
                     help="bias standard deviation (default 0)")
    jac.add_argument("--q0", type=exact_nonnegative, default=None,
                     help="input mean square (default: layers at the fixed point q*)")
    jac.add_argument("--weights", choices=("iid", "orthogonal"), default="iid",
                     help="iid weights (entries from --entries) or Haar-orthogonal")
    ntk = p.add_argument_group("NTK and CK (--ntk): n = --n0 data points, network of depth "
                               "--depth, gamma_l = n/d_l; against nrmt ntk's laws")
    ntk.add_argument("--ntk", action="store_true",
                     help="verify the NTK and CK spectra (needs --depth and --gamma)")
    ntk.add_argument("--gamma", type=exact_list, default=None, metavar="G0,G1,...,GL",
                     help="gamma_l = n/d_l for l = 0..L")
    _add_input_spectrum(ntk)
    p.set_defaults(func=run)


def _add_input_spectrum(group):
    from nrmt.cli.ntk import add_input_spectrum

    add_input_spectrum(group)


def build_result(args, progress=False):
    """Run the verification (:func:`nrmt.verification.verify_run`); return (result dict for JSON,
    sample, law, comparison, model)."""
    from nrmt.verification import VERIFY_OPTIONS, verify_run

    options = {name: getattr(args, "expr" if name == "activation" else name)
               for name in VERIFY_OPTIONS}
    run = verify_run(progress=progress, **options)
    return run.result, run.sample, run.law, run.comparison, run.model


def _params(args, result):
    from nrmt.verification import scales

    sigma_w, sigma_x = scales(args)
    psi = None if args.psi is None else [float(p) for p in args.psi]
    params = {"model": args.expr, "phi": None if args.phi is None else float(args.phi),
              "psi": None if psi is None else (psi[0] if len(psi) == 1 else psi)}
    if args.sigma is not None or (sigma_w, sigma_x) != (1, 1):
        params["sigma_w"], params["sigma_x"] = float(sigma_w), float(sigma_x)
    if getattr(args, "depth", None) is not None:
        params["depth"] = args.depth
    params["entries"] = args.entries
    params["n0"] = result["n0"]
    return params


def run(args):
    """Entry point of ``nrmt verify``; returns the exit code."""
    if getattr(args, "ntk", False):
        from nrmt.cli.ntk import run_verify

        return run_verify(args)
    progress = not args.json and not args.no_progress and sys.stderr.isatty()
    result, sample, law, cmp, model = build_result(args, progress=progress)
    if args.plot:
        from nrmt.plotting import plot_comparison

        plot_comparison(sample, law, cmp, params=_params(args, result), path=args.plot,
                        logx=args.logx)
        result["plot"] = args.plot
    if args.json:
        emit_json(result)
        return 0
    _print_text(result, cmp)
    return 0


def _print_text(r, cmp):
    out = sys.stdout
    widths = " x ".join(str(w) for w in r["widths"])
    print(f"nrmt verify {r['activation']}: widths {widths}, m = {r['m']}, {r['trials']} trial(s), "
          f"{r['entries']} entries, seed {r['seed']}", file=out)
    print(f"  KS  = {float(r['ks']):.4g}   (finite-n noise ~ {float(r['ks_scale']):.2g}, "
          f"ratio {float(r['ks_ratio']):.2f})", file=out)
    print(f"  W1  = {float(r['w1']):.4g}   (finite-n noise ~ {float(r['w1_scale']):.2g})", file=out)
    print(f"  atom at 0: theory {float(r['atom_theory']):.6g}, sample {float(r['atom_sample']):.6g}",
          file=out)
    if r["moments_theory"]:
        print("  moments     theory            sample            std. error", file=out)
        se = r["moment_se"] or [None] * len(r["moments_theory"])
        for k, (t, s, e) in enumerate(zip(r["moments_theory"], r["moments_sample"], se), 1):
            es = "-" if e is None else f"{float(e):.3g}"
            print(f"  m{k}   {float(t):<17.10g} {float(s):<17.10g} {es}", file=out)
    if cmp.trials < 2:
        print("  (standard errors of the moments need --trials >= 2)", file=out)
    print(f"  {r['seconds']:.2f} s ({r['seconds_sampling']:.2f} s sampling)", file=out)
    if r["plot"]:
        print(f"  figure: {r['plot']}", file=out)
