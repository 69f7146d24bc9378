"""The item catalog (项目信息) and the customer book (客户信息): lists, editors, merge, files in and out.

Every change goes through the catalog services (app.services.items, app.services.customers,
app.services.catalog_files); the lists read the read models of app.store.catalog_queries. An item
whose tax code was withdrawn from the table in force is flagged in the list (编码已停用) until it is
given a code in force. Import and export run in a BackgroundTask; a file the import refuses lists
each error with its row and column, as Excel numbers them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import FieldError, ValidationFailed, field_label
from app.core.money import format_plain
from app.core.parties import ID_TYPES
from app.services import catalog_files
from app.services.customers import create_customer, edit_customer, merge_customers
from app.services.items import create_item, delete_item, edit_item, restore_item, retire_item, taxpayer_type
from app.store.catalog_queries import (
    CustomerEntry,
    ItemEntry,
    complete_customers,
    complete_items,
    list_customers,
    list_items,
)
from app.store.taxcode_search import TaxCodeHit, search_codes
from app.ui.completion import LookupCompleter
from app.ui.i18n import language, tr
from app.ui.line_choices import LineChoices
from app.ui.line_table import code_entries, policy_label, rate_label
from app.ui.marking import mark
from app.ui.tasks import BackgroundTask, Progress

WITHDRAWN_BACKGROUND = QColor("#ffd6d6")
WITHDRAWN_FOREGROUND = QColor("#b71c1c")
RETIRED_FOREGROUND = QColor("#888888")
FILE_FILTER = "Excel / CSV (*.xlsx *.csv)"
LIST_LIMIT = 20_000  # a search lists at most this many


def _table(parent: QWidget, headings: Sequence[tuple[str, str]], name: str) -> QTableWidget:
    table = QTableWidget(0, len(headings), parent)
    table.setObjectName(name)
    table.setHorizontalHeaderLabels([tr(zh, en) for zh, en in headings])
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(24)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    return table


def _error_text(error: FieldError) -> str:
    """One error as the clerk reads it: a file's row and column, or the field's name."""
    lang = language()
    if hasattr(error, "row"):  # a file's CellError names its row and column itself
        return error.describe(lang)
    label = field_label(error.field, lang)
    return f"{label}：{error.message(lang)}" if lang == "zh" else f"{label}: {error.message(lang)}"


class _ErrorList(QListWidget):
    """What a service refused, one error a line; hidden while there is none."""

    def __init__(self, parent: QWidget, name: str) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setMaximumHeight(130)
        self.setVisible(False)
        self.setStyleSheet("color: #b71c1c;")
        self.errors: list[FieldError] = []

    def show_errors(self, errors: Sequence[FieldError]) -> None:
        self.errors = list(errors)
        self.clear()
        for error in errors:
            self.addItem(_error_text(error))
        self.setVisible(bool(errors))

    def drop(self, key: str) -> None:
        """The clerk typed in the field again: its errors go until the next save."""
        kept = [e for e in self.errors if e.field.removeprefix("customer.") != key]
        if len(kept) != len(self.errors):
            self.show_errors(kept)

    def texts(self) -> list[str]:
        return [self.item(i).text() for i in range(self.count())]


class _FileTasks:
    """Import and export of a catalog file off the GUI thread, reported on the dialog's message line."""

    message: QLabel
    errors: _ErrorList
    file_buttons: list[QPushButton]
    clerk: str

    def _init_tasks(self) -> None:
        self.tasks: list[BackgroundTask[Any]] = []

    def _run(self, owner: QWidget, work: Callable[[], Any], done: Callable[[Any], str], busy: str
             ) -> BackgroundTask[Any]:
        def run(progress: Progress) -> Any:
            return work()

        task: BackgroundTask[Any] = BackgroundTask(run, owner)
        for button in self.file_buttons:
            button.setEnabled(False)
        self.message.setText(busy)
        self.errors.show_errors([])

        def succeeded(value: Any) -> None:
            self.message.setText(done(value))

        def failed(error: str) -> None:
            exception = task.exception
            if isinstance(exception, ValidationFailed):
                self.message.setText(tr("文件未导入：共 {n} 处错误，请改正后重新导入（没有写入任何内容）",
                                        "Nothing imported: {n} error(s); fix them and import again",
                                        n=len(exception.errors)))
                self.errors.show_errors(exception.errors)
            else:
                self.message.setText(error)

        def finished() -> None:
            for button in self.file_buttons:
                button.setEnabled(True)
            if task in self.tasks:
                self.tasks.remove(task)
            self.reload()

        task.on_success(succeeded)
        task.on_failure(failed)
        task.on_finished(finished)
        self.tasks.append(task)
        return task.start()

    def reload(self) -> None:
        raise NotImplementedError

    def _imported(self, result: catalog_files.ImportResult) -> str:
        return tr("已导入 {rows} 行：新增 {created}，更新 {updated}",
                  "Imported {rows} rows: {created} new, {updated} updated", rows=result.rows,
                  created=result.created, updated=result.updated)

    def _exported(self, path: Path) -> Callable[[Any], str]:
        return lambda written: tr("已导出 {n} 行到 {path}", "Exported {n} rows to {path}", n=written, path=str(path))


