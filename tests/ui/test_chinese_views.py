"""Issue 15: the views a clerk reads in the Chinese interface show no English: the upload queue's states and
reasons, an invoice's upload history, the red-letter forms' states and notes, the outage log's errors, the
reconciliation's statuses and the red-letter dialog's refusals. Errors kept in English by an older desk read in
Chinese too; with --lang en the same views read in English."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal

import pytest
from PySide6.QtWidgets import QTableWidget

from app.core import status
from app.core.clock import now_iso
from app.services import outages
from app.services.issuing import issue_invoice
from app.services.lifecycle import record_acceptance_here
from app.store import audit
from app.store.models import Invoice, RedLetterForm, UploadQueueEntry, database
from app.ui.i18n import set_language
from tests.helpers.bodies import OFFICIAL_NUMBER, invoice_body


def cell(table: QTableWidget, row: int, column: int) -> str:
    item = table.item(row, column)
    assert item is not None, f"no item at ({row}, {column})"
    return item.text()


@pytest.fixture
def english() -> Iterator[None]:
    set_language("en")
    yield
    set_language("zh")


def _entry(number: str) -> UploadQueueEntry:
    entry: UploadQueueEntry = UploadQueueEntry.get(UploadQueueEntry.invoice == Invoice.get(
        Invoice.provisional_number == number))
    return entry


def _queued(store) -> tuple[str, str, str]:
    """Three waiting invoices: one whose error an older desk kept in English, one kept as "中文 (English)" now,
    one rejected with the platform's reasons naming fields by id."""
    old, new, rejected = (issue_invoice(invoice_body()).number for _ in range(3))
    UploadQueueEntry.update(state=status.Q_LOOKUP, last_error="connection refused").where(
        UploadQueueEntry.id == _entry(old).id).execute()
    UploadQueueEntry.update(state=status.Q_RETRY_WAIT,
                            last_error="平台暂时不可用（HTTP 503） (HTTP 503 from the platform)").where(
        UploadQueueEntry.id == _entry(new).id).execute()
    reasons = [{"field": "lines[0].amount", "message": "与数量×单价不符", "message_en": "does not add up"},
               {"field": "number", "message": "number 26117000000000000001 is already the desk's invoice LX-1"}]
    UploadQueueEntry.update(state=status.Q_REJECTED, last_error=json.dumps(reasons, ensure_ascii=False)).where(
        UploadQueueEntry.id == _entry(rejected).id).execute()
    Invoice.update(status=status.REJECTED).where(Invoice.provisional_number == rejected).execute()
    return old, new, rejected


def _row_of(table: QTableWidget, number: str) -> int:
    return next(r for r in range(table.rowCount()) if cell(table, r, 0) == number)


def test_the_queue_view_shows_states_and_errors_in_chinese(qtbot, store, seller):
    from app.ui.queue_view import QueueView

    old, new, rejected = _queued(store)
    view = QueueView(None)
    qtbot.addWidget(view)
    table = view.table
    assert (cell(table, _row_of(table, old), 3), cell(table, _row_of(table, old), 6)) == ("按号码查询中", "连接被拒绝")
    assert (cell(table, _row_of(table, new), 3), cell(table, _row_of(table, new), 6)) == (
        "等待重试", "平台暂时不可用（HTTP 503）")
    assert cell(table, _row_of(table, rejected), 6) == (
        "第1行金额：与数量×单价不符；发票号码：号码 26117000000000000001 已是本机发票 LX-1 的号码")


def test_the_queue_view_in_english(qtbot, store, seller, english):
    from app.ui.queue_view import QueueView

    old, new, rejected = _queued(store)
    view = QueueView(None)
    qtbot.addWidget(view)
    table = view.table
    assert (cell(table, _row_of(table, old), 3), cell(table, _row_of(table, old), 6)) == (
        "looking it up by number", "connection refused")
    assert cell(table, _row_of(table, new), 6) == "HTTP 503 from the platform"
    assert cell(table, _row_of(table, rejected), 6).startswith("line 1 amount: does not add up; number: number 2611")


