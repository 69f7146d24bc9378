"""Amount and tax of each typed line while the draft as a whole is not yet valid.

The form shows the service's figures (prepare_invoice) once the draft is valid. Before
that (no buyer yet, say) a clerk still wants each line's amount and the running total, so
each line that parses is worked out with the core's own arithmetic; no rule lives here.
"""

from __future__ import annotations

from decimal import Decimal

from app.core.money import parse_decimal, to_money
from app.core.tax import find_rate, line_from_gross_price, line_from_net_price, split_gross, tax_on


def line_figures(line: dict, prices_include_tax: bool) -> tuple[Decimal, Decimal] | None:
    if line.get("discount") or line.get("nature") == "discount":
        amount, rate = parse_decimal(line.get("amount")), find_rate(line.get("tax_rate"))
        if amount is None or rate is None:
            return None
        if prices_include_tax:
            return split_gross(amount, rate.rate)
        return to_money(amount), tax_on(to_money(amount), rate.rate)
    quantity = parse_decimal(line.get("quantity"))
    price = parse_decimal(line.get("unit_price"))
    rate = find_rate(line.get("tax_rate"))
    if quantity is None or price is None or rate is None or not quantity:
        return None
    compute = line_from_gross_price if prices_include_tax else line_from_net_price
    figures = compute(quantity, price, rate.rate)
    return figures.amount, figures.tax
