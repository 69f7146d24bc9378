"""The main window's invoice list: lazy paging over a large real store, filter, detail view, menus."""

from __future__ import annotations

import json
import re

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.core import status
from app.services.issuing import issue_invoice
from app.store import queries
from app.ui.application import build_main_window, install_cjk_font
from app.ui.invoice_list_model import PAGE_SIZE, InvoiceListModel
from tests.helpers.bodies import SOFTWARE, invoice_body
from tests.helpers.bulk_invoices import insert_invoices

MANY = 20_000


def show_active(qtbot, window) -> None:
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)  # shortcuts and clicks go to the active window


@pytest.fixture
def many_invoices(store, seller):
    insert_invoices(MANY, accepted_every=10)
    return MANY


@pytest.fixture
def fetch_log(monkeypatch):
    """Every page the list reads from the store: (row of its first entry, limit, rows returned). The real
    query runs; in the bulk store invoice id i is LX-i, so the newest-first row of id i is MANY - i."""
    log = []
    real = queries.list_page

    def logged(limit=100, status=None, **keys):
        rows = real(limit, status, **keys)
        log.append((MANY - rows[0].id if rows else None, limit, len(rows)))
        return rows

    monkeypatch.setattr(queries, "list_page", logged)
    return log


@pytest.fixture
def statements(store):
    """Every SQL statement the store's connection runs while the test does."""
    seen: list[str] = []
    connection = store.db.connection()
    connection.set_trace_callback(seen.append)
    yield seen
    if not store.db.is_closed():
        connection.set_trace_callback(None)


def _by_offset(store, row: int, limit: int, status_: str | None = None) -> list[str]:
    """What OFFSET paging gives (the reference the keyset pages must match)."""
    where, params = ("WHERE status = ?", [status_]) if status_ else ("", [])
    return [r[0] for r in store.db.execute_sql(
        f"SELECT provisional_number FROM invoice {where} ORDER BY id DESC LIMIT ? OFFSET ?",
        [*params, limit, row]).fetchall()]


