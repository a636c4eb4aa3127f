"""Figures comparing sampled spectra with limit laws (matplotlib, Agg backend, never ``plt.show``).

Presentation only: the functions take a sample, a law (whose ``density`` they evaluate on a grid)
and, optionally, the :class:`~nrmt.numerics.compare.Comparison` already computed; they solve
nothing themselves.

* :func:`plot_density` — histogram of the sample over the theoretical density, support edges as
  dotted lines, the atom at 0 as a bar of its mass (theory and sample in the legend);
* :func:`plot_cdf` — empirical CDF against the theoretical CDF, KS distance marked, and
  (``residual_ax``) the difference :math:`F_N - F` with the band of the KS noise scale;
* :func:`plot_comparison` — both panels side by side, titled with the model's parameters, saved to
  a file when ``path`` is given (what ``nrmt verify --plot`` writes).

Examples
--------
>>> import numpy as np
>>> from nrmt.numerics.sampling import sample_linear_equivalent
>>> class MP:                      # Marchenko-Pastur, ratio 1/2, scale 1
...     support, atom = [(0.5 * (3 - 8 ** 0.5), 0.5 * (3 + 8 ** 0.5))], 0.0
...     def density(self, x):
...         a, b = self.support[0]
...         x = np.asarray(x, float)
...         r = np.sqrt(np.clip((b - x) * (x - a), 0, None)) / (np.pi * np.where(x > 0, x, 1))
...         return np.where((x > a) & (x < b), r, 0.0)
...     def moments(self, k):
...         return [1.0, 1.5, 2.75, 5.625][:k]
>>> ev = sample_linear_equivalent(1.0, 0.0, 200, 100, 200, rng=0)
>>> fig = plot_comparison(ev, MP(), params={"model": "MP(1/2)"})
>>> len(fig.axes)                  # density; CDF; F_N - F
3
"""

import math

import matplotlib

matplotlib.use("Agg")  # noqa: E402  (files only; never a window)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["plot_density", "plot_cdf", "plot_comparison", "parameter_text", "math_label",
           "activation_label"]

_SAMPLE = "#4C72B0"
_THEORY = "#C44E52"
_EDGE = "#555555"
_ATOM = "#2F6B2F"


#: mathtext names of the parameters in titles
_TEX = {"phi": r"\varphi", "psi": r"\psi", "sigma": r"\sigma", "sigma_w": r"\sigma_w",
        "sigma_x": r"\sigma_x", "sigma_b": r"\sigma_b", "theta1": r"\theta_1", "theta2": r"\theta_2",
        "depth": "L", "n0": "n_0", "chi": r"\chi", "q_star": "q^*"}


def _mathtext_ok(tex):
    """Whether matplotlib's mathtext can typeset ``$tex$``."""
    from matplotlib.mathtext import MathTextParser

    try:
        MathTextParser("path").parse(f"${tex}$")
    except Exception:  # a command mathtext does not know: the caller falls back to text
        return False
    return True


def math_label(expr):
    """A sympy expression (or text parsed by the allow-list parser) as mathtext ``$...$``, from
    sympy's LaTeX: ``x**2 + x - 1`` becomes ``$x^{2} + x - 1$``; the text itself when it cannot
    be parsed or typeset.

    >>> math_label("x**2 + x - 1")
    '$x^{2} + x - 1$'
    """
    import sympy

    if isinstance(expr, str):
        from nrmt.theory.activations import parse_expression

        try:
            expr = parse_expression(expr)
        except (ValueError, TypeError):
            return expr
    if not isinstance(expr, sympy.Basic):
        return str(expr)
    from nrmt.theory.equations.display import latex

    tex = latex(expr)
    return f"${tex}$" if _mathtext_ok(tex) else str(expr)


def activation_label(activation):
    """``f(x) = ...`` typeset from the activation's expression (its text when not symbolic).

    >>> activation_label("x**2 + x - 1")
    '$f(x) = x^{2} + x - 1$'
    """
    label = math_label(activation)
    return f"$f(x) = {label[1:]}" if label.startswith("$") else f"f = {activation}"


