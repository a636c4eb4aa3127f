r"""Distances between sampled spectra and a limit law, with the finite-n noise scale to expect.

:func:`compare` takes the eigenvalues of ``trials`` independent ``n × n`` random matrices (pooled)
and a :class:`~nrmt.numerics.law.Law` (or any object with ``density``, ``support``, ``atom`` and
``moments``) and returns a :class:`Comparison`:

* **Kolmogorov–Smirnov** :math:`\sup_x |F_N(x) - F(x)|`, evaluated exactly at the jumps of the
  empirical CDF :math:`F_N` (both one-sided limits), with the atom of :math:`F` at 0 handled as a
  jump (:math:`F(0^-) = F(0) - \mathrm{atom}`);
* **Wasserstein-1** :math:`\int |F_N - F|\,dx` (trapezoid rule on the union of the sample and a
  grid clustered at the support edges; outside the support :math:`F` is constant and the rule exact);
* the **raw moments** :math:`m_k = \frac1N\sum_i\lambda_i^k` against the law's moments.

The law's CDF is tabulated once (:class:`CdfTable`): Gauss–Legendre on cells clustered at the
support edges (cosine clustering at soft edges, geometric grading at a hard edge at 0, where the
density may blow up like :math:`x^{-1/2}` or :math:`x^{-2/3}`; a cubic substitution in the cells
that touch an edge), then cubic Hermite interpolation (values and densities at the nodes) between
nodes and Gauss–Legendre again inside the edge cells. The table's quadrature error (its total mass
against 1) is reported as ``cdf_error``; it is ~1e-9 or below for the laws of nrmt, far below the
sampling noise.

Noise scales
------------
Eigenvalues of one random matrix are *rigid*: the empirical CDF of an ``n × n`` Wigner or
sample-covariance matrix deviates from its mean by :math:`O(\sqrt{\log n}/n)` (variance of the
eigenvalue counting function, Costin–Lebowitz / Soshnikov; rigidity, Erdős–Yau–Yin), not by the
iid :math:`1/\sqrt n`. The scales reported are therefore

.. math::

    s_{KS} = c_{KS}\,\frac{\sqrt{\log n_+}}{n\sqrt T}, \qquad
    s_{W_1} = c_{W}\,\frac{\mathrm{sd}}{n\sqrt T},

with :math:`n_+ = n(1-\mathrm{atom})` nonzero eigenvalues per trial, ``sd`` the law's standard
deviation and constants :math:`c_{KS} = 1.2`, :math:`c_W = 3` calibrated on Marchenko–Pastur
samples (``docs/verify.md`` has the table; the one-layer laws of tanh, ReLU and polynomials give
KS / :math:`s_{KS}` between 0.5 and 2 for n = 250 … 1000). A value beyond ~4 scales is a real
disagreement. With ``trials >= 2`` two data-driven estimates are added: ``ks_split`` (half the
two-sample KS between the first and the second half of the trials, the noise part of the pooled
KS) and ``moment_se`` (standard error of each moment across trials). Finite-n *bias* (the mean
spectrum differs from the limit by :math:`O(1/n)`) is not in the trial-to-trial spread; it is part
of :math:`s_{KS}`, which is why that scale does not fall faster than :math:`1/n` with ``trials``
in the long run.

References
----------
O. Costin, J. Lebowitz, "Gaussian fluctuations in random matrices", Phys. Rev. Lett. 75 (1995).
A. Soshnikov, "Gaussian fluctuation for the number of particles in Airy, Bessel, sine and other
determinantal random point fields", J. Stat. Phys. 100 (2000).
L. Erdős, H.-T. Yau, J. Yin, "Rigidity of eigenvalues of generalized Wigner matrices",
Adv. Math. 229 (2012).
Z. D. Bai, J. W. Silverstein, "CLT for linear spectral statistics of large-dimensional sample
covariance matrices", Ann. Probab. 32 (2004) — moment fluctuations of order 1/n.

Examples
--------
A law with an atom: mass 1/2 at 0 and uniform density on [1, 2].

>>> import numpy as np
>>> class Half:
...     support, atom = [(1.0, 2.0)], 0.5
...     def density(self, x):
...         x = np.asarray(x, float)
...         return np.where((x > 1) & (x < 2), 0.5, 0.0)
...     def moments(self, k):
...         return [0.5 * (2 ** (j + 1) - 1) / (j + 1) for j in range(1, k + 1)]
>>> sample = np.array([0.0, 0.0, 1.25, 1.75])
>>> c = compare(sample, Half(), moments=2)
>>> round(c.ks, 6), round(c.w1, 6)
(0.125, 0.0625)
"""