def _open_path(parent: QWidget, title: str) -> Path | None:
    name, _ = QFileDialog.getOpenFileName(parent, title, "", FILE_FILTER)
    return Path(name) if name else None


def _save_path(parent: QWidget, title: str, default: str) -> Path | None:
    name, _ = QFileDialog.getSaveFileName(parent, title, default, "Excel (*.xlsx);;CSV (*.csv)")
    return Path(name) if name else None


# --- items --------------------------------------------------------------------------------------

ITEM_HEADINGS = (("项目名称", "Item name"), ("打印名称", "Printed name"), ("税收分类编码", "Tax code"),
                 ("规格型号", "Spec"), ("单位", "Unit"), ("单价", "Unit price"), ("含税", "Incl. tax"),
                 ("税率/征收率", "Rate"), ("优惠政策", "Policy"), ("状态", "State"), ("使用次数", "Used"))
STATE = ITEM_HEADINGS.index(("状态", "State"))


def item_state(item: ItemEntry) -> str:
    states = []
    if not item.code_usable:
        states.append(tr("编码已停用", "code withdrawn"))
    if item.retired:
        states.append(tr("已停用", "retired"))
    return "，".join(states) if states else tr("正常", "in use")


EditorT = TypeVar("EditorT", bound=QDialog)


class _Editors:
    """The editors a catalog window has open (non-modal, closed with it), each forgotten once closed."""

    editors: list[QDialog]

    def _open_tracked(self, editor: EditorT) -> EditorT:
        editor.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.editors.append(editor)
        editor.destroyed.connect(lambda _=None: self.editors.remove(editor) if editor in self.editors else None)
        editor.open()
        return editor


