"""ETL tasks: plain Python functions, run by FlyteSharp in the `etl` environment."""

from lib_transforms.ops import normalize


async def load_data(n: int) -> list[float]:
    """Simulate loading raw data."""
    return [float(i * 1.5) for i in range(n)]


async def transform_data(raw: list[float]) -> list[float]:
    """Normalize raw data."""
    return normalize(raw)
