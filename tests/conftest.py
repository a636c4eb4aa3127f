"""Test-suite settings shared by every test file.

``slow`` tests (``@pytest.mark.slow``) take more than 10 s each on one core of a 2-core machine
(the suite's reference, ``pytest -n 2``). The default run leaves them out; ``--runslow`` runs
them too (``-m slow --runslow``: only them). A test may be marked slow only when a fast test of the
same feature stays in the default run: the default run covers every feature.
"""

import os

# One BLAS thread per process: the suite runs under pytest-xdist on a couple of cores, and
# threaded BLAS on small matrices oversubscribes them (measured: 0.09 s vs 20 s for one small
# product + eigvalsh under load). Set before numpy is imported by any test module.
for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import matplotlib  # noqa: E402

matplotlib.use("Agg")


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False,
                     help="also run the tests marked slow (> 10 s each; left out by default)")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]
