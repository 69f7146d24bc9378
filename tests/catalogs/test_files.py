"""Items and customers in and out of .xlsx and .csv files: all or nothing, errors by row and column."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]

from app.core.catalog_rules import MAX_FILE_ROWS, CellError
from app.core.errors import ValidationFailed
from app.services.catalog_files import export_customers, export_items, import_customers, import_items
from app.services.customers import create_customer
from app.services.items import create_item, delete_item
from app.store.catalog_queries import ItemEntry, list_customers, list_items
from app.store.models import AuditEntry, Buyer
from tests.catalogs.helpers import counts, write_xlsx
from tests.helpers.bodies import BUYER_TAX_ID, CABBAGE, PRINTER, SOFTWARE

HEADER = ["项目名称", "税收分类编码", "规格型号", "单位", "单价", "含税", "税率", "优惠政策标识"]
FAILING_TAX_ID = "91110105MA01ABCD10"


def without_ids(entries: list[ItemEntry]) -> list[ItemEntry]:
    return sorted((dataclasses.replace(e, id=0) for e in entries), key=lambda e: (e.item_name, e.spec))


def some_items() -> None:
    create_item({"item_name": "软件开发", "tax_code": SOFTWARE, "unit": "项", "unit_price": "1000"})
    create_item({"item_name": "激光打印机", "tax_code": PRINTER, "spec": "HP-M404dn", "unit": "台",
                 "unit_price": "1899.5", "price_includes_tax": True})
    create_item({"item_name": "有机白菜", "tax_code": CABBAGE, "unit": "千克", "unit_price": "4.5", "policy": "03"})
    # A price a float cannot hold, and text Excel would run as a formula.
    create_item({"item_name": "电阻", "tax_code": PRINTER, "spec": "=HYPERLINK(\"x\")", "unit": "@个",
                 "unit_price": "12345678.1234567890123"})
    create_item({"item_name": "-负号开头", "tax_code": PRINTER, "spec": "+1"})


def test_a_file_with_a_bad_row_stores_nothing_and_names_row_and_column(store, tmp_path):
    path = write_xlsx(tmp_path / "items.xlsx", [
        HEADER,
        ["软件开发", SOFTWARE, "", "项", 1000, "否", "6%", ""],
        ["打印机", "1090511000000000000", "", "台", 1899.5, "是", "13%", ""],
        ["有机白菜", CABBAGE, "", "千克", 4.5, "", "免税", "03"],
    ])
    before = counts()
    with pytest.raises(ValidationFailed) as failed:
        import_items(path)
    (error,) = failed.value.errors
    assert isinstance(error, CellError)
    assert (error.field, error.row, error.column_zh) == ("rows[3].tax_code", 3, "税收分类编码")
    assert "第3行“税收分类编码”列" in failed.value.describe("zh") and "汇总项" in failed.value.describe("zh")
    assert "row 3, column 税收分类编码 (tax code)" in failed.value.describe("en")
    assert failed.value.exit_code == 2
    assert counts() == before
    assert not AuditEntry.select().where(AuditEntry.action == "items_imported").exists()


def test_every_bad_row_is_named(store, tmp_path):
    path = write_xlsx(tmp_path / "items.xlsx", [
        HEADER,
        [None] * 8,  # a blank row keeps the numbering as Excel shows it
        ["*软件*开发", SOFTWARE, "", "", "abc", "", "", ""],
        ["复印机", PRINTER, "", "", "", "", "6%", ""],
        ["打印机", PRINTER, "", "", "", "", "", ""],
        ["打印机", PRINTER, "", "", "", "", "", ""],
    ])
    with pytest.raises(ValidationFailed) as failed:
        import_items(path)
    assert [e.field for e in failed.value.errors] == [
        "rows[3].item_name", "rows[3].unit_price", "rows[4].tax_rate", "rows[6].item_name"]
    assert "与第5行重复" in failed.value.errors[-1].message_zh


def test_items_round_trip_through_xlsx_and_csv(store, tmp_path):
    some_items()
    exported = list_items()
    for name in ("items.xlsx", "items.csv"):
        path = tmp_path / name
        assert export_items(path) == 5
        for entry in exported:
            delete_item(entry.id)
        assert list_items() == []
        result = import_items(path, clerk="张三")
        assert (result.created, result.updated) == (5, 0)
        assert without_ids(list_items()) == without_ids(exported)
        exported = list_items()


def test_an_export_is_text_where_it_must_be_and_neutralised(store, tmp_path):
    some_items()
    export_items(tmp_path / "items.xlsx")
    book = load_workbook(tmp_path / "items.xlsx")
    sheet = book.active
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    assert [c.value for c in next(sheet.iter_rows(max_row=1))] == HEADER
    printer = rows["激光打印机"]
    assert printer[1].value == PRINTER and printer[1].data_type == "s" and printer[1].number_format == "@"
    assert printer[4].value == 1899.5 and printer[5].value == "是" and printer[6].value == "13%"
    resistor = rows["电阻"]
    assert resistor[2].value == "'=HYPERLINK(\"x\")" and resistor[2].data_type == "s"
    assert resistor[3].value == "'@个" and resistor[4].value == "12345678.1234567890123"
    assert "'-负号开头" in rows and rows["'-负号开头"][2].value == "'+1"
    assert rows["有机白菜"][6].value == "免税" and rows["有机白菜"][7].value == "03"

    export_items(tmp_path / "items.csv")
    raw = (tmp_path / "items.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert lines[0] == HEADER
    assert any(line[1] == "\t" + PRINTER for line in lines[1:])
    assert any(line[2] == "'=HYPERLINK(\"x\")" for line in lines[1:])


def test_an_import_updates_the_item_of_the_same_name_and_spec_and_only_its_columns(store, tmp_path):
    item = create_item({"item_name": "激光打印机", "tax_code": PRINTER, "spec": "M404", "unit": "台",
                        "unit_price": "1899"})
    path = write_xlsx(tmp_path / "prices.xlsx", [["Item Name", "spec", "Unit Price"], ["激光打印机", "M404", 1999],
                                                 ["软件开发", None, None]])
    with pytest.raises(ValidationFailed) as failed:  # a new item needs its code
        import_items(path)
    assert [e.field for e in failed.value.errors] == ["rows[3].tax_code"]
    path = write_xlsx(tmp_path / "prices.xlsx", [["item_name", "TAX CODE", "spec", "price"],
                                                 ["激光打印机", None, "M404", 1999],
                                                 ["软件开发", SOFTWARE, None, None]])
    with pytest.raises(ValidationFailed):  # a blank code is a blank code
        import_items(path)
    path = write_xlsx(tmp_path / "prices.xlsx", [["Item Name", "spec", "Unit Price"], ["激光打印机", "M404", 1999]])
    result = import_items(path)
    assert (result.created, result.updated) == (0, 1)
    (entry,) = list_items()
    assert (entry.id, entry.unit, str(entry.unit_price), entry.tax_rate) == (item.id, "台", "1999", "0.13")


def test_a_bad_header_or_an_unknown_format_is_refused(store, tmp_path):
    unknown = write_xlsx(tmp_path / "a.xlsx", [["项目名称", "税收分类编码", "颜色"], ["软件开发", SOFTWARE, "红"]])
    with pytest.raises(ValidationFailed) as failed:
        import_items(unknown)
    assert failed.value.errors[0].field == "rows[1]" and "颜色" in failed.value.describe()
    missing = write_xlsx(tmp_path / "b.xlsx", [["税收分类编码", "单价"], [SOFTWARE, 1]])
    with pytest.raises(ValidationFailed) as failed:
        import_items(missing)
    assert failed.value.errors[0].field == "file" and "项目名称" in failed.value.describe()
    unnamed = write_xlsx(tmp_path / "c.xlsx", [["项目名称", "税收分类编码"], ["软件开发", SOFTWARE, "多出来的"]])
    with pytest.raises(ValidationFailed) as failed:
        import_items(unnamed)
    assert failed.value.errors[0].field == "rows[2]" and "C" in failed.value.describe()
    (tmp_path / "d.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    (tmp_path / "e.xlsx").write_text("not a zip", encoding="utf-8")
    for path in (tmp_path / "d.xls", tmp_path / "e.xlsx", tmp_path / "none.csv", tmp_path / "f.txt"):
        with pytest.raises(ValidationFailed) as failed:
            import_items(path)
        assert failed.value.errors[0].field == "file"
    assert counts()[0] == 0


def test_a_file_over_the_row_limit_is_refused(store, tmp_path):
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["项目名称", "税收分类编码"])
        writer.writerows([f"项目{i}", SOFTWARE] for i in range(MAX_FILE_ROWS + 1))
    with pytest.raises(ValidationFailed) as failed:
        import_items(path)
    assert failed.value.errors[0].field == "file" and "20000" in failed.value.describe()
    assert counts()[0] == 0


def test_a_csv_excel_saved_in_the_chinese_code_page_is_read(store, tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes(f"项目名称,税收分类编码,税率\r\n软件开发,{SOFTWARE},6%\r\n".encode("gb18030"))
    assert import_items(path).created == 1
    assert list_items()[0].printed_name == "*信息技术服务*软件开发"


def test_customers_round_trip_and_a_failed_check_character_needs_its_column(store, tmp_path):
    create_customer({"name": "北京客户贸易有限公司", "tax_id": BUYER_TAX_ID, "address": "=北京市朝阳区",
                     "phone": "010-85551234", "bank": "招商银行北京分行", "account": "110901234510201",
                     "email": "cw@example.cn"})
    create_customer({"name": "北京某某有限公司", "tax_id": FAILING_TAX_ID, "tax_id_confirmed": True})
    create_customer({"name": "王小明", "natural_person": True, "id_type": "201", "id_number": "110101199003077777"})
    exported = [dataclasses.replace(e, id=0, updated_at="") for e in list_customers()]
    for name in ("customers.xlsx", "customers.csv"):
        path = tmp_path / name
        assert export_customers(path) == 3
        Buyer.delete().execute()
        assert import_customers(path).created == 3
        assert [dataclasses.replace(e, id=0, updated_at="") for e in list_customers()] == exported

    path = write_xlsx(tmp_path / "new.xlsx", [["名称", "纳税人识别号", "自然人"],
                                              ["北京另一有限公司", "91110105MA01ABCD11", "否"], ["李", None, "是"]])
    with pytest.raises(ValidationFailed) as failed:
        import_customers(path)
    assert [e.field for e in failed.value.errors] == ["rows[2].tax_id", "rows[3].name"]
    assert failed.value.errors[0].overridable and "税号已确认" in failed.value.errors[0].message_zh
    path = write_xlsx(tmp_path / "new.xlsx", [["名称", "纳税人识别号", "税号已确认"],
                                              ["北京另一有限公司", "91110105MA01ABCD11", "是"],
                                              ["北京客户贸易有限公司", BUYER_TAX_ID, None]])
    result = import_customers(path)
    assert (result.created, result.updated) == (1, 1)
    assert Buyer.get(Buyer.name == "北京客户贸易有限公司").address == "=北京市朝阳区"  # not in the file: kept


def test_an_export_to_a_missing_folder_says_so(store, tmp_path):
    with pytest.raises(ValidationFailed) as failed:
        export_items(Path(tmp_path / "nowhere" / "items.xlsx"))
    assert failed.value.errors[0].field == "file"
    assert list(tmp_path.iterdir()) == [tmp_path / "data"]
