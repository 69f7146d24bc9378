"""The app's way in and out: 批量开票 (one bad row shown, then a good file issued) and 导出发票列表."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook  # type: ignore[import-untyped]
from PySide6.QtCore import Qt

from app.core.status import PRE_ISSUE
from app.store.models import Invoice
from tests.excel.workbooks import good_rows, write_batch

SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"


def shot(widget, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    assert widget.grab().save(str(path))
    return path


def _menu_texts(window) -> list[str]:
    return [action.text() for action in window.invoice_menu.actions()]


def test_batch_dialog_shows_the_bad_row_then_issues_a_good_file(qtbot, window, tmp_path):
    assert {"批量开票…", "保存批量开票模板…", "导出发票列表…"} <= set(_menu_texts(window))
    window.excel_actions.batch_action.trigger()
    dialog = window.excel_actions.batch_dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(dialog.isActiveWindow)

    headers, lines = good_rows()
    lines[1]["税率"] = "17%"  # sheet 2, row 3
    task = dialog.load_file(write_batch(tmp_path / "bad.xlsx", headers, lines))
    assert task is not None and not dialog.issue_button.isEnabled()  # off the GUI thread
    qtbot.waitUntil(lambda: task.ended, timeout=20000)
    errors = dialog.error_texts()
    assert dialog.errors.isVisible() and len(errors) == 1
    assert errors[0].startswith("工作表“2-发票明细信息”第3行“税率”列（sheet 2-发票明细信息 row 3 column 税率）：")
    assert "1 处错误" in dialog.message.text()
    assert not dialog.issue_button.isEnabled() and dialog.preview.rowCount() == 0
    shot(dialog, "batch_issue_errors")

    task = dialog.load_file(write_batch(tmp_path / "good.xlsx", *good_rows()))
    assert task is not None
    qtbot.waitUntil(lambda: task.ended, timeout=20000)
    assert not dialog.errors.isVisible()
    rows = dialog.preview_rows()
    assert [r[0] for r in rows] == ["A001", "A002", "A003"]
    assert rows[1][2] == "北京客户贸易有限公司" and rows[1][4] == "2" and rows[1][7] == "6,979.31"
    assert "共 3 张发票、4 行" in dialog.summary.text()
    assert dialog.issue_button.isEnabled()
    dialog.preview.selectRow(1)  # the lines of the invoice under the cursor, with their rows in sheet 2
    shown = [[dialog.lines_table.item(r, c).text() for c in range(6)] for r in range(dialog.lines_table.rowCount())]
    assert shown == [["3", "激光打印机", "3", "1899.5", "5,698.50", "13%"],
                     ["4", "有机白菜", "12", "45", "540.00", "免税"]]
    assert Invoice.select().count() == 0  # seen before issued
    shot(dialog, "batch_issue_preview")

    qtbot.mouseClick(dialog.issue_button, Qt.MouseButton.LeftButton)
    task = dialog.task
    assert task is not None
    qtbot.waitUntil(lambda: task.ended, timeout=20000)
    assert Invoice.select().count() == 3
    assert dialog.message.text() == "已开具 3 张（LX-0000001 至 LX-0000003）"
    assert not dialog.issue_button.isEnabled()  # not twice
    assert window.list_model.rowCount() == 3 and window.selected_number() == "LX-0000003"
    shot(dialog, "batch_issue_done")


def test_template_from_the_dialog(qtbot, window, tmp_path):
    dialog = window.excel_actions.open_batch()
    task = dialog.save_template(tmp_path / "模板.xlsx")
    assert task is not None
    qtbot.waitUntil(lambda: task.ended, timeout=20000)
    assert "模板已保存" in dialog.message.text()
    assert load_workbook(tmp_path / "模板.xlsx").sheetnames[:2] == ["1-发票基本信息", "2-发票明细信息"]


def test_list_export_takes_the_list_filter(qtbot, window, tmp_path):
    from app.services.issuing import issue_invoices
    from tests.helpers.bodies import invoice_body

    issue_invoices([invoice_body(), invoice_body(remarks="=1+1")], clerk="张三")
    window.refresh()
    window.status_filter.setCurrentIndex(window.status_filter.findData(PRE_ISSUE))
    window.excel_actions.export_action.trigger()
    dialog = window.excel_actions.export_dialog
    assert dialog is not None and dialog.status.currentData() == PRE_ISSUE
    dialog.lines.setChecked(True)
    shot(dialog, "list_export_dialog")
    task = dialog.export(tmp_path / "list.xlsx")
    assert task is not None and not dialog.export_button.isEnabled()
    qtbot.waitUntil(lambda: task.ended, timeout=20000)
    assert dialog.message.text() == f"已导出 2 张发票到 {tmp_path / 'list.xlsx'}（2 行明细）"
    book = load_workbook(tmp_path / "list.xlsx")
    assert len(list(book["发票列表"].iter_rows())) == 3 and len(list(book["发票明细"].iter_rows())) == 3
    assert book["发票列表"]["L2"].value == "'=1+1"

    dialog.use_to.setChecked(True)
    dialog.date_to.setDate(dialog.date_to.date().addDays(-400))
    task = dialog.export(tmp_path / "none.csv")
    assert task is not None
    qtbot.waitUntil(lambda: task.ended, timeout=20000)
    assert dialog.message.text().startswith("已导出 0 张发票")