def test_the_upload_history_reads_in_chinese(store, seller):
    from app.ui.queue_view import upload_history_html

    issued = issue_invoice(invoice_body())
    row = Invoice.get_by_id(issued.id)
    with database.atomic():
        audit.append("send_failed", clerk="sync", invoice=row, detail={"error": "timeout after 5s, POST /v2/issue"})
        audit.append("queued", clerk="desk", invoice=row, detail={"why": "sent again from the queue view"})
    html = upload_history_html(issued.id)
    assert "平台无应答，5 秒超时（POST /v2/issue）" in html and "从上传队列重新上传" in html
    assert "timeout" not in html and "queue view" not in html


def _form(state: str, **fields) -> None:
    stamp = now_iso()
    RedLetterForm.create(state=state, original_number=OFFICIAL_NUMBER, reason="01", total_amount=Decimal("-100.00"),
                         total_tax=Decimal("-6.00"), requested_at=stamp, updated_at=stamp, **fields)


def test_the_red_forms_view_shows_its_own_states_in_words(qtbot, store, seller):
    from app.ui.red_forms_view import COLUMNS, RedFormsView

    _form("requested", request_id="r1", last_error="平台暂时不可用 (HTTP 503 from the platform)")
    _form("refused", request_id="r2", message="上传被拒绝 (refused)")
    view = RedFormsView(None, client_factory=lambda: None)  # type: ignore[arg-type,return-value]
    qtbot.addWidget(view)
    states = [cell(view.table, r, COLUMNS.index("status")) for r in range(view.table.rowCount())]
    notes = [cell(view.table, r, COLUMNS.index("message")) for r in range(view.table.rowCount())]
    assert sorted(states) == sorted(["待发送", "平台拒绝"])
    assert "平台暂时不可用（HTTP 503）" in notes and "上传被拒绝" in notes


def test_the_outage_log_shows_errors_in_chinese(qtbot, store, seller):
    from app.ui.outage_view import OutageLogView

    outages.record_failure("connection refused")
    outages.record_failure("平台暂时不可用（HTTP 503） (HTTP 503 from the platform)")
    view = OutageLogView(None)
    qtbot.addWidget(view)
    assert cell(view.table, 0, 5) == "连接被拒绝 ×1；平台暂时不可用（HTTP 503） ×1"
    detail = view.detail.toPlainText()
    assert "连接被拒绝" in detail and "connection refused" not in detail and "from the platform" not in detail


def test_the_red_letter_dialog_names_its_fields_in_words(qtbot, store, seller):
    from app.ui.lifecycle_dialogs import RedLetterDialog

    issued = issue_invoice(invoice_body())
    record_acceptance_here(UploadQueueEntry.get(UploadQueueEntry.invoice == issued.id), {"number": OFFICIAL_NUMBER})
    dialog = RedLetterDialog(OFFICIAL_NUMBER, None, client_factory=lambda: None)  # type: ignore[arg-type,return-value]
    qtbot.addWidget(dialog)
    assert not dialog.submit()  # no reason chosen
    assert dialog.error.text().startswith("原因：") and "reason" not in dialog.error.text()
    dialog.reason.setCurrentIndex(1)
    dialog.partial.setChecked(True)
    assert not dialog.submit()  # by lines, none given
    assert dialog.error.text() == "红冲明细：请填写要红冲的行"


def test_the_status_widget_s_tooltip_gives_the_failure_in_the_chosen_language(qtbot, desk_app):
    from app.ui.i18n import set_language
    from app.ui.sync_status import SyncStatusWidget

    widget = SyncStatusWidget()
    qtbot.addWidget(widget)
    widget.set_state("offline", error="connection refused")  # as an older desk stored it
    assert widget.toolTip() == "连接被拒绝"
    set_language("en")
    try:
        widget.set_state("offline", error="连接被拒绝 (connection refused)")
        assert widget.toolTip() == "connection refused"
    finally:
        set_language("zh")
