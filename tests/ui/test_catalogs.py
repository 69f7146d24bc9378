"""The 数电 form with the catalogs, driven like a clerk: an item found by its pinyin initials, a code found
by initials, words or digits, the rates a code allows, the buyer's short-name prompt and the natural
person; and the catalog windows (项目信息, 客户信息, 税收分类编码) with the refresh from the platform.

Screenshots of what the clerk sees go to build/screenshots (or $DESK_SHOTS)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemDelegate, QAbstractItemView, QComboBox, QLineEdit, QMessageBox

from app.platform.tax_codes import PlatformTaxCodes
from app.services.customers import create_customer
from app.services.items import create_item
from app.services.settings import set_platform
from app.store import queries
from app.store.catalog_queries import complete_customers, get_item, list_customers, list_items
from app.ui.catalog_views import STATE, CustomerEditor, ItemEditor
from app.ui.completion import LookupCompleter
from app.ui.invoice_form import InvoiceForm
from app.ui.line_table import ITEM_NAME, KEYS, QUANTITY, TAX_CODE, TAX_RATE
from app.ui.marking import is_marked
from tests.catalogs.helpers import write_xlsx
from tests.helpers.bodies import BUYER_TAX_ID, CABBAGE, PRINTER, SOFTWARE
from tests.taxcodes.tables import NEW_VERSION, WITHDRAWN_CODE, write_newer_table
from tests.ui.form_helpers import messages, reactivate, set_typed, shot, type_cell

EDITING = QAbstractItemView.State.EditingState
ID_NUMBER = "110101199003077777"


def pick_in_popup(qtbot, completer: LookupCompleter, position: int = 0) -> None:
    """Down to the entry and Enter, in the completer's popup, as a clerk picks."""
    popup = completer.popup()
    assert popup is not None
    qtbot.waitUntil(popup.isVisible)
    for _ in range(position + 1):
        qtbot.keyClick(popup, Qt.Key.Key_Down)
    qtbot.keyClick(popup, Qt.Key.Key_Return)


def open_cell(qtbot, form: InvoiceForm, row: int, column: int, first_key: Qt.Key | None = None) -> QLineEdit:
    """The cell's editor, opened by typing its first key (as a clerk starts typing) or by F2."""
    view = form.line_view
    index = form.lines.index(row, column)
    view.setCurrentIndex(index)
    view.setFocus()
    if first_key is not None:
        qtbot.keyClick(view, first_key)
    else:
        view.edit(index)
    qtbot.waitUntil(lambda: view.state() == EDITING)
    editor = view.indexWidget(index)
    assert isinstance(editor, QLineEdit)
    return editor


def end_edit(qtbot, form: InvoiceForm, editor: QLineEdit, key: Qt.Key = Qt.Key.Key_Return) -> None:
    qtbot.keyClick(editor, key)
    qtbot.waitUntil(lambda: form.line_view.state() != EDITING)
    reactivate(qtbot, form)


def a_buyer(qtbot, form: InvoiceForm) -> None:
    set_typed(form.buyer["name"], "北京客户贸易有限公司")
    qtbot.keyClicks(form.buyer["tax_id"], BUYER_TAX_ID)


# --- the line: items and codes ---------------------------------------------------------------------

