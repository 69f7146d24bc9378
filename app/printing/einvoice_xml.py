"""The XML data file delivered with a 数电 invoice's face (shudian-rules.md section 8, basic version).

invoice_xml() builds the tree of section 8 with xml.etree.ElementTree: the Header (number, tag,
version, the inherent and the undefined labels), the EInvoiceData (parties, totals, one item per
line, the red-letter reference, the remarks), SellerAuthentication and TaxSupervisionInfo.

Where section 8 is silent this module chooses, and says so here:
- `Label` entries name their family in `LabelType`: `开具方式` for the issuing-method label and `特定征税方式`
  for the special-taxation labels the lines call for
  (01 不征税, 02 零税率, 04 免税, 05 简易计税 for policies 01/08/09, 06 减按 for policy 10), in code order.
  The desk makes no 差额征税 (deduction) invoice, so neither 03 差额开票 nor a 差额征税 label is ever written.
- The issuing method (issuing_label_for): 4 第三方平台开具 for a platform-channel invoice (the platform issued
  it; the web platform has no offline mode, section 1); on the direct channel (乐企, the desk's own system)
  6 离线开票 when the invoice row's `offline` flag is set (the body's `offline`, true unless the caller said
  the desk was online when it issued) and 5 自建系统开具 otherwise.
- `BuyerIdNum` is the buyer's taxpayer id, or a natural person's ID number when no taxpayer id was given.
- `BuyerHandlingName` (经办人) is empty: the desk does not record one.
- `RequestTime` and `IssueTime` are the moment of issue on Beijing's clock.
- `CreditNoteNumber` is the 20-digit number of the red-letter confirmation form (红字发票信息确认单) the red
  invoice was issued on, empty if none.
- `ptbh` (the direct unit's platform id) is empty unless the caller gives one.
- Remarks follow section 6, joined by `;` and four spaces: the reversal reference, then the buyer's and
  the seller's bank and account when shown (`购方开户银行：…；银行账号：…`, `销方开户银行：…；银行账号：…`),
  the clerk's remarks, then `收款人：… 复核人：…` when either is set. On a red invoice the note the desk
  wrote itself (`对应正数发票号码：…；`) is left out of the clerk's remarks: the reference already leads.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime

from app.core import status as statuses
from app.core.capitals import amount_in_capitals
from app.core.clock import in_beijing
from app.core.errors import EXIT_BAD_INPUT, DeskError
from app.core.invoice import Invoice, InvoiceKind, Line
from app.core.money import format_money, format_plain
from app.core.tax import find_rate

EINVOICE_TAG = "SWEI1100"  # SWEI + Beijing's area code
VERSION = "0.36"
EINVOICE_TYPE = "01"  # 电子发票
TAX_BUREAU_CODE = "11100000000"
TAX_BUREAU_NAME = "国家税务总局北京市税务局"
TAXPAYER_TYPES = {"general": "1", "small": "2"}
ISSUING_LABELS = {"4": "第三方平台开具", "5": "自建系统开具", "6": "离线开票"}
ISSUING_LABEL_TYPE = "开具方式"
SPECIAL_LABEL_TYPE = "特定征税方式"
SPECIAL_LABELS = {"01": "不征税", "02": "零税率", "03": "差额开票", "04": "免税", "05": "简易计税", "06": "减按"}
SIMPLE_POLICIES = frozenset({"01", "08", "09"})  # 简易征收, 按3%简易征收, 按5%简易征收
REDUCED_POLICY = "10"  # 按5%简易征收减按1.5%计征
NO_TAX_MARK = "***"  # 免税: the tax shows stars; 不征税: the tax is empty
REMARK_SEPARATOR = ";    "
RED_NOTE = "对应正数发票号码："  # how app.services.lifecycle opens a red invoice's remarks
OFFICIAL_NUMBER = re.compile(r"[0-9]{20}")
PROVISIONAL = re.compile(r"LX-[0-9]{7}")  # a pre-issue record's number (app.services.issuing)


class NotAShudianInvoice(DeskError):
    """An XML is only for a real 数电 invoice: issued under 数电 rules and holding its 20-digit official number."""

    exit_code = EXIT_BAD_INPUT


def export_refusal(invoice: Invoice, number: str | None, name: str,
                   status: str | None = None) -> tuple[str, str] | None:
    """Why the invoice (named `name`) can have no XML, in Chinese and English, or None when it can.

    `status` is the store's (app.core.status): a pre-issue record (预开单) is not an invoice. Without a status, a
    provisional number LX-… given where the official one belongs names a pre-issue record too. A direct-channel
    invoice holds its official number from issue and exports while its upload waits."""
    if invoice.is_legacy:
        return (f"{name} 是数电之前开具的发票，没有数电 XML 文件",
                f"{name} was issued before 数电 and has no 数电 XML file")
    official = bool(number and OFFICIAL_NUMBER.fullmatch(number))
    if status == statuses.PRE_ISSUE or (status is None and not official
                                        and PROVISIONAL.fullmatch(number or invoice.number)):
        return (f"{invoice.number} 是预开单（非发票），不是发票，不能导出 XML；平台开具正式发票后再导出",
                f"{invoice.number} is a pre-issue record, not an invoice: no XML can be exported until the "
                "platform issues the invoice")
    if not official:
        return (f"{name} 尚无平台赋予的20位数电发票号码，不能导出 XML",
                f"{name} has no 20-digit official number from the platform yet; no XML can be exported")
    return None


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, tag)
    if text:
        element.text = text
    return element


def _fields(parent: ET.Element, tag: str, values: list[tuple[str, str]]) -> ET.Element:
    element = _sub(parent, tag)
    for name, value in values:
        _sub(element, name, value)
    return element


def _label(parent: ET.Element, label_type: str, code: str, name: str) -> None:
    _fields(parent, "Label", [("LabelType", label_type), ("LabelCode", code), ("LabelName", name)])


def issuing_label_for(channel: str, offline: bool) -> str:
    """The 开具方式 label code of an invoice issued through `channel` ("direct" or "platform")."""
    if channel != "direct":
        return "4"
    return "6" if offline else "5"


def special_label_codes(lines: tuple[Line, ...]) -> list[str]:
    """The 特定征税方式 codes the lines call for, in code order."""
    codes: set[str] = set()
    for line in lines:
        if line.tax_rate == "not_taxed":
            codes.add("01")
        elif line.tax_rate == "0":
            codes.add("02")
        elif line.tax_rate == "exempt":
            codes.add("04")
        if line.policy in SIMPLE_POLICIES:
            codes.add("05")
        elif line.policy == REDUCED_POLICY:
            codes.add("06")
    return sorted(codes)


def rate_text(line: Line) -> str:
    rate = find_rate(line.tax_rate)
    return rate.label_zh if rate else line.tax_rate


def tax_text(line: Line) -> str:
    if line.tax_rate == "exempt":
        return NO_TAX_MARK
    if line.tax_rate == "not_taxed":
        return ""
    return format_money(line.tax)


def red_reference(invoice: Invoice) -> str:
    """Section 6's reversal reference: the blue invoice's number, and the form's number when there is one."""
    reference = f"被红冲蓝字数电发票号码：{invoice.original_number}"
    if invoice.red_form_number:
        reference += f" 红字发票信息确认单编号：{invoice.red_form_number}"
    return reference


