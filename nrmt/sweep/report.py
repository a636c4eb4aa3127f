r"""Convergence report of a sweep of Monte Carlo checks: KS and W1 against n0, with fitted rates.

A *configuration* is a set of rows equal in every option but ``n0`` and ``seed`` (the seeds are
replicates). For each, the report lists per ``n0`` the mean KS and W1 distances with the finite-n
noise scales ``ks_scale``/``w1_scale`` that :func:`nrmt.compare` attaches to them, and fits

.. math::  \log D = a + b \log n_0

by least squares over every row (each seed a point), for D = KS and D = W1: the slope b with its
standard error :math:`\sqrt{s^2 / \sum (x_i - \bar x)^2}`, :math:`s^2` the residual variance on
N − 2 degrees of freedom (no error with fewer than three rows). A distance at the noise level
decreases like the noise scale (KS ~ n^−1 for a smooth activation, where the eigenvalue CDF
converges at rate 1/n); a slope flatter than the noise's points at a bias (a wrong limit law).

>>> rows = [{"command": "verify", "activation": "x", "n0": str(n), "seed": str(s),
...          "ks": repr(2.0 / n * (1 + 0.01 * s)), "w1": repr(3.0 / n), "ks_scale": repr(1.0 / n),
...          "w1_scale": repr(1.5 / n), "ks_ratio": "1"} for n in (100, 200, 400) for s in (1, 2)]
>>> (conf,) = sweep_report(rows).configurations
>>> round(conf.ks_fit.slope, 6), round(conf.w1_fit.slope, 6)
(-1.0, -1.0)
"""

import math
from dataclasses import dataclass, field

from nrmt.sweep.commands import COMMANDS, option_column

__all__ = ["sweep_report", "Report", "Configuration", "Fit", "fit_power_law", "format_report",
           "plot_report", "report_json"]

#: options that vary inside one configuration
_AXES = ("n0", "seed")


@dataclass
class Fit:
    """A fitted power law D ~ C n^slope: ``slope``, its standard error ``se`` (None with fewer
    than three points) and the number of points ``n``."""

    slope: float
    se: float | None
    intercept: float
    n: int


def fit_power_law(n0, values):
    """Least-squares fit of ``log values = a + b log n0``; ``None`` without two distinct n0.

    >>> f = fit_power_law([100, 200, 400], [0.04, 0.02, 0.01])
    >>> round(f.slope, 12), round(f.se, 12), f.n
    (-1.0, 0.0, 3)
    """
    pts = [(math.log(n), math.log(v)) for n, v in zip(n0, values) if v is not None and v > 0]
    if len({x for x, _ in pts}) < 2:
        return None
    k = len(pts)
    mx = sum(x for x, _ in pts) / k
    my = sum(y for _, y in pts) / k
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    sxy = sum((x - mx) * (y - my) for x, y in pts)
    slope = sxy / sxx
    intercept = my - slope * mx
    se = None
    if k > 2:
        ssr = sum((y - intercept - slope * x) ** 2 for x, y in pts)
        se = math.sqrt(ssr / (k - 2) / sxx)
    return Fit(slope, se, intercept, k)


@dataclass
class Configuration:
    """One configuration: its ``options`` (column -> text), the ``label`` (the options that
    differ between configurations), ``points`` (one dict per n0: ``n0``, ``rows``, ``ks``,
    ``ks_scale``, ``ks_ratio``, ``w1``, ``w1_scale``; means over the seeds), the raw ``rows``
    values used by the fits and the fits ``ks_fit``, ``w1_fit``, ``ks_scale_fit``,
    ``w1_scale_fit``."""

    options: dict
    label: dict = field(default_factory=dict)
    points: list = field(default_factory=list)
    samples: list = field(default_factory=list)
    ks_fit: Fit | None = None
    w1_fit: Fit | None = None
    ks_scale_fit: Fit | None = None
    w1_scale_fit: Fit | None = None


@dataclass
class Report:
    """The report of a sweep file: its ``command`` and its ``configurations``."""

    command: str
    configurations: list


def _float(text):
    return None if text in (None, "") else float(text)


def sweep_report(rows):
    """Group the rows of a sweep of ``verify``/``jacobian`` cases and fit KS and W1 against n0.

    Parameters
    ----------
    rows : list of dict
        Rows as :func:`nrmt.sweep.writers.read_rows` gives them (column -> text).

    Returns
    -------
    Report

    Raises
    ------
    ValueError
        No rows, rows of another command, or no ``n0``/``ks``/``w1`` columns.
    """
    if not rows:
        raise ValueError("the sweep file has no rows")
    commands = {r.get("command") for r in rows}
    if len(commands) != 1 or not commands <= {"verify", "jacobian"}:
        raise ValueError(f"a report needs rows of verify or jacobian cases, got {sorted(map(str, commands))}")
    command = commands.pop()
    for col in ("n0", "ks", "w1"):
        if col not in rows[0]:
            raise ValueError(f"the rows have no {col!r} column")
    columns = [option_column(n) for n in COMMANDS[command].schema
               if option_column(n) not in _AXES and option_column(n) in rows[0]]
    groups = {}
    for r in rows:
        groups.setdefault(tuple(r[c] for c in columns), []).append(r)
    varying = [c for i, c in enumerate(columns) if len({key[i] for key in groups}) > 1]
    shown = varying or [c for c in ("activation",) if c in columns]
    confs = []
    for key, members in groups.items():
        options = dict(zip(columns, key))
        conf = Configuration(options, {c: options[c] for c in shown})
        by_n = {}
        for r in members:
            by_n.setdefault(int(r["n0"]), []).append(r)
        for n in sorted(by_n):
            rs = by_n[n]
            point = {"n0": n, "rows": len(rs)}
            for col in ("ks", "ks_scale", "ks_ratio", "w1", "w1_scale"):
                vals = [_float(r.get(col)) for r in rs]
                vals = [v for v in vals if v is not None]
                point[col] = sum(vals) / len(vals) if vals else None
            conf.points.append(point)
        n0 = [int(r["n0"]) for r in members]
        conf.samples = [(n, _float(r["ks"]), _float(r["w1"])) for n, r in zip(n0, members)]
        conf.ks_fit = fit_power_law(n0, [_float(r["ks"]) for r in members])
        conf.w1_fit = fit_power_law(n0, [_float(r["w1"]) for r in members])
        conf.ks_scale_fit = fit_power_law([p["n0"] for p in conf.points],
                                          [p["ks_scale"] for p in conf.points])
        conf.w1_scale_fit = fit_power_law([p["n0"] for p in conf.points],
                                          [p["w1_scale"] for p in conf.points])
        confs.append(conf)
    return Report(command, confs)


