"""Reconciliation on real HTTP against the reference platform: every kind of difference planted on
the platform (its API and its SQLite file) and in the store is found, and the fixes work."""

from __future__ import annotations

import csv
import json
import uuid
from decimal import Decimal

import pytest
from pypdf import PdfReader

from app.core import status
from app.core.clock import now
from app.core.errors import ValidationFailed
from app.reports.reconcile_report import write_csv
from app.services import reconcile as rec
from app.services.issuing import issue_invoice
from app.store import audit
from app.store.models import AuditEntry, Invoice, NumberCounter
from tests.helpers.bodies import BUYER_TAX_ID, invoice_body
from tests.helpers.platform import body_of, key_of, platform_numbers, platform_sql, send

TODAY = now().date().isoformat()


def kinds(report) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for d in report.differences:
        out.setdefault(d.kind, []).append(d.number)
    return out


@pytest.fixture
def planted(seller, client, platform):
    """Seven invoices, each in its own state of agreement."""
    n = {}
    n["matched"] = issue_invoice(invoice_body()).number
    send(client, n["matched"])
    n["in_queue"] = issue_invoice(invoice_body()).number  # never sent
    n["lost_on_platform"] = issue_invoice(invoice_body()).number
    send(client, n["lost_on_platform"])
    platform_sql(platform, "DELETE FROM record WHERE key = ?", key_of(n["lost_on_platform"]))
    n["amount_differs"] = issue_invoice(invoice_body()).number
    send(client, n["amount_differs"])
    platform_sql(platform, "UPDATE record SET body = json_set(body, '$.total_with_tax', '1600.00', "
                           "'$.buyer.name', '别的公司') WHERE key = ?", key_of(n["amount_differs"]))
    n["twice_on_platform"] = issue_invoice(invoice_body()).number
    send(client, n["twice_on_platform"])
    client.submit(str(uuid.uuid4()), body_of(n["twice_on_platform"]))  # the same invoice under a second key
    n["answer_lost"] = issue_invoice(invoice_body()).number
    send(client, n["answer_lost"], record_here=False)  # accepted, but the desk never heard
    # Issued on another desk of this seller (or before this store was restored): only the platform has it.
    elsewhere = {**body_of(n["matched"]), "number": "LX-0000050",
                 "buyer": {**body_of(n["matched"])["buyer"], "name": "外地客户有限公司"}}
    client.submit(str(uuid.uuid4()), elsewhere)
    n["only_on_platform"] = "LX-0000050"
    return n


def test_each_kind_of_difference_is_found(planted, client):
    report = rec.reconcile(client, TODAY, TODAY)
    found = kinds(report)
    assert sorted(found[rec.MISSING_ON_PLATFORM]) == sorted([planted["in_queue"], planted["lost_on_platform"]])
    assert found[rec.MISSING_LOCALLY] == [planted["only_on_platform"]]
    assert found[rec.MISMATCH] == [planted["amount_differs"]]
    assert found[rec.UNRECORDED] == [planted["answer_lost"]]
    assert found[rec.DUPLICATE] == [planted["twice_on_platform"]] * 2
    assert report.matched == 1 and report.local_count == 6 and report.platform_count == 6
    mismatch = report.of_kind(rec.MISMATCH)[0]
    assert "1600.00" in mismatch.detail and "别的公司" in mismatch.detail
    in_queue = next(d for d in report.of_kind(rec.MISSING_ON_PLATFORM) if d.number == planted["in_queue"])
    assert "上传队列" in in_queue.detail


def test_requeued_invoice_ends_up_on_the_platform_once(planted, client, platform):
    report = rec.reconcile(client, TODAY, TODAY)
    lost = planted["lost_on_platform"]
    # Only the one that is not waiting in the queue anyway is put back; twice changes nothing.
    assert rec.requeue(report.differences, clerk="张三") == [lost]
    assert rec.requeue(report.differences) == []
    row = Invoice.get(Invoice.provisional_number == lost)
    assert row.status == status.PENDING_UPLOAD and row.official_number is None
    assert AuditEntry.select().where((AuditEntry.invoice == row) & (AuditEntry.action == "queued")).count() == 1
    upload_queue(client)
    upload_queue(client)  # a second pass (a retry, a second instance) sends nothing new
    assert platform_numbers(platform).count(lost) == 1
    assert platform_numbers(platform).count(planted["in_queue"]) == 1
    after = rec.reconcile(client, TODAY, TODAY)
    assert rec.MISSING_ON_PLATFORM not in kinds(after)
    assert Invoice.get(Invoice.provisional_number == lost).status == status.ACCEPTED


