"""The 统计 window driven as a clerk drives it: opened from 发票 › 统计…, a month chosen, the figures counted
off the GUI thread, the table and the chart shown, the files saved; grabbed at 1366×768 for the eye."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableWidget

from app.core import clock
from app.reports import statistics as st
from app.ui.statistics_view import StatisticsActions, StatisticsView
from tests.helpers.bodies import BUYER_TAX_ID
from tests.statistics.support import BUYER_X

SHOTS = os.environ.get("FAPIAO_SHOTS")  # a folder to keep the grabs in, to look at them


@pytest.fixture(autouse=True)
def desk_app(qapp):
    """The app's font and language, as the UI tests have them (tests/ui/conftest.py)."""
    from app.ui.application import install_cjk_font
    from app.ui.i18n import set_language

    set_language("zh")
    install_cjk_font(qapp)
    yield qapp
    set_language("zh")


def cells(table: QTableWidget, row: int) -> list[str]:
    return [table.item(row, c).text() for c in range(table.columnCount())]  # type: ignore[union-attr]


def headers(table: QTableWidget) -> list[str]:
    return [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]  # type: ignore[union-attr]


def counted(qtbot, view: StatisticsView) -> None:
    qtbot.waitUntil(lambda: not view.tasks and view.run_button.isEnabled(), timeout=20000)


def grab(qtbot, view: StatisticsView, name: str, tmp_path: Path) -> Path:
    view.resize(1366, 768)
    qtbot.wait(100)  # the layout and the chart's scene settle
    folder = Path(SHOTS) if SHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    image = view.grab()
    assert image.width() == 1366 and image.height() == 768
    assert image.save(str(path))
    return path


def test_the_menu_opens_the_view_and_a_month_is_counted(qtbot, store, numbers, tmp_path):
    from app.ui.main_window import MainWindow

    window = MainWindow(store)
    qtbot.addWidget(window)
    actions = window.findChild(StatisticsActions, "statistics_actions")
    assert actions is not None and actions.action in window.invoice_menu.actions()
    assert actions.action.text() == "统计…" and actions.action.shortcut().toString() == "Ctrl+Shift+T"
    actions.action.trigger()  # opens the view, and counts this month at once
    view = actions.view
    assert view is not None and view.isVisible()
    counted(qtbot, view)
    assert view.stats is not None and view.stats.start == st.default_month(clock.today())  # the month to check

    view.choose_month(2026, 10)
    assert view.period() == (date(2026, 10, 1), date(2026, 10, 31))
    qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
    assert not view.run_button.isEnabled()  # counting in the background
    counted(qtbot, view)
    table = view.table
    assert headers(table)[:4] == ["发票种类", "蓝字\n张数", "蓝字\n金额", "蓝字\n税额"]
    assert headers(table)[-1] == "合计\n价税合计" and table.columnCount() == 14
    assert table.rowCount() == 3
    normal, special, total = cells(table, 0), cells(table, 1), cells(table, 2)
    assert normal[:4] == ["增值税普通发票（普票）", "3", "7,698.50", "860.81"]
    assert normal[4:7] == ["1", "-1,000.00", "-60.00"] and normal[7:10] == ["1", "1,000.00", "60.00"]
    assert special[:4] == ["增值税专用发票（专票）", "1", "2,000.00", "190.00"]
    assert total[0] == "总计" and total[-4:] == ["5", "8,698.50", "990.81", "9,689.31"]
    summary = view.summary.text()
    assert "预开单（非发票）：1 张" in summary and "月度汇总 202610（未确认）" in summary
    assert "与月度汇总口径一致" in summary
    assert view.message.text() == "统计完成：2026年10月"
    # The chart: one bar a day of October, the net with tax.
    heights = view.chart_values()
    assert view.axis_x.categories()[:2] == ["01", "02"] and view.axis_x.count() == 31
    assert len(heights) == 31 and heights[4] == pytest.approx(3250.00) and heights[11] == pytest.approx(5379.31)
    assert heights[30] == pytest.approx(1060.00) and heights[0] == 0
    assert view.chart.title() == "每日价税合计（蓝字+红字）"
    grab(qtbot, view, "statistics-month-kind.png", tmp_path)

    actions.action.trigger()  # the same view again, as it was
    assert actions.view is view and table.rowCount() == 3
    window.close()


def test_by_buyer_over_a_custom_period_and_the_files(qtbot, store, numbers, tmp_path):
    view = StatisticsView()
    qtbot.addWidget(view)
    view.show()
    view.choose_range(date(2026, 9, 1), date(2026, 11, 30))
    assert view.date_from.isVisible() and not view.month.isVisible()
    view.choose_grouping(st.BY_BUYER)
    view.start()
    counted(qtbot, view)
    assert headers(view.table)[:2] == ["购买方", "纳税人识别号"]
    first = cells(view.table, 0)
    assert first[:2] == [BUYER_X, BUYER_TAX_ID]
    assert cells(view.table, view.table.rowCount() - 1)[-4:] == ["7", "10,698.50", "1,110.81", "11,809.31"]
    assert view.stats is not None and view.stats.month is None
    assert "月度汇总" not in view.summary.text()
    # Three months: the chart goes by month.
    assert view.chart.title() == "每月价税合计（蓝字+红字）" and len(view.chart_values()) == 3
    assert view.axis_x.categories() == ["2026-09", "2026-10", "2026-11"] and len(view.chart.axes()) == 2
    grab(qtbot, view, "statistics-quarter-buyer.png", tmp_path)

    for kind in ("pdf", "xlsx", "csv"):
        task = view.save(kind, tmp_path / f"stats.{kind}")
        assert task is not None
        qtbot.waitUntil(lambda task=task: task.ended, timeout=30000)
        assert task.value == tmp_path / f"stats.{kind}" and (tmp_path / f"stats.{kind}").stat().st_size > 0
    assert view.message.text() == f"已保存 {tmp_path / 'stats.csv'}"
    sheet = load_workbook(tmp_path / "stats.xlsx")["统计"]
    assert sheet["A8"].value == BUYER_X and sheet["B8"].value == BUYER_TAX_ID
    assert (tmp_path / "stats.pdf").read_bytes().startswith(b"%PDF")


def test_a_period_that_ends_before_it_starts_is_told(qtbot, store, seller):
    view = StatisticsView()
    qtbot.addWidget(view)
    view.choose_range(date(2026, 10, 31), date(2026, 10, 1))
    view.start()
    counted(qtbot, view)
    assert view.message.text().startswith("统计失败：") and "早于开始日期" in view.message.text()
    assert view.stats is None and not view.pdf_button.isEnabled()
