"""The gallery figures, drawn with nrmt during the docs build (called by ``docs/hooks.py``).

Each figure function takes an output path and draws one PNG from nrmt's own solvers and samplers.
Sizes are chosen so that the whole gallery draws in well under a minute on one core.
"""

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

FIGURES = []


def figure(name):
    def register(fn):
        FIGURES.append((name, fn))
        return fn
    return register


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