def test_list_of_many_loads_only_the_pages_it_shows(qtbot, many_invoices, store, fetch_log):
    window = build_main_window(store)
    qtbot.addWidget(window)
    show_active(qtbot, window)
    model, view = window.list_model, window.list_view
    assert model.rowCount() == MANY
    assert window.count_label.text() == "共 20,000 张发票"
    QApplication.processEvents()
    # A screenful of rows needs the first page only.
    assert [offset for offset, _, _ in fetch_log] == [0]
    assert model.index(0, 0).data() == f"LX-{MANY:07d}"  # newest first

    view.scrollToBottom()
    qtbot.waitUntil(lambda: any(offset >= MANY - PAGE_SIZE for offset, _, _ in fetch_log))
    QApplication.processEvents()
    assert model.index(MANY - 1, 0).data() == "LX-0000001"
    # Only the first and last pages (and a neighbour at a page edge) were read; never the middle.
    assert sum(rows for _, _, rows in fetch_log) <= 3 * PAGE_SIZE
    assert all(offset == 0 or offset >= MANY - 2 * PAGE_SIZE for offset, _, _ in fetch_log)
    assert model.rows_fetched == sum(rows for _, _, rows in fetch_log)

    # Jumping around keeps memory bounded: at most kept_pages pages are held.
    for row in range(0, MANY, MANY // 40):
        view.scrollTo(model.index(row, 0))
        QApplication.processEvents()
    assert len(model._pages) <= model.kept_pages
    assert model.cached_rows <= model.kept_pages * PAGE_SIZE


def test_model_reads_pages_on_demand_and_forgets_the_oldest(many_invoices, fetch_log):
    model = InvoiceListModel(page_size=100, kept_pages=3)
    assert fetch_log == []  # counting reads no rows
    assert model.index(150, 0).data() == f"LX-{MANY - 150:07d}"
    assert fetch_log == [(100, 100, 100)]
    model.index(199, 2).data()  # same page: no read
    assert len(fetch_log) == 1
    for page in (5, 9, 12):
        model.index(page * 100, 0).data()
    assert sorted(model._pages) == [5, 9, 12] and model.rows_fetched == 400
    model.index(150, 0).data()  # forgotten, read again
    assert model.rows_fetched == 500


def test_pages_are_read_by_key_never_by_offset(many_invoices, store, statements):
    model = InvoiceListModel(page_size=100, kept_pages=3)
    rows = (0, 150, 9_999, 19_950, 19_999, 12_345, 12_500, 12_200)  # first, middle, last page, neighbours
    seen = [model.index(row, 0).data() for row in rows]
    assert seen == [f"LX-{MANY - row:07d}" for row in rows]
    on_invoices = [sql for sql in statements if "FROM invoice" in sql or 'FROM "invoice"' in sql]
    assert on_invoices and not [sql for sql in on_invoices if re.search(r"OFFSET\s+(?!0\b)", sql, re.IGNORECASE)]


@pytest.mark.parametrize("status_", [None, status.ACCEPTED, status.PENDING_UPLOAD])
def test_keyset_pages_match_offset_pages_with_gaps_and_filters(many_invoices, store, status_):
    # Ids with gaps (rows gone, as after a restore from an older backup): the ids are no longer dense.
    store.db.execute_sql("DELETE FROM invoice WHERE id IN (5, 777, 778, 15001, 19990)")
    model = InvoiceListModel(page_size=100, kept_pages=4)
    model.set_status(status_)
    count = model.rowCount()
    assert count == queries.count_invoices(status_)
    for row in (0, 99, 100, 5_555, count // 2, count - 150, count - 1, 3_000, 3_100, 2_900):
        if row >= count:
            continue
        page = row // 100 * 100
        expected = _by_offset(store, page, 100, status_)
        assert [model.index(r, 0).data() for r in range(page, min(page + 100, count))] == expected, row


def test_status_filter(qtbot, many_invoices, store):
    window = build_main_window(store)
    qtbot.addWidget(window)
    window.status_filter.setCurrentIndex(window.status_filter.findData(status.ACCEPTED))
    assert window.list_model.rowCount() == MANY // 10
    assert window.list_model.index(0, 0).data() == f"LX-{MANY:07d}"
    assert window.list_model.index(1, 0).data() == f"LX-{MANY - 10:07d}"
    assert window.list_model.index(0, 5).data() == "已上传"
    first = window.list_model.summary(0)
    assert first is not None and window.list_model.index(0, 1).data() == (first.official_number or "")
    assert window.count_label.text() == "共 2,000 张发票"
    window.status_filter.setCurrentIndex(window.status_filter.findData(status.PENDING_UPLOAD))
    assert window.list_model.rowCount() == MANY - MANY // 10
    window.status_filter.setCurrentIndex(0)
    assert window.list_model.rowCount() == MANY


def test_refresh_shows_an_invoice_issued_elsewhere(qtbot, store, seller):
    window = build_main_window(store)
    qtbot.addWidget(window)
    assert window.list_model.rowCount() == 0
    issue_invoice(invoice_body())  # e.g. by the command line or a second instance
    show_active(qtbot, window)
    qtbot.keyClick(window.list_view, Qt.Key.Key_F5)
    assert window.list_model.rowCount() == 1
    assert window.list_model.index(0, 3).data() == "北京客户贸易有限公司"


def test_double_click_opens_a_read_only_detail(qtbot, store, seller):
    issue_invoice(invoice_body(lines=[
        {"tax_code": SOFTWARE, "item_name": "软件开发", "spec": "V2", "unit": "项", "quantity": "1",
         "unit_price": "1005", "tax_rate": "0.06"}], remarks="合同A-7"))
    window = build_main_window(store)
    qtbot.addWidget(window)
    show_active(qtbot, window)
    view = window.list_view
    rect = view.visualRect(window.list_model.index(0, 3))
    # QTest's double click has no press before it; a view only opens what was pressed, as with a real mouse.
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    from app.ui.invoice_detail import InvoiceDetail

    detail = window.findChild(InvoiceDetail)
    assert detail is not None and detail.isVisible()
    text = detail.view.toPlainText()
    for expected in ("增值税普通发票", "LX-0000001", "北京客户贸易有限公司", "91110000600037341L",
                     "北京某某科技有限公司", "*信息技术服务*软件开发", "V2", "1,005.00", "60.30", "6%",
                     "1,065.30", "壹仟零陆拾伍圆叁角整", "预开单（非发票）", "合同A-7", "张三", "待上传"):
        assert expected in text, expected
    assert detail.view.isReadOnly()
    # The platform channel's record is no invoice, and says so above everything else.
    assert detail.banner.isVisible() and detail.banner.text().startswith("预开单（非发票）")
    assert detail.windowTitle().startswith("预开单详情")


def test_menus_and_hooks_for_later_features(qtbot, store, seller):
    window = build_main_window(store)
    qtbot.addWidget(window)
    titles = [a.text() for a in window.menuBar().actions()]
    # 基础资料: app.ui.catalog_actions; 打印: app.ui.print_actions. Each opens with Alt and its own letter.
    names = [re.sub(r"\(&\w\)$", "", title) for title in titles]
    expected = ["文件", "发票", "基础资料", "视图", "工具", "打印", "帮助"]
    assert [name for name in names if name in expected] == expected, titles
    letters = [re.search(r"\(&(\w)\)$", title) for title in titles]
    assert all(letters), titles
    assert len({m.group(1) for m in letters if m}) == len(titles), titles
    assert window.new_invoice_action in window.invoice_menu.actions()
    assert window.new_invoice_action.shortcut().toString() == "Ctrl+N"
    assert window.seller_action in window.tools_menu.actions()
    from PySide6.QtWidgets import QLabel
    indicator = QLabel("online")
    window.add_status_widget(indicator)
    assert indicator.parent() is not None
    show_active(qtbot, window)
    qtbot.keyClick(window.list_view, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert len(window.forms) == 1 and window.forms[0].isVisible()
    window.forms[0].close()


def test_english_on_request(qtbot, store, seller):
    from app.ui.i18n import set_language
    set_language("en")
    window = build_main_window(store)
    qtbot.addWidget(window)
    issue_invoice(invoice_body())
    window.refresh()
    model = window.list_model
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers == ["Number", "Official number", "Date", "Buyer", "Total with tax", "Status", "Kind",
                       "Buyer tax id", "Red/blue"]
    assert window.list_model.index(0, 5).data() == "pre-issue (not an invoice)"
    form = window.new_invoice()
    assert form is not None and form.windowTitle() == "New invoice"
    assert "buyer name: is required" in [form.messages.item(i).text() for i in range(form.messages.count())]
    form.dirty = False
    form.close()


def test_the_shipped_font_is_the_application_font(qapp):
    family = install_cjk_font(qapp)
    assert family == "WenQuanYi Micro Hei"
    assert qapp.font().family() == family
    from PySide6.QtGui import QFontMetrics
    # The font has the glyphs: Chinese text renders, it is not boxes.
    assert QFontMetrics(qapp.font()).inFontUcs4(ord("票"))


def test_invoices_issued_by_another_process_appear_without_f5(qtbot, store, seller, data_dir):
    from tests.helpers.cli import run_cli

    issue_invoice(invoice_body())
    window = build_main_window(store)
    qtbot.addWidget(window)
    window.select_number("LX-0000001")
    window.follow_timer.setInterval(100)
    result = run_cli(data_dir, "issue", "-", stdin=json.dumps(invoice_body(), ensure_ascii=False))
    assert result.returncode == 0, result.stderr
    qtbot.waitUntil(lambda: window.list_model.rowCount() == 2, timeout=10000)
    assert window.list_model.index(0, 0).data() == "LX-0000002"
    assert window.selected_number() == "LX-0000001"  # the clerk's selection stays where it was
    assert not window.follow_other_instances()  # nothing new: no reload


def test_following_other_instances_counts_nothing_while_nothing_changes(qtbot, store, seller, data_dir):
    """Every few seconds the window asks whether the store changed: two seeks, never a count of every row
    (at a million invoices a count stalls the window for a tenth of a second)."""
    from tests.helpers.cli import run_cli

    number = issue_invoice(invoice_body()).number
    window = build_main_window(store)
    qtbot.addWidget(window)
    window.status_filter.setCurrentIndex(window.status_filter.findData(status.PRE_ISSUE))
    seen: list[str] = []
    connection = store.db.connection()
    connection.set_trace_callback(seen.append)
    try:
        assert not window.follow_other_instances()
    finally:
        connection.set_trace_callback(None)
    assert seen and not any("count(" in sql.lower() for sql in seen), seen
    result = run_cli(data_dir, "cancel", number, "--reason", "开票有误")  # another process withdraws it
    assert result.returncode == 0, result.stderr
    assert window.follow_other_instances() and window.list_model.rowCount() == 0
