"""The rules Fapiao Desk issued under before 数电 (schema 1), for the invoices issued then.

Only what was issued under them is read with them: a body from the platform's records of that
time (reconciliation, rebuild) and the protocol v1 upload of such an invoice. Nothing new is
issued under these rules (app.core.validation holds the rules in force).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from app.core.capitals import LARGEST
from app.core.errors import FieldError, ValidationFailed
from app.core.fields import Collector, decimal, issued_at_field, money, tax_id_field, text
from app.core.invoice import Invoice, InvoiceKind, Line, LineNature, Medium, Party, Rules
from app.core.money import to_money
from app.core.tax import find_rate, line_from_gross_price, line_from_net_price, split_gross
from app.core.taxid import normalize_tax_id

LEGACY_MAX_LINES = 2000

LIMITS = {  # longest text each field takes, in characters
    "name": 100,
    "address": 100,
    "phone": 40,
    "bank": 100,
    "account": 40,
    "line.name": 100,
    "line.spec": 40,
    "line.unit": 20,
    "remarks": 200,
    "person": 20,
    "number": 40,
}
# Tolerances of the tax-control systems: q × price may differ from the amount by a fen;
# a line's tax may differ from amount × rate by at most 6 fen.
AMOUNT_TOLERANCE = Decimal("0.01")
TAX_TOLERANCE = Decimal("0.06")


def _party(raw: Any, prefix: str, out: Collector, *, tax_id_required: bool, contact_required: bool,
           confirmed: Iterable[str]) -> Party:
    if not isinstance(raw, dict):
        out.add(prefix, "缺少或格式不正确（应为对象）", "missing or not an object")
        raw = {}
    name = text(raw.get("name"), f"{prefix}.name", out, LIMITS["name"], required=True)
    tax_id = tax_id_field(raw.get("tax_id"), f"{prefix}.tax_id", out, tax_id_required, confirmed)
    address, phone, bank, account = (text(raw.get(key), f"{prefix}.{key}", out, LIMITS[key],
                                          required=contact_required)
                                     for key in ("address", "phone", "bank", "account"))
    return Party(name=name, tax_id=tax_id, address=address, phone=phone, bank=bank, account=account)


def _line(raw: Any, index: int, out: Collector, prices_include_tax: bool, red: bool) -> Line | None:
    path = f"lines[{index}]"
    if not isinstance(raw, dict):
        out.add(path, "格式不正确（应为对象）", "must be an object")
        return None
    before = len(out.errors)
    discount = bool(raw.get("discount", False))
    name = text(raw.get("name"), f"{path}.name", out, LIMITS["line.name"], required=True)
    spec = text(raw.get("spec"), f"{path}.spec", out, LIMITS["line.spec"])
    unit = text(raw.get("unit"), f"{path}.unit", out, LIMITS["line.unit"])
    rate = find_rate(raw.get("tax_rate"))
    if rate is None:
        shown = raw.get("tax_rate")
        out.add(f"{path}.tax_rate", f"“{shown}”不是现行税率（13%、9%、6%、5%、3%、1%、0%、免税、不征税）",
                f"{shown!r} is not a rate in force (13%, 9%, 6%, 5%, 3%, 1%, 0%, tax-free, not taxed)")
    given_amount = money(raw.get("amount"), f"{path}.amount", out)
    given_tax = money(raw.get("tax"), f"{path}.tax", out)
    has_figures = not (raw.get("quantity") in (None, "") and raw.get("unit_price") in (None, ""))
    quantity = unit_price = None
    if has_figures or given_amount is None:
        quantity = decimal(raw.get("quantity"), f"{path}.quantity", out, required=True)
        unit_price = decimal(raw.get("unit_price"), f"{path}.unit_price", out, required=True)
    if discount and has_figures:
        out.add(f"{path}.discount", "折扣行不填数量和单价", "a discount line has no quantity or unit price")
    if quantity is not None:
        if quantity == 0:
            out.add(f"{path}.quantity", "不能为零", "must not be zero")
        elif quantity < 0 and not red:
            out.add(f"{path}.quantity", "不能为负数（红字发票除外）",
                    "must not be negative (except on a red-letter invoice)")
        elif quantity > 0 and red:
            out.add(f"{path}.quantity", "红字发票的数量应为负数", "must be negative on a red-letter invoice")
    if unit_price is not None and unit_price < 0:
        out.add(f"{path}.unit_price", "不能为负数", "must not be negative")
    if len(out.errors) > before or rate is None:
        return None

    if quantity is not None and unit_price is not None:
        if prices_include_tax:
            figures = line_from_gross_price(quantity, unit_price, rate.rate)
        else:
            figures = line_from_net_price(quantity, unit_price, rate.rate)
        amount, tax, unit_price = figures.amount, figures.tax, figures.unit_price
        if given_amount is not None:
            if abs(given_amount - amount) > AMOUNT_TOLERANCE:
                out.add(f"{path}.amount", f"与数量×单价（{amount}）不符",
                        f"does not match quantity × unit price ({amount})")
                return None
            amount = given_amount
    else:
        assert given_amount is not None
        if prices_include_tax:
            # A line given by its amount alone (a service, a discount) is gross like every
            # other price on this invoice: split it as the tax-control systems do.
            amount, tax = split_gross(given_amount, rate.rate)
        else:
            amount = given_amount
            tax = to_money(amount * rate.rate)
    if given_tax is not None:
        if abs(given_tax - to_money(amount * rate.rate)) > TAX_TOLERANCE:
            out.add(f"{path}.tax", f"与金额×税率（{to_money(amount * rate.rate)}）相差超过0.06",
                    f"differs from amount × rate ({to_money(amount * rate.rate)}) by more than 0.06")
            return None
        tax = given_tax
    if discount and amount >= 0:
        out.add(f"{path}.amount", "折扣行金额应为负数", "a discount line has a negative amount")
        return None
    if not discount and not red and amount <= 0:
        out.add(f"{path}.amount", "金额应大于零", "must be greater than zero")
        return None
    if red and amount > 0:
        out.add(f"{path}.amount", "红字发票金额应为负数", "must be negative on a red-letter invoice")
        return None
    return Line(name=name, spec=spec, unit=unit, quantity=quantity, unit_price=unit_price,
                tax_rate=rate.code, amount=amount, tax=tax,
                nature=LineNature.DISCOUNT if discount else LineNature.NORMAL)


def _check_discounts(lines: list[Line | None], out: Collector) -> None:
    for index, line in enumerate(lines):
        if line is None or not line.discount:
            continue
        goods = lines[index - 1] if index > 0 else None
        if goods is None or goods.discount:
            out.add(f"lines[{index}].discount", "折扣行应紧跟在被折扣的商品行之后",
                    "a discount line must follow the line it discounts")
        elif goods.tax_rate != line.tax_rate:
            out.add(f"lines[{index}].tax_rate", "折扣行税率应与被折扣行相同",
                    "must equal the rate of the line it discounts")
        elif -line.amount > goods.amount:
            out.add(f"lines[{index}].amount", "折扣金额不能超过被折扣行金额",
                    "a discount cannot exceed the line it discounts")


def parse_legacy_invoice(body: Any, *, prices_include_tax: bool | None = None,
                         confirmed_tax_ids: Iterable[str] = ()) -> Invoice:
    """The legacy invoice a body describes, with amounts computed where left out; raises ValidationFailed."""
    out = Collector()
    if not isinstance(body, dict):
        raise ValidationFailed([FieldError("invoice", "应为 JSON 对象", "must be a JSON object")])
    confirmed = frozenset(normalize_tax_id(t) for t in confirmed_tax_ids)
    if prices_include_tax is None:
        prices_include_tax = body.get("prices_include_tax", False)
        if not isinstance(prices_include_tax, bool):
            out.add("prices_include_tax", "应为 true 或 false", "must be true or false")
            prices_include_tax = False

    kind_raw = body.get("kind", "normal")
    try:
        kind = InvoiceKind(kind_raw)
    except ValueError:
        out.add("kind", f"“{kind_raw}”不是发票种类（normal 普通发票 / special 专用发票）",
                f"{kind_raw!r} is not a kind (normal or special)")
        kind = InvoiceKind.NORMAL
    special = kind is InvoiceKind.SPECIAL
    original = body.get("original_number")
    red = original not in (None, "")
    original_number = text(original, "original_number", out, LIMITS["number"]) if red else None

    seller = _party(body.get("seller"), "seller", out, tax_id_required=True, contact_required=False,
                    confirmed=confirmed)
    buyer = _party(body.get("buyer"), "buyer", out, tax_id_required=special, contact_required=special,
                   confirmed=confirmed)

    raw_lines = body.get("lines")
    lines: list[Line | None] = []
    if not isinstance(raw_lines, list) or not raw_lines:
        out.add("lines", "至少需要一行商品或服务", "at least one line is required")
    elif len(raw_lines) > LEGACY_MAX_LINES:
        out.add("lines", f"最多{LEGACY_MAX_LINES}行", f"at most {LEGACY_MAX_LINES} lines")
    else:
        lines = [_line(raw, i, out, prices_include_tax, red) for i, raw in enumerate(raw_lines)]
        _check_discounts(lines, out)

    texts = {}
    for key, limit in (("remarks", "remarks"), ("payee", "person"), ("reviewer", "person"), ("drawer", "person"),
                       ("number", "number")):
        texts[key] = text(body.get(key), key, out, LIMITS[limit], required=(key == "drawer"))
    issued_at = issued_at_field(body.get("issued_at"), out)
    offline = body.get("offline", True)
    if not isinstance(offline, bool):
        out.add("offline", "应为 true 或 false", "must be true or false")
        offline = True

    if not out.errors:
        invoice = Invoice(kind=kind, seller=seller, buyer=buyer, lines=tuple(line for line in lines if line),
                          drawer=texts["drawer"], number=texts["number"], issued_at=issued_at, offline=offline,
                          remarks=texts["remarks"], payee=texts["payee"], reviewer=texts["reviewer"],
                          original_number=original_number, prices_include_tax=prices_include_tax,
                          confirmed_tax_ids=confirmed & {seller.tax_id, buyer.tax_id},
                          medium=Medium.PAPER, rules=Rules.LEGACY)
        _check_totals(body, invoice, out)
        if not out.errors:
            return invoice
    raise ValidationFailed(out.errors)


def _check_totals(body: dict[str, Any], invoice: Invoice, out: Collector) -> None:
    computed = {"total_amount": invoice.total_amount, "total_tax": invoice.total_tax,
                "total_with_tax": invoice.total_with_tax}
    for key, value in computed.items():
        given = money(body.get(key), key, out)
        if given is not None and given != value:
            out.add(key, f"与明细之和（{value}）不符", f"does not add up: the lines give {value}")
    total = invoice.total_with_tax
    if abs(total) > LARGEST:
        out.add("total_with_tax", "金额过大", "is too large")
    if invoice.is_red_letter and total >= 0:
        out.add("total_with_tax", "红字发票价税合计应为负数", "must be negative on a red-letter invoice")
    if not invoice.is_red_letter and total <= 0:
        out.add("total_with_tax", "价税合计应大于零", "must be greater than zero")


def is_legacy_body(body: Any) -> bool:
    """A body in the schema-1 shape: lines by free name and rate, no tax code, no medium."""
    if not isinstance(body, dict) or "medium" in body:
        return False
    lines = body.get("lines")
    return isinstance(lines, list) and bool(lines) and all(isinstance(x, dict) and "tax_code" not in x for x in lines)
