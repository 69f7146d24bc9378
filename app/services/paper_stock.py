"""The pre-printed paper forms in the printer, for paper 数电 invoices (medium paper, platform channel only).

When the clerk loads a pack of the tax bureau's pre-printed forms, the desk records the form's own code
(10 or 12 digits, printed on the form), the 8-digit number of its first sheet, how many sheets and the kind of
form (普票 `normal` or 专票 `special`: a 专票 form never carries a 普票). Each paper invoice printed takes the
next sheet of its kind, inside the print's IMMEDIATE transaction (two desks on one store never take one sheet
twice, and none is skipped); the sheet is recorded with the invoice, so the paper QR code (shudian-rules.md
section 7) carries the form's code and number and a reprint prints onto the record of the same sheet. A sheet
that jams or is misprinted is spoiled with a reason: a printed one leaves its invoice without a sheet (the next
print takes a new one); one not reached yet is skipped when its turn comes.

Packs of one kind are used in the order loaded (the oldest with sheets left is the one in the printer). Packs
whose numbers overlap under one code are refused. Every change is an audit entry.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core import status as statuses
from app.core.clock import now_iso
from app.core.errors import EXIT_BAD_INPUT, DeskError, FieldError, ValidationFailed
from app.core.invoice import InvoiceKind, Medium
from app.core.qr_content import PaperForm
from app.store import audit
from app.store.models import Invoice, PaperPack, PaperSheet, database

PRINTED = "printed"
SPOILED = "spoiled"
MAX_PACK = 10_000  # sheets in one pack: bureau packs hold 25 to 100; more is a typing error
KIND_NAMES = {InvoiceKind.NORMAL.value: "普票 (normal)", InvoiceKind.SPECIAL.value: "专票 (special)"}


class NoPaperForm(DeskError):
    """No pack of the kind the invoice needs has a sheet left: load one (`paper load`)."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, kind: str):
        name = KIND_NAMES.get(kind, kind)
        super().__init__(f"paper（纸质发票）：打印机中没有可用的{name}纸质发票，请先装入（paper load）",
                         f"paper: no {name} paper form left in the printer; load a pack first (paper load)")
        self.kind = kind


class NotAPaperInvoice(DeskError):
    """Only an issued paper invoice of the platform channel is printed onto a pre-printed form."""

    exit_code = EXIT_BAD_INPUT


@dataclass(frozen=True)
class Sheet:
    """One sheet of pre-printed form: its code and 8-digit number; the invoice it carries, if printed."""

    code: str
    number: str
    kind: str
    state: str = ""  # printed / spoiled / "" (not reached yet)
    invoice_number: str = ""  # the invoice's provisional number (LX-…) when printed
    reason: str = ""

    @property
    def form(self) -> PaperForm:
        return PaperForm(self.code, self.number)


@dataclass(frozen=True)
class PackView:
    id: int
    kind: str
    code: str
    first: str
    last: str
    count: int
    used: int
    spoiled: int
    loaded_at: str
    next_number: str | None  # the next sheet to print of this pack (spoiled sheets ahead are skipped)
    spoiled_ahead: int = 0  # sheets not reached yet that were spoiled in advance

    @property
    def left(self) -> int:
        """Sheets still to print (those spoiled in advance do not count)."""
        return self.count - self.used - self.spoiled_ahead


def _digits(value: object, field: str, lengths: tuple[int, ...], name_zh: str, name_en: str,
            errors: list[FieldError]) -> str:
    text = str(value).strip() if value is not None else ""
    if not (text.isascii() and text.isdigit() and len(text) in lengths):
        wanted_zh = " 或 ".join(str(n) for n in lengths)
        wanted_en = " or ".join(str(n) for n in lengths)
        errors.append(FieldError(field, f"{name_zh}应为 {wanted_zh} 位数字，不能是“{value}”",
                                 f"{name_en} must be {wanted_en} digits, not {value!r}"))
    return text


