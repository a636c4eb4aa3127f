"""Models as a user sees them: activation + parameters -> constants, equation, law, sampler.

One module per model (one layer, bias, several layers, Jacobian, NTK and CK); each ends in a Law from
:mod:`nrmt.numerics.law`.
"""

__all__ = []
