"""Shared transformations (travels in the code bundle, not in the image)."""


def normalize(values: list[float]) -> list[float]:
    """Scale values linearly into [0, 1]; a constant series becomes all zeros."""
    if not values:
        return []
    low, high = min(values), max(values)
    span = high - low
    if span == 0:
        return [0.0 for _ in values]
    return [(v - low) / span for v in values]