def _count(value: object, errors: list[FieldError]) -> int:
    try:
        count = int(str(value).strip())
    except ValueError:
        count = 0
    if not 1 <= count <= MAX_PACK:
        errors.append(FieldError("count", f"张数应为 1 到 {MAX_PACK} 之间的整数，不能是“{value}”",
                                 f"the sheet count must be a whole number from 1 to {MAX_PACK}, not {value!r}"))
    return count


def _kind(value: object, errors: list[FieldError]) -> str:
    if value not in KIND_NAMES:
        errors.append(FieldError("kind", f"纸质发票种类应为 normal（普票）或 special（专票），不能是“{value}”",
                                 f"the form kind must be normal or special, not {value!r}"))
    return str(value)


def _number_at(first: str, index: int) -> str:
    return f"{int(first) + index:08d}"


def _last(pack: PaperPack) -> str:
    return _number_at(pack.first, pack.count - 1)


def load_pack(code: object, first: object, count: object, *, kind: object = "normal", clerk: str = "") -> PackView:
    """Record a pack of pre-printed forms put into the printer; raises ValidationFailed naming the field (code not
    10/12 digits, first not 8 digits, count out of range, numbers beyond 99999999, a pack overlapping one
    already loaded under the same code)."""
    errors: list[FieldError] = []
    form_code = _digits(code, "code", (10, 12), "发票代码（纸质发票的代码）", "the form's code", errors)
    start = _digits(first, "first", (8,), "起始号码（纸质发票的 8 位号码）", "the first number", errors)
    sheets = _count(count, errors)
    form_kind = _kind(kind, errors)
    if not errors and int(start) + sheets - 1 > 99_999_999:
        errors.append(FieldError("count", f"从 {start} 起 {sheets} 张超出了 8 位号码（最大 99999999）",
                                 f"{sheets} sheets from {start} run past 99999999"))
    if errors:
        raise ValidationFailed(errors)
    last = _number_at(start, sheets - 1)
    with database.atomic("IMMEDIATE"):
        for other in PaperPack.select().where(PaperPack.code == form_code):
            if int(other.first) <= int(last) and int(start) <= int(_last(other)):
                raise ValidationFailed([FieldError(
                    "first",
                    f"发票代码 {form_code} 的号码 {start}–{last} 与已装入的 {other.first}–{_last(other)} 重叠",
                    f"numbers {start}-{last} of code {form_code} overlap the pack {other.first}-{_last(other)} "
                    "already loaded")])
        pack = PaperPack.create(kind=form_kind, code=form_code, first=start, count=sheets, used=0,
                                loaded_at=now_iso(), clerk=clerk)
        audit.append("paper_loaded", clerk=clerk, detail={"pack": pack.id, "kind": form_kind, "code": form_code,
                                                          "first": start, "last": last, "count": sheets})
    return _view(pack)


def _spoiled_numbers(pack: PaperPack) -> set[str]:
    return {s.number for s in PaperSheet.select(PaperSheet.number).where(
        (PaperSheet.pack == pack) & (PaperSheet.state == SPOILED))}


def _taken(pack: PaperPack) -> set[str]:
    return {s.number for s in PaperSheet.select(PaperSheet.number).where(PaperSheet.pack == pack)}


def _view(pack: PaperPack) -> PackView:
    taken = _taken(pack)
    spoiled = _spoiled_numbers(pack)
    ahead = [n for n in taken if int(n) >= int(pack.first) + pack.used]
    next_number = None
    for index in range(pack.used, pack.count):
        number = _number_at(pack.first, index)
        if number not in taken:
            next_number = number
            break
    return PackView(id=pack.id, kind=pack.kind, code=pack.code, first=pack.first, last=_last(pack), count=pack.count,
                    used=pack.used, spoiled=len(spoiled), loaded_at=pack.loaded_at, next_number=next_number,
                    spoiled_ahead=len(ahead))


def packs(*, with_empty: bool = False) -> list[PackView]:
    """The packs loaded, in the order they are used; those used up only when asked."""
    views = [_view(p) for p in PaperPack.select().order_by(PaperPack.id)]
    return views if with_empty else [v for v in views if v.next_number is not None]