def test_import_records_what_only_the_platform_has_and_moves_the_counter(planted, client, seller):
    report = rec.reconcile(client, TODAY, TODAY)
    result = rec.import_records(report.differences, clerk="张三")
    assert result.imported == [planted["only_on_platform"]]
    assert result.recorded == [planted["answer_lost"]] and result.failed == []
    row = Invoice.get(Invoice.provisional_number == "LX-0000050")
    assert row.status == status.ACCEPTED and row.official_number and len(row.official_number) == 20
    assert row.buyer_name == "外地客户有限公司" and row.total_with_tax == Decimal("1060.00")
    assert [e.action for e in AuditEntry.select().where(AuditEntry.invoice == row)] == ["imported"]
    assert Invoice.get(Invoice.provisional_number == planted["answer_lost"]).status == status.ACCEPTED
    assert audit.verify_chain() is None
    # No number is given twice: the next one issued here comes after the imported LX-0000050.
    assert NumberCounter.get().last_value == 50
    assert issue_invoice(invoice_body()).number == "LX-0000051"
    again = rec.reconcile(client, TODAY, TODAY)
    assert rec.MISSING_LOCALLY not in kinds(again) and rec.UNRECORDED not in kinds(again)
    assert rec.import_records(report.differences).failed  # a second import finds them already here


def test_report_saved_as_csv_and_pdf(planted, client, tmp_path):
    from app.reports.reconcile_report import write_reconcile_pdf

    report = rec.reconcile(client, TODAY, TODAY)
    rows = list(csv.DictReader(write_csv(report, tmp_path / "r.csv").open(encoding="utf-8-sig")))
    assert len(rows) == len(report.differences)
    assert {r["kind"] for r in rows} == set(rec.KINDS)
    assert any(r["number"] == planted["amount_differs"] and r["platform_total_with_tax"] == "1600.00" for r in rows)
    pdf = write_reconcile_pdf(report, tmp_path / "r.pdf")
    text = "".join(p.extract_text() for p in PdfReader(pdf).pages)
    for expected in ("对账报告", planted["lost_on_platform"], planted["only_on_platform"], "1600.00", "平台有、本地无"):
        assert expected in text, expected


def test_rebuild_a_lost_store_from_the_platform(seller, client, platform, tmp_path):
    from app.services.seller import set_seller
    from app.services.store_access import open_store

    numbers = [issue_invoice(invoice_body(buyer={"name": f"北京客户{i}号有限公司", "tax_id": BUYER_TAX_ID})).number
               for i in range(5)]
    for number in numbers:
        send(client, number)
    originals = {n: (Invoice.get(Invoice.provisional_number == n).official_number,
                     Invoice.get(Invoice.provisional_number == n).content_hash) for n in numbers}
    # The store is lost: a new, empty one on another folder.
    fresh = open_store(tmp_path / "new-store")
    try:
        set_seller(name=seller.party.name, tax_id=seller.party.tax_id, drawer="张三")
        report, result = rec.rebuild_from_platform(client, TODAY, TODAY, clerk="张三")
        assert len(report.of_kind(rec.MISSING_LOCALLY)) == 5
        assert sorted(result.imported) == sorted(numbers)
        for number, (official, content) in originals.items():
            row = Invoice.get(Invoice.provisional_number == number)
            assert (row.official_number, row.content_hash) == (official, content)  # the very same invoice
        assert audit.verify_chain() is None
        assert [e.action for e in AuditEntry.select().order_by(AuditEntry.id)][-5:] == ["imported"] * 5
        assert issue_invoice(invoice_body()).number == "LX-0000006"
        check = rec.reconcile(client, TODAY, TODAY)
        assert kinds(check) == {rec.MISSING_ON_PLATFORM: ["LX-0000006"]}
    finally:
        fresh.close()


