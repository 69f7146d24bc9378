"""A 数电 body round-trips through the store unchanged: issued, read back, written as the body again."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.codec import invoice_to_body
from app.store import queries
from tests.helpers.bodies import BUYER_TAX_ID, CABBAGE, PRINTER, SOFTWARE

LINES: dict[str, list[tuple[str, str | None]]] = {  # code: the (rate, policy) pairs the code takes
    SOFTWARE: [("0.06", None)],
    PRINTER: [("0.13", None)],
    CABBAGE: [("0.09", None), ("0", "03")],
    "3040502020102000000": [("0.015", "10"), ("0.05", "09")],  # 个人出租住房
}


@st.composite
def a_line(draw):
    code = draw(st.sampled_from(sorted(LINES)))
    rate, policy = draw(st.sampled_from(LINES[code]))
    line = {"tax_code": code, "item_name": draw(st.text(alphabet="维修服务软件白菜租金ab1", min_size=1, max_size=12)),
            "spec": draw(st.sampled_from(["", "V2.0", "A-1"])), "unit": draw(st.sampled_from(["", "项", "台"])),
            "quantity": str(draw(st.decimals("1", "500", places=3))),
            "unit_price": str(draw(st.decimals("1", "20000", places=5))), "tax_rate": rate}
    if policy:
        line["policy"] = policy
    return line


@st.composite
def a_body(draw):
    lines = draw(st.lists(a_line(), min_size=1, max_size=6))
    # One lease line at most: policy 10 stands alone.
    leases = [i for i, line in enumerate(lines) if line.get("policy") in ("10", "09")]
    lines = [line for i, line in enumerate(lines) if i not in leases[1:]]
    if any(line.get("policy") == "10" for line in lines):
        lines = [line for line in lines if line.get("policy") in (None, "10")]
    if draw(st.booleans()):
        lines.insert(1, {"nature": "discount", "amount": "-0.01"})
    person = draw(st.booleans())
    company = {"name": "北京客户贸易有限公司", "tax_id": BUYER_TAX_ID, "address": "北京市朝阳区建国路88号"}
    buyer = ({"name": "王小五", "natural_person": True, "id_type": "201", "id_number": "110101199003071234"}
             if person else company)
    return {"kind": "normal" if person else draw(st.sampled_from(["normal", "special"])),
            "medium": draw(st.sampled_from(["electronic", "paper"])), "buyer": buyer, "lines": lines,
            "prices_include_tax": draw(st.booleans()), "remarks": draw(st.sampled_from(["", "合同号 HT-1"])),
            "show_buyer_bank": draw(st.booleans())}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=a_body())
def test_a_body_round_trips_through_the_store_unchanged(seller, body):
    from app.core.limits import OfflineLimits
    from app.services.issuing import issue_invoice
    from app.services.limits import set_limits

    # Many examples go into one store: the offline limits are not what this test is about.
    set_limits(OfflineLimits(max_count=100_000, max_amount=Decimal("1e12"), max_single=Decimal("1e12")))
    issued = issue_invoice(body)
    written = invoice_to_body(issued.invoice)
    stored = queries.get_invoice(issued.number)
    assert stored is not None
    assert invoice_to_body(stored) == written
    assert stored.total_with_tax == sum((line.amount_with_tax for line in stored.lines), Decimal("0.00"))
    assert all(line.name == f"*{line.short_name}*{line.item_name}" for line in stored.lines)
