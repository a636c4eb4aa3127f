"""nrmt.numerics: mpmath solvers (the Law machinery), free probability tools, Monte Carlo, distances."""

__all__ = []