def _value_tex(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return ",".join(_value_tex(v) for v in value)
    try:
        import sympy

        if isinstance(value, sympy.Basic):
            from nrmt.theory.equations.display import latex

            return latex(value)
    except ImportError:  # pragma: no cover
        pass
    return str(value)


def parameter_text(params):
    r"""A title from model parameters, typeset by mathtext: Greek letters, sympy's LaTeX of the
    activation and of exact values.

    >>> print(parameter_text({"model": "x**2 + x - 1", "phi": 2.0, "psi": 1}))
    $f(x) = x^{2} + x - 1$:  $\varphi = 2$,  $\psi = 1$
    """
    if not params:
        return ""
    parts = []
    for key, value in params.items():
        if key in ("model", "activation") or value is None:
            continue
        if key in _TEX:
            parts.append(f"${_TEX[key]} = {_value_tex(value)}$")
        else:
            parts.append(f"{key} = {value if not isinstance(value, float) else f'{value:.4g}'}")
    head = params.get("model") or params.get("activation")
    if head:
        head = activation_label(head)
    text = ",  ".join(parts)
    return f"{head}:  {text}" if head and text else (head or text)


def _grid(law, sample, logx):
    """Evaluation points of the theoretical curves: the law's own grid plus a uniform one."""
    pts = []
    if hasattr(law, "grid"):
        try:
            pts.append(np.asarray(law.grid(600), dtype=float))
        except Exception:  # a law without a continuous part has no grid
            pass
    sup = [(float(a), float(b)) for a, b in law.support]
    sample = np.asarray(sample, dtype=float).ravel()
    for a, b in sup:
        if logx:
            # down to the smallest sampled value (or 1e-12 b): a log axis shows all decades
            pos = sample[sample > 0]
            lo = max(b * 1e-12, min(float(pos.min()) if pos.size else b * 1e-6, b * 1e-6))
            pts.append(np.geomspace(max(a, lo), b, 800))
        else:
            u = np.linspace(0, 1, 800)
            pts.append(a + (b - a) * (1 - np.cos(np.pi * u)) / 2)
    x = np.unique(np.concatenate(pts)) if pts else np.array([])
    return x, sup


def _nonzero(sample, atom, floor=None):
    s = np.asarray(sample, dtype=float).ravel()
    if s.size == 0:  # no sample: the law alone (nrmt density --plot)
        return s, 0.0
    if atom > 0 or floor:
        tol = floor if floor else 8 * s.size * np.finfo(float).eps * max(np.max(np.abs(s)), 1e-300)
        return s[s > tol], float(np.mean(s <= tol))
    return s, 0.0


def _edges(nz, bins, lo, hi, logx):
    """Histogram edges: equal-count bins from the sample ("auto"), or ``bins`` uniform ones.

    Equal-count bins resolve sharp peaks (a density blowing up near a small edge) without
    drowning the tails in noise: every bin holds about N/bins eigenvalues.
    """
    if isinstance(bins, str):
        k = int(min(90, max(24, round(1.5 * nz.size ** (1 / 3)))))
        if nz.size < 2 * k:
            k = max(4, nz.size // 4)
        q = np.quantile(nz, np.linspace(0, 1, k + 1)) if nz.size else np.array([lo, hi])
        edges = np.unique(np.concatenate([[min(lo, q[0])], q[1:-1], [max(hi, q[-1])]]))
        return edges
    if logx:
        return np.geomspace(lo, hi, int(bins) + 1)
    return np.linspace(lo, hi, int(bins) + 1)


def plot_density(sample, law, ax=None, *, bins="auto", logx=False, params=None, label=None,
                 comparison=None):
    """Histogram of the sample over the theoretical density.

    Parameters
    ----------
    sample : array_like
        Eigenvalues (pooled).
    law : Law or law-like
        ``density(x)``, ``support``, ``atom`` are used.
    ax : matplotlib Axes, optional
        Drawn into (a new figure otherwise).
    bins : int or "auto", optional
        "auto": about 1.5 N^(1/3) bins of equal sample count (resolves sharp peaks); an int:
        that many uniform (logarithmic with ``logx``) bins.
    logx : bool, optional
        Logarithmic x axis (for laws with much mass near 0, e.g. deep Jacobians); the histogram then
        shows the density of log10 λ.
    params : dict, optional
        Model parameters for the title (:func:`parameter_text`).
    label : str, optional
        Legend label of the sample.
    comparison : Comparison, optional
        Its ``floor`` decides which sample values count as the atom.

    Returns
    -------
    matplotlib Axes
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 4.4))
    atom = float(law.atom)
    floor = getattr(comparison, "floor", None)
    nz, atom_sample = _nonzero(sample, atom, floor)
    x, sup = _grid(law, nz, logx)
    rho = np.asarray(law.density(x), dtype=float) if x.size else np.array([])
    rho = np.where(np.isfinite(rho), rho, np.nan)
    y = rho * x * math.log(10) if (logx and x.size) else rho
    n_total = np.asarray(sample).size
    lo = min([a for a, _ in sup] + ([float(nz.min())] if nz.size else []))
    hi = max([b for _, b in sup] + ([float(nz.max())] if nz.size else []))
    if logx:
        lo = max(lo, float(nz.min()) if nz.size else hi * 1e-6, hi * 1e-12)
    edges = _edges(nz[nz >= lo] if logx else nz, bins, lo, hi, logx)
    heights = np.array([0.0])
    if nz.size:
        counts, edges = np.histogram(nz, bins=edges)
        # normalised to the whole sample: the continuous part has mass 1 - atom
        width = np.diff(np.log10(edges)) if logx else np.diff(edges)
        heights = counts / (n_total * width)
        ax.stairs(heights, edges, fill=True, color=_SAMPLE, alpha=0.35,
                  label=label or f"sample ({n_total} eigenvalues)")
        ax.stairs(heights, edges, color=_SAMPLE, lw=0.7)
    if x.size:
        ax.plot(x, y, color=_THEORY, lw=1.8, label="limit law: density")
    first = True
    for a, b in sup:
        for e in (a, b):
            if logx and e <= 0:
                continue
            ax.axvline(e, color=_EDGE, ls=":", lw=1.0, label="support edges" if first else None)
            first = False
    finite = y[np.isfinite(y)] if x.size else np.array([])
    # the y range: the sample's histogram and the curve, without letting a density that blows
    # up at a hard edge flatten everything else
    top = max(float(np.max(heights)), float(np.quantile(finite, 0.995)) if finite.size else 0.0)
    top = top * 1.12 if top > 0 else 1.0
    ax.set_ylim(0, top)
    if atom > 0 or atom_sample > 0:
        pos = lo if logx else 0.0
        ax.annotate("", xy=(pos, 0.92 * top), xytext=(pos, 0),
                    arrowprops=dict(arrowstyle="-|>", color=_ATOM, lw=2.4, mutation_scale=14))
        if not logx:  # the arrow at 0 stays in view when the bulk starts far from it
            left, right = ax.get_xlim()
            ax.set_xlim(min(left, -0.02 * (right - min(left, 0.0))), right)
        ax.plot([], [], color=_ATOM, lw=2.4,
                label=f"atom at 0: {atom:.4f} (sample {atom_sample:.4f})")
    if logx:
        ax.set_xscale("log")
        ax.set_ylabel(r"density of $\log_{10}\lambda$")
    else:
        ax.set_ylabel("density")
    ax.set_xlabel(r"eigenvalue $\lambda$ of $M$")
    text = parameter_text(params)
    if text:
        ax.set_title(text, fontsize=10)
    ax.legend(fontsize=8, frameon=False, loc="upper right")
    ax.grid(alpha=0.25)
    return ax


def plot_cdf(sample, law, ax=None, *, cdf=None, comparison=None, logx=False, params=None,
             residual_ax=None):
    """Empirical CDF against the theoretical CDF, with the KS distance marked.

    Parameters
    ----------
    sample : array_like
    law : Law or law-like
    ax : matplotlib Axes, optional
    cdf : callable, optional
        Vectorised CDF of the law (default: :func:`nrmt.numerics.compare.cdf_table` of ``law``,
        the tabulated integral of its density).
    comparison : Comparison, optional
        Its ``ks``/``ks_at``/``ks_scale`` are written on the panel.
    logx : bool, optional
    params : dict, optional
    residual_ax : matplotlib Axes, optional
        Also draw :math:`F_N - F` there, with the band ±``ks_scale`` when ``comparison`` is given.

    Returns
    -------
    matplotlib Axes
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 4.4))
    if cdf is None:
        from nrmt.numerics.compare import cdf_table

        cdf = cdf_table(law)
    s = np.sort(np.asarray(sample, dtype=float).ravel())
    n = s.size
    sup = [(float(a), float(b)) for a, b in law.support]
    lo = min([a for a, _ in sup] + [float(s[0])])
    hi = max([b for _, b in sup] + [float(s[-1])])
    pad = 0.03 * (hi - lo)
    if logx:
        pos = s[s > 0]
        lo = max(float(pos.min()) if pos.size else hi * 1e-6, hi * 1e-12)
        x = np.geomspace(lo, hi * 1.05, 3000)
    else:
        x = np.linspace(lo - pad, hi + pad, 3000)
    extra = [np.linspace(a, b, 600) for a, b in sup]
    x = np.unique(np.concatenate([x, *extra] + ([[0.0]] if not logx else [])))
    if logx:
        x = x[x > 0]
    f = np.asarray(cdf(x), dtype=float)
    ax.step(np.concatenate([[x[0]], s, [x[-1]]]), np.concatenate([[0.0], np.arange(1, n + 1) / n, [1.0]]),
            where="post", color=_SAMPLE, lw=1.3, label=f"empirical CDF (N = {n})")
    ax.plot(x, f, color=_THEORY, lw=1.4, ls="--", label="limit law: CDF")
    if comparison is not None and comparison.ks_at is not None:
        xk = comparison.ks_at
        fk = float(np.asarray(cdf(np.array([xk])))[0])
        fn = np.searchsorted(s, xk, side="right") / n
        ax.plot([xk], [fn], "o", ms=4, color="k")
        # the text sits in the upper-left corner, which a CDF leaves empty (F is small at small
        # λ; the legend is at the lower right), with a thin line to the point
        left = x <= x[0] + 0.35 * (x[-1] - x[0]) if not logx else x <= x[0] * (x[-1] / x[0]) ** 0.35
        corner = float(np.max(f[left])) < 0.75 if left.any() else True
        # (a CDF that starts high, a large atom: the empty part is the middle of the panel)
        spot, ha, va = ((0.03, 0.96), "left", "top") if corner else ((0.5, 0.45), "center", "center")
        ax.annotate(f"KS = {comparison.ks:.2g} at $\\lambda$ = {xk:.3g}\n"
                    f"(noise scale {comparison.ks_scale:.2g})",
                    xy=(xk, fn), xytext=spot, textcoords="axes fraction",
                    va=va, ha=ha, fontsize=8,
                    bbox=dict(boxstyle="round,pad=0.25", fc="white", ec="none", alpha=0.85),
                    arrowprops=dict(arrowstyle="-", color="k", lw=0.6, shrinkA=2, shrinkB=3))
    if logx:
        ax.set_xscale("log")
    ax.set_ylabel(r"$F(\lambda)$")
    ax.set_ylim(-0.02, 1.02)
    text = parameter_text(params)
    if text:
        ax.set_title(text, fontsize=10)
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    ax.grid(alpha=0.25)
    if residual_ax is None:
        ax.set_xlabel(r"$\lambda$")
        return ax
    r = residual_ax
    fn_x = np.searchsorted(s, x, side="right") / n
    r.plot(x, fn_x - f, color=_SAMPLE, lw=0.9)
    if comparison is not None:
        r.axhspan(-comparison.ks_scale, comparison.ks_scale, color=_THEORY, alpha=0.12,
                  label="± KS noise scale")
        r.legend(fontsize=7, frameon=False, loc="upper right")
    r.axhline(0, color="k", lw=0.6)
    span = float(np.max(np.abs(fn_x - f))) if x.size else 0.0
    if comparison is not None:
        span = max(span, comparison.ks_scale)
    if span > 0:
        r.set_ylim(-1.25 * span, 1.25 * span)
    if logx:
        r.set_xscale("log")
    r.set_xlabel(r"$\lambda$")
    r.set_ylabel(r"$F_N - F$")
    r.grid(alpha=0.25)
    plt.setp(ax.get_xticklabels(), visible=False)
    return ax