import math
import numbers
import weakref

import numpy as np

__all__ = ["Comparison", "CdfTable", "cdf_table", "compare", "ks_distance", "w1_distance",
           "KS_CONSTANT", "W1_CONSTANT"]

#: constants of the noise scales (module docstring), calibrated on Marchenko–Pastur samples
KS_CONSTANT = 1.2
W1_CONSTANT = 3.0

_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(8)
_GL_U = (_GL_NODES + 1) / 2           # nodes on [0, 1]
_GL_W = _GL_WEIGHTS / 2


# --------------------------------------------------------------------------- CDF table
def _float_law(law):
    """The float (dps <= 15) version of a law, for vectorised density calls."""
    dps = getattr(law, "dps", 15)
    if dps is not None and dps > 15 and hasattr(law, "with_dps"):
        return law.with_dps(15)
    return law


class _TableDensity:
    """The density the table integrates: float64 values, no per-point certification.

    A :class:`~nrmt.numerics.law.Law` certifies every density value to its ``dps`` digits and
    recomputes on its mpmath path the points it cannot certify — near the edges, most of the table's
    points, for digits the table does not need (it needs ~1e-9). For a Law, the uncertified float
    path ``_density_float_raw`` (−Im G(x+i0)/π from the physical branch) is used at the points
    strictly inside the support; any other law-like object is asked ``density(x)``.
    """

    def __init__(self, law, support):
        self.law = law
        self.support = support
        self.raw = getattr(law, "_density_float_raw", None)

    def __call__(self, x):
        x = np.asarray(x, dtype=float)
        if self.raw is None:
            rho = np.asarray(self.law.density(x), dtype=float)
        else:
            rho = np.zeros(x.shape)
            inside = np.zeros(x.shape, dtype=bool)
            for a, b in self.support:
                inside |= (x > a) & (x < b)
            if np.any(inside):
                rho[inside] = self.raw(x[inside])
        rho = np.where(np.isfinite(rho), rho, 0.0)
        return np.maximum(rho, 0.0)


def _support(law):
    out = []
    for lo, hi in law.support:
        lo, hi = float(lo), float(hi)
        if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo):
            raise ValueError(f"support intervals must be finite with lo < hi, got ({lo}, {hi})")
        out.append((lo, hi))
    out.sort()
    return out


def _density(density, x):
    return density(np.asarray(x, dtype=float))