def test_an_item_found_by_its_pinyin_initials_fills_the_line_and_is_issued(qtbot, form):
    item = create_item({"item_name": "软件开发", "tax_code": SOFTWARE, "spec": "V2", "unit": "项",
                        "unit_price": "1000"})
    create_item({"item_name": "激光打印机", "tax_code": PRINTER, "unit": "台", "unit_price": "1899.5"})
    a_buyer(qtbot, form)
    editor = open_cell(qtbot, form, 0, ITEM_NAME, Qt.Key.Key_R)  # typing starts the cell's editor
    qtbot.keyClicks(editor, "jkf")
    assert editor.text() == "rjkf"
    completer = form.line_view.item_delegate.completer
    assert completer is not None and [e.payload.id for e in completer.entries] == [item.id]
    offered = completer.shown()[0]
    assert "软件开发" in offered and "*信息技术服务*" in offered and "¥1000/项" in offered and "6%" in offered
    shot(form, "form_item_by_pinyin_popup", popups=True)

    pick_in_popup(qtbot, completer)
    qtbot.waitUntil(lambda: form.lines.rows[0]["item"] == item.id)
    reactivate(qtbot, form)
    row = form.lines.rows[0]
    assert (row["item_name"], row["tax_code"], row["spec"], row["unit"], row["unit_price"], row["tax_rate"]) == (
        "软件开发", SOFTWARE, "V2", "项", "1000", "0.06")
    assert form.lines.index(0, ITEM_NAME).data() == "*信息技术服务*软件开发"  # the printed name, assembled
    assert form.lines.index(0, ITEM_NAME).data(Qt.ItemDataRole.EditRole) == "软件开发"
    view = form.line_view
    assert view.currentIndex() == form.lines.index(0, QUANTITY) and view.state() != EDITING  # on to the quantity
    qtbot.keyClick(view, Qt.Key.Key_3)
    qtbot.waitUntil(lambda: view.state() == EDITING)
    end_edit(qtbot, form, view.indexWidget(view.currentIndex()))
    assert form.lines.rows[0]["quantity"] == "3"
    assert form.issue_button.isEnabled(), messages(form)
    assert form.lines.index(0, KEYS.index("amount")).data() == "3,000.00"
    assert form.total_label.text() == "¥3,180.00"
    shot(form, "form_item_by_pinyin")
    form.resize(1366, 768)
    qtbot.wait(50)
    shot(form, "form_item_by_pinyin_1366x768")

    issued = form.issue()
    assert issued is not None
    line = issued.invoice.lines[0]
    assert (line.tax_code, line.name, line.item_name, line.item_id) == (SOFTWARE, "*信息技术服务*软件开发",
                                                                        "软件开发", item.id)
    stored = queries.get_invoice(issued.number)
    assert stored is not None
    assert [(li.tax_code, li.name, li.quantity, li.amount) for li in stored.lines] == [
        (SOFTWARE, "*信息技术服务*软件开发", Decimal("3"), Decimal("3000.00"))]
    entry = get_item(item.id)
    assert entry is not None and entry.use_count == 1


def test_enter_in_the_name_keeps_what_was_typed_when_no_item_is_chosen(qtbot, form):
    create_item({"item_name": "Consulting day", "tax_code": SOFTWARE, "unit_price": "800"})
    editor = open_cell(qtbot, form, 0, ITEM_NAME, Qt.Key.Key_C)
    qtbot.keyClicks(editor, "onsulting")
    completer = form.line_view.item_delegate.completer
    assert completer is not None and completer.shown()
    popup = completer.popup()
    assert popup is not None
    qtbot.waitUntil(popup.isVisible)
    qtbot.keyClick(popup, Qt.Key.Key_Return)  # the list is open, nothing chosen: one Enter ends the cell
    qtbot.waitUntil(lambda: form.line_view.state() != EDITING)
    reactivate(qtbot, form)
    assert form.lines.rows[0]["item_name"] == "consulting" and form.lines.rows[0]["item"] is None
    assert form.line_view.currentIndex() == form.lines.index(0, TAX_CODE)  # on to the code, as Enter does


def test_an_items_net_price_is_converted_by_the_service_when_prices_include_tax(qtbot, form):
    item = create_item({"item_name": "软件开发", "tax_code": SOFTWARE, "unit": "项", "unit_price": "1000"})
    form.prices_include_tax.setChecked(True)
    editor = open_cell(qtbot, form, 0, ITEM_NAME, Qt.Key.Key_R)
    qtbot.keyClicks(editor, "jkf")
    completer = form.line_view.item_delegate.completer
    assert completer is not None
    pick_in_popup(qtbot, completer)
    qtbot.waitUntil(lambda: form.lines.rows[0]["item"] == item.id)
    assert Decimal(form.lines.rows[0]["unit_price"]) == Decimal("1060")  # 1000 + 6 %
    form.prices_include_tax.setChecked(False)  # the item's price follows the switch
    assert form.lines.rows[0]["unit_price"] == "1000"
    form.prices_include_tax.setChecked(True)
    assert Decimal(form.lines.rows[0]["unit_price"]) == Decimal("1060")
    # A field of the item changed by the clerk stays as typed; the name typed again is no longer the item.
    reactivate(qtbot, form)
    type_cell(qtbot, form, 0, "unit_price", "1000")
    assert form.lines.rows[0]["item"] == item.id and form.lines.draft_line(0)["unit_price"] == "1000"
    type_cell(qtbot, form, 0, "item_name", "Custom work")
    assert form.lines.rows[0]["item"] is None and "item" not in form.lines.draft_line(0)