class ItemEditor(QDialog):
    """One item, new or edited; 保存 goes through create_item / edit_item, their errors on their fields."""

    def __init__(self, parent: QWidget | None, item: ItemEntry | None = None, clerk: str = "",
                 on_saved: Callable[[ItemEntry], object] | None = None) -> None:
        super().__init__(parent)
        self.item = item
        self.clerk = clerk
        self.on_saved = on_saved
        self.saved: ItemEntry | None = None
        self.choices = LineChoices(taxpayer_type())
        self.setWindowTitle(tr("修改项目", "Edit item") if item else tr("新增项目", "New item"))
        self.resize(620, 420)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.fields: dict[str, QLineEdit] = {}
        for key in ("item_name", "tax_code", "spec", "unit", "unit_price"):
            edit = QLineEdit(self)
            edit.setObjectName(f"item_{key}")
            self.fields[key] = edit
        code_row = QHBoxLayout()
        code_row.addWidget(self.fields["tax_code"], 1)
        self.browse_button = QPushButton(tr("选择…", "Choose…"), self)
        self.browse_button.setAutoDefault(False)
        code_row.addWidget(self.browse_button)
        self.code_info = QLabel(self)
        self.code_info.setObjectName("item_code_info")
        self.code_info.setStyleSheet("color: #555;")
        self.code_info.setWordWrap(True)
        self.price_includes_tax = QCheckBox(tr("单价含税"), self)
        self.price_includes_tax.setObjectName("item_price_includes_tax")
        self.tax_rate = QComboBox(self)
        self.tax_rate.setObjectName("item_tax_rate")
        self.policy = QComboBox(self)
        self.policy.setObjectName("item_policy")
        form.addRow(tr("项目名称"), self.fields["item_name"])
        form.addRow(tr("税收分类编码"), code_row)
        form.addRow("", self.code_info)
        form.addRow(tr("规格型号"), self.fields["spec"])
        form.addRow(tr("单位"), self.fields["unit"])
        price_row = QHBoxLayout()
        price_row.addWidget(self.fields["unit_price"], 1)
        price_row.addWidget(self.price_includes_tax)
        form.addRow(tr("单价"), price_row)
        form.addRow(tr("税率/征收率"), self.tax_rate)
        form.addRow(tr("优惠政策"), self.policy)
        layout.addLayout(form)
        self.errors = _ErrorList(self, "item_errors")
        layout.addWidget(self.errors)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

        self.code_completer = LookupCompleter(lambda text: code_entries(search_codes(text, limit=30)), self)
        self.code_completer.attach(self.fields["tax_code"])
        self.code_completer.on_picked(self.set_code)
        self.fields["tax_code"].textChanged.connect(lambda _text: self._code_changed())
        self.policy.currentIndexChanged.connect(lambda _i: self._fill_rates())
        self.browse_button.clicked.connect(self.browse)
        for key, edit in self.fields.items():
            edit.textEdited.connect(lambda _text, key=key, edit=edit: self._typed_in(key, edit))
        if item is not None:
            for key in ("item_name", "tax_code", "spec", "unit"):
                self.fields[key].setText(getattr(item, key))
            self.fields["unit_price"].setText(format_plain(item.unit_price) if item.unit_price is not None else "")
            self.price_includes_tax.setChecked(item.price_includes_tax)
        self._code_changed(rate=item.tax_rate if item else "", policy=(item.policy or "") if item else "")

    def _code_changed(self, rate: str | None = None, policy: str | None = None) -> None:
        code = self.fields["tax_code"].text().strip()
        hit = self.choices.hit(code) if len(code) == 19 and code.isdigit() else None
        if hit is None:
            self.code_info.setText(tr("输入编码、名称或拼音首字母查找编码", "Type a code, words or pinyin initials"))
        else:
            name = self.fields["item_name"].text().strip() or tr("项目名称", "item name")
            state = "" if hit.allowed_on_a_line else tr("（不可用于开票）", " (not for invoice lines)")
            self.code_info.setText(f"{hit.name}：*{hit.short_name}*{name}{state}")
        chosen_policy = (self.policy.currentData() or "") if policy is None else policy
        self.policy.blockSignals(True)
        self.policy.clear()
        self.policy.addItem(tr("（无）", "(none)"), "")
        flags = self.choices.policies(code) if hit is not None else ()
        for flag in (*flags, *([chosen_policy] if chosen_policy and chosen_policy not in flags else [])):
            self.policy.addItem(policy_label(flag), flag)
        self.policy.setCurrentIndex(max(0, self.policy.findData(chosen_policy)))
        self.policy.blockSignals(False)
        self._fill_rates(rate)

    def _fill_rates(self, rate: str | None = None) -> None:
        code = self.fields["tax_code"].text().strip()
        chosen = (self.tax_rate.currentData() or "") if rate is None else rate
        self.tax_rate.clear()
        self.tax_rate.addItem(tr("（按编码）", "(by the code)"), "")
        rates = self.choices.rates(code, self.policy.currentData() or "")
        for value in (*rates, *([chosen] if chosen and chosen not in rates else [])):
            self.tax_rate.addItem(rate_label(value), value)
        self.tax_rate.setCurrentIndex(max(0, self.tax_rate.findData(chosen)))

    def set_code(self, hit: TaxCodeHit) -> None:
        self.choices.remember(hit)
        self.fields["tax_code"].setText(hit.code)
        self._typed_in("tax_code", self.fields["tax_code"])

    def browse(self) -> QDialog:
        from app.ui.taxcode_browser import TaxCodeBrowser

        text = self.fields["tax_code"].text().strip() or self.fields["item_name"].text().strip()
        browser = TaxCodeBrowser(self, on_pick=self.set_code, text=text)
        browser.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        browser.open()
        return browser

    def _typed_in(self, key: str, edit: QLineEdit) -> None:
        mark(edit, None)
        self.errors.drop(key)

    def typed(self) -> dict[str, Any]:
        values: dict[str, Any] = {key: edit.text() for key, edit in self.fields.items()}
        values["price_includes_tax"] = self.price_includes_tax.isChecked()
        values["tax_rate"] = self.tax_rate.currentData() or ""
        values["policy"] = self.policy.currentData() or ""
        return values

    def save(self) -> ItemEntry | None:
        try:
            if self.item is None:
                entry = create_item(self.typed(), clerk=self.clerk)
            else:
                entry = edit_item(self.item.id, self.typed(), clerk=self.clerk)
        except ValidationFailed as failed:
            self._show(failed.errors)
            return None
        self.saved = entry
        if self.on_saved is not None:
            self.on_saved(entry)
        self.accept()
        return entry

    def _show(self, errors: Sequence[FieldError]) -> None:
        by_field: dict[str, str] = {}
        for error in errors:
            by_field.setdefault(error.field, error.message(language()))
        for key, edit in self.fields.items():
            mark(edit, by_field.get(key))
        mark(self.tax_rate, by_field.get("tax_rate"))
        mark(self.policy, by_field.get("policy"))
        mark(self.price_includes_tax, by_field.get("price_includes_tax"))
        self.errors.show_errors(errors)


