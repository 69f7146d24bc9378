"""Issue 15: the reconciliation CSV a clerk opens in Excel has Chinese headers and says states, channels and
details in Chinese words; --json keeps the machine keys (report_rows)."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

from app.core import status
from app.reports.reconcile_report import CSV_COLUMNS, report_rows, shown_row, summary_lines, write_csv
from app.services.reconcile import MISMATCH, MISSING_ON_PLATFORM, Difference, LocalSide, ReconcileReport, kind_label


def _report() -> ReconcileReport:
    local = LocalSide(number="LX-0000001", key="k1", official_number=None, status=status.PENDING_UPLOAD,
                      queue_state=status.Q_RETRY_WAIT, issued_at="2026-12-01T10:00:00+08:00", buyer_name="北京客户",
                      buyer_tax_id="", total_amount=Decimal("1000.00"), total_tax=Decimal("60.00"),
                      total_with_tax=Decimal("1060.00"), channel="direct")
    differences = [
        Difference(kind=MISSING_ON_PLATFORM, number="LX-0000001", key="k1", local=local, platform=None,
                   detail="仍在上传队列（retry_wait） / still in the upload queue"),
        Difference(kind=MISMATCH, number="LX-0000001", key="k1", local=local,
                   platform={"number": "26117000000000000001", "total_with_tax": "1060.00",
                             "status": "reversed_in_full", "channel": "direct", "buyer": {"name": "北京客户"}},
                   detail="开具渠道 本地 direct ≠ 平台 platform / channel differs"),
    ]
    return ReconcileReport(seller_tax_id="91110108MA0123456G", date_from="2026-12-01", date_to="2026-12-01",
                           made_at="2026-12-01T10:00:00+08:00", local_count=1, platform_count=1, matched=0,
                           differences=differences)


def test_the_csv_has_chinese_headers_and_words(tmp_path: Path):
    with write_csv(_report(), tmp_path / "r.csv").open(encoding="utf-8-sig", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    assert header == ["类别", "号码", "幂等键", "开具渠道", "本地状态", "本地正式号码", "本地价税合计", "本地购买方",
                      "平台号码", "平台价税合计", "平台购买方", "平台状态", "说明"]
    first, second = (dict(zip(header, row, strict=True)) for row in rows)
    assert (first["开具渠道"], first["本地状态"], first["说明"]) == (
        "直连（乐企）", "已开具，待上传", "仍在上传队列（等待重试）")
    assert second["平台状态"] == "已全额红冲" and second["说明"] == "开具渠道 本地 直连（乐企） ≠ 平台 平台"
    assert not any(word in " ".join(rows[0] + rows[1]) for word in ("pending_upload", "retry_wait", "direct",
                                                                   "still in", "channel differs"))


def test_json_keeps_the_keys_and_english_reads_english():
    rows = report_rows(_report())
    assert list(rows[0]) == CSV_COLUMNS and rows[0]["local_status"] == status.PENDING_UPLOAD
    shown = shown_row(rows[1], "en")
    assert (shown["platform_status"], shown["detail"], shown["kind_label"]) == (
        "reversed in full", "channel differs", kind_label(MISMATCH, "en"))
    assert all("Period" not in line and "here" not in line for line in summary_lines(_report()))
    assert summary_lines(_report(), "en")[0].startswith("Period:")
