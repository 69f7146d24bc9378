"""Cancel / red-letter dialogs, the offline-limits indicator, overdue marks and the outage log, driven like a clerk."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QDialogButtonBox, QLabel, QTableWidget

from app.core import status
from app.core.clock import now, shifted
from app.core.limits import OfflineLimits
from app.services import outages
from app.services.issuing import issue_invoice
from app.services.lifecycle import record_acceptance_here
from app.services.limits import set_limits
from app.store.models import Invoice, UploadQueueEntry
from app.ui.application import build_main_window
from app.ui.invoice_list_model import STATUS
from app.ui.lifecycle_dialogs import RedLetterDialog
from tests.helpers.bodies import invoice_body

COPY_PAPER = "1060103020000000000"  # 转印纸 (静电复印纸), *纸制品*, 13 %: goods, so 销货退回 applies
SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"


def cell(table: QTableWidget, row: int, column: int) -> str:
    item = table.item(row, column)
    assert item is not None, f"no item at ({row}, {column})"
    return item.text()


def shot(widget, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    widget.grab().save(str(SHOTS / f"{name}.png"))


def accept(number: str, official: str) -> None:
    entry = UploadQueueEntry.get(UploadQueueEntry.invoice == Invoice.get(Invoice.provisional_number == number))
    record_acceptance_here(entry, {"number": official})  # a v2 record carries `number`


def ok(dialog):
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()


def test_cancel_dialog_refuses_without_reason_then_cancels(qtbot, store, seller):
    number = issue_invoice(invoice_body()).number
    window = build_main_window(store)
    qtbot.addWidget(window)
    window.select_number(number)
    dialog = window.trust_actions.cancel(window.selected_number())
    assert dialog is not None
    ok(dialog)
    assert "作废原因" in dialog.error.text()
    assert Invoice.get(Invoice.provisional_number == number).status == status.PRE_ISSUE
    qtbot.keyClicks(dialog.reason, "wrong amount")
    shot(dialog, "cancel_dialog")
    ok(dialog)
    assert Invoice.get(Invoice.provisional_number == number).status == status.CANCELLED
    assert window.list_model.index(0, STATUS).data() == "已作废"
    detail = window.open_invoice(number)
    qtbot.addWidget(detail)
    cancel_button = detail.findChild(QAbstractButton, "detail_cancel")
    assert cancel_button is not None and not cancel_button.isEnabled()
    assert "已作废：wrong amount" in detail.view.toPlainText()


def test_red_letter_from_the_detail_view_raises_a_form_then_issues_on_it(qtbot, store, seller, v2):
    """The red-invoice dialog raises a red-letter form (refused in the service beyond what remains) and then
    issues the red invoice on it; the platform's work runs off the GUI thread."""
    from app.services.settings import set_platform
    from tests.helpers.platform import SYNC_TOKEN, make_worker
    from tests.platform_v2.support import set_clock

    set_clock(v2, reset=True)
    set_platform(v2.url, SYNC_TOKEN)
    issued = issue_invoice(invoice_body(lines=[
        {"tax_code": COPY_PAPER, "item_name": "打印纸", "unit": "箱", "quantity": "10", "unit_price": "100",
         "tax_rate": "0.13"}]))
    make_worker(v2).run_once()
    blue = Invoice.get_by_id(issued.id).official_number
    assert blue
    window = build_main_window(store)
    qtbot.addWidget(window)
    window.refresh()
    detail = window.open_invoice(blue)
    red_button = detail.findChild(QAbstractButton, "detail_red")
    assert red_button is not None and red_button.isEnabled()
    cancel_button = detail.findChild(QAbstractButton, "detail_cancel")
    assert cancel_button is not None and not cancel_button.isEnabled()  # electronic: never cancelled
    red_button.click()
    dialog = window.trust_actions.dialogs[-1]
    assert isinstance(dialog, RedLetterDialog)
    room = dialog.findChild(QLabel, "red_room")
    assert room is not None and "可红冲余额 ¥1,130.00" in room.text()
    assert dialog.forms.count() == 0 and not dialog.issue_button.isEnabled()
    dialog.partial.setChecked(True)
    dialog.set_part(0, quantity="11")
    dialog.reason.setCurrentIndex(2)  # 02 销货退回
    shot(dialog, "red_letter_dialog")
    ok(dialog)
    qtbot.waitUntil(lambda: not dialog.busy and bool(dialog.error.text()), timeout=10000)
    assert "超过" in dialog.error.text()
    dialog.set_part(0, quantity="3")
    ok(dialog)
    qtbot.waitUntil(lambda: not dialog.busy and dialog.forms.count() == 1, timeout=10000)
    assert "无需购方确认" in dialog.message
    assert "确认单占用 ¥339.00" in room.text()
    dialog.issue_button.click()
    qtbot.waitUntil(lambda: not dialog.busy and "已开具红字发票" in dialog.message, timeout=10000)
    red = Invoice.get(Invoice.original_number == blue)
    assert red.total_with_tax == Decimal("-339.00") and red.red_reason == "销货退回" and red.red_form_uuid
    assert dialog.forms.count() == 0


