"""The store builder (tests/helpers/store_builder.py) makes stores the desk's own checks accept, and
never writes into the clerk's store."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core import status
from app.services.integrity import check_history, verify_store
from app.store.database import STORE_FILE, open_store
from app.store.models import AuditEntry, Buyer, Invoice, InvoiceLine, NumberBlock, UploadQueueEntry
from tests.helpers.store_builder import RefusedTarget, build_store


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("built") / "store"
    report = build_store(out, 2000, waiting=120, red=3, cancelled=2)
    assert report.invoices == 2000 and report.waiting == 120 and report.red == 3 and report.cancelled == 2
    return out


def test_a_built_store_verifies_in_full_and_quick(built: Path) -> None:
    store = open_store(built)
    try:
        report = verify_store()
        assert report.ok, report.first and report.first.describe()
        assert report.invoices == 2000 and report.entries == AuditEntry.select().count()
        assert check_history().ok  # the full check (no head yet), the head recorded
        quick = check_history()
        assert quick.ok and quick.quick
    finally:
        store.close()


def test_a_built_store_looks_like_a_desk(built: Path) -> None:
    store = open_store(built)
    try:
        counts = {s: Invoice.select().where(Invoice.status == s).count()
                  for s in (status.ACCEPTED, status.PENDING_UPLOAD, status.PRE_ISSUE, status.CANCELLED)}
        assert counts[status.ACCEPTED] == 2000 - 120 - 2 and counts[status.CANCELLED] == 2
        assert counts[status.PENDING_UPLOAD] + counts[status.PRE_ISSUE] == 120
        assert Invoice.select().where(Invoice.channel == "direct").count() > 300
        assert Invoice.select().where(Invoice.original_number.is_null(False)).count() == 3
        per_invoice = InvoiceLine.select().count() / 2000
        assert 1 < per_invoice < 5
        assert UploadQueueEntry.select().count() == 2000
        assert UploadQueueEntry.select().where(UploadQueueEntry.state == status.Q_PENDING).count() == 120
        assert Buyer.select().count() > 50 and Invoice.select().where(Invoice.buyer.is_null()).count() == 0
        assert NumberBlock.select().count() >= 1
        accepted = AuditEntry.select().where(AuditEntry.action == "accepted").count()
        assert accepted == counts[status.ACCEPTED]
    finally:
        store.close()


def test_the_builder_refuses_the_clerks_store_and_a_store_already_there(built: Path, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    clerk = tmp_path / "clerk"
    monkeypatch.setenv("FAPIAO_DESK_DATA", str(clerk))
    for target in (clerk, clerk / "inside"):
        with pytest.raises(RefusedTarget, match="clerk's own data dir"):
            build_store(target, 10, force=True)
    assert not (clerk / STORE_FILE).exists()
    before = (built / STORE_FILE).stat().st_mtime_ns
    with pytest.raises(RefusedTarget, match="already holds a store"):
        build_store(built, 10)
    assert (built / STORE_FILE).stat().st_mtime_ns == before
