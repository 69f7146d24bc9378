"""The full check of a store of FEED_MIN invoices or more has SQLite write the invoices' bodies on a second
connection in a thread (app.services.integrity._BodyFeed) while it walks the chain, and checks each chunk whose
digests are ready between two batches of entries, the red-letter invoices once the whole chain is walked. These
hold that this way finds what the check finds (an old line changed, a red-letter reason changed), that a digest
only ever spares a rebuild on the check's own snapshot, and that a feed that fails or is left behind changes
nothing."""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.services import integrity
from app.services.integrity import verify_store
from app.store.database import STORE_FILE, Store, open_store
from tests.helpers.store_builder import build_store

INVOICES = 2000  # integrity.FEED_MIN at the time of writing; the tests set it to what they need


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("feed") / "store"
    build_store(out, INVOICES, waiting=40, red=3, cancelled=2)
    return out


@pytest.fixture
def copy(built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """A copy of the built store, opened, with the feed on for it and the chain walked in small batches (so that
    chunks of invoices are checked between them, before the walk has read every red-letter reason)."""
    target = tmp_path / "store"
    shutil.copytree(built, target)
    monkeypatch.setattr(integrity, "FEED_MIN", INVOICES // 2)
    monkeypatch.setattr(integrity, "WALK_CHUNK", 50)
    opened = open_store(target)
    yield opened
    opened.close()


@pytest.fixture
def fed(monkeypatch: pytest.MonkeyPatch) -> list[integrity._BodyFeed]:
    """The feeds the checks started."""
    started: list[integrity._BodyFeed] = []
    start = integrity._BodyFeed.start.__func__  # type: ignore[attr-defined]

    def spied(cls, db, until):
        feed = start(cls, db, until)
        if feed is not None:
            started.append(feed)
        return feed

    monkeypatch.setattr(integrity._BodyFeed, "start", classmethod(spied))
    return started


def _raw(store: Store) -> sqlite3.Connection:
    connection = sqlite3.connect(str(store.path), isolation_level=None)
    connection.execute("PRAGMA foreign_keys = OFF")
    return connection


def _feed_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "integrity-bodies"]


def _change_a_line(connection: sqlite3.Connection, invoice_id: int) -> str:
    """An amount changed on the first line of an invoice, its totals with it (so they still add up): only its
    body against the hash its issuing entry recorded can tell."""
    connection.execute("UPDATE invoice_line SET amount = amount + 100 WHERE invoice_id = ? AND position = 0",
                       (invoice_id,))
    connection.execute("UPDATE invoice SET total_amount = total_amount + 100, total_with_tax = total_with_tax + 100 "
                       "WHERE id = ?", (invoice_id,))
    return str(connection.execute("SELECT provisional_number FROM invoice WHERE id = ?", (invoice_id,)).fetchone()[0])


def test_the_full_check_takes_every_body_from_the_feed(copy, fed, rebuilt):
    report = verify_store()
    assert report.ok, report.first and report.first.describe()
    assert report.invoices == INVOICES
    assert len(fed) == 1 and not _feed_threads()
    assert rebuilt == []  # every body confirmed by its digest: none rebuilt


def test_a_tampered_old_line_is_found_through_the_feed(copy, fed, rebuilt):
    with _raw(copy) as c:
        number = _change_a_line(c, 3)  # one of the oldest, long accepted
    report = verify_store()
    assert len(fed) == 1
    assert report.first is not None and report.first.invoice_number == number
    assert "differ from what was issued" in report.first.reason
    assert rebuilt == [3]


def test_a_tampered_red_letter_reason_is_found_once_the_chain_is_walked(copy, fed):
    with _raw(copy) as c:
        red_id, number = c.execute("SELECT id, provisional_number FROM invoice WHERE red_reason IS NOT NULL "
                                   "ORDER BY id LIMIT 1").fetchone()
        c.execute("UPDATE invoice SET red_reason = 'not the one recorded' WHERE id = ?", (red_id,))
    report = verify_store()
    assert len(fed) == 1
    assert report.first is not None and report.first.invoice_number == number
    assert "red-letter reason" in report.first.reason
    assert [f for f in report.findings if f.invoice_number == number] == [report.first]  # found once


def test_a_body_changed_after_the_check_began_is_judged_on_the_checks_own_snapshot(copy, fed, rebuilt,
                                                                                   monkeypatch):
    """The feed's snapshot is begun after the check's: a digest that does not match only sends the invoice to the
    rebuild, on the check's snapshot, where the row is still as issued."""
    start = integrity._BodyFeed.start

    def changed_first(db, until):
        with _raw(copy) as c:
            _change_a_line(c, 5)
        return start(db, until)

    monkeypatch.setattr(integrity._BodyFeed, "start", changed_first)
    report = verify_store()
    assert report.ok, report.first and report.first.describe()
    assert rebuilt == [5]
    # And the next check, which sees the change, names it.
    later = verify_store()
    assert later.first is not None and "differ from what was issued" in later.first.reason


@pytest.mark.parametrize("failure", ["no_connection", "sql_error"])
def test_a_feed_that_fails_changes_nothing(copy, fed, rebuilt, monkeypatch, tmp_path, failure):
    if failure == "no_connection":
        run = integrity._BodyFeed._run

        def elsewhere(self):
            self._name = str(tmp_path / "missing" / STORE_FILE)
            run(self)

        monkeypatch.setattr(integrity._BodyFeed, "_run", elsewhere)
    else:
        monkeypatch.setattr(integrity, "_BODIES_SQL", "SELECT no_such_column FROM invoice WHERE id > ? AND id <= ?")
    assert verify_store().ok and rebuilt == []  # the bodies written with the rows instead
    with _raw(copy) as c:
        number = _change_a_line(c, 7)
    report = verify_store()
    assert len(fed) == 2 and not _feed_threads()
    assert report.first is not None and report.first.invoice_number == number
    assert "differ from what was issued" in report.first.reason


def test_a_check_that_fails_midway_stops_its_feed(copy, fed, monkeypatch):
    def broken(connection, watch):
        raise RuntimeError("boom")

    monkeypatch.setattr(integrity, "FEED_AHEAD", 1)
    monkeypatch.setattr(integrity, "_desk_findings", broken)
    with pytest.raises(RuntimeError, match="boom"):
        verify_store()
    assert len(fed) == 1 and not _feed_threads()


def test_one_cpu_has_no_feed(copy, fed, rebuilt, monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 1)  # what integrity asks
    with _raw(copy) as c:
        number = _change_a_line(c, 9)
    report = verify_store()
    assert fed == [] and not _feed_threads()
    assert report.first is not None and report.first.invoice_number == number and rebuilt == [9]
