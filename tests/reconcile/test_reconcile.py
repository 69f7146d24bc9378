"""Reconciliation against the reference platform's protocol v2 records, on real HTTP: invoices issued
through the real services on both channels and uploaded by the real worker, every kind of difference
planted on the platform (its API and its own SQLite file) and in the store, found, and the fixes work."""

from __future__ import annotations

import csv
import json
import time
import uuid
from decimal import Decimal

import pytest
from pypdf import PdfReader

from app.core import status
from app.core.clock import now
from app.core.codec import invoice_to_body, pre_issue_body
from app.core.errors import ValidationFailed
from app.reports.reconcile_report import write_csv
from app.services import reconcile as rec
from app.services.channel import set_channel
from app.services.integrity import verify_store
from app.services.issuing import issue_invoice, prepare_invoice
from app.store import audit
from app.store.models import AuditEntry, Invoice, UploadQueueEntry
from tests.helpers.bodies import BUYER_TAX_ID, invoice_body
from tests.helpers.cli import token_file_args
from tests.helpers.platform import body_of, key_of, make_worker, platform_numbers, platform_sql

TODAY = now().date().isoformat()


def kinds(report) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for d in report.differences:
        out.setdefault(d.kind, []).append(d.number)
    return {kind: sorted(numbers) for kind, numbers in out.items()}


def issue(tag: str) -> str:
    """One invoice through the issue service on the desk's channel; the tag keeps bodies apart."""
    return issue_invoice(invoice_body(remarks=tag)).number


def upload(platform) -> None:
    worker = make_worker(platform)
    try:
        report = worker.run_once()
    finally:
        worker.close()
    assert not report.transient_failures and not report.unauthorized and not report.rejected, report


def upload_answer_lost(client, number: str) -> None:
    """A direct-channel invoice the platform took while the desk never heard: uploaded as the worker
    uploads it (POST /v2/uploads), its results never read here."""
    client.upload(uuid.uuid4().hex, [body_of(number)])
    for _ in range(100):
        if client.invoice_by_number(number) is not None:
            return
        time.sleep(0.02)
    raise AssertionError(f"{number} never reached the platform")


def issue_answer_lost(client, number: str) -> dict:
    """A pre-issue record the platform issued under its own queue key while the answer was lost."""
    return client.issue(key_of(number), pre_issue_body(body_of(number)))


def elsewhere_body(seller, **overrides) -> dict:
    """A pre-issue body from another desk of this seller (never in this store)."""
    body = pre_issue_body(invoice_to_body(prepare_invoice(invoice_body(**overrides), seller)))
    body["issued_at"] = now().isoformat()
    return body


@pytest.fixture
def planted(direct, client, seller):
    """Invoices of both channels, each in its own state of agreement."""
    n: dict[str, str] = {}
    for tag in ("d_matched", "d_lost", "d_amount_differs"):
        n[tag] = issue(tag)
    set_channel("platform")
    for tag in ("p_matched", "p_lost", "p_twice"):
        n[tag] = issue(tag)
    upload(direct)
    # Lost on the platform's side (its own file): a direct upload, and a platform-issued invoice with its key.
    platform_sql(direct, "DELETE FROM v2_invoice WHERE number = ?", n["d_lost"])
    p_lost_number = Invoice.get(Invoice.provisional_number == n["p_lost"]).official_number
    platform_sql(direct, "DELETE FROM v2_invoice WHERE number = ?", p_lost_number)
    platform_sql(direct, "DELETE FROM v2_issue_key WHERE key = ?", key_of(n["p_lost"]))
    platform_sql(direct, "UPDATE v2_invoice SET body = json_set(body, '$.total_with_tax', '1600.00', "
                         "'$.buyer.name', '别的公司') WHERE number = ?", n["d_amount_differs"])
    # The same pre-issue record issued a second time under another key.
    client.issue(str(uuid.uuid4()), pre_issue_body(body_of(n["p_twice"])))
    set_channel("direct")
    n["d_answer_lost"], n["d_in_queue"] = issue("d_answer_lost"), issue("d_in_queue")
    upload_answer_lost(client, n["d_answer_lost"])
    set_channel("platform")
    n["p_answer_lost"], n["p_in_queue"], n["p_rekeyed"] = issue("p_answer_lost"), issue("p_in_queue"), issue("p_rek")
    n["p_answer_lost_number"] = issue_answer_lost(client, n["p_answer_lost"])["number"]
    # The platform holds this pre-issue record under a key that is not its queue entry's (a re-made entry).
    client.issue(str(uuid.uuid4()), pre_issue_body(body_of(n["p_rekeyed"])))
    # Issued on another desk of this seller (or before this store was restored): only the platform has it.
    n["elsewhere"] = client.issue(str(uuid.uuid4()), elsewhere_body(
        seller, buyer={"name": "外地客户有限公司", "tax_id": BUYER_TAX_ID}))["number"]
    return n


