"""The editable line table of the invoice form: what the clerk types, plus amount and tax shown read-only.

A 数电 line: the clerk types the item name (项目名称) and picks its tax classification code (税收分类编码);
the table then shows the printed name `*简称*项目名称`. Typing in the name offers items of the catalog,
typing in the code offers codes (by digits, words or pinyin initials); the rate and policy cells offer
what the chosen code allows (app/ui/line_choices.py asks the core's own checks).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemDelegate,
    QAbstractItemView,
    QApplication,
    QComboBox,
    QHeaderView,
    QLineEdit,
    QStyledItemDelegate,
    QTableView,
    QWidget,
)

from app.core.money import format_money_grouped, format_plain
from app.core.tax import find_rate
from app.core.taxcodes import CODE_LENGTH, POLICY_BY_FLAG, assembled_name
from app.core.validation import RATE_CODE_OF_POLICY
from app.store.catalog_queries import ItemEntry
from app.store.taxcode_search import TaxCodeHit
from app.ui.completion import Entry, LookupCompleter
from app.ui.i18n import language, tr
from app.ui.line_choices import ALL_POLICIES, ALL_RATES, LineChoices
from app.ui.marking import INVALID_BACKGROUND

# column key (the protocol's line field) and heading
COLUMNS = (("item_name", "项目名称"), ("tax_code", "税收分类编码"), ("spec", "规格型号"), ("unit", "单位"),
           ("quantity", "数量"), ("unit_price", "单价"), ("amount", "金额"), ("tax_rate", "税率/征收率"),
           ("policy", "优惠政策"), ("tax", "税额"))
KEYS = tuple(key for key, _ in COLUMNS)
EDITABLE = ("item_name", "tax_code", "spec", "unit", "quantity", "unit_price", "tax_rate", "policy")
# Enter that ends typing in a cell goes on to the next of these; from the rate (or the policy) to the next line.
ENTER_ORDER = ("item_name", "tax_code", "spec", "unit", "quantity", "unit_price", "tax_rate")
ITEM_NAME, TAX_CODE, SPEC, UNIT, QUANTITY, UNIT_PRICE, AMOUNT, TAX_RATE, POLICY, TAX = range(len(COLUMNS))
NAME = ITEM_NAME
DEFAULT_RATE = "0.13"
ROOT = QModelIndex()  # the invisible root: a table's rows have no other parent
# What an item of the catalog gives a line (app.services.catalog_lines fills them).
ITEM_FIELDS = ("tax_code", "item_name", "spec", "unit", "unit_price", "tax_rate", "policy")
DISCOUNT_FOREGROUND = QColor("#555555")
COMPLETIONS = 30


def rate_label(code: str) -> str:
    rate = find_rate(code)
    return rate.label(language()) if rate else code


def policy_label(flag: str) -> str:
    policy = POLICY_BY_FLAG.get(flag)
    return f"{flag} {policy.name}" if policy is not None else flag


def _blank_row(rate: str) -> dict[str, Any]:
    return dict.fromkeys(EDITABLE, "") | {"tax_rate": rate, "short_name": "", "item": None}


class LineTableModel(QAbstractTableModel):
    """Rows of typed text; amount and tax come from the form's latest figures."""

    edited = Signal(int)  # the row typed in, or -1 when lines were added or removed

    def __init__(self, parent=None, choices: LineChoices | None = None) -> None:
        super().__init__(parent)
        self.rows: list[dict[str, Any]] = []
        self.figures: dict[int, tuple[Decimal, Decimal]] = {}
        self.errors: dict[tuple[int, str], str] = {}
        self.prices_include_tax = False
        self.choices = choices or LineChoices()

    # --- the form's side --------------------------------------------------------------------

    def add_line(self, at: int | None = None) -> int:
        at = len(self.rows) if at is None else at
        above = self.rows[at - 1] if 0 < at <= len(self.rows) else None
        if above is not None and above.get("discount"):
            above = self.goods_of(at - 1)  # a discount has no rate of its own: the line it reduces has
        rate = above["tax_rate"] if above is not None else DEFAULT_RATE
        self.beginInsertRows(QModelIndex(), at, at)
        self.rows.insert(at, _blank_row(rate or DEFAULT_RATE))
        self.endInsertRows()
        self.edited.emit(-1)
        return at

    def set_rows(self, rows: list[dict[str, Any]]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def line_from_body(self, line: dict[str, Any]) -> dict[str, Any]:
        """A row from a body's line (load_draft): its code's short name looked up, the rate as the table shows it."""
        row = _blank_row("")
        for key in EDITABLE:
            value = line.get(key)
            row[key] = "" if value is None else str(value)
        if find_rate(row["tax_rate"]) == find_rate("0") and row["policy"] in RATE_CODE_OF_POLICY:
            # v2 sends 免税 / 不征税 as rate 0 with its flag: the table shows the rate that means it.
            row["tax_rate"], row["policy"] = RATE_CODE_OF_POLICY[row["policy"]], ""
        printed = str(line.get("name") or "")
        if not row["item_name"] and printed:
            # A line of a body from before 数电 has only its printed name: the item name is what follows
            # a "*简称*" it may start with; the clerk picks the code.
            short, sep, rest = printed[1:].partition("*") if printed.startswith("*") else ("", "", printed)
            row["item_name"] = rest if sep and short else printed
        row["short_name"] = self.choices.short_name(row["tax_code"])
        if line.get("nature") == "discount" or line.get("discount") is True:
            amount = str(line.get("amount") or "").lstrip("-")
            return {**row, "discount": "1", "discount_amount": amount}
        return row

    def add_discount(self, goods_row: int) -> int | None:
        """A 折扣行 right after a goods line (its code, name and rate follow that line); None if not possible."""
        if not 0 <= goods_row < len(self.rows) or self.is_discount(goods_row) or self.is_blank(goods_row):
            return None
        if self.is_discount(goods_row + 1):
            return goods_row + 1  # one discount per line: go to the one it has
        at = goods_row + 1
        self.beginInsertRows(QModelIndex(), at, at)
        self.rows.insert(at, _blank_row("") | {"discount": "1", "discount_amount": ""})  # "1": a 折扣行
        self.endInsertRows()
        self.edited.emit(-1)
        return at

    def is_discount(self, row: int) -> bool:
        return 0 <= row < len(self.rows) and bool(self.rows[row].get("discount"))

    def goods_of(self, row: int) -> dict[str, Any]:
        """The line a discount row reduces: the one right above it."""
        return self.rows[row - 1] if row > 0 else _blank_row("")

    def remove_line(self, row: int) -> None:
        if not 0 <= row < len(self.rows):
            return
        # A goods line goes with its discount: a discount under another line would be wrong.
        last = row + 1 if self.is_discount(row + 1) and not self.is_discount(row) else row
        self.beginRemoveRows(QModelIndex(), row, last)
        del self.rows[row:last + 1]
        self.endRemoveRows()
        if not self.rows:
            self.add_line()
        self.edited.emit(-1)

    def is_blank(self, row: int) -> bool:
        """A row with nothing typed but the rate it inherited: left out of the draft."""
        if self.is_discount(row):
            return False
        return not any(str(self.rows[row][key]).strip() for key in EDITABLE if key != "tax_rate")

    def printed_name(self, row: int) -> str:
        """*简称*项目名称 once the code is known; the item name as typed before."""
        values = self.goods_of(row) if self.is_discount(row) else self.rows[row]
        short, name = values["short_name"], values["item_name"]
        return assembled_name(short, name) if short and name else name

    def draft_line(self, row: int) -> dict[str, Any]:
        """The protocol's line as typed; a discount takes its line's code, name, rate and policy, and is negative.

        A line taken from the catalog names its item too (`item`), which the issue service counts."""
        if not self.is_discount(row):
            values = self.rows[row]
            line: dict[str, Any] = {key: values[key] for key in EDITABLE}
            if values.get("item") is not None:
                line["item"] = values["item"]
            return line
        goods = self.goods_of(row)
        typed = self.rows[row]["discount_amount"].strip()
        amount = typed if not typed or typed.startswith("-") else "-" + typed
        return {"nature": "discount", "tax_code": goods["tax_code"], "item_name": goods["item_name"],
                "tax_rate": goods["tax_rate"], "policy": goods["policy"], "amount": amount}

    def set_cell(self, row: int, key: str, value: str) -> None:
        self.setData(self.index(row, KEYS.index(key)), value, Qt.ItemDataRole.EditRole)

    def set_code(self, row: int, hit: TaxCodeHit) -> None:
        """The code picked for a line: its short name, and the rate it brings (see LineChoices.rate_for)."""
        self.choices.remember(hit)
        self.set_cell(row, "tax_code", hit.code)

    def fill_from_item(self, row: int, line: dict[str, Any], item_id: int) -> None:
        """A line filled from a catalog item (the issue service's own expansion of `{"item": id}`)."""
        values = self.rows[row]
        for key in ITEM_FIELDS:
            value = line.get(key)
            values[key] = "" if value is None else str(value)
        values["short_name"] = self.choices.short_name(values["tax_code"])
        values["item"] = item_id
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))
        self.edited.emit(row)

    def show_results(self, figures: dict[int, tuple[Decimal, Decimal]], errors: dict[tuple[int, str], str]) -> None:
        self.figures = figures
        self.errors = errors
        if self.rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, len(COLUMNS) - 1))

    def set_prices_include_tax(self, on: bool) -> None:
        self.prices_include_tax = on
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, UNIT_PRICE, UNIT_PRICE)

    def refresh_codes(self) -> None:
        """After the table of codes changed: short names looked up again."""
        self.choices.refresh()
        for values in self.rows:
            values["short_name"] = self.choices.short_name(values["tax_code"])
        if self.rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, len(COLUMNS) - 1))

    # --- Qt model ---------------------------------------------------------------------------

    def rowCount(self, parent=ROOT) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=ROOT) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Vertical:
            return str(section + 1)
        if section == UNIT_PRICE and self.prices_include_tax:
            return tr("单价(含税)")
        return tr(COLUMNS[section][1])

    def flags(self, index):
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        key = KEYS[index.column()]
        if self.is_discount(index.row()):
            return base | Qt.ItemFlag.ItemIsEditable if key == "amount" else base
        if key in EDITABLE:
            return base | Qt.ItemFlag.ItemIsEditable
        return base

    def _tooltip(self, row: int, key: str) -> str | None:
        error = self.errors.get((row, key))
        if error:
            return error
        values = self.goods_of(row) if self.is_discount(row) else self.rows[row]
        if key == "tax_code" and values["tax_code"]:
            hit = self.choices.hit(values["tax_code"])
            return f"{hit.code} {hit.name}（*{hit.short_name}*）" if hit is not None else None
        if key == "item_name" and values.get("item") is not None and not self.is_discount(row):
            return tr("来自项目信息：{name}", "from the item catalog: {name}", name=values["item_name"])
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row, key = index.row(), KEYS[index.column()]
        discount = self.is_discount(row)
        if role == Qt.ItemDataRole.BackgroundRole:
            return INVALID_BACKGROUND if self.errors.get((row, key)) else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row, key)
        if role == Qt.ItemDataRole.ForegroundRole:
            return DISCOUNT_FOREGROUND if discount else None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if key in ("quantity", "unit_price", "amount", "tax"):
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if key in ("unit", "tax_rate"):
                return int(Qt.AlignmentFlag.AlignCenter)
            return None
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return None
        if discount and key == "amount" and role == Qt.ItemDataRole.EditRole:
            return self.rows[row]["discount_amount"]
        if key in ("amount", "tax"):
            figures = self.figures.get(row)
            if figures is None:
                return self.draft_line(row)["amount"] if discount and key == "amount" else ""
            return format_money_grouped(figures[0] if key == "amount" else figures[1])
        display = role == Qt.ItemDataRole.DisplayRole
        if discount:
            goods = self.goods_of(row)
            if key == "item_name":
                return tr("折扣（{name}）", "discount ({name})", name=self.printed_name(row))
            if key == "tax_code":
                return goods["tax_code"]
            if key == "tax_rate":
                return rate_label(goods["tax_rate"])
            if key == "policy":
                return policy_label(goods["policy"])
            return ""
        value = self.rows[row][key]
        if display and key == "item_name":
            return self.printed_name(row)
        if display and key == "tax_rate":
            return rate_label(value)
        if display and key == "policy":
            return policy_label(value)
        return value

    def setData(self, index, value, role=Qt.ItemDataRole.EditRole):
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        row, key = index.row(), KEYS[index.column()]
        if self.is_discount(row):
            if key != "amount":
                return False
            key = "discount_amount"
        elif key not in EDITABLE:
            return False
        text = "" if value is None else str(value)
        if key in ("tax_code", "quantity", "unit_price", "discount_amount"):
            text = text.strip()
        values = self.rows[row]
        if values[key] == text:
            return True
        values[key] = text
        if values.get("item") is not None and (key == "item_name" or (key in ITEM_FIELDS and not text)):
            # Another name is another item; a field of the item cleared: the row is what it shows, no more.
            values["item"] = None
        first, last = index, index
        if key == "tax_code":
            values["short_name"] = self.choices.short_name(text)
            values["tax_rate"] = self.choices.rate_for(text, values["policy"], values["tax_rate"])
            first, last = self.index(row, 0), self.index(row, len(COLUMNS) - 1)
        elif key == "policy" and values["tax_code"]:
            values["tax_rate"] = self.choices.rate_for(values["tax_code"], text, values["tax_rate"])
            last = self.index(row, len(COLUMNS) - 1)
            first = self.index(row, 0)
        self.dataChanged.emit(first, last)
        self.edited.emit(row)
        return True