class _Part:
    """One piece of a support interval with its own coordinate t: x = x(t), nodes uniform in t.

    kinds: "cos" x = a + w (1 - cos(pi t))/2 (both edges soft, t in [0, 1]);
    "sin" x = a + w (f0 + (1 - f0) sin(pi t / 2)) (right edge soft, t in [0, 1]);
    "log" x = a + w exp(t) (towards a hard edge at a).
    In these coordinates F is smooth at the edges: near a square-root edge x - a ~ t^2 and
    F ~ t^3; near a hard edge F ~ (x - a)^p = exp(p t).
    """

    def __init__(self, kind, a, w, t_nodes, f0=0.0):
        self.kind, self.a, self.w, self.t, self.f0 = kind, a, w, t_nodes, f0

    def x(self, t):
        if self.kind == "cos":
            return self.a + self.w * (1 - np.cos(np.pi * t)) / 2
        if self.kind == "sin":
            return self.a + self.w * (self.f0 + (1 - self.f0) * np.sin(np.pi * t / 2))
        return self.a + self.w * np.exp(t)

    def dxdt(self, t):
        if self.kind == "cos":
            return self.w * np.pi * np.sin(np.pi * t) / 2
        if self.kind == "sin":
            return self.w * (1 - self.f0) * np.pi / 2 * np.cos(np.pi * t / 2)
        return self.w * np.exp(t)

    def t_of(self, x):
        r = (x - self.a) / self.w
        if self.kind == "cos":
            return np.arccos(np.clip(1 - 2 * r, -1, 1)) / np.pi
        if self.kind == "sin":
            return 2 / np.pi * np.arcsin(np.clip((r - self.f0) / (1 - self.f0), -1, 1))
        return np.log(np.maximum(r, 1e-300))


