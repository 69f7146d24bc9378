"""Batch workbooks as a clerk fills them in Excel (openpyxl, normal mode)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook  # type: ignore[import-untyped]

from tests.helpers.bodies import BUYER_TAX_ID, CABBAGE, PRINTER, SOFTWARE

HEADER_COLUMNS = ("发票流水号", "发票类型", "是否含税", "购买方名称", "购买方纳税人识别号", "购买方地址", "购买方电话",
                  "购买方开户银行", "购买方银行账号", "备注")
LINE_COLUMNS = ("发票流水号", "项目名称", "税收分类编码", "规格型号", "单位", "数量", "单价", "金额", "税率",
                "是否使用优惠政策", "优惠政策类型")


def header(serial: str, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"发票流水号": serial, "发票类型": "普通发票", "购买方名称": "北京客户贸易有限公司",
                           "购买方纳税人识别号": BUYER_TAX_ID}
    row.update(values)
    return row


def line(serial: str, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"发票流水号": serial, "项目名称": "软件开发", "税收分类编码": SOFTWARE, "单位": "项",
                           "数量": 1, "单价": 1000, "税率": "6%"}
    row.update(values)
    return row


def good_rows() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Three invoices: one line, two lines (a printer and exempt cabbage), one at 6 % by amount only."""
    headers = [header("A001"), header("A002", 备注="合同号 HT-2026-0088", 购买方地址="北京市朝阳区建国路88号",
                                      购买方电话="010-85551234"),
               header("A003", 购买方名称="上海某某信息技术有限公司", 购买方纳税人识别号=None)]
    lines = [line("A001"),
             line("A002", 项目名称="激光打印机", 税收分类编码=PRINTER, 规格型号="HP-M404dn", 单位="台", 数量=3,
                  单价=1899.5, 税率=0.13),
             line("A002", 项目名称="有机白菜", 税收分类编码=CABBAGE, 单位="千克", 数量=12, 单价=45, 税率=0,
                  是否使用优惠政策="是", 优惠政策类型="免税"),
             line("A003", 数量=None, 单价=None, 金额=2000, 税率="6%")]
    return headers, lines


def write_batch(path: Path, headers: list[dict[str, Any]], lines: list[dict[str, Any]],
                sheet_names: tuple[str, str] = ("1-发票基本信息", "2-发票明细信息")) -> Path:
    book = Workbook()
    first = book.active
    first.title = sheet_names[0]
    first.append(list(HEADER_COLUMNS))
    for row in headers:
        first.append([row.get(c) for c in HEADER_COLUMNS])
    second = book.create_sheet(sheet_names[1])
    second.append(list(LINE_COLUMNS))
    for row in lines:
        second.append([row.get(c) for c in LINE_COLUMNS])
    book.save(path)
    return path
