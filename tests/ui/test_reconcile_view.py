"""The reconciliation view against the reference platform (protocol v2 records) on loopback: compare,
re-queue, import, save."""

from __future__ import annotations

import uuid

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QTableWidget

from app.core import status
from app.core.clock import now
from app.core.codec import invoice_to_body, pre_issue_body
from app.services import reconcile as rec
from app.services.issuing import issue_invoice, prepare_invoice
from app.services.settings import set_platform
from app.store.models import Invoice, UploadQueueEntry
from app.ui.application import build_main_window
from tests.helpers.bodies import invoice_body
from tests.helpers.platform import SYNC_TOKEN as TOKEN
from tests.helpers.platform import key_of, make_worker, platform_sql
from tests.platform_v2.support import set_clock


def cell(table: QTableWidget, row: int, column: int) -> str:
    item = table.item(row, column)
    assert item is not None, f"no item at ({row}, {column})"
    return item.text()


@pytest.fixture
def platform(v2):
    """The v2 reference platform with its clock at real time (the desk dates invoices with the real clock)."""
    set_clock(v2, reset=True)
    return v2


def test_view_compares_requeues_imports_and_saves(qtbot, store, seller, platform, tmp_path):
    from app.platform.http_client import HttpPlatformClient

    set_platform(platform.url, TOKEN)  # the view uses the desk's settings, as in the app
    client = HttpPlatformClient(platform.url, TOKEN)
    lost = issue_invoice(invoice_body()).number  # a pre-issue record (the platform channel)
    worker = make_worker(platform)
    assert worker.run_once().accepted == 1
    worker.close()
    # The platform lost it (its own file), and holds one issued by another desk of this seller.
    platform_sql(platform, "DELETE FROM v2_invoice WHERE key = ?", key_of(lost))
    platform_sql(platform, "DELETE FROM v2_issue_key WHERE key = ?", key_of(lost))
    other = pre_issue_body(invoice_to_body(prepare_invoice(invoice_body(remarks="another desk"), seller)))
    other["issued_at"] = now().isoformat()
    elsewhere = client.issue(str(uuid.uuid4()), other)["number"]
    client.close()

    window = build_main_window(store)
    qtbot.addWidget(window)
    view = window.trust_actions.show_reconcile()
    today = now().date()
    view.date_from.setDate(QDate(today.year, today.month, today.day))
    qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.report is not None or "失败" in view.message.text(), timeout=10000)
    assert view.report is not None, view.message.text()
    assert view.table.rowCount() == 2
    shown = {cell(view.table, r, 1): cell(view.table, r, 0) for r in range(2)}
    assert shown == {lost: "本地有、平台无", elsewhere: "平台有、本地无"}
    view.grab().save(str(tmp_path / "reconcile.png"))
    assert view.requeue_button.isEnabled() and view.import_button.isEnabled()
    with qtbot.waitSignal(view.changed):
        view.requeue_button.click()
    assert lost in view.message.text()
    row = Invoice.get(Invoice.provisional_number == lost)
    assert UploadQueueEntry.get(UploadQueueEntry.invoice == row).state == status.Q_PENDING
    assert row.status == status.PRE_ISSUE and row.official_number is None
    with qtbot.waitSignal(view.changed, timeout=10000):
        view.import_button.click()  # runs in a background thread
    assert view.import_result is not None and view.import_result.imported == [elsewhere]
    imported = Invoice.get(Invoice.official_number == elsewhere)
    assert (imported.status, imported.channel) == (status.ACCEPTED, "platform")
    assert window.list_model.rowCount() == 2  # the main window refreshed
    csv = view.save("csv", tmp_path / "r.csv")
    pdf = view.save("pdf", tmp_path / "r.pdf")  # both written in background threads
    assert csv is not None and pdf is not None
    qtbot.waitUntil(lambda: csv.ended and pdf.ended, timeout=20000)
    assert csv.value is not None and csv.value.read_text(encoding="utf-8-sig").count("\n") == 3
    assert pdf.value is not None and pdf.value.read_bytes().startswith(b"%PDF")
    assert view.message.text().startswith("已保存")
    # Again: the re-queued one still waits in the queue; nothing else differs.
    view.start()
    qtbot.waitUntil(lambda: view.message.text() == "对账完成", timeout=10000)
    assert [d.kind for d in view.report.differences] == [rec.MISSING_ON_PLATFORM]
    assert not view.requeue_button.isEnabled()


def test_view_says_why_when_the_platform_is_down(qtbot, store, seller, platform):
    set_platform(platform.url, TOKEN)
    platform.set_faults(mode="down")
    window = build_main_window(store)
    qtbot.addWidget(window)
    view = window.trust_actions.show_reconcile()
    view.start()
    qtbot.waitUntil(lambda: "失败" in view.message.text(), timeout=10000)
    assert "503" in view.message.text() and view.report is None and view.run_button.isEnabled()
