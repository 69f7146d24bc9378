"""The table refreshed from the reference platform over loopback HTTP: GET /v2/tax-codes as it serves it,
the client's checks of the answer, and the refresh service."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from app.core.clock import now_iso
from app.platform.client import TransientFailure, Unauthorized
from app.platform.faults import FLAKY_KINDS
from app.platform.http_client import HttpPlatformClient
from app.platform.tax_codes import PlatformTaxCodes
from app.services.store_access import open_store
from app.services.taxcodes import OlderTable, refresh_from_platform
from app.store.models import AuditEntry, Item
from app.store.models import TaxCode as TaxCodeRow
from app.store.taxcode_search import get_code, search_codes
from app.store.taxcodes import table_version
from tests.taxcodes.tables import CHANGED_CODE, CHANGED_EXPLANATION, NEW_CODE, NEW_VERSION, WITHDRAWN_CODE


def client_of(platform: Any) -> HttpPlatformClient:
    return HttpPlatformClient(platform.url, platform.token, timeout=10)


def add_item(name: str, code: str, *, retired: bool = False) -> Item:
    at = now_iso()
    return Item.create(item_name=name, tax_code=code, tax_rate="0.06", created_at=at, updated_at=at,
                       retired_at=at if retired else None)


def snapshot() -> tuple[Any, ...]:
    """Everything a refresh may touch."""
    rows = [(r.code, r.name, r.rates, r.usable, r.explanation, r.version)
            for r in TaxCodeRow.select().order_by(TaxCodeRow.code)]
    return table_version(), AuditEntry.select().count(), rows


# --- what the platform serves -----------------------------------------------------------------------


def test_the_platform_serves_its_table(platform):
    client = client_of(platform)
    whole = client.tax_codes(None)
    assert whole.version == "32.0" and len(whole.codes) == 4236 and whole.withdrawn == ()
    sprouts = next(c for c in whole.codes if c.code == "1010112140000000000")
    assert sprouts.rates == ("0.13", "0.09") and sprouts.policies == ("03",) and sprouts.version == "32.0"
    same = client.tax_codes("32.0")
    assert same.version == "32.0" and same.codes == () and same.withdrawn == ()
    with pytest.raises(Unauthorized):
        HttpPlatformClient(platform.url, "wrong-token-123").tax_codes(None)


def test_a_newer_table_is_served_whole_with_its_withdrawn_codes(platform, newer_table):
    platform.httpd.tax_codes = PlatformTaxCodes(newer_table)
    update = client_of(platform).tax_codes("32.0")
    assert update.version == NEW_VERSION and len(update.codes) == 4237
    assert update.withdrawn == (WITHDRAWN_CODE,)
    assert next(c for c in update.codes if c.code == WITHDRAWN_CODE).usable is False
    assert client_of(platform).tax_codes(None).withdrawn == ()  # a desk with no table: nothing to withdraw
    assert client_of(platform).tax_codes(NEW_VERSION).codes == ()


def _one_bad(body: dict[str, Any], index: int, **changes: Any) -> dict[str, Any]:
    codes = list(body["codes"])
    codes[index] = {**codes[index], **changes}
    return {**body, "codes": codes}


MALFORMED: dict[str, Callable[[dict[str, Any]], Any]] = {
    "a rate as a label": lambda body: _one_bad(body, 4000, rates=["13%"]),
    "a code of 18 digits": lambda body: _one_bad(body, 17, code="304020101000000000"),
    "full-width digits": lambda body: _one_bad(body, 17, code="３０４０２０１０１００００００００００"),
    "an unknown policy": lambda body: _one_bad(body, 2, policies=["99"]),
    "no name": lambda body: _one_bad(body, 2, name=" "),
    "usable as text": lambda body: _one_bad(body, 2, usable="Y"),
    "the same code twice": lambda body: {**body, "codes": [*body["codes"], body["codes"][5]]},
    "codes not a list": lambda body: {**body, "codes": {"a": 1}},
    "a withdrawn code too short": lambda body: {**body, "withdrawn": ["304"]},
    "withdrawn missing": lambda body: {k: v for k, v in body.items() if k != "withdrawn"},
    "an empty version": lambda body: {**body, "version": ""},
    "a version as a number": lambda body: {**body, "version": 33.0},
    "not an object": lambda body: [body],
}


@pytest.mark.parametrize("damage", list(MALFORMED), ids=list(MALFORMED))
def test_a_malformed_answer_is_a_transient_failure_and_changes_nothing(store, platform, newer_table, damage):
    table = PlatformTaxCodes(newer_table)
    good = table.answer("32.0")
    bad: Any = MALFORMED[damage](json.loads(json.dumps(good)))
    table.answer = lambda since: bad  # type: ignore[method-assign]
    platform.httpd.tax_codes = table
    add_item("系统维护", WITHDRAWN_CODE)
    before = snapshot()
    with pytest.raises(TransientFailure, match="tax-codes"):
        refresh_from_platform(client_of(platform))
    assert snapshot() == before


def test_an_answer_that_is_not_json_changes_nothing(store, platform, newer_table):
    platform.httpd.tax_codes = PlatformTaxCodes(newer_table)
    before = snapshot()
    platform.set_faults(mode="flaky", fail_rate=1.0)
    platform.faults.injected = FLAKY_KINDS.index(("garbage", True))  # flaky fails in turn: this one next
    with pytest.raises(TransientFailure, match="not JSON"):
        refresh_from_platform(client_of(platform))
    platform.set_faults(mode="down", retry_after=0)
    with pytest.raises(TransientFailure):
        refresh_from_platform(client_of(platform))
    assert snapshot() == before


# --- the refresh ------------------------------------------------------------------------------------


def test_a_refresh_takes_the_newer_table_and_flags_the_items_on_a_withdrawn_code(store, platform, newer_table):
    platform.httpd.tax_codes = PlatformTaxCodes(newer_table)
    add_item("系统维护", WITHDRAWN_CODE)
    add_item("旧系统维护", WITHDRAWN_CODE, retired=True)  # retired: not flagged
    add_item("软件开发", "3040201010000000000")
    assert search_codes("民航发展基金") == []

    result = refresh_from_platform(client_of(platform), clerk="张三")

    assert (result.version, result.previous) == (NEW_VERSION, "32.0")
    assert (result.added, result.changed, result.withdrawn) == (1, 1, 1)
    assert result.items_flagged == ["系统维护"]
    assert table_version() == NEW_VERSION and TaxCodeRow.select().count() == 4237
    withdrawn = get_code(WITHDRAWN_CODE)
    assert withdrawn is not None and not withdrawn.usable and withdrawn.name == "软件维护服务"  # kept, unusable
    changed = get_code(CHANGED_CODE)
    assert changed is not None and changed.explanation == CHANGED_EXPLANATION and changed.version == NEW_VERSION
    new = get_code(NEW_CODE)
    assert new is not None and new.usable and new.policies == ("04",) and new.rates == ("0",)
    assert search_codes("民航发展基金")[0].code == NEW_CODE  # by keyword
    assert search_codes("dsmh")[0].code == NEW_CODE  # the pinyin of the new row was computed
    assert all(h.code != WITHDRAWN_CODE for h in search_codes("软件维护"))
    entry = AuditEntry.select().where(AuditEntry.action == "tax_codes_refreshed").get()
    assert entry.clerk == "张三"
    assert json.loads(entry.detail) == {"version": NEW_VERSION, "previous": "32.0", "source": "platform",
                                        "added": 1, "changed": 1, "withdrawn": 1, "items_flagged": 1}

    again = refresh_from_platform(client_of(platform))  # since=33.0: nothing changed, nothing written
    assert (again.version, again.added, again.changed, again.withdrawn) == (NEW_VERSION, 0, 0, 0)
    assert AuditEntry.select().where(AuditEntry.action == "tax_codes_refreshed").count() == 1


def test_the_refreshed_table_survives_reopening(data_dir, platform, newer_table):
    platform.httpd.tax_codes = PlatformTaxCodes(newer_table)
    open_store(data_dir)
    refresh_from_platform(client_of(platform))
    store = open_store(data_dir)  # the shipped 32.0 must not replace it
    try:
        assert table_version() == NEW_VERSION and TaxCodeRow.select().count() == 4237
        hit = get_code(WITHDRAWN_CODE)
        assert hit is not None and not hit.usable
    finally:
        store.close()


def test_a_withdrawn_code_the_store_lacks_is_counted_not_inserted(store, platform, newer_table):
    table = PlatformTaxCodes(newer_table)
    body = table.answer("32.0")
    unknown = "9999999999999999999"
    table.answer = lambda since: {**body, "withdrawn": [*body["withdrawn"], unknown]}  # type: ignore[method-assign]
    platform.httpd.tax_codes = table
    result = refresh_from_platform(client_of(platform))
    assert result.withdrawn == 2 and get_code(unknown) is None


def test_an_older_table_on_the_platform_is_refused(store, platform, newer_table):
    platform.httpd.tax_codes = PlatformTaxCodes(newer_table)
    refresh_from_platform(client_of(platform))
    platform.httpd.tax_codes = PlatformTaxCodes()  # back to 32.0: it does not know 33.0, sends all of 32.0
    before = snapshot()
    with pytest.raises(OlderTable):
        refresh_from_platform(client_of(platform))
    assert snapshot() == before


def test_the_same_table_sent_whole_again_writes_nothing(store, platform):
    table = PlatformTaxCodes()
    whole = table.answer(None)  # 32.0, as the store has it
    table.answer = lambda since: whole  # type: ignore[method-assign]
    platform.httpd.tax_codes = table
    before = snapshot()
    result = refresh_from_platform(client_of(platform))
    assert (result.version, result.added, result.changed, result.withdrawn) == ("32.0", 0, 0, 0)
    assert snapshot() == before