# --- editors ------------------------------------------------------------------------------------

def item_entries(items: Sequence[ItemEntry]) -> list[Entry]:
    entries = []
    for item in items:
        parts = [item.item_name]
        if item.spec:
            parts.append(f"[{item.spec}]")
        parts.append(f"*{item.short_name}*" if item.short_name else item.tax_code)
        if item.unit_price is not None:
            price = f"¥{format_plain(item.unit_price)}" + (f"/{item.unit}" if item.unit else "")
            parts.append(price + (tr("(含税)") if item.price_includes_tax else ""))
        parts.append(rate_label(item.tax_rate))
        if not item.code_usable:
            parts.append(tr("（编码已停用）", "(code withdrawn)"))
        entries.append(Entry("  ".join(parts), item.item_name, item,
                             tooltip=f"{item.tax_code} {item.printed_name}"))
    return entries


def code_entries(hits: Sequence[TaxCodeHit]) -> list[Entry]:
    entries = []
    for hit in hits:
        rates = "、".join(rate_label(r) for r in hit.rates)
        shown = f"{hit.code}  {hit.name}  *{hit.short_name}*" + (f"  {rates}" if rates else "")
        if not hit.usable:
            shown += tr("（已停用）", " (withdrawn)")
        entries.append(Entry(shown, hit.code, hit, tooltip=hit.explanation[:300]))
    return entries