def test_a_code_is_found_by_initials_words_or_digits(qtbot, form):
    a_buyer(qtbot, form)
    type_cell(qtbot, form, 0, "item_name", "Custom software")
    delegate = form.line_view.code_delegate
    for typed in ("rjkf", "软件", "30402"):
        editor = open_cell(qtbot, form, 0, TAX_CODE)
        if typed.isascii():
            qtbot.keyClicks(editor, typed)
        else:
            set_typed(editor, typed)
        assert delegate.completer is not None
        codes = [entry.payload.code for entry in delegate.completer.entries]
        assert codes and codes[0] == SOFTWARE, typed
        if typed == "软件":
            shot(form, "form_code_by_words_popup", popups=True)
        end_edit(qtbot, form, editor, Qt.Key.Key_Escape)
        assert form.lines.rows[0]["tax_code"] == ""  # Esc: nothing taken

    editor = open_cell(qtbot, form, 0, TAX_CODE)
    qtbot.keyClicks(editor, "rjkf")
    assert delegate.completer is not None
    pick_in_popup(qtbot, delegate.completer)
    qtbot.waitUntil(lambda: form.lines.rows[0]["tax_code"] == SOFTWARE)
    reactivate(qtbot, form)
    assert form.lines.rows[0]["tax_rate"] == "0.06"  # the code's one rate
    assert form.lines.index(0, ITEM_NAME).data() == "*信息技术服务*Custom software"
    assert form.line_view.currentIndex() == form.lines.index(0, KEYS.index("spec"))
    assert "软件开发服务" in form.lines.index(0, TAX_CODE).data(Qt.ItemDataRole.ToolTipRole)

    # Enter on initials, the list open and nothing chosen in it, takes the first code offered (one Enter).
    editor = open_cell(qtbot, form, 0, TAX_CODE)
    editor.selectAll()
    qtbot.keyClicks(editor, "rjwh")
    popup = delegate.completer.popup() if delegate.completer is not None else None
    assert popup is not None
    qtbot.waitUntil(popup.isVisible)
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: form.lines.rows[0]["tax_code"] == "3040201030000000000")  # 软件维护服务
    qtbot.waitUntil(lambda: form.line_view.state() != EDITING)
    reactivate(qtbot, form)
    # So does an Enter that reached the editor with the list closed.
    editor = open_cell(qtbot, form, 0, TAX_CODE)
    editor.selectAll()
    qtbot.keyClicks(editor, "rjkf")
    end_edit(qtbot, form, editor)
    assert form.lines.rows[0]["tax_code"] == SOFTWARE
    # A code typed in full, that the table lacks, is refused on its cell.
    type_cell(qtbot, form, 0, "tax_code", "1234567890123456789")
    type_cell(qtbot, form, 0, "quantity", "1")
    type_cell(qtbot, form, 0, "unit_price", "10")
    cell = form.lines.index(0, TAX_CODE)
    assert "不在现行税收分类编码表中" in cell.data(Qt.ItemDataRole.ToolTipRole)
    assert any(m.startswith("第1行税收分类编码") for m in messages(form))
    assert form.lines.index(0, ITEM_NAME).data() == "Custom software"  # no short name without a code


def test_the_rates_and_policies_offered_follow_the_code(qtbot, form):
    a_buyer(qtbot, form)
    type_cell(qtbot, form, 0, "item_name", "Organic cabbage")
    view = form.line_view
    index = form.lines.index(0, TAX_RATE)
    view.edit(index)
    editor = view.indexWidget(index)
    assert isinstance(editor, QComboBox) and editor.count() == 10  # no code yet: every rate in force
    assert [editor.itemText(i) for i in range(editor.count())] == [
        "13%", "9%", "6%", "5%", "3%", "1.5%", "1%", "0%", "免税", "不征税"]
    view.closeEditor(editor, QAbstractItemDelegate.EndEditHint.RevertModelCache)
    type_cell(qtbot, form, 0, "tax_code", CABBAGE)
    assert form.lines.rows[0]["tax_rate"] == "0.09" and form.lines.index(0, ITEM_NAME).data() == "*蔬菜*Organic cabbage"
    view.edit(index)
    editor = view.indexWidget(index)
    assert isinstance(editor, QComboBox)
    assert [editor.itemData(i) for i in range(editor.count())] == ["0.09", "exempt"]  # what 白菜类蔬菜 allows
    view.closeEditor(editor, QAbstractItemDelegate.EndEditHint.RevertModelCache)
    policy_index = form.lines.index(0, KEYS.index("policy"))
    view.edit(policy_index)
    editor = view.indexWidget(policy_index)
    assert isinstance(editor, QComboBox)
    assert [editor.itemText(i) for i in range(editor.count())] == ["（无）", "03 免税"]
    view.closeEditor(editor, QAbstractItemDelegate.EndEditHint.RevertModelCache)
    type_cell(qtbot, form, 0, "policy", "03")
    assert form.lines.rows[0]["tax_rate"] == "exempt"  # the rate the policy brings
    assert form.lines.index(0, TAX_RATE).data() == "免税"
    type_cell(qtbot, form, 0, "quantity", "12")
    type_cell(qtbot, form, 0, "unit_price", "45")
    assert form.issue_button.isEnabled(), messages(form)
    issued = form.issue()
    assert issued is not None
    line = issued.invoice.lines[0]
    assert (line.tax_rate, line.policy, line.amount, line.tax) == ("exempt", "03", Decimal("540.00"),
                                                                   Decimal("0.00"))


