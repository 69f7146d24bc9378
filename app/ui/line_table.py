"""The editable line table of the invoice form: what the clerk types, plus amount and tax shown read-only."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemDelegate,
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QStyledItemDelegate,
    QTableView,
)

from app.core.money import format_money_grouped
from app.core.tax import RATES, find_rate
from app.ui.i18n import language, tr
from app.ui.marking import INVALID_BACKGROUND

# column key (the protocol's line field) and heading
COLUMNS = (("name", "货物或应税劳务、服务名称"), ("spec", "规格型号"), ("unit", "单位"), ("quantity", "数量"),
           ("unit_price", "单价"), ("tax_rate", "税率"), ("amount", "金额"), ("tax", "税额"))
KEYS = tuple(key for key, _ in COLUMNS)
EDITABLE = ("name", "spec", "unit", "quantity", "unit_price", "tax_rate")
NAME, SPEC, UNIT, QUANTITY, UNIT_PRICE, TAX_RATE, AMOUNT, TAX = range(len(COLUMNS))
DEFAULT_RATE = "0.13"
ROOT = QModelIndex()  # the invisible root: a table's rows have no other parent


def rate_label(code: str) -> str:
    rate = find_rate(code)
    return rate.label(language()) if rate else code


class LineTableModel(QAbstractTableModel):
    """Rows of typed text; amount and tax come from the form's latest figures."""

    edited = Signal(int)  # the row typed in, or -1 when lines were added or removed

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[dict[str, str]] = []
        self.figures: dict[int, tuple[Decimal, Decimal]] = {}
        self.errors: dict[tuple[int, str], str] = {}
        self.prices_include_tax = False

    # --- the form's side --------------------------------------------------------------------

    def add_line(self, at: int | None = None) -> int:
        at = len(self.rows) if at is None else at
        rate = self.rows[at - 1]["tax_rate"] if 0 < at <= len(self.rows) else DEFAULT_RATE
        self.beginInsertRows(QModelIndex(), at, at)
        self.rows.insert(at, dict.fromkeys(EDITABLE, "") | {"tax_rate": rate})
        self.endInsertRows()
        self.edited.emit(-1)
        return at

    def add_discount(self, goods_row: int) -> int | None:
        """A 折扣行 right after a goods line (its name and rate follow that line); None if not possible."""
        if not 0 <= goods_row < len(self.rows) or self.is_discount(goods_row) or self.is_blank(goods_row):
            return None
        if self.is_discount(goods_row + 1):
            return goods_row + 1  # one discount per line: go to the one it has
        at = goods_row + 1
        self.beginInsertRows(QModelIndex(), at, at)
        self.rows.insert(at, dict.fromkeys(EDITABLE, "") | {"discount": "1", "discount_amount": ""})  # "1": a 折扣行
        self.endInsertRows()
        self.edited.emit(-1)
        return at

    def is_discount(self, row: int) -> bool:
        return 0 <= row < len(self.rows) and bool(self.rows[row].get("discount"))

    def goods_of(self, row: int) -> dict[str, str]:
        """The line a discount row reduces: the one right above it."""
        return self.rows[row - 1] if row > 0 else dict.fromkeys(EDITABLE, "")

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
        return not any(self.rows[row][key].strip() for key in EDITABLE if key != "tax_rate")

    def draft_line(self, row: int) -> dict:
        """The protocol's line as typed; a discount takes its line's name and rate, and is negative."""
        if not self.is_discount(row):
            return {key: self.rows[row][key] for key in EDITABLE}
        goods = self.goods_of(row)
        typed = self.rows[row]["discount_amount"].strip()
        amount = typed if not typed or typed.startswith("-") else "-" + typed
        return {"name": goods["name"], "tax_rate": goods["tax_rate"], "amount": amount, "discount": True}

    def set_cell(self, row: int, key: str, value: str) -> None:
        self.setData(self.index(row, KEYS.index(key)), value, Qt.ItemDataRole.EditRole)

    def show_results(self, figures: dict[int, tuple[Decimal, Decimal]], errors: dict[tuple[int, str], str]) -> None:
        self.figures = figures
        self.errors = errors
        if self.rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, len(COLUMNS) - 1))

    def set_prices_include_tax(self, on: bool) -> None:
        self.prices_include_tax = on
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, UNIT_PRICE, UNIT_PRICE)

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

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row, key = index.row(), KEYS[index.column()]
        error = self.errors.get((row, key))
        if role == Qt.ItemDataRole.BackgroundRole:
            return INVALID_BACKGROUND if error else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return error
        if role == Qt.ItemDataRole.TextAlignmentRole and key in ("quantity", "unit_price", "amount", "tax"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return None
        discount = self.is_discount(row)
        if discount and key == "amount" and role == Qt.ItemDataRole.EditRole:
            return self.rows[row]["discount_amount"]
        if key in ("amount", "tax"):
            figures = self.figures.get(row)
            if figures is None:
                return self.draft_line(row)["amount"] if discount and key == "amount" else ""
            return format_money_grouped(figures[0] if key == "amount" else figures[1])
        if discount:
            goods = self.goods_of(row)
            if key == "name":
                return tr("折扣（{name}）", "discount ({name})", name=goods["name"])
            return rate_label(goods["tax_rate"]) if key == "tax_rate" else ""
        value = self.rows[row][key]
        if key == "tax_rate" and role == Qt.ItemDataRole.DisplayRole:
            return rate_label(value)
        return value

    def setData(self, index, value, role=Qt.ItemDataRole.EditRole):
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        key = KEYS[index.column()]
        if self.is_discount(index.row()):
            if key != "amount":
                return False
            key = "discount_amount"
        elif key not in EDITABLE:
            return False
        text = "" if value is None else str(value)
        if self.rows[index.row()][key] == text:
            return True
        self.rows[index.row()][key] = text
        self.dataChanged.emit(index, index)
        self.edited.emit(index.row())
        return True


class RateDelegate(QStyledItemDelegate):
    """The tax rate is picked from the rates in force, never typed."""

    def createEditor(self, parent, option, index):
        combo = QComboBox(parent)
        for rate in RATES:
            combo.addItem(rate.label(language()), rate.code)
        return combo

    def setEditorData(self, editor, index):
        position = editor.findData(index.data(Qt.ItemDataRole.EditRole))
        editor.setCurrentIndex(max(position, 0))

    def setModelData(self, editor, model, index):
        model.setData(index, editor.currentData(), Qt.ItemDataRole.EditRole)


class LineTableView(QTableView):
    """Keys as in the tax-control invoicing software clerks know: Enter that ends typing in a cell
    goes on to the next cell of the line, and from the last one (the rate) to the next line, adding
    it when there is none; Enter on a cell not being edited adds a line on the last row and moves
    down elsewhere."""

    line_wanted = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setItemDelegateForColumn(TAX_RATE, RateDelegate(self))
        triggers = QAbstractItemView.EditTrigger
        self.setEditTriggers(triggers.DoubleClicked | triggers.EditKeyPressed | triggers.AnyKeyPressed
                             | triggers.SelectedClicked)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setTabKeyNavigation(False)  # Tab leaves the table, so the form's Tab order holds
        self.verticalHeader().setDefaultSectionSize(26)

    def setModel(self, model) -> None:
        super().setModel(model)
        header = self.horizontalHeader()
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)
        for column, width in ((SPEC, 90), (UNIT, 50), (QUANTITY, 80), (UNIT_PRICE, 100), (TAX_RATE, 70),
                              (AMOUNT, 100), (TAX, 80)):
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
        if key in EDITABLE and key != EDITABLE[-1]:
            self.setCurrentIndex(self.model().index(current.row(), KEYS.index(EDITABLE[EDITABLE.index(key) + 1])))
        else:
            # On the last line the next one is added (blank lines are left out of the invoice);
            # no editor is opened: typing starts one, as anywhere in the table.
            row = current.row() + 1
            model = self.model()
            if row >= model.rowCount() and isinstance(model, LineTableModel):
                row = model.add_line()
            self.setCurrentIndex(self.model().index(row, NAME))

    def keyPressEvent(self, event) -> None:
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and not event.modifiers() & Qt.KeyboardModifier.ControlModifier \
                and self.state() != QAbstractItemView.State.EditingState:
            row = self.currentIndex().row()
            if row >= self.model().rowCount() - 1:
                self.line_wanted.emit()
            else:
                target = self.model().index(row + 1, NAME)
                self.setCurrentIndex(target)
            return
        super().keyPressEvent(event)
