"""Protocol v2 on the desk's screens: the channel/stock indicator in the status bar, the stock view
(号码与额度) with its refill against the reference platform on loopback, the channel setting, and
what the list and the detail say of pre-issue records and invoices too late to upload."""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QDialogButtonBox

from app.core import clock, status
from app.core.deadlines import month_close, period_of, previous_period
from app.services import desk_status as desk
from app.services import stock
from app.services.channel import get_channel, set_channel
from app.services.issuing import issue_invoice, issue_invoices
from app.services.settings import PLATFORM_URL, set_setting
from app.store.models import AuditEntry, Invoice, database
from app.ui.application import build_main_window
from app.ui.channel_status import BLOCK_STYLE, WARN_STYLE, ChannelDialog, StockDialog
from app.ui.invoice_list_model import NUMBER, STATUS
from app.ui.seller_dialog import SellerDialog
from tests.helpers.bodies import invoice_body
from tests.helpers.platform import make_worker
from tests.platform_v2.support import set_clock

SHOTS = Path("/tmp/shots")
SIZE = (1366, 768)


def shot(widget, name: str) -> Path:
    """The widget as the clerk sees it, once the layouts have followed the last texts set."""
    from PySide6.QtWidgets import QApplication

    QApplication.processEvents()
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    assert widget.grab().save(str(path)), path
    return path


def desk_shot(window, dialog, name: str) -> Path:
    """The main window at 1366x768 with a dialog drawn where it stands over it (a top-level window's grab
    holds only itself)."""
    from PySide6.QtGui import QPainter
    from PySide6.QtWidgets import QApplication

    QApplication.processEvents()
    picture = window.grab()
    painter = QPainter(picture)
    at = dialog.frameGeometry().topLeft() - window.geometry().topLeft()
    painter.drawPixmap(max(at.x(), 0), max(at.y(), 0), dialog.grab())
    painter.end()
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    assert picture.size().width() == SIZE[0] and picture.save(str(path)), path
    return path


def open_window(qtbot, store):
    window = build_main_window(store)
    qtbot.addWidget(window)
    window.resize(*SIZE)
    window.show()
    qtbot.waitExposed(window)
    return window


def row_of(window, number: str) -> int:
    row = window.list_model.row_of(number)
    assert row is not None, number
    return row


def make_too_late(platform) -> str:
    """An invoice the platform refuses as too late: its clock two days on, then the worker's pass."""
    late = issue_invoice(invoice_body(remarks="waited two days")).number
    set_clock(platform, advance_hours=49)
    report = make_worker(platform).run_once()
    assert report.rejected >= 1, report
    assert Invoice.get(Invoice.provisional_number == late).status == status.UPLOAD_TOO_LATE
    set_clock(platform, reset=True)
    return late


# --- the direct channel ---------------------------------------------------------------------------

def test_status_bar_follows_numbers_quota_and_the_upload_deadline(qtbot, store, seller, direct):
    window = open_window(qtbot, store)
    indicator = window.channel_actions.indicator
    limits = window.trust_actions.indicator
    bar = window.statusBar()
    assert indicator.isVisible() and indicator.parent() is limits.parent()  # beside the offline limits
    closes = month_close(previous_period(period_of(clock.now()))).strftime("%m-%d")
    assert indicator.text().startswith("直连：号码 1,000 · 额度 ¥300,000.00")
    assert f"上月 {closes} 结账" in indicator.text() and "上传" not in indicator.text()
    assert indicator.styleSheet() == ""

    first = issue_invoice(invoice_body()).number  # 1,000.00 excluding tax
    window.refresh()  # what the form does after issuing
    assert "号码 999" in indicator.text() and "额度 ¥299,000.00" in indicator.text()
    oldest = indicator.status.oldest_waiting
    assert oldest is not None and oldest.number == first and 47.9 < oldest.hours_left <= 48
    assert "上传剩 4" in indicator.text()  # 47.9 or 48.0 hours
    issue_invoices([invoice_body(), invoice_body()])
    window.refresh()
    assert "号码 997" in indicator.text() and "额度 ¥297,000.00" in indicator.text()
    assert indicator.status.oldest_waiting.number == first  # still the first issued

    # 42 hours on: six left, a warning in the status bar (said once) and amber.
    later = clock.now() + timedelta(hours=42)
    window.channel_actions.refresh(at=later)
    assert "上传剩 6.0 小时" in indicator.text() or "上传剩 5.9 小时" in indicator.text()
    assert indicator.styleSheet() == WARN_STYLE
    assert first in bar.currentMessage() and "小时" in bar.currentMessage()
    assert first in indicator.toolTip()
    bar.clearMessage()
    window.channel_actions.refresh(at=later + timedelta(minutes=1))
    assert bar.currentMessage() == ""  # the same warning is not said again
    # Past the 48 hours: red, 已超期, and said (a new warning text for the same deadline is not repeated).
    window.channel_actions.refresh(at=clock.now() + timedelta(hours=49))
    assert "上传已超期" in indicator.text() and indicator.styleSheet() == BLOCK_STYLE
    shot(window, "main_window_direct_deadline")


