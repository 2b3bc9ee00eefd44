"""Summary statistics of the order totals the C# tasks computed (standard library only)."""

import statistics


def summarize(totals: list[float]) -> dict:
    """Count, sum, mean, median and population standard deviation of ``totals``, rounded to cents."""
    if not totals:
        raise ValueError("summarize needs at least one total")
    return {
        "count": len(totals),
        "sum": round(sum(totals), 2),
        "mean": round(statistics.fmean(totals), 2),
        "median": round(statistics.median(totals), 2),
        "stdev": round(statistics.pstdev(totals), 2),
    }
