"""The invoice form driven like a clerk: real widgets, real store, the same issue service as the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QMessageBox

from app.core import status
from app.store.models import AuditEntry, Buyer, Invoice, InvoiceLine, UploadQueueEntry
from app.ui.line_table import KEYS
from app.ui.marking import is_marked
from tests.helpers.bodies import BUYER_TAX_ID, SOFTWARE
from tests.ui.form_helpers import answer_confirmation, fill_valid, messages, type_cell

BAD_CHECK_ID = BUYER_TAX_ID[:-1] + "X"  # right form, wrong check character (it should be L)


def test_empty_form_cannot_be_issued_and_says_why(form):
    assert not form.issue_button.isEnabled()
    assert any("购买方名称" in m for m in messages(form))
    assert form.people["drawer"].text() == "张三"  # from the seller profile
    assert form.issue() is None and Invoice.select().count() == 0


def test_bad_tax_id_is_flagged_and_blocks_issuing_until_fixed(qtbot, form):
    fill_valid(qtbot, form, tax_id="9111000060003734")  # 16 characters: neither a code nor an old id
    assert is_marked(form.buyer["tax_id"])
    assert "18位" in form.buyer["tax_id"].toolTip()
    assert any(m.startswith("购买方纳税人识别号") for m in messages(form))
    assert not form.issue_button.isEnabled()
    assert not form.confirm_tax_id.isVisible()  # a form error is not overridable

    qtbot.keyClicks(form.buyer["tax_id"], "1L")
    assert form.buyer["tax_id"].text() == BUYER_TAX_ID
    assert not is_marked(form.buyer["tax_id"])
    assert form.issue_button.isEnabled()
    assert messages(form) == []


def test_issued_invoice_is_in_the_list_and_the_store_with_lines_audit_and_queue(qtbot, window, form):
    fill_valid(qtbot, form)
    type_cell(qtbot, form, 0, "spec", "v2")
    form.remarks.setText("合同 2026-001")
    qtbot.keyClicks(form.remarks, " ok")
    asked = answer_confirmation(qtbot)  # issuing asks once; Enter confirms
    qtbot.mouseClick(form.issue_button, Qt.MouseButton.LeftButton)
    assert asked and "价税合计" in asked[0]

    assert not form.isVisible()
    row = Invoice.get()
    assert row.provisional_number == "LX-0000001" and row.status == status.PRE_ISSUE  # platform channel
    assert row.buyer_name == "ACME Trading Co" and row.buyer_tax_id == BUYER_TAX_ID
    assert row.total_amount == Decimal("1000.00") and row.total_tax == Decimal("60.00")
    assert row.remarks == "合同 2026-001 ok" and row.drawer == "张三"
    lines = list(InvoiceLine.select().where(InvoiceLine.invoice == row))
    assert [(i.name, i.tax_code, i.item_name, i.spec, i.unit, i.quantity, i.unit_price, i.tax_rate, i.amount, i.tax)
            for i in lines] == [
        ("*信息技术服务*Software development", SOFTWARE, "Software development", "v2", "set", Decimal("2"),
         Decimal("500"), "0.06", Decimal("1000.00"), Decimal("60.00"))]
    assert row.kind == "normal" and row.medium == "electronic"
    audit = AuditEntry.get(AuditEntry.invoice == row)
    assert audit.action == "issued" and audit.clerk == "张三"
    assert UploadQueueEntry.get(UploadQueueEntry.invoice == row).state == status.Q_PENDING
    assert Buyer.get().name == "ACME Trading Co"

    assert window.list_model.rowCount() == 1
    assert window.list_model.index(0, 0).data() == "LX-0000001"
    assert window.list_model.index(0, 4).data() == "1,060.00"
    assert window.selected_number() == "LX-0000001"
    assert "LX-0000001" in window.statusBar().currentMessage()


def test_failed_check_character_needs_the_clerks_confirmation_which_is_recorded(qtbot, form):
    fill_valid(qtbot, form, tax_id=BAD_CHECK_ID)
    assert is_marked(form.buyer["tax_id"]) and "应为 L" in form.buyer["tax_id"].toolTip()
    assert form.confirm_tax_id.isVisible() and not form.confirm_tax_id.isChecked()
    assert not form.issue_button.isEnabled()

    qtbot.mouseClick(form.confirm_tax_id, Qt.MouseButton.LeftButton, pos=form.confirm_tax_id.rect().center())
    assert form.confirm_tax_id.isChecked()
    assert not is_marked(form.buyer["tax_id"]) and form.issue_button.isEnabled()

    # Changing the id withdraws the confirmation: it was for that id only.
    qtbot.keyClick(form.buyer["tax_id"], Qt.Key.Key_Backspace)
    qtbot.keyClicks(form.buyer["tax_id"], "Y")
    assert not form.confirm_tax_id.isChecked() and not form.issue_button.isEnabled()
    qtbot.keyClick(form.buyer["tax_id"], Qt.Key.Key_Backspace)
    qtbot.keyClicks(form.buyer["tax_id"], "X")
    form.confirm_tax_id.setChecked(True)

    issued = form.issue()
    assert issued is not None
    row = Invoice.get(Invoice.provisional_number == issued.number)
    assert row.confirmed_tax_ids == BAD_CHECK_ID
    detail = json.loads(AuditEntry.get(AuditEntry.invoice == row).detail)
    assert detail["confirmed_tax_ids"] == [BAD_CHECK_ID]


def test_a_special_invoice_needs_the_buyers_tax_id_only(qtbot, form):
    fill_valid(qtbot, form)
    form.buyer["tax_id"].clear()
    qtbot.keyClicks(form.buyer["tax_id"], "9")
    qtbot.keyClick(form.buyer["tax_id"], Qt.Key.Key_Backspace)
    assert form.issue_button.isEnabled()  # a 普票 goes without it
    assert [form.kind.itemText(i) for i in range(form.kind.count())] == ["数电普票", "数电专票"]
    form.kind.setCurrentIndex(form.kind.findData("special"))
    assert not form.issue_button.isEnabled()
    assert is_marked(form.buyer["tax_id"]) and form.buyer["tax_id"].toolTip() == "不能为空"
    for key in ("address", "phone", "bank", "account"):  # no longer required on a 数电专票
        assert not is_marked(form.buyer[key]), key
    qtbot.keyClicks(form.buyer["tax_id"], BUYER_TAX_ID)
    assert not is_marked(form.buyer["tax_id"]) and form.issue_button.isEnabled()
    form.medium.setCurrentIndex(form.medium.findData("paper"))
    issued = form.issue()
    assert issued is not None
    row = Invoice.get(Invoice.provisional_number == issued.number)
    assert (row.kind, row.medium) == ("special", "paper")


def test_totals_tax_and_capitals_follow_every_keystroke(qtbot, form):
    type_cell(qtbot, form, 0, "item_name", "Paper")
    type_cell(qtbot, form, 0, "quantity", "3")
    type_cell(qtbot, form, 0, "unit_price", "113")
    type_cell(qtbot, form, 0, "tax_rate", "0.13")
    # Shown although the buyer is still missing: the clerk sees the money while typing.
    assert form.lines.index(0, KEYS.index("amount")).data() == "339.00"
    assert form.total_label.text() == "¥383.07"
    assert form.capitals_label.text() == "叁佰捌拾叁圆零柒分"

    qtbot.mouseClick(form.prices_include_tax, Qt.MouseButton.LeftButton, pos=form.prices_include_tax.rect().center())
    assert form.prices_include_tax.isChecked()
    assert form.lines.index(0, KEYS.index("amount")).data() == "300.00"
    assert form.lines.index(0, KEYS.index("tax")).data() == "39.00"
    assert form.total_label.text() == "¥339.00"
    assert form.total_tax_label.text() == "¥39.00"
    assert form.capitals_label.text() == "叁佰叁拾玖圆整"

    form.lines.add_line()
    type_cell(qtbot, form, 1, "item_name", "Service")
    type_cell(qtbot, form, 1, "quantity", "1")
    type_cell(qtbot, form, 1, "unit_price", "1005")
    assert form.total_label.text() == "¥1,344.00"
    assert form.capitals_label.text() == "壹仟叁佰肆拾肆圆整"


def test_line_errors_are_marked_on_their_cells(qtbot, form):
    fill_valid(qtbot, form)
    type_cell(qtbot, form, 0, "quantity", "-2")
    cell = form.lines.index(0, KEYS.index("quantity"))
    assert "不能为负数" in cell.data(Qt.ItemDataRole.ToolTipRole)
    assert cell.data(Qt.ItemDataRole.BackgroundRole) is not None
    assert not form.issue_button.isEnabled()
    assert any(m.startswith("第1行数量") for m in messages(form))
    type_cell(qtbot, form, 0, "quantity", "2")
    assert cell.data(Qt.ItemDataRole.ToolTipRole) is None and form.issue_button.isEnabled()


def test_enter_adds_a_line_and_blank_lines_are_left_out(qtbot, form):
    fill_valid(qtbot, form)  # its last Enter ended typing the rate of line 1
    view = form.line_view
    # That Enter went on to a new line, taking the rate of the one above; it stays out of the
    # invoice while blank, so the invoice is still valid.
    assert form.lines.rowCount() == 2 and view.currentIndex() == form.lines.index(1, 0)
    assert form.lines.rows[1]["tax_rate"] == "0.06"
    assert form.issue_button.isEnabled()
    view.setFocus()
    view.edit(view.currentIndex())
    qtbot.waitUntil(lambda: view.state() == QAbstractItemView.State.EditingState)
    editor = view.indexWidget(form.lines.index(1, 0))
    qtbot.keyClicks(editor, "Hosting")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: view.state() != QAbstractItemView.State.EditingState)
    assert view.currentIndex() == form.lines.index(1, KEYS.index("tax_code"))  # Enter goes on to the next cell
    assert not form.issue_button.isEnabled()  # the new line has a name but no code, quantity or price
    assert any(m.startswith("第2行税收分类编码") for m in messages(form))
    type_cell(qtbot, form, 1, "tax_code", SOFTWARE)
    assert view.currentIndex() == form.lines.index(1, KEYS.index("spec"))
    type_cell(qtbot, form, 1, "quantity", "1")
    type_cell(qtbot, form, 1, "unit_price", "100")
    # Enter on a cell not being edited goes on along the line as after typing (an empty optional cell is
    # skipped, not turned into a new line); from the rate of the last line it adds a line. A blank third line
    # is not part of the invoice.
    view.setCurrentIndex(form.lines.index(1, KEYS.index("spec")))
    qtbot.keyClick(view, Qt.Key.Key_Return)
    assert view.currentIndex() == form.lines.index(1, KEYS.index("unit")) and form.lines.rowCount() == 2
    view.setCurrentIndex(form.lines.index(1, KEYS.index("tax_rate")))
    qtbot.keyClick(view, Qt.Key.Key_Return)
    assert form.lines.rowCount() == 3
    qtbot.waitUntil(lambda: view.state() == QAbstractItemView.State.EditingState)
    assert form.issue_button.isEnabled()
    answer_confirmation(qtbot)
    qtbot.keyClick(form, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # Ctrl+Enter issues
    assert InvoiceLine.select().count() == 2
    assert Invoice.get().total_with_tax == Decimal("1166.00")


def test_remove_line(qtbot, form):
    fill_valid(qtbot, form)  # Enter on the rate added line 2
    type_cell(qtbot, form, 1, "item_name", "Broken")
    type_cell(qtbot, form, 1, "quantity", "x")
    assert not form.issue_button.isEnabled()
    form.line_view.setCurrentIndex(form.lines.index(1, 0))
    qtbot.mouseClick(form.remove_line_button, Qt.MouseButton.LeftButton)
    assert form.lines.rowCount() == 1 and form.issue_button.isEnabled()


def test_picking_a_buyer_from_the_directory_fills_the_block(qtbot, window, seller):
    from app.services.issuing import issue_invoice
    from tests.helpers.bodies import invoice_body

    issue_invoice(invoice_body(buyer={"name": "Beijing Customer Ltd", "tax_id": BUYER_TAX_ID,
                                      "address": "Haidian 1", "phone": "010-1", "bank": "BOC", "account": "123"}))
    form = window.new_invoice()
    qtbot.keyClicks(form.buyer["name"], "Beij")
    assert [e.inserted for e in form.buyer_completer.entries] == ["Beijing Customer Ltd"]
    popup = form.buyer_completer.popup()
    qtbot.waitUntil(popup.isVisible)
    qtbot.keyClick(popup, Qt.Key.Key_Down)
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    assert form.buyer["name"].text() == "Beijing Customer Ltd"
    assert [form.buyer[k].text() for k in ("tax_id", "address", "phone", "bank", "account")] == [
        BUYER_TAX_ID, "Haidian 1", "010-1", "BOC", "123"]
    # by taxpayer id as well
    form.buyer["name"].clear()
    qtbot.keyClicks(form.buyer["name"], "911100006")
    assert [e.inserted for e in form.buyer_completer.entries] == ["Beijing Customer Ltd"]
    # and by pinyin initials of a Chinese name
    issue_invoice(invoice_body(buyer={"name": "北京客户贸易有限公司", "tax_id": BUYER_TAX_ID}))
    form.buyer["name"].clear()
    qtbot.keyClicks(form.buyer["name"], "bjkh")
    assert [e.inserted for e in form.buyer_completer.entries] == ["北京客户贸易有限公司"]
    form.dirty = False


def answering(asked: list[str], answer: QMessageBox.StandardButton) -> Callable[..., QMessageBox.StandardButton]:
    """A stand-in for QMessageBox.question that notes the title it was asked with and gives answer."""
    def question(*args: object, **kwargs: object) -> QMessageBox.StandardButton:
        asked.append(str(args[1]))
        return answer

    return question


def test_closing_an_untouched_form_does_not_ask(qtbot, form, monkeypatch):
    asked: list[str] = []
    monkeypatch.setattr(QMessageBox, "question", answering(asked, QMessageBox.StandardButton.Cancel))
    form.close()
    assert not form.isVisible() and asked == []


def test_closing_a_typed_form_asks_and_cancel_keeps_it(qtbot, window, monkeypatch):
    asked: list[str] = []
    form = window.new_invoice()
    qtbot.keyClicks(form.buyer["name"], "ACME")
    monkeypatch.setattr(QMessageBox, "question", answering(asked, QMessageBox.StandardButton.Cancel))
    form.close()
    assert form.isVisible() and len(asked) == 1 and "放弃" in asked[0]
    qtbot.keyClick(form, Qt.Key.Key_Escape)  # Esc asks too
    assert form.isVisible() and len(asked) == 2
    monkeypatch.setattr(QMessageBox, "question", answering(asked, QMessageBox.StandardButton.Discard))
    form.close()
    assert not form.isVisible() and len(asked) == 3
    assert Invoice.select().count() == 0


def test_ctrl_n_in_the_form_starts_over_after_asking(qtbot, form, monkeypatch):
    qtbot.keyClicks(form.buyer["name"], "ACME")
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    qtbot.keyClick(form, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert form.buyer["name"].text() == "" and not form.dirty
    assert form.lines.rowCount() == 1


def test_tab_order_walks_the_form_top_to_bottom(qtbot, form):
    form.activateWindow()
    form.kind.setFocus()
    qtbot.waitUntil(lambda: form.kind.hasFocus())
    # the hidden confirmations and the disabled issue button are skipped
    expected = [w for w in form.tab_order if w.isVisible() and w.isEnabled()]
    assert form.confirm_tax_id not in expected and form.confirm_short_name not in expected
    visited = [form.focusWidget()]
    for _ in range(len(expected) - 1):
        form.focusNextChild()
        visited.append(form.focusWidget())
    assert [w.objectName() or w.text() for w in visited] == [w.objectName() or w.text()
                                                             for w in expected[:len(visited)]]


def test_a_refusal_by_the_service_is_shown_and_nothing_is_stored(qtbot, form):
    """The offline single-invoice limit is checked by the issue service under its write lock."""
    fill_valid(qtbot, form)
    type_cell(qtbot, form, 0, "unit_price", "200000")
    assert form.issue_button.isEnabled()  # the draft itself is valid
    # Ctrl+S asks first: Esc goes back to the form, nothing issued.
    answer_confirmation(qtbot, Qt.Key.Key_Escape)
    qtbot.keyClick(form, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert form.isVisible() and Invoice.select().count() == 0 and form.issue_button.isEnabled()
    form.activateWindow()
    qtbot.waitUntil(form.isActiveWindow)
    asked = answer_confirmation(qtbot)
    qtbot.keyClick(form, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)  # Ctrl+S issues as well, confirmed
    assert asked, "no confirmation was asked"
    assert form.isVisible() and Invoice.select().count() == 0 and UploadQueueEntry.select().count() == 0
    assert any("单张发票开票限额" in m for m in messages(form))
    # The limit checks the total excluding tax: that figure is marked, not 价税合计.
    assert is_marked(form.total_amount_label) and not is_marked(form.total_label)
    assert not form.issue_button.isEnabled()
    type_cell(qtbot, form, 0, "unit_price", "2000")
    assert form.issue_button.isEnabled()
    answer_confirmation(qtbot)
    qtbot.keyClick(form, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert not form.isVisible() and Invoice.get().total_amount == Decimal("4000.00")


def test_a_discount_line_reduces_the_line_above(qtbot, form):
    fill_valid(qtbot, form)  # 2 × 500 at 6%: 1,000.00 + 60.00
    view = form.line_view
    view.setCurrentIndex(form.lines.index(0, 0))
    qtbot.mouseClick(form.discount_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.state() == QAbstractItemView.State.EditingState)
    assert form.lines.is_discount(1) and view.currentIndex() == form.lines.index(1, KEYS.index("amount"))
    editor = view.indexWidget(view.currentIndex())
    qtbot.keyClicks(editor, "1200")  # more than the line: refused on the discount's amount cell
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: view.state() != QAbstractItemView.State.EditingState)
    assert not form.issue_button.isEnabled()
    assert form.lines.index(1, KEYS.index("amount")).data(Qt.ItemDataRole.ToolTipRole)
    form.lines.setData(form.lines.index(1, KEYS.index("amount")), "100")
    assert form.issue_button.isEnabled()
    assert form.lines.index(1, KEYS.index("amount")).data() == "-100.00"
    assert form.lines.index(1, KEYS.index("tax")).data() == "-6.00"
    assert form.lines.index(1, 0).data() == "折扣（*信息技术服务*Software development）"
    assert form.lines.index(1, KEYS.index("tax_code")).data() == SOFTWARE
    assert form.total_label.text() == "¥954.00"
    assert form.capitals_label.text() == "玖佰伍拾肆圆整"
    issued = form.issue()
    assert issued is not None and issued.invoice.total_with_tax == Decimal("954.00")
    lines = list(InvoiceLine.select().order_by(InvoiceLine.position))
    assert [(i.discount, i.nature, i.name, i.tax_code, i.amount, i.tax) for i in lines] == [
        (False, "discounted", "*信息技术服务*Software development", SOFTWARE, Decimal("1000.00"), Decimal("60.00")),
        (True, "discount", "*信息技术服务*Software development", SOFTWARE, Decimal("-100.00"), Decimal("-6.00"))]


def test_removing_a_line_takes_its_discount_with_it(qtbot, form):
    fill_valid(qtbot, form)
    form.lines.add_discount(0)
    form.lines.setData(form.lines.index(1, KEYS.index("amount")), "50")
    assert form.issue_button.isEnabled() and form.lines.rowCount() == 3
    form.line_view.setCurrentIndex(form.lines.index(0, 0))
    qtbot.mouseClick(form.remove_line_button, Qt.MouseButton.LeftButton)
    assert not any(form.lines.is_discount(r) for r in range(form.lines.rowCount()))