def test_limits_indicator_warns_then_blocks_and_overdue_rows_are_flagged(qtbot, store, seller):
    set_limits(OfflineLimits(max_hours=72, max_count=5, max_amount=Decimal("1000000"), max_single=Decimal("100000")))
    window = build_main_window(store)
    qtbot.addWidget(window)
    indicator = window.trust_actions.indicator
    assert indicator.text() == "无待上传发票"
    for _ in range(3):
        issue_invoice(invoice_body())
    # Issued 80 h ago (the desk's clock moved back for it), so the oldest held invoice is past the 72 h limit.
    with shifted(now() - timedelta(hours=80)):
        late = issue_invoice(invoice_body()).number
    window.trust_actions.refresh()
    assert indicator.text() == "已达离线开票时限，暂停开票"
    assert indicator.toolTip().startswith("剩余：0 小时 · 1 张")
    assert indicator.remaining.exceeded  # the oldest is 80 h old: past 72 h
    assert "离线开票时限" in indicator.toolTip() and "b00020" in indicator.styleSheet()
    assert "离线开票时限" in window.statusBar().currentMessage()
    oldest_row = window.list_model.row_of(late)
    assert oldest_row is not None
    assert window.list_model.index(oldest_row, STATUS).data() == "预开单（非发票），逾期"
    assert window.list_model.index(oldest_row, STATUS).data(Qt.ItemDataRole.ForegroundRole) is not None
    assert "已逾期" in window.list_model.index(oldest_row, STATUS).data(Qt.ItemDataRole.ToolTipRole)
    assert window.list_model.index(oldest_row + 1, STATUS).data() == "预开单（非发票）"
    detail = window.open_invoice(late)
    qtbot.addWidget(detail)
    assert "已逾期（上传期限" in detail.view.toPlainText()
    shot(window, "main_window_limits")
    for n, entry in enumerate(UploadQueueEntry.select()):
        record_acceptance_here(entry, {"number": f"261100000000000001{n:02d}"})
    window.trust_actions.refresh()
    assert indicator.text() == "无待上传发票" and indicator.styleSheet() == ""
    dialog = window.trust_actions.edit_limits()
    dialog.fields["max_count"].setText("abc")
    assert not dialog.save() and "离线发票张数上限" in dialog.error.text()
    dialog.fields["max_count"].setText("800")
    assert dialog.save()
    assert "800 张" not in indicator.text()  # nothing held: no count shown


def test_outage_log_view_notes_and_pdf_export(qtbot, store, seller, tmp_path):
    start = now() - timedelta(minutes=5)
    outages.record_failure("HTTP 503 Service Unavailable", at=start)
    outages.record_failure("HTTP 503 Service Unavailable", at=start + timedelta(minutes=1))
    number = issue_invoice(invoice_body()).number
    outage = outages.record_recovery(at=now() + timedelta(seconds=1))
    assert outage is not None
    window = build_main_window(store)
    qtbot.addWidget(window)
    view = window.trust_actions.show_outages()
    assert view.table.rowCount() == 1 and cell(view.table, 0, 4) == "1"
    assert number in view.detail.toPlainText() and "×2" in view.detail.toPlainText()
    qtbot.keyClicks(view.note, "called 12366, maintenance")
    view.add_note_button.click()
    assert "called 12366, maintenance" in view.detail.toPlainText()
    shot(view, "outage_log")
    pdf = tmp_path / "fault.pdf"
    job = view.export("pdf", pdf)
    qtbot.waitUntil(lambda: "已导出" in view.message.text() or "失败" in view.message.text(), timeout=10000)
    assert "已导出" in view.message.text()
    text = PdfReader(pdf).pages[0].extract_text()
    assert number in text and outage.started_at[:19].replace("T", " ") in text and "called 12366" in text
    assert job is not None
