"""issue, list and show on both channels: a pre-issue record (预开单) is labelled as not an invoice; one the platform
issued names the invoice it became; a direct-channel invoice has its official number from issue. The real command
line in a child process, on the store the fixtures set up (the reference platform on loopback for the stock)."""

from __future__ import annotations

import json
import re

from app.services.issuing import issue_invoice
from tests.helpers.bodies import OFFICIAL_NUMBER, invoice_body
from tests.helpers.cli import run_cli
from tests.helpers.platform import accept


def test_a_pre_issue_record_the_platform_issued_names_the_invoice_it_became(seller, data_dir):
    waiting = issue_invoice(invoice_body()).number
    issued = issue_invoice(invoice_body()).number
    accept(issued, OFFICIAL_NUMBER)
    rows = {r["number"]: r for r in json.loads(run_cli(data_dir, "list", "--json").stdout)}
    assert (rows[issued]["status"], rows[issued]["channel"], rows[issued]["pre_issue"]) == ("accepted", "platform",
                                                                                            False)
    assert rows[issued]["invoice_number"] == OFFICIAL_NUMBER and rows[waiting]["invoice_number"] is None
    text = {line.split("\t")[0]: line for line in run_cli(data_dir, "list").stdout.splitlines()}
    assert "预开单（非发票）" in text[waiting]
    assert f"预开单已开具为发票 {OFFICIAL_NUMBER}" in text[issued] and "非发票" not in text[issued]
    shown = run_cli(data_dir, "show", issued)
    assert shown.returncode == 0, shown.stderr
    first, second = shown.stdout.splitlines()[:2]
    assert first.startswith(f"增值税普通发票  {issued}  {OFFICIAL_NUMBER}")
    assert f"由预开单 {issued} 开具为发票 {OFFICIAL_NUMBER}" in second
    by_official = json.loads(run_cli(data_dir, "show", OFFICIAL_NUMBER, "--json").stdout)
    assert (by_official["number"], by_official["invoice_number"], by_official["status"]) == (issued, OFFICIAL_NUMBER,
                                                                                             "accepted")


def test_on_the_direct_channel_issue_prints_the_official_number(direct, data_dir, tmp_path):
    source = tmp_path / "body.json"
    source.write_text(json.dumps(invoice_body(), ensure_ascii=False), encoding="utf-8")
    result = run_cli(data_dir, "issue", str(source))
    assert result.returncode == 0, result.stderr
    number, said = result.stdout.strip().split("\t")
    assert re.fullmatch(r"[0-9]{20}", number)
    assert f"发票号码 {number}" in said and f"official number {number}" in said and "预开单" not in said
    [row] = json.loads(run_cli(data_dir, "list", "--json").stdout)
    assert (row["number"], row["official_number"], row["channel"], row["status"], row["pre_issue"]) == (
        number, number, "direct", "pending_upload", False)
    assert row["invoice_number"] is None  # it was an invoice from issue: it became nothing else
    shown = json.loads(run_cli(data_dir, "show", number, "--json").stdout)
    assert (shown["channel"], shown["status"], shown["official_number"]) == ("direct", "pending_upload", number)
    human = run_cli(data_dir, "show", number).stdout
    assert human.startswith(f"增值税普通发票  {number}") and "预开单" not in human
    again = json.loads(run_cli(data_dir, "issue", str(source), "--json").stdout)
    assert [(r["channel"], r["status"], r["pre_issue"]) for r in again] == [("direct", "pending_upload", False)]
    assert again[0]["number"] == again[0]["official_number"] != number
