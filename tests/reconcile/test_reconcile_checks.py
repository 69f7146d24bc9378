"""Issue 13: reconciliation got fast without a check dropped. Every record of every page is checked by the desk's
rules before anything is believed of it (its envelope, its body as an invoice, its content against the store),
wherever it falls in a page, whatever the page size, and a record refused is never matched."""

from __future__ import annotations

import pytest

from app.services import reconcile as rec
from app.store.models import Invoice
from tests.helpers.platform import platform_sql
from tests.reconcile.test_reconcile_streaming import TODAY, _issue_and_upload

# (position in the listing, how the platform's record is damaged, what the desk must say)
DAMAGES = [
    (0, "UPDATE v2_invoice SET body = json_set(body, '$.lines[0].amount', '999.00') WHERE number = ?", "第1行"),
    (4, "UPDATE v2_invoice SET channel = 'fax' WHERE number = ?", "开具渠道"),
    (5, "UPDATE v2_invoice SET body = json_set(body, '$.lines[0].tax_code', '9999999999999999999') WHERE number = ?",
     "不在现行税收分类编码表中"),
    (6, "UPDATE v2_invoice SET accepted_at = 'yesterday' WHERE number = ?", "接受时间"),
    (9, "UPDATE v2_invoice SET body = json_set(body, '$.buyer.tax_id', '91110108MA0123456') WHERE number = ?",
     "17位纳税人识别号格式不正确"),
    (11, "UPDATE v2_invoice SET body = json_set(body, '$.total_tax', '61.00') WHERE number = ?", "与明细之和"),
]
# Parses as an invoice, but is not the one the store holds: only the content check sees it.
CONTENT = (7, "UPDATE v2_invoice SET body = json_set(body, '$.lines[0].item_name', '软件测试', '$.lines[0].name', "
              "'*' || json_extract(body, '$.lines[0].short_name') || '*软件测试') WHERE number = ?")


@pytest.fixture
def damaged(online):
    numbers = _issue_and_upload(online, 12)
    official = [Invoice.get(Invoice.provisional_number == n).official_number for n in numbers]
    for position, sql, _ in DAMAGES:
        platform_sql(online, sql, official[position])
    platform_sql(online, CONTENT[1], official[CONTENT[0]])
    return numbers


@pytest.mark.parametrize("page_size", [1, 2, 4, 5, 7, 12, 500])
def test_every_record_is_checked_wherever_it_falls_in_a_page(damaged, client, page_size):
    numbers = damaged
    report = rec.reconcile(client, TODAY, TODAY, page_size=page_size)
    assert report.platform_count == 12 and report.local_count == 12
    differences = {d.number: d for d in report.differences}
    refused_at = {numbers[position]: said for position, _, said in DAMAGES}
    assert set(differences) == {*refused_at, numbers[CONTENT[0]]}
    assert {d.kind for d in report.differences} == {rec.MISMATCH}
    for number, said in refused_at.items():
        difference = differences[number]
        assert difference.refused and said in difference.refused, (number, said, difference.refused)
        assert difference.invoice is None and not difference.can_import  # never believed
    content = differences[numbers[CONTENT[0]]]
    assert not content.refused and "内容不同" in content.detail
    assert report.matched == 12 - len(DAMAGES) - 1


def test_a_record_that_is_the_stored_invoice_is_believed_by_its_content_hash_the_others_are_parsed(
        damaged, client, monkeypatch):
    """A record whose envelope holds and whose body is, field for field, the invoice stored here (its content hash)
    stands on the check the desk made when it issued that invoice; every other record is parsed by the rules."""
    numbers = damaged
    official = {n: Invoice.get(Invoice.provisional_number == n).official_number for n in numbers}
    parsed: list[str] = []
    real = rec.parse_record

    def counting(record, rules=None):
        parsed.append(record["number"])
        return real(record, rules)

    monkeypatch.setattr(rec, "parse_record", counting)
    report = rec.reconcile(client, TODAY, TODAY)
    damaged_numbers = {official[numbers[position]] for position, _, _ in DAMAGES} | {official[numbers[CONTENT[0]]]}
    assert set(parsed) == damaged_numbers
    assert report.matched == 12 - len(damaged_numbers)