def test_a_discount_copies_the_code_name_and_rate_of_its_line(qtbot, form):
    a_buyer(qtbot, form)
    type_cell(qtbot, form, 0, "item_name", "Cabbage")
    type_cell(qtbot, form, 0, "tax_code", CABBAGE)
    type_cell(qtbot, form, 0, "tax_rate", "exempt")
    type_cell(qtbot, form, 0, "quantity", "10")
    type_cell(qtbot, form, 0, "unit_price", "4")
    at = form.lines.add_discount(0)
    assert at == 1
    form.lines.setData(form.lines.index(1, KEYS.index("amount")), "5")
    assert form.lines.index(1, TAX_CODE).data() == CABBAGE and form.lines.index(1, TAX_RATE).data() == "免税"
    assert form.lines.draft_line(1) == {"nature": "discount", "tax_code": CABBAGE, "item_name": "Cabbage",
                                        "tax_rate": "exempt", "policy": "", "amount": "-5"}
    issued = form.issue()
    assert issued is not None
    assert [(li.nature.value, li.tax_code, li.tax_rate, li.amount) for li in issued.invoice.lines] == [
        ("discounted", CABBAGE, "exempt", Decimal("40.00")), ("discount", CABBAGE, "exempt", Decimal("-5.00"))]


# --- the buyer ---------------------------------------------------------------------------------------

def a_line(qtbot, form: InvoiceForm) -> None:
    type_cell(qtbot, form, 0, "item_name", "Software development")
    type_cell(qtbot, form, 0, "tax_code", SOFTWARE)
    type_cell(qtbot, form, 0, "quantity", "1")
    type_cell(qtbot, form, 0, "unit_price", "100")


def test_a_short_buyer_name_asks_whether_it_is_a_natural_person(qtbot, window, form):
    qtbot.keyClicks(form.buyer["name"], "ACME")
    qtbot.keyClicks(form.buyer["tax_id"], BUYER_TAX_ID)
    a_line(qtbot, form)
    assert not form.issue_button.isEnabled()
    assert is_marked(form.buyer["name"]) and "购买方是自然人吗" in form.buyer["name"].toolTip()
    assert any(m.startswith("购买方名称：名称只有4个字") for m in messages(form))
    assert form.confirm_short_name.isVisible() and not form.confirm_short_name.isChecked()
    assert form.confirm_short_name.text() == "购买方不是自然人（已确认）"
    shot(form, "form_short_name_prompt")
    qtbot.mouseClick(form.confirm_short_name, Qt.MouseButton.LeftButton,
                     pos=form.confirm_short_name.rect().center())
    assert form.confirm_short_name.isChecked() and form.issue_button.isEnabled()
    assert not is_marked(form.buyer["name"])
    # Typing the name again withdraws the confirmation: it was for that name.
    qtbot.keyClick(form.buyer["name"], Qt.Key.Key_Backspace)
    assert not form.confirm_short_name.isChecked() and not form.issue_button.isEnabled()
    qtbot.keyClicks(form.buyer["name"], "E")
    form.confirm_short_name.setChecked(True)
    issued = form.issue()
    assert issued is not None and issued.invoice.confirmed_short_name
    assert complete_customers("ACME")[0].short_name_confirmed  # the customer book remembers it

    # Next time the buyer is picked from the book: no question.
    again = window.new_invoice()
    qtbot.waitUntil(again.isActiveWindow)
    qtbot.keyClicks(again.buyer["name"], "ACM")
    assert [e.inserted for e in again.buyer_completer.entries] == ["ACME"]
    pick_in_popup(qtbot, again.buyer_completer)
    reactivate(qtbot, again)
    assert again.buyer["tax_id"].text() == BUYER_TAX_ID
    assert not any(e.field == "buyer.name" for e in again.errors) and not again.confirm_short_name.isVisible()
    again.dirty = False


