r"""The conjugate kernel and the neural tangent kernel of a deep network (Fan & Wang 2020).

``NTK(activation, depth=L, gamma=[γ0, ..., γL], input_spectrum=None)`` models Fan & Wang's
network (:mod:`nrmt.theory.equations.ntk`): data :math:`X_0` (:math:`d_0\times n`, columns of
norm about 1), :math:`X_\ell = \sigma(W_\ell X_{\ell-1})/\sqrt{d_\ell}` with :math:`W_\ell` iid
:math:`N(0,1)`, :math:`f(x) = w^\top x_L`, :math:`\gamma_\ell = n/d_\ell`, and the activation
normalised, :math:`\sigma = (f - \mathbb E f(\xi))/\operatorname{sd} f(\xi)`. It gives

* ``.constants(dps)``: :math:`a_\sigma`, :math:`b_\sigma`, :math:`r_+`, :math:`q_0..q_{L-1}` and
  the exact NTK mean :math:`1 + \sum_{k=1}^L a_\sigma^k`;
* ``.law(dps)`` (the NTK) and ``.ck_law(dps)`` (the CK): :class:`~nrmt.numerics.ntk_law.KernelLaw`
  objects (density, support, atom, CDF, quantiles, moments, tables to ``dps`` digits);
* ``.sample(n, ...)``: eigenvalues of the CK and the NTK of sampled networks, the NTK by explicit
  backpropagation (:func:`nrmt.numerics.ntk_sampling.sample_kernels`).

Input spectra (``input_spectrum``): ``None`` or ``"marchenko-pastur"`` (Gaussian data,
:math:`\mu_0 = \mathrm{MP}(\gamma_0)`), ``"orthonormal"`` (exactly orthonormal columns,
:math:`\mu_0 = \delta_1`, needs :math:`\gamma_0 \le 1`), an array of eigenvalues of
:math:`X_0^\top X_0`, or the path of a ``.npy`` or text file of them (:func:`load_spectrum`).
Fan & Wang's theorem assumes approximately orthonormal columns; a given spectrum is checked for
what its eigenvalues can show (mean 1 = unit column norms on average, no large outlier = no common
direction such as an uncentred mean) and :attr:`NTK.warnings` says what looks wrong.

Examples
--------
>>> model = NTK("relu", depth=2, gamma=[0.5, 1, 1])
>>> k = model.constants()
>>> round(float(k["mean"]), 12) == round(float(1 + k["a_sigma"] + k["a_sigma"] ** 2), 12)
True
>>> round(float(model.law().moments(1)[0]), 10) == round(float(k["mean"]), 10)
True
"""

import os

import mpmath
import numpy as np
import sympy as sp

from nrmt.models.one_layer import check_ratio
from nrmt.numerics.ntk_law import DiscreteInput, InputSpectrum, KernelLaw, MarchenkoPasturInput
from nrmt.theory.activations import as_activation
from nrmt.theory.equations import ntk as eq

__all__ = ["NTK", "KernelVerification", "load_spectrum", "spectrum_warnings", "INPUT_LAWS"]

#: Named input laws.
INPUT_LAWS = ("marchenko-pastur", "orthonormal")

_GUARD = 20           # extra digits of the constants behind a law at dps digits
_MEAN_TOL = 0.1       # |mean eigenvalue - 1| above this: a warning
_OUTLIER = 10.0       # largest eigenvalue above this many times the mean: a warning


def load_spectrum(path):
    """Eigenvalues of :math:`X_0^\\top X_0` from a ``.npy`` file or a text file (numbers separated
    by white space, commas or new lines; ``#`` comments).

    Raises
    ------
    ValueError
        A missing or unreadable file, not a 1-D list of finite numbers >= 0 (tiny negative values
        from rounding, above -1e-10 of the largest, are set to 0).
    """
    if not os.path.isfile(path):
        raise ValueError(f"input spectrum file not found: {path}")
    try:
        if str(path).endswith(".npy"):
            values = np.load(path, allow_pickle=False)
        else:
            with open(path, encoding="utf-8") as fh:
                text = "\n".join(line.split("#", 1)[0] for line in fh)
            values = np.array([float(t) for t in text.replace(",", " ").split()])
    except (OSError, ValueError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"cannot read the input spectrum {path}: {msg}") from None
    values = np.asarray(values)
    if values.dtype.kind not in "iuf":
        raise ValueError(f"the input spectrum {path} must hold real numbers, got dtype {values.dtype}")
    if values.ndim != 1:
        raise ValueError(f"the input spectrum {path} must be a 1-D list of eigenvalues, "
                         f"got an array of shape {values.shape}")
    values = values.astype(float)
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise ValueError(f"the input spectrum {path} is empty or has non-finite values")
    top = float(np.max(np.abs(values)))
    if np.any(values < -1e-10 * top):
        raise ValueError(f"the input spectrum {path} has negative eigenvalues "
                         f"(min {values.min():.6g}): not a Gram matrix")
    return np.maximum(values, 0.0)


