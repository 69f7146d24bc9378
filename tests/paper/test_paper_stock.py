"""Packs of pre-printed forms: loaded with their code and numbers, sheets taken in order and never twice (two
processes on one store), spoiled sheets, what may never take a sheet, and the schema step that holds them."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import peewee
import pytest

from app.core.errors import ValidationFailed
from app.services import paper_stock
from app.services.issuing import issue_invoice
from app.store import audit, migrations
from app.store.models import AuditEntry
from tests.helpers.bodies import full_body, invoice_body
from tests.helpers.cli import ROOT
from tests.helpers.platform import accept
from tests.paper.conftest import CODE


def _fields(failed: pytest.ExceptionInfo[ValidationFailed]) -> set[str]:
    return {e.field for e in failed.value.errors}


def test_a_pack_is_checked_naming_the_field_and_overlaps_are_refused(store):
    with pytest.raises(ValidationFailed) as failed:
        paper_stock.load_pack("12345", "1234567", 0, kind="red")
    assert _fields(failed) == {"code", "first", "count", "kind"}
    assert "10 或 12 位数字" in failed.value.describe("zh") and "must be 10 or 12 digits" in failed.value.describe("en")
    with pytest.raises(ValidationFailed) as failed:
        paper_stock.load_pack(CODE, "99999990", 20)
    assert _fields(failed) == {"count"}
    pack = paper_stock.load_pack(CODE, "00000101", 50, clerk="张三")
    assert (pack.first, pack.last, pack.count, pack.left, pack.next_number) == ("00000101", "00000150", 50, 50,
                                                                                 "00000101")
    with pytest.raises(ValidationFailed) as failed:
        paper_stock.load_pack(CODE, "00000150", 10)
    assert _fields(failed) == {"first"} and "重叠" in str(failed.value)
    paper_stock.load_pack(CODE, "00000151", 10)  # right after it: no overlap
    paper_stock.load_pack("1440319001", "00000101", 10)  # the same numbers under another code
    assert [p.count for p in paper_stock.packs()] == [50, 10, 10]
    loaded = list(AuditEntry.select().where(AuditEntry.action == "paper_loaded"))
    assert len(loaded) == 3 and audit.verify_chain() is None


def test_sheets_are_taken_in_order_a_reprint_keeps_its_sheet_and_spoiled_ones_are_skipped(store, seller):
    paper_stock.load_pack(CODE, "00000001", 3)
    paper_stock.load_pack(CODE, "00000011", 2)
    paper_stock.load_pack("1100261320", "00000001", 5, kind="special")
    numbers: list[str] = []
    for _ in range(3):
        issued = issue_invoice(full_body(medium="paper"))
        accept(issued.number, f"2431200000013663{len(numbers) + 1:04d}")
        numbers.append(issued.number)
    assert paper_stock.sheet_in_printer("normal") == paper_stock.Sheet(CODE, "00000001", "normal")
    first = paper_stock.sheet_for_print(numbers[0], clerk="张三")
    assert first.new and (first.sheet.code, first.sheet.number) == (CODE, "00000001")
    again = paper_stock.sheet_for_print(numbers[0])
    assert not again.new and again.sheet.number == "00000001"  # a reprint knows its sheet
    # A sheet further on found torn: skipped when its turn comes.
    paper_stock.spoil_sheet("00000003", reason="破损", code=CODE, clerk="张三")
    assert paper_stock.sheet_for_print(numbers[1]).sheet.number == "00000002"
    # The sheet that jammed under the first invoice: that invoice takes the next sheet, in the next pack.
    spoiled = paper_stock.spoil_sheet("00000001", reason="卡纸", code=CODE)
    assert spoiled.invoice_number == numbers[0]
    assert paper_stock.sheet_of(numbers[0]) is None
    assert paper_stock.sheet_for_print(numbers[0]).sheet.number == "00000011"
    assert paper_stock.sheet_for_print(numbers[2]).sheet.number == "00000012"
    assert paper_stock.sheet_in_printer("normal") is None
    assert paper_stock.sheet_in_printer("special") == paper_stock.Sheet("1100261320", "00000001", "special")
    issued = issue_invoice(full_body(medium="paper"))
    accept(issued.number, "24312000000136630099")
    with pytest.raises(paper_stock.NoPaperForm) as none_left:
        paper_stock.sheet_for_print(issued.number)
    assert "paper load" in str(none_left.value)
    with pytest.raises(ValidationFailed) as failed:
        paper_stock.spoil_sheet("00000001", reason="x", code=CODE)
    assert _fields(failed) == {"number"} and "已作废" in str(failed.value)
    with pytest.raises(ValidationFailed) as failed:
        paper_stock.spoil_sheet("00000001", reason="x")  # under two codes
    assert _fields(failed) == {"code"}
    with pytest.raises(ValidationFailed) as failed:
        paper_stock.spoil_sheet("123", reason=" ")
    assert _fields(failed) == {"number", "reason"}
    printed = AuditEntry.select().where(AuditEntry.action == "paper_sheet_printed").count()
    assert printed == 4 and AuditEntry.select().where(AuditEntry.action == "paper_sheet_spoiled").count() == 2
    assert audit.verify_chain() is None


def test_what_is_not_an_issued_paper_invoice_never_takes_a_sheet(store, seller):
    paper_stock.load_pack(CODE, "00000001", 5)
    record = issue_invoice(full_body(medium="paper"))  # a pre-issue record: no official number yet
    with pytest.raises(paper_stock.NotAPaperInvoice, match="预开单"):
        paper_stock.sheet_for_print(record.number)
    electronic = issue_invoice(invoice_body())
    accept(electronic.number, "24312000000136630001")
    with pytest.raises(paper_stock.NotAPaperInvoice, match="medium"):
        paper_stock.sheet_for_print(electronic.number)
    assert paper_stock.sheet_in_printer("normal") == paper_stock.Sheet(CODE, "00000001", "normal")


TAKER = r"""
import sys
from app.services.store_access import open_store
from app.services import paper_stock
open_store(sys.argv[1])
for number in sys.argv[2:]:
    sheet = paper_stock.sheet_for_print(number, clerk="child").sheet
    print(number, sheet.number, flush=True)