class _LookupDelegate(QStyledItemDelegate):
    """A line edit whose completer asks a read model; a pick fills the line through `picked(row, payload)`."""

    enter_takes_first = False

    def __init__(self, view: LineTableView) -> None:
        super().__init__(view)
        self.view = view
        self.search: Callable[[str], list[Entry]] = lambda text: []
        self.picked: Callable[[int, Any], object] = lambda row, payload: None
        self.editor: QLineEdit | None = None
        self.completer: LookupCompleter | None = None

    def createEditor(self, parent, option, index):
        editor = QLineEdit(parent)
        completer = LookupCompleter(self.search, editor, enter_takes_first=self.enter_takes_first)
        completer.attach(editor)
        where = QPersistentModelIndex(index)
        completer.on_picked(lambda payload: self._picked(editor, where, payload))
        self.editor, self.completer = editor, completer
        editor.destroyed.connect(lambda _=None: self._forget(editor))
        return editor

    def _forget(self, editor: QWidget) -> None:
        if self.editor is editor:
            self.editor = self.completer = None

    def _picked(self, editor: QLineEdit, where: QPersistentModelIndex, payload: Any) -> None:
        # The completer is still handling its popup's event: end the edit once it returned.
        def finish() -> None:
            model = self.view.model()
            if not where.isValid() or model is None:
                return
            index = model.index(where.row(), where.column())
            if not index.isValid():
                return
            if self.view.indexWidget(index) is editor:
                self.commitData.emit(editor)
                self.closeEditor.emit(editor, QAbstractItemDelegate.EndEditHint.NoHint)
            self.picked(index.row(), payload)

        QTimer.singleShot(0, finish)

    def setEditorData(self, editor, index):
        if editor.hasFocus() and editor.isModified():
            return  # the clerk is typing: a refresh of the row must not take it away
        editor.setText(index.data(Qt.ItemDataRole.EditRole) or "")

    def setModelData(self, editor, model, index):
        model.setData(index, editor.text(), Qt.ItemDataRole.EditRole)