class ItemsDialog(QDialog, _FileTasks, _Editors):
    """项目信息: the catalog, searchable; add, edit, retire or restore, delete, import and export."""

    def __init__(self, parent: QWidget | None = None, clerk: str = "") -> None:
        super().__init__(parent)
        self._init_tasks()
        self.clerk = clerk
        self.items: list[ItemEntry] = []
        self.editors: list[QDialog] = []
        self.setWindowTitle(tr("项目信息", "Items"))
        self.resize(1160, 640)
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.search = QLineEdit(self)
        self.search.setObjectName("item_search")
        self.search.setPlaceholderText(tr("查找：名称、编码开头或拼音首字母",
                                          "Find: name, code prefix or pinyin initials"))
        self.search.setClearButtonEnabled(True)
        self.show_retired = QCheckBox(tr("显示已停用的项目", "Show retired items"), self)
        self.count_label = QLabel(self)
        top.addWidget(self.search, 1)
        top.addWidget(self.show_retired)
        top.addWidget(self.count_label)
        layout.addLayout(top)
        self.table = _table(self, ITEM_HEADINGS, "item_table")
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for column, width in enumerate((150, 0, 160, 90, 50, 80, 44, 84, 90, 110, 64)):
            if width:
                self.table.setColumnWidth(column, width)
        layout.addWidget(self.table, 1)
        self.errors = _ErrorList(self, "item_file_errors")
        layout.addWidget(self.errors)
        buttons = QHBoxLayout()
        self.add_button = QPushButton(tr("新增…", "New…"), self)
        self.edit_button = QPushButton(tr("修改…", "Edit…"), self)
        self.retire_button = QPushButton(tr("停用", "Retire"), self)
        self.delete_button = QPushButton(tr("删除", "Delete"), self)
        self.import_button = QPushButton(tr("导入…", "Import…"), self)
        self.export_button = QPushButton(tr("导出…", "Export…"), self)
        self.close_button = QPushButton(tr("关闭"), self)
        self.file_buttons = [self.import_button, self.export_button]
        for button in (self.add_button, self.edit_button, self.retire_button, self.delete_button):
            buttons.addWidget(button)
        buttons.addSpacing(16)
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.export_button)
        self.message = QLabel(self)
        self.message.setObjectName("item_message")
        self.message.setWordWrap(True)
        buttons.addWidget(self.message, 1)
        buttons.addWidget(self.close_button)
        for button in (self.add_button, self.edit_button, self.retire_button, self.delete_button, self.import_button,
                       self.export_button, self.close_button):
            button.setAutoDefault(False)
        layout.addLayout(buttons)

        self.search.textChanged.connect(lambda _text: self.reload())
        self.show_retired.toggled.connect(lambda _on: self.reload())
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.itemActivated.connect(lambda _item: self.edit_selected())
        self.add_button.clicked.connect(lambda: self.add_item())
        self.edit_button.clicked.connect(lambda: self.edit_selected())
        self.retire_button.clicked.connect(lambda: self.retire_selected())
        self.delete_button.clicked.connect(lambda: self.delete_selected())
        self.import_button.clicked.connect(lambda: self.import_file())
        self.export_button.clicked.connect(lambda: self.export_file())
        self.close_button.clicked.connect(self.close)
        self.reload()

    def reload(self) -> None:
        selected = self.selected()
        text = self.search.text().strip()
        if text:
            self.items = complete_items(text, LIST_LIMIT)
        else:
            self.items = list_items(include_retired=self.show_retired.isChecked())
        self.table.setRowCount(len(self.items))
        for row, item in enumerate(self.items):
            price = format_plain(item.unit_price) if item.unit_price is not None else ""
            values = (item.item_name, item.printed_name or item.item_name, item.tax_code, item.spec, item.unit, price,
                      tr("是") if item.price_includes_tax else "", rate_label(item.tax_rate),
                      policy_label(item.policy) if item.policy else "", item_state(item), str(item.use_count))
            for column, value in enumerate(values):
                cell = QTableWidgetItem(value)
                if column in (5, 10):
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if not item.code_usable:
                    cell.setBackground(WITHDRAWN_BACKGROUND)
                    if column == STATE:
                        cell.setForeground(WITHDRAWN_FOREGROUND)
                    cell.setToolTip(tr("编码 {code} 已从现行税收分类编码表停用：请修改为现行编码",
                                       "code {code} was withdrawn from the table in force: choose a code in force",
                                       code=item.tax_code))
                elif item.retired:
                    cell.setForeground(RETIRED_FOREGROUND)
                self.table.setItem(row, column, cell)
        flagged = sum(1 for item in self.items if not item.code_usable)
        count = tr("共 {n} 项", "{n} items", n=len(self.items))
        if flagged:
            count += tr("，{m} 项编码已停用", ", {m} on a withdrawn code", m=flagged)
        self.count_label.setText(count)
        self.count_label.setStyleSheet("color: #b71c1c;" if flagged else "")
        if selected is not None:
            self.select(selected.id)
        self._selection_changed()

    def flagged(self) -> list[str]:
        """Names of the items listed whose code was withdrawn."""
        return [item.item_name for item in self.items if not item.code_usable]

    def select(self, item_id: int) -> bool:
        for row, item in enumerate(self.items):
            if item.id == item_id:
                self.table.selectRow(row)
                return True
        return False

    def selected(self) -> ItemEntry | None:
        rows = self.table.selectionModel().selectedRows()
        row = rows[0].row() if rows else -1
        return self.items[row] if 0 <= row < len(self.items) else None

    def _selection_changed(self) -> None:
        item = self.selected()
        for button in (self.edit_button, self.retire_button, self.delete_button):
            button.setEnabled(item is not None)
        self.retire_button.setText(tr("恢复", "Restore") if item is not None and item.retired else tr("停用", "Retire"))

    def _editor(self, item: ItemEntry | None) -> ItemEditor:
        return self._open_tracked(ItemEditor(self, item, clerk=self.clerk, on_saved=self._saved))

    def add_item(self) -> ItemEditor:
        return self._editor(None)

    def edit_selected(self) -> ItemEditor | None:
        item = self.selected()
        return self._editor(item) if item is not None else None

    def _saved(self, entry: ItemEntry) -> None:
        self.message.setText(tr("已保存“{name}”", "Saved {name!r}", name=entry.item_name))
        self.reload()
        self.select(entry.id)

    def retire_selected(self) -> ItemEntry | None:
        item = self.selected()
        if item is None:
            return None
        entry = restore_item(item.id, self.clerk) if item.retired else retire_item(item.id, self.clerk)
        self.message.setText(tr("已恢复“{name}”", "Restored {name!r}", name=entry.item_name) if item.retired
                             else tr("已停用“{name}”", "Retired {name!r}", name=entry.item_name))
        if not self.show_retired.isChecked() and entry.retired:
            self.show_retired.setChecked(True)  # reloads: the retired item stays in sight, greyed
        else:
            self.reload()
        self.select(entry.id)
        return entry

    def delete_selected(self) -> bool:
        item = self.selected()
        if item is None:
            return False
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(self, tr("删除项目", "Delete item"),
                                      tr("删除“{name}”？", "Delete {name!r}?", name=item.item_name),
                                      buttons.Yes | buttons.No, buttons.No)
        if answer != buttons.Yes:
            return False
        try:
            delete_item(item.id, self.clerk)
        except ValidationFailed as failed:
            self.message.setText("")
            self.errors.show_errors(failed.errors)
            return False
        self.message.setText(tr("已删除“{name}”", "Deleted {name!r}", name=item.item_name))
        self.reload()
        return True

    def import_file(self, path: Path | None = None) -> BackgroundTask[Any] | None:
        path = path or _open_path(self, tr("导入项目信息", "Import items"))
        if path is None:
            return None
        source, clerk = path, self.clerk
        return self._run(self, lambda: catalog_files.import_items(source, clerk), self._imported,
                         tr("正在导入 {name}…", "Importing {name}…", name=path.name))

    def export_file(self, path: Path | None = None) -> BackgroundTask[Any] | None:
        path = path or _save_path(self, tr("导出项目信息", "Export items"), "项目信息.xlsx")
        if path is None:
            return None
        target, retired = path, self.show_retired.isChecked()
        return self._run(self, lambda: catalog_files.export_items(target, include_retired=retired),
                         self._exported(target), tr("正在导出…", "Exporting…"))


