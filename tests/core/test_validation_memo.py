"""The parties' memo (PartyMemo, passed to parse_invoice by the reconciliation) changes no outcome: the same
bodies parsed with and without it give equal invoices, or the same errors in the same order, including the
bodies that fail and the parties the memo does not remember (not a dict, a value not a str/bool/None).
And text() (one search before the two that say which) gives the same text and errors as the two searches did."""

from __future__ import annotations

import itertools
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from app.base.resources import read_tax_code_rows
from app.core.errors import ValidationFailed
from app.core.fields import Collector, text
from app.core.taxcodes import codes_from_table
from app.core.validation import PartyMemo, parse_invoice, parse_received_invoice
from tests.helpers.bodies import SOFTWARE

CODES = {code.code: code for code in codes_from_table(read_tax_code_rows())}
SELLER = {"name": "北京某某科技有限公司", "tax_id": "91110108MA0123456G"}
BAD_CHECK = "91110108MA0123456X"  # the check character fails: an error unless confirmed
BUYERS: list[Any] = [
    {"name": "北京客户贸易有限公司", "tax_id": "91110000600037341L"},
    {"name": "北京客户贸易有限公司", "tax_id": "91110000600037341L", "address": "北京市朝阳区建国路88号",
     "phone": "010-85551234", "bank": "招商银行北京分行", "account": "110901234510201"},
    {"name": "小明", "natural_person": True},
    {"name": "小明", "natural_person": True, "id_type": "201"},  # the number left out
    {"name": "小明", "natural_person": True, "id_type": "999", "id_number": "1101"},
    {"name": "明", "natural_person": True},  # a person's name of one character
    {"name": "某某公司"},  # 4 characters, not a person: asks to be confirmed
    {"name": "某某公司", "natural_person": "true"},  # a str where a bool goes
    {"name": "某某公司", "natural_person": 1},  # an int: not remembered (1 == True)
    {"name": "北京客户贸易有限公司", "tax_id": BAD_CHECK},
    {"name": "北京客户贸易有限公司", "tax_id": "91110000600037341LXXXXX"},  # too long
    {"name": "北京客户贸易有限公司", "tax_id": " 91110000600037341l "},  # normalized
    {"name": "bad \\u4e2d escape"},
    {"name": "bad \x07 bell"},
    {"name": ""},
    {"name": 12345},  # not text: not remembered
    {"name": ["a list"]},  # unhashable: not remembered
    None,
    "not an object",
    {},
]
SELLERS: list[Any] = [SELLER, {**SELLER, "tax_id": BAD_CHECK}, {**SELLER, "address": "\x00"}, {"name": "卖方"}]


def _body(seller: Any, buyer: Any, kind: str) -> dict[str, Any]:
    return {"kind": kind, "seller": seller, "buyer": buyer, "drawer": "张三",
            "lines": [{"tax_code": SOFTWARE, "item_name": "软件开发", "quantity": "1", "unit_price": "1000",
                       "tax_rate": "0.06"}]}


def _outcome(parse: Any, body: Any, **kwargs: Any) -> tuple[str, Any]:
    try:
        return "ok", parse(body, codes=CODES, **kwargs)
    except ValidationFailed as failed:
        return "refused", list(failed.errors)


CASES = [(seller, buyer, kind, confirmed, short)
         for seller, buyer, kind, confirmed, short in itertools.product(
             SELLERS, BUYERS, ("normal", "special"), ((), (BAD_CHECK,)), (False, True))]


def test_the_same_outcome_with_and_without_the_memo_errors_included():
    memo = PartyMemo()
    for _ in range(2):  # the second round is answered from the memo
        for seller, buyer, kind, confirmed, short in CASES:
            body = _body(seller, buyer, kind)
            kwargs = {"confirmed_tax_ids": confirmed, "confirmed_short_name": short}
            plain = _outcome(parse_invoice, body, **kwargs)
            assert _outcome(parse_invoice, body, memo=memo, **kwargs) == plain, (seller, buyer, kind, confirmed, short)
            received = _outcome(parse_received_invoice, body, confirmed_tax_ids=confirmed)
            assert _outcome(parse_received_invoice, body, confirmed_tax_ids=confirmed, memo=memo) == received
    assert memo.hits > len(CASES)
    outcomes = {_outcome(parse_invoice, _body(s, b, k), confirmed_tax_ids=c, confirmed_short_name=f)[0]
                for s, b, k, c, f in CASES}
    assert outcomes == {"ok", "refused"}  # both kinds are compared


