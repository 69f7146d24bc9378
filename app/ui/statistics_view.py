"""The 统计 window: a month (or any period) and a grouping, the table of counts and amounts of blue, red and
cancelled invoices with their net, what is shown apart (pre-issue records, not invoices), the monthly
summary's check before the 13th, and a bar chart of the net with tax per day (per month beyond two months).

Every figure comes from app.reports.statistics (the rules are the monthly summary's); it is computed in a
BackgroundTask (app/ui/tasks.py), as are the PDF, XLSX and CSV files. install(window) adds 统计… to the
发票 menu.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate, QObject, Qt
from PySide6.QtGui import QAction, QColor, QKeySequence, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core import clock
from app.reports import statistics as st
from app.ui.i18n import language, tr
from app.ui.tasks import BackgroundTask, Progress

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow

MONTH, RANGE = "month", "range"
NEGATIVE = QColor("#c62828")
TOTAL_BACKGROUND = QColor("#f1f1f1")


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _pydate(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


def _shown(value: int | Decimal) -> str:
    return f"{value:,.2f}" if isinstance(value, Decimal) else str(value)


class StatisticsView(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statistics_view")
        self.setWindowTitle(tr("统计", "Statistics"))
        self.setWindowFlag(Qt.WindowType.WindowMaximizeButtonHint, True)
        self.resize(1280, 720)
        self.stats: st.Statistics | None = None
        self.tasks: list[BackgroundTask[Any]] = []  # kept alive while they run
        layout = QVBoxLayout(self)

        period = QHBoxLayout()
        self.mode = QComboBox(self)
        self.mode.setObjectName("period_mode")
        self.mode.addItem(tr("按月", "Month"), MONTH)
        self.mode.addItem(tr("自定义期间", "Custom period"), RANGE)
        today = clock.today()
        # Up to the 13th last month is the one to check before its summary closes; after it, this month.
        shown = st.default_month(today)
        self.month = QDateEdit(QDate(shown.year, shown.month, 1), self)
        self.month.setObjectName("month")
        self.month.setDisplayFormat("yyyy-MM")
        self.date_from = QDateEdit(QDate(today.year, today.month, 1), self)
        self.date_from.setObjectName("date_from")
        self.date_to = QDateEdit(_qdate(today), self)
        self.date_to.setObjectName("date_to")
        for edit in (self.date_from, self.date_to):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        self.grouping = QComboBox(self)
        self.grouping.setObjectName("grouping")
        for key in st.GROUPINGS:
            self.grouping.addItem(st.label_of(st.GROUPING_LABELS[key], language()), key)
        self.run_button = QPushButton(tr("统计", "Count"), self)
        self.run_button.setObjectName("run_statistics")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(lambda: self.start())
        self.month_label = QLabel(tr("月份", "Month"), self)
        self.range_label = QLabel(tr("期间", "Period"), self)
        self.dash = QLabel("—", self)
        for widget in (QLabel(tr("期间类型", "Period"), self), self.mode, self.month_label, self.month,
                       self.range_label, self.date_from, self.dash, self.date_to, QLabel(tr("分组", "Group"), self),
                       self.grouping, self.run_button):
            period.addWidget(widget)
        period.addStretch(1)
        self.pdf_button = QPushButton(tr("打印为 PDF…", "Save as PDF…"), self)
        self.pdf_button.clicked.connect(lambda: self.save("pdf"))
        self.xlsx_button = QPushButton(tr("导出 XLSX…", "Export XLSX…"), self)
        self.xlsx_button.clicked.connect(lambda: self.save("xlsx"))
        self.csv_button = QPushButton(tr("导出 CSV…", "Export CSV…"), self)
        self.csv_button.clicked.connect(lambda: self.save("csv"))
        for button in (self.pdf_button, self.xlsx_button, self.csv_button):
            button.setEnabled(False)
            period.addWidget(button)
        layout.addLayout(period)

        self.summary = QLabel(tr("选择期间后点“统计”。", "Choose a period and press Count."), self)
        self.summary.setObjectName("statistics_summary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.summary)

        splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.table = QTableWidget(0, 0, splitter)
        self.table.setObjectName("statistics_table")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        from PySide6.QtCharts import QChart, QChartView  # loaded when the view opens, not at the desk's start

        self.chart = QChart()
        self.chart.setObjectName("statistics_chart")
        self.chart.legend().hide()
        self.chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
        self.chart_view = QChartView(self.chart, splitter)
        self.chart_view.setObjectName("statistics_chart_view")
        self.chart_view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.chart_view.setMinimumHeight(200)
        self._build_chart()
        splitter.addWidget(self.table)
        splitter.addWidget(self.chart_view)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout.addWidget(splitter, 1)

        self.message = QLabel(self)
        self.message.setObjectName("statistics_message")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        self.mode.currentIndexChanged.connect(self._mode_changed)
        self._mode_changed()

    # --- the period ----------------------------------------------------------------------------------------

    def _mode_changed(self) -> None:
        monthly = self.mode.currentData() == MONTH
        for widget in (self.month_label, self.month):
            widget.setVisible(monthly)
        for widget in (self.range_label, self.date_from, self.dash, self.date_to):
            widget.setVisible(not monthly)

    def choose_month(self, year: int, month: int) -> None:
        self.mode.setCurrentIndex(self.mode.findData(MONTH))
        self.month.setDate(QDate(year, month, 1))

    def choose_range(self, start: date, end: date) -> None:
        self.mode.setCurrentIndex(self.mode.findData(RANGE))
        self.date_from.setDate(_qdate(start))
        self.date_to.setDate(_qdate(end))

    def choose_grouping(self, by: str) -> None:
        self.grouping.setCurrentIndex(self.grouping.findData(by))

    def period(self) -> tuple[date, date]:
        if self.mode.currentData() == MONTH:
            chosen = self.month.date()
            return st.month_period(f"{chosen.year():04d}{chosen.month():02d}")
        return _pydate(self.date_from.date()), _pydate(self.date_to.date())

    # --- computing -----------------------------------------------------------------------------------------

    def _run(self, work: Callable[[Progress], Any], succeeded: Callable[[Any], object],
             failed: Callable[[str], object]) -> BackgroundTask[Any]:
        task: BackgroundTask[Any] = BackgroundTask(work, self)
        task.on_success(succeeded)
        task.on_failure(failed)
        task.on_finished(lambda: self.tasks.remove(task) if task in self.tasks else None)
        self.tasks.append(task)
        task.start()
        return task

    def start(self) -> BackgroundTask[st.Statistics]:
        """The figures of the period chosen, summed by the store in a background thread."""
        start, end = self.period()
        by = str(self.grouping.currentData())
        self.run_button.setEnabled(False)
        self.message.setText(tr("正在统计…", "Counting…"))
        return self._run(lambda progress: st.statistics(start, end, by), self._counted, self._failed)

    def _counted(self, stats: st.Statistics) -> None:
        self.run_button.setEnabled(True)
        self.show_statistics(stats)
        self.message.setText(tr("统计完成：{period}", "Done: {period}", period=stats.period_label(language())))

    def _failed(self, error: str) -> None:
        self.run_button.setEnabled(True)
        self.message.setText(tr("统计失败：{error}", "Counting failed: {error}", error=error))

    # --- showing -------------------------------------------------------------------------------------------

    def show_statistics(self, stats: st.Statistics) -> None:
        self.stats = stats
        lang = language()
        lines = st.summary_lines(stats, lang)
        if stats.month is not None:
            ok = stats.matches_month
            lines.append(tr("与月度汇总口径一致，可在 13 日前核对后确认。", "These are the figures the monthly summary "
                            "confirms: check them before the 13th.") if ok else
                         tr("与月度汇总口径不一致，请检查。", "They differ from the monthly summary's: check."))
        self.summary.setText("\n".join(lines))
        self._fill_table(stats, lang)
        self._fill_chart(stats)
        for button in (self.pdf_button, self.xlsx_button, self.csv_button):
            button.setEnabled(True)

    def _fill_table(self, stats: st.Statistics, lang: str) -> None:
        keys = st.key_headers(stats.by, lang)
        columns = st.SHORT_COLUMNS
        headers = keys + [st.column_header(c, lang, sep="\n", short=True) for c in columns]
        self.table.clear()
        self.table.setColumnCount(len(headers))
        self.table.setHorizontalHeaderLabels(headers)
        rows = [(st.key_cells(row, stats.by, lang), row.figures, False) for row in stats.rows]
        rows.append(([st.total_label(lang)] + [""] * (len(keys) - 1), stats.totals, True))
        self.table.setRowCount(len(rows))
        for r, (names, figures, total) in enumerate(rows):
            for c, name in enumerate(names):
                item = QTableWidgetItem(name)
                item.setToolTip(name)
                if total:
                    item.setBackground(TOTAL_BACKGROUND)
                self.table.setItem(r, c, item)
            for c, (group, field) in enumerate(columns, start=len(keys)):
                value = st.figure_of(figures, group, field)
                item = QTableWidgetItem(_shown(value))
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if value < 0:
                    item.setForeground(NEGATIVE)
                if total:
                    item.setBackground(TOTAL_BACKGROUND)
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(r, c, item)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for c, (_group, field) in enumerate(columns, start=len(keys)):
            self.table.setColumnWidth(c, 58 if field == "count" else 88)
        if len(keys) == 2:  # code and name, or buyer and tax id: the name takes the room left
            self.table.setColumnWidth(0 if stats.by == st.BY_CODE else 1, 150)
            header.setSectionResizeMode(1 if stats.by == st.BY_CODE else 0, QHeaderView.ResizeMode.Stretch)
        else:
            header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)

    def _build_chart(self) -> None:
        """One bar series and its two axes, made once and refilled (an axis removed is deleted later, and a
        chart redrawn meanwhile would show both)."""
        from PySide6.QtCharts import QBarCategoryAxis, QBarSeries, QBarSet, QValueAxis

        self.bars = QBarSet(tr("价税合计", "with tax"))
        self.bars.setColor(QColor("#4472c4"))
        self.series = QBarSeries()
        self.series.append(self.bars)
        self.series.setBarWidth(0.7)
        self.chart.addSeries(self.series)
        self.axis_x = QBarCategoryAxis()
        self.axis_y = QValueAxis()
        self.axis_y.setLabelFormat("%.0f")
        self.chart.addAxis(self.axis_x, Qt.AlignmentFlag.AlignBottom)
        self.chart.addAxis(self.axis_y, Qt.AlignmentFlag.AlignLeft)
        self.series.attachAxis(self.axis_x)
        self.series.attachAxis(self.axis_y)

    def _fill_chart(self, stats: st.Statistics) -> None:
        values = [float(point.net.with_tax) for point in stats.series]  # ok-float: bar heights on screen
        if self.bars.count():
            self.bars.remove(0, self.bars.count())
        self.bars.append(values)
        self.axis_x.clear()
        self.axis_x.append([p.label[3:] if stats.series_unit == st.BY_DAY else p.label for p in stats.series])
        low, high = min([0.0, *values]), max([0.0, *values])
        self.axis_y.setRange(low * 1.1, high * 1.1 if high > 0 else 1.0)
        self.axis_y.applyNiceNumbers()
        unit = tr("每日", "per day") if stats.series_unit == st.BY_DAY else tr("每月", "per month")
        self.chart.setTitle(tr("{unit}价税合计（蓝字+红字）", "Net with tax {unit}", unit=unit))

    def chart_values(self) -> list[float]:
        """The heights of the bars shown (for tests and the clerk's eye)."""
        return [self.bars.at(i) for i in range(self.bars.count())]

    # --- files ---------------------------------------------------------------------------------------------

    def save(self, kind: str, path: Path | None = None) -> BackgroundTask[Path] | None:
        """The statistics shown as a PDF, XLSX or CSV file, written in a background thread."""
        if self.stats is None:
            return None
        stats = self.stats
        if path is None:
            filters = {"pdf": "PDF (*.pdf)", "xlsx": "Excel (*.xlsx)", "csv": "CSV (*.csv)"}
            name, _ = QFileDialog.getSaveFileName(self, tr("保存统计", "Save statistics"),
                                                  f"stats-{stats.start.isoformat()}-{stats.end.isoformat()}"
                                                  f"-{stats.by}.{kind}", filters[kind])
            if not name:
                return None
            path = Path(name)
        target = path

        def work(progress: Progress) -> Path:
            if kind == "pdf":
                from app.reports.statistics_pdf import write_statistics_pdf

                return write_statistics_pdf(stats, target)
            from app.reports.statistics_xlsx import write_csv, write_xlsx

            return write_xlsx(stats, target) if kind == "xlsx" else write_csv(stats, target)

        return self._run(work, self._saved, self._save_failed)

    def _saved(self, path: Path) -> None:
        self.message.setText(tr("已保存 {path}", "Saved {path}", path=path))

    def _save_failed(self, error: str) -> None:
        self.message.setText(tr("保存失败：{error}", "Saving failed: {error}", error=error))


class StatisticsActions(QObject):
    """The 统计 entry of the 发票 menu (Ctrl+Shift+T); the view is made once and shown again."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.setObjectName("statistics_actions")
        self.window = window
        self.view: StatisticsView | None = None
        self.action = QAction(tr("统计…", "Statistics…"), window)
        self.action.setObjectName("statistics_action")
        self.action.setShortcut(QKeySequence("Ctrl+Shift+T"))
        self.action.triggered.connect(lambda: self.show_statistics())
        window.invoice_menu.addSeparator()
        window.invoice_menu.addAction(self.action)

    def show_statistics(self) -> StatisticsView:
        if self.view is None:
            self.view = StatisticsView(self.window)
            self.view.start()  # this month at once
        self.view.show()
        self.view.raise_()
        self.view.activateWindow()
        return self.view


def install(window: MainWindow) -> StatisticsActions:
    return StatisticsActions(window)
