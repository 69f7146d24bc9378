"""One PDF holding any number of invoices: the face (full form or overlay) and, when an
invoice has more lines than the face holds, its 销货清单 pages after it.

A pre-issue record (预开单) is not an invoice: it prints on the full form only, with the pre-issue frame
(banner in place of the title, 预开单号 in place of 发票号码) and its mark across every page; it is never
put onto pre-printed invoice forms (overlay), where it would look like an invoice.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import BinaryIO

from reportlab.pdfgen.canvas import Canvas

from app.core.errors import EXIT_BAD_INPUT, DeskError
from app.core.invoice import FACE_LINES
from app.printing import sales_list
from app.printing.calibration import draw_calibration
from app.printing.face import draw_face_data
from app.printing.fonts import TEXT_FONT, register_fonts
from app.printing.frame import draw_frame
from app.printing.geometry import FORM_HEIGHT_MM, FORM_WIDTH_MM, Paper
from app.printing.geometry import paper as paper_named
from app.printing.marks import draw_pre_issue_watermark
from app.printing.pen import Pen
from app.printing.view import PrintView

FULL = "full"
OVERLAY = "overlay"
LAYOUTS = (FULL, OVERLAY)


class Cancelled(Exception):
    """The caller's progress callback asked to stop; no PDF was produced."""


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
    layout: str = FULL  # full: frame and data on blank paper; overlay: data only, onto pre-printed forms
    paper: str = "invoice"  # invoice (240 × 140 mm) or a4
    offset_x_mm: float = 0.0  # the printer's calibrated offset; moves the overlay only
    offset_y_mm: float = 0.0

    def __post_init__(self):
        if self.layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}, not {self.layout!r}")
        paper_named(self.paper)


def pages_of(view: PrintView) -> int:
    lines = len(view.invoice.lines)
    return 1 + (sales_list.page_count(lines) if lines > FACE_LINES else 0)


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

    def _pen(self, dx: float = 0.0, dy: float = 0.0) -> Pen:
        return Pen(self.canvas, self.paper.height_mm, self.paper.form_left_mm + dx, self.paper.form_top_mm + dy)

    def _form(self, name: str, draw: Callable[[Pen], None]) -> None:
        """Draw a static part once per document as a form XObject, then refer to it."""
        if name not in self._forms:
            self.canvas.beginForm(name)
            draw(self._pen())
            self.canvas.endForm()
            self._forms.add(name)
        self.canvas.doForm(name)

    def _pre_issue_mark(self) -> None:
        """The not-an-invoice mark across the page, under everything (the data stays readable through it);
        one form per document, so its image is stored and hashed once however many pages carry it."""
        self._form("pre_issue_mark", lambda pen: draw_pre_issue_watermark(pen, FORM_WIDTH_MM, FORM_HEIGHT_MM))

    def invoice(self, view: PrintView) -> None:
        options = self.options
        self.kinds.add("pre_issue" if view.pre_issue else "invoice")
        if options.layout == FULL:
            kind = view.invoice.kind
            pre_issue = view.pre_issue
            if pre_issue:
                self._pre_issue_mark()
            name = f"frame_{kind.value}" + ("_pre_issue" if pre_issue else "")
            self._form(name, lambda pen: draw_frame(pen, kind, pre_issue))
            draw_face_data(self._pen(), view)
        else:
            draw_face_data(self._pen(options.offset_x_mm, options.offset_y_mm), view)
        self.canvas.showPage()
        if len(view.invoice.lines) > FACE_LINES:
            pages = sales_list.page_count(len(view.invoice.lines))
            for page in range(1, pages + 1):
                if view.pre_issue:
                    self._pre_issue_mark()
                self._form("sales_list", sales_list.draw_list_frame)
                sales_list.draw_list_page(self._pen(), view, page, pages)
                self.canvas.showPage()

    def finish(self) -> None:
        if self.kinds == {"pre_issue"}:
            self.canvas.setTitle("预开单（非发票）")
        elif "pre_issue" in self.kinds:
            self.canvas.setTitle("发票与预开单（非发票）")
        self.canvas.save()


def write_invoices(out: BinaryIO, views: Iterable[PrintView], options: PrintOptions = PrintOptions(),
                   progress: Callable[[int], bool] | None = None) -> int:
    """Write the PDF to out; returns the page count. progress(done) is called after each
    invoice; returning False stops with Cancelled (out then holds no usable PDF).

    Raises PreIssueOnForms (nothing drawn) when the overlay layout is asked for pre-issue records."""
    if options.layout == OVERLAY:
        views = list(views)
        refused = [view.invoice.number for view in views if view.pre_issue]
        if refused:
            raise PreIssueOnForms(refused)
    writer = _Writer(out, options, "发票")
    pages = 0
    for done, view in enumerate(views, start=1):
        writer.invoice(view)
        pages += pages_of(view)
        if progress is not None and progress(done) is False:
            raise Cancelled()
    writer.finish()
    return pages


def render_invoices(views: Iterable[PrintView], options: PrintOptions = PrintOptions(),
                    progress: Callable[[int], bool] | None = None) -> bytes:
    buffer = io.BytesIO()
    write_invoices(buffer, views, options, progress)
    return buffer.getvalue()


def render_calibration(paper: str, offset_x_mm: float, offset_y_mm: float, printer: str = "") -> bytes:
    register_fonts()
    sheet = paper_named(paper)
    buffer = io.BytesIO()
    canvas = new_canvas(buffer, sheet)
    canvas.setTitle("套打校准页")
    draw_calibration(canvas, sheet, offset_x_mm, offset_y_mm, printer)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
