"""What a spreadsheet would run as a formula never leaves the desk raw: the reconciliation CSV writes a buyer name
or a detail beginning with = + - @ with a leading quote, and keeps its money columns as numbers."""

from __future__ import annotations

import csv
from pathlib import Path

from app.reports.reconcile_report import write_csv
from app.services.reconcile import MISSING_LOCALLY, Difference, ReconcileReport

HOSTILE = ["=HYPERLINK(\"http://x\",\"点此\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)"]


def test_the_reconciliation_csv_neutralises_formula_prefixes(tmp_path: Path):
    differences = [Difference(kind=MISSING_LOCALLY, number=f"2611000000000000010{i}", key=None, local=None,
                              platform={"number": f"2611000000000000010{i}", "total_with_tax": "-1060.00",
                                        "buyer": {"name": name}, "status": "accepted", "channel": "platform"},
                              detail=name)
                   for i, name in enumerate(HOSTILE)]
    report = ReconcileReport(seller_tax_id="91110108MA0123456G", date_from="2026-12-01", date_to="2026-12-01",
                             made_at="2026-12-01T10:00:00+08:00", local_count=0, platform_count=4, matched=0,
                             differences=differences)
    rows = list(csv.DictReader(write_csv(report, tmp_path / "r.csv").open(encoding="utf-8-sig")))
    assert [row["平台购买方"] for row in rows] == ["'" + name for name in HOSTILE]
    assert [row["说明"] for row in rows] == ["'" + name for name in HOSTILE]
    assert {row["平台价税合计"] for row in rows} == {"-1060.00"}  # money stays a number


def test_the_reconciliation_pdf_embeds_every_font_it_names(tmp_path: Path):
    from app.reports.reconcile_report import write_reconcile_pdf
    from tests.helpers.pdf import fonts_without_embedded_file

    report = ReconcileReport(seller_tax_id="91110108MA0123456G", date_from="2026-12-01", date_to="2026-12-01",
                             made_at="2026-12-01T10:00:00+08:00", local_count=0, platform_count=0, matched=0)
    assert fonts_without_embedded_file(write_reconcile_pdf(report, tmp_path / "r.pdf")) == []


def test_a_file_written_beside_its_target_leaves_nothing_behind_when_it_fails(tmp_path: Path):
    import pytest

    from app.base.files import write_beside, write_failure

    def broken(temporary: Path) -> None:
        temporary.write_text("half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError) as failed:
        write_beside(tmp_path / "out.xlsx", broken)
    assert list(tmp_path.iterdir()) == []  # no temporary, no target
    assert write_failure(failed.value, tmp_path / "out.xlsx")[1].endswith("(No space left on device)")
    with pytest.raises(FileNotFoundError) as missing:
        write_beside(tmp_path / "nowhere" / "out.csv", broken)
    assert write_failure(missing.value, tmp_path / "nowhere" / "out.csv")[0].endswith("不存在")
    assert write_beside(tmp_path / "ok.csv", lambda p: p.write_text("a,b") and 7) == 7
    assert (tmp_path / "ok.csv").read_text() == "a,b" and (tmp_path / "ok.csv").stat().st_mode & 0o777 == 0o644
