"""nrmt — nonlinear random matrix theory of neural networks.

Derive the Gaussian constants and self-consistent equations of any activation (sympy), solve the
limit laws to any precision (mpmath), and verify them on sampled matrices (numpy).
"""

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

from importlib.metadata import PackageNotFoundError as _PNF, version as _version

try:
    __version__ = _version("nrmt")
except _PNF:  # running from a source tree that is not installed
    __version__ = "0.1.0"

from nrmt.theory.errors import NoConvergence, NotIntegrableError, NrmtError, ParseError

__all__ = ["__version__", "NrmtError", "ParseError", "NotIntegrableError", "NoConvergence"]