class CdfTable:
    r"""The CDF of a law, tabulated once and evaluated anywhere (vectorised).

    Parameters
    ----------
    law : Law or law-like
        Needs ``density(x)`` (vectorised), ``support`` (list of (lo, hi)) and ``atom`` (mass at 0).
    cells : int, optional
        Cells per support interval (default 160; about ``9 * cells`` density evaluations, once;
        twice that for an interval with a hard edge at 0).

    Attributes
    ----------
    atom : float
    support : list of (float, float)
    nodes : ndarray
        The x nodes of the table (all intervals).
    error : float
        |total mass − 1|, the quadrature error of the table.
    sd : float
        Standard deviation of the law (atom included), by the same quadrature: the W1 noise scale
        of :func:`compare` without asking the law for moments (integrating a density for them
        can cost a law without closed-form moments many times the table).

    Notes
    -----
    :math:`F(x) = \mathrm{atom}\,[x\ge0] + \int_{-\infty}^x\rho`. Each support interval
    :math:`[a, b]` gets a coordinate :math:`t` in which :math:`F` is smooth up to the edges:
    :math:`x = a + (b-a)(1-\cos\pi t)/2` when the density is bounded at both edges (square-root
    edges: :math:`F\sim t^3`); when it blows up at the left edge (a hard edge at 0, like
    :math:`x^{-1/2}` or :math:`x^{-2/3}`, detected from ρ at :math:`a + 10^{-9}(b-a)` and
    :math:`a + 10^{-7}(b-a)`), :math:`x = a + (b-a)e^t` from :math:`10^{-12}(b-a)` to
    :math:`0.3(b-a)` (:math:`F\sim e^{pt}`; twice as many cells), then a sine map clustered at
    the right edge; the
    first :math:`10^{-12}` of the interval is integrated with the substitution
    :math:`x = a + hv^3`, exact for a pure power :math:`x^{-2/3}`. Cell masses: 8-point
    Gauss–Legendre in :math:`t` of :math:`\rho(x(t))\,x'(t)`; between nodes, cubic Hermite
    interpolation in :math:`t` of the node values and slopes :math:`\rho\,x'(t)`. Accuracy on the
    closed forms of ``tests/test_compare.py``: 1e-7 or better with the default 160 cells (soft and
    hard edges, atoms) — far below Monte Carlo noise.
    """

    def __init__(self, law, cells=160):
        law = _float_law(law)
        self.atom = float(law.atom)
        if not 0 <= self.atom <= 1:
            raise ValueError(f"the atom must be in [0, 1], got {self.atom}")
        if isinstance(cells, bool) or not isinstance(cells, numbers.Integral) or cells < 4:
            raise ValueError(f"cells must be an integer >= 4, got {cells!r}")
        self.support = _support(law)
        self.law = law
        self._rho = _TableDensity(law, self.support)
        law = self._rho
        self._intervals = []
        acc = 0.0  # mass of the continuous part to the left
        first, second = 0.0, 0.0  # integrals of x rho and x^2 rho
        all_nodes = []
        for a, b in self.support:
            w = b - a
            # a law whose support reaches 0 softly (rows of vanishing size: LayersLaw._soft_zero)
            # rises off 0 over many decades of x: the log-spaced part resolves it too (its tiny
            # density at a + 1e-9 w is float noise, no test of a blow-up)
            soft = a == 0 and bool(getattr(self.law, "_soft_zero", lambda: False)())
            hard = soft or self._singular_left_edge(a, w)
            if hard:
                parts = [_Part("log", a, w, np.linspace(math.log(1e-12), math.log(0.3), 2 * cells + 1)),
                         _Part("sin", a, w, np.linspace(0.0, 1.0, cells + 1), f0=0.3)]
                tiny = a + 1e-12 * w
                base = self._gl_edge(a, tiny - a)        # mass of [a, a + 1e-12 w]
            else:
                parts = [_Part("cos", a, w, np.linspace(0.0, 1.0, cells + 1))]
                tiny, base = a, 0.0
            # one density call for every node and Gauss-Legendre point of the interval
            pts, sizes = [], []
            for part in parts:
                t = part.t
                gl = t[:-1, None] + np.diff(t)[:, None] * _GL_U[None, :]
                pts += [part.x(t), part.x(gl).ravel()]
                sizes += [t.size, gl.size]
            rho = _density(law, np.concatenate(pts))
            offs = np.cumsum([0] + sizes)
            tables = []
            total = base
            for i, part in enumerate(parts):
                t = part.t
                rho_nodes = rho[offs[2 * i]:offs[2 * i + 1]]
                rho_gl = rho[offs[2 * i + 1]:offs[2 * i + 2]].reshape(t.size - 1, _GL_U.size)
                gl = t[:-1, None] + np.diff(t)[:, None] * _GL_U[None, :]
                jac = part.dxdt(gl)
                cell = np.diff(t)[:, None] * rho_gl * jac * _GL_W[None, :]
                inc = np.sum(cell, axis=1)
                xgl = part.x(gl)
                first += float(np.sum(cell * xgl))
                second += float(np.sum(cell * xgl * xgl))
                f_nodes = total + np.concatenate([[0.0], np.cumsum(inc)])
                slope = np.where(np.isfinite(rho_nodes), rho_nodes, 0.0) * part.dxdt(t)
                tables.append((part, f_nodes, slope))
                total = f_nodes[-1]
                all_nodes.append(part.x(t))
            self._intervals.append((a, b, tiny, base, tables, acc))
            acc += total
            first += base * a                 # the first 1e-12 of a hard-edge interval
            second += base * a * a
        self.nodes = np.unique(np.concatenate(all_nodes)) if all_nodes else np.array([])
        self.continuous_mass = acc
        self.error = abs(acc + self.atom - 1.0)
        mass = acc + self.atom
        self.sd = math.sqrt(max(second / mass - (first / mass) ** 2, 0.0)) if mass > 0 else 0.0

    def _singular_left_edge(self, a, w):
        """Does the density blow up at the left edge a (like x^(-1/2), x^(-2/3))?

        Soft edges vanish like a square root and bounded densities stay bounded; a density that
        grows by more than 2x from a + 1e-7 w to a + 1e-9 w is singular there.
        """
        r = _density(self._rho, np.array([a + 1e-9 * w, a + 1e-7 * w]))
        return bool(r[0] > 2.0 * r[1] and r[0] > 0)

    def _gl_edge(self, a, length):
        """Integral of rho over [a, a + length] (array of lengths ok): substitution x = a + L v^3."""
        length = np.atleast_1d(np.asarray(length, dtype=float))
        v3 = _GL_U ** 3
        w = _GL_W * 3 * _GL_U ** 2
        pts = a + length[:, None] * v3[None, :]
        rho = _density(self._rho, pts.ravel()).reshape(pts.shape)
        out = length * np.sum(rho * w[None, :], axis=1)
        return out if out.size > 1 else float(out[0])

    def __call__(self, x):
        """F(x) (right-continuous), float64 array like ``x``."""
        x = np.asarray(x, dtype=float)
        flat = x.ravel()
        out = np.where(flat >= 0, self.atom, 0.0)
        for a, b, tiny, base, tables, acc in self._intervals:
            total = tables[-1][1][-1]
            out = out + np.where(flat >= b, total, 0.0)
            inside = (flat > a) & (flat < b)
            if not np.any(inside):
                continue
            xi = flat[inside]
            val = np.zeros_like(xi)
            near = xi < tiny
            if np.any(near):
                val[near] = self._gl_edge(a, xi[near] - a)
            todo = ~near
            for part, f_nodes, slope in tables:
                lo_x, hi_x = part.x(part.t[0]), part.x(part.t[-1])
                sel = todo & (xi >= lo_x) & (xi <= hi_x)
                if not np.any(sel):
                    continue
                todo &= ~sel
                t = part.t_of(xi[sel])
                j = np.clip(np.searchsorted(part.t, t, side="right") - 1, 0, part.t.size - 2)
                t0, t1 = part.t[j], part.t[j + 1]
                h = t1 - t0
                u = np.clip((t - t0) / h, 0.0, 1.0)
                h00 = (1 + 2 * u) * (1 - u) ** 2
                h10 = u * (1 - u) ** 2
                h01 = u * u * (3 - 2 * u)
                h11 = u * u * (u - 1)
                v = h00 * f_nodes[j] + h10 * h * slope[j] + h01 * f_nodes[j + 1] + h11 * h * slope[j + 1]
                val[sel] = np.clip(v, f_nodes[j], f_nodes[j + 1])
            out[inside] += val
        return np.minimum(out, 1.0).reshape(x.shape)


