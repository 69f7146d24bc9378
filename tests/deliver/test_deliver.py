"""Delivery (app/services/deliver.py, `python -m app deliver`, 工具 → 交付文件夹/立即交付): the PDF and the
XML of every accepted invoice written into the clerk's folder, recorded, and what is still pending listed,
on the real store with invoices accepted by the real upload worker against the reference platform."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path

import pytest

from app.core import clock, status
from app.core.errors import BadInput, DeskError
from app.services import deliver
from app.services.issuing import issue_invoices
from app.store.models import AuditEntry, Invoice, database
from tests.helpers.bodies import invoice_body
from tests.helpers.cli import run_cli
from tests.helpers.platform import make_worker


def accepted_invoices(platform, count: int) -> list[str]:
    numbers = [i.number for i in issue_invoices([invoice_body(remarks=f"#{i}") for i in range(count)])]
    report = make_worker(platform).run_once()
    assert report.accepted == count, report
    assert {r.status for r in Invoice.select()} == {status.ACCEPTED}
    return numbers


def delivered_entries() -> list[tuple[str, dict]]:
    return [(str(e.invoice.official_number if e.invoice else ""), json.loads(e.detail))
            for e in AuditEntry.select().where(AuditEntry.action == deliver.DELIVERED).order_by(AuditEntry.id)]


def folder(tmp_path: Path) -> Path:
    out = tmp_path / "buyers"
    out.mkdir()
    return out


def test_accepted_invoices_are_delivered_once_each_as_pdf_and_xml(direct, tmp_path: Path):
    numbers = accepted_invoices(direct, 3)
    out = folder(tmp_path)
    assert deliver.deliver_pending() == deliver.DeliverResult(folder=None)  # no folder set: nothing done
    assert list(out.iterdir()) == []
    assert [p.number for p in deliver.pending_deliveries()] == numbers
    assert deliver.set_deliver_folder(out, clerk="张三") == out
    assert deliver.deliver_folder() == out

    result = deliver.deliver_pending(limit=100)
    assert result.folder == out and result.delivered == numbers and not result.failed and result.remaining == 0
    expected = [f"{n}.pdf" for n in numbers] + [f"{n}.xml" for n in numbers]
    assert sorted(p.name for p in out.iterdir()) == sorted(expected)
    for number in numbers:
        assert len(number) == 20 and number.isdigit()
        assert (out / f"{number}.pdf").read_bytes().startswith(b"%PDF")
        root = ET.fromstring((out / f"{number}.xml").read_bytes())
        assert root.findtext("Header/EIid") == number
        assert root.findtext("Header/UndefinedLabel/Label/LabelCode") == "6"  # direct, issued offline
    entries = delivered_entries()
    assert [n for n, _ in entries] == numbers
    assert entries[0][1]["files"] == [f"{numbers[0]}.xml", f"{numbers[0]}.pdf"] and entries[0][1]["folder"] == str(out)

    assert deliver.pending_deliveries() == []
    again = deliver.deliver_pending()
    assert again.delivered == [] and len(delivered_entries()) == 3  # once each

    # A new acceptance after the cursor is found and delivered too.
    [later] = accepted_invoices(direct, 1)
    assert [p.number for p in deliver.pending_deliveries()] == [later]
    assert deliver.deliver_pending().delivered == [later]


def test_the_pending_list_by_age_and_the_limit(direct, tmp_path: Path):
    numbers = accepted_invoices(direct, 3)
    now = clock.now()
    assert deliver.pending_deliveries(older_than_hours=1, at=now) == []  # accepted just now
    late = deliver.pending_deliveries(older_than_hours=48, at=now + timedelta(hours=49))
    assert [p.number for p in late] == numbers
    assert all(47 < p.hours_since(now + timedelta(hours=48)) <= 48.1 for p in late)
    assert all(p.hours_left(now + timedelta(hours=49)) < 0 for p in late)

    deliver.set_deliver_folder(folder(tmp_path))
    first = deliver.deliver_pending(limit=1)
    assert first.delivered == numbers[:1] and first.remaining == 2
    assert [p.number for p in deliver.pending_deliveries()] == numbers[1:]
    assert deliver.deliver_pending(limit=5).delivered == numbers[1:]


def test_the_pending_read_is_indexed_never_a_scan(direct):
    accepted_invoices(direct, 2)
    plan = database.execute_sql("EXPLAIN QUERY PLAN " + deliver.PENDING_SQL,
                                (0, "accepted", "accepted", "delivered", "delivery_refused")).fetchall()
    details = [row[-1] for row in plan]
    assert any("INTEGER PRIMARY KEY" in d and "rowid>?" in d for d in details), details
    assert any("audit_entry_invoice_id" in d for d in details), details
    assert not [d for d in details if d.startswith("SCAN")], details


def test_a_folder_that_cannot_be_written_is_refused_naming_deliver_folder(direct, tmp_path: Path):
    [number] = accepted_invoices(direct, 1)
    missing = tmp_path / "missing"
    with pytest.raises(BadInput) as caught:
        deliver.set_deliver_folder(missing)
    assert "deliver.folder（交付文件夹）" in caught.value.describe("zh") and "不存在" in caught.value.describe("zh")
    assert "deliver.folder (delivery folder)" in caught.value.describe("en")
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    with pytest.raises(BadInput, match=r"deliver\.folder"):
        deliver.set_deliver_folder(a_file)
    with pytest.raises(BadInput) as unwritable:
        deliver.check_folder("/proc")  # exists, takes no file (even as root)
    assert "不能写入" in unwritable.value.describe("zh") and "cannot be written" in unwritable.value.describe("en")
    assert deliver.deliver_folder() is None

    # Set, then gone: the pass refuses, the invoice stays pending for the next one.
    out = folder(tmp_path)
    deliver.set_deliver_folder(out)
    out.rmdir()
    with pytest.raises(BadInput, match=r"deliver\.folder"):
        deliver.deliver_pending()
    assert [p.number for p in deliver.pending_deliveries()] == [number]
    out.mkdir()
    assert deliver.deliver_pending().delivered == [number]


def test_the_starting_point_is_the_last_48_hours_of_the_log(direct, tmp_path: Path):
    numbers = accepted_invoices(direct, 2)
    # Pretend the first acceptance happened three days ago: it was past its time before delivery began.
    first = Invoice.get(Invoice.official_number == numbers[0])
    old = (clock.now() - timedelta(days=3)).isoformat(timespec="milliseconds")
    database.execute_sql('UPDATE "audit_entry" SET "at" = ? WHERE "id" <= (SELECT MAX("id") FROM "audit_entry" '
                         'WHERE "invoice_id" = ? AND "action" = ?)', (old, first.id, "accepted"))
    assert [p.number for p in deliver.pending_deliveries()] == numbers[1:]


def test_the_command(direct, data_dir: Path, tmp_path: Path):
    numbers = accepted_invoices(direct, 2)
    out = folder(tmp_path)
    refused = run_cli(data_dir, "deliver", "--set-folder", str(tmp_path / "nope"))
    assert refused.returncode == 2 and "deliver.folder" in refused.stderr, refused.stderr
    english = run_cli(data_dir, "--lang", "en", "deliver")
    assert english.returncode == 2 and "deliver.folder" in english.stderr and "--set-folder" in english.stderr

    assert run_cli(data_dir, "deliver", "--set-folder", str(out)).returncode == 0
    listed = run_cli(data_dir, "deliver", "--pending", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [p["number"] for p in json.loads(listed.stdout)] == numbers
    assert json.loads(run_cli(data_dir, "deliver", "--pending", "--json", "--hours", "2").stdout) == []

    done = run_cli(data_dir, "deliver")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(out / f"{n}.{kind}") for n in numbers for kind in ("pdf", "xml")]
    assert all((out / f"{n}.xml").exists() and (out / f"{n}.pdf").exists() for n in numbers)
    assert "未交付 not delivered: 0" in run_cli(data_dir, "deliver", "--pending").stdout

    # Named again, into another folder this time.
    other = tmp_path / "other"
    other.mkdir()
    again = run_cli(data_dir, "deliver", numbers[0], "--folder", str(other))
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in other.iterdir()) == [f"{numbers[0]}.pdf", f"{numbers[0]}.xml"]


def test_a_waiting_invoice_is_not_delivered_by_name(direct, tmp_path: Path):
    direct.set_faults(mode="down")
    [issued] = issue_invoices([invoice_body()])
    deliver.set_deliver_folder(folder(tmp_path))
    with pytest.raises(DeskError) as caught:
        deliver.deliver_numbers([issued.number])
    assert issued.number in str(caught.value.describe("zh")) and "尚未被平台接受" in caught.value.describe("zh")
    assert deliver.pending_deliveries() == []