def test_a_natural_person_buyer_with_an_id(qtbot, window, form):
    set_typed(form.buyer["name"], "张三")
    a_line(qtbot, form)
    assert form.confirm_short_name.isVisible()  # two characters: a person?
    qtbot.mouseClick(form.natural_person, Qt.MouseButton.LeftButton, pos=form.natural_person.rect().center())
    assert form.natural_person.isChecked() and not form.confirm_short_name.isVisible()
    assert form.issue_button.isEnabled(), messages(form)  # a 普票 to a person needs no tax id
    # An ID type without its number is refused on the number.
    form.id_type.setCurrentIndex(form.id_type.findData("201"))
    assert form.id_type.currentText() == "201 居民身份证"
    assert is_marked(form.buyer["id_number"]) and "同时填写" in form.buyer["id_number"].toolTip()
    assert not form.issue_button.isEnabled()
    qtbot.keyClicks(form.buyer["id_number"], ID_NUMBER)
    assert not is_marked(form.buyer["id_number"]) and form.issue_button.isEnabled()
    shot(form, "form_natural_person")
    # A person's name has more than one character.
    set_typed(form.buyer["name"], "张")
    assert is_marked(form.buyer["name"]) and "多于1个字" in form.buyer["name"].toolTip()
    set_typed(form.buyer["name"], "张三")
    issued = form.issue()
    assert issued is not None
    buyer = issued.invoice.buyer
    assert (buyer.natural_person, buyer.id_type, buyer.id_number, buyer.printed_name) == (
        True, "201", ID_NUMBER, "张三（个人）")
    stored = queries.get_invoice(issued.number)
    assert stored is not None and stored.buyer.natural_person and stored.buyer.id_number == ID_NUMBER
    detail = window.open_invoice(issued.number)
    qtbot.addWidget(detail)
    text = detail.view.toPlainText()
    for expected in ("增值税普通发票（数电，电子发票）", "张三（个人）", f"居民身份证 {ID_NUMBER}", "税收分类编码",
                     SOFTWARE, "*信息技术服务*Software development"):
        assert expected in text, expected
    shot(detail, "invoice_detail_natural_person")


def test_a_customer_from_the_book_fills_the_buyer_block_with_person_and_id(qtbot, form):
    create_customer({"name": "李四", "natural_person": True, "id_type": "201", "id_number": ID_NUMBER,
                     "phone": "13800000000"})
    qtbot.keyClicks(form.buyer["name"], "ls")  # pinyin initials
    assert [e.inserted for e in form.buyer_completer.entries] == ["李四"]
    assert form.buyer_completer.shown() == ["李四（个人）"]
    pick_in_popup(qtbot, form.buyer_completer)
    reactivate(qtbot, form)
    assert form.buyer["name"].text() == "李四" and form.natural_person.isChecked()
    assert form.id_type.currentData() == "201" and form.buyer["id_number"].text() == ID_NUMBER
    assert form.buyer["phone"].text() == "13800000000"
    assert not form.confirm_short_name.isVisible()
    a_line(qtbot, form)
    assert form.issue_button.isEnabled(), messages(form)


def test_errors_name_their_field_and_line_in_english_too(qtbot, window, seller):
    from app.ui.i18n import set_language

    set_language("en")
    form = InvoiceForm(seller, window)
    qtbot.addWidget(form)
    form.show()
    qtbot.waitUntil(form.isActiveWindow)
    form.lines.set_cell(0, "item_name", "Consulting")
    form.lines.set_cell(0, "quantity", "-1")
    assert form.kind.itemText(0) == "normal (数电普票)"
    assert "line 1 tax classification code: is required" in messages(form)
    assert any(m.startswith("line 1 quantity: must not be negative") for m in messages(form))
    assert form.lines.headerData(KEYS.index("tax_code"), Qt.Orientation.Horizontal) == "Tax code"
    form.dirty = False


# --- the catalog windows -----------------------------------------------------------------------------

@pytest.fixture
def newer_table(tmp_path: Path) -> Path:
    return write_newer_table(tmp_path / "taxcodes-33.0.csv")


