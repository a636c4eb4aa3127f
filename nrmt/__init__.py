"""nrmt — nonlinear random matrix theory of neural networks.

Derive the Gaussian constants and self-consistent equations of any activation (sympy), solve the
limit laws to any precision (mpmath, python-flint), and verify them on sampled matrices (numpy).

>>> import nrmt
>>> model = nrmt.OneLayer("x**3 - 3*x", phi=1, psi=1)   # theta2 = 0: Marchenko-Pastur, scale 6
>>> [round(float(m), 9) for m in model.law().moments(2)]
[6.0, 72.0]

The public surface is re-exported here lazily (a name is imported on first use), so that
``import nrmt`` and the command line start quickly.
"""

import importlib as _importlib
import os as _os

# In a source checkout the folders theory/ and numerics/ sit beside nrmt/ (they are installed as
# nrmt/theory and nrmt/numerics); let the package find them there too, so that running from the
# repository root without an install behaves like the installed package.
_here = _os.path.dirname(_os.path.abspath(__file__))
_root = _os.path.dirname(_here)
if not _os.path.isdir(_os.path.join(_here, "theory")) and _os.path.isfile(
    _os.path.join(_root, "theory", "__init__.py")
):
    __path__.append(_root)  # type: ignore[name-defined]  # noqa: F821

from nrmt.theory.errors import NoConvergence, NotIntegrableError, NrmtError, ParseError

#: public name -> module that defines it
_EXPORTS = {
    # activations and constants (issue 3)
    "Activation": "nrmt.theory.activations",
    "as_activation": "nrmt.theory.activations",
    "parse_expression": "nrmt.theory.activations",
    "constants": "nrmt.theory.constants",
    "Constants": "nrmt.theory.constants",
    "gaussian_expectation": "nrmt.theory.gaussian",
    "gaussian_expectation_float": "nrmt.theory.gaussian",
    "hermite_coefficients": "nrmt.theory.gaussian",
    # the one-layer law and the Law machinery (issue 4)
    "OneLayer": "nrmt.models.one_layer",
    "OneLayerLaw": "nrmt.models.one_layer",
    "Law": "nrmt.numerics.law",
    "AlgebraicLaw": "nrmt.numerics.algebraic",
    "quartic": "nrmt.theory.equations.one_layer",
    "moments_exact": "nrmt.theory.equations.one_layer",
    # sampling and comparison (issue 5)
    "entry_law": "nrmt.numerics.entries",
    "sample_gram": "nrmt.numerics.sampling",
    "sample_linear_equivalent": "nrmt.numerics.sampling",
    "compare": "nrmt.numerics.compare",
    "Comparison": "nrmt.numerics.compare",
    "plot_density": "nrmt.plotting",
    "plot_cdf": "nrmt.plotting",
    "plot_comparison": "nrmt.plotting",
    # bias, several layers, isospectrality (issue 6)
    "Bias": "nrmt.models.bias",
    "Layers": "nrmt.models.layers",
    "bias_constants": "nrmt.theory.bias",
    "isospectral_check": ("nrmt.theory.isospectral", "check"),
    "isospectral_conditions": ("nrmt.theory.isospectral", "conditions"),
    "solve_family": "nrmt.theory.isospectral",
    # Jacobians and mean field (issue 7)
    "Jacobian": "nrmt.models.jacobian",
    "criticality": "nrmt.theory.mean_field",
    "fixed_point_q": "nrmt.theory.mean_field",
    "chi": "nrmt.theory.mean_field",
    "length_map": "nrmt.theory.mean_field",
    "sample_jacobian": "nrmt.numerics.jacobian_sampling",
    # NTK and conjugate kernel (issue 15)
    "NTK": "nrmt.models.ntk",
    "KernelLaw": "nrmt.numerics.ntk_law",
    "sample_kernels": "nrmt.numerics.ntk_sampling",
    # certified results (issue 9)
    "certified_constants": "nrmt.numerics.certified_constants",
    "certified_density": "nrmt.numerics.certified_density",
    "certified_discriminant_roots": "nrmt.numerics.certified_density",
    "CertifiedOneLayer": "nrmt.numerics.certified_density",
    "NotCertifiableError": "nrmt.numerics.certified_constants",
    # one verification case as a function; sweeps on Dask (issue 16)
    "verify_case": "nrmt.verification",
    "load_spec": "nrmt.sweep",
    "run_sweep": "nrmt.sweep",
    "sweep_report": "nrmt.sweep",
}

__all__ = ["__version__", "NrmtError", "ParseError", "NotIntegrableError", "NoConvergence",
           *_EXPORTS]


def _package_version():
    # importlib.metadata costs ~0.1 s of start-up: read on first use of nrmt.__version__
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nrmt")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0.1.0"


def __getattr__(name):
    if name == "__version__":
        value = globals()["__version__"] = _package_version()
        return value
    try:
        target = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'nrmt' has no attribute {name!r}") from None
    module, attr = target if isinstance(target, tuple) else (target, name)
    value = getattr(_importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