_TABLES = weakref.WeakKeyDictionary()


def cdf_table(law, cells=160):
    """The :class:`CdfTable` of ``law``, built once per law object and number of cells (cached).

    A law with its own vectorised float CDF (``law.cdf_table_float(cells)``, e.g. the deep
    Jacobian law, whose CDF is built from the tail) supplies the table itself.
    """
    own = getattr(law, "cdf_table_float", None)
    if own is not None:
        return own(cells)
    try:
        per_law = _TABLES.setdefault(law, {})
    except TypeError:  # not weak-referenceable or not hashable: no cache
        return CdfTable(law, cells=cells)
    if cells not in per_law:
        per_law[cells] = CdfTable(law, cells=cells)
    return per_law[cells]


# --------------------------------------------------------------------------- distances
def _prepare(sample, floor):
    x = np.sort(np.asarray(sample, dtype=float).ravel())
    if x.size == 0:
        raise ValueError("the sample is empty")
    if not np.all(np.isfinite(x)):
        raise ValueError("the sample contains non-finite values (nan or inf)")
    return x


def ks_distance(sample, cdf, atom=0.0, floor=None):
    r"""Kolmogorov–Smirnov distance :math:`\sup_x|F_N(x)-F(x)|` at the jumps of :math:`F_N`.

    Parameters
    ----------
    sample : array_like
    cdf : callable
        Vectorised right-continuous CDF :math:`F`; its only jump may be an atom at 0.
    atom : float, optional
        The mass of :math:`F` at 0 (so :math:`F(0^-) = F(0) - \mathrm{atom}`).
    floor : float or None, optional
        For laws on :math:`[0, \infty)`: sample values below ``floor`` are not resolved (float64
        eigenvalues carry an absolute error ~ n·eps·max); the supremum is then taken over
        :math:`x \ge` ``floor`` only (all smaller values counted in :math:`F_N(\mathrm{floor})`).
        None: every jump.

    Returns
    -------
    (float, float)
        The distance and the point where it is attained.

    Examples
    --------
    >>> ks_distance([0.5], lambda x: np.clip(x, 0, 1))        # uniform on [0, 1]
    (0.5, 0.5)
    """
    x = _prepare(sample, floor)
    n = x.size
    if floor is not None:
        below = int(np.searchsorted(x, floor, side="right"))
        xs = x[below:]
        start = below
    else:
        xs, start = x, 0
    best, where = 0.0, float(x[0])
    if floor is not None:
        d = abs(below / n - float(cdf(np.array([floor]))[0]))
        if d > best:
            best, where = d, float(floor)
    if xs.size:
        uniq, first_idx, counts = np.unique(xs, return_index=True, return_counts=True)
        f = np.asarray(cdf(uniq), dtype=float)
        f_left = f - np.where(uniq == 0, atom, 0.0)
        left = (start + first_idx) / n                  # F_N(x^-)
        right = (start + first_idx + counts) / n        # F_N(x)
        d = np.maximum(np.abs(right - f), np.abs(left - f_left))
        i = int(np.argmax(d))
        if d[i] > best:
            best, where = float(d[i]), float(uniq[i])
    return best, where


