"""Per-printer settings for printing: paper size and the overlay offset and x/y scale a clerk calibrated.

Kept in the settings table (key printing.profiles), so they travel with backups. A printer
never seen before gets the defaults: invoice paper, no offset, scale 1 (app.printing.calibration
says how the offset and the scale are measured and applied; paper invoices apply both).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from app.core.errors import FieldError, ValidationFailed
from app.printing.calibration import Calibration
from app.services.settings import get_setting, set_setting

PROFILES_KEY = "printing.profiles"
PAPERS = ("invoice", "a4")
DEFAULT_PRINTER = ""  # the profile the command line uses when no printer is named
MAX_OFFSET_MM = 50  # more than this is a wrong measurement, not a printer's skew
MAX_SCALE_CHANGE = Decimal("0.05")  # a printer stretching by more than 5 % is a wrong measurement or a broken feed


@dataclass(frozen=True)
class PrinterProfile:
    printer: str
    paper: str = "invoice"  # invoice (240 × 140 mm) or a4
    offset_x_mm: float = 0.0  # moves the overlay right
    offset_y_mm: float = 0.0  # moves the overlay down
    scale_x: float = 1.0  # stretches the page across (about the sheet's top-left corner)
    scale_y: float = 1.0  # stretches it down

    @property
    def calibration(self) -> Calibration:
        return Calibration(self.offset_x_mm, self.offset_y_mm, self.scale_x, self.scale_y)


def _all() -> dict[str, Any]:
    """Printer name -> its stored profile (JSON), as the setting holds them."""
    stored = get_setting(PROFILES_KEY, {})
    return stored if isinstance(stored, dict) else {}


def get_profile(printer: str = DEFAULT_PRINTER) -> PrinterProfile:
    raw = _all().get(printer)
    if not isinstance(raw, dict):
        return PrinterProfile(printer)
    return PrinterProfile(printer, raw.get("paper", "invoice"),
                          float(raw.get("offset_x_mm", 0.0)),  # ok-float: millimetres
                          float(raw.get("offset_y_mm", 0.0)),  # ok-float: millimetres
                          float(raw.get("scale_x", 1.0)),  # ok-float: a ratio
                          float(raw.get("scale_y", 1.0)))  # ok-float: a ratio


def list_profiles() -> list[PrinterProfile]:
    return [get_profile(name) for name in sorted(_all())]


def _offset(value: object, field: str, errors: list[FieldError]) -> float:
    axis = "X" if field.endswith("x_mm") else "Y"
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        errors.append(FieldError(field, f"{axis} 偏移（毫米）不是数字：{value}",
                                 f"{axis} offset (mm) is not a number: {value}"))
        return 0.0
    if not number.is_finite() or abs(number) > MAX_OFFSET_MM:
        errors.append(FieldError(field, f"{axis} 偏移应在 ±{MAX_OFFSET_MM} 毫米之内",
                                 f"{axis} offset must be within ±{MAX_OFFSET_MM} mm"))
        return 0.0
    return float(round(number, 1))  # ok-float: a tenth of a millimetre is finer than any printer feeds


def _scale(value: object, field: str, errors: list[FieldError]) -> float:
    axis = "X" if field.endswith("_x") else "Y"
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        errors.append(FieldError(field, f"{axis} 比例不是数字：{value}", f"{axis} scale is not a number: {value}"))
        return 1.0
    low, high = 1 - MAX_SCALE_CHANGE, 1 + MAX_SCALE_CHANGE
    if not number.is_finite() or not low <= number <= high:
        errors.append(FieldError(field, f"{axis} 比例应在 {low} 到 {high} 之间（打印机伸缩不超过 5%）：{value}",
                                 f"{axis} scale must be within {low} to {high} (no printer stretches by 5 %): "
                                 f"{value}"))
        return 1.0
    return float(round(number, 4))  # ok-float: 1/10000 of 200 mm is 0.02 mm


def save_profile(printer: str, *, paper: str = "invoice", offset_x_mm: object = 0,
                 offset_y_mm: object = 0, scale_x: object = None, scale_y: object = None) -> PrinterProfile:
    """Check and store one printer's profile; raises ValidationFailed naming the field (nothing stored then).
    A scale not given keeps the one stored (1 for a printer never calibrated)."""
    errors: list[FieldError] = []
    if paper not in PAPERS:
        errors.append(FieldError("paper", f"纸张应为 {' 或 '.join(PAPERS)}", f"must be one of {', '.join(PAPERS)}"))
    x = _offset(offset_x_mm, "offset_x_mm", errors)
    y = _offset(offset_y_mm, "offset_y_mm", errors)
    stored = get_profile(printer)
    sx = _scale(scale_x, "scale_x", errors) if scale_x is not None else stored.scale_x
    sy = _scale(scale_y, "scale_y", errors) if scale_y is not None else stored.scale_y
    if errors:
        raise ValidationFailed(errors)
    profile = PrinterProfile(printer, paper, x, y, sx, sy)
    profiles = _all()
    profiles[printer] = {k: v for k, v in asdict(profile).items() if k != "printer"}
    set_setting(PROFILES_KEY, profiles)
    return profile
