"""The gallery figures, drawn with nrmt during the docs build (called by ``docs/hooks.py``).

Each figure function returns a matplotlib Figure drawn from nrmt's own solvers (theory curves) and
samplers (histograms, fixed seeds). Sizes are chosen so that the whole gallery draws in well under
a minute on one core. The captions live in ``docs/gallery.md``.
"""

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

FIGURES = []


def figure(name):
    """Register a figure function under the PNG file name it produces."""

    def register(fn):
        FIGURES.append((name, fn))
        return fn

    return register


@figure("one-layer.png")
def one_layer():
    """Theory vs Monte Carlo for tanh, ReLU and a polynomial at three (φ, ψ)."""
    from nrmt.models.one_layer import OneLayer
    from nrmt.plotting import activation_label, plot_density

    cases = [("tanh(x)", 0.5, 2.0), ("relu", 1.5, 1.0), ("x**2 + x - 1", 2.0, 1.0)]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for ax, (f, phi, psi) in zip(axes, cases):
        model = OneLayer(f, phi, psi)
        sample = model.sample(n0=800, trials=2, rng=1)
        plot_density(sample, model.law(), ax=ax, label=f"f = {f}")
        ax.set_title(f"{activation_label(f)},  $\\varphi$ = {phi:g},  $\\psi$ = {psi:g}", fontsize=10)
    fig.suptitle("One layer: limit law (line) and sampled spectra, n0 = 800 (histogram)", fontsize=11)
    fig.tight_layout()
    return fig


@figure("psi-sweep.png")
def psi_sweep():
    """tanh at φ = 1 for several ψ: from many features (ψ small) to few."""
    from nrmt.models.one_layer import OneLayer

    fig, ax = plt.subplots(figsize=(7, 4))
    for psi in (0.25, 0.5, 1.0, 2.0, 4.0):
        law = OneLayer("tanh(x)", 1.0, psi).law()
        x = law.grid(400)
        ax.plot(x, law.density(x), lw=1.4, label=f"ψ = {psi:g}  (atom {law.atom:.2f})")
    ax.set_xlabel("eigenvalue x")
    ax.set_ylabel("density ρ(x)")
    ax.set_ylim(0, 2.0)
    ax.set_title("tanh, φ = 1: density of the continuous part for several ψ = n0/n1", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


@figure("universality.png")
def universality():
    """Same law for Gaussian, Rademacher and Student-t entries (Benigni–Péché)."""
    from nrmt.models.one_layer import OneLayer
    from nrmt.numerics.compare import compare

    model = OneLayer("relu", 1.0, 1.0)
    law = model.law()
    fig, ax = plt.subplots(figsize=(7, 4))
    x = np.linspace(1e-4, law.support[-1][1] * 1.05, 600)
    ax.plot(x, law.density(x), "k", lw=2, label="limit law")
    for entries, color in (("gaussian", "C0"), ("rademacher", "C1"), ("student-t:5", "C2")):
        s = model.sample(n0=800, entries=entries, trials=2, rng=2)
        ks = compare(s, law).ks
        ax.hist(s, bins=80, density=True, histtype="step", color=color, lw=1.2,
                label=f"{entries} entries (KS {ks:.3f})")
    ax.set_ylim(0, 4)
    ax.set_xlabel("eigenvalue x")
    ax.set_ylabel("density")
    ax.set_title("ReLU, φ = ψ = 1: the law does not depend on the entry distribution", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


@figure("jacobian.png")
def jacobian():
    """Singular values of deep tanh Jacobians at criticality: depth 1, 4, 16, theory and samples."""
    from nrmt.models.jacobian import Jacobian

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for ax, depth in zip(axes, (1, 4, 16)):
        model = Jacobian("tanh(x)", depth=depth, sigma_w=1.2)
        law = model.law()
        sample = np.asarray(model.sample(300, trials=2, rng=3))
        top = law.support[-1][1]
        lo = max(top * 1e-4, float(np.quantile(sample, 0.02)))
        bins = np.geomspace(lo, top * 1.1, 40)
        ax.hist(sample, bins=bins, density=True, color="C0", alpha=0.4, label="sampled, N = 300")
        x = np.geomspace(lo, top, 300)
        ax.plot(x, law.density(x), "k", lw=1.5, label="free probability")
        ax.set_xscale("log")
        ax.set_yscale("log")
        mf = model.mean_field()
        ax.set_title(f"depth L = {depth}, χ = {float(mf['chi']):.3f}", fontsize=10)
        ax.set_xlabel("squared singular value of J")
        ax.legend(fontsize=8)
    axes[0].set_ylabel("density")
    fig.suptitle("Input–output Jacobian of a tanh network, σ_w = 1.2: spectrum of J Jᵀ", fontsize=11)
    fig.tight_layout()
    return fig


@figure("precision.png")
def precision():
    """The float path against the 50-digit path on the same grid: every digit of float64."""
    from nrmt.models.one_layer import OneLayer

    model = OneLayer("tanh(x)", 0.5, 2.0)
    fast, ref = model.law(dps=15), model.law(dps=50)
    x = fast.grid(60)
    d15 = np.asarray(fast.density(x), dtype=float)
    d50 = ref.density([float(v) for v in x])
    top = max(float(v) for v in d50)
    err = [abs(a - b) / top for a, b in zip(d15, d50)]
    fig, ax = plt.subplots(figsize=(7, 3.6))
    ax.semilogy(x, [max(float(e), 1e-18) for e in err], "o", ms=3)
    ax.axhline(np.finfo(float).eps, color="k", ls=":", label="float64 machine epsilon")
    ax.set_ylim(1e-18, 1e-12)
    ax.set_xlabel("eigenvalue x")
    ax.set_ylabel("|float − 50 digits| / max density")
    ax.set_title("tanh, φ = 0.5, ψ = 2: float64 density vs the dps = 50 density", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


@figure("ntk.png")
def ntk():
    """CK and NTK of a depth-2 tanh network (Fan-Wang): limit laws and sampled networks."""
    from nrmt.kernel_plot import plot_kernels
    from nrmt.models.ntk import NTK

    model = NTK("tanh(x)", 2, [0.5, 1.2, 0.7])
    v = model.verify(200, trials=3, rng=1, moments=2)
    return plot_kernels(model.ck_law(), model.law(), ck_sample=v.sample.ck, ntk_sample=v.sample.ntk,
                        title="tanh, L = 2, γ = (0.5, 1.2, 0.7): n = 200, 3 sampled networks")


def make_all(outdir):
    """Draw every figure into ``outdir``; return ``[(file name, path), ...]``."""
    made = []
    for name, fn in FIGURES:
        path = os.path.join(outdir, name)
        fig = fn()
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
        made.append((name, path))
    return made