def sheet_in_printer(kind: str = InvoiceKind.NORMAL.value) -> Sheet | None:
    """The sheet the next paper invoice of this kind prints on, or None when no pack of the kind has one left."""
    for pack in PaperPack.select().where(PaperPack.kind == kind).order_by(PaperPack.id):
        view = _view(pack)
        if view.next_number is not None:
            return Sheet(pack.code, view.next_number, pack.kind)
    return None


def _paper_invoice(number: str) -> Invoice:
    row = (Invoice.get_or_none((Invoice.provisional_number == number) | (Invoice.official_number == number)))
    if row is None:
        raise NotAPaperInvoice(f"number（发票号码）：本地没有发票 {number}",
                               f"number: no invoice {number} in the store")
    if row.medium != Medium.PAPER.value:
        raise NotAPaperInvoice(f"medium（发票介质）：{number} 是电子发票，不打印在纸质发票上",
                               f"medium: {number} is an electronic invoice, never printed onto a paper form")
    if row.channel != "platform":
        raise NotAPaperInvoice(f"channel（开票渠道）：纸质发票只能由平台开具，{number} 不是平台开具的",
                               f"channel: paper invoices are issued by the platform only; {number} is not")
    if not row.official_number or row.status in (statuses.PRE_ISSUE, statuses.REJECTED):
        raise NotAPaperInvoice(f"number（发票号码）：{number} 是预开单（尚无发票号码），不能打印在纸质发票上",
                               f"number: {number} is a pre-issue record with no official number yet, never printed "
                               "onto a paper form")
    return row


def sheet_of(number: str) -> Sheet | None:
    """The sheet an invoice (by provisional or official number) was printed on and that is not spoiled."""
    row = Invoice.get_or_none((Invoice.provisional_number == number) | (Invoice.official_number == number))
    if row is None:
        return None
    sheet = (PaperSheet.select().where((PaperSheet.invoice == row) & (PaperSheet.state == PRINTED))
             .order_by(PaperSheet.id.desc()).first())
    return _sheet(sheet, row.kind, row.provisional_number) if sheet is not None else None


def _sheet(sheet: PaperSheet, kind: str, invoice_number: str = "") -> Sheet:
    return Sheet(sheet.code, sheet.number, kind, sheet.state, invoice_number, sheet.reason)


@dataclass(frozen=True)
class SheetForPrint:
    sheet: Sheet
    new: bool  # False: a reprint, onto the record of the sheet the invoice was first printed on


def sheet_for_print(number: str, *, clerk: str = "", reprint: bool = True) -> SheetForPrint:
    """The sheet a paper invoice prints on: the one it holds (reprint=True and it was printed before and its sheet
    not spoiled), else the next sheet in the printer, recorded with it and audited. Call it inside the print's
    transaction (it opens an IMMEDIATE one itself when there is none, a savepoint otherwise), so a print that
    fails takes no sheet. Raises NotAPaperInvoice (not paper, not the platform channel, no official number yet)
    or NoPaperForm (no sheet of the invoice's kind left)."""
    with database.atomic("IMMEDIATE"):
        row = _paper_invoice(number)
        if reprint:
            held = sheet_of(row.provisional_number)
            if held is not None:
                return SheetForPrint(held, False)
        for pack in PaperPack.select().where(PaperPack.kind == row.kind).order_by(PaperPack.id):
            taken = _taken(pack)
            used = pack.used
            while used < pack.count:
                sheet_number = _number_at(pack.first, used)
                used += 1
                if sheet_number in taken:  # spoiled before its turn: skipped
                    continue
                changed = PaperPack.update(used=used).where(
                    (PaperPack.id == pack.id) & (PaperPack.used == pack.used)).execute()
                if changed != 1:  # cannot happen under the write lock; refuse rather than give a sheet twice
                    raise RuntimeError(f"paper pack {pack.code}/{pack.first} changed while a sheet was taken")
                PaperSheet.create(pack=pack, code=pack.code, number=sheet_number, state=PRINTED, invoice=row,
                                  reason="", at=now_iso(), clerk=clerk)
                audit.append("paper_sheet_printed", clerk=clerk, invoice=row,
                             detail={"code": pack.code, "number": sheet_number,
                                     "official_number": row.official_number})
                return SheetForPrint(Sheet(pack.code, sheet_number, pack.kind, PRINTED, row.provisional_number), True)
            if used != pack.used:  # only skipped sheets were left: the pack is used up
                PaperPack.update(used=used).where(PaperPack.id == pack.id).execute()
        raise NoPaperForm(row.kind)


