"""Issue 13: reconciliation streams. The platform's pages are read one at a time and compared as they come,
matched against the store by its indexes; a record is kept only while it is a difference, so the records
alive in Python stay within a page or two however long the period (asserted by structure, never by time).
The outcome is the one of comparing the whole list at once: the comparison of the release before, kept
here as the oracle, on the planted differences of test_reconcile and on listings a faulty platform might
give (a number listed twice, the key of an invoice under another number, the order turned round)."""

from __future__ import annotations

import copy
import dataclasses
import gc
import uuid
import weakref
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from app.core import status
from app.core.clock import now
from app.services import reconcile as rec
from app.services.channel import DIRECT, set_channel
from app.services.issuing import issue_invoices
from app.store.models import Invoice, UploadQueueEntry
from app.store.models import Invoice as InvoiceRow
from app.store.records import content_hash
from tests.helpers.bodies import SELLER_TAX_ID, invoice_body
from tests.helpers.platform import make_worker, platform_sql
from tests.reconcile.test_reconcile import planted  # noqa: F401  (the fixture: every kind of difference)

TODAY = now().date().isoformat()


class Record(dict[str, Any]):
    """A record as the client yields it, that can be watched (a plain dict cannot be weakly referenced)."""

    __slots__ = ("__weakref__",)


