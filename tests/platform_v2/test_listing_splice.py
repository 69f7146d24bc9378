"""GET /v2/invoices splices each record's stored body text instead of reading it and writing it again: the bytes
sent are those the listing sent when it encoded every record (json.dumps of {**body, envelope...}), for
platform- and direct-channel records, awkward texts, a body changed in the file by SQLite's json_set, and a
body holding an envelope's name as a key (which is not spliced)."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest

from app.platform.server import PlatformServer
from app.platform.v2.platform import V2Platform
from tests.helpers.platform import platform_sql
from tests.platform_v2.support import body, call, download, draw, results, upload

SELLER = "91110108MA0123456G"
AWKWARD = ["合同号 HT-2026-0088", 'say "status": no', "back\\slash and \"quotes\"", "tab\there, line\nbreak",
           "emoji 🧾 and 𠀀", "/ slash </script>", ""]


def _old_encoding(v2: V2Platform, query: dict[str, str]) -> bytes:
    """The page as the listing encoded it before it spliced: every record read and written again."""
    limit = int(query.get("limit") or 100)
    after = 0
    if query.get("after"):
        from app.platform.v2.platform import _decode_cursor

        decoded = _decode_cursor(query["after"])
        assert decoded is not None
        after = decoded
    rows = v2.store.listing(SELLER, query["from"], query["to"], after, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    from app.platform.v2.platform import _encode_cursor

    value: dict[str, Any] = {"items": [V2Platform._record(row) for row in rows],
                             "next": _encode_cursor(rows[-1]["seq"]) if more else None}
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _raw_get(platform: PlatformServer, path: str) -> bytes:
    import http.client
    from urllib.parse import urlsplit

    from tests.helpers.platform import SYNC_TOKEN

    parts = urlsplit(platform.url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=5)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {SYNC_TOKEN}"})
        response = conn.getresponse()
        assert response.status == 200
        return response.read()
    finally:
        conn.close()


@pytest.fixture
def stocked(v2: PlatformServer) -> PlatformServer:
    for i, remarks in enumerate(AWKWARD):
        answer = v2.v2.issue(f"key-{i}", body(None, remarks=remarks))
        assert answer.status == 201, answer
    numbers = draw(v2, 3)
    sent = [body(number, remarks=remarks) for number, remarks in zip(numbers, AWKWARD[1:4], strict=True)]
    download(v2, "100000.00")
    checked = results(v2, upload(v2, sent))
    assert [r["status"] for r in checked] == ["accepted"] * 3, checked
    # Changed in the file by SQLite (as the tests that plant differences do), and one holding "status" as a key.
    first, second = (row[0] for row in platform_sql(v2, "SELECT number FROM v2_invoice ORDER BY seq LIMIT 2"))
    platform_sql(v2, "UPDATE v2_invoice SET body = json_set(body, '$.total_with_tax', '9.99', "
                     "'$.remarks', '改过 \"x\"') WHERE number = ?", first)
    platform_sql(v2, "UPDATE v2_invoice SET body = json_set(body, '$.status', 'planted') WHERE number = ?", second)
    return v2


@pytest.mark.parametrize("limit", [1, 2, 3, 100])
def test_each_page_is_the_bytes_the_listing_sent_when_it_encoded_every_record(stocked, limit):
    v2 = stocked.v2
    query: dict[str, str] = {"from": "2026-11-01", "to": "2026-12-31", "limit": str(limit)}
    pages = 0
    seen: list[str] = []
    while True:
        answer = v2.invoices(query)
        assert answer.status == 200
        expected = _old_encoding(v2, query)
        assert answer.json_text().encode("utf-8") == expected
        path = "/v2/invoices?" + "&".join(f"{k}={v}" for k, v in query.items())
        assert _raw_get(stocked, path) == expected  # what goes over the wire
        assert answer.body == json.loads(expected)  # and in process, read back
        seen += [r["number"] for r in answer.body["items"]]
        pages += 1
        if answer.body["next"] is None:
            break
        query["after"] = answer.body["next"]
    assert len(seen) == len(set(seen)) == len(AWKWARD) + 3
    assert pages == -(-len(seen) // limit)


def test_a_body_holding_an_envelope_name_is_not_spliced(stocked):
    """_record overwrites the body's "status" in place (the key keeps its place): splicing would send it twice."""
    v2 = stocked.v2
    rows = v2.store.listing(SELLER, "2026-11-01", "2026-12-31", 0, 100)
    planted = [row for row in rows if '"status":' in row["body"]]
    assert len(planted) == 1
    text = V2Platform._record_text(planted[0])
    assert text == json.dumps(V2Platform._record(planted[0]), ensure_ascii=False, separators=(",", ":"))
    assert text.count('"status":') == 1
    for row in rows:
        assert V2Platform._record_text(row) == json.dumps(V2Platform._record(row), ensure_ascii=False,
                                                          separators=(",", ":"))


def test_a_page_with_a_key_in_the_body_over_http_parses_as_before(stocked):
    got, answer, _ = call(stocked, "GET", "/v2/invoices?from=2026-11-01&to=2026-12-31&limit=100")
    assert got == 200
    assert sum(1 for r in answer["items"] if "key" in r) == len(AWKWARD)  # the platform channel's, not the uploads'
    conn = sqlite3.connect(stocked.db_path)
    try:
        stored = dict(conn.execute("SELECT number, status FROM v2_invoice").fetchall())
    finally:
        conn.close()
    assert {r["number"]: r["status"] for r in answer["items"]} == stored