def test_bad_period_names_the_field(seller, client):
    with pytest.raises(ValidationFailed) as caught:
        rec.reconcile(client, "2026-13-01", TODAY)
    assert caught.value.errors[0].field == "from"
    with pytest.raises(ValidationFailed) as caught:
        rec.reconcile(client, TODAY, "2020-01-01")
    assert caught.value.errors[0].field == "to"


def test_cli_reconcile_requeue_import_csv_pdf(planted, platform, data_dir, store, tmp_path):
    from tests.helpers.cli import run_cli
    from tests.helpers.platform import PLATFORM_TOKEN as TOKEN

    store.close()
    out = run_cli(data_dir, "reconcile", "--from", TODAY, "--to", TODAY, "--url", platform.url, "--token", TOKEN,
                  "--csv", str(tmp_path / "r.csv"), "--pdf", str(tmp_path / "r.pdf"), "--requeue", "--import", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["counts"][rec.MISSING_LOCALLY] == 1 and data["requeued"] == [planted["lost_on_platform"]]
    assert data["imported"] == ["LX-0000050"]
    assert (tmp_path / "r.csv").exists() and (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")
    bad = run_cli(data_dir, "reconcile", "--from", "yesterday", "--to", TODAY, "--url", platform.url)
    assert bad.returncode == 2 and "from" in bad.stderr
    platform.set_faults(mode="down")
    down = run_cli(data_dir, "reconcile", "--from", TODAY, "--to", TODAY, "--url", platform.url, "--token", TOKEN)
    assert down.returncode == 1 and "无法从平台下载" in down.stderr


def upload_queue(client):
    """Send what the queue holds, with the sync side's queue worker, against the same platform."""
    from app.platform.http_client import HttpPlatformClient
    from app.sync.worker import QueueWorker
    from tests.helpers.platform import PLATFORM_TOKEN as TOKEN

    worker = QueueWorker(lambda: HttpPlatformClient(client.base_url, TOKEN))
    try:
        report = worker.run_once()
    finally:
        worker.close()
    assert not report.transient_failures and not report.unauthorized
    return report


def test_a_record_the_desk_rules_refuse_is_reported_and_the_rest_imported(seller, client, platform):
    for number in ("LX-0000007", "LX-0000008"):
        client.submit(str(uuid.uuid4()), {**_platform_body(seller), "number": number})
    # Damaged on the platform's side: its totals no longer add up.
    platform_sql(platform, "UPDATE record SET body = json_set(body, '$.total_with_tax', '9.99') "
                           "WHERE json_extract(body, '$.number') = 'LX-0000007'")
    report = rec.reconcile(client, TODAY, TODAY)
    result = rec.import_records(report.differences)
    assert result.imported == ["LX-0000008"]
    assert [n for n, _ in result.failed] == ["LX-0000007"] and "total_with_tax" in result.failed[0][1]
    assert Invoice.select().count() == 1 and audit.verify_chain() is None


def _platform_body(seller) -> dict:
    from app.core.codec import invoice_to_body
    from app.services.issuing import prepare_invoice

    invoice = prepare_invoice(invoice_body(), seller)
    body = invoice_to_body(invoice)
    body["issued_at"] = now().isoformat()
    return body


def test_a_local_invoice_held_by_the_platform_under_another_key_is_a_duplicate(seller, client):
    number = issue_invoice(invoice_body()).number
    # E.g. a restored store re-made its queue entry: the platform has the invoice, but not under our key.
    client.submit(str(uuid.uuid4()), body_of(number))
    report = rec.reconcile(client, TODAY, TODAY)
    assert [(d.kind, d.number) for d in report.differences] == [(rec.DUPLICATE, number)]
    assert "另一个幂等键" in report.differences[0].detail
    assert not report.differences[0].can_requeue and not report.differences[0].can_import