def remark_text(invoice: Invoice) -> str:
    """The remarks in the order of section 6."""
    parts: list[str] = []
    if invoice.is_red_letter:
        reference = red_reference(invoice)
        parts.append(reference)
    if invoice.show_buyer_bank and (invoice.buyer.bank or invoice.buyer.account):
        parts.append(f"购方开户银行：{invoice.buyer.bank}；银行账号：{invoice.buyer.account}")
    if invoice.show_seller_bank and (invoice.seller.bank or invoice.seller.account):
        parts.append(f"销方开户银行：{invoice.seller.bank}；银行账号：{invoice.seller.account}")
    remarks = invoice.remarks.strip()
    if invoice.is_red_letter:
        # A note the desk once wrote itself on a red invoice repeats the reference given first here.
        for note in (f"{RED_NOTE}{invoice.original_number}", reference):
            remarks = remarks.removeprefix(note + "；") if remarks != note else ""
    if remarks:
        parts.append(remarks)
    if invoice.payee or invoice.reviewer:
        parts.append(f"收款人：{invoice.payee} 复核人：{invoice.reviewer}")
    return REMARK_SEPARATOR.join(parts)


def invoice_xml(invoice: Invoice, number: str, *, taxpayer_type: str = "general", issuing_label: str = "5",
                ptbh: str = "") -> bytes:
    """The section 8 XML of a 数电 invoice whose official (20-digit) number is `number`, as UTF-8 bytes.

    Raises NotAShudianInvoice for a legacy invoice or a number that is not a 20-digit official one, and
    ValueError for an unknown taxpayer type or issuing label (a defect of the caller, not the clerk's input).
    """
    refusal = export_refusal(invoice, number, number or invoice.number)
    if refusal is not None:
        raise NotAShudianInvoice(f"number（发票号码）：{refusal[0]}", f"number: {refusal[1]}")
    if taxpayer_type not in TAXPAYER_TYPES:
        raise ValueError(f"unknown taxpayer type {taxpayer_type!r}")
    if issuing_label not in ISSUING_LABELS:
        raise ValueError(f"unknown issuing label {issuing_label!r}")
    issued_at = in_beijing(invoice.issued_at) if invoice.issued_at else None
    root = ET.Element("EInvoice")
    _header(root, invoice, number, taxpayer_type, issuing_label)
    _data(root, invoice, issued_at)
    _sub(_sub(root, "SellerAuthentication"), "AuthenticationMethods")
    _fields(root, "TaxSupervisionInfo", [
        ("InvoiceNumber", number), ("IssueTime", issued_at.strftime("%Y-%m-%d") if issued_at else ""),
        ("TaxBureauCode", TAX_BUREAU_CODE), ("TaxBureauName", TAX_BUREAU_NAME), ("ptbh", ptbh)])
    ET.indent(root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8",
                                                                      xml_declaration=False) + b"\n"


