"""Exporting stored 数电 invoices as the files a buyer receives: the section 8 XML
(app.printing.einvoice_xml) and the PDF face (app.services.printing), each named by the
invoice's official number.

Every number is checked before anything is written: an unknown number, a pre-issue record (预开单,
not an invoice: the platform has not issued it yet), an invoice with no official number and a legacy
invoice are refused together, each named. A direct-channel invoice holds its official number from
issue and exports while its upload waits. Each file then goes
in place atomically (a temporary file beside it, renamed over it), so no half-written file is
ever seen; a failure part-way leaves the files already written, each of them whole.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from app.base.files import write_atomically
from app.core.errors import BadInput, FieldError, ValidationFailed
from app.core.invoice import Invoice
from app.printing.einvoice_xml import export_refusal, invoice_xml, issuing_label_for
from app.services.printing import options_for, print_to_pdf
from app.services.seller import get_seller
from app.store.models import Invoice as InvoiceRow
from app.store.queries import InvoiceRecord, load_invoice

XML = "xml"
PDF = "pdf"


@dataclass(frozen=True)
class ExportedFile:
    number: str  # as the caller named the invoice (provisional or official)
    official_number: str
    kind: str  # XML or PDF
    path: Path


def _write_bytes(data: bytes, out: BinaryIO) -> None:
    out.write(data)


def _check_folder(folder: Path | None, option: str) -> None:
    if folder is not None and not Path(folder).is_dir():
        raise BadInput(f"{option}（输出文件夹）：文件夹 {folder} 不存在", f"{option}: no such folder {folder}")


def _channel_of(invoice_id: int) -> str:
    channel: str = InvoiceRow.select(InvoiceRow.channel).where(InvoiceRow.id == invoice_id).scalar()
    return channel


def load_exportable(numbers: Sequence[str]) -> list[tuple[str, InvoiceRecord, Invoice]]:
    """The stored invoices, in the order given (one invoice named twice comes once).

    Raises ValidationFailed naming every number that is unknown, a pre-issue record, not numbered or legacy.
    """
    errors: list[FieldError] = []
    found: list[tuple[str, InvoiceRecord, Invoice]] = []
    seen: set[int] = set()
    for given in numbers:
        number = given.strip()
        loaded = load_invoice(number) if number else None
        if loaded is None:
            errors.append(FieldError("number", f"没有号码为 {given} 的发票", f"no invoice numbered {given}"))
            continue
        record, invoice = loaded
        refusal = export_refusal(invoice, record.official_number, number, record.status)
        if refusal is not None:
            errors.append(FieldError("number", *refusal))
        elif record.id not in seen:
            seen.add(record.id)
            found.append((number, record, invoice))
    if errors:
        raise ValidationFailed(errors)
    return found


def export_invoices(numbers: Sequence[str], *, xml_dir: Path | None, pdf_dir: Path | None,
                    clerk: str = "") -> list[ExportedFile]:
    """Write `<official number>.xml` into xml_dir and `<official number>.pdf` into pdf_dir for each invoice.

    Raises BadInput when neither folder is given or one does not exist, ValidationFailed (nothing written)
    when a number cannot be exported. Printing the PDF is recorded as any print is (a second one is a 副本).
    """
    if xml_dir is None and pdf_dir is None:
        raise BadInput("xml/pdf（输出文件夹）：请至少指定 XML 或 PDF 的输出文件夹",
                       "xml/pdf: give a folder for the XML files, the PDF files or both")
    if not numbers:
        raise ValidationFailed([FieldError("number", "请至少指定一张发票", "name at least one invoice")])
    _check_folder(xml_dir, "xml")
    _check_folder(pdf_dir, "pdf")
    invoices = load_exportable(numbers)
    seller = get_seller()
    taxpayer_type = seller.taxpayer_type if seller is not None else "general"
    options = options_for() if pdf_dir is not None else None
    written: list[ExportedFile] = []
    for number, record, invoice in invoices:
        official = record.official_number
        assert official is not None  # load_exportable refused the others
        if xml_dir is not None:
            path = Path(xml_dir) / f"{official}.xml"
            label = issuing_label_for(_channel_of(record.id), invoice.offline)
            data = invoice_xml(invoice, official, taxpayer_type=taxpayer_type, issuing_label=label)
            write_atomically(path, functools.partial(_write_bytes, data), prefix=".export-")
            written.append(ExportedFile(number, official, XML, path))
        if pdf_dir is not None and options is not None:
            path = Path(pdf_dir) / f"{official}.pdf"
            print_to_pdf([official], path, options, clerk=clerk)
            written.append(ExportedFile(number, official, PDF, path))
    return written