def plot_comparison(sample, law, comparison=None, *, params=None, path=None, logx=False,
                    title=None, dpi=130):
    """Density and CDF panels side by side; saved to ``path`` (PNG, PDF, SVG…) when given.

    Parameters
    ----------
    sample : array_like
    law : Law or law-like
    comparison : Comparison, optional
        Distances to print (KS, W1 with their noise scales).
    params : dict, optional
        Model parameters; shown in the figure title.
    path : str or path-like, optional
        Output file; the figure is closed after saving.
    logx : bool, optional
    title : str, optional
        Overrides the title made from ``params``.
    dpi : int, optional

    Returns
    -------
    matplotlib Figure
    """
    fig = plt.figure(figsize=(12, 4.8))
    grid = fig.add_gridspec(2, 2, width_ratios=[1.3, 1], height_ratios=[2.6, 1], hspace=0.08,
                            wspace=0.18)
    ax1 = fig.add_subplot(grid[:, 0])
    ax2 = fig.add_subplot(grid[0, 1])
    ax3 = fig.add_subplot(grid[1, 1], sharex=ax2)
    plot_density(sample, law, ax=ax1, logx=logx, comparison=comparison)
    plot_cdf(sample, law, ax=ax2, comparison=comparison, logx=logx, residual_ax=ax3)
    head = title if title is not None else parameter_text(params)
    if comparison is not None:
        stats = (f"KS = {comparison.ks:.3g} (noise ≈ {comparison.ks_scale:.2g}),  "
                 f"$W_1$ = {comparison.w1:.3g} (noise ≈ {comparison.w1_scale:.2g}),  "
                 f"n = {comparison.n} × {comparison.trials} trial{'s' if comparison.trials > 1 else ''}")
        head = f"{head}\n{stats}" if head else stats
    if head:
        fig.suptitle(head, fontsize=11)
    fig.subplots_adjust(left=0.06, right=0.985, bottom=0.11, top=0.86 if head and "\n" in head else 0.9)
    if path is not None:
        fig.savefig(path, dpi=dpi)
        plt.close(fig)
    return fig
