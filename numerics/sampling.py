r"""Monte Carlo samplers: eigenvalues of the Gram matrices of random feed-forward networks.

The model (Pennington & Worah 2017, Sec. 2; several layers as in Benigni & Péché 2021 and
Fan & Wang 2020; bias as in Piccolo & Schröder 2021):

.. math::

    Y_0 = X,\qquad Y_\ell = f\bigl(W_\ell Y_{\ell-1} + b_\ell 1^\top\bigr) - \mu_\ell(b_\ell) 1^\top,
    \qquad M = \tfrac1m Y_L Y_L^\top ,

with :math:`X\in\mathbb R^{n_0\times m}` of iid entries of variance :math:`\sigma_x^2`,
:math:`W_\ell\in\mathbb R^{n_\ell\times n_{\ell-1}}` of iid entries of variance
:math:`\sigma_w^2/n_{\ell-1}` (both drawn from one :mod:`entry law <nrmt.numerics.entries>`,
rescaled), and :math:`b_\ell` with iid :math:`N(0,\sigma_b^2)` entries. The centring follows the
conventions of issue 6 (``docs/verify.md``): with :math:`s_\ell^2` the variance of the entries of
:math:`W_\ell Y_{\ell-1}`,

.. math::

    s_1^2 = \sigma_w^2\sigma_x^2,\qquad s_{\ell+1}^2 = \sigma_w^2\,\theta_1^{(\ell)},\qquad
    \mu_\ell(\beta) = \mathbb E\, f(s_\ell Z + \beta),

    \theta_1^{(\ell)} = \mathbb E_\beta\bigl[\mathbb E f(s_\ell Z+\beta)^2 - \mu_\ell(\beta)^2\bigr]
    = \mathbb E f\bigl(\sqrt{q_\ell} Z\bigr)^2 - \mathbb E_\beta\, \mu_\ell(\beta)^2,
    \qquad q_\ell = s_\ell^2 + \sigma_b^2,

i.e. :math:`q_1 = \sigma_w^2\sigma_x^2 + \sigma_b^2` and :math:`q_{\ell+1} = \sigma_w^2
\theta_1^{(\ell)} + \sigma_b^2` is the variance of the pre-activations, and row :math:`i` of layer
:math:`\ell` is centred by :math:`\mu_\ell(b_{\ell,i})` (by the constant :math:`\mu_\ell(0)` without
bias), which removes the rank-one mean (an outlier) and leaves the bulk. The Gaussian means come
from :func:`nrmt.theory.gaussian.gaussian_expectation_float`.

Eigenvalues are computed in float64 from the smaller of :math:`\frac1m YY^\top` and
:math:`\frac1m Y^\top Y` (one ``syrk`` for the triangle that LAPACK reads, then a divide-and-conquer
symmetric eigensolver overwriting it); the :math:`|n_L - m|` zero eigenvalues are added back.

References
----------
J. Pennington, P. Worah, "Nonlinear random matrix theory for deep learning", NeurIPS 2017, Sec. 2.
L. Benigni, S. Péché, "Eigenvalue distribution of some nonlinear models of random matrices",
Electron. J. Probab. 26 (2021).
Z. Fan, Z. Wang, "Spectra of the conjugate kernel and neural tangent kernel for linear-width
neural networks", NeurIPS 2020.
L. Piccolo, D. Schröder, "Analysis of one-hidden-layer neural networks via the resolvent method",
NeurIPS 2021.
S. Péché, "A note on the Pennington–Worah distribution", Electron. Commun. Probab. (2019) —
the linear equivalent sampled by :func:`sample_linear_equivalent` (volume and theorem numbers not
checked against the paper).

Examples
--------
Marchenko–Pastur check with the Gaussian linear equivalent at θ2 = 0 (pure noise):
the mean eigenvalue of (1/m) Z Zᵀ is θ1.

>>> ev = sample_linear_equivalent(2.0, 0.0, n0=200, n1=100, m=400, rng=1)
>>> ev.shape, round(float(ev.mean()), 1)
((100,), 2.0)
"""

import math
import numbers
import operator

import numpy as np
import scipy.linalg
from scipy.linalg.blas import dsyrk

from nrmt.numerics.entries import entry_law

__all__ = [
    "as_generator",
    "widths_from_ratios",
    "gram_eigenvalues",
    "sample_gram",
    "sample_linear_equivalent",
    "layer_variances",
    "sample_memory",
]

# rows of a pre-activation matrix transformed by f per chunk (bounds the temporary f allocates)
_CHUNK = 1 << 18
# elements of one block of rows of W drawn at a time (8 MiB of float64)
_BLOCK = 1 << 20


