"""One PDF holding any number of prints, through one entry point (write_invoices / render_invoices):

- an invoice (it holds an official number: from the desk's block or from the platform) prints its 数电 face,
  shudian-rules.md section 6 (app.printing.face): one page of 210 × 140 mm and taller with the lines, several
  pages from 43 lines. Legacy invoices holding an official number print on the same face;
- a pre-issue record (预开单, no official number: legacy records that never got one too) prints as a plain
  slip (app.printing.slip) that cannot be taken for an invoice;
- nothing here goes onto pre-printed forms: only a paper 数电 invoice does, onto the tax bureau's form, with the
  sheet it takes recorded (app.services.paper_printing over app.printing.paper_form). The layout name `overlay`
  is refused here, naming why each print does not go onto forms this way.

On the `invoice` paper each page is the face's own size; on `a4` (landscape) the face is centred and scaled
down uniformly when it is taller than the sheet allows.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import BinaryIO

from reportlab.pdfgen.canvas import Canvas

from app.core.errors import EXIT_BAD_INPUT, DeskError
from app.printing import layout as L
from app.printing.calibration import draw_calibration
from app.printing.face import draw_face
from app.printing.fonts import TEXT_FONT, register_fonts
from app.printing.geometry import MM, Paper
from app.printing.geometry import paper as paper_named
from app.printing.paper_form import refusal
from app.printing.pen import Pen
from app.printing.slip import PAGE_W as SLIP_W
from app.printing.slip import SlipPage, draw_slip, plan_slip
from app.printing.view import PrintView

FULL = "full"
OVERLAY = "overlay"  # onto pre-printed forms: refused by write_invoices (app.services.paper_printing prints those)
LAYOUTS = (FULL, OVERLAY)
A4_MARGIN_MM = 5.0  # kept free around a face on A4


class Cancelled(Exception):
    """The caller's progress callback asked to stop; no PDF was produced."""


class NotOnFormsHere(DeskError):
    """Invoices asked to print onto pre-printed forms through the face's document (layout `overlay`): refused,
    nothing printed. Electronic invoices print on plain paper (their face); paper invoices print onto their forms
    through app.services.paper_printing, which takes and records the sheet."""

    exit_code = EXIT_BAD_INPUT


class PreIssueOnForms(DeskError):
    """Pre-issue records asked to print onto pre-printed invoice forms (overlay): refused, nothing printed."""

    def __init__(self, numbers: list[str]):
        listed = ", ".join(numbers)
        super().__init__(f"number（发票号码）：{listed} 是预开单（非发票），不能套打在发票纸上；"
                         "请用完整版式打印（不加 --overlay）",
                         f"number: {listed} is a pre-issue record, not an invoice, and is never printed onto invoice "
                         "forms; print it in the full layout (without --overlay)", exit_code=EXIT_BAD_INPUT)
        self.numbers = numbers


@dataclass(frozen=True)
class PrintOptions:
    layout: str = FULL  # full: the 数电 face (or a pre-issue slip) on plain paper; overlay: refused (see OVERLAY)
    paper: str = "invoice"  # invoice: each page the face's own size; a4: A4 landscape
    offset_x_mm: float = 0.0  # the printer's calibrated offset: paper invoices on forms only, never the face
    offset_y_mm: float = 0.0

    def __post_init__(self):
        if self.layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}, not {self.layout!r}")
        paper_named(self.paper)


def pages_of(view: PrintView, options: PrintOptions = PrintOptions()) -> int:
    """Pages one print takes."""
    if view.is_invoice:
        return len(L.plan_pages(len(view.invoice.lines)))
    return len(plan_slip(len(view.invoice.lines)))


def new_canvas(out: BinaryIO, sheet: Paper) -> Canvas:
    # The initial font is ours: reportlab's default (Helvetica) would be listed unembedded.
    return Canvas(out, pagesize=sheet.size_points, pageCompression=1, initialFontName=TEXT_FONT,
                  initialFontSize=10)