def spectrum_warnings(values):
    r"""What a Gram spectrum says against Fan & Wang's assumption of approximately orthonormal
    columns: the mean eigenvalue is the mean squared column norm (should be about 1), and an
    eigenvalue far above the bulk means a direction shared by the columns (e.g. data not centred).

    >>> spectrum_warnings(np.full(10, 4.0))[0][:40]
    'mean eigenvalue 4 (the mean squared colu'
    """
    v = np.asarray(values, dtype=float)
    out = []
    mean = float(v.mean())
    if abs(mean - 1) > _MEAN_TOL:
        out.append(f"mean eigenvalue {mean:.4g} (the mean squared column norm) is not about 1: "
                   "Fan-Wang's theorem assumes columns of norm ~1; divide the data by "
                   f"sqrt({mean:.4g})")
    if mean > 0 and v.max() > _OUTLIER * mean:
        out.append(f"the largest eigenvalue is {v.max() / mean:.3g} times the mean: the columns "
                   "are far from orthogonal (a common direction, e.g. data not centred); the "
                   "limit laws assume approximately orthogonal columns")
    return out


class NTK:
    r"""CK and NTK of an L-layer network (module docstring).

    Parameters
    ----------
    activation : str, sympy expression or Activation
    depth : int >= 1
    gamma : sequence of L + 1 numbers > 0
        :math:`\gamma_\ell = n/d_\ell`, ℓ = 0..L.
    input_spectrum : None, str, array_like or InputSpectrum
        See the module docstring.
    """

    kind = "ntk"

    def __init__(self, activation, depth, gamma, input_spectrum=None):
        self.activation = as_activation(activation)
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
            raise ValueError(f"depth must be an integer >= 1, got {depth!r}")
        gamma = list(gamma) if isinstance(gamma, (list, tuple, np.ndarray)) else [gamma]
        if len(gamma) != depth + 1:
            raise ValueError(f"gamma must list {depth + 1} ratios gamma_0..gamma_{depth} for depth "
                             f"{depth}, got {len(gamma)}")
        self.depth = depth
        self.gamma = [check_ratio(f"gamma_{i}", g) for i, g in enumerate(gamma)]
        self.warnings = []
        self.input = self._input(input_spectrum)
        self._norm = {}
        self._laws = {}

    def _input(self, spec):
        if isinstance(spec, InputSpectrum):
            return spec
        if spec is None or (isinstance(spec, str) and spec in ("marchenko-pastur", "mp")):
            return MarchenkoPasturInput(self.gamma[0])
        if isinstance(spec, str) and spec == "orthonormal":
            if float(self.gamma[0]) > 1:
                raise ValueError(f"orthonormal data need d0 >= n (gamma_0 <= 1), got gamma_0 = "
                                 f"{self.gamma[0]}")
            return DiscreteInput([1.0], name="orthonormal")
        if isinstance(spec, (str, os.PathLike)):
            values = load_spectrum(spec)
            name = os.path.basename(str(spec))
        else:
            values = np.asarray(spec, dtype=float)
            name = "data"
            if values.ndim != 1:
                raise ValueError(f"an input spectrum must be 1-D eigenvalues, got shape {values.shape}")
        self.warnings = spectrum_warnings(values)
        return DiscreteInput(values, name=name)

    # ------------------------------------------------------------------ constants
    def normalisation(self, dps=15):
        """The normalised activation's constants (:func:`nrmt.theory.equations.ntk.normalisation`)."""
        if dps not in self._norm:
            self._norm[dps] = eq.normalisation(self.activation, dps=dps)
        return self._norm[dps]

    def constants(self, dps=15):
        r"""``a_sigma``, ``b_sigma``, ``r_plus``, ``q`` (list), ``mean`` (the NTK's mean),
        ``f_mean``, ``f_sd`` (the normalisation) as mpf with ``dps`` digits, and ``exact``
        (closed forms as sympy, None where there is none)."""
        c = self.normalisation(dps + _GUARD)
        input_mean = self._input_mean()
        with mpmath.workdps(dps + _GUARD):
            r, q = eq.linearisation(c.a, c.b2, self.depth)
            mean = eq.kernel_mean(c.a, c.b2, self.depth, input_mean)
            out = {"a_sigma": c.a, "b_sigma": c.b, "r_plus": r, "q": q, "mean": mean,
                   "f_mean": c.mean, "f_sd": c.sd}
        ex = c.exact
        exact = {"a_sigma": ex["a"], "b_sigma": ex["b"], "r_plus": None, "q": None, "mean": None}
        if ex["a"] is not None and ex["b2"] is not None:
            r_x, q_x = eq.linearisation(ex["a"], ex["b2"], self.depth)
            exact["r_plus"] = sp.simplify(r_x)
            exact["q"] = [sp.simplify(v) for v in q_x]
            if isinstance(self.input, MarchenkoPasturInput) or self.input.name == "orthonormal":
                exact["mean"] = sp.simplify(eq.kernel_mean(ex["a"], ex["b2"], self.depth))
        out["exact"] = exact
        return out

    def _input_mean(self):
        if isinstance(self.input, DiscreteInput):
            return mpmath.mpf(self.input.mean)
        return 1

    # ------------------------------------------------------------------ laws
    def _law(self, kind, dps):
        key = (kind, dps)
        if key not in self._laws:
            c = self.normalisation(dps + _GUARD)
            b2 = sp.Integer(0) if c.linear_free else (sp.Integer(1) if c.linear else c.b2)
            if kind == "ck":
                law = KernelLaw(b2, self.gamma, self.input, linear=c.linear, dps=dps)
            else:
                k = self.constants(dps)
                a = sp.Integer(1) if c.linear else c.a
                with mpmath.workdps(dps + _GUARD):
                    r, q = eq.linearisation(a, b2, self.depth)
                law = KernelLaw(b2, self.gamma, self.input, r=r, q=q, linear=c.linear,
                                mean=k["mean"], dps=dps)
            self._laws[key] = law
        return self._laws[key]

    def law(self, dps=15):
        """The limit law of the NTK (a :class:`~nrmt.numerics.ntk_law.KernelLaw`)."""
        return self._law("ntk", dps)

    def ck_law(self, dps=15):
        """The limit law of the CK (a :class:`~nrmt.numerics.ntk_law.KernelLaw`)."""
        return self._law("ck", dps)

    # ------------------------------------------------------------------ sampling
    def widths(self, n):
        """Layer widths :math:`d_\\ell = \\mathrm{round}(n/\\gamma_\\ell)` for n data points."""
        return [max(1, int(round(n / float(g)))) for g in self.gamma]

    def data(self, n, rng=None, entries="gaussian"):
        r"""Input data :math:`X_0` with this model's input law, for n points.

        Marchenko–Pastur: iid entries of variance :math:`1/d_0`. A given spectrum:
        :math:`X_0 = \operatorname{diag}(\sqrt{\lambda})\,Q^\top` (:math:`d_0 = n`) with Haar
        orthogonal Q and :math:`\lambda` the n quantiles :math:`(i - 1/2)/n` of the spectrum, so
        :math:`X_0^\top X_0 = Q\operatorname{diag}(\lambda)Q^\top` has that spectrum and columns
        of norm about :math:`\sqrt{\text{mean}}`, nearly orthogonal (delocalised eigenvectors).
        """
        from nrmt.numerics.jacobian_sampling import haar_orthogonal
        from nrmt.numerics.ntk_sampling import gaussian_data
        from nrmt.numerics.sampling import as_generator

        gen = as_generator(rng)
        if isinstance(self.input, MarchenkoPasturInput):
            return gaussian_data(self.widths(n)[0], n, entries, gen)
        vals = self.input.values
        lam = np.quantile(vals, (np.arange(n) + 0.5) / n, method="inverted_cdf")
        return np.sqrt(lam)[:, None] * haar_orthogonal(n, gen).T

    def sample(self, n, *, trials=1, entries="gaussian", data=None, rng=None):
        """Eigenvalues of the CK and NTK of sampled networks (a
        :class:`~nrmt.numerics.ntk_sampling.KernelSample`); the data are :meth:`data` (fresh
        per trial for Marchenko–Pastur input, else fixed), or ``data`` when given."""
        from nrmt.numerics.ntk_sampling import sample_kernels
        from nrmt.numerics.sampling import as_generator

        if isinstance(n, bool) or not isinstance(n, int) or n < 2:
            raise ValueError(f"n must be an integer >= 2, got {n!r}")
        c = self.normalisation(15)
        gen = as_generator(rng)
        widths = self.widths(n)
        if data is None and not isinstance(self.input, MarchenkoPasturInput):
            data = self.data(n, gen)
        if data is not None:
            widths[0] = int(np.asarray(data).shape[0])
        return sample_kernels(self.activation, widths, n, mean=float(c.mean), sd=float(c.sd),
                              data=data, entries=entries, data_entries=entries, trials=trials,
                              rng=gen)

    def verify(self, n, *, trials=4, entries="gaussian", rng=None, moments=4):
        """Sample ``trials`` networks on n data points and compare their CK and NTK spectra with
        the limit laws (:func:`nrmt.numerics.compare.compare`): a :class:`KernelVerification`."""
        import time

        from nrmt.numerics.compare import compare

        t0 = time.perf_counter()
        sample = self.sample(n, trials=trials, entries=entries, rng=rng)
        seconds = time.perf_counter() - t0
        ck = compare(sample.ck, self.ck_law(), moments=moments)
        ntk = compare(sample.ntk, self.law(), moments=moments)
        return KernelVerification(sample, ck, ntk, seconds)

    def describe(self, dps=15):
        """A dict for JSON: activation, depth, gamma, a_sigma, b_sigma, r_plus, q, the input law,
        the normalisation and any warnings."""
        k = self.constants(dps)
        return {
            "model": self.kind,
            "activation": self.activation.text,
            "normalisation": "sigma = (f - E f(xi)) / sd f(xi), xi ~ N(0, 1)",
            "f_mean": k["f_mean"],
            "f_sd": k["f_sd"],
            "depth": self.depth,
            "gamma": list(self.gamma),
            "a_sigma": k["a_sigma"],
            "b_sigma": k["b_sigma"],
            "r_plus": k["r_plus"],
            "q": k["q"],
            "ntk_mean": k["mean"],
            "input_spectrum": self.input.describe(),
            "warnings": list(self.warnings),
        }

    def __repr__(self):
        return (f"NTK({self.activation.text!r}, depth={self.depth}, gamma={self.gamma}, "
                f"input_spectrum={self.input.name!r})")



