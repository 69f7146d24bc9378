"""One issued invoice, read-only: every field, the lines, the totals in figures and capitals, its status."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTextBrowser, QVBoxLayout, QWidget

from app.core import status as invoice_status
from app.core.capitals import amount_in_capitals
from app.core.invoice import Invoice
from app.core.money import format_money_grouped, format_plain
from app.core.parties import ID_TYPES
from app.core.status import status_label
from app.store import queries
from app.ui.i18n import language, tr
from app.ui.line_table import rate_label

# Queue states as the clerk reads them (the queue itself is worked by app.sync).
QUEUE_LABELS = invoice_status.QUEUE_STATE_LABELS
BANNER_STYLES = {
    invoice_status.PRE_ISSUE: "background: #fff4d6; color: #6b4400; border: 1px solid #d9a400; padding: 6px;"
                              " font-weight: bold;",
    invoice_status.UPLOAD_TOO_LATE: "background: #fde7ea; color: #b00020; border: 1px solid #b00020; padding: 6px;"
                                    " font-weight: bold;",
}


def banner_text(row_status: str) -> str:
    """A line above the invoice saying plainly what it is not: a pre-issue record, or an invoice never valid."""
    if row_status == invoice_status.PRE_ISSUE:
        return tr("预开单（非发票）：这是离线记录的开具请求，不是发票，不能交给购买方；平台开具后才有发票号码。",
                  "Pre-issue record (not an invoice): a request recorded offline, not an invoice; do not hand it "
                  "to the buyer. It gets an invoice number when the platform issues it.")
    if row_status == invoice_status.UPLOAD_TOO_LATE:
        return tr("超期未上传，须重新开具：此发票未在 48 小时内（或所属月份结账前）上传，已失效。",
                  "Too late to upload: this invoice did not reach the platform within 48 hours (or before its "
                  "month closed) and is void. Issue it again.")
    return ""

STYLE = """
<style>
 body { font-size: 10pt; }
 h2 { margin: 0 0 4px 0; }
 table { border-collapse: collapse; }
 td, th { border: 1px solid #999; padding: 3px 6px; }
 th { background: #eee; }
 td.n { text-align: right; }
 .muted { color: #666; }
</style>
"""


def _party_rows(title: str, party) -> str:
    rows = [(tr("名称"), party.printed_name), (tr("纳税人识别号"), party.tax_id),
            (f"{tr('地址')}、{tr('电话')}" if language() == "zh" else f"{tr('地址')}, {tr('电话')}",
             f"{party.address} {party.phone}".strip()),
            (f"{tr('开户行')}及{tr('账号')}" if language() == "zh" else f"{tr('开户行')}, {tr('账号')}",
             f"{party.bank} {party.account}".strip())]
    if party.id_type:
        names = ID_TYPES.get(party.id_type)
        kind = (names[0] if language() == "zh" else names[1]) if names else party.id_type
        label = f"{tr('证件类型')}、{tr('证件号码')}" if language() == "zh" else "ID"
        rows.append((label, f"{kind} {party.id_number}"))
    cells = "".join(f"<tr><td class='muted' width='22%'>{escape(k)}</td><td>{escape(v)}</td></tr>"
                    for k, v in rows)
    return f"<h3>{escape(title)}</h3><table width='100%'>{cells}</table>"


def invoice_html(invoice: Invoice, row: queries.InvoiceRecord) -> str:
    """The invoice as HTML for the read-only view (and for others wanting a quick rendering)."""
    lang = language()
    status = status_label(row.status, lang)
    if row.official_number and row.official_number == invoice.number:  # direct channel: official from issue
        numbers = [(tr("发票号码", "Invoice number"), invoice.number)]
    else:
        numbers = [(tr("临时号码"), invoice.number), (tr("正式号码"), row.official_number or "—")]
    head = [*numbers,
            (tr("开票日期"), invoice.issued_at.strftime("%Y-%m-%d %H:%M") if invoice.issued_at else ""),
            (tr("状态"), status + (f"（{tr('离线开具')}）" if invoice.offline and lang == "zh"
                                  else f" ({tr('离线开具')})" if invoice.offline else ""))]
    if invoice.original_number:
        head.append((tr("原发票号码"), invoice.original_number))
    if invoice.confirmed_tax_ids:
        head.append((tr("已核实的纳税人识别号"), " ".join(sorted(invoice.confirmed_tax_ids))))
    queue = queries.queue_state(row.id)
    if queue is not None:
        state = invoice_status.queue_state_label(queue.state, language())
        attempts = f" ×{queue.attempts}" if queue.attempts else ""
        head.append((tr("上传队列"), f"{state}{attempts}"))
    head_html = "".join(f"<tr><td class='muted'>{escape(k)}</td><td>{escape(str(v))}</td></tr>" for k, v in head)

    if invoice.is_legacy:
        columns = ["货物或应税劳务、服务名称", "规格型号", "单位", "数量", "单价", "金额", "税率", "税额"]
    else:
        columns = ["项目名称", "税收分类编码", "规格型号", "单位", "数量", "单价", "金额", "税率/征收率", "税额"]
    header = "".join(f"<th>{escape(tr(c))}</th>" for c in columns)
    body = []
    for line in invoice.lines:
        code = [] if invoice.is_legacy else [(line.tax_code, "")]
        cells = [(line.name, ""), *code, (line.spec, ""), (line.unit, ""), (format_plain(line.quantity), "n"),
                 (format_plain(line.unit_price), "n"), (format_money_grouped(line.amount), "n"),
                 (rate_label(line.tax_rate), "n"), (format_money_grouped(line.tax), "n")]
        body.append("<tr>" + "".join(f"<td class='{c}'>{escape(v)}</td>" for v, c in cells) + "</tr>")
    lead = 5 if invoice.is_legacy else 6
    body.append(f"<tr><th colspan='{lead}'>{escape(tr('合计'))}</th>"
                f"<td class='n'>¥{format_money_grouped(invoice.total_amount)}</td><td></td>"
                f"<td class='n'>¥{format_money_grouped(invoice.total_tax)}</td></tr>")
    body.append(f"<tr><th colspan='2'>{escape(tr('价税合计（大写）'))}</th>"
                f"<td colspan='{lead - 2}'><b>{escape(amount_in_capitals(invoice.total_with_tax))}</b></td>"
                f"<th colspan='2'>{escape(tr('价税合计（小写）'))}</th>"
                f"<td class='n'><b>¥{format_money_grouped(invoice.total_with_tax)}</b></td></tr>")
    people = [(tr("备注"), invoice.remarks), (tr("收款人"), invoice.payee), (tr("复核"), invoice.reviewer),
              (tr("开票人"), invoice.drawer)]
    people_html = ("<tr>" + "".join(f"<td class='muted'>{escape(k)}</td><td>{escape(v)}</td>" for k, v in people)
                   + "</tr>")
    title = invoice.kind.label(lang)
    if not invoice.is_legacy:
        title += f"（{tr('数电', 'fully digital')}，{invoice.medium.label(lang)}）" if lang == "zh" \
            else f" ({tr('数电', 'fully digital')}, {invoice.medium.label(lang)})"
    if row.status == invoice_status.PRE_ISSUE:  # the title must not read as an invoice's
        title = tr("预开单（非发票）", "Pre-issue record (not an invoice)") + (" · " if lang == "zh" else " - ") + title
    return (f"{STYLE}<h2>{escape(title)}</h2>"
            f"<table>{head_html}</table>"
            f"{_party_rows(tr('购买方'), invoice.buyer)}{_party_rows(tr('销售方'), invoice.seller)}"
            f"<h3>{escape(tr('明细'))}</h3><table width='100%'><tr>{header}</tr>{''.join(body)}</table>"
            f"<br><table width='100%'>{people_html}</table>")


class InvoiceDetail(QDialog):
    """Read-only; later issues add buttons (print, cancel) to self.buttons."""

    def __init__(self, number: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.number = number
        loaded = queries.load_invoice(number)
        if loaded is None:
            raise LookupError(f"no invoice {number}")
        self.row, self.invoice = loaded
        heading = tr("预开单详情", "Pre-issue record") if self.row.status == invoice_status.PRE_ISSUE \
            else tr("发票详情")
        self.setWindowTitle(f"{heading} {number}")
        self.resize(860, 680)
        layout = QVBoxLayout(self)
        self.banner = QLabel(banner_text(self.row.status), self)
        self.banner.setObjectName("detail_banner")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet(BANNER_STYLES.get(self.row.status, ""))
        self.banner.setVisible(bool(self.banner.text()))
        layout.addWidget(self.banner)
        self.view = QTextBrowser(self)
        self.view.setObjectName("invoice_detail")
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # the tables are 100% wide
        self.view.setHtml(invoice_html(self.invoice, self.row))
        layout.addWidget(self.view)
        self.error = QLabel(self)
        self.error.setObjectName("detail_error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020;")
        self.error.setVisible(False)
        layout.addWidget(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

    def show_error(self, message: str) -> None:
        """Why an action on this invoice was refused (the service's message)."""
        self.error.setText(message)
        self.error.setVisible(True)