class ItemNameDelegate(_LookupDelegate):
    """The item name as typed; the catalog's items offered by name part, code prefix or pinyin initials."""


class TaxCodeDelegate(_LookupDelegate):
    """The code, typed or found: digits, words or pinyin initials offer codes; Enter on text that is not a
    code takes the best match offered."""

    enter_takes_first = True

    def setModelData(self, editor, model, index):
        text = editor.text().strip()
        completer = self.completer if self.editor is editor else None
        entries = completer.entries if completer is not None else []
        if text and len(text) != CODE_LENGTH and entries:  # not a code: the first of the codes offered
            hit = entries[0].payload
            if isinstance(model, LineTableModel) and isinstance(hit, TaxCodeHit):
                model.set_code(index.row(), hit)
                return
        model.setData(index, text, Qt.ItemDataRole.EditRole)


class RateDelegate(QStyledItemDelegate):
    """The rate is picked from those the line's code allows (every rate in force before a code is chosen)."""

    def __init__(self, view: LineTableView) -> None:
        super().__init__(view)

    def createEditor(self, parent, option, index):
        combo = QComboBox(parent)
        model = index.model()
        codes: Sequence[str] = ALL_RATES
        current = index.data(Qt.ItemDataRole.EditRole) or ""
        if isinstance(model, LineTableModel):
            values = model.rows[index.row()]
            codes = model.choices.rates(values["tax_code"], values["policy"])
        if current and current not in codes:
            codes = (*codes, current)
        for code in codes:
            combo.addItem(rate_label(code), code)
        return combo

    def setEditorData(self, editor, index):
        position = editor.findData(index.data(Qt.ItemDataRole.EditRole))
        editor.setCurrentIndex(max(position, 0))

    def setModelData(self, editor, model, index):
        model.setData(index, editor.currentData(), Qt.ItemDataRole.EditRole)


