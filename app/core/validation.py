"""Turn a draft (the protocol v2 invoice body, fields as typed) into a 数电 Invoice, or say what is wrong.

One function serves the form (on every keystroke), the command line, the issue service and
the reference platform, so every path applies the same rules: those of shudian-rules.md
sections 2 and 3, held to the tax classification table in force (passed in: this module does
no I/O). It collects every error it finds, each naming its field and line, rather than
stopping at the first.

What a clerk need not type is derived when left out: the code's short name, the assembled
name `*简称*项目名称`, line numbers, the nature of a line a discount reduces, a discount line's
code and name. What is given must agree with what is derived.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.core.capitals import LARGEST
from app.core.errors import FieldError, ValidationFailed
from app.core.fields import Collector, decimal, issued_at_field, money, tax_id_field, text
from app.core.invoice import MAX_LINES, Invoice, InvoiceKind, Line, LineNature, Medium, Party, Rules
from app.core.legacy import is_legacy_body, parse_legacy_invoice
from app.core.money import to_money
from app.core.parties import ID_TYPES, SHORT_NAME_PROMPT_LENGTH
from app.core.tax import find_rate, line_from_gross_price, line_from_net_price, split_gross
from app.core.taxcodes import CODE_LENGTH, POLICY_BY_FLAG, SUMMARY_CODES_ALLOWED, TaxCode, TaxCodeTable, assembled_name
from app.core.taxid import normalize_tax_id

LIMITS = {  # longest text each field takes, in characters (shudian-rules.md section 2 and 3)
    "name": 300,
    "address": 300,
    "phone": 100,
    "bank": 100,
    "account": 100,
    "id_number": 30,
    "line.item_name": 600,
    "line.spec": 150,
    "line.unit": 300,
    "remarks": 450,
    "person": 300,
    "number": 40,
    "red_form_uuid": 64,
}
# The arithmetic tolerances of shudian-rules.md section 3.
LINE_AMOUNT_TOLERANCE = Decimal("0.01")  # |unit price × quantity − amount|
LINE_TAX_TOLERANCE = Decimal("0.06")  # |amount × rate − tax| on a line
TOTAL_TAX_TOLERANCE = Decimal("1.27")  # |Σ (amount × rate) − total tax|

TAXPAYER_TYPES = ("general", "small")
# A small-scale taxpayer invoices at 征收率: 3 %, 1 % (reduced) and 5 %, whatever the code's rate.
SMALL_TAXPAYER_RATES = ("0.03", "0.01", "0.05")
RED_REASONS = {"01": ("开票有误", "issued in error"), "02": ("销货退回", "goods returned"),
               "03": ("服务中止", "service stopped"), "04": ("销售折让", "sales allowance")}
RED_REASON_CODES = {labels[0]: code for code, labels in RED_REASONS.items()}  # 开票有误 -> 01
ZERO_RATE_CODES = {"exempt": "03", "not_taxed": "04"}  # rate codes that carry their policy
RATE_CODE_OF_POLICY = {flag: code for code, flag in ZERO_RATE_CODES.items()}


@dataclass(frozen=True)
class Context:
    codes: TaxCodeTable
    taxpayer_type: str
    prices_include_tax: bool
    red: bool
    withdrawn_ok: bool = False


def _bool(value: Any, field: str, out: Collector, default: bool = False) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        out.add(field, "应为 true 或 false", "must be true or false")
        return default
    return value


def _rate_labels(codes: Iterable[str]) -> str:
    labels = []
    for code in codes:
        rate = find_rate(code)
        labels.append(rate.label_zh if rate else code)
    return "、".join(labels)


def check_buyer_identity(out: Collector, prefix: str, name: str, natural: bool, id_type: str, id_number: str) -> None:
    """Section 2: an ID type of the table, given with its number or not at all; a person's name longer than 1."""
    if id_type and id_type not in ID_TYPES:
        out.add(f"{prefix}.id_type", f"“{id_type}”不是证件类型代码（如 201 居民身份证）",
                f"{id_type!r} is not an ID type code (e.g. 201, resident identity card)")
    if bool(id_type) != bool(id_number):
        missing = f"{prefix}.id_number" if id_type else f"{prefix}.id_type"
        out.add(missing, "证件类型和证件号码应同时填写或同时不填", "ID type and ID number go together")
    if name and natural and len(name) <= 1:
        out.add(f"{prefix}.name", "自然人姓名应多于1个字", "a natural person's name has more than one character")