class _Writer:
    def __init__(self, out: BinaryIO, options: PrintOptions, title: str):
        register_fonts()
        self.options = options
        self.paper: Paper = paper_named(options.paper)
        self.canvas = new_canvas(out, self.paper)
        self.canvas.setTitle(title)
        self.canvas.setCreator("Fapiao Desk 发票离线开票台")
        self._forms: set[str] = set()
        self.kinds: set[str] = set()  # "invoice", "pre_issue": what the document holds, for its title

    # --- pages -------------------------------------------------------------------------------------------------
    def _page(self, width_mm: float, height_mm: float, draw: Callable[[Pen], None]) -> None:
        """One page holding a width × height drawing (mm, its own top-left origin): the page itself on the
        invoice paper; centred on A4 landscape, scaled down uniformly if it does not fit."""
        canvas = self.canvas
        if self.paper.name == "a4":
            sheet_w, sheet_h = self.paper.width_mm, self.paper.height_mm
            canvas.setPageSize((sheet_w * MM, sheet_h * MM))
            scale = min(1.0, (sheet_w - 2 * A4_MARGIN_MM) / width_mm, (sheet_h - 2 * A4_MARGIN_MM) / height_mm)
            left = (sheet_w - width_mm * scale) / 2
            top = A4_MARGIN_MM if scale < 1.0 else min(10.0, (sheet_h - height_mm) / 2)
            canvas.saveState()
            canvas.translate(left * MM, (sheet_h - top - height_mm * scale) * MM)
            canvas.scale(scale, scale)
            draw(Pen(canvas, height_mm, 0.0, 0.0))
            canvas.restoreState()
        else:
            canvas.setPageSize((width_mm * MM, height_mm * MM))
            draw(Pen(canvas, height_mm, 0.0, 0.0))
        canvas.showPage()

    def _form(self, name: str, width_mm: float, height_mm: float, draw: Callable[[Pen], None]) -> None:
        """Draw a static part once per document as a form XObject (in the page's own mm), then refer to it."""
        if name not in self._forms:
            self.canvas.beginForm(name, 0, 0, width_mm * MM, height_mm * MM)
            draw(Pen(self.canvas, height_mm, 0.0, 0.0))
            self.canvas.endForm()
            self._forms.add(name)
        self.canvas.doForm(name)

    def invoice(self, view: PrintView) -> None:
        self.kinds.add("invoice" if view.is_invoice else "pre_issue")
        if view.is_invoice:
            for plan in L.plan_pages(len(view.invoice.lines)):
                def face_page(pen: Pen, plan: L.PagePlan = plan) -> None:
                    draw_face(pen, view, plan,
                              lambda name, height, draw: self._form(name, L.PAGE_W, height, draw))
                self._page(L.PAGE_W, plan.height, face_page)
        else:
            for page in plan_slip(len(view.invoice.lines)):
                def slip_page(pen: Pen, page: SlipPage = page) -> None:
                    draw_slip(pen, view, page)
                self._page(SLIP_W, page.height, slip_page)

    def finish(self) -> None:
        if self.kinds == {"pre_issue"}:
            self.canvas.setTitle("预开单（非发票）")
        elif "pre_issue" in self.kinds:
            self.canvas.setTitle("发票与预开单（非发票）")
        self.canvas.save()


def refuse_forms(views: list[PrintView]) -> None:
    """The layout `overlay` asked of this document: pre-issue records refused as such (PreIssueOnForms), every other
    print with its reason (NotOnFormsHere): an electronic invoice prints its face on plain paper, a paper invoice
    goes onto its form through app.services.paper_printing."""
    refused = [view.invoice.number for view in views if view.pre_issue]
    if refused:
        raise PreIssueOnForms(refused)
    reasons = [reason for view in views if (reason := refusal(view)) is not None]
    papers = [view.official_number or view.invoice.number for view in views if refusal(view) is None]
    if papers:
        listed = ", ".join(papers)
        reasons.append((f"layout（版式）：纸质发票 {listed} 须装入纸质发票后套打（print --overlay），"
                        "由系统登记所用纸张",
                        f"layout: paper invoices {listed} print onto their forms with print --overlay, which takes "
                        "and records each sheet"))
    raise NotOnFormsHere("；".join(zh for zh, _ in reasons), "; ".join(en for _, en in reasons))


def write_invoices(out: BinaryIO, views: Iterable[PrintView], options: PrintOptions = PrintOptions(),
                   progress: Callable[[int], bool] | None = None) -> int:
    """Write the PDF to out; returns the page count. progress(done) is called after each
    invoice; returning False stops with Cancelled (out then holds no usable PDF).

    Raises PreIssueOnForms or NotOnFormsHere (nothing drawn) for the layout `overlay`: nothing goes onto forms
    from here."""
    if options.layout == OVERLAY:
        refuse_forms(list(views))
    writer = _Writer(out, options, "发票")
    pages = 0
    for done, view in enumerate(views, start=1):
        writer.invoice(view)
        pages += pages_of(view, options)
        if progress is not None and progress(done) is False:
            raise Cancelled()
    writer.finish()
    return pages


def render_invoices(views: Iterable[PrintView], options: PrintOptions = PrintOptions(),
                    progress: Callable[[int], bool] | None = None) -> bytes:
    buffer = io.BytesIO()
    write_invoices(buffer, views, options, progress)
    return buffer.getvalue()


def render_calibration(paper: str, offset_x_mm: float, offset_y_mm: float, printer: str = "",
                       scale_x: float = 1.0, scale_y: float = 1.0) -> bytes:
    """The calibration page, printed with the printer's offset and x/y scale (app.printing.calibration)."""
    register_fonts()
    sheet = paper_named(paper)
    buffer = io.BytesIO()
    canvas = new_canvas(buffer, sheet)
    canvas.setTitle("套打校准页")
    draw_calibration(canvas, sheet, offset_x_mm, offset_y_mm, printer, scale_x, scale_y)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
