r"""Monte Carlo: conjugate kernel and neural tangent kernel of sampled deep networks (numpy).

Fan & Wang's model (arXiv:2005.11879, Sec. 2): data :math:`X_0 \in \mathbb R^{d_0\times n}` with
columns of norm about 1, :math:`X_\ell = \sigma(W_\ell X_{\ell-1})/\sqrt{d_\ell}` with
:math:`W_\ell \in \mathbb R^{d_\ell\times d_{\ell-1}}` of iid entries of mean 0 and variance 1 (any
law of :func:`nrmt.numerics.entries.entry_law`), output :math:`f(x) = w^\top x_L` with :math:`w`
iid of variance 1. The kernels are :math:`n\times n`:

* conjugate kernel :math:`\mathrm{CK} = X_L^\top X_L`;
* neural tangent kernel
  :math:`\mathrm{NTK} = X_L^\top X_L + \sum_{\ell=1}^{L} (\Delta_\ell^\top\Delta_\ell)\odot
  (X_{\ell-1}^\top X_{\ell-1})`, the Gram matrix of the gradients of :math:`f(x_1), \dots, f(x_n)`
  in all weights, where column :math:`i` of :math:`\Delta_\ell` is :math:`\partial f(x_i)/\partial
  h_\ell` (:math:`h_\ell = W_\ell x_{\ell-1}`), computed by backpropagation:
  :math:`\Delta_L = \operatorname{diag}(w)\,\sigma'(H_L)/\sqrt{d_L}`,
  :math:`\Delta_{\ell} = \sigma'(H_\ell)\odot(W_{\ell+1}^\top\Delta_{\ell+1})/\sqrt{d_\ell}`.
  The gradient in :math:`W_\ell` of :math:`f(x_i)` is :math:`\Delta_\ell e_i\, x_{\ell-1,i}^\top`,
  whence the Hadamard products.

The activation is used normalised, :math:`\sigma = (f - \mathbb E f(\xi))/\mathrm{sd}\,f(\xi)`,
with the mean and standard deviation passed in (the model computes them exactly).
"""

import math
import numbers

import numpy as np

from nrmt.numerics.entries import entry_law
from nrmt.numerics.sampling import as_generator
from nrmt.theory.activations import as_activation

__all__ = ["KernelSample", "gaussian_data", "network_kernels", "sample_kernels"]


class KernelSample:
    """Eigenvalues of the CK and the NTK of ``trials`` sampled networks.

    Attributes
    ----------
    ck, ntk : ndarray, shape (trials, n)
        Sorted eigenvalues per trial.
    n : int
        Number of data points (kernel size).
    widths : list of int
        :math:`d_0, \\dots, d_L`.
    """

    def __init__(self, ck, ntk, widths):
        self.ck = np.asarray(ck, dtype=float)
        self.ntk = np.asarray(ntk, dtype=float)
        self.n = int(self.ck.shape[1])
        self.widths = list(widths)

    @property
    def trials(self):
        """Number of sampled networks."""
        return int(self.ck.shape[0])

    def __repr__(self):
        return f"KernelSample(n={self.n}, widths={self.widths}, trials={self.trials})"


def _check_int(name, value, low):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def gaussian_data(d0, n, entries="gaussian", rng=None):
    r"""Data :math:`X_0` (:math:`d_0\times n`) of iid entries of variance :math:`1/d_0`: columns of
    norm about 1, :math:`X_0^\top X_0` close to Marchenko–Pastur of ratio :math:`n/d_0`.

    >>> x = gaussian_data(400, 100, rng=0)
    >>> x.shape, bool(abs(np.mean(np.sum(x * x, axis=0)) - 1) < 0.05)
    ((400, 100), True)
    """
    d0 = _check_int("d0", d0, 1)
    n = _check_int("n", n, 1)
    gen = as_generator(rng)
    return entry_law(entries).draw(gen, (d0, n)) / math.sqrt(d0)