class WatchedClient:
    """The real client's pages, one GET /v2/invoices at a time; before each page after the first, how many
    of the records yielded so far are still alive anywhere in the process."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.yielded: list[weakref.ref[Record]] = []
        self.alive_at_page: list[int] = []
        self.pages = 0

    def alive(self) -> int:
        gc.collect()
        return sum(1 for ref in self.yielded if ref() is not None)

    def iter_invoices(self, seller_tax_id: str, date_from: str, date_to: str, *, page_size: int = 500
                      ) -> Iterator[dict[str, Any]]:
        after = None
        while True:
            if self.pages:
                self.alive_at_page.append(self.alive())
            page = self.client.list_invoices(seller_tax_id, date_from, date_to, after=after, limit=page_size)
            self.pages += 1
            for item in page.items:
                record = Record(item)
                self.yielded.append(weakref.ref(record))
                yield record
            if not page.next:
                return
            after = page.next


def _issue_and_upload(platform: Any, count: int) -> list[str]:
    numbers = [issued.number for start in range(0, count, 50)
               for issued in issue_invoices([invoice_body(remarks=f"#{i}")
                                                for i in range(start, min(start + 50, count))])]
    worker = make_worker(platform)
    try:
        report = worker.run_once()
    finally:
        worker.close()
    assert report.accepted == count, report
    return numbers


def test_a_period_is_compared_page_by_page_holding_a_page_or_two(online, client):
    """120 records read 10 a page: the generator is consumed as the comparison goes, and before each page no
    more than two pages of records are alive (the page compared and the one being read), plus the differences."""
    numbers = _issue_and_upload(online, 120)
    # Two differences the report keeps: one changed on the platform's side, one the platform holds alone.
    changed = Invoice.get(Invoice.provisional_number == numbers[37]).official_number
    platform_sql(online, "UPDATE v2_invoice SET body = json_set(body, '$.buyer.name', '别的公司') WHERE number = ?",
                 changed)
    platform_sql(online, "DELETE FROM v2_invoice WHERE number = ?",
                 Invoice.get(Invoice.provisional_number == numbers[80]).official_number)
    watched = WatchedClient(client)
    report = rec.reconcile(watched, TODAY, TODAY, page_size=10)  # type: ignore[arg-type]
    assert watched.pages == 12 and len(watched.yielded) == 119 == report.platform_count
    assert report.matched == 118 and report.local_count == 120
    assert [(d.kind, d.number) for d in report.differences] == [(rec.MISSING_ON_PLATFORM, numbers[80]),
                                                               (rec.MISMATCH, numbers[37])]
    assert len(watched.alive_at_page) == 11
    assert max(watched.alive_at_page) <= 2 * 10 + 1, watched.alive_at_page
    # Once done, only the record the report shows is alive (kept in its difference).
    del report
    assert watched.alive() == 0


def test_a_store_lost_entirely_keeps_only_the_differences(online, client, tmp_path, seller):
    """Every record is missing here: each is a difference, so the report keeps it (and nothing else does)."""
    from app.services.seller import set_seller
    from app.services.store_access import open_store

    _issue_and_upload(online, 30)
    fresh = open_store(tmp_path / "new-store")
    try:
        set_seller(name=seller.party.name, tax_id=seller.party.tax_id, drawer="张三")
        watched = WatchedClient(client)
        report = rec.reconcile(watched, TODAY, TODAY, page_size=10)  # type: ignore[arg-type]
        assert report.counts()[rec.MISSING_LOCALLY] == 30 and report.local_count == 0
        assert watched.alive() == 30
        assert all(isinstance(d.platform, Record) for d in report.differences)
    finally:
        fresh.close()


# --- the outcome is the one of comparing the whole list at once --------------------------------------

def oracle(seller_tax_id: str, date_from: str, date_to: str, records: list[dict[str, Any]]) -> rec.ReconcileReport:
    """The comparison of the release before (every record and every local invoice of the period held at once),
    kept as the reference the streamed one must agree with."""
    rules = rec._Rules()
    checked = [rec._Checked(record, rules) for record in records]
    local = []
    for row in InvoiceRow.select().where((InvoiceRow.seller_tax_id == seller_tax_id)
                                         & (InvoiceRow.issued_date >= date_from)
                                         & (InvoiceRow.issued_date <= date_to)).order_by(InvoiceRow.id):
        local.append(rec._local_side(row, UploadQueueEntry.get_or_none(UploadQueueEntry.invoice == row)))
    report = rec.ReconcileReport(seller_tax_id, date_from, date_to, "", len(local), len(checked), 0)
    by_number: dict[str, list[int]] = defaultdict(list)
    by_key: dict[str, list[int]] = defaultdict(list)
    for index, one in enumerate(checked):
        by_number[one.number].append(index)
        if one.channel == rec.PLATFORM and one.key:
            by_key[one.key].append(index)
    locals_by_number: dict[str, rec.LocalSide] = {}
    for side in local:
        for number in (side.number, side.official_number):
            if number:
                locals_by_number.setdefault(number, side)

    def find(side: rec.LocalSide) -> int | None:
        if side.channel == DIRECT:
            found = by_number.get(side.number)
        elif side.official_number:
            found = by_number.get(side.official_number) or (by_key.get(side.key) if side.key else None)
        else:
            found = by_key.get(side.key) if side.key else None
        return found[0] if found else None

    def difference(kind: str, number: str, side: rec.LocalSide | None, one: Any, detail: str) -> None:
        report.differences.append(rec.Difference(
            kind, number, (side.key if side else None) if one is None else (one.key or (side.key if side else None)),
            side, one.record if one else None, detail, one.refused if one else "", one.invoice if one else None))

    used: set[int] = set()
    accounted: set[str] = set()
    for number, indices in by_number.items():
        if len(indices) > 1:
            holder = locals_by_number.get(number)
            for index in indices:
                used.add(index)
                difference(rec.DUPLICATE, holder.number if holder else number, holder, checked[index],
                           f"平台清单中号码 {number} 出现 {len(indices)} 次 / the platform lists this number "
                           f"{len(indices)} times")
            if holder is not None:
                accounted.add(holder.number)
    pairs = []
    unmatched = []
    for side in local:
        if side.number in accounted:
            continue
        found = find(side)
        if found is None:
            unmatched.append(side)
        else:
            used.add(found)
            pairs.append((side, found))
    left = [i for i in range(len(checked)) if i not in used]
    candidates: dict[tuple[str, Decimal | None, str], list[rec.LocalSide]] = defaultdict(list)
    if any(checked[i].channel == rec.PLATFORM for i in left):
        for side in local:
            if side.channel == rec.PLATFORM:
                candidates[(side.issued_at, side.total_with_tax, side.buyer_tax_id.upper())].append(side)
    for index in left:
        one = checked[index]
        if one.channel != rec.PLATFORM or one.invoice is None or one.invoice.issued_at is None:
            continue
        signature = (one.invoice.issued_at.isoformat(), one.invoice.total_with_tax, one.invoice.buyer.tax_id.upper())
        for side in candidates.get(signature, []):
            if content_hash(dataclasses.replace(one.invoice, number=side.number)) == side.content_hash:
                used.add(index)
                accounted.add(side.number)
                difference(rec.DUPLICATE, side.number, side, one,
                           f"平台以另一个幂等键（{one.key}）开具了此预开单（号码 {one.number}），本地键为 {side.key}："
                           "不再上传，多开的发票请红冲 / the platform issued this pre-issue record under another key: "
                           "not sent again; reverse the extra invoice")
                break
    for side, index in pairs:
        one = checked[index]
        problems = rec._compare(side, one)
        if problems:
            difference(rec.MISMATCH, side.number, side, one, "; ".join(problems))
        elif side.status != status.ACCEPTED:
            difference(rec.UNRECORDED, side.number, side, one,
                       f"平台已接受（{one.number}），本地仍为 {status.status_label(side.status)} "
                       f"/ accepted as {one.number}, still {side.status} here")
        elif side.number not in accounted:
            report.matched += 1
    for side in unmatched:
        if side.number in accounted:
            continue
        if side.status in rec.NOT_ON_PLATFORM:
            report.not_sent += 1
            continue
        waiting = side.queue_state in status.QUEUE_WAITING_STATES
        difference(rec.MISSING_ON_PLATFORM, side.number, side, None,
                   f"仍在上传队列（{side.queue_state}） / still in the upload queue" if waiting
                   else f"平台无此发票（本地 {side.status}，队列 {side.queue_state}） / the platform does not hold it")
    for index in range(len(checked)):
        if index in used:
            continue
        one = checked[index]
        detail = f"平台有记录（{one.channel}），本地没有 / the platform holds it, this store does not"
        if one.refused:
            detail += f"; 平台记录不是有效发票，不能导入：{one.refused} / the record does not parse as an invoice"
        difference(rec.MISSING_LOCALLY, one.number, None, one, detail)
    order = {kind: i for i, kind in enumerate(rec.KINDS)}
    report.differences.sort(key=lambda d: (order[d.kind], d.number))
    return report


def outcome(report: rec.ReconcileReport) -> tuple[Any, ...]:
    return (report.local_count, report.platform_count, report.matched, report.not_sent,
            [(d.kind, d.number, d.key, d.local, d.platform, d.detail, d.refused) for d in report.differences])


def streamed(records: list[dict[str, Any]], page_size: int) -> rec.ReconcileReport:
    """The streamed comparison fed by a generator (never a list it could read twice by itself)."""
    return rec.compare(SELLER_TAX_ID, TODAY, TODAY, (r for r in records), page_size=page_size,
                       reread=lambda: iter(copy.deepcopy(records)))


def listings(records: list[dict[str, Any]], local_official: dict[str, str | None]) -> dict[str, list[dict[str, Any]]]:
    """What a faulty platform might list: as listed, turned round, numbers listed twice, a key under another
    number before the invoice's own, records missing, a record that does not parse."""
    platform_records = [r for r in records if r.get("channel") == rec.PLATFORM]
    direct_records = [r for r in records if r.get("channel") == DIRECT]
    out = {"as listed": records, "reversed": records[::-1]}
    out["a number twice"] = [*records[:3], copy.deepcopy(records[1]), *records[3:], copy.deepcopy(records[-1])]
    out["three times"] = [copy.deepcopy(direct_records[0]), *records, copy.deepcopy(direct_records[0])]
    # The key of an invoice that holds its official number, under another number, listed before its own record.
    target = next(r for r in platform_records if r["number"] in local_official.values())
    stray = copy.deepcopy(target)
    stray["number"] = f"{int(target['number']) + 777:020d}"
    out["its key under another number first"] = [stray, *records]
    out["its key under another number after"] = [*records, stray]
    out["half"] = records[::2]
    broken = copy.deepcopy(records[2])
    broken["total_with_tax"] = "0.01"
    out["one does not parse, twice"] = [broken, *records, copy.deepcopy(broken)]
    out["unnumbered twice"] = [*records, {**copy.deepcopy(records[0]), "number": None},
                               {**copy.deepcopy(records[1]), "number": None}]
    out["reissued under a new key"] = [*records, {**copy.deepcopy(target), "key": str(uuid.uuid4())}]
    return out