# --- customers ----------------------------------------------------------------------------------

CUSTOMER_HEADINGS = (("名称", "Name"), ("纳税人识别号", "Taxpayer id"), ("自然人", "Person"),
                     ("证件", "ID"), ("地址、电话", "Address, phone"), ("开户行及账号", "Bank, account"),
                     ("电子邮箱", "E-mail"), ("使用次数", "Used"))
USED = len(CUSTOMER_HEADINGS) - 1
CUSTOMER_TEXT_KEYS = ("name", "tax_id", "id_number", "address", "phone", "bank", "account", "email")


def id_type_label(code: str) -> str:
    names = ID_TYPES.get(code)
    if names is None:
        return code
    return names[0] if language() == "zh" else names[1]


class CustomerEditor(QDialog):
    """One customer, new or edited; 保存 goes through create_customer / edit_customer."""

    def __init__(self, parent: QWidget | None, customer: CustomerEntry | None = None, clerk: str = "",
                 on_saved: Callable[[CustomerEntry], object] | None = None) -> None:
        super().__init__(parent)
        self.customer = customer
        self.clerk = clerk
        self.on_saved = on_saved
        self.saved: CustomerEntry | None = None
        self.setWindowTitle(tr("修改客户", "Edit customer") if customer else tr("新增客户", "New customer"))
        self.resize(560, 460)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.fields: dict[str, QLineEdit] = {}
        for key in CUSTOMER_TEXT_KEYS:
            edit = QLineEdit(self)
            edit.setObjectName(f"customer_{key}")
            self.fields[key] = edit
        self.natural_person = QCheckBox(tr("自然人", "Natural person"), self)
        self.natural_person.setObjectName("customer_natural_person")
        self.id_type = QComboBox(self)
        self.id_type.setObjectName("customer_id_type")
        self.id_type.addItem(tr("（无）", "(none)"), "")
        for code in ID_TYPES:
            self.id_type.addItem(f"{code} {id_type_label(code)}", code)
        self.tax_id_confirmed = QCheckBox(tr("校验位不符，但我已核实此纳税人识别号无误"), self)
        self.tax_id_confirmed.setObjectName("customer_tax_id_confirmed")
        self.tax_id_confirmed.setVisible(False)
        self.short_name_confirmed = QCheckBox(tr("名称较短，但不是自然人（已确认）",
                                                 "A short name, but not a natural person (confirmed)"), self)
        self.short_name_confirmed.setObjectName("customer_short_name_confirmed")
        name_row = QHBoxLayout()
        name_row.addWidget(self.fields["name"], 1)
        name_row.addWidget(self.natural_person)
        form.addRow(tr("名称"), name_row)
        form.addRow("", self.short_name_confirmed)
        form.addRow(tr("纳税人识别号"), self.fields["tax_id"])
        form.addRow("", self.tax_id_confirmed)
        form.addRow(tr("证件类型", "ID type"), self.id_type)
        form.addRow(tr("证件号码", "ID number"), self.fields["id_number"])
        for key, label in (("address", "地址"), ("phone", "电话"), ("bank", "开户行"), ("account", "账号"),
                           ("email", "电子邮箱")):
            form.addRow(tr(label, "E-mail" if key == "email" else None), self.fields[key])
        layout.addLayout(form)
        self.errors = _ErrorList(self, "customer_errors")
        layout.addWidget(self.errors)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.fields["tax_id"].textEdited.connect(lambda _text: self.tax_id_confirmed.setChecked(False))
        for key, edit in self.fields.items():
            edit.textEdited.connect(lambda _text, key=key, edit=edit: self._typed_in(key, edit))
        # A person's name is no organisation's: the confirmation is for organisations only.
        self.natural_person.toggled.connect(lambda on: self.short_name_confirmed.setEnabled(not on))
        if customer is not None:
            for key, edit in self.fields.items():
                edit.setText(getattr(customer, key))
            self.natural_person.setChecked(customer.natural_person)
            self.short_name_confirmed.setEnabled(not customer.natural_person)
            self.id_type.setCurrentIndex(max(0, self.id_type.findData(customer.id_type)))
            self.short_name_confirmed.setChecked(customer.short_name_confirmed)

    def _typed_in(self, key: str, edit: QLineEdit) -> None:
        mark(edit, None)
        self.errors.drop(key)

    def typed(self) -> dict[str, Any]:
        values: dict[str, Any] = {key: edit.text() for key, edit in self.fields.items()}
        values["natural_person"] = self.natural_person.isChecked()
        values["id_type"] = self.id_type.currentData() or ""
        values["short_name_confirmed"] = self.short_name_confirmed.isChecked()
        if self.tax_id_confirmed.isChecked():
            values["tax_id_confirmed"] = True
        return values

    def save(self) -> CustomerEntry | None:
        try:
            if self.customer is None:
                entry = create_customer(self.typed(), clerk=self.clerk)
            else:
                entry = edit_customer(self.customer.id, self.typed(), clerk=self.clerk)
        except ValidationFailed as failed:
            self._show(failed.errors)
            return None
        self.saved = entry
        if self.on_saved is not None:
            self.on_saved(entry)
        self.accept()
        return entry

    def _show(self, errors: Sequence[FieldError]) -> None:
        by_field: dict[str, str] = {}
        overridable = False
        for error in errors:
            key = error.field.removeprefix("customer.")
            by_field.setdefault(key, error.message(language()))
            overridable = overridable or (key == "tax_id" and error.overridable)
        for key, edit in self.fields.items():
            mark(edit, by_field.get(key))
        mark(self.natural_person, by_field.get("natural_person"))
        mark(self.id_type, by_field.get("id_type"))
        self.tax_id_confirmed.setVisible(overridable or self.tax_id_confirmed.isChecked())
        self.errors.show_errors(errors)