def test_the_items_window_adds_edits_retires_and_lists_an_item(qtbot, window):
    dialog = window.catalog_actions.open_items()
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == 0
    editor = dialog.add_item()
    assert isinstance(editor, ItemEditor)
    editor.save()  # nothing typed: refused, each error on its field
    assert is_marked(editor.fields["item_name"]) and is_marked(editor.fields["tax_code"])
    assert any(text.startswith("项目名称：") for text in editor.errors.texts())
    set_typed(editor.fields["item_name"], "软件维护")
    qtbot.keyClicks(editor.fields["tax_code"], "rjwh")
    assert editor.code_completer.entries and editor.code_completer.entries[0].payload.code == "3040201030000000000"
    pick_in_popup(qtbot, editor.code_completer)
    assert editor.fields["tax_code"].text() == "3040201030000000000"
    assert "*信息技术服务*软件维护" in editor.code_info.text()
    assert [editor.tax_rate.itemData(i) for i in range(editor.tax_rate.count())] == ["", "0.06"]
    assert editor.errors.texts() == [] and not editor.errors.isVisible()  # fixed as typed: the errors went
    qtbot.keyClicks(editor.fields["unit_price"], "800")
    set_typed(editor.fields["unit"], "次")
    shot(editor, "item_editor")
    saved = editor.save()
    assert saved is not None and saved.tax_rate == "0.06" and saved.printed_name == "*信息技术服务*软件维护"
    assert dialog.table.rowCount() == 1 and dialog.table.item(0, 1).text() == "*信息技术服务*软件维护"
    assert dialog.table.item(0, STATE).text() == "正常"

    dialog.table.selectRow(0)
    edit = dialog.edit_selected()
    assert edit is not None and edit.fields["unit_price"].text() == "800"
    edit.fields["unit_price"].clear()
    qtbot.keyClicks(edit.fields["unit_price"], "900")
    assert edit.save() is not None
    assert dialog.table.item(0, 5).text() == "900"
    retired = dialog.retire_selected()
    assert retired is not None and retired.retired
    assert dialog.show_retired.isChecked() and dialog.table.item(0, STATE).text() == "已停用"
    assert dialog.retire_button.text() == "恢复"
    assert dialog.retire_selected() is not None and dialog.table.item(0, STATE).text() == "正常"


def test_the_items_window_imports_a_file_or_says_which_row_and_column_is_wrong(qtbot, window, tmp_path):
    dialog = window.catalog_actions.open_items()
    qtbot.addWidget(dialog)
    bad = write_xlsx(tmp_path / "bad.xlsx", [["项目名称", "税收分类编码", "单价", "税率"],
                                             ["软件开发", SOFTWARE, "1000", "6%"],
                                             ["打印机", "12345", "100", "13%"],
                                             ["白菜", CABBAGE, "-3", "9%"]])
    task = dialog.import_file(bad)
    assert task is not None and not dialog.import_button.isEnabled()  # off the GUI thread
    qtbot.waitUntil(lambda: task.ended, timeout=20000)
    assert list_items() == []  # all or nothing
    errors = dialog.errors.texts()
    assert dialog.errors.isVisible() and len(errors) == 2
    assert errors[0].startswith("第3行“税收分类编码”列") and "12345" in errors[0]
    assert errors[1].startswith("第4行“单价”列")
    assert "2 处错误" in dialog.message.text()
    shot(dialog, "items_import_errors")

    good = write_xlsx(tmp_path / "good.xlsx", [["项目名称", "税收分类编码", "单价"], ["软件开发", SOFTWARE, "1000"],
                                               ["有机白菜", CABBAGE, "45"]])
    task = dialog.import_file(good)
    assert task is not None
    qtbot.waitUntil(lambda: task.ended, timeout=20000)
    assert dialog.message.text() == "已导入 2 行：新增 2，更新 0" and not dialog.errors.isVisible()
    assert dialog.table.rowCount() == 2 and dialog.import_button.isEnabled()

    out = tmp_path / "out.csv"
    task = dialog.export_file(out)
    assert task is not None
    qtbot.waitUntil(lambda: task.ended, timeout=20000)
    assert dialog.message.text() == f"已导出 2 行到 {out}"
    assert "软件开发" in out.read_text(encoding="utf-8-sig")