def test_each_kind_of_difference_is_found(planted, client):
    report = rec.reconcile(client, TODAY, TODAY)
    found = kinds(report)
    n = planted
    assert found[rec.MISSING_ON_PLATFORM] == sorted([n["d_lost"], n["d_in_queue"], n["p_lost"], n["p_in_queue"]])
    assert found[rec.MISSING_LOCALLY] == [n["elsewhere"]]
    assert found[rec.MISMATCH] == [n["d_amount_differs"]]
    assert found[rec.UNRECORDED] == sorted([n["d_answer_lost"], n["p_answer_lost"]])
    assert found[rec.DUPLICATE] == sorted([n["p_twice"], n["p_rekeyed"]])
    assert report.matched == 2 and report.local_count == 11 and report.platform_count == 9
    mismatch = report.of_kind(rec.MISMATCH)[0]
    assert "1600.00" in mismatch.detail and "别的公司" in mismatch.detail
    waiting = {d.number for d in report.of_kind(rec.MISSING_ON_PLATFORM) if "上传队列" in d.detail}
    assert waiting == {n["d_in_queue"], n["p_in_queue"]}
    # The pre-issue record issued under its key while the answer was lost is found by that key.
    p_unrecorded = next(d for d in report.of_kind(rec.UNRECORDED) if d.number == n["p_answer_lost"])
    assert p_unrecorded.platform is not None and p_unrecorded.platform["number"] == n["p_answer_lost_number"]
    assert p_unrecorded.key == key_of(n["p_answer_lost"])
    # A duplicate is neither sent again (that would issue it a third time) nor imported.
    for d in report.of_kind(rec.DUPLICATE):
        assert not d.can_requeue and not d.can_import and d.local is not None
    rekeyed = next(d for d in report.of_kind(rec.DUPLICATE) if d.number == n["p_rekeyed"])
    assert "另一个幂等键" in rekeyed.detail
    assert {d.local.channel for d in report.differences if d.local} == {"direct", "platform"}


def test_requeued_invoices_end_up_on_the_platform_once(planted, client, direct):
    n = planted
    report = rec.reconcile(client, TODAY, TODAY)
    # Only those not waiting in the queue anyway are put back; twice changes nothing.
    assert rec.requeue(report.differences, clerk="张三") == [n["d_lost"], n["p_lost"]]
    assert rec.requeue(report.differences) == []
    d_row = Invoice.get(Invoice.provisional_number == n["d_lost"])
    assert d_row.status == status.PENDING_UPLOAD and d_row.official_number == n["d_lost"]  # its own number stays
    p_row = Invoice.get(Invoice.provisional_number == n["p_lost"])
    assert p_row.status == status.PRE_ISSUE and p_row.official_number is None  # a pre-issue record again
    for row in (d_row, p_row):
        assert AuditEntry.select().where((AuditEntry.invoice == row) & (AuditEntry.action == "queued")).count() == 1
    upload(direct)
    upload(direct)  # a second pass (a retry, a second instance) sends nothing new
    held = platform_numbers(direct)
    assert held.count(n["d_lost"]) == 1 and held.count(n["d_in_queue"]) == 1
    p_row = Invoice.get(Invoice.provisional_number == n["p_lost"])
    assert p_row.status == status.ACCEPTED and held.count(p_row.official_number or "") == 1
    keys = [r["key"] for r in direct.v2_store.all("SELECT key FROM v2_invoice WHERE channel = 'platform'")]
    assert len(keys) == len(set(keys))  # no key issued twice
    after = rec.reconcile(client, TODAY, TODAY)
    assert rec.MISSING_ON_PLATFORM not in kinds(after) and rec.UNRECORDED not in kinds(after)
    assert Invoice.get(Invoice.provisional_number == n["d_lost"]).status == status.ACCEPTED


