"""The 数电 face against a plain reportlab page and against InvoiceGenerator: PDFs per second, in one run.

    .venv/bin/pip install -e '.[bench]'      # InvoiceGenerator (PyPI), only this benchmark needs it
    .venv/bin/python tests/benchmarks/bench_face_compare.py [--quick] [--count N] [--repeat R] [--profile]

The invoices are real rows. A temporary store on the direct channel, with the seller, numbers (a block of
5,000) and quota drawn by the real stock service (app.services.stock.top_up) from the reference platform
running in-process on loopback (app.platform.server.PlatformServer), as bench_issue_latency.py does;
--count three-line invoices (6 %, 13 %, 免税, remarks, varied buyers and amounts) issued with
app.services.issuing.issue_invoices. Each holds its official 20-digit number, so the desk prints it as an
invoice: its 数电 face with the QR code and the 税 mark. Print views come from
app.services.printing_log.load_print_views, as the print service loads them.

Three makers of the same PDFs, timed in this one process (pinned to one CPU core), each as ONE batch PDF of
all invoices and as ONE FILE PER INVOICE (rendered, then written to a file in a temporary folder: every
maker pays the same write), best of --repeat runs, the makers taking turns so drift hits them alike. Rates
and goals are per CPU second of this process (time.process_time: other work on a busy machine does not
count); the rates per wall-clock second are printed beside them.

  desk      the print service's entry points, app.printing.document.render_invoices(views, PrintOptions())
            (invoice paper, full layout): the public API only, never the face's internals;
  plain     a plain reportlab page per invoice with the same text in the same embedded font: the text runs
            are read back from the desk's own PDF of that invoice (pdfplumber: characters grouped into runs
            of one font, size and baseline), so every label and value the face prints, at its position, in
            WenQuanYi Micro Hei (text) or its Mono face (figures), registered once by
            app.printing.fonts.register_fonts (the collection under resources/fonts), one drawString a run,
            on a page of the face's size. No rules, no form XObject, no QR code;
  IG        InvoiceGenerator (PyPI `InvoiceGenerator`, reportlab-based) making its comparable page from the
            same invoices (seller, buyer, three items with rate, unit, quantity, price, totals, VAT
            breakdown, number, date, drawer, remarks as the client's note), on its FASTEST use:
            * fonts registered ONCE: its two font names 'DejaVu' and 'DejaVu-Bold' registered once, before
              timing, to the same WenQuanYi collection (faces 0 and 1: its own DejaVu has no Chinese glyphs),
              instead of SimpleInvoice.gen's registering both TTFs again for every invoice;
            * ONE SHARED CANVAS for the batch: `SharedCanvasInvoice(SimpleInvoice)` below sets `self.pdf` to a
              plain reportlab Canvas made once (not its NumberedCanvas, which keeps every page's state until
              save) and calls SimpleInvoice's own drawing methods in gen()'s order and with gen()'s arguments
              (_drawMain, _drawTitle, _drawProvider, _drawClient, _drawPayment, _drawQR, _drawDates,
              _drawItems; _addMetaInformation once per document), then showPage; save() once at the end.
              For one file each, the same methods on a new plain Canvas per file (fonts still registered once);
            * twice: without a QR code (SimpleInvoice.gen's default, generate_qr_code=False: its fastest use,
              the one the goal is measured against) and with its own QR code (QrCodeBuilder: the qrplatba
              payment text through `qrcode` to a temporary PNG file, drawn by _drawQR), for information.
            Labels in English (INVOICE_LANG=en), amounts as CNY in the zh_CN locale (babel).

rl_config.useA85 = 0 (set by register_fonts: plain Flate streams) holds for all makers alike, as the process
shares it. Before timing, the script checks the desk's PDF: one page per invoice, the QR code decoded from a
rendered page (pypdfium2 + zxing-cpp, Python packages of the test extra: no system tool) holds the invoice's
official number, every font embedded; and the plain page holds the same characters as the desk's.

Goals (shudian face, issue 11): desk batch >= 0.9x plain and >= 3x IG's fastest use (QR code included on
the desk); desk single files >= 0.9x plain. When one is missed (or with --profile) the desk's batch and
single files run again under cProfile and the top entries are printed: where the time goes.
Not a test: run by hand.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("INVOICE_LANG", "en")  # InvoiceGenerator's labels; read at each label it draws

TOKEN = "bench-token-0123456789"
SELLER_NAME = "北京某某科技有限公司"  # the reference platform's own taxpayer (its defaults)
PLATFORM_QUOTA = Decimal("9000000000.00")
BLOCK_SIZE = 5000
GOAL_VS_PLAIN = 0.9
GOAL_VS_IG = 3.0


# --- the invoices: real rows through the issue service, direct channel -------------------------------------

def bodies(count: int) -> list[dict[str, Any]]:
    from tests.helpers.bodies import BUYER_TAX_ID, CABBAGE, PRINTER, SOFTWARE

    out = []
    for i in range(count):
        out.append({
            "kind": "normal",
            "buyer": {"name": f"北京客户贸易有限公司第{i % 50}分公司", "tax_id": BUYER_TAX_ID,
                      "address": "北京市朝阳区建国路88号", "phone": "010-85551234", "bank": "招商银行北京分行",
                      "account": "110901234510201"},
            "lines": [
                {"tax_code": SOFTWARE, "item_name": "软件开发", "spec": "V2.0", "unit": "项", "quantity": "1",
                 "unit_price": str(1000 + i), "tax_rate": "0.06"},
                {"tax_code": PRINTER, "item_name": "激光打印机", "spec": "HP-M404dn", "unit": "台",
                 "quantity": str(1 + i % 7), "unit_price": "1899.5", "tax_rate": "0.13"},
                {"tax_code": CABBAGE, "item_name": "有机白菜", "unit": "千克", "quantity": "12", "unit_price": "45",
                 "tax_rate": "exempt"},
            ],
            "remarks": f"合同号 HT-2026-{i:04d}",
        })
    return out


def issue_and_load(count: int, work: Path) -> tuple[Any, list[Any], float]:
    """Issue `count` invoices on the direct channel of a fresh store; the store (left open, as the desk prints
    with its store open), the invoices' print views and the issue time."""
    from app.core.limits import OfflineLimits
    from app.platform.http_client import HttpPlatformClient
    from app.platform.server import PlatformServer
    from app.services import stock
    from app.services.channel import set_channel
    from app.services.issuing import issue_invoices
    from app.services.limits import set_limits
    from app.services.printing_log import load_print_views
    from app.services.seller import set_seller
    from app.services.settings import set_platform
    from app.services.store_access import open_store
    from tests.helpers.bodies import SELLER_TAX_ID

    server = PlatformServer(work / "platform.sqlite3", token=TOKEN, quota=PLATFORM_QUOTA, result_delay_ms=0).start()
    client = HttpPlatformClient(server.url, TOKEN, timeout=30, batch_timeout=60)
    store = open_store(work / "store")
    try:
        set_seller(name=SELLER_NAME, tax_id=SELLER_TAX_ID, drawer="张三", address="北京市海淀区中关村大街1号",
                   phone="010-62345678", bank="中国工商银行北京中关村支行", account="0200001234567890123")
        set_limits(OfflineLimits(max_count=10**9, max_amount=Decimal("1e12"), max_single=Decimal("1e9")))
        set_platform(server.url, TOKEN)
        set_channel("direct")
        stock.set_stock_settings(block_size=BLOCK_SIZE, numbers_floor=BLOCK_SIZE - 1,
                                 quota_slice="500000000.00", quota_floor="200000000.00")
        numbers: list[str] = []
        started = time.perf_counter()
        for start in range(0, count, BLOCK_SIZE - 1):
            result = stock.top_up(client)
            if not result.complete:
                raise SystemExit(f"top-up failed: {result}")
            chunk = bodies(count)[start:start + BLOCK_SIZE - 1]
            numbers += [item.number for item in issue_invoices(chunk)]
        issue_seconds = time.perf_counter() - started
        views = load_print_views(numbers)
    finally:
        client.close()
        server.stop()
    not_invoices = [v.invoice.number for v in views if not v.is_invoice]
    if not_invoices:
        raise SystemExit(f"not invoices (no official number): {not_invoices[:5]}")
    return store, views, issue_seconds


