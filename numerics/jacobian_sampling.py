r"""Monte Carlo: input–output Jacobians of sampled deep networks and their squared singular values.

A network of width N and depth L: :math:`h^l = W^l x^{l-1} + b^l`, :math:`x^l = f(h^l)`,
:math:`x^0` the input, :math:`W^l_{ij}` iid of mean 0 and variance :math:`\sigma_w^2/N` (any
entry law of :func:`nrmt.numerics.entries.entry_law`), or :math:`\sigma_w` times a Haar-orthogonal
matrix; :math:`b^l_i` iid :math:`N(0, \sigma_b^2)`. The Jacobian is
:math:`J = D_L W^L \cdots D_1 W^1`, :math:`D_l = \operatorname{diag} f'(h^l)`, and the sample is
the eigenvalues of :math:`JJ^\top` (squared singular values of J), pooled over trials.

Resolution floor. J is a product of L matrices formed in float64, so its singular values carry an
absolute error of order :math:`L\,\epsilon\,\lVert J\rVert`; squared, values below about
:math:`10^{-20}\max` are not resolved (deep products put 15–55 % of the mass there, the density
near 0 behaving like :math:`x^{-L/(L+1)}`). :class:`JacobianSample` carries that floor; compare with
a law only above it (:func:`ks_above_floor`): the *count* of values below the floor is right, their
positions are not.

Haar-orthogonal matrices: QR decomposition of a Gaussian matrix with the signs of R's diagonal
moved into Q (Mezzadri, *How to generate random matrices from the classical compact groups*,
Notices AMS 54 (2007) 592).
"""

import math
from dataclasses import dataclass

import numpy as np

from nrmt.numerics.entries import entry_law
from nrmt.theory.activations import as_activation

__all__ = [
    "FLOOR",
    "JacobianSample",
    "haar_orthogonal",
    "sample_jacobian",
    "ks_above_floor",
]

#: Relative resolution floor of the squared singular values (times the largest one).
FLOOR = 1e-20


@dataclass
class JacobianSample:
    """Pooled eigenvalues of :math:`JJ^\\top` with the float64 resolution floor.

    Attributes
    ----------
    values : ndarray
        Eigenvalues, N per trial, the trials one after the other, ascending within each trial
        (as :func:`nrmt.numerics.sampling.sample_gram` pools them): the trial blocks give
        :func:`nrmt.numerics.compare.compare` its spread across trials (``ks_split``,
        ``moment_se``).
    floor : float
        Values below ``floor`` are not resolved (``FLOOR`` times the smallest per-trial maximum).
    n : int
        Width N.
    trials : int
    """

    values: np.ndarray
    floor: float
    n: int
    trials: int

    @property
    def below_floor(self):
        """Fraction of the values below the floor (counted right, positions not resolved)."""
        return float(np.mean(self.values < self.floor))

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.values, dtype=dtype)

    def __len__(self):
        return len(self.values)


def haar_orthogonal(n, rng):
    """An n×n Haar-distributed orthogonal matrix (QR of a Gaussian matrix, sign-fixed).

    >>> q = haar_orthogonal(5, np.random.default_rng(0))
    >>> bool(np.allclose(q @ q.T, np.eye(5)))
    True
    """
    g = rng.standard_normal((n, n))
    q, r = np.linalg.qr(g)
    return q * np.sign(np.diag(r))


def _generator(rng):
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be an int seed, a numpy Generator or None, got {type(rng).__name__}")