def spoil_sheet(number: object, *, reason: str, code: object = None, clerk: str = "") -> Sheet:
    """Void a sheet (jammed, misprinted, torn): printed, its invoice no longer holds it (the next print takes a new
    sheet); not reached yet, it is skipped when its turn comes. Raises ValidationFailed naming the field: the number
    not 8 digits, no reason, no pack holding it, a number found under two codes without --code, already spoiled."""
    errors: list[FieldError] = []
    sheet_number = _digits(number, "number", (8,), "纸质发票号码", "the sheet number", errors)
    form_code = None
    if code not in (None, ""):
        form_code = _digits(code, "code", (10, 12), "发票代码（纸质发票的代码）", "the form's code", errors)
    why = (reason or "").strip()
    if not why:
        errors.append(FieldError("reason", "请写明作废原因（卡纸、打错等）",
                                 "say why the sheet is spoiled (jammed, misprinted, ...)"))
    if errors:
        raise ValidationFailed(errors)
    with database.atomic("IMMEDIATE"):
        query = PaperPack.select().where(PaperPack.first <= sheet_number).order_by(PaperPack.id)
        holding = [p for p in query if int(p.first) <= int(sheet_number) <= int(_last(p))
                   and (form_code is None or p.code == form_code)]
        if not holding:
            raise ValidationFailed([FieldError("number", f"没有装入过含号码 {sheet_number} 的纸质发票",
                                               f"no pack loaded holds sheet {sheet_number}")])
        if len({p.code for p in holding}) > 1:
            codes = ", ".join(sorted({p.code for p in holding}))
            raise ValidationFailed([FieldError("code",
                                               f"号码 {sheet_number} 在多个发票代码下都有（{codes}），请用 --code 指明",
                                               f"sheet {sheet_number} is in packs of several codes ({codes}): "
                                               "give --code")])
        pack = holding[0]
        row = PaperSheet.get_or_none((PaperSheet.code == pack.code) & (PaperSheet.number == sheet_number))
        invoice: Invoice | None = None
        if row is not None and row.state == SPOILED:
            raise ValidationFailed([FieldError("number", f"纸质发票 {pack.code} {sheet_number} 已作废",
                                               f"sheet {pack.code} {sheet_number} is spoiled already")])
        if row is not None:
            invoice = Invoice.get_by_id(row.invoice_id) if row.invoice_id is not None else None
            PaperSheet.update(state=SPOILED, reason=why, at=now_iso(), clerk=clerk).where(
                PaperSheet.id == row.id).execute()
        else:
            PaperSheet.create(pack=pack, code=pack.code, number=sheet_number, state=SPOILED, invoice=None,
                              reason=why, at=now_iso(), clerk=clerk)
        audit.append("paper_sheet_spoiled", clerk=clerk, invoice=invoice,
                     detail={"code": pack.code, "number": sheet_number, "reason": why,
                             "printed": invoice is not None})
    return Sheet(pack.code, sheet_number, pack.kind, SPOILED, invoice.provisional_number if invoice else "", why)


def sheets_of_pack(pack_id: int) -> list[Sheet]:
    """The sheets of a pack that were printed or spoiled, in number order."""
    pack = PaperPack.get_by_id(pack_id)
    out = []
    for sheet in PaperSheet.select().where(PaperSheet.pack == pack).order_by(PaperSheet.number):
        number = ""
        if sheet.invoice_id is not None:
            number = Invoice.get_by_id(sheet.invoice_id).provisional_number
        out.append(_sheet(sheet, pack.kind, number))
    return out
