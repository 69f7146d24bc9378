"""The status bar follows the platform going down and up; the queue view shows what waits and why."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QTableWidget

from tests.helpers.platform import SYNC_TOKEN as TOKEN
from tests.helpers.platform import issue_many, make_worker, platform_numbers


def cell(table: QTableWidget, row: int, column: int) -> str:
    item = table.item(row, column)
    assert item is not None, f"no item at ({row}, {column})"
    return item.text()


@pytest.fixture
def cjk(qapp):
    from app.ui.application import install_cjk_font
    from app.ui.i18n import set_language

    set_language("zh")
    install_cjk_font(qapp)
    yield qapp
    set_language("zh")


def _runner(platform, **options):
    from app.platform.http_client import HttpPlatformClient
    from app.ui.sync_runner import SyncRunner

    factory = lambda: HttpPlatformClient(platform.url, TOKEN, timeout=0.5)  # noqa: E731
    worker = make_worker(platform, idle_poll=0.2)
    return SyncRunner(factory, poll_interval=0.1, retry_min=0.1, retry_max=0.2, worker=worker, **options)


def test_status_bar_follows_the_platform_down_and_up(qtbot, cjk, store, seller, platform, tmp_path):
    from app.core import status
    from app.services.queue import counts
    from app.services.settings import set_platform
    from app.store.models import Invoice, Outage
    from app.ui.main_window import MainWindow

    set_platform(platform.url, TOKEN)  # set up: a platform that is down shows as offline (not as "not set")
    window = MainWindow(store)
    qtbot.addWidget(window)
    actions = window.sync_actions
    widget = actions.status_widget
    # The window's own runner is started only by the application; use one pointed at the test platform.
    runner = _runner(platform, parent=window)
    actions.attach(runner)
    window.show()

    platform.set_faults(mode="down", retry_after=0)
    issue_many(12)
    runner.start()
    try:
        qtbot.waitUntil(lambda: widget.state == "offline", timeout=15000)
        assert "平台离线" in widget.state_label.text()
        qtbot.waitUntil(lambda: "待上传 12 张" in widget.queue_label.text(), timeout=15000)
        assert "尚未联系上" in widget.contact_label.text()
        window.grab().save(str(tmp_path / "offline.png"))

        platform.set_faults(mode="ok")
        runner.upload_now()
        qtbot.waitUntil(lambda: widget.state == "online", timeout=15000)
        qtbot.waitUntil(lambda: "待上传 0 张" in widget.queue_label.text(), timeout=20000)
        assert "平台在线" in widget.state_label.text() and "最近联系" in widget.contact_label.text()
        qtbot.waitUntil(lambda: "平台已恢复" in actions.last_notice, timeout=15000)
        assert "12 张发票已上传" in actions.last_notice and "0 张需要处理" in actions.last_notice
        window.grab().save(str(tmp_path / "online.png"))

        platform.set_faults(mode="down")
        qtbot.waitUntil(lambda: widget.state == "offline", timeout=15000)
        assert "最近联系" in widget.contact_label.text()  # the last good contact stays shown
    finally:
        runner.stop()
    assert {r.status for r in Invoice.select()} == {status.ACCEPTED}
    assert len(platform_numbers(platform)) == 12 and counts().waiting == 0
    assert Outage.select().count() >= 1  # the outage log was fed from the same monitor


def test_queue_view_shows_reasons_and_requeues(qtbot, cjk, store, seller, platform):
    from app.core import status
    from app.store.models import Invoice, InvoiceLine
    from app.ui.queue_view import QueueView, upload_history_html
    from tests.helpers.platform import break_line_amount

    issued = issue_many(3)
    # The first sent: on the platform channel a failure stops the pass at the record that failed.
    break_line_amount(issued[0].number)
    platform.set_faults(mode="down")
    make_worker(platform).run_once()
    platform.set_faults(mode="ok")
    from app.services.queue import make_due_now

    make_due_now()
    make_worker(platform).run_once()
    view = QueueView(None)
    qtbot.addWidget(view)
    assert view.table.rowCount() == 1
    assert cell(view.table, 0, 0) == issued[0].number
    assert cell(view.table, 0, 3) == "被拒绝"
    assert "第1行金额" in cell(view.table, 0, 6) and "1000.00" in cell(view.table, 0, 6)
    assert "被拒绝需处理 1 张" in view.summary.text()
    assert not view.requeue_button.isEnabled()
    view.table.selectRow(0)
    assert view.requeue_button.isEnabled()
    row = Invoice.get(Invoice.provisional_number == issued[0].number)
    html = upload_history_html(row.id)
    assert "发送失败" in html and "平台拒绝" in html and "第 2 次" in html
    InvoiceLine.update(amount=InvoiceLine.amount - 1).where(InvoiceLine.invoice == row).execute()
    requeued = view.requeue_selected()  # a store write: in a background thread
    assert requeued is not None
    qtbot.waitUntil(lambda: requeued.ended, timeout=10000)
    assert requeued.error == "" and cell(view.table, 0, 3) == "待上传"
    make_worker(platform).run_once()
    view.reload()
    assert view.table.rowCount() == 0
    assert Invoice.get_by_id(row.id).status == status.ACCEPTED


def test_queue_view_lists_the_rejected_first_and_counts_the_accepted_off_the_gui_thread(qtbot, cjk, store, seller,
                                                                                          platform, monkeypatch):
    """More waiting than the view shows must not hide a rejected invoice (it needs the clerk); the accepted ones,
    a range as long as the desk's history, are counted in a background task and shown when counted."""
    from app.core import status
    from app.services.queue import queue_rows
    from app.store.models import UploadQueueEntry
    from app.ui import queue_view
    from tests.helpers.platform import break_line_amount

    issued = issue_many(3)
    break_line_amount(issued[2].number)  # the newest: the first two go up, it is refused
    make_worker(platform).run_once()
    waiting = [invoice.number for invoice in issue_many(4)]  # not sent: newer than the rejected one
    assert [r.number for r in queue_rows(status.QUEUE_WAITING_STATES, limit=2)] == waiting[:2]
    assert [r.number for r in queue_rows(status.QUEUE_WAITING_STATES)] == waiting  # by id, whatever the plan
    assert UploadQueueEntry.select().where(UploadQueueEntry.state == status.Q_ACCEPTED).count() == 2

    monkeypatch.setattr(queue_view, "SHOWN_ROWS", 2)
    view = queue_view.QueueView(None)
    qtbot.addWidget(view)
    shown = [cell(view.table, r, 0) for r in range(view.table.rowCount())]
    assert shown == [issued[2].number, *waiting[:2]]
    assert cell(view.table, 0, 3) == "被拒绝"
    assert "待上传 4 张" in view.summary.text() and "被拒绝需处理 1 张" in view.summary.text()
    assert "列出最早的 2 张待上传" in view.summary.text()
    qtbot.waitUntil(lambda: "已接受 2 张" in view.summary.text(), timeout=10000)
    assert view.counting is not None and view.counting.ended and view.counting.error == ""


