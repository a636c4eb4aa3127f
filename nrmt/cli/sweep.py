"""``nrmt sweep``: a grid of verification cases on Dask, one row a case; its convergence report.

::

    nrmt sweep SPEC.toml --out FILE.csv|FILE.parquet [--workers N | --scheduler ADDRESS]
               [--resume] [--plot FILE.png] [--no-progress]
    nrmt sweep report FILE [--plot FILE.png] [--json]

SPEC: ``command = "verify"`` (or ``"jacobian"``), ``[grid]`` lists of option values (the cases are
their Cartesian product), ``[fixed]`` single values (:mod:`nrmt.sweep.spec`). A row: ``case`` (a
stable hash of the parameters), ``command``, the options under their names, then the keys of
``nrmt verify --json``. ``report`` JSON keys: ``command``, ``configurations`` (``options``,
``label``, ``points``, ``ks_slope``, ``ks_slope_se``, ``w1_slope``, ``w1_slope_se``,
``ks_scale_slope``, ``w1_scale_slope``).

This module only parses, calls :mod:`nrmt.sweep` and formats.
"""

import sys

from nrmt.cli._common import add_engine, emit_json, output_path, positive_int

__all__ = ["register", "run"]


def register(subparsers):
    """Add the ``sweep`` sub-command."""
    p = subparsers.add_parser(
        "sweep",
        help="run a grid of Monte Carlo checks on Dask (resumable); report convergence rates",
        description="Run every case of a TOML grid of 'nrmt verify' options (command = \"verify\"; "
        "\"jacobian\" for Jacobian checks, \"table\" for nrmt table) as a Dask task (a "
        "local cluster of worker processes, or an existing one with --scheduler), writing one row "
        "a case to a CSV or Parquet file as the cases finish; --resume skips the cases already "
        "in the file. 'nrmt sweep report FILE' fits KS and W1 against n0 on log-log axes per "
        "configuration.",
    )
    p.add_argument("spec", metavar="SPEC.toml|report",
                   help="the sweep specification, or 'report' to report on FILE")
    p.add_argument("file", nargs="?", default=None, metavar="FILE",
                   help="(report) the sweep file to report on")
    p.add_argument("--out", metavar="FILE.csv|FILE.parquet", type=output_path, default=None,
                   help="the sweep file (rows appended as cases finish)")
    add_engine(p, "local Dask cluster of N single-threaded worker processes "
               "(default: one a core)",
               "address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786")
    p.add_argument("--resume", action="store_true",
                   help="keep the rows already in --out and run only the missing cases")
    p.add_argument("--plot", metavar="FILE.png", type=output_path, default=None,
                   help="write the convergence figure (KS and W1 against n0, log-log)")
    p.add_argument("--json", action="store_true", help="(report) print the report as JSON")
    p.add_argument("--no-progress", action="store_true", dest="no_progress",
                   help="never show the progress bar")
    p.set_defaults(func=run)


def run(args):
    """Entry point of ``nrmt sweep``; returns the exit code."""
    if args.spec == "report":
        return _report(args)
    if args.file is not None:
        raise ValueError(f"unexpected argument {args.file!r} (did you mean --out {args.file}?)")
    if args.out is None:
        raise ValueError("--out FILE.csv|FILE.parquet is required")
    if args.json:
        raise ValueError("--json is for 'nrmt sweep report'")
    from nrmt.sweep import load_spec, run_sweep

    cases = load_spec(args.spec).cases()
    progress = not args.no_progress and sys.stderr.isatty()
    result = run_sweep(cases, args.out, workers=args.workers, scheduler=args.scheduler,
                       resume=args.resume, progress=progress,
                       log=lambda text: print(f"nrmt sweep: {text}", file=sys.stderr))
    print(f"nrmt sweep: {result.cases} cases, {result.skipped} already in {args.out}, "
          f"{result.written} written, {len(result.failed)} failed"
          + (f", {result.workers} workers, {result.seconds:.1f} s" if result.workers else ""))
    if args.plot:
        _plot(args.out, args.plot)
    if result.failed:
        print(f"nrmt sweep: {len(result.failed)} case(s) failed; run again with --resume to "
              "retry them", file=sys.stderr)
        return 1
    return 0


def _report(args):
    from nrmt.sweep import format_report, read_rows, report_json, sweep_report

    if args.file is None:
        raise ValueError("nrmt sweep report needs the FILE to report on")
    for flag in ("out", "workers", "scheduler"):
        if getattr(args, flag) is not None:
            raise ValueError(f"--{flag} is not an option of 'nrmt sweep report'")
    if args.resume:
        raise ValueError("--resume is not an option of 'nrmt sweep report'")
    report = sweep_report(read_rows(args.file))
    if args.json:
        emit_json(report_json(report))
    else:
        print(format_report(report))
    if args.plot:
        from nrmt.sweep import plot_report

        plot_report(report, args.plot)
        if not args.json:
            print(f"figure: {args.plot}")
    return 0


def _plot(path, png):
    from nrmt.sweep import plot_report, read_rows, sweep_report

    plot_report(sweep_report(read_rows(path)), png)
    print(f"figure: {png}")
