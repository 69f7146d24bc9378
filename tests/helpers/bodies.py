"""Invoice bodies as the form and the command line send them."""

from __future__ import annotations

from typing import Any

SELLER_TAX_ID = "91110108MA0123456G"  # check character verified by python-stdnum
BUYER_TAX_ID = "91110000600037341L"
OFFICIAL_NUMBER = "01100212345678901234"
LONG_NAME = "*电子元件*超长名称的精密贴片电阻器阵列模块工业级耐高温抗振动版本含安装配件及中英文说明书第{i}型"


def invoice_body(**overrides: Any) -> dict[str, Any]:
    """A valid draft as the CLI and the form send it; amounts left for the service to compute."""
    body: dict[str, Any] = {
        "kind": "normal",
        "buyer": {"name": "北京客户贸易有限公司", "tax_id": BUYER_TAX_ID},
        "lines": [{"name": "*信息技术服务*软件开发", "unit": "项", "quantity": "1", "unit_price": "1000",
                   "tax_rate": "0.06"}],
    }
    body.update(overrides)
    return body


def full_body(**overrides: Any) -> dict[str, Any]:
    """Every buyer field, three lines at three rates (one exempt), remarks: what a printed face shows."""
    body = invoice_body(
        buyer={"name": "北京客户贸易有限公司", "tax_id": BUYER_TAX_ID, "address": "北京市朝阳区建国路88号",
               "phone": "010-85551234", "bank": "招商银行北京分行", "account": "110901234510201"},
        lines=[{"name": "*信息技术服务*软件开发", "spec": "V2.0", "unit": "项", "quantity": "1", "unit_price": "1000",
                "tax_rate": "0.06"},
               {"name": "*计算机外部设备*激光打印机", "spec": "HP-M404dn", "unit": "台", "quantity": "3",
                "unit_price": "1899.5", "tax_rate": "0.13"},
               {"name": "*图书*会计基础工作规范", "unit": "本", "quantity": "12", "unit_price": "45",
                "tax_rate": "exempt"}],
        remarks="合同号 HT-2026-0088")
    body.update(overrides)
    return body


def long_lines(count: int) -> list[dict[str, Any]]:
    return [{"name": LONG_NAME.format(i=i), "spec": f"RC0603-{i}K", "unit": "个", "quantity": str(10 + i),
             "unit_price": "3.25", "tax_rate": "0.13"} for i in range(count)]