def w1_distance(sample, cdf, support, atom=0.0, grid=None):
    r"""Wasserstein-1 distance :math:`\int|F_N - F|\,dx` (trapezoid on sample ∪ grid).

    Parameters
    ----------
    sample : array_like
    cdf : callable
        Vectorised CDF.
    support : list of (lo, hi)
        The continuous part's support (F is constant outside; the rule is exact there).
    atom : float, optional
        Mass at 0 (0 is added to the points so the jump is placed exactly).
    grid : array_like, optional
        Extra points inside the support (default: 400 cosine-clustered points per interval).

    Returns
    -------
    float

    Examples
    --------
    >>> round(w1_distance([0.5], lambda x: np.clip(x, 0, 1), [(0.0, 1.0)]), 6)   # 2 * 1/8
    0.25
    """
    x = _prepare(sample, None)
    n = x.size
    pts = [x, [0.0] if atom > 0 else []]
    for lo, hi in support:
        if grid is None:
            u = np.linspace(0, 1, 401)
            pts.append(lo + (hi - lo) * (1 - np.cos(np.pi * u)) / 2)
        pts.append([lo, hi])
    if grid is not None:
        pts.append(np.asarray(grid, dtype=float))
    p = np.unique(np.concatenate([np.asarray(q, dtype=float) for q in pts]))
    f = np.asarray(cdf(p), dtype=float)
    fn = np.searchsorted(x, p, side="right") / n          # F_N on [p_j, p_{j+1})
    # on [p_j, p_{j+1}): F_N is fn[j]; F runs from F(p_j) to F(p_{j+1}^-)
    f_right = np.asarray(cdf(np.nextafter(p[1:], -np.inf)), dtype=float) if atom > 0 else f[1:]
    e0 = fn[:-1] - f[:-1]
    e1 = fn[:-1] - f_right
    d0, d1 = np.abs(e0), np.abs(e1)
    h = np.diff(p)
    # trapezoid, or where F crosses the level F_N inside the cell the exact integral of |c - F|
    # for F linear there: h (d0^2 + d1^2) / (2 (d0 + d1))
    cross = (e0 * e1 < 0)
    piece = 0.5 * (d0 + d1) * h
    piece[cross] = h[cross] * (d0[cross] ** 2 + d1[cross] ** 2) / (2 * (d0[cross] + d1[cross]))
    return float(np.sum(piece))