@pytest.mark.parametrize("page_size", [1, 3, 500])
def test_the_streamed_comparison_agrees_with_the_whole_list_at_once(planted, client, page_size):  # noqa: F811
    records = list(client.iter_invoices(SELLER_TAX_ID, TODAY, TODAY))
    local_official = {row.provisional_number: row.official_number for row in
                      InvoiceRow.select().where(InvoiceRow.official_number.is_null(False))}
    for name, listing in listings(records, local_official).items():
        expected = outcome(oracle(SELLER_TAX_ID, TODAY, TODAY, copy.deepcopy(listing)))
        assert outcome(streamed(listing, page_size)) == expected, name


def test_reconcile_reads_the_listing_again_only_when_a_number_is_listed_twice(planted, client):  # noqa: F811
    calls = []

    class Counting:
        def iter_invoices(self, *args: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
            calls.append(args)
            records = list(client.iter_invoices(*args, **kwargs))
            return iter([*records, copy.deepcopy(records[0])] if doubled else records)

    doubled = False
    rec.reconcile(Counting(), TODAY, TODAY)  # type: ignore[arg-type]
    assert len(calls) == 1
    doubled = True
    report = rec.reconcile(Counting(), TODAY, TODAY)  # type: ignore[arg-type]
    assert len(calls) == 3
    twice = [d for d in report.of_kind(rec.DUPLICATE) if "2 次" in d.detail]
    assert len(twice) == 2 and twice[0].platform == twice[1].platform
    assert not any(d.can_import or d.can_requeue for d in twice)


def test_a_local_invoice_of_another_period_is_not_matched(online, client):
    """Only the store's invoices of the period are compared: one the platform lists whose copy here is dated
    otherwise is missing here, as before."""
    set_channel("platform")
    number = _issue_and_upload(online, 50)[7]
    InvoiceRow.update(issued_date="2020-01-01").where(InvoiceRow.provisional_number == number).execute()
    records = list(client.iter_invoices(SELLER_TAX_ID, TODAY, TODAY))
    report = rec.reconcile(client, TODAY, TODAY, page_size=7)
    assert outcome(report) == outcome(oracle(SELLER_TAX_ID, TODAY, TODAY, records))
    assert report.counts()[rec.MISSING_LOCALLY] == 1 and report.matched == 49 and report.local_count == 49


def test_a_rebuild_imports_as_it_reads_the_listing_again(online, client, tmp_path, seller, monkeypatch):
    """A lost store rebuilt: the comparison remembers the records missing here by number only, then the listing
    is read a second time and they are imported a chunk at a time; nothing of them is kept afterwards."""
    from app.services.integrity import verify_store
    from app.services.seller import set_seller
    from app.services.store_access import open_store
    from app.store import audit

    _issue_and_upload(online, 45)
    bad = Invoice.select().order_by(Invoice.id).first().official_number
    platform_sql(online, "UPDATE v2_invoice SET body = json_set(body, '$.total_with_tax', '9.99') WHERE number = ?",
                 bad)
    monkeypatch.setattr(rec, "IMPORT_CHUNK", 10)
    fresh = open_store(tmp_path / "new-store")
    try:
        set_seller(name=seller.party.name, tax_id=seller.party.tax_id, drawer="张三")
        watched = WatchedClient(client)
        report, result = rec.rebuild_from_platform(watched, TODAY, TODAY, page_size=10)  # type: ignore[arg-type]
        assert watched.pages == 10 and len(watched.yielded) == 90  # read twice, 5 pages each
        assert max(watched.alive_at_page) <= 2 * 10 + 1, watched.alive_at_page
        assert watched.alive() == 0
        assert report.counts()[rec.MISSING_LOCALLY] == 45 and report.platform_count == 45
        assert all(d.platform is None and d.key for d in report.of_kind(rec.MISSING_LOCALLY))
        assert len(result.imported) == 44 and [n for n, _ in result.failed] == [bad]
        why = result.failed[0][1]
        assert "平台记录不是有效发票" in why and "价税合计" in why
        assert Invoice.select().count() == 44 and audit.verify_chain() is None and verify_store().ok
        again = rec.reconcile(client, TODAY, TODAY)
        assert again.matched == 44 and [d.number for d in again.differences] == [bad]
    finally:
        fresh.close()


def test_a_rebuild_of_an_old_store_records_what_it_missed_and_imports_the_rest(online, client, seller):
    """Records the store waits for are recorded (not imported again); one issued elsewhere is imported."""
    from tests.reconcile.test_reconcile import elsewhere_body, issue_answer_lost

    _issue_and_upload(online, 12)
    waiting = issue_invoices([invoice_body(remarks="lost answer")])[0].number
    issue_answer_lost(client, waiting)
    elsewhere = client.issue(str(uuid.uuid4()), elsewhere_body(seller, remarks="elsewhere"))["number"]
    report, result = rec.rebuild_from_platform(client, TODAY, TODAY, page_size=5)
    assert [d.number for d in report.differences] == [elsewhere, waiting]
    assert result.recorded == [waiting] and result.imported == [elsewhere] and result.failed == []
    assert rec.reconcile(client, TODAY, TODAY).matched == 14
