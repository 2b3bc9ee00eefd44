"""A task in one workspace member (reports) that calls code in another (pricing)."""

from pricing.discounts import order_total


def monthly_report(orders: list) -> dict:
    """Revenue per customer and in total, priced with the pricing member's rules."""
    per_customer = {}
    for order in orders:
        per_customer[order["customer"]] = round(per_customer.get(order["customer"], 0.0) + order_total(order), 2)
    return {"orders": len(orders), "revenue": round(sum(per_customer.values()), 2), "per_customer": per_customer}