def test_import_keeps_channel_and_number_and_records_lost_answers(planted, client):
    n = planted
    report = rec.reconcile(client, TODAY, TODAY)
    counter_before = issue_invoice(invoice_body(remarks="before")).number
    result = rec.import_records(report.differences, clerk="张三")
    assert result.imported == [n["elsewhere"]] and result.failed == []
    assert sorted(result.recorded) == sorted([n["d_answer_lost"], n["p_answer_lost"]])
    row = Invoice.get(Invoice.provisional_number == n["elsewhere"])
    assert (row.channel, row.status, row.official_number) == ("platform", status.ACCEPTED, n["elsewhere"])
    assert row.buyer_name == "外地客户有限公司" and row.total_with_tax == Decimal("1060.00")
    record = next(d.platform for d in report.of_kind(rec.MISSING_LOCALLY))
    assert record is not None
    assert UploadQueueEntry.get(UploadQueueEntry.invoice == row).idempotency_key == record["key"]
    assert [e.action for e in AuditEntry.select().where(AuditEntry.invoice == row)] == ["imported"]
    # The acceptances the store missed, recorded with the platform's numbers.
    direct_row = Invoice.get(Invoice.provisional_number == n["d_answer_lost"])
    assert (direct_row.status, direct_row.official_number) == (status.ACCEPTED, n["d_answer_lost"])
    pre_issue = Invoice.get(Invoice.provisional_number == n["p_answer_lost"])
    assert (pre_issue.status, pre_issue.official_number) == (status.ACCEPTED, n["p_answer_lost_number"])
    assert audit.verify_chain() is None
    # The provisional counter is the desk's own: an imported record, numbered by the platform, does not move it.
    assert issue_invoice(invoice_body(remarks="after")).number == f"LX-{int(counter_before[3:]) + 1:07d}"
    again = rec.reconcile(client, TODAY, TODAY)
    assert rec.MISSING_LOCALLY not in kinds(again) and rec.UNRECORDED not in kinds(again)
    assert [why for _, why in rec.import_records(report.differences).failed] == ["already in the store"]


def test_report_saved_as_csv_and_pdf(planted, client, tmp_path):
    from app.reports.reconcile_report import write_reconcile_pdf

    report = rec.reconcile(client, TODAY, TODAY)
    rows = list(csv.DictReader(write_csv(report, tmp_path / "r.csv").open(encoding="utf-8-sig")))
    assert len(rows) == len(report.differences)
    assert {r["类别"] for r in rows} == {rec.kind_label(kind) for kind in rec.KINDS}
    assert any(r["号码"] == planted["d_amount_differs"] and r["平台价税合计"] == "1600.00"
               and r["开具渠道"] == "直连（乐企）" for r in rows)
    assert any(r["号码"] == planted["elsewhere"] and r["平台号码"] == planted["elsewhere"]
               for r in rows)
    pdf = write_reconcile_pdf(report, tmp_path / "r.pdf")
    text = "".join(p.extract_text() for p in PdfReader(pdf).pages)
    for expected in ("对账报告", planted["p_lost"], "1600.00", "平台有、本地无"):
        assert expected in text, expected


def test_rebuild_a_lost_store_from_the_platform(direct, client, seller, tmp_path):
    from app.services.seller import set_seller
    from app.services.store_access import open_store

    numbers = [issue_invoice(invoice_body(buyer={"name": f"北京客户{i}号有限公司", "tax_id": BUYER_TAX_ID})).number
               for i in range(3)]
    set_channel("platform")
    numbers += [issue(f"p{i}") for i in range(2)]
    upload(direct)
    originals: dict[str, tuple[str, str, str]] = {}
    for number in numbers:
        row = Invoice.get(Invoice.provisional_number == number)
        assert row.official_number is not None
        originals[row.official_number] = (row.channel, row.content_hash, key_of(number))
    # The store is lost: a new, empty one on another folder.
    fresh = open_store(tmp_path / "new-store")
    try:
        set_seller(name=seller.party.name, tax_id=seller.party.tax_id, drawer="张三")
        report, result = rec.rebuild_from_platform(client, TODAY, TODAY, clerk="张三")
        assert len(report.of_kind(rec.MISSING_LOCALLY)) == 5
        assert sorted(result.imported) == sorted(originals) and result.failed == []
        for official, (channel, content, key) in originals.items():
            row = Invoice.get(Invoice.official_number == official)
            assert (row.channel, row.provisional_number, row.status) == (channel, official, status.ACCEPTED)
            if channel == "direct":
                assert row.content_hash == content  # the very same invoice, under the very same number
                assert row.quota_drawn == Decimal("1000.00")
                assert row.quota_period == row.issued_date[:7].replace("-", "")
            else:
                assert UploadQueueEntry.get(UploadQueueEntry.invoice == row).idempotency_key == key
        assert audit.verify_chain() is None and verify_store().ok
        assert [e.action for e in AuditEntry.select().order_by(AuditEntry.id)][-5:] == ["imported"] * 5
        check = rec.reconcile(client, TODAY, TODAY)
        assert check.differences == [] and check.matched == 5
        assert issue_invoice(invoice_body()).number == "LX-0000001"  # this store's own first pre-issue record
        check = rec.reconcile(client, TODAY, TODAY)
        assert kinds(check) == {rec.MISSING_ON_PLATFORM: ["LX-0000001"]}
    finally:
        fresh.close()


def test_bad_period_names_the_field(seller, client):
    with pytest.raises(ValidationFailed) as caught:
        rec.reconcile(client, "2026-13-01", TODAY)
    assert caught.value.errors[0].field == "from"
    with pytest.raises(ValidationFailed) as caught:
        rec.reconcile(client, TODAY, "2020-01-01")
    assert caught.value.errors[0].field == "to"