# The keys of a party's object that _party_checked reads: the seller's, and the buyer's three more.
PARTY_KEYS = ("name", "tax_id", "address", "phone", "bank", "account")
BUYER_KEYS = (*PARTY_KEYS, "natural_person", "id_type", "id_number")


class PartyMemo:
    """What checking a party gave (the Party and the errors it added, in order), by all it depends on; for a
    caller that checks many bodies naming the same parties (the reconciliation of a period). Bounded: emptied
    when full. A party is remembered only when its object is a plain dict and every value read is a str, a
    bool or None (equal values of those types are the same value to every check: an int, a float or a
    Decimal may equal a bool or another spelling and still be checked differently, so none is remembered)."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._results: dict[tuple[Any, ...], tuple[Party, tuple[FieldError, ...]]] = {}
        self.hits = 0

    def __len__(self) -> int:
        return len(self._results)

    def party(self, raw: Any, prefix: str, out: Collector, *, tax_id_required: bool, confirmed: frozenset[str],
              buyer: bool, confirmed_short_name: bool) -> Party:
        key = self._key(raw, prefix, tax_id_required, confirmed, buyer, confirmed_short_name)
        if key is None:
            return _party_checked(raw, prefix, out, tax_id_required=tax_id_required, confirmed=confirmed,
                                  buyer=buyer, confirmed_short_name=confirmed_short_name)
        found = self._results.get(key)
        if found is not None:
            self.hits += 1
            out.errors.extend(found[1])
            return found[0]
        own = Collector()
        party = _party_checked(raw, prefix, own, tax_id_required=tax_id_required, confirmed=confirmed,
                               buyer=buyer, confirmed_short_name=confirmed_short_name)
        if len(self._results) >= self.size:
            self._results.clear()
        self._results[key] = (party, tuple(own.errors))
        out.errors.extend(own.errors)
        return party

    @staticmethod
    def _key(raw: Any, prefix: str, tax_id_required: bool, confirmed: frozenset[str], buyer: bool,
             confirmed_short_name: bool) -> tuple[Any, ...] | None:
        if type(raw) is not dict or type(confirmed) is not frozenset:
            return None
        values = tuple(raw.get(k) for k in (BUYER_KEYS if buyer else PARTY_KEYS))
        for value in values:
            if value is not None and type(value) is not str and type(value) is not bool:
                return None
        # Every input of _party_checked: the values read (a str, a bool or None: no two of those types compare
        # equal, so equal keys hold the same values), the prefix its fields are named under, the flags and
        # the tax ids confirmed (whether the party's is).
        return (prefix, buyer, tax_id_required, confirmed_short_name if buyer else None, confirmed, values)


def _party(raw: Any, prefix: str, out: Collector, *, tax_id_required: bool, confirmed: frozenset[str],
           buyer: bool, confirmed_short_name: bool, memo: PartyMemo | None = None) -> Party:
    if memo is not None:
        return memo.party(raw, prefix, out, tax_id_required=tax_id_required, confirmed=confirmed, buyer=buyer,
                          confirmed_short_name=confirmed_short_name)
    return _party_checked(raw, prefix, out, tax_id_required=tax_id_required, confirmed=confirmed, buyer=buyer,
                          confirmed_short_name=confirmed_short_name)


def _party_checked(raw: Any, prefix: str, out: Collector, *, tax_id_required: bool, confirmed: Iterable[str],
                   buyer: bool, confirmed_short_name: bool) -> Party:
    if not isinstance(raw, dict):
        out.add(prefix, "缺少或格式不正确（应为对象）", "missing or not an object")
        raw = {}
    name = text(raw.get("name"), f"{prefix}.name", out, LIMITS["name"], required=True)
    tax_id = tax_id_field(raw.get("tax_id"), f"{prefix}.tax_id", out, tax_id_required, confirmed)
    if len(tax_id) > 20:
        out.add(f"{prefix}.tax_id", "不能超过20位", "must be at most 20 characters")
    address, phone, bank, account = (text(raw.get(key), f"{prefix}.{key}", out, LIMITS[key])
                                     for key in ("address", "phone", "bank", "account"))
    if not buyer:
        return Party(name=name, tax_id=tax_id, address=address, phone=phone, bank=bank, account=account)
    natural = _bool(raw.get("natural_person"), f"{prefix}.natural_person", out)
    id_type = text(raw.get("id_type"), f"{prefix}.id_type", out, 3)
    id_number = text(raw.get("id_number"), f"{prefix}.id_number", out, LIMITS["id_number"])
    check_buyer_identity(out, prefix, name, natural, id_type, id_number)
    if name and not natural and len(name) <= SHORT_NAME_PROMPT_LENGTH and not confirmed_short_name:
        out.add(f"{prefix}.name", f"名称只有{len(name)}个字：购买方是自然人吗？是则勾选“自然人”，否则请确认",
                f"the name has only {len(name)} characters: is the buyer a natural person? "
                "Tick 'natural person', or confirm it is not", overridable=True)
    return Party(name=name, tax_id=tax_id, address=address, phone=phone, bank=bank, account=account,
                 natural_person=natural, id_type=id_type, id_number=id_number)


def _tax_code(raw: dict[str, Any], path: str, out: Collector, codes: TaxCodeTable, withdrawn_ok: bool
              ) -> TaxCode | None:
    typed = text(raw.get("tax_code"), f"{path}.tax_code", out, CODE_LENGTH + 10, required=True)
    if not typed:
        return None
    if len(typed) != CODE_LENGTH or not (typed.isascii() and typed.isdigit()):
        out.add(f"{path}.tax_code", f"“{typed}”不是19位数字的税收分类编码", f"{typed!r} is not a 19-digit tax code")
        return None
    code = codes.get(typed)
    if code is None:
        out.add(f"{path}.tax_code", f"编码{typed}不在现行税收分类编码表中",
                f"code {typed} is not in the tax classification table in force")
        return None
    if not code.usable and not withdrawn_ok:
        out.add(f"{path}.tax_code", f"编码{typed}（{code.name}）已停用，请改用现行编码",
                f"code {typed} ({code.name}) has been withdrawn: choose a code in force")
        return None
    if code.summary and code.code not in SUMMARY_CODES_ALLOWED:
        out.add(f"{path}.tax_code", f"编码{typed}（{code.name}）是汇总项，不能直接开票，请选择其下级编码",
                f"code {typed} ({code.name}) is a summary row: choose one of the codes under it")
        return None
    return code


def _names(raw: dict[str, Any], path: str, out: Collector, code: TaxCode | None) -> tuple[str, str, str]:
    """(short name, item name, printed name), each given one checked against the code."""
    item_name = text(raw.get("item_name"), f"{path}.item_name", out, LIMITS["line.item_name"], required=True)
    if item_name.startswith("*"):
        out.add(f"{path}.item_name", "项目名称不含“*简称*”，简称由税收分类编码生成",
                "the item name goes without '*short name*': the desk adds it from the tax code")
    if code is None:
        return "", item_name, ""
    short_name = code.short_name
    given_short = raw.get("short_name")
    if given_short not in (None, "") and given_short != short_name:
        out.add(f"{path}.short_name", f"应为编码{code.code}的简称“{short_name}”",
                f"must be the short name of code {code.code}, {short_name!r}")
    name = assembled_name(short_name, item_name)
    given_name = raw.get("name")
    if given_name not in (None, "") and given_name != name:
        out.add(f"{path}.name", f"应为“*简称*项目名称”：{name}", f"must be '*short name*item name': {name}")
    return short_name, item_name, name


def _rate_and_policy(raw: dict[str, Any], path: str, out: Collector, code: TaxCode | None,
                     taxpayer_type: str) -> tuple[str, str | None] | None:
    """(rate code, policy flag) allowed together for this code and taxpayer, or None after an error."""
    policy_raw = raw.get("policy")
    policy = None
    if policy_raw not in (None, ""):
        if not isinstance(policy_raw, str) or policy_raw not in POLICY_BY_FLAG:
            out.add(f"{path}.policy", f"“{policy_raw}”不是优惠政策标识（01至18）",
                    f"{policy_raw!r} is not a policy flag (01 to 18)")
            return None
        policy = policy_raw
    shown = raw.get("tax_rate")
    rate = find_rate(shown)
    if rate is None:
        out.add(f"{path}.tax_rate", f"“{shown}”不是现行税率或征收率（13%、9%、6%、5%、3%、1.5%、1%、0%、免税、不征税）",
                f"{shown!r} is not a rate in force (13%, 9%, 6%, 5%, 3%, 1.5%, 1%, 0%, tax-free, not taxed)")
        return None
    rate_code = rate.code
    if rate_code in ZERO_RATE_CODES:  # 免税 / 不征税 typed as the rate: the policy it means
        implied = ZERO_RATE_CODES[rate_code]
        if policy not in (None, implied):
            out.add(f"{path}.policy", f"{rate.label_zh}对应优惠政策{implied}，与{policy}不符",
                    f"{rate.label_en} means policy {implied}, not {policy}")
            return None
        policy = implied
    elif policy in RATE_CODE_OF_POLICY:
        if rate.rate != 0:
            out.add(f"{path}.tax_rate", f"优惠政策{policy}（{POLICY_BY_FLAG[policy].name}）的税率应为0",
                    f"policy {policy} ({POLICY_BY_FLAG[policy].name}) takes a rate of 0")
            return None
        rate_code = RATE_CODE_OF_POLICY[policy]
    if code is None:
        return rate_code, policy
    if policy is not None:
        rule = POLICY_BY_FLAG[policy]
        if policy not in code.policies:
            allowed = "、".join(code.policies) or "无"
            out.add(f"{path}.policy", f"编码{code.code}（{code.short_name}）不适用优惠政策{policy}（{rule.name}）；"
                    f"可用：{allowed}",
                    f"code {code.code} does not allow policy {policy}; it allows: {', '.join(code.policies) or 'none'}")
            return None
        if rule.rates is not None:
            if rate_code not in rule.rates:
                labels = _rate_labels(sorted(rule.rates))
                out.add(f"{path}.tax_rate", f"优惠政策{policy}（{rule.name}）的税率应为{labels}",
                        f"policy {policy} ({rule.name}) takes {', '.join(sorted(rule.rates))}")
                return None
            return rate_code, policy
    allowed_rates = SMALL_TAXPAYER_RATES if taxpayer_type == "small" else code.line_rates
    if rate_code not in allowed_rates:
        who = "小规模纳税人" if taxpayer_type == "small" else f"编码{code.code}（{code.short_name}）"
        who_en = "a small-scale taxpayer" if taxpayer_type == "small" else f"code {code.code}"
        out.add(f"{path}.tax_rate", f"{who}的税率应为{_rate_labels(allowed_rates) or '（无）'}，不是{rate.label_zh}",
                f"{who_en} takes {', '.join(allowed_rates) or 'no rate'}, not {rate.label_en}")
        return None
    return rate_code, policy


def check_rate_and_policy(raw: dict[str, Any], field_prefix: str, code: TaxCode | None, taxpayer_type: str
                          ) -> tuple[list[FieldError], str | None, str | None]:
    """The rate and policy flag of a line (or a catalog item) held to its code and the taxpayer type, as an
    invoice line is: (errors, rate code, policy flag), the rate code None after an error.

    Errors name `{field_prefix}.tax_rate` and `{field_prefix}.policy`; with an empty prefix, `tax_rate` and
    `policy`."""
    out = Collector()
    checked = _rate_and_policy(raw, field_prefix, out, code, taxpayer_type)
    errors = out.errors if field_prefix else [dataclasses.replace(e, field=e.field.removeprefix("."))
                                              for e in out.errors]
    if checked is None:
        return errors, None, None
    return errors, checked[0], checked[1]


def _figures(raw: dict[str, Any], path: str, out: Collector, ctx: Context, rate: Decimal, nature: LineNature
             ) -> tuple[Decimal | None, Decimal | None, Decimal, Decimal] | None:
    """(quantity, unit price, amount, tax) of a line, or None after an error."""
    before = len(out.errors)
    given_amount = money(raw.get("amount"), f"{path}.amount", out)
    given_tax = money(raw.get("tax"), f"{path}.tax", out)
    has_figures = not (raw.get("quantity") in (None, "") and raw.get("unit_price") in (None, ""))
    quantity = unit_price = None
    if nature is LineNature.DISCOUNT:
        for key in ("spec", "unit", "quantity", "unit_price"):
            if raw.get(key) not in (None, ""):
                out.add(f"{path}.{key}", "折扣行不填规格型号、单位、数量和单价",
                        "a discount line has no spec, unit, quantity or unit price")
        if given_amount is None and len(out.errors) == before:
            out.add(f"{path}.amount", "折扣行应填写折扣金额", "a discount line needs its amount")
    elif has_figures or given_amount is None:
        # Quantity and unit price are both given or both empty.
        quantity = decimal(raw.get("quantity"), f"{path}.quantity", out, required=True)
        unit_price = decimal(raw.get("unit_price"), f"{path}.unit_price", out, required=True)
    if quantity is not None:
        if quantity == 0:
            out.add(f"{path}.quantity", "不能为零", "must not be zero")
        elif quantity < 0 and not ctx.red:
            out.add(f"{path}.quantity", "不能为负数（红字发票除外）",
                    "must not be negative (except on a red-letter invoice)")
        elif quantity > 0 and ctx.red:
            out.add(f"{path}.quantity", "红字发票的数量应为负数", "must be negative on a red-letter invoice")
    if unit_price is not None and unit_price < 0:
        out.add(f"{path}.unit_price", "不能为负数", "must not be negative")
    if len(out.errors) > before:
        return None

    if quantity is not None and unit_price is not None:
        if ctx.prices_include_tax:
            figures = line_from_gross_price(quantity, unit_price, rate)
        else:
            figures = line_from_net_price(quantity, unit_price, rate)
        amount, tax, unit_price = figures.amount, figures.tax, figures.unit_price
        if given_amount is not None:
            if abs(given_amount - amount) > LINE_AMOUNT_TOLERANCE:
                out.add(f"{path}.amount", f"与数量×单价（{amount}）相差超过0.01",
                        f"differs from quantity × unit price ({amount}) by more than 0.01")
                return None
            amount = given_amount
            if not ctx.prices_include_tax:
                tax = to_money(amount * rate)
    else:
        assert given_amount is not None
        if ctx.prices_include_tax:
            # A line given by its amount alone (a service, a discount) is gross like every
            # other price on this invoice: split it as the tax-control systems did.
            amount, tax = split_gross(given_amount, rate)
        else:
            amount = given_amount
            tax = to_money(amount * rate)
    if given_tax is not None:
        if abs(given_tax - to_money(amount * rate)) > LINE_TAX_TOLERANCE:
            out.add(f"{path}.tax", f"与金额×税率（{to_money(amount * rate)}）相差超过0.06",
                    f"differs from amount × rate ({to_money(amount * rate)}) by more than 0.06")
            return None
        tax = given_tax
    given_with_tax = money(raw.get("amount_with_tax"), f"{path}.amount_with_tax", out)
    if given_with_tax is not None and given_with_tax != amount + tax:
        out.add(f"{path}.amount_with_tax", f"应等于金额加税额（{amount + tax}）",
                f"must equal amount plus tax ({amount + tax})")
        return None
    if nature is LineNature.DISCOUNT and amount >= 0:
        out.add(f"{path}.amount", "折扣行金额应为负数", "a discount line has a negative amount")
        return None
    if nature is not LineNature.DISCOUNT and not ctx.red and amount <= 0:
        out.add(f"{path}.amount", "金额应大于零", "must be greater than zero")
        return None
    if ctx.red and amount > 0:
        out.add(f"{path}.amount", "红字发票金额应为负数", "must be negative on a red-letter invoice")
        return None
    if ctx.red and tax > 0:
        out.add(f"{path}.tax", "红字发票税额不能为正数", "must not be positive on a red-letter invoice")
        return None
    return quantity, unit_price, amount, tax


def _nature(raw: dict[str, Any], path: str, out: Collector) -> LineNature | None:
    value = raw.get("nature", LineNature.NORMAL.value)
    if raw.get("discount") is True:  # the form's and the legacy body's way of saying so
        value = LineNature.DISCOUNT.value
    try:
        return LineNature(value)
    except ValueError:
        out.add(f"{path}.nature", f"“{value}”不是行性质（normal 正常行 / discount 折扣行 / discounted 被折扣行）",
                f"{value!r} is not a line nature (normal, discount or discounted)")
        return None


def _positive_int(value: Any, field: str, out: Collector) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_LINES:
        out.add(field, f"应为1至{MAX_LINES}的整数", f"must be a whole number from 1 to {MAX_LINES}")
        return None
    return value


def _line(raw: Any, index: int, out: Collector, ctx: Context, previous: dict[str, Any] | None) -> Line | None:
    path = f"lines[{index}]"
    if not isinstance(raw, dict):
        out.add(path, "格式不正确（应为对象）", "must be an object")
        return None
    before = len(out.errors)
    nature = _nature(raw, path, out)
    if nature is LineNature.DISCOUNT and previous is not None:
        # A discount line's code, name, rate and policy are its line's: take them when left out.
        raw = {**{k: previous.get(k) for k in ("tax_code", "item_name", "tax_rate", "policy")},
               **{k: v for k, v in raw.items() if v not in (None, "")}}
    line_no = _positive_int(raw.get("line_no"), f"{path}.line_no", out)
    if line_no is not None and line_no != index + 1:
        out.add(f"{path}.line_no", f"应为{index + 1}（按顺序编号）",
                f"must be {index + 1} (lines are numbered in order)")
    code = _tax_code(raw, path, out, ctx.codes, ctx.withdrawn_ok)
    short_name, item_name, name = _names(raw, path, out, code)
    spec = text(raw.get("spec"), f"{path}.spec", out, LIMITS["line.spec"])
    unit = text(raw.get("unit"), f"{path}.unit", out, LIMITS["line.unit"])
    rate_and_policy = _rate_and_policy(raw, path, out, code, ctx.taxpayer_type)
    original_line_no = _positive_int(raw.get("original_line_no"), f"{path}.original_line_no", out)
    if nature is None or rate_and_policy is None:
        return None
    rate_code, policy = rate_and_policy
    rate = find_rate(rate_code)
    assert rate is not None
    figures = _figures(raw, path, out, ctx, rate.rate, nature)
    if figures is None or code is None or len(out.errors) > before:
        return None
    quantity, unit_price, amount, tax = figures
    item_id = raw.get("item_id")
    return Line(name=name, spec=spec, unit=unit, quantity=quantity, unit_price=unit_price, tax_rate=rate_code,
                amount=amount, tax=tax, nature=nature, tax_code=code.code, short_name=short_name,
                item_name=item_name, policy=policy, original_line_no=original_line_no,
                item_id=item_id if isinstance(item_id, int) and not isinstance(item_id, bool) else None)


def _check_discounts(raw_lines: list[Any], lines: list[Line | None], out: Collector) -> list[Line | None]:
    """A discount follows the line it reduces, which is marked discounted (set here when left out)."""
    checked = list(lines)
    for index, line in enumerate(lines):
        if line is None:
            continue
        following = lines[index + 1] if index + 1 < len(lines) else None
        if line.nature is LineNature.DISCOUNTED and (following is None or following.nature is not LineNature.DISCOUNT):
            out.add(f"lines[{index}].nature", "被折扣行后面应紧跟其折扣行",
                    "a discounted line is followed by its discount")
        if not line.discount:
            continue
        goods = lines[index - 1] if index > 0 else None
        if goods is None or goods.discount:
            out.add(f"lines[{index}].nature", "折扣行应紧跟在被折扣的行之后",
                    "a discount line must follow the line it discounts")
            continue
        if (goods.tax_code, goods.item_name) != (line.tax_code, line.item_name):
            out.add(f"lines[{index}].item_name", "折扣行的编码和名称应与被折扣行相同",
                    "must have the code and name of the line it discounts")
        elif (goods.tax_rate, goods.policy) != (line.tax_rate, line.policy):
            out.add(f"lines[{index}].tax_rate", "折扣行税率和优惠政策应与被折扣行相同",
                    "must have the rate and policy of the line it discounts")
        elif -line.amount > goods.amount:
            out.add(f"lines[{index}].amount", "折扣金额不能超过被折扣行金额",
                    "a discount cannot exceed the line it discounts")
        elif goods.nature is LineNature.NORMAL:
            given = raw_lines[index - 1].get("nature") if isinstance(raw_lines[index - 1], dict) else None
            if given in (None, ""):
                checked[index - 1] = dataclasses.replace(goods, nature=LineNature.DISCOUNTED)
            else:
                out.add(f"lines[{index - 1}].nature", "其后有折扣行，行性质应为 discounted（被折扣行）",
                        "is followed by a discount: its nature is 'discounted'")
    return checked


def _check_policies(lines: list[Line], out: Collector) -> None:
    """Policies 04 (不征税) and 10 (减按 1.5 %) stand alone on an invoice."""
    flags = {line.policy for line in lines if line.policy}
    for flag in sorted(flags):
        rule = POLICY_BY_FLAG[flag]
        if rule.alone and len(flags) > 1:
            others = "、".join(sorted(flags - {flag}))
            out.add("lines", f"优惠政策{flag}（{rule.name}）不能与其他优惠政策（{others}）开在同一张发票上",
                    f"policy {flag} ({rule.name}) cannot share an invoice with other policies ({others})")


def parse_invoice(body: Any, *, codes: TaxCodeTable, taxpayer_type: str = "general",
                  prices_include_tax: bool | None = None, confirmed_tax_ids: Iterable[str] = (),
                  confirmed_short_name: bool = False, withdrawn_ok: bool = False,
                  memo: PartyMemo | None = None) -> Invoice:
    """The 数电 invoice a body describes, with amounts computed where left out; raises ValidationFailed.

    withdrawn_ok: a code withdrawn since is accepted (an invoice issued and accepted before it was).
    memo: the parties' checks remembered across calls (the same outcome, errors included, as without)."""
    out = Collector()
    if not isinstance(body, dict):
        raise ValidationFailed([FieldError("invoice", "应为 JSON 对象", "must be a JSON object")])
    confirmed = frozenset(normalize_tax_id(t) for t in confirmed_tax_ids if isinstance(t, str))
    if prices_include_tax is None:
        prices_include_tax = _bool(body.get("prices_include_tax"), "prices_include_tax", out)
    if taxpayer_type not in TAXPAYER_TYPES:
        raise ValueError(f"taxpayer type {taxpayer_type!r}")

    kind_raw = body.get("kind", "normal")
    try:
        kind = InvoiceKind(kind_raw)
    except ValueError:
        out.add("kind", f"“{kind_raw}”不是发票种类（normal 普通发票 / special 增值税专用发票）",
                f"{kind_raw!r} is not a kind (normal or special)")
        kind = InvoiceKind.NORMAL
    medium_raw = body.get("medium", "electronic")
    try:
        medium = Medium(medium_raw)
    except ValueError:
        out.add("medium", f"“{medium_raw}”不是发票介质（electronic 电子 / paper 纸质）",
                f"{medium_raw!r} is not a medium (electronic or paper)")
        medium = Medium.ELECTRONIC

    original = body.get("original_number")
    red = _bool(body.get("red"), "red", out) or original not in (None, "")
    original_number = text(original, "original_number", out, LIMITS["number"], required=red) if red else None
    red_reason = red_form_uuid = None
    if red:
        reason = body.get("red_reason")
        if reason not in (None, ""):
            if reason not in RED_REASONS:
                out.add("red_reason", f"“{reason}”不是红字发票原因（01开票有误、02销货退回、03服务中止、04销售折让）",
                        f"{reason!r} is not a red-letter reason (01 to 04)")
            else:
                red_reason = str(reason)
        red_form_uuid = text(body.get("red_form_uuid"), "red_form_uuid", out, LIMITS["red_form_uuid"]) or None
    else:
        for key in ("red_reason", "red_form_uuid"):
            if body.get(key) not in (None, ""):
                out.add(key, "只用于红字发票", "belongs to a red-letter invoice only")
    if body.get("deduction") is not None:
        out.add("deduction", "差额征税发票本开票台暂不支持，请在电子发票服务平台开具",
                "invoices with a deduction (差额征税) are not supported by this desk: issue them on the platform")

    seller = _party(body.get("seller"), "seller", out, tax_id_required=True, confirmed=confirmed, buyer=False,
                    confirmed_short_name=True, memo=memo)
    buyer = _party(body.get("buyer"), "buyer", out, tax_id_required=kind is InvoiceKind.SPECIAL,
                   confirmed=confirmed, buyer=True, confirmed_short_name=confirmed_short_name, memo=memo)

    ctx = Context(codes=codes, taxpayer_type=taxpayer_type, prices_include_tax=prices_include_tax, red=red,
                  withdrawn_ok=withdrawn_ok)
    raw_lines = body.get("lines")
    lines: list[Line | None] = []
    if not isinstance(raw_lines, list) or not raw_lines:
        out.add("lines", "至少需要一行项目", "at least one line is required")
    elif len(raw_lines) > MAX_LINES:
        out.add("lines", f"最多{MAX_LINES}行（平台不接受更多）",
                f"at most {MAX_LINES} lines (the platform takes no more)")
    else:
        previous: dict[str, Any] | None = None
        for i, raw in enumerate(raw_lines):
            lines.append(_line(raw, i, out, ctx, previous))
            previous = raw if isinstance(raw, dict) else None
        lines = _check_discounts(raw_lines, lines, out)
        _check_policies([line for line in lines if line], out)

    texts = {}
    for key, limit in (("remarks", "remarks"), ("payee", "person"), ("reviewer", "person"), ("drawer", "person"),
                       ("number", "number"), ("drawer_id_type", "person"), ("drawer_id_number", "id_number")):
        texts[key] = text(body.get(key), key, out, LIMITS[limit], required=(key == "drawer"))
    if bool(texts["drawer_id_type"]) != bool(texts["drawer_id_number"]):
        out.add("drawer_id_number" if texts["drawer_id_type"] else "drawer_id_type",
                "开票人证件类型和证件号码应同时填写或同时不填", "the drawer's ID type and number go together")
    flags = {key: _bool(body.get(key), key, out) for key in ("show_seller_bank", "show_buyer_bank")}
    issued_at = issued_at_field(body.get("issued_at"), out)
    offline = _bool(body.get("offline"), "offline", out, default=True)

    if not out.errors:
        invoice = Invoice(kind=kind, seller=seller, buyer=buyer, lines=tuple(line for line in lines if line),
                          drawer=texts["drawer"], number=texts["number"], issued_at=issued_at, offline=offline,
                          remarks=texts["remarks"], payee=texts["payee"], reviewer=texts["reviewer"],
                          original_number=original_number, prices_include_tax=prices_include_tax,
                          confirmed_tax_ids=confirmed & {seller.tax_id, buyer.tax_id}, medium=medium,
                          rules=Rules.SHUDIAN, drawer_id_type=texts["drawer_id_type"],
                          drawer_id_number=texts["drawer_id_number"], red_form_uuid=red_form_uuid, red_form_number=None,
                          red_reason=red_reason, confirmed_short_name=confirmed_short_name and not buyer.natural_person,
                          **flags)
        _check_totals(body, invoice, out)
        if not out.errors:
            return invoice
    raise ValidationFailed(out.errors)