def test_the_key_tells_apart_what_the_outcome_depends_on():
    """One memo, bodies differing in one input each: each gets its own outcome, not a neighbour's."""
    memo = PartyMemo()
    short = {"name": "某某公司"}
    assert _outcome(parse_invoice, _body(SELLER, short, "normal"), memo=memo)[0] == "refused"
    assert _outcome(parse_invoice, _body(SELLER, short, "normal"), memo=memo, confirmed_short_name=True)[0] == "ok"
    bad = {"name": "北京客户贸易有限公司", "tax_id": BAD_CHECK}
    assert _outcome(parse_invoice, _body(SELLER, bad, "normal"), memo=memo)[0] == "refused"
    assert _outcome(parse_invoice, _body(SELLER, bad, "normal"), memo=memo, confirmed_tax_ids=[BAD_CHECK])[0] == "ok"
    no_id = {"name": "北京客户贸易有限公司"}
    assert _outcome(parse_invoice, _body(SELLER, no_id, "normal"), memo=memo)[0] == "ok"
    assert _outcome(parse_invoice, _body(SELLER, no_id, "special"), memo=memo)[0] == "refused"  # tax id required
    # The same object as the seller and as the buyer: errors named under each one's prefix.
    _, seller_errors = _outcome(parse_invoice, _body({"name": ""}, BUYERS[0], "normal"), memo=memo)
    _, buyer_errors = _outcome(parse_invoice, _body(SELLER, {"name": ""}, "normal"), memo=memo)
    assert {e.field.split(".")[0] for e in seller_errors} == {"seller"}
    assert {e.field.split(".")[0] for e in buyer_errors} == {"buyer"}


def test_the_memo_is_bounded():
    memo = PartyMemo(size=3)
    for i in range(20):
        buyer = {"name": f"北京客户贸易有限公司{i}", "tax_id": "91110000600037341L"}
        plain = _outcome(parse_invoice, _body(SELLER, buyer, "normal"))
        assert _outcome(parse_invoice, _body(SELLER, buyer, "normal"), memo=memo) == plain
        assert len(memo) <= 3


# --- text(): one search first ------------------------------------------------------------------------

UNICODE_ESCAPE = re.compile(r"\\[uU][0-9a-fA-F]{4}")
UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def _text_before(value: Any, field: str, out: Collector, limit: int, required: bool = False) -> str:
    """text() as it was: the two searches one after the other."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        out.add(field, "应为文本", "must be text")
        return ""
    cleaned = value.strip()
    if required and not cleaned:
        out.add(field, "不能为空", "is required")
    elif len(cleaned) > limit:
        out.add(field, f"不能超过{limit}个字", f"must be at most {limit} characters")
    elif UNICODE_ESCAPE.search(cleaned):
        out.add(field, "含有 \\uXXXX 形式的转义，请直接输入文字",
                "holds a \\uXXXX escape: type the characters themselves")
    elif (bad := UNPRINTABLE.search(cleaned)) is not None:
        out.add(field, f"含有不可打印的字符（U+{ord(bad.group()):04X}）",
                f"holds a character that cannot be printed (U+{ord(bad.group()):04X})")
    return cleaned


PIECES = st.sampled_from(["a", "中", " ", "\t", "\n", "\\", "u", "U", "4e2d", "00e9", "\x00", "\x07", "\x7f", "\x9f",
                          "\xa0", "\ud800", "\udfff", "🧾", "\\u12", "\\uZZZZ", "\\U0041"])


@settings(max_examples=600, deadline=None)
@given(st.one_of(st.lists(PIECES, max_size=8).map("".join), st.text(max_size=12), st.none(), st.integers()),
       st.integers(min_value=0, max_value=10), st.booleans())
def test_text_gives_what_the_two_searches_gave(value, limit, required):
    before, after = Collector(), Collector()
    assert text(value, "f", after, limit, required) == _text_before(value, "f", before, limit, required)
    assert after.errors == before.errors


def test_text_still_finds_an_escape_before_an_unprintable_character():
    out = Collector()
    text("\x07 then \\u4e2d", "f", out, 100)
    assert [e.message_en for e in out.errors] == ["holds a \\uXXXX escape: type the characters themselves"]
    out = Collector()
    text("fine \x07", "f", out, 100)
    assert [e.message_en for e in out.errors] == ["holds a character that cannot be printed (U+0007)"]


def test_the_prefix_is_part_of_the_key():
    """parse_invoice names the seller and the buyer by their flag too; the memo keys on the prefix itself."""
    memo = PartyMemo()
    for prefix in ("seller", "other"):
        out = Collector()
        memo.party({"name": ""}, prefix, out, tax_id_required=False, confirmed=frozenset(), buyer=False,
                   confirmed_short_name=True)
        assert [e.field for e in out.errors] == [f"{prefix}.name"]