def test_cli_reconcile_requeue_import_csv_pdf(planted, direct, data_dir, store, tmp_path):
    from tests.helpers.cli import run_cli
    from tests.helpers.platform import SYNC_TOKEN as TOKEN

    store.close()
    out = run_cli(data_dir, "reconcile", "--from", TODAY, "--to", TODAY, "--url", direct.url, *token_file_args(TOKEN),
                  "--csv", str(tmp_path / "r.csv"), "--pdf", str(tmp_path / "r.pdf"), "--requeue", "--import", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["counts"][rec.MISSING_LOCALLY] == 1 and data["requeued"] == [planted["d_lost"], planted["p_lost"]]
    assert data["imported"] == [planted["elsewhere"]]
    assert sorted(data["recorded"]) == sorted([planted["d_answer_lost"], planted["p_answer_lost"]])
    assert (tmp_path / "r.csv").exists() and (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")
    bad = run_cli(data_dir, "reconcile", "--from", "yesterday", "--to", TODAY, "--url", direct.url)
    assert bad.returncode == 2 and "起始日期" in bad.stderr
    direct.set_faults(mode="down")
    down = run_cli(data_dir, "reconcile", "--from", TODAY, "--to", TODAY, "--url", direct.url, *token_file_args(TOKEN))
    assert down.returncode == 1 and "无法从平台下载" in down.stderr


def test_a_record_that_does_not_parse_is_never_believed(online, client, seller):
    """Damaged on the platform's side (its own file): refused with the reason, the rest imported."""
    good = client.issue(str(uuid.uuid4()), elsewhere_body(seller, remarks="good"))["number"]
    bad_totals = client.issue(str(uuid.uuid4()), elsewhere_body(seller, remarks="bad totals"))["number"]
    bad_channel = client.issue(str(uuid.uuid4()), elsewhere_body(seller, remarks="bad channel"))["number"]
    platform_sql(online, "UPDATE v2_invoice SET body = json_set(body, '$.total_with_tax', '9.99') WHERE number = ?",
                 bad_totals)
    platform_sql(online, "UPDATE v2_invoice SET channel = 'fax' WHERE number = ?", bad_channel)
    # A pre-issue record issued under its key, answer lost, then damaged: not recorded as accepted.
    lost = issue("lost")
    lost_number = issue_answer_lost(client, lost)["number"]
    platform_sql(online, "UPDATE v2_invoice SET body = json_set(body, '$.lines[0].amount', '999.00') "
                         "WHERE number = ?", lost_number)
    report = rec.reconcile(client, TODAY, TODAY)
    assert kinds(report) == {rec.MISSING_LOCALLY: sorted([good, bad_totals, bad_channel]), rec.MISMATCH: [lost]}
    refused = {d.number: d.refused for d in report.differences if d.refused}
    assert set(refused) == {bad_totals, bad_channel, lost}
    assert "价税合计" in refused[bad_totals] and "开具渠道" in refused[bad_channel]
    assert "第1行" in refused[lost] and "does not parse" in report.of_kind(rec.MISMATCH)[0].detail
    assert [d.can_import for d in report.of_kind(rec.MISSING_LOCALLY) if d.number == good] == [True]
    result = rec.import_records(report.differences)
    assert result.imported == [good] and result.recorded == []
    assert sorted(n for n, _ in result.failed) == sorted([bad_totals, bad_channel])
    why = dict(result.failed)
    assert "平台记录不是有效发票" in why[bad_totals] and "价税合计" in why[bad_totals]
    assert "开具渠道" in why[bad_channel]
    assert Invoice.get(Invoice.provisional_number == lost).status == status.PRE_ISSUE
    assert Invoice.select().count() == 2 and audit.verify_chain() is None


def test_parse_record_names_what_is_wrong(online, client, seller):
    number = client.issue(str(uuid.uuid4()), elsewhere_body(seller))["number"]
    record = client.invoice_by_number(number)
    assert rec.parse_record(record).number == number
    for change, field in (({"number": "LX-0000001"}, "number"), ({"status": "pending"}, "status"),
                          ({"accepted_at": "yesterday"}, "accepted_at"), ({"key": ""}, "key"),
                          ({"seller": {**record["seller"], "tax_id": "91110000600037341L"}}, "seller.tax_id"),
                          ({"issued_at": "2025-06-01T10:00:00+08:00"}, "number")):
        with pytest.raises(ValidationFailed) as caught:
            rec.parse_record({**record, **change})
        assert caught.value.errors[0].field == field, change
    with pytest.raises(ValidationFailed) as caught:
        rec.parse_record(["not", "a", "record"])
    assert caught.value.errors[0].field == "record"