def _slope(fit):
    if fit is None:
        return "-"
    se = "" if fit.se is None else f" ± {fit.se:.2f}"
    return f"{fit.slope:.2f}{se}"


def _label(conf):
    return ", ".join(f"{k}={v}" for k, v in conf.label.items()) or "all rows"


def format_report(report):
    """The report as text: a block per configuration (per n0 the means, then the fitted slopes)."""
    lines = []
    for conf in report.configurations:
        lines.append(f"{_label(conf)}")
        lines.append(f"  {'n0':>7} {'rows':>5} {'KS':>11} {'KS noise':>11} {'KS/noise':>9} "
                     f"{'W1':>11} {'W1 noise':>11}")
        for p in conf.points:
            cells = [f"{p[c]:>11.4g}" if p[c] is not None else f"{'-':>11}"
                     for c in ("ks", "ks_scale")]
            ratio = f"{p['ks_ratio']:>9.2f}" if p["ks_ratio"] is not None else f"{'-':>9}"
            more = [f"{p[c]:>11.4g}" if p[c] is not None else f"{'-':>11}"
                    for c in ("w1", "w1_scale")]
            lines.append(f"  {p['n0']:>7} {p['rows']:>5} {' '.join(cells)} {ratio} {' '.join(more)}")
        lines.append(f"  KS ~ n0^({_slope(conf.ks_fit)})   noise ~ n0^({_slope(conf.ks_scale_fit)})")
        lines.append(f"  W1 ~ n0^({_slope(conf.w1_fit)})   noise ~ n0^({_slope(conf.w1_scale_fit)})")
    return "\n".join(lines)


def report_json(report):
    """The report as a JSON-ready dict: ``command`` and ``configurations`` (each with
    ``options``, ``label``, ``points``, and ``ks_slope``, ``ks_slope_se``, ``w1_slope``,
    ``w1_slope_se``, ``ks_scale_slope``, ``w1_scale_slope``; null where there is no fit)."""

    def get(fit, attr):
        return None if fit is None else getattr(fit, attr)

    return {
        "command": report.command,
        "configurations": [
            {"options": c.options, "label": c.label, "points": c.points,
             "ks_slope": get(c.ks_fit, "slope"), "ks_slope_se": get(c.ks_fit, "se"),
             "w1_slope": get(c.w1_fit, "slope"), "w1_slope_se": get(c.w1_fit, "se"),
             "ks_scale_slope": get(c.ks_scale_fit, "slope"),
             "w1_scale_slope": get(c.w1_scale_fit, "slope")}
            for c in report.configurations],
    }


def plot_report(report, path):
    """Write a figure: KS and W1 against n0 on log-log axes, a colour per configuration — every
    row a dot, the fitted power law a line, the noise scale dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    for i, conf in enumerate(report.configurations):
        colour = f"C{i % 10}"
        ns = [p["n0"] for p in conf.points]
        for ax, idx, fit, noise, name in ((axes[0], 1, conf.ks_fit, "ks_scale", "KS"),
                                          (axes[1], 2, conf.w1_fit, "w1_scale", "W1")):
            xs = [s[0] for s in conf.samples if s[idx] is not None]
            ys = [s[idx] for s in conf.samples if s[idx] is not None]
            ax.loglog(xs, ys, "o", color=colour, ms=4, alpha=0.7)
            label = _label(conf)
            if fit is not None:
                lo, hi = min(ns), max(ns)
                line = [math.exp(fit.intercept) * n ** fit.slope for n in (lo, hi)]
                label += f" (slope {_slope(fit)})"
                ax.loglog([lo, hi], line, "-", color=colour, lw=1.2)
            ax.plot([], [], "o-", color=colour, label=label)
            scale = [(p["n0"], p[noise]) for p in conf.points if p[noise] is not None]
            if scale:
                ax.loglog(*zip(*scale), "--", color=colour, lw=0.9, alpha=0.8)
            ax.set_xlabel("n0")
            ax.set_ylabel(name)
    axes[0].set_title("Kolmogorov-Smirnov distance (dashed: noise scale)")
    axes[1].set_title("Wasserstein-1 distance (dashed: noise scale)")
    for ax in axes:
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