def test_too_late_invoice_is_red_and_issued_again_from_its_detail(qtbot, store, seller, direct):
    late = make_too_late(direct)
    assert stock.stock_view().quota_drawn == Decimal("0.00")  # the platform never took it: the quota came back
    window = open_window(qtbot, store)
    indicator = window.channel_actions.indicator
    assert "超期未上传 1 张" in indicator.text() and indicator.styleSheet() == BLOCK_STYLE
    assert "须重新开具" in window.statusBar().currentMessage()
    row = row_of(window, late)
    model = window.list_model
    assert model.index(row, STATUS).data() == "超期未上传，须重新开具"
    for column in (NUMBER, STATUS):  # the whole row is red
        assert model.index(row, column).data(Qt.ItemDataRole.ForegroundRole).name() == "#b00020"
    shot(window, "main_window_too_late")

    detail = window.open_invoice(late)
    qtbot.addWidget(detail)
    assert detail.banner.isVisible() and detail.banner.text().startswith("超期未上传，须重新开具")
    again = detail.findChild(QAbstractButton, "detail_reissue")
    assert again is not None and again.isEnabled() and again.text() == "重新开具"
    shot(detail, "detail_too_late")
    qtbot.mouseClick(again, Qt.MouseButton.LeftButton)
    replacement = Invoice.get(Invoice.reissue_of == late)
    assert replacement.status == status.PENDING_UPLOAD and replacement.provisional_number != late
    assert replacement.drawer == "张三"
    assert AuditEntry.get((AuditEntry.action == "reissued") & (AuditEntry.invoice == Invoice.get(
        Invoice.provisional_number == late))).clerk == "张三"
    assert window.selected_number() == replacement.provisional_number
    assert replacement.provisional_number in window.statusBar().currentMessage()
    assert "号码 998" in indicator.text()  # a new number (the too-late one's is spent)

    # Its detail now says what replaced it, and refuses a second time.
    detail = window.open_invoice(late)
    qtbot.addWidget(detail)
    again = detail.findChild(QAbstractButton, "detail_reissue")
    assert again is not None and not again.isEnabled()
    assert f"已重新开具为 {replacement.provisional_number}" in detail.view.toPlainText()
    window.channel_actions.reissue(detail)  # asked all the same (another desk may have been first)
    assert detail.error.isVisible() and replacement.provisional_number in detail.error.text()
    new_detail = window.open_invoice(replacement.provisional_number)
    qtbot.addWidget(new_detail)
    assert f"替代超期未上传的 {late}" in new_detail.view.toPlainText()
    assert new_detail.findChild(QAbstractButton, "detail_reissue") is None


