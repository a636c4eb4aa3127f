"""Exceptions raised by nrmt.

Every error a user can trigger derives from :class:`NrmtError`, so the CLI can turn it into a
one-line message and exit code 2.
"""

__all__ = ["NrmtError", "ParseError", "NotIntegrableError", "NoConvergence"]


class NrmtError(Exception):
    """Base class of every error nrmt raises on purpose."""


class ParseError(NrmtError, ValueError):
    """An activation expression could not be parsed or used a name outside the allow-list."""


class NotIntegrableError(NrmtError, ValueError):
    """A Gaussian expectation does not exist (the integrand is not integrable against N(0, 1))."""


class NoConvergence(NrmtError, ArithmeticError):
    """A solver or quadrature did not reach the requested accuracy."""
