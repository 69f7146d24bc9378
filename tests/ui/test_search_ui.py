"""The list's search box, filters and sorts driven as a clerk does (issue 15), on a real store."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]
from PySide6.QtCore import Qt

from app.core import status
from app.services.issuing import issue_invoice
from app.services.lifecycle import cancel_invoice
from app.ui.invoice_list_model import BUYER, KIND, RED, TAX_ID, TOTAL
from app.ui.marking import is_marked
from tests.helpers.bodies import BUYER_TAX_ID, PRINTER, SOFTWARE, invoice_body

SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"


@pytest.fixture
def stocked(window):
    """Nine invoices: ACME buys software, 北京客户 buys printers, three of each amount; one cancelled."""
    numbers = []
    for i in range(9):
        acme = i % 3 == 0
        line = ({"tax_code": SOFTWARE, "item_name": "软件开发", "tax_rate": "0.06"} if acme
                else {"tax_code": PRINTER, "item_name": "激光打印机", "tax_rate": "0.13"})
        body = invoice_body(buyer={"name": "ACME Trading Co" if acme else "北京客户贸易有限公司",
                                   "tax_id": BUYER_TAX_ID},
                            lines=[{**line, "unit": "台", "quantity": "1", "unit_price": str(100 * (i + 1))}],
                            remarks=f"PO-{i:03d}")
        numbers.append(issue_invoice(body).number)
    cancel_invoice(numbers[1], "开票有误")
    window.refresh()
    return numbers


def _shown(window) -> list[str]:
    model = window.list_model
    while model.canFetchMore():
        model.fetchMore()
    return [model.summary(row).number for row in range(model.rowCount())]


def test_typing_in_the_search_box_finds_as_the_clerk_pauses(qtbot, window, stocked):
    box = window.filter_bar.search
    qtbot.keyClicks(box, "acme")
    qtbot.waitUntil(lambda: window.list_model.searching, timeout=3000)
    assert _shown(window) == [stocked[6], stocked[3], stocked[0]]
    assert window.count_label.text() == "找到 3 张发票"
    box.setText("打印机")  # Chinese through setText: keyClicks cannot type it
    qtbot.waitUntil(lambda: len(_shown(window)) == 6, timeout=3000)
    box.setText("打印")  # two characters: the item names
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert len(_shown(window)) == 6
    box.setText("PO-00")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert len(_shown(window)) == 9 and window.list_model.index(0, TAX_ID).data() == BUYER_TAX_ID
    box.clear()
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert not window.list_model.searching and window.count_label.text() == "共 9 张发票"


def test_filters_narrow_and_clear(qtbot, window, stocked):
    bar = window.filter_bar
    bar.status.setCurrentIndex(bar.status.findData(status.CANCELLED))
    assert _shown(window) == [stocked[1]]
    bar.upload.setCurrentIndex(bar.upload.findData("waiting"))
    assert _shown(window) == []
    qtbot.mouseClick(bar.clear_button, Qt.MouseButton.LeftButton)
    assert len(_shown(window)) == 9 and bar.status.currentIndex() == 0
    qtbot.mouseClick(bar.more_button, Qt.MouseButton.LeftButton)
    assert bar.more.isVisible()
    qtbot.keyClicks(bar.min_total, "500")
    qtbot.keyClick(bar.min_total, Qt.Key.Key_Return)
    assert len(_shown(window)) == 5  # 500 .. 900 before tax: every total with tax is above 500
    bar.red.setCurrentIndex(bar.red.findData(True))
    assert _shown(window) == []
    bar.red.setCurrentIndex(bar.red.findData(False))
    assert len(_shown(window)) == 5 and window.list_model.index(0, RED).data() == "蓝字"
    assert window.list_model.index(0, KIND).data() == "普票"
    SHOTS.mkdir(parents=True, exist_ok=True)
    window.resize(1366, 768)
    assert window.grab().save(str(SHOTS / "list_filters_1366.png"))


def test_a_bad_amount_is_named_and_the_list_stays(qtbot, window, stocked):
    bar = window.filter_bar
    bar.more_button.setChecked(True)
    qtbot.keyClicks(bar.max_total, "12x")
    qtbot.keyClick(bar.max_total, Qt.Key.Key_Return)
    assert is_marked(bar.max_total) and "最高金额" in bar.max_total.toolTip()
    assert "最高金额" in window.statusBar().currentMessage()
    assert len(_shown(window)) == 9
    bar.max_total.setText("100")
    bar.min_total.setText("900")
    bar.apply()
    assert is_marked(bar.max_total) and "最高金额小于最低金额" in bar.max_total.toolTip()
    bar.min_total.clear()
    bar.apply()
    assert not is_marked(bar.max_total) and len(_shown(window)) == 0  # every total with tax is above 100


def test_a_header_click_sorts_and_the_search_keeps_the_order(qtbot, window, stocked):
    header = window.list_view.horizontalHeader()
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                     pos=header.viewport().rect().topLeft() + _section_point(header, TOTAL))
    model = window.list_model
    totals = [model.summary(row).total_with_tax for row in range(model.rowCount())]
    descending = header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    assert model.query.sort == "total_with_tax" and model.query.descending == descending
    assert totals == sorted(totals, reverse=descending)
    header.setSortIndicator(BUYER, Qt.SortOrder.AscendingOrder)
    names = [model.summary(row).buyer_name for row in range(model.rowCount())]
    assert names == sorted(names) and model.query.sort == "buyer_name"
    window.filter_bar.search.setText("打印机")
    window.filter_bar.apply()
    assert model.query.sort == "buyer_name" and not model.query.descending and len(_shown(window)) == 6


def _section_point(header, column):
    from PySide6.QtCore import QPoint

    return QPoint(header.sectionViewportPosition(column) + header.sectionSize(column) // 2, header.height() // 2)


def test_the_export_takes_the_search(qtbot, window, stocked, tmp_path):
    window.filter_bar.search.setText("ACME")
    window.filter_bar.apply()
    window.excel_actions.export_action.trigger()
    dialog = window.excel_actions.export_dialog
    assert dialog.findChild(type(window.count_label), "export_kept_query") is not None
    task = dialog.export(tmp_path / "acme.xlsx")
    qtbot.waitUntil(lambda: task.ended, timeout=20000)
    sheet = load_workbook(tmp_path / "acme.xlsx")["发票列表"]
    assert [row[0].value for row in sheet.iter_rows(min_row=2)] == [stocked[6], stocked[3], stocked[0]]


def test_another_instance_s_invoice_appears_in_a_search(qtbot, window, stocked):
    window.filter_bar.search.setText("ACME")
    window.filter_bar.apply()
    assert not window.follow_other_instances()
    issued = issue_invoice(invoice_body(buyer={"name": "ACME Trading Co", "tax_id": BUYER_TAX_ID})).number
    assert window.follow_other_instances() and _shown(window)[0] == issued


def test_a_word_too_long_marks_the_search_box(qtbot, window, stocked):
    bar = window.filter_bar
    bar.search.setText("长" * 101)
    assert bar.apply() is None
    assert is_marked(bar.search) and bar.search.toolTip().startswith("搜索：搜索词太长")
    assert len(_shown(window)) == 9
    bar.search.setText("长")
    assert bar.apply() is not None and not is_marked(bar.search) and _shown(window) == []