def _rate_of(line: Line) -> Decimal:
    rate = find_rate(line.tax_rate)
    return rate.rate if rate is not None else Decimal(0)


def _check_totals(body: dict[str, Any], invoice: Invoice, out: Collector) -> None:
    computed = {"total_amount": invoice.total_amount, "total_tax": invoice.total_tax,
                "total_with_tax": invoice.total_with_tax}
    for key, value in computed.items():
        given = money(body.get(key), key, out)
        if given is not None and given != value:
            out.add(key, f"与明细之和（{value}）不符", f"does not add up: the lines give {value}")
    unrounded = sum((line.amount * _rate_of(line) for line in invoice.lines), Decimal(0))
    if abs(unrounded - invoice.total_tax) > TOTAL_TAX_TOLERANCE:
        out.add("total_tax", f"合计税额与各行金额×税率之和（{to_money(unrounded)}）相差超过1.27",
                f"differs from the sum of amount × rate ({to_money(unrounded)}) by more than 1.27")
    total = invoice.total_with_tax
    if abs(total) > LARGEST:
        out.add("total_with_tax", "金额过大", "is too large")
    if invoice.is_red_letter and total >= 0:
        out.add("total_with_tax", "红字发票价税合计应为负数", "must be negative on a red-letter invoice")
    if not invoice.is_red_letter and total <= 0:
        out.add("total_with_tax", "价税合计应大于零", "must be greater than zero")


def parse_received_invoice(body: Any, *, codes: TaxCodeTable, taxpayer_type: str = "general",
                           confirmed_tax_ids: Iterable[str] = (), memo: PartyMemo | None = None) -> Invoice:
    """An invoice as issued elsewhere or before (the platform's record, an upload): every amount as given,
    the legacy rules for a body in the schema-1 shape, a withdrawn code accepted only there."""
    if is_legacy_body(body):
        return parse_legacy_invoice(body, prices_include_tax=False, confirmed_tax_ids=confirmed_tax_ids)
    return parse_invoice(body, codes=codes, taxpayer_type=taxpayer_type, prices_include_tax=False,
                         confirmed_tax_ids=confirmed_tax_ids, confirmed_short_name=True, withdrawn_ok=True,
                         memo=memo)