class KernelVerification:
    r"""Sampled CK and NTK spectra against their limit laws.

    Attributes
    ----------
    sample : KernelSample
    ck, ntk : Comparison
        KS, W1, moments and noise scales (:func:`nrmt.numerics.compare.compare`).
    seconds_sampling : float

    Notes
    -----
    The NTK of one network carries fluctuations of order :math:`1/\sqrt{d}` shared by all its
    eigenvalues (quadratic forms in the output weights :math:`w` and in the :math:`W_\ell`,
    e.g. :math:`\lVert w\rVert^2/d_L`), far above the :math:`O(1/n)` rigidity behind
    ``ks_scale``. The noise of a pooled KS is then measured from the data: ``ks_split``, half the
    two-sample KS between the two halves of the trials. :meth:`noise_ratio` divides the KS by the
    larger of the two scales (trials >= 2), and the moments' standard errors come from the spread
    across trials.
    """

    def __init__(self, sample, ck, ntk, seconds_sampling):
        self.sample = sample
        self.ck = ck
        self.ntk = ntk
        self.seconds_sampling = seconds_sampling

    @staticmethod
    def noise_ratio(comparison):
        """KS over max(ks_scale, ks_split): ~1 expected, beyond ~4 a real disagreement."""
        split = comparison.ks_split or 0.0
        return comparison.ks / max(comparison.ks_scale, split)
