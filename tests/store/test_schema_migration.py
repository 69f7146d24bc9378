"""A store from before 数电 (schema 1, written by that release: tests/fixtures) opens, migrates after a
verified backup, keeps every invoice exactly as issued, still verifies and prints; and the migration
steps build exactly the tables the models describe."""

from __future__ import annotations

import shutil
import sqlite3
from decimal import Decimal
from pathlib import Path

import peewee

from app.core.invoice import Medium, Rules
from app.services import backup
from app.services.integrity import verify_store
from app.services.issuing import issue_invoice
from app.services.store_access import open_store
from app.store import migrations, queries
from app.store.database import STORE_FILE
from app.store.models import ALL_MODELS, Invoice, database
from app.store.records import content_hash, invoice_from_row
from tests.helpers.bodies import invoice_body

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "store-schema1.sqlite3"


def _schema1_store(data_dir: Path) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURE, data_dir / STORE_FILE)
    return data_dir / STORE_FILE


def _hashes(path: Path) -> dict[str, str]:
    with sqlite3.connect(str(path)) as c:
        return dict(c.execute("SELECT provisional_number, content_hash FROM invoice"))


def test_a_schema1_store_migrates_after_a_verified_backup_and_still_verifies(tmp_path):
    data_dir = tmp_path / "desk"
    path = _schema1_store(data_dir)
    before = _hashes(path)
    store = open_store(data_dir)
    try:
        assert store.db.pragma("user_version") == migrations.LATEST
        folder = backup.backup_folder(data_dir)
        records = backup.read_manifest(folder)
        # One verified backup of the store as the old release left it covers every step it lacked.
        assert [r.reason for r in records] == ["before migration from schema 1"] and records[0].ok
        with sqlite3.connect(str(folder / records[0].file)) as c:
            assert c.execute("PRAGMA user_version").fetchone()[0] == 1  # the store as the old release left it
        report = verify_store()
        assert report.ok, report.findings
        assert _hashes(path) == before
        for row in Invoice.select():
            invoice = invoice_from_row(row)
            assert (invoice.rules, invoice.medium) == (Rules.LEGACY, Medium.PAPER)
            assert content_hash(invoice) == row.content_hash  # its history is not rewritten
        special = queries.get_invoice("LX-0000001")
        assert special is not None
        assert [line.name for line in special.lines][:2] == ["*信息技术服务*软件开发", "*计算机外部设备*激光打印机"]
        assert special.lines[2].discount and special.lines[3].tax_rate == "exempt"
        assert special.total_with_tax == Decimal("7926.31")
        # The next invoice is a 数电 one, numbered after the old ones.
        issued = issue_invoice(invoice_body())
        assert issued.number == "LX-0000005" and issued.invoice.rules is Rules.SHUDIAN
        assert verify_store().ok
    finally:
        store.close()


def test_a_schema1_invoice_prints_as_before(tmp_path):
    from app.services.printing import options_for, print_to_pdf
    from tests.helpers.pdf import pdftotext, squeeze

    data_dir = tmp_path / "desk"
    _schema1_store(data_dir)
    store = open_store(data_dir)
    try:
        out = tmp_path / "old.pdf"
        print_to_pdf(["LX-0000001"], out, options_for())
        text = squeeze(pdftotext(out))
        assert "增值税专用发票" in text and "*信息技术服务*软件开发" in text
    finally:
        store.close()


def _columns(db: peewee.SqliteDatabase) -> dict[str, set[tuple[str, str, bool]]]:
    tables = [r[0] for r in db.execute_sql("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {t: {(c[1], c[2], bool(c[3])) for c in db.execute_sql(f'PRAGMA table_info("{t}")')} for t in tables}


def test_the_steps_build_what_the_models_describe():
    stepped = peewee.SqliteDatabase(":memory:")
    migrations.migrate_to_latest(stepped)
    modelled = peewee.SqliteDatabase(":memory:")
    database.initialize(modelled)
    try:
        modelled.create_tables(ALL_MODELS)
        assert _columns(stepped) == _columns(modelled)
        indexes = "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'"
        assert {r[0] for r in stepped.execute_sql(indexes)} == {r[0] for r in modelled.execute_sql(indexes)}
    finally:
        database.initialize(None)


def test_v1_invoices_still_waiting_become_pre_issue_records_and_the_platform_judges_them(tmp_path, v2):
    """Under v1 the desk called them invoices; the platform never confirmed their numbers. Under v2 they are
    pre-issue records sent to POST /v2/issue; bodies of the old rules (no tax codes) are refused with reasons."""
    from app.core import status
    from app.services.settings import set_platform
    from app.store.models import UploadQueueEntry
    from tests.helpers.platform import SYNC_TOKEN, make_worker
    from tests.platform_v2.support import set_clock

    data_dir = tmp_path / "desk"
    _schema1_store(data_dir)
    store = open_store(data_dir)
    try:
        rows = {r.provisional_number: r for r in Invoice.select()}
        assert {n: r.status for n, r in rows.items()} == {
            "LX-0000001": status.ACCEPTED, "LX-0000002": status.PRE_ISSUE, "LX-0000003": status.CANCELLED,
            "LX-0000004": status.PRE_ISSUE}
        assert {r.channel for r in rows.values()} == {"platform"}
        set_clock(v2, reset=True)
        set_platform(v2.url, SYNC_TOKEN)
        report = make_worker(v2).run_once()
        assert report.rejected == 2 and report.accepted == 0
        for number in ("LX-0000002", "LX-0000004"):
            row = Invoice.get(Invoice.provisional_number == number)
            entry = UploadQueueEntry.get(UploadQueueEntry.invoice == row)
            assert row.status == status.REJECTED and "tax_code" in entry.last_error
        assert verify_store().ok
    finally:
        store.close()
