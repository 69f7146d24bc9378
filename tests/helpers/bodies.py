"""Invoice bodies as the form and the command line send them."""

from __future__ import annotations

from typing import Any

SELLER_TAX_ID = "91110108MA0123456G"  # check character verified by python-stdnum
BUYER_TAX_ID = "91110000600037341L"
OFFICIAL_NUMBER = "01100212345678901234"
LONG_NAME = "超长名称的精密贴片电阻器阵列模块工业级耐高温抗振动版本含安装配件及中英文说明书第{i}型"
# Codes of the shipped table (version 32.0) the bodies use, with the short names the desk prints.
SOFTWARE = "3040201010000000000"  # 软件开发服务, *信息技术服务*, 6 %
PRINTER = "1090511030000000000"  # 输出设备及装置, *计算机外部设备*, 13 %
CABBAGE = "1010112040000000000"  # 白菜类蔬菜, *蔬菜*, 9 %, 免税 allowed
RESISTOR = "1090519990000000000"  # 其他电子元件, *电子元件*, 13 %


def invoice_body(**overrides: Any) -> dict[str, Any]:
    """A valid draft as the CLI and the form send it; amounts left for the service to compute."""
    body: dict[str, Any] = {
        "kind": "normal",
        "buyer": {"name": "北京客户贸易有限公司", "tax_id": BUYER_TAX_ID},
        "lines": [{"tax_code": SOFTWARE, "item_name": "软件开发", "unit": "项", "quantity": "1", "unit_price": "1000",
                   "tax_rate": "0.06"}],
    }
    body.update(overrides)
    return body


def full_body(**overrides: Any) -> dict[str, Any]:
    """Every buyer field, three lines at three rates (one exempt), remarks: what a printed face shows."""
    body = invoice_body(
        buyer={"name": "北京客户贸易有限公司", "tax_id": BUYER_TAX_ID, "address": "北京市朝阳区建国路88号",
               "phone": "010-85551234", "bank": "招商银行北京分行", "account": "110901234510201"},
        lines=[{"tax_code": SOFTWARE, "item_name": "软件开发", "spec": "V2.0", "unit": "项", "quantity": "1",
                "unit_price": "1000", "tax_rate": "0.06"},
               {"tax_code": PRINTER, "item_name": "激光打印机", "spec": "HP-M404dn", "unit": "台", "quantity": "3",
                "unit_price": "1899.5", "tax_rate": "0.13"},
               {"tax_code": CABBAGE, "item_name": "有机白菜", "unit": "千克", "quantity": "12", "unit_price": "45",
                "tax_rate": "0", "policy": "03"}],
        remarks="合同号 HT-2026-0088")
    body.update(overrides)
    return body


def long_lines(count: int) -> list[dict[str, Any]]:
    return [{"tax_code": RESISTOR, "item_name": LONG_NAME.format(i=i), "spec": f"RC0603-{i}K", "unit": "个",
             "quantity": str(10 + i),
             "unit_price": "3.25", "tax_rate": "0.13"} for i in range(count)]
