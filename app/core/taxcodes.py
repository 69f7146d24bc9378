"""The tax classification table (商品和服务税收分类编码表) and the policy flags (优惠政策标识).

Pure data and rules: the rows come from the shipped CSV (app.base.resources), from the store
or from the platform's `GET /v2/tax-codes`; this module only says what a row means.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

CODE_LENGTH = 19


@dataclass(frozen=True)
class Policy:
    flag: str  # "01".."18", as sent in the body's `policy`
    name: str  # as the table's ZZSTSGL column spells it
    # The rate the flag forces: a fixed set, or None for "the code's own rate".
    rates: frozenset[str] | None
    alone: bool = False  # not mixed with other policies on one invoice


# shudian-rules.md section 3.
POLICIES: tuple[Policy, ...] = (
    Policy("01", "简易征收", frozenset({"0.03", "0.05"})),
    Policy("02", "稀土产品", None),
    Policy("03", "免税", frozenset({"exempt"})),
    Policy("04", "不征税", frozenset({"not_taxed"}), alone=True),
    Policy("05", "先征后退", None),
    Policy("06", "100%先征后退", None),
    Policy("07", "50%先征后退", None),
    Policy("08", "按3%简易征收", frozenset({"0.03"})),
    Policy("09", "按5%简易征收", frozenset({"0.05"})),
    Policy("10", "按5%简易征收减按1.5%计征", frozenset({"0.015"}), alone=True),
    Policy("11", "即征即退30%", None),
    Policy("12", "即征即退50%", None),
    Policy("13", "即征即退70%", None),
    Policy("14", "即征即退100%", None),
    Policy("15", "超税负3%即征即退", None),
    Policy("16", "超税负8%即征即退", None),
    Policy("17", "超税负12%即征即退", None),
    Policy("18", "超税负6%即征即退", None),
)
POLICY_BY_FLAG: dict[str, Policy] = {p.flag: p for p in POLICIES}
POLICY_BY_NAME: dict[str, Policy] = {p.name: p for p in POLICIES}

# Summary rows the rules let a line use (telecom services are invoiced at the summary level),
# with the rate the summary carries: the table gives summary rows no rate of their own.
SUMMARY_CODES_ALLOWED: dict[str, tuple[str, ...]] = {
    "3030100000000000000": ("0.09",),  # 基础电信服务
    "3030200000000000000": ("0.06",),  # 增值电信服务
}


@dataclass(frozen=True)
class TaxCode:
    code: str
    name: str
    short_name: str
    rates: tuple[str, ...]  # rate codes of app.core.tax ("0.13", "0"); empty on a summary row
    policies: tuple[str, ...]  # the policy flags the code allows
    summary: bool
    usable: bool
    parent: str = ""
    explanation: str = ""
    keywords: str = ""
    version: str = ""

    @property
    def is_goods(self) -> bool:
        return self.code.startswith(("1", "2"))

    @property
    def is_service(self) -> bool:
        return self.code.startswith("3")

    @property
    def allowed_on_a_line(self) -> bool:
        return self.usable and (not self.summary or self.code in SUMMARY_CODES_ALLOWED)

    @property
    def line_rates(self) -> tuple[str, ...]:
        return SUMMARY_CODES_ALLOWED.get(self.code, self.rates) if self.summary else self.rates


class TaxCodeTable(Protocol):
    """What validation needs of the table in force: a row by its code (None when it has none)."""

    def get(self, code: str, /) -> TaxCode | None: ...


def assembled_name(short_name: str, item_name: str) -> str:
    """The printed name of a line: *简称*项目名称."""
    return f"*{short_name}*{item_name}"


def _rate_code(text: str) -> str | None:
    """'13%' -> '0.13'; '0%' -> '0'."""
    text = text.strip()
    if not text.endswith("%"):
        return None
    try:
        value = Decimal(text[:-1]) / 100
    except ArithmeticError:
        return None
    return "0" if value == 0 else f"{value.normalize():f}"


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace(",", "、").split("、") if part.strip()]


def code_from_table_row(row: Mapping[str, str]) -> TaxCode:
    """One row of the official table (its column names: SPBM, SPMC, ...), as in the shipped CSV."""
    rates = tuple(r for r in (_rate_code(t) for t in _split(row.get("ZZSSL", ""))) if r is not None)
    policies = tuple(POLICY_BY_NAME[name].flag for name in _split(row.get("ZZSTSGL", "")) if name in POLICY_BY_NAME)
    parent = row.get("PID", "").strip()
    return TaxCode(
        code=row["SPBM"].strip(), name=row["SPMC"].strip(), short_name=row["SPBMJC"].strip(),
        rates=rates, policies=policies, summary=row.get("HZX", "N").strip() == "Y",
        usable=row.get("KYZT", "Y").strip() == "Y", parent="" if parent == "0" else parent,
        explanation=row.get("SM", "").strip(), keywords=row.get("GJZ", "").strip(), version=row.get("BB", "").strip(),
    )


def codes_from_table(rows: Iterable[Mapping[str, str]]) -> list[TaxCode]:
    return [code_from_table_row(row) for row in rows]


def code_to_wire(code: TaxCode) -> dict[str, object]:
    """A row as `GET /v2/tax-codes` sends it (rates as decimal strings)."""
    return {"code": code.code, "name": code.name, "short_name": code.short_name, "rates": list(code.rates),
            "policies": list(code.policies), "summary": code.summary, "usable": code.usable,
            "parent": code.parent, "explanation": code.explanation, "keywords": code.keywords}


def code_from_wire(raw: object, version: str) -> TaxCode | None:
    """A row of the platform's answer, or None when it does not hold the protocol's shape (never believed)."""
    if not isinstance(raw, dict):
        return None
    code, name, short = raw.get("code"), raw.get("name"), raw.get("short_name")
    rates, policies = raw.get("rates", []), raw.get("policies", [])
    if not (isinstance(code, str) and len(code) == CODE_LENGTH and code.isascii() and code.isdigit()):
        return None
    if not (isinstance(name, str) and name.strip() and isinstance(short, str) and short.strip()):
        return None
    if not (isinstance(rates, list) and all(isinstance(r, str) for r in rates)):
        return None
    if not (isinstance(policies, list) and all(isinstance(p, str) and p in POLICY_BY_FLAG for p in policies)):
        return None
    summary, usable = raw.get("summary", False), raw.get("usable", True)
    if not (isinstance(summary, bool) and isinstance(usable, bool)):
        return None
    texts = [raw.get(key, "") for key in ("parent", "explanation", "keywords")]
    if not all(isinstance(t, str) for t in texts):
        return None
    rate_codes: list[str] = []
    for rate in rates:
        try:
            value = Decimal(rate)
        except ArithmeticError:
            return None
        if not value.is_finite() or not 0 <= value < 1:
            return None
        rate_codes.append("0" if value == 0 else f"{value.normalize():f}")
    return TaxCode(code=code, name=name.strip(), short_name=short.strip(), rates=tuple(rate_codes),
                   policies=tuple(policies), summary=summary, usable=usable, parent=str(texts[0]),
                   explanation=str(texts[1]), keywords=str(texts[2]), version=version)
