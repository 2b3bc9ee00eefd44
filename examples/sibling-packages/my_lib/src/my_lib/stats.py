"""Basic statistics (standard library only)."""

import math


def mean(values: list[float]) -> float:
    """Arithmetic mean; raises ValueError for no values."""
    if not values:
        raise ValueError("mean of no values")
    return sum(values) / len(values)


def std(values: list[float]) -> float:
    """Population standard deviation; raises ValueError for no values."""
    m = mean(values)
    return math.sqrt(sum((v - m) ** 2 for v in values) / len(values))
