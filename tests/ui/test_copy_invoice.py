"""复制开票: a new form filled from any invoice (its buyer and lines, a discount included), never touching the
original; issuing the copy makes a new invoice with its own number. A red-letter invoice is not copied."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QAbstractButton

from app.core.errors import ValidationFailed
from app.services.copy_invoice import copy_body
from app.services.issuing import issue_invoice
from app.store.models import AuditEntry, Invoice, InvoiceLine
from app.ui.application import build_main_window
from tests.helpers.bodies import BUYER_TAX_ID, PRINTER, SOFTWARE, invoice_body
from tests.helpers.platform import accept
from tests.helpers.red import red_on_form
from tests.ui.form_helpers import answer_confirmation

BODY = invoice_body(buyer={"name": "北京客户贸易有限公司", "tax_id": BUYER_TAX_ID, "address": "北京市朝阳区建国路88号"},
                    remarks="合同号 HT-7", lines=[
    {"tax_code": PRINTER, "item_name": "打印纸", "unit": "箱", "quantity": "10", "unit_price": "100",
     "tax_rate": "0.13", "nature": "discounted"},
    {"tax_code": PRINTER, "item_name": "打印纸", "amount": "-100", "tax_rate": "0.13", "nature": "discount"},
    {"tax_code": SOFTWARE, "item_name": "软件开发", "unit": "项", "quantity": "1", "unit_price": "500",
     "tax_rate": "0.06"}])


def _state(number: str) -> tuple[object, ...]:
    row = Invoice.get(Invoice.provisional_number == number)
    lines = [(i.position, i.amount, i.tax) for i in InvoiceLine.select().where(InvoiceLine.invoice == row)]
    entries = AuditEntry.select().where(AuditEntry.invoice == row).count()
    return row.content_hash, row.status, row.remarks, tuple(lines), entries


def test_copy_from_the_detail_view_fills_a_new_form_and_leaves_the_original(qtbot, store, seller):
    original = issue_invoice(BODY).number
    before = _state(original)
    window = build_main_window(store)
    qtbot.addWidget(window)
    detail = window.open_invoice(original)
    qtbot.addWidget(detail)
    button = detail.findChild(QAbstractButton, "detail_copy")
    assert button is not None and button.text() == "复制开票"
    button.click()
    form = window.forms[-1]
    assert "复制自" in form.windowTitle() and original in form.windowTitle()
    assert form.buyer["name"].text() == "北京客户贸易有限公司" and form.buyer["tax_id"].text() == BUYER_TAX_ID
    assert form.buyer["address"].text() == "北京市朝阳区建国路88号" and form.remarks.text() == "合同号 HT-7"
    assert form.lines.rowCount() == 3 and form.lines.is_discount(1)
    assert form.invoice is not None and form.invoice.total_with_tax == Invoice.get(
        Invoice.provisional_number == original).total_with_tax
    assert form.issue_button.isEnabled()
    answer_confirmation(qtbot)
    form.issue_button.click()
    copied = Invoice.select().order_by(Invoice.id.desc()).first()
    assert copied is not None and copied.provisional_number != original
    assert copied.total_with_tax == Invoice.get(Invoice.provisional_number == original).total_with_tax
    assert _state(original) == before  # read, never changed


def test_copy_from_the_menu_and_a_red_invoice_refused(qtbot, store, seller):
    original = issue_invoice(invoice_body()).number
    accept(original, "26110000000000000201")
    red = red_on_form(original).number
    with pytest.raises(ValidationFailed) as refused:
        copy_body(red)
    assert refused.value.errors[0].field == "number" and "红字发票" in refused.value.errors[0].message_zh
    window = build_main_window(store)
    qtbot.addWidget(window)
    window.select_number(original)
    window.copy_invoice_action.trigger()
    form = window.forms[-1]
    assert form.lines.rows[0]["tax_code"] == SOFTWARE and form.lines.rows[0]["quantity"] == "1"
    assert window.copy_invoice_action.shortcut().toString() == "Ctrl+Shift+N"
    form.dirty = False
    form.close()