def test_an_item_whose_code_the_refresh_withdrew_is_flagged(qtbot, window, platform, newer_table):
    maintenance = create_item({"item_name": "软件维护", "tax_code": WITHDRAWN_CODE, "unit": "次",
                               "unit_price": "800"})
    create_item({"item_name": "软件开发", "tax_code": SOFTWARE, "unit": "项", "unit_price": "1000"})
    dialog = window.catalog_actions.open_items()
    qtbot.addWidget(dialog)
    assert dialog.flagged() == []
    form = window.new_invoice()
    qtbot.waitUntil(form.isActiveWindow)
    form.lines.set_cell(0, "item_name", "Maintenance")
    form.lines.set_cell(0, "tax_code", WITHDRAWN_CODE)
    assert form.lines.index(0, ITEM_NAME).data() == "*信息技术服务*Maintenance"

    platform.httpd.tax_codes = PlatformTaxCodes(newer_table)
    set_platform(platform.url, platform.token)
    task = window.catalog_actions.refresh_codes()
    assert task is not None and not window.catalog_actions.refresh_action.isEnabled()
    qtbot.waitUntil(lambda: task.ended, timeout=30000)
    assert task.error == ""
    notice = window.catalog_actions.last_message
    assert f"32.0 → {NEW_VERSION}" in notice and "停用 1" in notice and "软件维护" in notice
    assert window.catalog_actions.notice is not None and not window.catalog_actions.notice.isModal()
    shot(window.catalog_actions.notice, "codes_refresh_notice")

    assert dialog.flagged() == ["软件维护"]
    row = next(r for r, item in enumerate(dialog.items) if item.id == maintenance.id)
    assert dialog.table.item(row, STATE).text() == "编码已停用"
    assert dialog.table.item(row, 0).background().color().name() == "#ffd6d6"
    assert "1 项编码已停用" in dialog.count_label.text()
    shot(dialog, "items_code_withdrawn")

    # The open form read the new table: the withdrawn code is refused on its cell.
    form.lines.set_cell(0, "quantity", "1")
    cell = form.lines.index(0, TAX_CODE)
    assert "已停用" in cell.data(Qt.ItemDataRole.ToolTipRole)
    # Completion still offers the item, saying its code is withdrawn.
    reactivate(qtbot, form)
    editor = open_cell(qtbot, form, 1 if form.lines.rowCount() > 1 else 0, ITEM_NAME, Qt.Key.Key_R)
    qtbot.keyClicks(editor, "jwh")
    completer = form.line_view.item_delegate.completer
    assert completer is not None and any("（编码已停用）" in text for text in completer.shown())
    end_edit(qtbot, form, editor, Qt.Key.Key_Escape)
    form.dirty = False

    again = window.catalog_actions.refresh_codes()  # the same table again: nothing changes
    assert again is not None
    qtbot.waitUntil(lambda: again.ended, timeout=30000)
    assert window.catalog_actions.last_message == f"税收分类编码表已是最新（版本 {NEW_VERSION}）。"


def test_a_refresh_that_cannot_reach_the_platform_says_so(qtbot, window):
    set_platform("http://127.0.0.1:9", "token-that-goes-nowhere")
    task = window.catalog_actions.refresh_codes()
    assert task is not None
    qtbot.waitUntil(lambda: task.ended, timeout=30000)
    assert window.catalog_actions.last_message.startswith("税收分类编码未更新：")
    assert window.catalog_actions.refresh_action.isEnabled()


def test_the_customers_window_edits_and_merges_duplicates(qtbot, window, monkeypatch):
    kept = create_customer({"name": "北京客户贸易有限公司", "tax_id": BUYER_TAX_ID, "address": "建国路88号"})
    twin = create_customer({"name": "北京客户贸易公司", "tax_id": BUYER_TAX_ID})
    create_customer({"name": "李四", "natural_person": True, "id_type": "201", "id_number": ID_NUMBER})
    dialog = window.catalog_actions.open_customers()
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == 3 and not dialog.merge_button.isEnabled()
    qtbot.keyClicks(dialog.search, "bjkh")
    assert [c.name for c in dialog.customers] == ["北京客户贸易有限公司", "北京客户贸易公司"]
    dialog.select(twin.id)
    dialog.select(kept.id, add=True)
    assert dialog.current() == next(c for c in dialog.customers if c.id == kept.id)
    assert dialog.merge_button.isEnabled()
    shot(dialog, "customers")
    asked: list[str] = []

    def answer(*args: object, **kwargs: object) -> QMessageBox.StandardButton:
        asked.append(str(args[2]))
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", answer)
    merged = dialog.merge_selected()
    assert merged is not None and merged.id == kept.id and "北京客户贸易公司" in asked[0]
    assert [c.id for c in list_customers() if c.tax_id == BUYER_TAX_ID] == [kept.id]

    dialog.search.clear()
    dialog.select(kept.id)
    editor = dialog.edit_selected()
    assert isinstance(editor, CustomerEditor) and editor.fields["address"].text() == "建国路88号"
    editor.fields["tax_id"].clear()
    qtbot.keyClicks(editor.fields["tax_id"], BUYER_TAX_ID[:-1] + "X")  # a failed check character
    assert editor.save() is None and editor.tax_id_confirmed.isVisible()
    editor.tax_id_confirmed.setChecked(True)
    assert editor.save() is not None
    assert next(c for c in list_customers() if c.id == kept.id).tax_id_confirmed

    person = CustomerEditor(dialog, None)
    qtbot.addWidget(person)
    set_typed(person.fields["name"], "王五")
    person.natural_person.setChecked(True)
    person.id_type.setCurrentIndex(person.id_type.findData("201"))
    assert person.save() is None and is_marked(person.fields["id_number"])  # type and number go together
    qtbot.keyClicks(person.fields["id_number"], ID_NUMBER)
    shot(person, "customer_editor")
    saved = person.save()
    assert saved is not None and saved.natural_person and saved.id_type == "201"