"""


def test_two_processes_on_one_store_never_take_a_sheet_twice(store, seller, data_dir):
    paper_stock.load_pack(CODE, "00000001", 30)
    paper_stock.load_pack(CODE, "00000031", 30)
    numbers = []
    for i in range(50):
        issued = issue_invoice(full_body(medium="paper"))
        accept(issued.number, f"2431200000013663{i:04d}")
        numbers.append(issued.number)
    children = [subprocess.Popen([sys.executable, "-c", TAKER, str(data_dir), *numbers[i::2]], cwd=ROOT,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
    outputs = [c.communicate(timeout=120) for c in children]
    for child, (_out, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err
    taken = dict(line.split() for out, _ in outputs for line in out.splitlines())
    assert sorted(taken) == sorted(numbers)
    assert sorted(taken.values()) == [f"{i:08d}" for i in range(1, 51)]  # each sheet once, none skipped
    with sqlite3.connect(data_dir / "fapiao-desk.sqlite3") as c:
        assert c.execute("SELECT count(*), count(DISTINCT invoice_id) FROM paper_sheet").fetchone() == (50, 50)
        assert c.execute("SELECT used FROM paper_pack ORDER BY id").fetchall() == [(30,), (20,)]
    assert audit.verify_chain() is None


def test_schema_5_is_added_to_a_schema_4_store():
    db = peewee.SqliteDatabase(":memory:")
    from playhouse.migrate import SqliteMigrator

    for step in migrations.STEPS[:4]:
        step(db, SqliteMigrator(db))
    db.pragma("user_version", 4)
    assert migrations.STEPS[4] is migrations.schema_steps.v5_paper_forms
    assert migrations.migrate_to_latest(db) == migrations.LATEST >= 5  # later steps may follow
    tables = {r[0] for r in db.execute_sql("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"paper_pack", "paper_sheet"} <= tables
    db.execute_sql("INSERT INTO paper_pack VALUES (1, 'normal', '144031900110', '00000001', 5, 0, 'now', '')")
    db.execute_sql("INSERT INTO paper_sheet VALUES (1, 1, '144031900110', '00000001', 'spoiled', NULL, 'x', 'now', '')")
    with pytest.raises(peewee.IntegrityError):
        db.execute_sql("INSERT INTO paper_sheet VALUES (2, 1, '144031900110', '00000001', 'printed', NULL, '', "
                       "'n', '')")
