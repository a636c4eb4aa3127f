"""One module per model: the published self-consistent system and the polynomial it reduces to."""

__all__ = []