class CustomersDialog(QDialog, _FileTasks, _Editors):
    """客户信息: the customer book, searchable; add, edit, merge the selected, import and export."""

    def __init__(self, parent: QWidget | None = None, clerk: str = "") -> None:
        super().__init__(parent)
        self._init_tasks()
        self.clerk = clerk
        self.customers: list[CustomerEntry] = []
        self.editors: list[QDialog] = []
        self.setWindowTitle(tr("客户信息", "Customers"))
        self.resize(1180, 600)
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.search = QLineEdit(self)
        self.search.setObjectName("customer_search")
        self.search.setPlaceholderText(tr("查找：名称、税号开头或拼音首字母",
                                          "Find: name, tax id's start or pinyin initials"))
        self.search.setClearButtonEnabled(True)
        self.count_label = QLabel(self)
        top.addWidget(self.search, 1)
        top.addWidget(self.count_label)
        layout.addLayout(top)
        self.table = _table(self, CUSTOMER_HEADINGS, "customer_table")
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(40)
        for column, width in enumerate((0, 165, 52, 170, 200, 200, 120, 64)):
            if width:
                self.table.setColumnWidth(column, width)
        layout.addWidget(self.table, 1)
        self.errors = _ErrorList(self, "customer_file_errors")
        layout.addWidget(self.errors)
        buttons = QHBoxLayout()
        self.add_button = QPushButton(tr("新增…", "New…"), self)
        self.edit_button = QPushButton(tr("修改…", "Edit…"), self)
        self.merge_button = QPushButton(tr("合并所选…", "Merge selected…"), self)
        self.merge_button.setToolTip(tr("选中几个重复的客户，当前行为保留的客户",
                                        "Select duplicates; the current row is kept"))
        self.import_button = QPushButton(tr("导入…", "Import…"), self)
        self.export_button = QPushButton(tr("导出…", "Export…"), self)
        self.close_button = QPushButton(tr("关闭"), self)
        self.file_buttons = [self.import_button, self.export_button]
        for button in (self.add_button, self.edit_button, self.merge_button):
            buttons.addWidget(button)
        buttons.addSpacing(16)
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.export_button)
        self.message = QLabel(self)
        self.message.setObjectName("customer_message")
        self.message.setWordWrap(True)
        buttons.addWidget(self.message, 1)
        buttons.addWidget(self.close_button)
        for button in (self.add_button, self.edit_button, self.merge_button, self.import_button, self.export_button,
                       self.close_button):
            button.setAutoDefault(False)
        layout.addLayout(buttons)

        self.search.textChanged.connect(lambda _text: self.reload())
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.itemActivated.connect(lambda _item: self.edit_selected())
        self.add_button.clicked.connect(lambda: self.add_customer())
        self.edit_button.clicked.connect(lambda: self.edit_selected())
        self.merge_button.clicked.connect(lambda: self.merge_selected())
        self.import_button.clicked.connect(lambda: self.import_file())
        self.export_button.clicked.connect(lambda: self.export_file())
        self.close_button.clicked.connect(self.close)
        self.reload()

    def reload(self) -> None:
        current = self.current()
        text = self.search.text().strip()
        self.customers = complete_customers(text, LIST_LIMIT) if text else list_customers()
        self.table.setRowCount(len(self.customers))
        for row, c in enumerate(self.customers):
            identity = f"{id_type_label(c.id_type)} {c.id_number}" if c.id_type else ""
            values = (c.name, c.tax_id, tr("是") if c.natural_person else "", identity,
                      f"{c.address} {c.phone}".strip(), f"{c.bank} {c.account}".strip(), c.email, str(c.use_count))
            for column, value in enumerate(values):
                cell = QTableWidgetItem(value)
                if value and column != USED:
                    cell.setToolTip(value)
                if column == USED:
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    if c.last_used_at:
                        used_at = c.last_used_at[:16].replace("T", " ")
                        cell.setToolTip(tr("最近使用：{at}", "Last used {at}", at=used_at))
                self.table.setItem(row, column, cell)
        self.count_label.setText(tr("共 {n} 个客户", "{n} customers", n=len(self.customers)))
        if current is not None:
            self.select(current.id)
        self._selection_changed()

    def select(self, customer_id: int, add: bool = False) -> bool:
        for row, customer in enumerate(self.customers):
            if customer.id == customer_id:
                if add:
                    model = self.table.selectionModel()
                    flags = model.SelectionFlag.Select | model.SelectionFlag.Rows
                    model.select(self.table.model().index(row, 0), flags)
                    model.setCurrentIndex(self.table.model().index(row, 0), model.SelectionFlag.NoUpdate)
                else:
                    self.table.selectRow(row)
                return True
        return False

    def current(self) -> CustomerEntry | None:
        row = self.table.currentRow()
        return self.customers[row] if 0 <= row < len(self.customers) else None

    def selected(self) -> list[CustomerEntry]:
        rows = sorted(index.row() for index in self.table.selectionModel().selectedRows())
        return [self.customers[row] for row in rows if 0 <= row < len(self.customers)]

    def _selection_changed(self) -> None:
        chosen = self.selected()
        self.edit_button.setEnabled(self.current() is not None and bool(chosen))
        self.merge_button.setEnabled(len(chosen) >= 2)

    def _editor(self, customer: CustomerEntry | None) -> CustomerEditor:
        return self._open_tracked(CustomerEditor(self, customer, clerk=self.clerk, on_saved=self._saved))

    def add_customer(self) -> CustomerEditor:
        return self._editor(None)

    def edit_selected(self) -> CustomerEditor | None:
        customer = self.current()
        return self._editor(customer) if customer is not None else None

    def _saved(self, entry: CustomerEntry) -> None:
        self.message.setText(tr("已保存“{name}”", "Saved {name!r}", name=entry.name))
        self.reload()
        self.select(entry.id)

    def merge_selected(self) -> CustomerEntry | None:
        """Merge the selected customers into the current one (the row with the cursor), after asking."""
        keep = self.current()
        chosen = self.selected()
        if keep is None or len(chosen) < 2 or keep not in chosen:
            return None
        merged = [c for c in chosen if c.id != keep.id]
        names = "、".join(f"{c.name} {c.tax_id}".strip() for c in merged)
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(
            self, tr("合并客户", "Merge customers"),
            tr("把 {names} 合并到“{keep}”？它们的发票将归到“{keep}”名下，合并后不能撤销。",
               "Merge {names} into {keep!r}? Their invoices will point to it; this cannot be undone.",
               names=names, keep=keep.name),
            buttons.Yes | buttons.No, buttons.No)
        if answer != buttons.Yes:
            return None
        try:
            entry = merge_customers(keep.id, [c.id for c in merged], clerk=self.clerk)
        except ValidationFailed as failed:
            self.errors.show_errors(failed.errors)
            return None
        self.message.setText(tr("已合并 {n} 个客户到“{name}”", "Merged {n} customer(s) into {name!r}",
                                n=len(merged), name=entry.name))
        self.errors.show_errors([])
        self.reload()
        self.select(entry.id)
        return entry

    def import_file(self, path: Path | None = None) -> BackgroundTask[Any] | None:
        path = path or _open_path(self, tr("导入客户信息", "Import customers"))
        if path is None:
            return None
        source, clerk = path, self.clerk
        return self._run(self, lambda: catalog_files.import_customers(source, clerk), self._imported,
                         tr("正在导入 {name}…", "Importing {name}…", name=path.name))

    def export_file(self, path: Path | None = None) -> BackgroundTask[Any] | None:
        path = path or _save_path(self, tr("导出客户信息", "Export customers"), "客户信息.xlsx")
        if path is None:
            return None
        target = path
        return self._run(self, lambda: catalog_files.export_customers(target), self._exported(target),
                         tr("正在导出…", "Exporting…"))
