"""Sample orders: the root package's code, used by the pipeline's first task."""

CUSTOMERS = ["ada", "grace", "linus"]


def sample_orders(n: int) -> list:
    """n orders with deterministic quantities and unit prices."""
    return [
        {"customer": CUSTOMERS[i % len(CUSTOMERS)], "quantity": 1 + i % 4, "unit_price": 10.0 + i}
        for i in range(n)
    ]