class PolicyDelegate(QStyledItemDelegate):
    """The policy flag (优惠政策标识), optional: none, or one the line's code allows."""

    def createEditor(self, parent, option, index):
        combo = QComboBox(parent)
        model = index.model()
        flags: Sequence[str] = ALL_POLICIES
        current = index.data(Qt.ItemDataRole.EditRole) or ""
        if isinstance(model, LineTableModel):
            flags = model.choices.policies(model.rows[index.row()]["tax_code"])
        combo.addItem(tr("（无）", "(none)"), "")
        for flag in (*flags, *([current] if current and current not in flags else [])):
            combo.addItem(policy_label(flag), flag)
        return combo

    def setEditorData(self, editor, index):
        position = editor.findData(index.data(Qt.ItemDataRole.EditRole) or "")
        editor.setCurrentIndex(max(position, 0))

    def setModelData(self, editor, model, index):
        model.setData(index, editor.currentData(), Qt.ItemDataRole.EditRole)


class LineTableView(QTableView):
    """Keys as in the tax-control invoicing software clerks know: Enter, after typing in a cell or on a cell
    left empty, goes on to the next cell of the line, and from the last one (the rate) to the next line, adding
    it when there is none. Ctrl+Del removes the line, Del empties the cell, Ctrl+V pastes cells copied from a
    spreadsheet without F2."""

    line_wanted = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.item_delegate = ItemNameDelegate(self)
        self.code_delegate = TaxCodeDelegate(self)
        self.setItemDelegateForColumn(ITEM_NAME, self.item_delegate)
        self.setItemDelegateForColumn(TAX_CODE, self.code_delegate)
        self.setItemDelegateForColumn(TAX_RATE, RateDelegate(self))
        self.setItemDelegateForColumn(POLICY, PolicyDelegate(self))
        triggers = QAbstractItemView.EditTrigger
        self.setEditTriggers(triggers.DoubleClicked | triggers.EditKeyPressed | triggers.AnyKeyPressed
                             | triggers.SelectedClicked)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setTabKeyNavigation(False)  # Tab leaves the table, so the form's Tab order holds
        self.setWordWrap(False)
        self.verticalHeader().setDefaultSectionSize(26)

    def setModel(self, model) -> None:
        super().setModel(model)
        header = self.horizontalHeader()
        header.setSectionResizeMode(ITEM_NAME, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(40)
        for column, width in ((TAX_CODE, 166), (SPEC, 80), (UNIT, 48), (QUANTITY, 64), (UNIT_PRICE, 90),
                              (AMOUNT, 96), (TAX_RATE, 84), (POLICY, 84), (TAX, 84)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            self.setColumnWidth(column, width)

    def closeEditor(self, editor, hint) -> None:
        super().closeEditor(editor, hint)
        # Qt's delegates close an editor with SubmitModelCache only for Enter/Return.
        if hint != QAbstractItemDelegate.EndEditHint.SubmitModelCache:
            return
        current = self.currentIndex()
        if not current.isValid():
            return
        key = KEYS[current.column()]
        if key in ENTER_ORDER and key != ENTER_ORDER[-1]:
            self.setCurrentIndex(self.model().index(current.row(), KEYS.index(ENTER_ORDER[ENTER_ORDER.index(key) + 1])))
        else:
            self.next_line(current.row())

    def next_line(self, row: int) -> None:
        """On to the name of the line after row; on the last line the next one is added (blank lines are left out
        of the invoice). No editor is opened: typing starts one, as anywhere in the table."""
        row += 1
        model = self.model()
        if row >= model.rowCount() and isinstance(model, LineTableModel):
            row = model.add_line()
        self.setCurrentIndex(self.model().index(row, NAME))

    def keyPressEvent(self, event) -> None:
        key, modifiers = event.key(), event.modifiers()
        control = bool(modifiers & Qt.KeyboardModifier.ControlModifier)
        editing = self.state() == QAbstractItemView.State.EditingState
        current = self.currentIndex()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not control and not editing:
            # Enter on a cell left empty (规格型号, 单位…) skips it like Enter after typing: on along the line,
            # so what is typed next lands in the next column, not on a new line.
            column = KEYS[current.column()] if current.isValid() else ENTER_ORDER[-1]
            if current.isValid() and column in ENTER_ORDER and column != ENTER_ORDER[-1]:
                following = ENTER_ORDER[ENTER_ORDER.index(column) + 1]
                self.setCurrentIndex(self.model().index(current.row(), KEYS.index(following)))
            elif current.isValid() and current.row() < self.model().rowCount() - 1:
                self.setCurrentIndex(self.model().index(current.row() + 1, NAME))
            else:
                self.line_wanted.emit()
            return
        model = self.model()
        if not editing and current.isValid() and isinstance(model, LineTableModel):
            if key == Qt.Key.Key_Delete and control:  # Ctrl+Del: the line goes (with its discount)
                model.remove_line(current.row())
                row = min(current.row(), model.rowCount() - 1)
                self.setCurrentIndex(model.index(row, current.column()))
                return
            if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and not modifiers:
                if KEYS[current.column()] in EDITABLE or model.is_discount(current.row()):
                    model.setData(current, "")  # the cell is emptied, as in a spreadsheet
                return
            if event.matches(QKeySequence.StandardKey.Paste):
                self.paste(QApplication.clipboard().text())
                return
        super().keyPressEvent(event)

    def paste(self, text: str) -> None:
        """Text copied from a spreadsheet (tabs between cells, a line a row) into the cells from the current one,
        with no F2 first; lines are added as needed. Every cell goes through the model's checks."""
        model = self.model()
        current = self.currentIndex()
        if not text or not current.isValid() or not isinstance(model, LineTableModel):
            return
        rows = [line.split("\t") for line in text.replace("\r\n", "\n").rstrip("\n").split("\n")]
        for offset, cells in enumerate(rows):
            row = current.row() + offset
            while row >= model.rowCount():
                model.add_line()
            for step, value in enumerate(cells):
                column = current.column() + step
                if column >= len(KEYS):
                    break
                if KEYS[column] in EDITABLE or (KEYS[column] == "amount" and model.is_discount(row)):
                    model.setData(model.index(row, column), value.strip())