def sample_jacobian(activation, depth, n, *, sigma_w, sigma_b=0.0, q0=None, q_star=None,
                    weights="iid", entries="gaussian", trials=1, rng=None):
    r"""Eigenvalues of :math:`JJ^\top` for sampled networks (pooled over ``trials``, ascending within each).

    Parameters
    ----------
    activation : Activation or spec
    depth : int >= 1
    n : int >= 2
        Width of every layer (square weights).
    sigma_w, sigma_b : float
    q0 : float, optional
        Mean square of the input, :math:`\lVert x^0\rVert^2/N`; the input is a Gaussian vector
        rescaled to exactly that mean square. Without it the input is :math:`f(\sqrt{q^*}\xi)`
        (``q_star`` required), so that every layer sits at the fixed point.
    q_star : float, optional
        The fixed point, used when ``q0`` is None.
    weights : {"iid", "orthogonal"}
    entries : str
        Entry law of iid weights (``"gaussian"``, ``"rademacher"``, ``"uniform"``,
        ``"student-t:NU"``, ...); ignored for orthogonal weights.
    trials : int
    rng : int, Generator or None

    Returns
    -------
    JacobianSample

    Examples
    --------
    >>> s = sample_jacobian("relu", 2, 50, sigma_w=2 ** 0.5, q0=1.0, rng=0)
    >>> len(s), bool(s.values.min() >= 0)
    (50, True)
    """
    f = as_activation(activation)
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or depth < 1:
        raise ValueError(f"depth must be an integer >= 1, got {depth!r}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be an integer >= 2, got {n!r}")
    if isinstance(trials, bool) or not isinstance(trials, (int, np.integer)) or trials < 1:
        raise ValueError(f"trials must be an integer >= 1, got {trials!r}")
    sigma_w = float(sigma_w)
    sigma_b = float(sigma_b)
    if not (sigma_w > 0 and math.isfinite(sigma_w)):
        raise ValueError(f"sigma_w must be > 0, got {sigma_w}")
    if not (sigma_b >= 0 and math.isfinite(sigma_b)):
        raise ValueError(f"sigma_b must be >= 0, got {sigma_b}")
    if weights not in ("iid", "orthogonal"):
        raise ValueError(f"weights must be 'iid' or 'orthogonal', got {weights!r}")
    if q0 is None and q_star is None:
        raise ValueError("give q0 (the input's mean square) or q_star (input at the fixed point)")
    law = entry_law(entries) if weights == "iid" else None
    gen = _generator(rng)
    fn = f.numpy_function()
    fprime = f.derivative().numpy_function()
    out = []
    floor = math.inf
    for _ in range(int(trials)):
        if q0 is not None:
            x = gen.standard_normal(n)
            x *= math.sqrt(float(q0) * n / np.dot(x, x)) if float(q0) > 0 else 0.0
        else:
            x = fn(math.sqrt(float(q_star)) * gen.standard_normal(n))
        jac = None
        for _layer in range(int(depth)):
            if weights == "iid":
                w = law.draw(gen, (n, n)) * (sigma_w / math.sqrt(n))
            else:
                w = haar_orthogonal(n, gen) * sigma_w
            h = w @ x
            if sigma_b > 0:
                h += sigma_b * gen.standard_normal(n)
            d = fprime(h)
            jac = d[:, None] * (w if jac is None else w @ jac)
            x = fn(h)
        sv = np.linalg.svd(jac, compute_uv=False)
        ev = np.sort(sv * sv)
        out.append(ev)
        floor = min(floor, FLOOR * float(ev.max()) if ev.max() > 0 else math.inf)
    values = np.concatenate(out)
    return JacobianSample(values=values, floor=floor if math.isfinite(floor) else 0.0, n=int(n),
                          trials=int(trials))


def ks_above_floor(sample, cdf, floor=None):
    r"""Kolmogorov–Smirnov distance :math:`\sup_{x \ge \text{floor}} |F_n(x) - F(x)|`.

    Parameters
    ----------
    sample : JacobianSample or array
    cdf : callable
        Vectorised CDF of the law (atom included), e.g. ``law.cdf``.
    floor : float, optional
        Defaults to ``sample.floor`` (0 for a plain array).

    Returns
    -------
    float
        The supremum over the sample points above the floor (both one-sided gaps) and the floor
        itself.
    """
    vals = np.sort(np.asarray(sample, dtype=float))
    if floor is None:
        floor = getattr(sample, "floor", 0.0)
    n = len(vals)
    keep = vals >= floor
    xs = vals[keep]
    idx = np.flatnonzero(keep)
    theo = np.asarray(cdf(xs), dtype=float) if len(xs) else np.array([])
    d = 0.0
    if len(xs):
        upper = (idx + 1) / n - theo
        lower = theo - idx / n
        d = max(float(np.max(upper)), float(np.max(lower)))
    if floor > 0:
        d = max(d, abs(float(np.mean(vals < floor)) - float(np.asarray(cdf([floor]))[0])))
    return d