def test_stock_view_shows_the_figures_and_refills_off_the_gui_thread(qtbot, store, seller, direct):
    # Floors just under what is held: two invoices take numbers and quota below them.
    stock.set_stock_settings(numbers_floor=999, quota_floor="299500.00")
    issue_invoices([invoice_body(), invoice_body()])
    window = open_window(qtbot, store)
    assert "号码" in window.statusBar().currentMessage() or "额度" in window.statusBar().currentMessage()
    window.channel_actions.stock_action.trigger()
    dialog = window.findChild(StockDialog)
    assert dialog is not None and dialog.isVisible()
    now = dialog.status
    year = clock.in_beijing(clock.now()).year
    assert dialog.text("channel") == "直连"
    assert dialog.text("numbers_left") == f"998 个（{year} 年）"
    assert dialog.text("numbers_until").startswith(f"{year}-12-31")
    assert dialog.text("next_number") == now.next_number and len(now.next_number or "") == 20
    assert dialog.text("quota_left") == f"¥298,000.00（{now.period}）"
    assert dialog.text("quota_held") == "¥300,000.00" and dialog.text("quota_drawn") == "¥2,000.00"
    assert dialog.text("quota_valid_to") == now.quota_valid_to.isoformat()
    assert dialog.text("oldest").startswith(now.oldest_waiting.number)
    assert "小时" in dialog.text("deadline") and dialog.text("too_late") == "无"
    warnings = dialog.warnings.text()
    assert "号码仅剩 998 个" in warnings and "额度仅剩 ¥298,000.00" in warnings
    dialog.resize(dialog.sizeHint().expandedTo(dialog.minimumSizeHint()))
    shot(dialog, "stock_view_low")

    # 立即补领: the HTTP calls run in the task's thread while the GUI thread keeps turning.
    direct.set_faults(mode="slow", delay_ms=800)  # each of the two requests answered 0.8 s late
    qtbot.mouseClick(dialog.refill_button, Qt.MouseButton.LeftButton)
    task = dialog.task
    assert task is not None and not dialog.refill_button.isEnabled()
    qtbot.wait(100)  # the click returned and the event loop turns while the platform is still answering
    assert not task.ended and dialog.outcome.text() == "正在向平台补领…"
    qtbot.waitUntil(lambda: task.ended, timeout=15000)
    direct.set_faults(mode="ok")
    outcome = dialog.outcome.text()
    assert "已领取号码段" in outcome and "（1000 个）" in outcome and "已下载额度 ¥300,000.00" in outcome, outcome
    assert dialog.text("numbers_left") == f"1,998 个（{year} 年）"
    assert dialog.text("quota_left") == f"¥598,000.00（{now.period}）"
    assert dialog.warnings.text() == "" and dialog.refill_button.isEnabled()
    assert "号码 1,998" in window.channel_actions.indicator.text()  # the status bar followed
    shot(dialog, "stock_view")
    desk_shot(window, dialog, "main_window_with_stock_view")

    # Nothing below its floor: nothing drawn. The platform down: said, in red, nothing lost.
    qtbot.mouseClick(dialog.refill_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.task is not None and dialog.task.ended, timeout=15000)
    assert "无需补领" in dialog.outcome.text()
    stock.set_stock_settings(numbers_floor=999, quota_floor="599000.00")
    direct.set_faults(mode="down")
    qtbot.mouseClick(dialog.refill_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.task is not None and dialog.task.ended, timeout=15000)
    assert "平台暂时无法应答" in dialog.outcome.text() and "b00020" in dialog.outcome.styleSheet()
    assert dialog.text("requests_waiting") == "1"  # asked again next time under the same request id
    direct.set_faults(mode="ok")


def test_a_refill_that_cannot_start_says_why(qtbot, store, seller):
    set_channel("direct")
    set_setting(PLATFORM_URL, "ftp://old-release")  # kept by hand in an old store: make_client refuses it
    dialog = StockDialog()
    qtbot.addWidget(dialog)
    assert dialog.refill_button.isEnabled()
    task = dialog.refill()
    assert task is not None
    qtbot.waitUntil(lambda: task.ended, timeout=15000)
    assert dialog.outcome.text().startswith("补领失败：") and task.error in dialog.outcome.text()
    assert "b00020" in dialog.outcome.styleSheet()


# --- the platform channel -------------------------------------------------------------------------

def test_platform_channel_counts_pre_issue_records_which_say_they_are_not_invoices(qtbot, store, seller):
    window = open_window(qtbot, store)
    indicator = window.channel_actions.indicator
    assert indicator.text() == "平台开具：无待开具的预开单"
    numbers = [i.number for i in issue_invoices([invoice_body(), invoice_body()])]
    window.refresh()
    assert indicator.text() == "平台开具：2 张预开单待平台开具"
    model = window.list_model
    assert model.index(row_of(window, numbers[0]), STATUS).data() == "预开单（非发票）"
    assert "预开单（非发票），待平台开具" in model.index(0, STATUS).data(Qt.ItemDataRole.ToolTipRole)
    detail = window.open_invoice(numbers[0])
    qtbot.addWidget(detail)
    assert detail.banner.isVisible() and "不是发票" in detail.banner.text()
    assert detail.view.toPlainText().startswith("预开单（非发票）")
    shot(window, "main_window_platform")

    window.channel_actions.stock_action.trigger()
    dialog = window.findChild(StockDialog)
    assert dialog is not None
    assert dialog.text("channel") == "平台开具" and not dialog.refill_button.isEnabled()
    assert not dialog.numbers_box.isEnabled() and dialog.text("pre_issue") == "2 张（非发票）"