def as_generator(rng):
    """A :class:`numpy.random.Generator` from ``rng``: None, an int seed, a SeedSequence or a Generator.

    >>> int(as_generator(3).integers(10)) == int(as_generator(3).integers(10))
    True
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (numbers.Integral, np.random.SeedSequence)):
        if isinstance(rng, numbers.Integral) and not isinstance(rng, bool) and rng < 0:
            raise ValueError(f"seed must be >= 0, got {rng}")
        if isinstance(rng, bool):
            raise TypeError("rng must be an int seed, a numpy Generator or None, got bool")
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be an int seed, a numpy Generator or None, got {type(rng).__name__}")


def _positive_int(name, value):
    try:
        v = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {value!r}") from None
    if v < 1:
        raise ValueError(f"{name} must be >= 1, got {v}")
    return v


def _float(name, value, *, positive=False, nonnegative=False):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {value!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if positive and not v > 0:
        raise ValueError(f"{name} must be > 0, got {v}")
    if nonnegative and not v >= 0:
        raise ValueError(f"{name} must be >= 0, got {v}")
    return v


def widths_from_ratios(n0, phi, psi):
    r"""Matrix sizes from the ratios: ``([n0, n1, ..., nL], m)``.

    φ = n0/m and ψ_ℓ = n_{ℓ-1}/n_ℓ (Pennington–Worah for one layer; issue 6 for several), so
    :math:`m = \mathrm{round}(n_0/\varphi)` and :math:`n_\ell = \mathrm{round}(n_{\ell-1}/\psi_\ell)`
    (at least 1). The ratios actually sampled are then ``n0/m`` and ``n_{l-1}/n_l``.

    Parameters
    ----------
    n0 : int
    phi : float
    psi : float or sequence of float
        One ratio per layer.

    Examples
    --------
    >>> widths_from_ratios(1000, 0.5, 2)
    ([1000, 500], 2000)
    >>> widths_from_ratios(1000, 2, [0.5, 1.5])
    ([1000, 2000, 1333], 500)
    """
    n0 = _positive_int("n0", n0)
    phi = _float("phi", phi, positive=True)
    psis = [psi] if np.ndim(psi) == 0 else list(psi)
    if not psis:
        raise ValueError("psi needs at least one value (one per layer)")
    widths = [n0]
    for i, p in enumerate(psis):
        p = _float(f"psi[{i}]" if len(psis) > 1 else "psi", p, positive=True)
        widths.append(max(1, int(round(widths[-1] / p))))
    return widths, max(1, int(round(n0 / phi)))


def sample_memory(widths, m, trials=1):
    """Estimated peak memory in bytes of :func:`sample_gram` for these sizes.

    Two layers' activations are held at once (``n_{l-1} m + n_l m`` float64 values), then the
    last layer and the Gram matrix with the divide-and-conquer eigensolver's workspace (about
    ``n_L m + 3 g^2``, g = min(n_L, m)); the pooled eigenvalues take ``trials * n_L``.

    >>> sample_memory([1000, 1000], 1000) // 2**20   # MiB
    30
    """
    widths = [int(w) for w in widths]
    m = int(m)
    layers = max((a + b) * m for a, b in zip(widths[:-1], widths[1:]))
    g = min(widths[-1], m)
    return 8 * (max(layers, widths[-1] * m + 3 * g * g) + int(trials) * widths[-1])


# --------------------------------------------------------------------------- eigenvalues
def gram_eigenvalues(y, scale=None):
    r"""Eigenvalues of :math:`c\,YY^\top` (ascending, float64), via the smaller Gram matrix.

    For :math:`Y\in\mathbb R^{n\times m}` the nonzero eigenvalues of :math:`YY^\top` and
    :math:`Y^\top Y` coincide; the smaller one is formed (BLAS ``dsyrk``, one triangle only) and
    handed to LAPACK's divide-and-conquer solver (``dsyevd``), which overwrites it. The
    :math:`n - \min(n, m)` zero eigenvalues are added back, so the result always has ``n`` values.

    Parameters
    ----------
    y : array_like, shape (n, m)
        Real matrix (converted to float64 C order, without a copy when it already is one);
        never modified.
    scale : float, optional
        The factor :math:`c` (default ``1/m``).

    Returns
    -------
    ndarray, shape (n,)

    Examples
    --------
    >>> y = np.array([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    >>> gram_eigenvalues(y, 1.0).round(12).tolist()
    [0.0, 0.0, 2.0, 4.0]
    """
    y = np.asarray(y)
    if y.ndim != 2:
        raise ValueError(f"y must be a 2-D matrix, got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.floating) and not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"y must be a real matrix, got dtype {y.dtype}")
    y = np.ascontiguousarray(y, dtype=np.float64)
    n, m = y.shape
    c = 1.0 / m if scale is None else _float("scale", scale, positive=True)
    # y is C-contiguous, so y.T is an F-contiguous (m, n) view: dsyrk reads it without a copy.
    # trans=1: c * (y.T)^T (y.T) = c y y^T (n x n); trans=0: c y^T y (m x m).
    if n <= m:
        gram = dsyrk(c, y.T, trans=1, lower=0)
    else:
        gram = dsyrk(c, y.T, trans=0, lower=0)
    w = scipy.linalg.eigh(gram, lower=False, eigvals_only=True, overwrite_a=True,
                          check_finite=False, driver="evd")
    del gram
    if n > m:
        w = np.concatenate([np.zeros(n - m), w])
        w.sort()
    return w


# --------------------------------------------------------------------------- activation helpers
def _numpy_activation(activation):
    """(vectorised float64 callable, Activation or None) for a spec, an Activation or a callable."""
    if hasattr(activation, "numpy_function"):
        return activation.numpy_function(), activation
    from nrmt.theory.activations import as_activation

    act = as_activation(activation)
    return act.numpy_function(), act


def _gaussian_mean(fn, sigma, shift=0.0):
    from nrmt.theory.gaussian import gaussian_expectation_float

    return gaussian_expectation_float(fn, sigma=sigma, shift=shift)


def layer_variances(activation, depth, *, sigma_w=1.0, sigma_x=1.0, sigma_b=0.0):
    r"""The variances the sampler uses at each layer: a list of dicts ``s2, q, mu, theta1``.

    ``s2`` = :math:`s_\ell^2` (variance of :math:`W_\ell Y_{\ell-1}`), ``q`` =
    :math:`s_\ell^2 + \sigma_b^2` (pre-activation variance), ``mu`` = :math:`\mu_\ell(0)` (the
    centring constant without bias) and ``theta1`` = :math:`\theta_1^{(\ell)}` (second moment of
    the centred layer output, averaged over the bias). float64 values (module docstring for the
    formulas); the Gaussian expectations come from
    :func:`nrmt.theory.gaussian.gaussian_expectation_float`.
    """
    fn, _ = _numpy_activation(activation)
    depth = _positive_int("depth", depth)
    sigma_w = _float("sigma_w", sigma_w, positive=True)
    sigma_x = _float("sigma_x", sigma_x, positive=True)
    sigma_b = _float("sigma_b", sigma_b, nonnegative=True)
    out = []
    second = sigma_x ** 2
    for _ in range(depth):
        s2 = sigma_w ** 2 * second
        layer = _layer_constants(fn, s2, sigma_b)
        out.append(layer)
        second = layer["theta1"]
    return out


def _layer_constants(fn, s2, sigma_b):
    s = math.sqrt(s2)
    q = s2 + sigma_b ** 2
    mu0 = float(_gaussian_mean(fn, s))
    square_mean = float(_gaussian_mean(lambda x: np.square(fn(x)), math.sqrt(q)))
    if sigma_b > 0:
        def mu_squared(beta):
            return np.square(np.asarray(_gaussian_mean(fn, s, shift=beta), dtype=float))

        mean_mu2 = float(_gaussian_mean(mu_squared, sigma_b))
    else:
        mean_mu2 = mu0 ** 2
    theta1 = square_mean - mean_mu2
    if not theta1 > 0:
        raise ValueError(
            f"the centred activation vanishes at variance {q:g} (theta1 = {theta1:g}): "
            "nothing to sample")
    return {"s2": s2, "q": q, "mu": mu0, "theta1": theta1}


def _apply_inplace(fn, h, shift_rows=None):
    """h[...] = fn(h) - shift (shift: None, a scalar or one value per row), chunk by chunk."""
    rows, cols = h.shape
    step = max(1, _CHUNK // max(cols, 1))
    for start in range(0, rows, step):
        block = h[start:start + step]
        value = fn(block)
        if value is not block:
            value = np.asarray(value, dtype=np.float64)
            if value.shape != block.shape:
                value = np.broadcast_to(value, block.shape)
            block[...] = value
        if shift_rows is not None:
            if np.ndim(shift_rows) == 0:
                block -= shift_rows
            else:
                block -= shift_rows[start:start + step, None]


# --------------------------------------------------------------------------- samplers
def _progress(total, enabled, desc):
    if not enabled:
        return None
    from tqdm import tqdm
    import sys

    return tqdm(total=total, desc=desc, unit="trial", file=sys.stderr, leave=False)


def sample_gram(activation, widths, m, *, sigma_w=1.0, sigma_x=1.0, sigma_b=0.0,
                entries="gaussian", trials=1, rng=None, centre=True, progress=False,
                pooled=True):
    r"""Eigenvalues of :math:`M=\frac1m Y_LY_L^\top` for random networks (module docstring).

    Parameters
    ----------
    activation : str, sympy expression, Activation or callable
        The activation :math:`f` (anything :func:`nrmt.theory.activations.as_activation` takes;
        a callable must be vectorised over float64 arrays).
    widths : sequence of int
        ``[n0, n1, ..., nL]``: input dimension and the widths of the L layers (L ≥ 1). In the
        Pennington–Worah notation of one layer, ψ = n0/n1.
    m : int
        Number of samples (columns of X); φ = n0/m.
    sigma_w, sigma_x : float, optional
        Weight and data scales: :math:`W_\ell` entries have variance :math:`\sigma_w^2/n_{\ell-1}`,
        X entries variance :math:`\sigma_x^2` (one layer: σ = σ_w σ_x).
    sigma_b : float, optional
        Bias scale: :math:`b_\ell` has iid :math:`N(0,\sigma_b^2)` entries (0: no bias).
    entries : str or EntryLaw, optional
        Law of the entries of X and of every W (:func:`nrmt.numerics.entries.entry_law`).
    trials : int, optional
        Independent matrices; their eigenvalues are pooled.
    rng : int, numpy.random.Generator or None
        Seed or generator (an int makes the run reproducible).
    centre : bool, optional
        Subtract the Gaussian mean at every layer (default); False keeps the rank-one mean
        (one outlier eigenvalue of order :math:`n_L\mu^2` per trial).
    progress : bool, optional
        Show a tqdm progress bar over the trials on standard error.
    pooled : bool, optional
        Return one array of ``trials * n_L`` values (default) or shape ``(trials, n_L)``.

    Returns
    -------
    ndarray
        float64 eigenvalues, ascending within each trial.

    Raises
    ------
    ValueError, TypeError
        Invalid sizes, scales, entry law or activation.

    Notes
    -----
    Peak memory for one layer is about the larger of :math:`n_0 m + n_1 m` and
    :math:`n_1 m + \min(n_1, m)^2` float64 values: W is drawn and multiplied a block of rows at a
    time (never held whole), the activation is applied in place to each block, the Gram matrix
    is formed by ``syrk`` and overwritten by the eigensolver.

    Examples
    --------
    >>> ev = sample_gram(lambda x: x, [300, 150], 600, rng=0)   # linear: product Wishart
    >>> ev.shape, bool(abs(ev.mean() - 1.0) < 0.05)
    ((150,), True)
    """
    try:
        widths = [int(operator.index(w)) for w in widths]
    except TypeError:
        raise TypeError(f"widths must be a list of integers [n0, n1, ...], got {widths!r}") from None
    if len(widths) < 2:
        raise ValueError(f"widths must list n0 and at least one layer width, got {widths}")
    for i, w in enumerate(widths):
        if w < 1:
            raise ValueError(f"widths[{i}] must be >= 1, got {w}")
    m = _positive_int("m", m)
    trials = _positive_int("trials", trials)
    sigma_w = _float("sigma_w", sigma_w, positive=True)
    sigma_x = _float("sigma_x", sigma_x, positive=True)
    sigma_b = _float("sigma_b", sigma_b, nonnegative=True)
    law = entry_law(entries)
    gen = as_generator(rng)
    fn, _ = _numpy_activation(activation)
    depth = len(widths) - 1
    if centre:
        consts = []
        second = sigma_x ** 2
        for _ in range(depth):
            layer = _layer_constants(fn, sigma_w ** 2 * second, sigma_b)
            consts.append(layer)
            second = layer["theta1"]
    else:
        consts = [None] * depth

    out = np.empty((trials, widths[-1]))
    bar = _progress(trials, progress, "sampling")
    try:
        for t in range(trials):
            out[t] = _one_network(fn, widths, m, sigma_w, sigma_x, sigma_b, law, gen, consts)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return out.reshape(-1) if pooled else out


def _product_rows(law, gen, n_out, y, scale, out=None):
    """out = W y with W (n_out x n_in) of iid entries (law, std ``scale``), drawn in row blocks.

    W is never held whole: each block of rows is drawn, multiplied into its rows of ``out`` and
    dropped, so the peak memory is y + out + one block. Yields (start, stop, block of out) after
    each block so the caller can transform it while it is hot in cache.
    """
    n_in, m = y.shape
    if out is None:
        out = np.empty((n_out, m))
    rows = max(64, _BLOCK // max(n_in, 1))
    for start in range(0, n_out, rows):
        stop = min(n_out, start + rows)
        wb = law.draw(gen, (stop - start, n_in), scale=scale)
        np.matmul(wb, y, out=out[start:stop])
        del wb
        yield start, stop, out[start:stop]


def _one_network(fn, widths, m, sigma_w, sigma_x, sigma_b, law, gen, consts):
    y = law.draw(gen, (widths[0], m), scale=sigma_x)
    for layer, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:])):
        c = consts[layer]
        # b is drawn before W at every layer (also when sigma_b = 0), so that runs with and
        # without bias see the same X and W for the same seed
        b = gen.standard_normal(n_out)
        b *= sigma_b
        shift = None
        if c is not None:
            if sigma_b > 0:
                shift = np.asarray(_gaussian_mean(fn, math.sqrt(c["s2"]), shift=b), dtype=float)
            else:
                shift = c["mu"]
        h = np.empty((n_out, m))
        for start, stop, block in _product_rows(law, gen, n_out, y, sigma_w / math.sqrt(n_in), h):
            if sigma_b > 0:
                block += b[start:stop, None]
            _apply_inplace(fn, block, shift if np.ndim(shift) == 0 else shift[start:stop])
        del y
        y = h
    return gram_eigenvalues(y, 1.0 / m)


def sample_linear_equivalent(theta1, theta2, n0, n1, m, *, entries="gaussian", trials=1,
                             rng=None, progress=False, pooled=True):
    r"""Eigenvalues for Péché's linear equivalent of the one-layer model.

    .. math::

        Y_{\mathrm{lin}} = \sqrt{\theta_2}\,\frac{W_0X_0}{\sqrt{n_0}} + \sqrt{\theta_1-\theta_2}\,Z,
        \qquad M = \tfrac1m Y_{\mathrm{lin}}Y_{\mathrm{lin}}^\top,

    with :math:`W_0` (n1×n0), :math:`X_0` (n0×m) and :math:`Z` (n1×m) independent with iid
    entries of mean 0 and variance 1 (law ``entries``). Its limiting spectral law is the
    Pennington–Worah law with constants θ1, θ2 (Péché 2019, main result — the
    information-plus-noise form; ``docs/theory.md``, section 4). It needs no
    activation and no Gaussian means, so it is the cheap reference sampler for tests of the law.

    Parameters
    ----------
    theta1, theta2 : float
        The constants, :math:`\theta_1 \ge \theta_2 \ge 0`, :math:`\theta_1 > 0`.
    n0, n1, m : int
        Sizes (φ = n0/m, ψ = n0/n1).
    entries, trials, rng, progress, pooled
        As in :func:`sample_gram`.

    Returns
    -------
    ndarray
        ``trials * n1`` eigenvalues (or shape ``(trials, n1)`` when ``pooled=False``).
    """
    theta1 = _float("theta1", theta1, positive=True)
    theta2 = _float("theta2", theta2, nonnegative=True)
    if theta2 > theta1 * (1 + 1e-12):
        raise ValueError(f"theta2 must be <= theta1, got theta1={theta1}, theta2={theta2}")
    noise = math.sqrt(max(theta1 - theta2, 0.0))
    n0, n1, m = (_positive_int(k, v) for k, v in (("n0", n0), ("n1", n1), ("m", m)))
    trials = _positive_int("trials", trials)
    law = entry_law(entries)
    gen = as_generator(rng)
    out = np.empty((trials, n1))
    bar = _progress(trials, progress, "sampling")
    try:
        for t in range(trials):
            if theta2 > 0:
                x0 = law.draw(gen, (n0, m))
                y = np.empty((n1, m))
                for _ in _product_rows(law, gen, n1, x0, math.sqrt(theta2 / n0), y):
                    pass
                del x0
            else:
                y = np.zeros((n1, m))
            if noise > 0:
                for start in range(0, n1, max(1, _BLOCK // m)):
                    stop = min(n1, start + max(1, _BLOCK // m))
                    y[start:stop] += law.draw(gen, (stop - start, m), scale=noise)
            out[t] = gram_eigenvalues(y, 1.0 / m)
            del y
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return out.reshape(-1) if pooled else out