# --- maker 1: the desk, through its public entry points ----------------------------------------------------

def desk_batch(views: Sequence[Any]) -> bytes:
    from app.printing.document import PrintOptions, render_invoices

    return render_invoices(views, PrintOptions())


def desk_single(view: Any) -> bytes:
    from app.printing.document import PrintOptions, render_invoices

    return render_invoices([view], PrintOptions())


# --- maker 2: a plain reportlab page with the same text ----------------------------------------------------

@dataclass(frozen=True)
class Run:
    text: str
    font: str  # a registered font name
    size: float
    x: float  # the first glyph's origin, PDF points from the page's bottom left
    y: float


@dataclass(frozen=True)
class PlainPage:
    width: float
    height: float
    runs: tuple[Run, ...]


def _font_name(pdf_font: str) -> str:
    from app.printing.fonts import FIGURE_FONT, TEXT_FONT

    name = pdf_font.split("+", 1)[-1]
    if "WenQuanYi" not in name.replace(" ", ""):
        raise SystemExit(f"the desk's PDF uses a font other than the shipped WenQuanYi collection: {pdf_font}")
    return FIGURE_FONT if "Mono" in name else TEXT_FONT


def plain_pages(desk_pdf: bytes) -> list[PlainPage]:
    """The text runs of every page of a desk PDF, read by as many processes as this one may use (pdfplumber
    takes some 60 ms a page): set-up, before the timing pins the process to one core."""
    import multiprocessing

    from pypdf import PdfReader

    count = len(PdfReader(io.BytesIO(desk_pdf)).pages)
    workers = min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1, 8)
    if workers < 2 or count < 50 or "fork" not in multiprocessing.get_all_start_methods():
        return _plain_page_range(desk_pdf, 0, count)
    step = -(-count // workers)
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        parts = pool.starmap(_plain_page_range, [(desk_pdf, k, min(k + step, count)) for k in range(0, count, step)])
    return [page for part in parts for page in part]


def _plain_page_range(desk_pdf: bytes, start: int, stop: int) -> list[PlainPage]:
    """The text runs of pages start..stop-1: characters in content order (a form XObject's where the page
    draws it), one run while font, size and baseline stay and each glyph starts where the last ended
    (within 0.3 of the size)."""
    import pdfplumber

    pages = []
    with pdfplumber.open(io.BytesIO(desk_pdf), pages=list(range(start + 1, stop + 1))) as pdf:
        for page in pdf.pages:
            runs: list[Run] = []
            text: list[str] = []
            key: tuple[str, float, float] | None = None
            x0 = end = 0.0
            for ch in page.chars:
                m = ch["matrix"]
                font, size, y = _font_name(ch["fontname"]), round(float(ch["size"]), 3), round(float(m[5]), 2)
                if key == (font, size, y) and abs(float(m[4]) - end) <= 0.3 * size:
                    text.append(ch["text"])
                else:
                    if key is not None and "".join(text).strip():
                        runs.append(Run("".join(text), key[0], key[1], x0, key[2]))
                    key, text, x0 = (font, size, y), [ch["text"]], float(m[4])
                end = float(ch["x1"])
            if key is not None and "".join(text).strip():
                runs.append(Run("".join(text), key[0], key[1], x0, key[2]))
            pages.append(PlainPage(float(page.width), float(page.height), tuple(runs)))
    return pages


def _plain_canvas(out: io.BytesIO, first: PlainPage):
    from reportlab.pdfgen.canvas import Canvas

    from app.printing.fonts import TEXT_FONT

    return Canvas(out, pagesize=(first.width, first.height), pageCompression=1, initialFontName=TEXT_FONT,
                  initialFontSize=10)


def _plain_page(canvas: Any, page: PlainPage) -> None:
    canvas.setPageSize((page.width, page.height))
    for run in page.runs:
        canvas.setFont(run.font, run.size)
        canvas.drawString(run.x, run.y, run.text)
    canvas.showPage()


def plain_batch(pages: Sequence[PlainPage]) -> bytes:
    out = io.BytesIO()
    canvas = _plain_canvas(out, pages[0])
    for page in pages:
        _plain_page(canvas, page)
    canvas.save()
    return out.getvalue()


def plain_single(page: PlainPage) -> bytes:
    return plain_batch([page])


# --- maker 3: InvoiceGenerator on its fastest use ------------------------------------------------------------

def register_ig_fonts() -> None:
    """Once: InvoiceGenerator's font names, to the shipped collection (its DejaVu has no Chinese glyphs)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    from app.base.resources import cjk_font_path

    path = str(cjk_font_path())
    pdfmetrics.registerFont(TTFont("DejaVu", path, subfontIndex=0))
    pdfmetrics.registerFont(TTFont("DejaVu-Bold", path, subfontIndex=1))


def ig_invoices(views: Sequence[Any]) -> list[Any]:
    """InvoiceGenerator's model of each invoice, built before timing."""
    from InvoiceGenerator.api import Client, Creator, Invoice, Item, Provider

    out = []
    for view in views:
        inv = view.invoice
        seller, buyer = inv.seller, inv.buyer
        provider = Provider(seller.name, address=seller.address, phone=seller.phone, bank_name=seller.bank,
                            bank_account=seller.account, vat_id=seller.tax_id)
        client = Client(buyer.name, address=buyer.address, phone=buyer.phone, bank_name=buyer.bank,
                        bank_account=buyer.account, vat_id=buyer.tax_id, note=inv.remarks)
        ig = Invoice(client, provider, Creator(inv.drawer))
        ig.title = "电子发票（普通发票）"
        ig.number = view.official_number
        ig.date = view.issued_at.date()
        ig.use_tax = True
        ig.currency = "CNY"
        ig.currency_locale = "zh_CN"
        for line in inv.lines:
            percent = Decimal(line.tax_rate) * 100 if line.tax_rate[:1].isdigit() else Decimal(0)  # 免税: 0
            ig.add_item(Item(line.quantity, line.unit_price, description=f"{line.name} {line.spec}".strip(),
                             unit=line.unit, tax=percent))
        out.append(ig)
    return out


def _shared_canvas_class():
    from InvoiceGenerator.api import QrCodeBuilder
    from InvoiceGenerator.pdf import SimpleInvoice

    class SharedCanvasInvoice(SimpleInvoice):
        """SimpleInvoice's own drawing methods onto a canvas someone else made: no font registration, no
        NumberedCanvas, no save. The calls and arguments are SimpleInvoice.gen()'s."""

        def draw_on(self, canvas: Any, qr: bool) -> None:
            self.pdf = canvas
            self.TOP, self.LEFT = 260, 20  # what prepare_invoice_draw sets
            self.qr_builder = QrCodeBuilder(self.invoice) if qr else None
            canvas.setFont("DejaVu", 15)  # prepare_invoice_draw's state at the start of each invoice
            canvas.setStrokeColorRGB(0, 0, 0)
            self._drawMain()
            self._drawTitle()
            self._drawProvider(self.TOP - 10, self.LEFT + 3)
            self._drawClient(self.TOP - 39, self.LEFT + 91)
            self._drawPayment(self.TOP - 47, self.LEFT + 3)
            self._drawQR(self.TOP - 39.4, self.LEFT + 61, 75.0)
            self._drawDates(self.TOP - 10, self.LEFT + 91)
            self._drawItems(self.TOP - 80, self.LEFT)
            canvas.showPage()
            if self.qr_builder:
                self.qr_builder.destroy()

    return SharedCanvasInvoice


def _ig_canvas(out: io.BytesIO, first: Any, invoice_class: Any):
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen.canvas import Canvas

    canvas = Canvas(out, pagesize=letter, initialFontName="DejaVu", initialFontSize=15)
    invoice_class(first)._addMetaInformation(canvas)
    return canvas


def ig_batch(invoices: Sequence[Any], qr: bool) -> bytes:
    cls = _shared_canvas_class()
    out = io.BytesIO()
    canvas = _ig_canvas(out, invoices[0], cls)
    for invoice in invoices:
        cls(invoice).draw_on(canvas, qr)
    canvas.save()
    return out.getvalue()


def ig_single(invoice: Any, qr: bool) -> bytes:
    return ig_batch([invoice], qr)


# --- checks before timing ---------------------------------------------------------------------------------------

def check_desk_pdf(pdf: bytes, views: Sequence[Any]) -> str:
    """One page an invoice, every font embedded, the QR code of the first page decoded and naming its number."""
    import pypdfium2
    import zxingcpp
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    if len(reader.pages) != len(views):
        raise SystemExit(f"desk PDF: {len(reader.pages)} pages for {len(views)} invoices")
    for font in _fonts(reader.pages[0]):
        descriptor = font.get("/FontDescriptor")
        if descriptor is None or not any(k in descriptor.get_object() for k in ("/FontFile", "/FontFile2",
                                                                                   "/FontFile3")):
            raise SystemExit(f"desk PDF: font {font.get('/BaseFont')} not embedded")
    doc = pypdfium2.PdfDocument(pdf)
    try:
        image = doc[0].render(scale=300 / 72).to_pil()
    finally:
        doc.close()
    found = zxingcpp.read_barcodes(image)
    qr = [b.text for b in found if b.format == zxingcpp.BarcodeFormat.QRCode]
    if not qr:
        raise SystemExit("desk PDF: no QR code decoded on the first page")
    if views[0].official_number not in qr[0]:
        raise SystemExit(f"desk PDF: the QR code {qr[0]!r} does not hold {views[0].official_number}")
    return qr[0]


def _fonts(page: Any) -> list[Any]:
    """The page's fonts, those of its form XObjects included."""
    found: list[Any] = []

    def walk(resources: Any) -> None:
        if resources is None:
            return
        resources = resources.get_object()
        for font in (resources.get("/Font") or {}).values():
            font = font.get_object()
            found.append(font)
            for descendant in font.get("/DescendantFonts") or []:
                found.append(descendant.get_object())
        for xobject in (resources.get("/XObject") or {}).values():
            xobject = xobject.get_object()
            if xobject.get("/Subtype") == "/Form":
                walk(xobject.get("/Resources"))

    walk(page.get("/Resources"))
    return [f for f in found if f.get("/Subtype") != "/Type0"]  # a Type0 font's glyphs live in its descendant


def check_plain_same_text(desk_pdf: bytes, plain_pdf: bytes) -> None:
    import pdfplumber

    def chars(pdf: bytes) -> list[str]:
        with pdfplumber.open(io.BytesIO(pdf)) as doc:
            return sorted(c["text"] for c in doc.pages[0].chars if c["text"].strip())

    if chars(desk_pdf) != chars(plain_pdf):
        raise SystemExit("the plain page does not hold the same characters as the desk's face")


# --- timing --------------------------------------------------------------------------------------------------

@dataclass
class Result:
    """Best seconds of the runs: CPU time of this process (what the table shows: other work on the machine
    does not count) and wall-clock time; and the PDF sizes."""

    batch_cpu: float = float("inf")
    batch_wall: float = float("inf")
    single_cpu: float = float("inf")
    single_wall: float = float("inf")
    batch_bytes: int = 0
    single_bytes: int = 0


def time_batch(make: Callable[[], bytes], target: Path) -> tuple[float, float, int]:
    cpu, wall = time.process_time(), time.perf_counter()
    data = make()
    target.write_bytes(data)
    return time.process_time() - cpu, time.perf_counter() - wall, len(data)


def time_singles(make: Callable[[int], bytes], count: int, folder: Path) -> tuple[float, float, int]:
    folder.mkdir(parents=True, exist_ok=True)
    size = 0
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(count):
        data = make(i)
        (folder / f"{i:05d}.pdf").write_bytes(data)
        size += len(data)
    return time.process_time() - cpu, time.perf_counter() - wall, size


def profile(label: str, work: Callable[[], object], top: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    work()
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt  # type: ignore[attr-defined]
    rows = []
    for (file, line, name), (_, calls, tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
        where = f"{Path(file).name}:{line}({name})" if line else name
        for marker in ("/site-packages/", "/work/main/"):
            if marker in file:
                where = f"{file.split(marker, 1)[1]}:{line}({name})"
        rows.append((tottime, cumtime, calls, where))
    print(f"\ncProfile, {label}: {total:.2f} s under the profiler; top {top} by own time")
    print(f"{'own s':>7} {'own %':>6} {'cum s':>7} {'calls':>9}  function")
    for tottime, cumtime, calls, where in sorted(rows, reverse=True)[:top]:
        print(f"{tottime:7.3f} {100 * tottime / total:5.1f}% {cumtime:7.3f} {calls:9,}  {where}")
    print(f"top {top} by cumulative time (desk modules and reportlab only)")
    picked = [r for r in rows if "app/" in r[3] or "reportlab/" in r[3]]
    for tottime, cumtime, calls, where in sorted(picked, key=lambda r: -r[1])[:top]:
        print(f"{tottime:7.3f} {100 * cumtime / total:5.1f}% {cumtime:7.3f} {calls:9,}  {where}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 invoices instead of 1,000")
    parser.add_argument("--count", type=int, default=None, help="invoices (default 1,000; 100 with --quick)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per maker and form; the best counts")
    parser.add_argument("--profile", action="store_true", help="profile the desk even when every goal is met")
    parser.add_argument("--top", type=int, default=15, help="cProfile entries to print")
    args = parser.parse_args()
    count = args.count or (100 if args.quick else 1000)

    try:
        import InvoiceGenerator  # noqa: F401
    except ImportError:
        raise SystemExit("InvoiceGenerator is not installed: .venv/bin/pip install -e '.[bench]'") from None
    from app.printing.fonts import register_fonts

    work = Path(tempfile.mkdtemp(prefix="bench-face-"))
    store = None
    try:
        store, views, issue_seconds = issue_and_load(count, work)
        register_fonts()
        register_ig_fonts()

        # Set-up, untimed: the plain pages' text read back from the desk's own PDFs, IG's invoice models.
        started = time.perf_counter()
        reference = desk_batch(views)
        qr_content = check_desk_pdf(reference, views)
        pages = plain_pages(reference)
        if len(pages) != count:
            raise SystemExit(f"read {len(pages)} pages back for {count} invoices")
        check_plain_same_text(desk_single(views[0]), plain_single(pages[0]))
        igs = ig_invoices(views)
        setup_seconds = time.perf_counter() - started
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # timing on one core

        makers: dict[str, tuple[Callable[[], bytes], Callable[[int], bytes]]] = {
            "desk (face + QR)": (lambda: desk_batch(views), lambda i: desk_single(views[i])),
            "plain reportlab": (lambda: plain_batch(pages), lambda i: plain_single(pages[i])),
            "IG, no QR (fastest)": (lambda: ig_batch(igs, qr=False), lambda i: ig_single(igs[i], qr=False)),
            "IG, its QR": (lambda: ig_batch(igs, qr=True), lambda i: ig_single(igs[i], qr=True)),
        }
        for batch, single in makers.values():  # warm-up: imports, caches, glyph tables; not counted
            batch()
            single(0)
        results = {name: Result() for name in makers}
        for r in range(args.repeat):
            order = list(makers) if r % 2 == 0 else list(reversed(makers))
            for name in order:
                batch, single = makers[name]
                slug = "".join(c for c in name if c.isalnum())
                cpu, wall, size = time_batch(batch, work / f"{slug}-{r}.pdf")
                res = results[name]
                res.batch_cpu, res.batch_wall = min(res.batch_cpu, cpu), min(res.batch_wall, wall)
                res.batch_bytes = size
                cpu, wall, size = time_singles(single, count, work / f"{slug}-{r}")
                res.single_cpu, res.single_wall = min(res.single_cpu, cpu), min(res.single_wall, wall)
                res.single_bytes = size
                shutil.rmtree(work / f"{slug}-{r}", ignore_errors=True)

        runs = sum(len(p.runs) for p in pages) / len(pages)
        print(f"\n{count:,} three-line invoices, direct channel, issued in {issue_seconds:.2f} s; set-up "
              f"{setup_seconds:.1f} s; plain page: {runs:.0f} text runs an invoice; one core")
        print(f"desk QR code decoded from page 1: {qr_content}")
        plain = results["plain reportlab"]
        ig = results["IG, no QR (fastest)"]
        print(f"\nPDFs per CPU second of this process (best of {args.repeat}); in brackets: per wall-clock second")
        print(f"{'maker':20} {'batch PDF/s':>17} {'vs plain':>8} {'vs IG':>6} {'single PDF/s':>15} {'vs plain':>8} "
              f"{'batch file':>10} {'one file':>9}")
        for name, res in results.items():
            print(f"{name:20} {count / res.batch_cpu:7,.0f} ({count / res.batch_wall:6,.0f}) "
                  f"{plain.batch_cpu / res.batch_cpu:7.2f}x {ig.batch_cpu / res.batch_cpu:5.2f}x "
                  f"{count / res.single_cpu:5,.0f} ({count / res.single_wall:6,.0f}) "
                  f"{plain.single_cpu / res.single_cpu:7.2f}x "
                  f"{res.batch_bytes / 1e6:8.2f}MB {res.single_bytes / count / 1e3:7.1f}kB")
        desk = results["desk (face + QR)"]
        goals = [
            (f"desk batch >= {GOAL_VS_PLAIN}x plain", plain.batch_cpu / desk.batch_cpu,
             plain.batch_wall / desk.batch_wall, GOAL_VS_PLAIN),
            (f"desk batch >= {GOAL_VS_IG:.0f}x IG's fastest use", ig.batch_cpu / desk.batch_cpu,
             ig.batch_wall / desk.batch_wall, GOAL_VS_IG),
            (f"desk single files >= {GOAL_VS_PLAIN}x plain", plain.single_cpu / desk.single_cpu,
             plain.single_wall / desk.single_wall, GOAL_VS_PLAIN),
        ]
        print()
        for label, ratio, wall_ratio, goal in goals:
            print(f"goal {label:36} {ratio:5.2f}x (wall {wall_ratio:4.2f}x)  {'met' if ratio >= goal else 'NOT met'}")
        missed = any(ratio < goal for _, ratio, _, goal in goals)
        if missed or args.profile:
            profile(f"desk batch of {count:,}", lambda: desk_batch(views), args.top)
            profile(f"desk, {count:,} single files", lambda: [desk_single(v) for v in views], args.top)
            profile(f"plain batch of {count:,}", lambda: plain_batch(pages), min(args.top, 8))
        return 1 if missed else 0
    finally:
        if store is not None:
            store.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