def test_the_month_summary_warns_from_the_tenth(qtbot, store, seller):
    window = open_window(qtbot, store)
    tenth = datetime(2026, 12, 10, 9, 0, tzinfo=clock.BEIJING)
    ninth = tenth - timedelta(days=1)
    assert desk.desk_status(ninth).warning(desk.W_MONTH) is None
    now = window.channel_actions.refresh(at=tenth)
    assert now.month.period == "202611" and now.month.closes_at == month_close("202611")
    assert now.warning(desk.W_MONTH) is not None
    assert "202611 月度汇总尚未确认" in window.statusBar().currentMessage()
    assert "2026-12-13 00:00 结账" in window.statusBar().currentMessage()


# --- the channel setting --------------------------------------------------------------------------

def test_the_channel_is_chosen_on_first_start_and_in_its_dialog(qtbot, store):
    dialog = SellerDialog(None, first_start=True)
    qtbot.addWidget(dialog)
    assert dialog.channel.currentData() == "platform"
    dialog.edits["name"].setText("北京某某科技有限公司")
    dialog.edits["tax_id"].setText("91110108MA0123456G")
    dialog.edits["drawer"].setText("张三")
    dialog.validate()
    dialog.channel.setCurrentIndex(dialog.channel.findData("direct"))
    shot(dialog, "first_start_channel")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    assert dialog.saved is not None and get_channel() == "direct"
    changed = AuditEntry.get(AuditEntry.action == "setting_changed")
    assert changed.clerk == "张三" and '"direct"' in changed.detail

    channel = ChannelDialog()
    qtbot.addWidget(channel)
    assert channel.choice.currentText() == "直连"
    channel.choice.setCurrentIndex(channel.choice.findData("platform"))
    assert channel.save() and get_channel() == "platform"


# --- a million invoices ---------------------------------------------------------------------------

def _plans(statements: list[str]) -> list[str]:
    connection = database.connection()
    plans = []
    for sql in statements:
        if " invoice" not in sql and '"invoice"' not in sql:
            continue
        rows = connection.execute("EXPLAIN QUERY PLAN " + sql).fetchall()
        plans.append(sql + " => " + " | ".join(str(r[-1]) for r in rows))
    return plans


@pytest.mark.slow
def test_desk_status_stays_on_the_indexes_with_a_million_invoices(store, seller):
    issue_invoice(invoice_body())  # the row the others copy
    connection: sqlite3.Connection = database.connection()
    columns = [r[1] for r in connection.execute("PRAGMA table_info(invoice)") if r[1] != "id"]
    copied = ", ".join(
        "printf('M-%07d', n)" if c == "provisional_number" else "printf('2611%016d', n)" if c == "official_number"
        else "'accepted'" if c == "status" else c for c in columns)
    with database.atomic():
        connection.execute(
            f"WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < 1000000) "
            f"INSERT INTO invoice ({', '.join(columns)}) SELECT {copied} FROM k, invoice WHERE invoice.id = 1")
    assert Invoice.select().count() == 1_000_001
    statements: list[str] = []
    connection.set_trace_callback(statements.append)
    try:
        started = time.perf_counter()
        now = desk.desk_status()
        took = time.perf_counter() - started
    finally:
        connection.set_trace_callback(None)
    assert now.pre_issue == 1 and now.too_late == 0
    plans = _plans(statements)
    assert plans, statements
    for plan in plans:
        # SEARCH ... USING INDEX; never a SCAN of the invoice table (a COVERING INDEX search is fine too).
        assert "SCAN t1" not in plan and "SCAN invoice" not in plan, plan
    assert took < 0.5, (took, plans)


def test_the_indicator_and_the_stock_view_in_english(qtbot, store, seller):
    from app.ui.i18n import set_language

    set_language("en")
    issue_invoice(invoice_body())
    window = open_window(qtbot, store)
    assert window.channel_actions.indicator.text() == "Platform: 1 pre-issue records to be issued"
    assert window.list_model.index(0, STATUS).data() == "pre-issue (not an invoice)"
    dialog = window.channel_actions.show_stock()
    assert dialog.windowTitle() == "Numbers and quota" and dialog.refill_button.text() == "Refill now"
    assert dialog.text("channel") == "platform" and dialog.text("pre_issue") == "1 (not invoices)"
    assert window.channel_actions.channel_action.text() == "Issuing channel…"