def test_pause_resume_and_detail_history(qtbot, cjk, store, seller, platform, tmp_path):
    from app.services.queue import counts
    from app.ui.main_window import MainWindow
    from app.ui.queue_view import QueueView

    window = MainWindow(store)
    qtbot.addWidget(window)
    runner = _runner(platform, parent=window)
    window.sync_actions.attach(runner)
    issued = issue_many(5)
    runner.set_paused(True)
    runner.start(record_outages=False)
    try:
        view = window.sync_actions.open_queue()
        assert isinstance(view, QueueView) and view.pause_button.text() == "继续上传"
        qtbot.waitUntil(lambda: runner.state == "online", timeout=15000)
        runner.upload_now()
        qtbot.wait(600)  # several of the worker's polls: paused, it sends nothing
        assert counts().waiting == 5 and platform_numbers(platform) == []
        assert "（已暂停）" in window.sync_actions.status_widget.queue_label.text()
        view.grab().save(str(tmp_path / "queue_paused.png"))
        qtbot.mouseClick(view.pause_button, __import__("PySide6.QtCore", fromlist=["Qt"]).Qt.LeftButton)
        assert view.pause_button.text() == "暂停上传"
        qtbot.waitUntil(lambda: counts().waiting == 0, timeout=20000)
        qtbot.waitUntil(lambda: view.table.rowCount() == 0, timeout=15000)
    finally:
        runner.stop()
    detail = window.open_invoice(issued[0].number)
    qtbot.addWidget(detail)
    text = detail.view.toPlainText()
    assert "上传记录" in text and "第 1 次" in text and "平台接受" in text
    from app.store.models import Invoice

    official = Invoice.get(Invoice.provisional_number == issued[0].number).official_number
    assert official is not None and official in text


def test_a_rejected_invoice_is_corrected_through_cancel_and_reissue(qtbot, cjk, store, seller, platform):
    from app.core import status
    from app.services.queue import make_due_now
    from app.store.models import AuditEntry, Invoice
    from app.ui.queue_view import QueueView
    from tests.helpers.platform import break_line_amount, key_of
    from tests.sync.support import issued_by_key

    issued = issue_many(2)
    break_line_amount(issued[1].number)  # the platform will refuse its arithmetic
    make_worker(platform).run_once()
    make_due_now()
    make_worker(platform).run_once()
    view = QueueView(None)
    qtbot.addWidget(view)
    view.table.selectRow(0)
    assert view.correct_button.isEnabled() and cell(view.table, 0, 0) == issued[1].number

    form = view.correct_selected(reason="平台拒绝：金额有误")
    assert form is not None
    qtbot.addWidget(form)
    assert issued[1].number in form.windowTitle()
    # The form holds the rejected invoice's buyer and lines; its amounts are computed afresh.
    assert form.buyer["name"].text() == issued[1].invoice.buyer.name
    assert form.issue_button.isEnabled()
    new = form.issue()
    assert new is not None and new.number != issued[1].number
    # The view reloaded on the form's signal: the rejected one is gone, the corrected one waits.
    assert [cell(view.table, r, 0) for r in range(view.table.rowCount())] == [new.number]

    old = Invoice.get(Invoice.provisional_number == issued[1].number)
    assert old.status == status.CANCELLED
    assert AuditEntry.select().where(AuditEntry.action == "reissued").count() == 1
    make_worker(platform).run_once()
    assert Invoice.get(Invoice.provisional_number == new.number).status == status.ACCEPTED
    on_platform = issued_by_key(platform)
    assert key_of(new.number) in on_platform and key_of(issued[1].number) not in on_platform
    assert on_platform[key_of(new.number)] == Invoice.get(Invoice.provisional_number == new.number).official_number
    view.reload()
    assert view.table.rowCount() == 0
