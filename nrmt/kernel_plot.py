"""Figures of the conjugate kernel and the neural tangent kernel side by side (presentation only).

:func:`plot_kernels` draws the two limit densities, each over the histogram of sampled
eigenvalues when a sample is given, with :func:`nrmt.plotting.plot_density` in two panels.
"""

import numpy as np

from nrmt.plotting import plot_density

__all__ = ["plot_kernels"]


def plot_kernels(ck_law, ntk_law, *, ck_sample=None, ntk_sample=None, comparisons=None,
                 title=None, path=None, dpi=120):
    """CK (left) and NTK (right): densities, histograms of samples when given.

    Parameters
    ----------
    ck_law, ntk_law : Law
    ck_sample, ntk_sample : array_like, optional
        Pooled eigenvalues.
    comparisons : (Comparison, Comparison), optional
        Shown in the panels (KS, W1 with their noise scales).
    title : str, optional
    path : str or path-like, optional
        Output file; the figure is closed after saving.

    Returns
    -------
    matplotlib Figure
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    comps = comparisons or (None, None)
    for ax, law, sample, comp, name in ((axes[0], ck_law, ck_sample, comps[0], "conjugate kernel"),
                                        (axes[1], ntk_law, ntk_sample, comps[1], "neural tangent kernel")):
        data = np.empty(0) if sample is None else np.ravel(np.asarray(sample, dtype=float))
        plot_density(data, law.with_dps(15), ax=ax, comparison=comp)
        ax.set_title(name, fontsize=11)
        ax.set_xlabel("eigenvalue of the kernel (n x n)")
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=dpi)
        plt.close(fig)
    return fig