def _header(root: ET.Element, invoice: Invoice, number: str, taxpayer_type: str, issuing_label: str) -> None:
    header = _sub(root, "Header")
    _sub(header, "EIid", number)
    _sub(header, "EInvoiceTag", EINVOICE_TAG)
    _sub(header, "Version", VERSION)
    inherent = _sub(header, "InherentLabel")
    _sub(_sub(inherent, "InIssuType"), "LabelCode", "N" if invoice.is_red_letter else "Y")
    _sub(_sub(inherent, "EInvoiceType"), "LabelCode", EINVOICE_TYPE)
    _sub(_sub(inherent, "GeneralOrSpecialVAT"), "LabelCode", "01" if invoice.kind is InvoiceKind.SPECIAL else "02")
    _sub(_sub(inherent, "TaxpayerType"), "LabelCode", TAXPAYER_TYPES[taxpayer_type])
    undefined = _sub(header, "UndefinedLabel")
    _label(undefined, ISSUING_LABEL_TYPE, issuing_label, ISSUING_LABELS[issuing_label])
    for code in special_label_codes(invoice.lines):
        _label(undefined, SPECIAL_LABEL_TYPE, code, SPECIAL_LABELS[code])


def _data(root: ET.Element, invoice: Invoice, issued_at: datetime | None) -> None:
    data = _sub(root, "EInvoiceData")
    seller, buyer = invoice.seller, invoice.buyer
    _fields(data, "SellerInformation", [
        ("SellerIdNum", seller.tax_id), ("SellerName", seller.name), ("SellerAddr", seller.address),
        ("SellerTelNum", seller.phone), ("SellerBankName", seller.bank), ("SellerBankAccNum", seller.account)])
    _fields(data, "BuyerInformation", [
        ("BuyerIdNum", buyer.tax_id or buyer.id_number), ("BuyerName", buyer.printed_name),
        ("BuyerTelNum", buyer.phone), ("BuyerAddr", buyer.address), ("BuyerBankName", buyer.bank),
        ("BuyerBankAccNum", buyer.account), ("BuyerHandlingName", "")])
    _fields(data, "BasicInformation", [
        ("TotalAmWithoutTax", format_money(invoice.total_amount)), ("TotalTaxAm", format_money(invoice.total_tax)),
        ("TotalTax-includedAmount", format_money(invoice.total_with_tax)),
        ("TotalTax-includedAmountInChinese", amount_in_capitals(invoice.total_with_tax)),
        ("Drawer", invoice.drawer), ("RequestTime", issued_at.strftime("%Y-%m-%d %H:%M:%S") if issued_at else "")])
    for line in invoice.lines:
        _fields(data, "IssuItemInformation", [
            ("ItemName", line.name), ("SpecMod", line.spec), ("MeaUnits", line.unit),
            ("Quantity", format_plain(line.quantity)), ("UnPrice", format_plain(line.unit_price)),
            ("Amount", format_money(line.amount)), ("TaxRate", rate_text(line)), ("ComTaxAm", tax_text(line)),
            ("TotaltaxIncludedAmount", format_money(line.amount_with_tax)),
            ("TaxClassificationCode", line.tax_code)])
    _sub(data, "SpecificInformation")
    if invoice.is_red_letter:
        _fields(data, "RedEInvoice", [("OriginalInvoiceCode", invoice.original_number or ""),
                                      ("CreditNoteNumber", invoice.red_form_number or "")])
    _fields(data, "AdditionalInformation", [("Remark", remark_text(invoice))])
