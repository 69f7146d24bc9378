"""The tax classification table (税收分类编码) to browse and pick from, and its refresh from the platform.

TaxCodeBrowser: a search box (a code prefix, words, or pinyin initials such as rjkf, through
app.store.taxcode_search), the codes found, and everything the table says about the one selected.
Opened to pick (the invoice form's 选择编码…, the item editor), it hands the chosen code to a callback.

refresh_codes(): app.services.taxcodes.refresh_from_platform in a BackgroundTask (the platform's
answer is a few thousand rows), reporting the version, the counts and the catalog items flagged.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.core.taxcodes import POLICY_BY_FLAG
from app.services.settings import make_client
from app.services.taxcodes import TaxCodeRefresh, refresh_from_platform
from app.store.taxcode_search import TaxCodeHit, get_code, search_codes
from app.store.taxcodes import count_codes, table_version
from app.ui.i18n import tr
from app.ui.line_table import rate_label
from app.ui.tasks import BackgroundTask, Progress

SEARCH_LIMIT = 200
COLUMNS = (("编码", "Code"), ("名称", "Name"), ("简称", "Short name"), ("税率/征收率", "Rates"),
           ("优惠政策", "Policies"), ("状态", "State"))


def hit_state(hit: TaxCodeHit) -> str:
    if not hit.usable:
        return tr("已停用", "withdrawn")
    if not hit.allowed_on_a_line:
        return tr("汇总项", "summary")
    return tr("可用", "in force")


def policy_names(flags: tuple[str, ...]) -> str:
    return "、".join(f"{f} {POLICY_BY_FLAG[f].name}" if f in POLICY_BY_FLAG else f for f in flags)


def hit_html(hit: TaxCodeHit) -> str:
    parent = get_code(hit.parent) if hit.parent else None
    rows = [(tr("税收分类编码"), hit.code), (tr("名称"), hit.name), (tr("简称", "Short name"), f"*{hit.short_name}*"),
            (tr("税率/征收率"), "、".join(rate_label(r) for r in hit.rates) or "—"),
            (tr("优惠政策"), policy_names(hit.policies) or "—"),
            (tr("状态"), hit_state(hit)),
            (tr("上级编码", "Parent"), f"{parent.code} {parent.name}" if parent else (hit.parent or "—")),
            (tr("关键字", "Keywords"), hit.keywords or "—"),
            (tr("版本", "Version"), hit.version or "—")]
    cells = "".join(f"<tr><td style='color:#666; padding-right:10px'>{escape(k)}</td><td>{escape(v)}</td></tr>"
                    for k, v in rows)
    explanation = f"<p>{escape(hit.explanation)}</p>" if hit.explanation else ""
    return f"<h3>{escape(hit.code)} {escape(hit.name)}</h3><table>{cells}</table>{explanation}"


class TaxCodeBrowser(QDialog):
    """on_pick: given, the browser picks (选择, double-click or Enter on a code) and closes."""

    def __init__(self, parent: QWidget | None = None, on_pick: Callable[[TaxCodeHit], object] | None = None,
                 text: str = "") -> None:
        super().__init__(parent)
        self.on_pick = on_pick
        self.setWindowTitle(tr("选择税收分类编码", "Choose a tax classification code") if on_pick
                            else tr("税收分类编码", "Tax classification codes"))
        self.resize(1120, 660)
        self.hits: list[TaxCodeHit] = []
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.search = QLineEdit(self)
        self.search.setObjectName("code_search")
        self.search.setPlaceholderText(tr("输入编码、名称或拼音首字母（如 304、软件、rjkf）",
                                          "Type a code, words or pinyin initials (304, 软件, rjkf)"))
        self.search.setClearButtonEnabled(True)
        top.addWidget(self.search, 1)
        self.include_withdrawn = QCheckBox(tr("含已停用", "Include withdrawn"), self)
        self.include_summary = QCheckBox(tr("含汇总项", "Include summary rows"), self)
        top.addWidget(self.include_withdrawn)
        top.addWidget(self.include_summary)
        layout.addLayout(top)

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("code_results")
        self.table.setHorizontalHeaderLabels([tr(zh, en) for zh, en in COLUMNS])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for column, width in ((0, 152), (2, 112), (3, 84), (4, 64), (5, 52)):
            self.table.setColumnWidth(column, width)
        splitter.addWidget(self.table)
        self.detail = QTextBrowser(self)
        self.detail.setObjectName("code_detail")
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([720, 380])
        layout.addWidget(splitter, 1)

        bottom = QHBoxLayout()
        self.status = QLabel(self)
        self.status.setObjectName("code_status")
        bottom.addWidget(self.status, 1)
        self.pick_button = QPushButton(tr("选择", "Choose"), self)
        self.pick_button.setObjectName("code_pick")
        self.pick_button.setVisible(on_pick is not None)
        self.pick_button.setEnabled(False)
        self.close_button = QPushButton(tr("关闭"), self)
        for button in (self.pick_button, self.close_button):
            button.setAutoDefault(False)
            bottom.addWidget(button)
        layout.addLayout(bottom)

        self.search.textChanged.connect(lambda _text: self.run_search())
        self.include_withdrawn.toggled.connect(lambda _on: self.run_search())
        self.include_summary.toggled.connect(lambda _on: self.run_search())
        self.table.itemSelectionChanged.connect(self.show_selected)
        self.table.itemActivated.connect(lambda _item: self.pick())
        self.pick_button.clicked.connect(self.pick)
        self.close_button.clicked.connect(self.reject)
        self.search.returnPressed.connect(self._enter_in_search)
        self.search.setText(text)
        self.run_search()

    def table_summary(self) -> str:
        version = table_version() or "—"
        return tr("编码表版本 {version}，共 {count} 个编码", "Table version {version}, {count} codes",
                  version=version, count=f"{count_codes():,}")

    def run_search(self) -> list[TaxCodeHit]:
        text = self.search.text()
        self.hits = search_codes(text, limit=SEARCH_LIMIT, include_unusable=self.include_withdrawn.isChecked(),
                                 leaves_only=not self.include_summary.isChecked()) if text.strip() else []
        self.table.setRowCount(len(self.hits))
        for row, hit in enumerate(self.hits):
            values = (hit.code, hit.name, f"*{hit.short_name}*", "、".join(rate_label(r) for r in hit.rates),
                      " ".join(hit.policies), hit_state(hit))
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                if column == 1 and hit.explanation:
                    item.setToolTip(hit.explanation[:300])
                elif column == 4 and hit.policies:
                    item.setToolTip(policy_names(hit.policies))
                if not hit.usable:
                    item.setForeground(Qt.GlobalColor.darkRed)
                self.table.setItem(row, column, item)
        if self.hits:
            self.table.selectRow(0)
            found = tr("找到 {n} 个", "{n} found", n=len(self.hits)) + ("+" if len(self.hits) >= SEARCH_LIMIT else "")
            self.status.setText(f"{found}    {self.table_summary()}")
        else:
            self.status.setText(self.table_summary() if not text.strip()
                                else tr("没有找到“{text}”", "Nothing found for “{text}”", text=text.strip()))
        self.show_selected()
        return self.hits

    def selected(self) -> TaxCodeHit | None:
        row = self.table.currentRow()
        return self.hits[row] if 0 <= row < len(self.hits) else None

    def show_selected(self) -> None:
        hit = self.selected()
        self.pick_button.setEnabled(hit is not None and hit.allowed_on_a_line)
        if hit is None:
            self.detail.setHtml(escape(tr("输入编码、名称或拼音首字母查找；选中一个编码查看说明。",
                                          "Search by code, words or pinyin initials; select a code for its details.")))
            return
        self.detail.setHtml(hit_html(hit))

    def select_code(self, code: str) -> bool:
        for row, hit in enumerate(self.hits):
            if hit.code == code:
                self.table.selectRow(row)
                return True
        return False

    def _enter_in_search(self) -> None:
        if self.on_pick is not None and self.selected() is not None:
            self.pick()
        else:
            self.table.setFocus()

    def pick(self) -> TaxCodeHit | None:
        hit = self.selected()
        if self.on_pick is None or hit is None or not hit.allowed_on_a_line:
            return None
        self.on_pick(hit)
        self.accept()
        return hit


# --- the refresh ----------------------------------------------------------------------------------

def refresh_summary(result: TaxCodeRefresh) -> str:
    if result.previous == result.version and not (result.added or result.changed or result.withdrawn):
        return tr("税收分类编码表已是最新（版本 {version}）。", "The table is up to date (version {version}).",
                  version=result.version)
    text = tr("税收分类编码表已更新：{previous} → {version}；新增 {added}，修改 {changed}，停用 {withdrawn}。",
              "Table updated: {previous} → {version}; {added} added, {changed} changed, {withdrawn} withdrawn.",
              previous=result.previous or "—", version=result.version, added=result.added, changed=result.changed,
              withdrawn=result.withdrawn)
    if result.items_flagged:
        names = "、".join(result.items_flagged[:10]) + ("…" if len(result.items_flagged) > 10 else "")
        text += tr("\n{n} 个项目的编码已停用，请在“项目信息”中改用现行编码：{names}",
                   "\n{n} catalog item(s) use a withdrawn code; choose a code in force in Items: {names}",
                   n=len(result.items_flagged), names=names)
    return text


def refresh_task(clerk: str, parent: QWidget | None) -> BackgroundTask[TaxCodeRefresh]:
    """The refresh in its own thread (the client is made there too: it reads the platform settings)."""

    def work(progress: Progress) -> TaxCodeRefresh:
        return refresh_from_platform(make_client(), clerk=clerk)

    return BackgroundTask(work, parent)