# --------------------------------------------------------------------------- comparison
class Comparison:
    """The result of :func:`compare`: distances, moments and their expected noise scales.

    Attributes
    ----------
    ks, ks_at : float
        Kolmogorov–Smirnov distance and where it is attained.
    ks_scale : float
        Expected KS from finite-n noise (module docstring).
    ks_split : float or None
        Data-driven noise part of the pooled KS (trials >= 2).
    w1, w1_scale : float
        Wasserstein-1 distance and its expected noise scale.
    moments_sample, moments_theory : list of float
        Raw moments m_1..m_k of the sample (pooled, zeros included) and of the law.
    moment_se : list of float or None
        Standard errors of the sample moments across trials (None with one trial).
    atom_sample, atom_theory : float
        Fraction of the sample below ``floor`` and the law's atom at 0.
    n, trials, size : int
        Matrix size per trial, number of trials, ``n * trials``.
    floor : float or None
        Values below it count as 0 (unresolved by float64).
    cdf_error : float
        Quadrature error of the tabulated CDF.
    """

    _FIELDS = ("ks", "ks_at", "ks_scale", "ks_split", "w1", "w1_scale", "moments_sample",
               "moments_theory", "moment_se", "atom_sample", "atom_theory", "n", "trials", "size",
               "floor", "cdf_error")

    def __init__(self, **values):
        for name in self._FIELDS:
            setattr(self, name, values.get(name))

    @property
    def ks_ratio(self):
        """KS over its noise scale (~1 expected; beyond ~4: a real disagreement)."""
        return self.ks / self.ks_scale

    @property
    def w1_ratio(self):
        """W1 over its noise scale."""
        return self.w1 / self.w1_scale

    @property
    def moment_z(self):
        """(sample − theory) / standard error for each moment, or None with one trial."""
        if self.moment_se is None:
            return None
        return [(s - t) / e if e > 0 else (0.0 if s == t else math.inf)
                for s, t, e in zip(self.moments_sample, self.moments_theory, self.moment_se)]

    def as_dict(self):
        """Plain dict (floats, ints, lists, None) for JSON, with the ratios added."""
        d = {name: getattr(self, name) for name in self._FIELDS}
        d["ks_ratio"] = self.ks_ratio
        d["w1_ratio"] = self.w1_ratio
        d["moment_z"] = self.moment_z
        return d

    def __repr__(self):
        return (f"Comparison(ks={self.ks:.3g} (scale {self.ks_scale:.2g}), "
                f"w1={self.w1:.3g} (scale {self.w1_scale:.2g}), n={self.n}, trials={self.trials})")


