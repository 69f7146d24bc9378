"""Where shipped resources are: beside app/ in a checkout, or inside a PyInstaller bundle."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

CJK_FONT = "fonts/wqy-microhei.ttc"


def resources_dir() -> Path:
    bundle = getattr(sys, "_MEIPASS", None)  # set by PyInstaller in a frozen build
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def resource_path(relative: str) -> Path:
    return resources_dir() / relative


def cjk_font_path() -> Path:
    """WenQuanYi Micro Hei (Apache-2.0): Chinese on screen and on paper, on any PC."""
    return resource_path(CJK_FONT)


# The tax classification table a fresh install starts from (see resources/taxcodes/README.md).
TAX_CODE_TABLE = "taxcodes/taxcodes-32.0.csv"
TAX_CODE_TABLE_VERSION = "32.0"


def tax_code_table_path() -> Path:
    return resource_path(TAX_CODE_TABLE)


def read_tax_code_rows(path: Path | None = None) -> list[dict[str, str]]:
    """The rows of the official table (columns SPBM, SPMC, ...) from the shipped CSV, or from path."""
    with open(path or tax_code_table_path(), encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))
