"""Reading printed PDFs back: poppler's pdftotext / pdffonts / pdftoppm and pypdf."""

from __future__ import annotations

import html
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from pypdf import PdfReader

MM = 72 / 25.4


def pdftotext(path: Path, page: int | None = None) -> str:
    args = ["pdftotext", "-enc", "UTF-8"]
    if page is not None:
        args += ["-f", str(page), "-l", str(page)]
    return subprocess.run([*args, str(path), "-"], capture_output=True, check=True).stdout.decode("utf-8")


def squeeze(text: str) -> str:
    """Extracted text without any white space, so a phrase split across text pieces still matches."""
    return re.sub(r"\s+", "", text)


def pdffonts(path: Path) -> list[dict[str, str]]:
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True, text=True).stdout
    lines = out.splitlines()
    header = lines[0]
    rows = []
    for line in lines[2:]:
        # name type encoding emb sub uni object ID: the name has no spaces, the type may ("Type 1").
        parts = line.split()
        rows.append({"name": parts[0], "emb": parts[-5], "sub": parts[-4], "uni": parts[-3], "line": line})
    assert "emb" in header
    return rows


def fonts_without_embedded_file(path: Path) -> list[str]:
    """Names of fonts whose descriptor carries no embedded program (FontFile, FontFile2 or FontFile3)."""
    missing = []
    reader = PdfReader(str(path))
    seen = set()

    def visit(resources):
        if resources is None:
            return
        resources = resources.get_object()
        for font in (resources.get("/Font") or {}).values():
            font = font.get_object()
            key = id(font)
            if key in seen:
                continue
            seen.add(key)
            descendants = font.get("/DescendantFonts")
            targets = [d.get_object() for d in descendants] if descendants else [font]
            for target in targets:
                descriptor = target.get("/FontDescriptor")
                descriptor = descriptor.get_object() if descriptor is not None else {}
                if not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                    missing.append(str(font.get("/BaseFont")))
        for xobject in (resources.get("/XObject") or {}).values():
            visit(xobject.get_object().get("/Resources"))

    for page in reader.pages:
        visit(page.get("/Resources"))
    assert seen, "no fonts found at all"
    return missing


@dataclass(frozen=True)
class Word:
    text: str
    x0: float  # points from the left edge
    y0: float  # points from the top edge
    x1: float
    y1: float


def words(path: Path, page: int = 1) -> list[Word]:
    """Words with their boxes (pdftotext -bbox), in points from the page's top-left corner."""
    out = subprocess.run(["pdftotext", "-bbox", "-enc", "UTF-8", "-f", str(page), "-l", str(page), str(path), "-"],
                         capture_output=True, check=True).stdout.decode("utf-8")
    found = []
    word = r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>'
    for match in re.finditer(word, out):
        x0, y0, x1, y1 = (float(match.group(i)) for i in range(1, 5))
        found.append(Word(html.unescape(match.group(5)), x0, y0, x1, y1))
    return found


def find_word(found: list[Word], text: str) -> Word:
    matches = [w for w in found if w.text == text]
    assert len(matches) == 1, f"{text!r} found {len(matches)} times in {[w.text for w in found]}"
    return matches[0]


def dark_fraction(path: Path, page: int, box_mm: tuple[float, float, float, float], dpi: int = 100) -> float:
    """Share of dark pixels inside a box (x, y, w, h in mm from the page's top-left) of the rendered page."""
    out = subprocess.run(["pdftoppm", "-gray", "-r", str(dpi), "-f", str(page), "-l", str(page), str(path)],
                         capture_output=True, check=True).stdout
    # Binary PGM: P5\n<w> <h>\n255\n<pixels>
    header_parts = out.split(b"\n", 3)
    width, height = (int(v) for v in header_parts[1].split())
    pixels = header_parts[3]
    px = dpi / 25.4
    x0, y0 = int(box_mm[0] * px), int(box_mm[1] * px)
    x1, y1 = int((box_mm[0] + box_mm[2]) * px), int((box_mm[1] + box_mm[3]) * px)
    dark = total = 0
    for y in range(y0, min(y1, height)):
        row = pixels[y * width + x0:y * width + min(x1, width)]
        dark += sum(1 for value in row if value < 128)
        total += len(row)
    return dark / total


# --- pdfplumber (boxes and text positions, in mm from the page's top-left) and the QR code read back ----------
def mm(points: float) -> float:
    return points / MM


@dataclass(frozen=True)
class Box:
    x0: float  # mm
    top: float
    x1: float
    bottom: float


def plumber_pages(path: Path) -> list[dict]:
    """Per page: its size, its text words, rules (lines), rectangles, in mm."""
    import pdfplumber

    out = []
    with pdfplumber.open(str(path)) as pdf:
        for page in pdf.pages:
            out.append({
                "width": mm(page.width), "height": mm(page.height),
                "words": [(w["text"], Box(mm(w["x0"]), mm(w["top"]), mm(w["x1"]), mm(w["bottom"])))
                          for w in page.extract_words(keep_blank_chars=False, use_text_flow=True)],
                "chars": [(c["text"], Box(mm(c["x0"]), mm(c["top"]), mm(c["x1"]), mm(c["bottom"])), c["size"])
                          for c in page.chars],
                "lines": [(Box(mm(ln["x0"]), mm(ln["top"]), mm(ln["x1"]), mm(ln["bottom"])), ln["stroking_color"],
                           mm(ln["linewidth"])) for ln in page.lines],
                "rects": [(Box(mm(r["x0"]), mm(r["top"]), mm(r["x1"]), mm(r["bottom"])), r["non_stroking_color"],
                           r["stroking_color"], bool(r["fill"])) for r in page.rects],
            })
    return out


def word_box(page: dict, text: str) -> Box:
    found = [box for word, box in page["words"] if word == text or word.startswith(text)]
    assert len(found) == 1, f"{text!r} found {len(found)} times in {[w for w, _ in page['words']]}"
    return found[0]


def decode_qr(path: Path, page: int = 1, box_mm: tuple[float, float, float, float] | None = None,
              dpi: int = 300) -> list[str]:
    """The QR codes read (zxing-cpp) from the page rendered by pdfium, inside box_mm (x, y, w, h) if given."""
    import pypdfium2
    import zxingcpp

    document = pypdfium2.PdfDocument(str(path))
    try:
        image = document[page - 1].render(scale=dpi / 72).to_pil().convert("L")
    finally:
        document.close()
    if box_mm is not None:
        px = dpi / 25.4
        x, y, w, h = box_mm
        image = image.crop((round(x * px), round(y * px), round((x + w) * px), round((y + h) * px)))
    return [result.text for result in zxingcpp.read_barcodes(image)]