def sample_kernels(activation, widths, n, *, mean=0.0, sd=1.0, data=None, entries="gaussian",
                   data_entries="gaussian", trials=1, rng=None):
    r"""Eigenvalues of the CK and the NTK of sampled networks (module docstring).

    Parameters
    ----------
    activation : str, Activation or sympy expression
        The activation f; the network uses :math:`\sigma = (f - \text{mean})/\text{sd}`.
    widths : sequence of int
        :math:`d_0, d_1, \dots, d_L` (:math:`L \ge 1`).
    n : int
        Number of data points.
    mean, sd : float
        :math:`\mathbb E f(\xi)` and :math:`\mathrm{sd}\, f(\xi)`, :math:`\xi\sim N(0, 1)`.
    data : ndarray (d0, n), optional
        The input data, the same for every trial (e.g. a data set with normalised columns);
        default: fresh :func:`gaussian_data` per trial with the ``data_entries`` law.
    entries : str
        Entry law of the weights :math:`W_\ell` and :math:`w`.
    data_entries : str
        Entry law of the Gaussian-like data (when ``data`` is None).
    trials : int
    rng : int, Generator or None

    Returns
    -------
    KernelSample

    Examples
    --------
    The NTK's trace is the sum of the squared gradients, at least the CK's:

    >>> s = sample_kernels("tanh(x)", [60, 50, 40], 30, sd=0.6279, rng=1)
    >>> s.ck.shape, bool(s.ntk.sum() > s.ck.sum())
    ((1, 30), True)
    """
    f = as_activation(activation)
    widths = [_check_int(f"widths[{i}]", w, 1) for i, w in enumerate(widths)]
    if len(widths) < 2:
        raise ValueError(f"widths must list d0, d1, ..., dL with L >= 1, got {widths}")
    n = _check_int("n", n, 1)
    trials = _check_int("trials", trials, 1)
    mean, sd = float(mean), float(sd)
    if not (sd > 0 and math.isfinite(sd)) or not math.isfinite(mean):
        raise ValueError(f"the normalisation needs a finite mean and sd > 0, got {mean}, {sd}")
    if data is not None:
        data = np.asarray(data, dtype=float)
        if data.shape != (widths[0], n):
            raise ValueError(f"data must have shape (d0, n) = {(widths[0], n)}, got {data.shape}")
    law = entry_law(entries)
    gen = as_generator(rng)
    fn = f.numpy_function()
    fprime = f.derivative().numpy_function()
    ck_out, ntk_out = [], []
    for _ in range(trials):
        x = data if data is not None else gaussian_data(widths[0], n, data_entries, gen)
        ws = [law.draw(gen, (d, d_prev)) for d_prev, d in zip(widths[:-1], widths[1:])]
        out_w = law.draw(gen, (widths[-1],))
        ck, ntk = _kernels(fn, fprime, x, ws, out_w, mean, sd)
        ck_out.append(np.linalg.eigvalsh(ck))
        ntk_out.append(np.linalg.eigvalsh(ntk))
    return KernelSample(np.array(ck_out), np.array(ntk_out), widths)


def _kernels(fn, fprime, x, ws, out_w, mean, sd):
    """(CK, NTK) for numpy f, f' (module docstring: forward pass, then backpropagation)."""
    xs, ds = [x], []
    for w in ws:
        h = w @ xs[-1]
        xs.append((np.asarray(fn(h), dtype=float) - mean) / (sd * math.sqrt(w.shape[0])))
        ds.append(np.broadcast_to(np.asarray(fprime(h), dtype=float), h.shape) / sd)
    ck = xs[-1].T @ xs[-1]
    ntk = ck.copy()
    delta = out_w[:, None] * ds[-1] / math.sqrt(ws[-1].shape[0])
    for layer in range(len(ws), 0, -1):          # layer l = L .. 1 (ws[l-1] is W_l)
        ntk += (delta.T @ delta) * (xs[layer - 1].T @ xs[layer - 1])
        if layer > 1:
            d = ws[layer - 2].shape[0]
            delta = ds[layer - 2] * (ws[layer - 1].T @ delta) / math.sqrt(d)
    return ck, ntk


def network_kernels(activation, data, weights, out_weights, *, mean=0.0, sd=1.0):
    r"""The CK and the NTK (:math:`n\times n` matrices) of one network with given weights.

    Parameters
    ----------
    activation : str, Activation or sympy expression
        f; the network uses :math:`\sigma = (f - \text{mean})/\text{sd}`.
    data : ndarray (d0, n)
    weights : list of ndarray
        :math:`W_1 (d_1\times d_0), \dots, W_L`.
    out_weights : ndarray (d_L,)
        :math:`w`.
    mean, sd : float

    Returns
    -------
    (ndarray, ndarray)
        CK and NTK.

    Examples
    --------
    One layer, one data point: the NTK is the squared norm of the gradient,
    :math:`\lVert x_1\rVert^2 + \lVert x_0\rVert^2\,\lVert\partial f/\partial h_1\rVert^2`.

    >>> x = np.array([[1.0], [0.0]])
    >>> ck, ntk = network_kernels("x", x, [np.array([[2.0, 0.0]])], np.array([3.0]))
    >>> float(ck[0, 0]), float(ntk[0, 0])
    (4.0, 13.0)
    """
    f = as_activation(activation)
    return _kernels(f.numpy_function(), f.derivative().numpy_function(),
                    np.asarray(data, dtype=float), [np.asarray(w, dtype=float) for w in weights],
                    np.asarray(out_weights, dtype=float), float(mean), float(sd))