def compare(sample, law, moments=4, *, trials=None, floor="auto", cells=160):
    r"""Compare sampled eigenvalues with a limit law: KS, W1, moments, noise scales.

    Parameters
    ----------
    sample : array_like
        Eigenvalues: shape ``(trials, n)``, or 1-D pooled (``trials`` consecutive blocks of ``n``,
        as :func:`nrmt.numerics.sampling.sample_gram` returns them). A pooled sample sorted as a
        whole has lost its trials: ``moment_se`` and ``ks_split`` are then None.
    law : Law or law-like
        ``density``, ``support``, ``atom`` and ``moments(k)`` are used.
    moments : int, optional
        Number of raw moments compared (0 for none).
    trials : int, optional
        Number of trials in a 1-D pooled sample (default 1; ignored for a 2-D sample).
    floor : "auto", float or None, optional
        Resolution floor for laws on :math:`[0,\infty)` (see :func:`ks_distance`); "auto" is the
        sample's own ``floor`` attribute when it has one (e.g. the Jacobian sampler's), else
        ``8 n eps max|λ|`` (the float64 error of a symmetric eigensolver); None disables it.
    cells : int, optional
        Cells per support interval of the CDF table (built once per law: :func:`cdf_table`).

    Returns
    -------
    Comparison

    Raises
    ------
    ValueError
        Empty or non-finite sample, a pooled length not divisible by ``trials``, a law without
        support.
    """
    if floor == "auto" and getattr(sample, "floor", None) is not None:
        floor = float(sample.floor)          # a sampler that knows its float64 resolution
    arr = np.asarray(sample, dtype=float)
    if arr.ndim == 2:
        trials_, n = arr.shape
    elif arr.ndim == 1:
        trials_ = 1 if trials is None else trials
        if isinstance(trials_, bool) or not isinstance(trials_, numbers.Integral) or trials_ < 1:
            raise ValueError(f"trials must be an integer >= 1, got {trials!r}")
        if arr.size % trials_:
            raise ValueError(f"a pooled sample of {arr.size} values cannot be split into "
                             f"{trials_} trials of equal size")
        n = arr.size // trials_
        arr = arr.reshape(trials_, n)
    else:
        raise ValueError(f"sample must be 1-D or 2-D (trials, n), got shape {arr.shape}")
    trials_ = int(trials_)
    # trial blocks are needed for the spread across trials; a pooled sample sorted as a whole
    # (every block below the next one) has lost them: no standard errors, no split estimate
    blocks = trials_ >= 2 and not (np.all(arr[:-1, -1] <= arr[1:, 0]) and
                                   np.all(np.diff(arr, axis=1) >= 0))
    if arr.size == 0:
        raise ValueError("the sample is empty")
    if not np.all(np.isfinite(arr)):
        raise ValueError("the sample contains non-finite values (nan or inf)")
    if isinstance(moments, bool) or not isinstance(moments, numbers.Integral) or moments < 0:
        raise ValueError(f"moments must be an integer >= 0, got {moments!r}")

    table = cdf_table(law, cells=cells)
    atom = table.atom
    support = table.support
    nonneg = not support or support[0][0] >= 0
    pooled = arr.ravel()
    if floor == "auto":
        floor = 8.0 * n * np.finfo(float).eps * float(np.max(np.abs(pooled))) if nonneg else None
    elif floor is not None:
        floor = float(floor)
        if not floor >= 0:
            raise ValueError(f"floor must be >= 0 or None, got {floor}")
    if floor is not None and floor > 0:
        resolved = np.where(pooled < floor, 0.0, pooled)
    else:
        resolved = pooled
    ks, ks_at = ks_distance(resolved, table, atom=atom, floor=floor)
    w1 = w1_distance(resolved, table, support, atom=atom, grid=table.nodes)

    # moments
    m_th = [float(v) for v in law.moments(moments)] if moments else []
    per_trial = np.stack([np.mean(arr ** k, axis=1) for k in range(1, moments + 1)], axis=1) \
        if moments else np.zeros((trials_, 0))
    m_s = [float(v) for v in per_trial.mean(axis=0)]
    se = ([float(v) for v in per_trial.std(axis=0, ddof=1) / math.sqrt(trials_)]
          if blocks and moments else None)

    # noise scales
    if len(m_th) >= 2:
        sd = math.sqrt(max(m_th[1] - m_th[0] ** 2, 0.0))
    elif getattr(table, "sd", None) is not None:
        sd = table.sd
    else:
        lm = law.moments(2)
        sd = math.sqrt(max(float(lm[1]) - float(lm[0]) ** 2, 0.0))
    n_plus = max(n * (1.0 - atom), 2.0)
    ks_scale = KS_CONSTANT * math.sqrt(math.log(n_plus)) / (n * math.sqrt(trials_))
    w1_scale = W1_CONSTANT * sd / (n * math.sqrt(trials_))
    ks_split = None
    if blocks:
        half = trials_ // 2
        ks_split = 0.5 * _two_sample_ks(resolved.reshape(trials_, n)[:half].ravel(),
                                        resolved.reshape(trials_, n)[half:].ravel())
    atom_sample = float(np.mean(resolved == 0.0))
    return Comparison(ks=ks, ks_at=ks_at, ks_scale=ks_scale, ks_split=ks_split, w1=w1,
                      w1_scale=w1_scale, moments_sample=m_s, moments_theory=m_th, moment_se=se,
                      atom_sample=atom_sample, atom_theory=atom, n=int(n), trials=trials_,
                      size=int(pooled.size), floor=floor, cdf_error=table.error)


def _two_sample_ks(a, b):
    a, b = np.sort(a), np.sort(b)
    p = np.concatenate([a, b])
    fa = np.searchsorted(a, p, side="right") / a.size
    fb = np.searchsorted(b, p, side="right") / b.size
    return float(np.max(np.abs(fa - fb)))