def test_the_tax_code_browser_searches_and_picks_for_the_line(qtbot, window, form):
    browser = window.catalog_actions.open_codes()
    qtbot.addWidget(browser)
    assert "编码表版本 32.0" in browser.status.text()
    qtbot.keyClicks(browser.search, "rjkf")
    assert browser.hits[0].code == SOFTWARE and browser.selected() == browser.hits[0]
    assert "*信息技术服务*" in browser.detail.toPlainText() and "6%" in browser.detail.toPlainText()
    set_typed(browser.search, "软件")
    assert len(browser.hits) > 3 and browser.hits[0].code == SOFTWARE
    shot(browser, "taxcode_browser")
    assert not browser.pick_button.isVisible()  # browsing only
    browser.close()

    type_cell(qtbot, form, 0, "item_name", "Software development")
    picker = form.choose_code(0)
    assert picker is not None
    qtbot.addWidget(picker)
    qtbot.waitUntil(picker.isVisible)
    assert picker.search.text() == "Software development"
    picker.search.clear()
    qtbot.keyClicks(picker.search, "30402010")
    assert picker.select_code("3040201040000000000")
    assert picker.pick_button.isVisible() and picker.pick_button.isEnabled()
    shot(picker, "taxcode_picker")
    picker.pick()
    assert form.lines.rows[0]["tax_code"] == "3040201040000000000" and form.lines.rows[0]["tax_rate"] == "0.06"
    assert form.lines.index(0, ITEM_NAME).data() == "*信息技术服务*Software development"
    form.dirty = False


def test_a_body_loads_into_the_form_as_it_was_issued(qtbot, form):
    from app.core.codec import invoice_to_body
    from app.services.issuing import issue_invoice
    from tests.helpers.bodies import full_body

    issued = issue_invoice(full_body(buyer={"name": "李四", "natural_person": True, "id_type": "201",
                                            "id_number": ID_NUMBER}, kind="normal", medium="paper"))
    form.load_draft(invoice_to_body(issued.invoice))
    assert form.medium.currentData() == "paper" and form.natural_person.isChecked()
    assert form.id_type.currentData() == "201" and form.buyer["id_number"].text() == ID_NUMBER
    rows = form.lines.rows
    assert [(r["tax_code"], r["item_name"], r["tax_rate"], r["policy"]) for r in rows] == [
        (SOFTWARE, "软件开发", "0.06", ""), (PRINTER, "激光打印机", "0.13", ""), (CABBAGE, "有机白菜", "exempt", "")]
    assert form.lines.index(2, ITEM_NAME).data() == "*蔬菜*有机白菜"
    assert form.issue_button.isEnabled(), messages(form)
    assert form.invoice is not None and form.invoice.total_with_tax == issued.invoice.total_with_tax

    # A line from before 数电 has its printed name only: the item name is taken from it, the code asked for.
    form.load_draft({"buyer": {"name": "北京客户贸易有限公司"},
                     "lines": [{"name": "*信息技术服务*软件开发", "quantity": "1", "unit_price": "10",
                                "tax_rate": "0.06"}]})
    assert form.lines.rows[0]["item_name"] == "软件开发"
    assert "lines[0].tax_code" in [e.field for e in form.errors]
    form.dirty = False
