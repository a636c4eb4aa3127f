"""Test-suite settings shared by every test file."""

import os

# One BLAS thread per process: the suite runs under pytest-xdist on a couple of cores, and
# threaded BLAS on small matrices oversubscribes them (measured: 0.09 s vs 20 s for one small
# product + eigvalsh under load). Set before numpy is imported by any test module.
for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import matplotlib  # noqa: E402

matplotlib.use("Agg")
