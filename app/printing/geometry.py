"""Paper sizes and where a pre-printed form (240 × 140 mm, the overlay's and the calibration page's) sits on
them; every layout measures in millimetres from its own top-left corner, y downwards, as a ruler does.

The 数电 face (app.printing.layout) sizes its own pages on the `invoice` paper (210 wide, 140 or taller) and is
centred, scaled down when needed, on `a4` (app.printing.document)."""

from __future__ import annotations

from dataclasses import dataclass

from reportlab.lib.units import mm as MM  # points per millimetre

FORM_WIDTH_MM = 240.0
FORM_HEIGHT_MM = 140.0


@dataclass(frozen=True)
class Paper:
    name: str
    width_mm: float
    height_mm: float
    form_left_mm: float  # where the invoice's top-left corner lies on the sheet
    form_top_mm: float

    @property
    def size_points(self) -> tuple[float, float]:
        return self.width_mm * MM, self.height_mm * MM


# The invoice size itself, and A4 landscape with the invoice at full size, centred across
# and 10 mm from the top (a 240 mm wide invoice does not fit A4 portrait without shrinking).
PAPERS = {
    "invoice": Paper("invoice", FORM_WIDTH_MM, FORM_HEIGHT_MM, 0.0, 0.0),
    "a4": Paper("a4", 297.0, 210.0, (297.0 - FORM_WIDTH_MM) / 2, 10.0),
}


def paper(name: str) -> Paper:
    try:
        return PAPERS[name]
    except KeyError:
        raise ValueError(f"paper must be one of {', '.join(PAPERS)}, not {name!r}") from None
