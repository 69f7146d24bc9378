"""Printing speed: invoices per second into one batch PDF and as single-invoice PDFs.

    .venv/bin/python tests/benchmarks/bench_printing.py [--count 1000] [--singles 200]

Issues --count invoices (3 lines each) into a fresh store, loads their print views, then
measures in this one process, pinned to one CPU core:
  baseline  a plain reportlab canvas: one page per invoice with the same text (every label and
            value the 数电 face prints, same embedded fonts) drawn with drawString, no rules,
            no form XObject, no QR code;
  face      the 数电 face of invoices (official numbers): frame as a form XObject, data, QR code and 税 mark;
  slip      the pre-issue slips of the same records before the platform issued them (no QR code);
  overlay   the data only onto pre-printed forms (invoices only: pre-issue records are refused there).
Each as one batch PDF of all invoices and as --singles one-invoice PDFs. Prints invoices/s,
the ratio to the baseline and the PDF size. Not a test: run by hand.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from reportlab.pdfgen.canvas import Canvas  # noqa: E402

from app.printing.document import PrintOptions, new_canvas, render_invoices  # noqa: E402
from app.printing.face import draw_frame, draw_page_data  # noqa: E402
from app.printing.fonts import register_fonts  # noqa: E402
from app.printing.geometry import paper  # noqa: E402
from app.printing.layout import plan_pages  # noqa: E402
from app.printing.pen import Pen  # noqa: E402
from tests.helpers.bodies import CABBAGE, PRINTER, SOFTWARE  # noqa: E402

BUYER_TAX_ID = "91110000600037341L"
SELLER_TAX_ID = "91110108MA0123456G"


class RecordingPen(Pen):
    """Collects the text a layout would print, drawing nothing."""

    def __init__(self, canvas):
        super().__init__(canvas, 140, 0, 0)
        self.texts: list[tuple[str, str, float]] = []

    def begin_text(self):
        pass

    def end_text(self):
        pass

    def text(self, x_mm, y_mm, text, font, size, align="left", color=None):
        if text:
            self.texts.append((text, font, size))

    def hline(self, *args):
        pass

    def vline(self, *args):
        pass

    def rect(self, *args, **kwargs):
        pass


def same_text(view) -> list[tuple[str, str, float]]:
    pen = RecordingPen(Canvas(io.BytesIO()))
    plan = plan_pages(len(view.invoice.lines))[0]
    draw_frame(pen, view.invoice.kind, plan)
    draw_page_data(pen, view, plan)
    return pen.texts


def baseline_pdf(texts_per_invoice) -> bytes:
    """A plain reportlab page per invoice: the same strings, one drawString each, top to bottom."""
    buffer = io.BytesIO()
    canvas = new_canvas(buffer, paper("invoice"))
    for texts in texts_per_invoice:
        y = 380
        x = 20
        for text, font, size in texts:
            canvas.setFont(font, size)
            canvas.drawString(x, y, text)
            y -= 6
            if y < 20:
                y, x = 380, x + 220
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def make_views(count: int, directory: Path):
    from app.services.issuing import issue_invoices
    from app.services.printing_log import load_print_views
    from app.services.seller import set_seller
    from app.services.store_access import open_store

    open_store(directory)
    from decimal import Decimal

    from app.core.limits import OfflineLimits
    from app.services.limits import set_limits

    # Lift the offline limits: the benchmark issues far more than an outage allows.
    set_limits(OfflineLimits(max_count=10 * count, max_amount=Decimal("999999999.00")))
    set_seller(name="北京某某科技有限公司", tax_id=SELLER_TAX_ID, drawer="张三", address="北京市海淀区中关村大街1号",
               phone="010-62345678", bank="中国工商银行北京中关村支行", account="0200001234567890123")
    bodies = []
    for i in range(count):
        bodies.append({
            "kind": "normal",
            "buyer": {"name": f"北京客户贸易有限公司第{i % 50}分公司", "tax_id": BUYER_TAX_ID,
                      "address": "北京市朝阳区建国路88号", "phone": "010-85551234"},
            "lines": [
                {"tax_code": SOFTWARE, "item_name": "软件开发", "unit": "项", "quantity": "1",
                 "unit_price": str(1000 + i), "tax_rate": "0.06"},
                {"tax_code": PRINTER, "item_name": "激光打印机", "spec": "HP-M404dn", "unit": "台",
                 "quantity": str(1 + i % 7), "unit_price": "1899.5", "tax_rate": "0.13"},
                {"tax_code": CABBAGE, "item_name": "有机白菜", "unit": "千克", "quantity": "12", "unit_price": "45",
                 "tax_rate": "exempt"},
            ],
            "remarks": f"合同号 HT-2026-{i:04d}",
        })
    started = time.perf_counter()
    numbers = [item.number for item in issue_invoices(bodies)]
    issue_seconds = time.perf_counter() - started
    started = time.perf_counter()
    views = load_print_views(numbers)
    load_seconds = time.perf_counter() - started
    return views, issue_seconds, load_seconds


def timed(function: Callable[[], int], repeat: int = 1) -> tuple[float, int]:
    """The best time of `repeat` runs, and the size the last run returned."""
    best = float("inf")
    size = 0
    for _ in range(repeat):
        started = time.perf_counter()
        size = function()
        best = min(best, time.perf_counter() - started)
    return best, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--singles", type=int, default=200)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    register_fonts()
    with tempfile.TemporaryDirectory() as temp:
        views, issue_seconds, load_seconds = make_views(args.count, Path(temp))
    accepted = [dataclasses.replace(v, official_number=f"011002{i:014d}", status="accepted")
                for i, v in enumerate(views)]
    texts = [same_text(v) for v in accepted]
    print(f"{args.count} invoices, 3 lines each; issued in {issue_seconds:.2f} s, "
          f"print views loaded in {load_seconds:.2f} s ({args.count / load_seconds:,.0f}/s)")
    print(f"text pieces per invoice: {sum(len(t) for t in texts) / len(texts):.0f}")
    singles = min(args.singles, args.count)

    cases = [
        ("baseline", lambda: len(baseline_pdf(texts)), lambda i: len(baseline_pdf([texts[i]]))),
        ("face", lambda: len(render_invoices(accepted)), lambda i: len(render_invoices([accepted[i]]))),
        ("slip", lambda: len(render_invoices(views)), lambda i: len(render_invoices([views[i]]))),
        ("overlay", lambda: len(render_invoices(accepted, PrintOptions(layout="overlay"))),
         lambda i: len(render_invoices([accepted[i]], PrintOptions(layout="overlay")))),
    ]
    results = {}
    for name, batch, single in cases:
        batch_seconds, batch_size = timed(batch, repeat=2)

        def all_singles(single: Callable[[int], int] = single) -> int:
            return sum(single(i) for i in range(singles))

        single_seconds, single_size = timed(all_singles)
        results[name] = (args.count / batch_seconds, singles / single_seconds, batch_size, single_size / singles)

    base_batch, base_single = results["baseline"][0], results["baseline"][1]
    print(f"{'':10} {'batch inv/s':>12} {'vs base':>8} {'single inv/s':>13} {'vs base':>8} "
          f"{'batch PDF':>10} {'single PDF':>11}")
    for name, (batch_rate, single_rate, batch_size, single_size) in results.items():
        print(f"{name:10} {batch_rate:12,.0f} {batch_rate / base_batch:8.2f} {single_rate:13,.0f} "
              f"{single_rate / base_single:8.2f} {batch_size / 1e6:8.1f}MB {single_size / 1e3:9.0f}kB")
    face_batch, face_single = results["face"][0], results["face"][1]
    print(f"goal: face batch >= 0.9x baseline: {face_batch / base_batch:.2f}x -> "
          f"{'met' if face_batch >= 0.9 * base_batch else 'NOT met'}; single files >= 0.9x: "
          f"{face_single / base_single:.2f}x -> {'met' if face_single >= 0.9 * base_single else 'NOT met'}")


if __name__ == "__main__":
    main()
