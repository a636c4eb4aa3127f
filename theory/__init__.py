"""nrmt.theory: symbolic side of nrmt (activations, Gaussian constants, self-consistent equations).

Imports only sympy and mpmath; nothing here knows about sampling or the CLI.
"""

from nrmt.theory.errors import NoConvergence, NotIntegrableError, NrmtError, ParseError

__all__ = ["NrmtError", "ParseError", "NotIntegrableError", "NoConvergence"]
