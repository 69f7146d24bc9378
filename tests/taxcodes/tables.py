"""A newer tax classification table for the reference platform to serve (the tests of this folder import it):
the shipped CSV with BB=33.0, one code added, one withdrawn (KYZT=N) and one whose explanation changed."""

from __future__ import annotations

import csv
from pathlib import Path

from app.base.resources import read_tax_code_rows

NEW_VERSION = "33.0"
NEW_CODE = "6130000000000000000"  # 代收民航发展基金: used on invoices today, missing from 32.0
WITHDRAWN_CODE = "3040201030000000000"  # 软件维护服务
CHANGED_CODE = "3040201040000000000"  # 软件测试服务
CHANGED_EXPLANATION = "包括对软件提供的测试服务（33.0 修订）。"


def write_table(path: Path, rows: list[dict[str, str]]) -> Path:
    """rows (the official columns) as a table CSV the platform reads with --tax-codes."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_newer_table(path: Path) -> Path:
    rows = [{**row, "BB": NEW_VERSION} for row in read_tax_code_rows()]
    for row in rows:
        if row["SPBM"] == WITHDRAWN_CODE:
            row["KYZT"] = "N"
        elif row["SPBM"] == CHANGED_CODE:
            row["SM"] = CHANGED_EXPLANATION
    template = next(row for row in rows if row["SPBM"] == "6040000000000000000")  # 代收印花税, its sibling
    rows.append({**template, "SPBM": NEW_CODE, "SPMC": "代收民航发展基金", "SPBMJC": "代收民航发展基金",
                 "SM": "航空公司代收的民航发展基金。", "GJZ": "民航发展基金、机场建设费", "GXSJ": "20250101"})
    return write_table(path, rows)
