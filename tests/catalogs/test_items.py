"""The item catalog on a real store: every rule of an item, the use cases that write it, its read models."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from app.core.catalog_rules import check_item
from app.core.errors import ValidationFailed
from app.services.issuing import issue_invoice
from app.services.items import create_item, delete_item, edit_item, restore_item, retire_item
from app.services.seller import set_seller
from app.store.catalog_queries import ItemEntry, complete_items, get_item, list_items
from app.store.models import AuditEntry, Item, TaxCode
from app.store.taxcodes import StoredTaxCodes
from tests.catalogs.helpers import counts
from tests.helpers.bodies import CABBAGE, PRINTER, SELLER_TAX_ID, SOFTWARE, invoice_body

SUMMARY = "1090511000000000000"  # 电子计算机外部设备及装置: a summary row, not for a line


def stored(item_id: int) -> ItemEntry:
    entry = get_item(item_id)
    assert entry is not None
    return entry


def fields_of(failed: pytest.ExceptionInfo[ValidationFailed]) -> list[str]:
    return [e.field for e in failed.value.errors]


def test_an_item_takes_its_short_name_and_rate_from_its_code(store):
    entry = create_item({"item_name": "软件开发", "tax_code": SOFTWARE, "unit": "项", "unit_price": "1000"},
                        clerk="张三")
    assert (entry.short_name, entry.printed_name, entry.tax_rate, entry.policy) == (
        "信息技术服务", "*信息技术服务*软件开发", "0.06", None)
    assert entry.unit_price == Decimal("1000") and entry.code_usable and not entry.retired
    row = Item.get_by_id(entry.id)
    assert "rjkf" in row.initials.split()
    last = AuditEntry.select().order_by(AuditEntry.id.desc()).first()
    assert last.action == "item_created" and last.clerk == "张三"
    assert json.loads(last.detail)["tax_code"] == SOFTWARE


def test_exempt_is_the_policy_and_the_rate_it_forces(store):
    by_policy = create_item({"item_name": "有机白菜", "tax_code": CABBAGE, "policy": "03"})
    by_rate = create_item({"item_name": "大白菜", "tax_code": CABBAGE, "tax_rate": "免税"})
    by_zero = create_item({"item_name": "小白菜", "tax_code": CABBAGE, "tax_rate": "0", "policy": "3"})
    assert {(e.tax_rate, e.policy) for e in (by_policy, by_rate, by_zero)} == {("exempt", "03")}
    assert create_item({"item_name": "白菜", "tax_code": CABBAGE}).tax_rate == "0.09"


@pytest.mark.parametrize(("fields", "field"), [
    ({"item_name": "", "tax_code": SOFTWARE}, "item_name"),
    ({"item_name": "*信息技术服务*软件开发", "tax_code": SOFTWARE}, "item_name"),
    ({"item_name": "软件*开发", "tax_code": SOFTWARE}, "item_name"),
    ({"item_name": "长" * 601, "tax_code": SOFTWARE}, "item_name"),
    ({"item_name": "打印机", "tax_code": SUMMARY}, "tax_code"),
    ({"item_name": "打印机", "tax_code": "1234567890123456789"}, "tax_code"),
    ({"item_name": "打印机", "tax_code": "10905"}, "tax_code"),
    ({"item_name": "打印机"}, "tax_code"),
    ({"item_name": "打印机", "tax_code": PRINTER, "spec": "x" * 151}, "spec"),
    ({"item_name": "打印机", "tax_code": PRINTER, "unit": "x" * 301}, "unit"),
    ({"item_name": "打印机", "tax_code": PRINTER, "unit_price": "-1"}, "unit_price"),
    ({"item_name": "打印机", "tax_code": PRINTER, "unit_price": "1.12345678901234"}, "unit_price"),
    ({"item_name": "打印机", "tax_code": PRINTER, "unit_price": "abc"}, "unit_price"),
    ({"item_name": "打印机", "tax_code": PRINTER, "price_includes_tax": "maybe"}, "price_includes_tax"),
    ({"item_name": "打印机", "tax_code": PRINTER, "tax_rate": "0.06"}, "tax_rate"),
    ({"item_name": "打印机", "tax_code": PRINTER, "tax_rate": "7%"}, "tax_rate"),
    ({"item_name": "打印机", "tax_code": PRINTER, "policy": "03"}, "policy"),
    ({"item_name": "打印机", "tax_code": PRINTER, "policy": "99"}, "policy"),
    ({"item_name": "白菜", "tax_code": CABBAGE, "tax_rate": "0.09", "policy": "03"}, "tax_rate"),
])
def test_a_bad_item_is_refused_naming_its_field_and_nothing_is_stored(store, fields, field):
    before = counts()
    with pytest.raises(ValidationFailed) as failed:
        create_item(fields)
    assert field in fields_of(failed)
    assert failed.value.exit_code == 2
    assert counts() == before


def test_every_error_is_named_at_once_in_both_languages(store):
    with pytest.raises(ValidationFailed) as failed:
        create_item({"item_name": "*打印机*", "tax_code": SUMMARY, "unit_price": "-5"})
    assert fields_of(failed) == ["item_name", "tax_code", "unit_price"]
    zh, en = failed.value.describe("zh"), failed.value.describe("en")
    assert "税收分类编码" in zh and "汇总项" in zh and "单价" in zh
    assert "tax classification code" in en and "summary row" in en and "unit price" in en


def test_check_item_is_pure_and_small_taxpayers_choose_a_levy_rate(store):
    codes = StoredTaxCodes()
    item, errors = check_item({"item_name": "软件开发", "tax_code": SOFTWARE}, codes, "small")
    assert item is None and [e.field for e in errors] == ["tax_rate"]
    item, errors = check_item({"item_name": "软件开发", "tax_code": SOFTWARE, "tax_rate": "3%"}, codes, "small")
    assert errors == [] and item is not None and item.tax_rate == "0.03"
    item, errors = check_item({"item_name": "软件开发", "tax_code": SOFTWARE, "tax_rate": "6%"}, codes, "small")
    assert item is None and [e.field for e in errors] == ["tax_rate"]


def test_the_sellers_taxpayer_type_holds_the_rate(store):
    set_seller(name="北京某某小店", tax_id=SELLER_TAX_ID, drawer="张三", taxpayer_type="small")
    with pytest.raises(ValidationFailed) as failed:
        create_item({"item_name": "软件开发", "tax_code": SOFTWARE, "tax_rate": "6%"})
    assert fields_of(failed) == ["tax_rate"]
    assert create_item({"item_name": "软件开发", "tax_code": SOFTWARE, "tax_rate": "1%"}).tax_rate == "0.01"


def test_name_and_spec_are_unique(store):
    create_item({"item_name": "激光打印机", "tax_code": PRINTER, "spec": "M404"})
    create_item({"item_name": "激光打印机", "tax_code": PRINTER, "spec": "M405"})
    before = counts()
    with pytest.raises(ValidationFailed) as failed:
        create_item({"item_name": "激光打印机", "tax_code": PRINTER, "spec": "M404"})
    assert fields_of(failed) == ["item_name"] and "编号1" in failed.value.describe()
    assert counts() == before


def test_edit_changes_what_is_given_and_a_new_code_brings_its_rate(store):
    entry = create_item({"item_name": "打印机", "tax_code": PRINTER, "unit": "台", "unit_price": "1899.5"})
    edited = edit_item(entry.id, {"unit_price": "1999", "price_includes_tax": True}, clerk="李四")
    assert (edited.unit, edited.unit_price, edited.price_includes_tax, edited.tax_rate) == (
        "台", Decimal("1999"), True, "0.13")
    moved = edit_item(entry.id, {"tax_code": CABBAGE, "item_name": "白菜"})
    assert (moved.tax_code, moved.tax_rate, moved.printed_name) == (CABBAGE, "0.09", "*蔬菜*白菜")
    cleared = edit_item(entry.id, {"unit_price": ""})
    assert cleared.unit_price is None
    last = AuditEntry.select().order_by(AuditEntry.id.desc()).first()
    assert last.action == "item_edited" and json.loads(last.detail)["changes"] == {"unit_price": ["1999", None]}


def test_a_bad_edit_stores_nothing(store):
    entry = create_item({"item_name": "打印机", "tax_code": PRINTER})
    before = counts()
    with pytest.raises(ValidationFailed) as failed:
        edit_item(entry.id, {"tax_code": SUMMARY, "unit_price": "x"})
    assert fields_of(failed) == ["tax_code", "unit_price"]
    assert counts() == before and get_item(entry.id) == entry
    with pytest.raises(ValidationFailed) as missing:
        edit_item(999, {"unit": "台"})
    assert fields_of(missing) == ["item"]


def test_an_item_used_on_an_invoice_fills_the_line_and_cannot_be_deleted(store, seller):
    item = create_item({"item_name": "软件开发", "tax_code": SOFTWARE, "unit": "项", "unit_price": "1000"})
    issued = issue_invoice(invoice_body(lines=[{"item": item.id, "quantity": "2"}]))
    line = issued.invoice.lines[0]
    assert (line.tax_code, line.name, line.item_name, line.tax_rate) == (
        SOFTWARE, "*信息技术服务*软件开发", "软件开发", "0.06")
    assert line.amount == Decimal("2000.00") and line.item_id == item.id
    assert stored(item.id).use_count == 1

    before = counts()
    with pytest.raises(ValidationFailed) as failed:
        delete_item(item.id)
    assert fields_of(failed) == ["item"]
    assert "停用" in failed.value.describe("zh") and "retire" in failed.value.describe("en")
    assert counts() == before

    retired = retire_item(item.id, clerk="张三")
    assert retired.retired
    assert [e.id for e in list_items()] == [] and [e.id for e in list_items(include_retired=True)] == [item.id]
    assert complete_items("软件") == []
    with pytest.raises(ValidationFailed) as refused:
        issue_invoice(invoice_body(lines=[{"item": item.id, "quantity": "1"}]))
    assert fields_of(refused) == ["lines[0].item"]
    assert not restore_item(item.id).retired
    assert [e.id for e in complete_items("软件")] == [item.id]


def test_an_item_no_invoice_used_is_deleted(store):
    item = create_item({"item_name": "打印机", "tax_code": PRINTER})
    delete_item(item.id, clerk="张三")
    assert get_item(item.id) is None
    last = AuditEntry.select().order_by(AuditEntry.id.desc()).first()
    assert last.action == "item_deleted" and json.loads(last.detail)["item_name"] == "打印机"
    with pytest.raises(ValidationFailed):
        delete_item(item.id)


def test_completion_by_name_code_and_initials_most_used_first(store):
    software = create_item({"item_name": "软件开发", "tax_code": SOFTWARE})
    printer = create_item({"item_name": "激光打印机", "tax_code": PRINTER})
    cabbage = create_item({"item_name": "有机白菜", "tax_code": CABBAGE})
    Item.update(use_count=5).where(Item.id == cabbage.id).execute()
    Item.update(use_count=3).where(Item.id == printer.id).execute()
    assert [e.id for e in complete_items("打印")] == [printer.id]
    assert [e.id for e in complete_items("rjkf")] == [software.id]
    assert [e.id for e in complete_items("JG")] == [printer.id]
    assert [e.id for e in complete_items("30402")] == [software.id]
    assert [e.id for e in complete_items("10")] == [cabbage.id, printer.id]
    assert [e.id for e in complete_items("")] == [cabbage.id, printer.id, software.id]
    assert [e.id for e in complete_items("", limit=1)] == [cabbage.id]
    assert complete_items("%") == [] and complete_items("_") == []


def test_an_item_whose_code_was_withdrawn_is_flagged(store):
    item = create_item({"item_name": "打印机", "tax_code": PRINTER})
    TaxCode.update(usable=False).where(TaxCode.code == PRINTER).execute()
    assert not stored(item.id).code_usable
    assert [e.code_usable for e in list_items()] == [False]
    with pytest.raises(ValidationFailed) as failed:
        edit_item(item.id, {"unit": "台"})
    assert fields_of(failed) == ["tax_code"] and "已停用" in failed.value.describe()
    TaxCode.delete().where(TaxCode.code == PRINTER).execute()
    unknown = stored(item.id)
    assert (unknown.short_name, unknown.printed_name, unknown.code_usable) == ("", "", False)
