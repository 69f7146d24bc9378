"""The 数电 XML (shudian-rules.md section 8) and the export service and command around it, on the real store."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from app.core.capitals import amount_in_capitals
from app.core.errors import BadInput, DeskError, ValidationFailed
from app.core.invoice import Invoice
from app.core.legacy import parse_legacy_invoice
from app.printing.einvoice_xml import NotAShudianInvoice, invoice_xml
from app.services.export import PDF, XML, export_invoices
from app.services.issuing import issue_invoice
from app.store.models import RedLetterForm
from app.store.queries import get_invoice
from tests.helpers.bodies import BUYER_TAX_ID, CABBAGE, SELLER_TAX_ID, SOFTWARE, full_body, invoice_body
from tests.helpers.cli import run_cli
from tests.helpers.platform import accept
from tests.helpers.red import red_on_form

BLUE = "26110000000000000101"
RED = "26110000000000000102"

# Section 8's element paths, in document order (an IssuItemInformation per line, RedEInvoice on red only).
HEADER = ["Header/EIid", "Header/EInvoiceTag", "Header/Version", "Header/InherentLabel/InIssuType/LabelCode",
          "Header/InherentLabel/EInvoiceType/LabelCode", "Header/InherentLabel/GeneralOrSpecialVAT/LabelCode",
          "Header/InherentLabel/TaxpayerType/LabelCode", "Header/UndefinedLabel/Label"]
SELLER = ["SellerIdNum", "SellerName", "SellerAddr", "SellerTelNum", "SellerBankName", "SellerBankAccNum"]
BUYER = ["BuyerIdNum", "BuyerName", "BuyerTelNum", "BuyerAddr", "BuyerBankName", "BuyerBankAccNum",
         "BuyerHandlingName"]
BASIC = ["TotalAmWithoutTax", "TotalTaxAm", "TotalTax-includedAmount", "TotalTax-includedAmountInChinese", "Drawer",
         "RequestTime"]
ITEM = ["ItemName", "SpecMod", "MeaUnits", "Quantity", "UnPrice", "Amount", "TaxRate", "ComTaxAm",
        "TotaltaxIncludedAmount", "TaxClassificationCode"]
SUPERVISION = ["InvoiceNumber", "IssueTime", "TaxBureauCode", "TaxBureauName", "ptbh"]


def children(element: ET.Element | None) -> list[str]:
    assert element is not None
    return [child.tag for child in element]


def node(root: ET.Element, path: str) -> ET.Element:
    found = root.find(path)
    assert found is not None, path
    return found


def stored(number: str) -> Invoice:
    invoice = get_invoice(number)
    assert invoice is not None and invoice.issued_at is not None, number
    return invoice


def issued_on(invoice: Invoice, form: str) -> str:
    assert invoice.issued_at is not None
    return invoice.issued_at.strftime(form)


def text(root: ET.Element, path: str) -> str:
    found = root.find(path)
    assert found is not None, path
    return found.text or ""


def labels(root: ET.Element) -> list[tuple[str, str, str]]:
    return [(text(label, "LabelType"), text(label, "LabelCode"), text(label, "LabelName"))
            for label in root.iterfind("Header/UndefinedLabel/Label")]


def items(root: ET.Element) -> list[dict[str, str]]:
    return [{child.tag: child.text or "" for child in item}
            for item in root.iterfind("EInvoiceData/IssuItemInformation")]


def issued_and_accepted(body, official: str) -> str:
    number = issue_invoice(body).number
    accept(number, official)
    return number


def discounted_body():
    """A company buyer; a discounted software line and its discount; an exempt line."""
    return full_body(kind="special", show_buyer_bank=True, show_seller_bank=True, payee="王五", reviewer="赵六",
                     lines=[{"tax_code": SOFTWARE, "item_name": "软件开发", "spec": "V2.0", "unit": "项",
                             "quantity": "2", "unit_price": "500", "tax_rate": "0.06"},
                            {"nature": "discount", "amount": "-100"},
                            {"tax_code": CABBAGE, "item_name": "有机白菜", "unit": "千克", "quantity": "12",
                             "unit_price": "45", "tax_rate": "0", "policy": "03"}])


def person_body():
    return invoice_body(buyer={"name": "王小五", "natural_person": True, "id_type": "201",
                               "id_number": "110101199003071234"})


def test_the_xml_holds_section_8s_tree_in_order(seller, tmp_path: Path):
    number = issued_and_accepted(discounted_body(), BLUE)
    invoice = stored(number)
    written = export_invoices([number], xml_dir=tmp_path, pdf_dir=None)
    assert [(f.kind, f.path, f.official_number) for f in written] == [(XML, tmp_path / f"{BLUE}.xml", BLUE)]
    raw = (tmp_path / f"{BLUE}.xml").read_bytes()
    assert raw.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(raw)
    assert root.tag == "EInvoice"
    assert children(root) == ["Header", "EInvoiceData", "SellerAuthentication", "TaxSupervisionInfo"]
    for path in HEADER:
        assert root.find(path) is not None, path
    assert children(root.find("Header")) == ["EIid", "EInvoiceTag", "Version", "InherentLabel", "UndefinedLabel"]
    assert children(root.find("Header/InherentLabel")) == ["InIssuType", "EInvoiceType", "GeneralOrSpecialVAT",
                                                            "TaxpayerType"]
    data = node(root, "EInvoiceData")
    assert children(data) == ["SellerInformation", "BuyerInformation", "BasicInformation", "IssuItemInformation",
                              "IssuItemInformation", "IssuItemInformation", "SpecificInformation",
                              "AdditionalInformation"]
    assert children(data.find("SellerInformation")) == SELLER
    assert children(data.find("BuyerInformation")) == BUYER
    assert children(data.find("BasicInformation")) == BASIC
    assert all(children(item) == ITEM for item in data.iterfind("IssuItemInformation"))
    assert children(node(data, "SpecificInformation")) == [] and not node(data, "SpecificInformation").text
    assert children(data.find("AdditionalInformation")) == ["Remark"]
    assert children(root.find("SellerAuthentication")) == ["AuthenticationMethods"]
    assert children(root.find("TaxSupervisionInfo")) == SUPERVISION

    # The header's values.
    assert text(root, "Header/EIid") == BLUE
    assert text(root, "Header/EInvoiceTag") == "SWEI1100" and text(root, "Header/Version") == "0.36"
    assert text(root, "Header/InherentLabel/InIssuType/LabelCode") == "Y"
    assert text(root, "Header/InherentLabel/EInvoiceType/LabelCode") == "01"
    assert text(root, "Header/InherentLabel/GeneralOrSpecialVAT/LabelCode") == "01"  # special
    assert text(root, "Header/InherentLabel/TaxpayerType/LabelCode") == "1"
    # A platform-channel invoice: the platform issued it (4); a 免税 line.
    assert labels(root) == [("开具方式", "4", "第三方平台开具"), ("特定征税方式", "04", "免税")]

    # The parties.
    assert text(root, "EInvoiceData/SellerInformation/SellerIdNum") == SELLER_TAX_ID
    assert text(root, "EInvoiceData/SellerInformation/SellerName") == "北京某某科技有限公司"
    assert text(root, "EInvoiceData/SellerInformation/SellerBankAccNum") == "0200001234567890123"
    assert text(root, "EInvoiceData/BuyerInformation/BuyerIdNum") == BUYER_TAX_ID
    assert text(root, "EInvoiceData/BuyerInformation/BuyerName") == "北京客户贸易有限公司"
    assert text(root, "EInvoiceData/BuyerInformation/BuyerAddr") == "北京市朝阳区建国路88号"
    assert text(root, "EInvoiceData/BuyerInformation/BuyerBankName") == "招商银行北京分行"

    # The totals: 1000 - 100 at 6 % and 540 exempt.
    assert text(root, "EInvoiceData/BasicInformation/TotalAmWithoutTax") == "1440.00"
    assert text(root, "EInvoiceData/BasicInformation/TotalTaxAm") == "54.00"
    assert text(root, "EInvoiceData/BasicInformation/TotalTax-includedAmount") == "1494.00"
    assert text(root, "EInvoiceData/BasicInformation/TotalTax-includedAmountInChinese") == "壹仟肆佰玖拾肆圆整"
    assert text(root, "EInvoiceData/BasicInformation/Drawer") == "张三"
    request_time = text(root, "EInvoiceData/BasicInformation/RequestTime")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", request_time)
    assert request_time == issued_on(invoice, "%Y-%m-%d %H:%M:%S")

    # The lines: names assembled, rates and taxes as on the face.
    assert items(root) == [
        {"ItemName": "*信息技术服务*软件开发", "SpecMod": "V2.0", "MeaUnits": "项", "Quantity": "2", "UnPrice": "500",
         "Amount": "1000.00", "TaxRate": "6%", "ComTaxAm": "60.00", "TotaltaxIncludedAmount": "1060.00",
         "TaxClassificationCode": SOFTWARE},
        {"ItemName": "*信息技术服务*软件开发", "SpecMod": "", "MeaUnits": "", "Quantity": "", "UnPrice": "",
         "Amount": "-100.00", "TaxRate": "6%", "ComTaxAm": "-6.00", "TotaltaxIncludedAmount": "-106.00",
         "TaxClassificationCode": SOFTWARE},
        {"ItemName": "*蔬菜*有机白菜", "SpecMod": "", "MeaUnits": "千克", "Quantity": "12", "UnPrice": "45",
         "Amount": "540.00", "TaxRate": "免税", "ComTaxAm": "***", "TotaltaxIncludedAmount": "540.00",
         "TaxClassificationCode": CABBAGE}]

    # Remarks in the order of section 6; supervision.
    assert text(root, "EInvoiceData/AdditionalInformation/Remark") == ";    ".join([
        "购方开户银行：招商银行北京分行；银行账号：110901234510201",
        "销方开户银行：中国工商银行北京中关村支行；银行账号：0200001234567890123",
        "合同号 HT-2026-0088", "收款人：王五 复核人：赵六"])
    assert text(root, "TaxSupervisionInfo/InvoiceNumber") == BLUE
    assert text(root, "TaxSupervisionInfo/IssueTime") == issued_on(invoice, "%Y-%m-%d")
    assert text(root, "TaxSupervisionInfo/TaxBureauCode") == "11100000000"
    assert text(root, "TaxSupervisionInfo/TaxBureauName") == "国家税务总局北京市税务局"
    assert root.find("EInvoiceData/RedEInvoice") is None


def test_a_natural_person_a_normal_invoice_and_a_small_taxpayer(seller):
    number = issued_and_accepted(person_body(), BLUE)
    invoice = stored(number)
    root = ET.fromstring(invoice_xml(invoice, BLUE, taxpayer_type="small", issuing_label="6"))
    assert text(root, "EInvoiceData/BuyerInformation/BuyerName") == "王小五（个人）"
    assert text(root, "EInvoiceData/BuyerInformation/BuyerIdNum") == "110101199003071234"
    assert text(root, "Header/InherentLabel/GeneralOrSpecialVAT/LabelCode") == "02"
    assert text(root, "Header/InherentLabel/TaxpayerType/LabelCode") == "2"
    assert labels(root) == [("开具方式", "6", "离线开票")]  # a 6 % line: no 特定征税方式
    assert text(root, "EInvoiceData/AdditionalInformation/Remark") == ""


def test_zero_rate_and_not_taxed_display(seller):
    number = issue_invoice(invoice_body()).number
    invoice = stored(number)
    zero = replace(invoice.lines[0], tax_rate="0", tax=Decimal("0.00"))
    free = replace(invoice.lines[0], tax_rate="not_taxed", tax=Decimal("0.00"), policy="04")
    simple = replace(invoice.lines[0], tax_rate="0.03", policy="08")
    reduced = replace(invoice.lines[0], tax_rate="0.015", policy="10")
    root = ET.fromstring(invoice_xml(replace(invoice, lines=(zero, free, simple, reduced)), BLUE))
    assert [(item["TaxRate"], item["ComTaxAm"]) for item in items(root)] == [
        ("0%", "0.00"), ("不征税", ""), ("3%", "60.00"), ("1.5%", "60.00")]
    assert [code for _, code, _ in labels(root)] == ["5", "01", "02", "05", "06"]


def test_a_red_invoice_carries_its_reversal(seller, tmp_path: Path):
    blue = issued_and_accepted(invoice_body(), BLUE)
    red = red_on_form(blue, "服务中止", clerk="李四").number
    accept(red, RED)
    export_invoices([RED], xml_dir=tmp_path, pdf_dir=None)
    root = ET.fromstring((tmp_path / f"{RED}.xml").read_bytes())
    assert text(root, "Header/EIid") == RED
    assert text(root, "Header/InherentLabel/InIssuType/LabelCode") == "N"
    data = node(root, "EInvoiceData")
    assert children(data)[-3:] == ["SpecificInformation", "RedEInvoice", "AdditionalInformation"]
    assert children(data.find("RedEInvoice")) == ["OriginalInvoiceCode", "CreditNoteNumber"]
    assert text(root, "EInvoiceData/RedEInvoice/OriginalInvoiceCode") == BLUE
    assert text(root, "EInvoiceData/BasicInformation/TotalTax-includedAmount") == "-1060.00"
    assert (text(root, "EInvoiceData/BasicInformation/TotalTax-includedAmountInChinese")
            == amount_in_capitals(Decimal("-1060.00")))
    assert items(root)[0]["Quantity"] == "-1" and items(root)[0]["ComTaxAm"] == "-60.00"
    # The desk's own note does not repeat the reference; the reason stays.
    remark = text(root, "EInvoiceData/AdditionalInformation/Remark")
    form = RedLetterForm.get(RedLetterForm.original_number == BLUE)
    assert remark == f"被红冲蓝字数电发票号码：{BLUE} 红字发票信息确认单编号：{form.form_number}"
    assert text(root, "EInvoiceData/RedEInvoice/CreditNoteNumber") == form.form_number


def test_unaccepted_unknown_and_legacy_invoices_are_refused_naming_each(seller, tmp_path: Path):
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    waiting = issue_invoice(invoice_body()).number
    accepted = issued_and_accepted(invoice_body(), BLUE)
    with pytest.raises(ValidationFailed) as caught:
        export_invoices([accepted, waiting, "LX-9999999"], xml_dir=tmp_path, pdf_dir=tmp_path)
    message = caught.value.describe()
    assert waiting in message and "LX-9999999" in message and accepted not in message
    assert [e.field for e in caught.value.errors] == ["number", "number"]
    assert list(tmp_path.iterdir()) == []  # all or nothing
    with pytest.raises(BadInput):
        export_invoices([accepted], xml_dir=None, pdf_dir=None)
    with pytest.raises(BadInput):
        export_invoices([accepted], xml_dir=tmp_path / "missing", pdf_dir=None)
    invoice = stored(waiting)
    with pytest.raises(NotAShudianInvoice, match=waiting):
        invoice_xml(invoice, invoice.number)
    legacy = parse_legacy_invoice({
        "kind": "normal", "seller": {"name": "北京某某科技有限公司", "tax_id": SELLER_TAX_ID},
        "buyer": {"name": "北京客户贸易有限公司", "tax_id": BUYER_TAX_ID}, "drawer": "张三",
        "lines": [{"name": "*信息技术服务*软件开发", "amount": "100.00", "tax_rate": "0.06"}]})
    assert legacy.is_legacy
    with pytest.raises(DeskError, match="数电之前"):
        invoice_xml(legacy, BLUE)


def test_the_command_writes_both_files(seller, data_dir: Path, tmp_path: Path):
    number = issued_and_accepted(person_body(), BLUE)
    xml_dir, pdf_dir = tmp_path / "xml", tmp_path / "pdf"
    xml_dir.mkdir()
    pdf_dir.mkdir()
    result = run_cli(data_dir, "export", number, "--xml", str(xml_dir), "--pdf", str(pdf_dir))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(xml_dir / f"{BLUE}.xml"), str(pdf_dir / f"{BLUE}.pdf")]
    assert (pdf_dir / f"{BLUE}.pdf").read_bytes().startswith(b"%PDF")
    assert ET.fromstring((xml_dir / f"{BLUE}.xml").read_bytes()).findtext("Header/EIid") == BLUE
    assert [p.name for p in xml_dir.iterdir()] == [f"{BLUE}.xml"]  # no temporary file left


def test_the_command_needs_a_folder_and_names_a_refused_invoice(seller, data_dir: Path, tmp_path: Path):
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    number = issue_invoice(invoice_body()).number
    result = run_cli(data_dir, "export", number)
    assert result.returncode == 2 and "--xml" in result.stderr
    result = run_cli(data_dir, "export", number, "--xml", str(tmp_path))
    assert result.returncode == 2 and number in result.stderr and "预开单（非发票）" in result.stderr
    assert list(tmp_path.iterdir()) == []
    english = run_cli(data_dir, "--lang", "en", "export", number, "--xml", str(tmp_path))
    assert english.returncode == 2 and f"{number} is a pre-issue record, not an invoice" in english.stderr


def test_a_pre_issue_record_is_not_an_invoice_and_has_no_xml(seller, tmp_path: Path):
    number = issue_invoice(invoice_body()).number
    with pytest.raises(ValidationFailed) as caught:
        export_invoices([number], xml_dir=tmp_path, pdf_dir=tmp_path)
    [error] = caught.value.errors
    assert error.field == "number"
    assert f"{number} 是预开单（非发票），不是发票" in error.message_zh
    assert f"{number} is a pre-issue record, not an invoice" in error.message_en
    assert [p.name for p in tmp_path.iterdir()] == ["data"]  # nothing written
    invoice = stored(number)
    with pytest.raises(NotAShudianInvoice, match="预开单"):
        invoice_xml(invoice, invoice.number)


def test_a_direct_channel_invoice_is_an_invoice_and_exports_while_its_upload_waits(direct, tmp_path: Path):
    issued = issue_invoice(invoice_body())
    official = issued.number
    assert re.fullmatch(r"[0-9]{20}", official)
    out = tmp_path / "out"
    out.mkdir()
    written = export_invoices([official], xml_dir=out, pdf_dir=out)
    assert [(f.kind, f.path.name) for f in written] == [(XML, f"{official}.xml"), (PDF, f"{official}.pdf")]
    root = ET.fromstring((out / f"{official}.xml").read_bytes())
    assert root.findtext("Header/EIid") == official and root.findtext("TaxSupervisionInfo/InvoiceNumber") == official


def test_exported_pdf_goes_through_printing(seller, tmp_path: Path):
    number = issued_and_accepted(invoice_body(), BLUE)
    written = export_invoices([number, BLUE], xml_dir=None, pdf_dir=tmp_path, clerk="李四")
    assert [(f.kind, f.path.name) for f in written] == [(PDF, f"{BLUE}.pdf")]  # one invoice named twice


TOLL = "3040502020301000000"  # 高速公路通行服务: 9 %, policies 08 and 04 (不征税)
SECTION_8_VALUES = {"SWEI", "yyyy-MM-dd"}  # backticked in section 8 as values, not elements


def section_8_elements() -> set[str]:
    """Every element name section 8 of the rules (docs/shudian-rules.md) puts in backticks."""
    rules = (Path(__file__).resolve().parents[2] / "docs" / "shudian-rules.md").read_text(encoding="utf-8")
    section = rules.split("## 8.", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"`([A-Za-z][A-Za-z-]*)`", section)) - SECTION_8_VALUES


def paths(root: ET.Element) -> list[str]:
    found: list[str] = []

    def walk(element: ET.Element, prefix: str) -> None:
        for child in element:
            found.append(f"{prefix}{child.tag}")
            walk(child, f"{prefix}{child.tag}/")
    walk(root, "")
    return found


def expected_paths(labels_count: int, items_count: int, red: bool) -> list[str]:
    label = ["Header/UndefinedLabel/Label", *(f"Header/UndefinedLabel/Label/{n}"
                                              for n in ("LabelType", "LabelCode", "LabelName"))]
    inherent = [p for name in ("InIssuType", "EInvoiceType", "GeneralOrSpecialVAT", "TaxpayerType")
                for p in (f"Header/InherentLabel/{name}", f"Header/InherentLabel/{name}/LabelCode")]
    item = ["EInvoiceData/IssuItemInformation", *(f"EInvoiceData/IssuItemInformation/{n}" for n in ITEM)]
    red_part = ["EInvoiceData/RedEInvoice", "EInvoiceData/RedEInvoice/OriginalInvoiceCode",
                "EInvoiceData/RedEInvoice/CreditNoteNumber"] if red else []
    return ["Header", "Header/EIid", "Header/EInvoiceTag", "Header/Version", "Header/InherentLabel", *inherent,
            "Header/UndefinedLabel", *label * labels_count,
            "EInvoiceData", "EInvoiceData/SellerInformation", *(f"EInvoiceData/SellerInformation/{n}" for n in SELLER),
            "EInvoiceData/BuyerInformation", *(f"EInvoiceData/BuyerInformation/{n}" for n in BUYER),
            "EInvoiceData/BasicInformation", *(f"EInvoiceData/BasicInformation/{n}" for n in BASIC),
            *item * items_count, "EInvoiceData/SpecificInformation", *red_part,
            "EInvoiceData/AdditionalInformation", "EInvoiceData/AdditionalInformation/Remark",
            "SellerAuthentication", "SellerAuthentication/AuthenticationMethods",
            "TaxSupervisionInfo", *(f"TaxSupervisionInfo/{n}" for n in SUPERVISION)]


def test_the_trees_are_section_8s_for_a_normal_a_special_and_a_red_invoice(seller, tmp_path: Path):
    named = section_8_elements()
    assert {"EInvoice", "EIid", "TaxBureauName", "ptbh", "RedEInvoice", "CreditNoteNumber", "Remark"} <= named
    normal = issued_and_accepted(person_body(), BLUE)
    special = issued_and_accepted(full_body(kind="special", lines=[
        {"tax_code": TOLL, "item_name": "通行费", "quantity": "1", "unit_price": "200", "tax_rate": "0",
         "policy": "04"},
        {"tax_code": SOFTWARE, "item_name": "软件开发", "quantity": "1", "unit_price": "1000", "tax_rate": "0.06"}]),
        "26110000000000000103")
    red = red_on_form(normal, "开票有误", clerk="李四").number
    accept(red, RED)
    export_invoices([normal, special, red], xml_dir=tmp_path, pdf_dir=None)
    trees = {n: ET.fromstring((tmp_path / f"{n}.xml").read_bytes())
             for n in (BLUE, "26110000000000000103", RED)}
    for number, root in trees.items():
        red_one = number == RED
        tags = {root.tag} | {element.tag for element in root.iter()}
        assert named - tags == ({"RedEInvoice", "OriginalInvoiceCode", "CreditNoteNumber"} if not red_one
                                else set()), number
        assert tags <= named | {"IssuItemInformation"}, tags - named
    assert paths(trees[BLUE]) == expected_paths(1, 1, red=False)
    assert paths(trees["26110000000000000103"]) == expected_paths(2, 2, red=False)
    assert paths(trees[RED]) == expected_paths(1, 1, red=True)

    special_root = trees["26110000000000000103"]
    assert text(special_root, "Header/InherentLabel/GeneralOrSpecialVAT/LabelCode") == "01"
    assert labels(special_root) == [("开具方式", "4", "第三方平台开具"), ("特定征税方式", "01", "不征税")]
    assert [(i["ItemName"], i["TaxRate"], i["ComTaxAm"], i["TotaltaxIncludedAmount"]) for i in items(special_root)] == [
        (items(special_root)[0]["ItemName"], "不征税", "", "200.00"),
        ("*信息技术服务*软件开发", "6%", "60.00", "1060.00")]
    assert items(special_root)[0]["TaxClassificationCode"] == TOLL
    assert text(special_root, "EInvoiceData/BasicInformation/TotalTax-includedAmount") == "1260.00"
    assert text(trees[BLUE], "Header/InherentLabel/GeneralOrSpecialVAT/LabelCode") == "02"
    red_root = trees[RED]
    assert text(red_root, "Header/InherentLabel/InIssuType/LabelCode") == "N"
    assert text(red_root, "EInvoiceData/RedEInvoice/OriginalInvoiceCode") == BLUE
    form_number = RedLetterForm.get(RedLetterForm.original_number == BLUE).form_number
    assert text(red_root, "EInvoiceData/RedEInvoice/CreditNoteNumber") == form_number and len(form_number) == 20
    assert text(red_root, "EInvoiceData/AdditionalInformation/Remark") == (
        f"被红冲蓝字数电发票号码：{BLUE} 红字发票信息确认单编号：{form_number}")
    # A red invoice whose form the desk does not know (rebuilt from the platform): the blue number alone.
    no_form = ET.fromstring(invoice_xml(replace(stored(red), red_form_number=None), RED))
    assert text(no_form, "EInvoiceData/RedEInvoice/CreditNoteNumber") == ""
    assert text(no_form, "EInvoiceData/AdditionalInformation/Remark") == f"被红冲蓝字数电发票号码：{BLUE}"


def test_the_issuing_method_direct_online_direct_offline(direct, tmp_path: Path):
    offline = issue_invoice(invoice_body()).number  # the body's offline flag: true unless said otherwise
    online_number = issue_invoice(invoice_body(offline=False)).number
    export_invoices([offline, online_number], xml_dir=tmp_path, pdf_dir=None)
    codes = {n: labels(ET.fromstring((tmp_path / f"{n}.xml").read_bytes()))[0] for n in (offline, online_number)}
    assert codes == {offline: ("开具方式", "6", "离线开票"), online_number: ("开具方式", "5", "自建系统开具")}
