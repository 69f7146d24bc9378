"""The desk's failures: one root error (DeskError) with a message in Chinese and English and an
exit code, and validation errors that name the field, in Chinese first and English on request."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

# Exit statuses of the command line; every DeskError carries one.
EXIT_OK = 0
EXIT_ERROR = 1  # anything the clerk cannot fix by changing the input (a damaged store, a failed backup)
EXIT_BAD_INPUT = 2  # input the clerk must fix; nothing was stored


class DeskError(Exception):
    """Root of every failure the desk expects: the command line and the app catch it once.

    message_zh is what a clerk reads first; message_en follows it (or stands alone with --lang en).
    """

    exit_code = EXIT_ERROR

    def __init__(self, message_zh: str, message_en: str = "", *, exit_code: int | None = None) -> None:
        super().__init__(message_zh)
        self.message_zh = message_zh
        self.message_en = message_en
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        return self.describe()

    def message(self, lang: str = "zh") -> str:
        return self.message_zh if lang == "zh" or not self.message_en else self.message_en

    def describe(self, lang: str = "zh") -> str:
        """Both languages, the chosen one first: '本地数据库已损坏… (the store is damaged…)'."""
        if not self.message_en:
            return self.message_zh
        if lang == "zh":
            return f"{self.message_zh} ({self.message_en})"
        return f"{self.message_en} ({self.message_zh})"


class BadInput(DeskError):
    """Input the clerk must fix (a missing option, an unreadable file); the message names the field."""

    exit_code = EXIT_BAD_INPUT

# Field labels as a clerk knows them. Line fields are looked up without their index.
FIELD_LABELS: dict[str, tuple[str, str]] = {
    "invoice": ("发票", "invoice"),
    "number": ("发票号码", "number"),
    "kind": ("发票种类", "kind"),
    "issued_at": ("开票日期", "issue date"),
    "seller": ("销售方", "seller"),
    "seller.name": ("销售方名称", "seller name"),
    "seller.tax_id": ("销售方纳税人识别号", "seller taxpayer id"),
    "seller.address": ("销售方地址", "seller address"),
    "seller.phone": ("销售方电话", "seller phone"),
    "seller.bank": ("销售方开户行", "seller bank"),
    "seller.account": ("销售方账号", "seller account"),
    "buyer": ("购买方", "buyer"),
    "buyer.name": ("购买方名称", "buyer name"),
    "buyer.tax_id": ("购买方纳税人识别号", "buyer taxpayer id"),
    "buyer.address": ("购买方地址", "buyer address"),
    "buyer.phone": ("购买方电话", "buyer phone"),
    "buyer.bank": ("购买方开户行", "buyer bank"),
    "buyer.account": ("购买方账号", "buyer account"),
    "buyer.natural_person": ("自然人标志", "natural-person flag"),
    "buyer.id_type": ("购买方证件类型", "buyer ID type"),
    "buyer.id_number": ("购买方证件号码", "buyer ID number"),
    "buyer.email": ("购买方电子邮箱", "buyer e-mail"),
    "medium": ("发票介质", "medium"),
    "taxpayer_type": ("纳税人类型", "taxpayer type"),
    "red": ("红字标志", "red-letter flag"),
    "red_form_uuid": ("红字确认单", "red-letter confirmation form"),
    "deduction": ("差额征税", "deduction"),
    "drawer_id_type": ("开票人证件类型", "drawer ID type"),
    "drawer_id_number": ("开票人证件号码", "drawer ID number"),
    "show_seller_bank": ("显示销售方银行账号", "show seller bank"),
    "show_buyer_bank": ("显示购买方银行账号", "show buyer bank"),
    "lines": ("项目明细", "lines"),
    "line.name": ("项目名称（含简称）", "printed item name"),
    "line.item_name": ("项目名称", "item name"),
    "line.tax_code": ("税收分类编码", "tax classification code"),
    "line.short_name": ("商品和服务简称", "short name"),
    "line.nature": ("行性质", "line nature"),
    "line.policy": ("优惠政策标识", "policy flag"),
    "line.line_no": ("行号", "line number"),
    "line.original_line_no": ("对应蓝字发票行号", "blue line reversed"),
    "line.amount_with_tax": ("含税金额", "amount with tax"),
    "line.item": ("项目", "catalog item"),
    "line.spec": ("规格型号", "specification"),
    "line.unit": ("单位", "unit"),
    "line.quantity": ("数量", "quantity"),
    "line.unit_price": ("单价", "unit price"),
    "line.amount": ("金额", "amount"),
    "line.tax_rate": ("税率/征收率", "tax rate"),
    "line.tax": ("税额", "tax"),
    "line.discount": ("折扣行", "discount line"),
    "total_amount": ("合计金额", "total amount"),
    "total_tax": ("合计税额", "total tax"),
    "total_with_tax": ("价税合计", "total with tax"),
    "remarks": ("备注", "remarks"),
    "payee": ("收款人", "payee"),
    "reviewer": ("复核", "reviewer"),
    "drawer": ("开票人", "drawer"),
    "original_number": ("原发票号码", "original invoice number"),
    "offline": ("离线标志", "offline flag"),
    "prices_include_tax": ("含税标志", "prices-include-tax flag"),
    "json": ("输入文件", "input file"),
    "cancel": ("作废", "cancellation"),
    "cancel_reason": ("作废原因", "cancellation reason"),
    "red_reason": ("红字发票开具原因", "red-letter reason"),
    "reverse": ("冲红", "reversal"),
    "offline_limits.max_hours": ("离线开票时限", "longest offline time"),
    "offline_limits.max_count": ("离线发票张数上限", "most invoices not uploaded"),
    "offline_limits.max_amount": ("离线累计金额上限", "largest cumulative offline amount"),
    "offline_limits.max_single": ("单张发票开票限额", "largest single invoice"),
    "outage": ("停机记录", "outage"),
    "note": ("备注", "note"),
    # The item catalog (项目信息) and the customer book (客户信息); "rows[N]." errors of a file name row N.
    "item": ("项目", "catalog item"),
    "item_name": ("项目名称", "item name"),
    "tax_code": ("税收分类编码", "tax classification code"),
    "spec": ("规格型号", "specification"),
    "unit": ("单位", "unit"),
    "unit_price": ("单价", "unit price"),
    "price_includes_tax": ("单价含税", "price includes tax"),
    "tax_rate": ("税率/征收率", "tax rate"),
    "policy": ("优惠政策标识", "policy flag"),
    "customer": ("客户", "customer"),
    "customer.name": ("客户名称", "customer name"),
    "customer.tax_id": ("纳税人识别号", "taxpayer id"),
    "customer.natural_person": ("自然人标志", "natural-person flag"),
    "customer.id_type": ("证件类型", "ID type"),
    "customer.id_number": ("证件号码", "ID number"),
    "customer.address": ("地址", "address"),
    "customer.phone": ("电话", "phone"),
    "customer.bank": ("开户行", "bank"),
    "customer.account": ("账号", "account"),
    "customer.email": ("电子邮箱", "e-mail"),
    "customer.tax_id_confirmed": ("税号已确认", "taxpayer id confirmed"),
    "customer.short_name_confirmed": ("非自然人已确认", "short name confirmed"),
    "merge": ("合并客户", "customers to merge"),
    "file": ("文件", "file"),
    # Named by the services, the platform's answers and the command line (issue 15: never a bare id).
    "form": ("红字确认单", "red-letter form"),
    "uuid": ("红字确认单", "red-letter form"),
    "decision": ("确认意见", "decision"),
    "reason": ("原因", "reason"),
    "period": ("所属期", "period"),
    "status": ("状态", "status"),
    "channel": ("开具渠道", "channel"),
    "record": ("平台记录", "platform record"),
    "key": ("幂等键", "idempotency key"),
    "accepted_at": ("平台接受时间", "time accepted"),
    "amount": ("金额", "amount"),
    "count": ("张数", "count"),
    "code": ("发票代码", "invoice code"),
    "first": ("起始号码", "first number"),
    "paper": ("纸张", "paper"),
    "by": ("分组方式", "grouping"),
    "from": ("起始日期", "start date"),
    "to": ("截止日期", "end date"),
    "date_from": ("起始日期", "start date"),
    "date_to": ("截止日期", "end date"),
    "after": ("翻页位置", "page cursor"),
    "limit": ("每页条数", "page size"),
    "platform.url": ("平台地址", "platform address"),
    "backup.keep": ("保留备份份数", "backups kept"),
    "backup.folder": ("备份文件夹", "backup folder"),
    "backup.every_hours": ("备份间隔（小时）", "hours between backups"),
    "deliver.folder": ("交付文件夹", "delivery folder"),
    "token": ("平台令牌", "platform token"),
    "max_hours": ("离线开票时限", "longest offline time"),
    "max_count": ("离线发票张数上限", "most invoices not uploaded"),
    "max_amount": ("离线累计金额上限", "largest cumulative offline amount"),
    "max_single": ("单张发票开票限额", "largest single invoice"),
}


def _label_key(field_path: str) -> str:
    """lines[3].quantity -> line.quantity; buyer.tax_id stays."""
    if field_path.startswith("lines[") and "]." in field_path:
        return "line." + field_path.split("].", 1)[1]
    if field_path.startswith("lines["):
        return "lines"
    return field_path


def _readable(field_path: str) -> str:
    """An id without a label, as English words: "red_form.reason" -> "red form reason"."""
    return field_path.replace("_", " ").replace(".", " ").strip() or field_path


def field_label(field_path: str, lang: str = "zh") -> str:
    """The clerk's name for a field path; "[2]buyer.name" (the third invoice of a list) keeps its prefix,
    "rows[3].unit" (row 3 of a file) names its row. An id without a label of its own takes the label of its
    last part (a.b.tax_rate -> 税率/征收率), so a message never shows a bare id in Chinese when it can help it."""
    if field_path.startswith("[") and "]" in field_path:
        prefix, rest = field_path[: field_path.index("]") + 1], field_path[field_path.index("]") + 1 :]
        number = int(prefix[1:-1]) + 1
        inner = field_label(rest, lang)
        return f"第{number}张发票{inner}" if lang == "zh" else f"invoice {number} {inner}"
    if field_path.startswith("rows[") and "]" in field_path and field_path[5 : field_path.index("]")].isdigit():
        row, rest = field_path[5 : field_path.index("]")], field_path[field_path.index("]") + 1 :].lstrip(".")
        inner = field_label(rest, lang) if rest else ""
        return f"第{row}行{inner}" if lang == "zh" else f"row {row}" + (f" {inner}" if inner else "")
    labels = FIELD_LABELS.get(_label_key(field_path))
    if labels is None and "." in field_path:
        labels = FIELD_LABELS.get(field_path.rsplit(".", 1)[1])
    if labels is None:
        return field_path if lang == "zh" else _readable(field_path)
    label = labels[0] if lang == "zh" else labels[1]
    if field_path.startswith("lines[") and field_path[6 : field_path.index("]")].isdigit():
        index = int(field_path[6 : field_path.index("]")])
        label = f"第{index + 1}行{label}" if lang == "zh" else f"line {index + 1} {label}"
    return label


@dataclass(frozen=True)
class FieldError:
    """One broken rule: the field path (as in the protocol's JSON) and what is wrong."""

    field: str
    message_zh: str
    message_en: str
    # A failed check character of a taxpayer id is the one error a clerk may override.
    overridable: bool = False

    def message(self, lang: str = "zh") -> str:
        return self.message_zh if lang == "zh" else self.message_en

    def describe(self, lang: str = "zh") -> str:
        """'购买方纳税人识别号：…' / 'buyer taxpayer id: …': the field by the clerk's name for it. The id itself
        stays in `field` (for --json output and for the form, which marks the widget of each id)."""
        label = field_label(self.field, lang)
        message = self.message_zh if lang == "zh" else self.message_en or self.message_zh
        if message.startswith(label):  # "平台记录不是有效发票" names its field already
            return message
        return f"{label}：{message}" if lang == "zh" else f"{label}: {message}"

    def as_json(self, lang: str = "zh") -> dict[str, str]:
        """For machine-readable output: the id, its name and the message in both languages."""
        return {"field": self.field, "label": field_label(self.field, lang), "message": self.message_zh,
                "message_en": self.message_en}


class ValidationFailed(DeskError):
    """Raised by services when an input breaks a rule; nothing has been stored. Each error names its field."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, errors: list[FieldError] | None = None) -> None:
        self.errors: list[FieldError] = list(errors or [])
        super().__init__("；".join(e.describe("zh") for e in self.errors),
                         "; ".join(e.describe("en") for e in self.errors))

    def __str__(self) -> str:
        return "; ".join(e.describe() for e in self.errors)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ValidationFailed) and type(other) is type(self) and other.errors == self.errors

    __hash__ = None  # type: ignore[assignment]  # compared by its errors, like the dataclass it was

    def describe(self, lang: str = "zh") -> str:
        return "\n".join(e.describe(lang) for e in self.errors)


# --- messages kept as text -----------------------------------------------------------------------------
# An upload's last_error, an outage's errors, an audit entry's error are kept as text: what
# DeskError.describe("zh") wrote ("中文 (English)"), or English alone (older desks, and a few words the sync
# layer writes itself). stored_message() gives such a text back in one language, so a Chinese view never shows
# the English half and an English one never the Chinese.

# The platform calls as messages name them (app/platform/http_client.py), in Chinese.
PLATFORM_CALLS: dict[str, str] = {
    "health": "健康检查", "list": "发票列表", "tax-codes": "税收分类编码表", "taxpayer": "纳税人信息",
    "number-blocks": "申领号段", "quota": "发票额度", "uploads": "上传发票", "upload results": "读取受理结果",
    "invoice look-up": "按号码查询", "issue": "平台开具", "monthly summary": "月度汇总",
    "monthly summary withdrawal": "撤回月度汇总", "red-letter form": "红字确认单", "red-letter forms": "红字确认单列表",
    "red-letter form decision": "红字确认单确认意见",
}


def has_chinese(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" or "\u3000" <= c <= "\u303f" or "\uff00" <= c <= "\uffef" for c in text)


def _zh(text: str) -> str:
    return stored_message(text, "zh")


def _call(what: str) -> str:
    return PLATFORM_CALLS.get(what, what)


def _with(detail: str | None) -> str:
    return f"（{detail}）" if detail else ""


# English as the transport, the client and the sync layer write it -> the same in Chinese. Each pattern must match
# the whole text; the first that does wins. Messages the platform code makes now say the same as these (a test
# holds them together), so an old stored text reads as a new one.
_ENGLISH_SOURCES: tuple[tuple[str, Callable[[re.Match[str]], str]], ...] = (
    (r"HTTP (\d{3}) from the platform", lambda m: f"平台暂时不可用（HTTP {m[1]}）"),
    (r"HTTP (\d{3})(?: [A-Za-z ]*)?", lambda m: f"平台暂时不可用（HTTP {m[1]}）"),
    (r"connection refused(?:[,:]? \(?(.*?)\)?)?", lambda m: f"连接被拒绝{_with(m[1])}"),
    (r"timeout after ([\d.]+) ?s(?:, (.*))?", lambda m: f"平台无应答，{m[1]} 秒超时{_with(m[2])}"),
    (r"the answer did not complete within the total deadline of ([\d.]+)s(?:, (.*))?",
     lambda m: f"平台应答未在总期限 {m[1]} 秒内完成{_with(m[2])}"),
    (r"connection dropped(?:, (.*))?", lambda m: f"连接中断{_with(m[1])}"),
    (r"malformed HTTP answer(?:, (.*))?", lambda m: f"平台应答不符合 HTTP 协议{_with(m[1])}"),
    (r"answer is not JSON, HTTP (\d{3})", lambda m: f"平台应答无法识别（不是 JSON，HTTP {m[1]}）"),
    (r"answer is not the protocol's JSON", lambda m: "平台应答不符合协议"),
    (r"unexpected answer, HTTP (\d{3}), to (.+)", lambda m: f"平台应答不符合协议（HTTP {m[1]}，{_call(m[2])}）"),
    (r"unexpected answer to issue: (.+)", lambda m: f"平台开具的应答不符合协议（{_zh(m[1])}）"),
    (r"answer too large: more than (\d+) bytes, cut off; (.+)",
     lambda m: f"平台应答过大，超过 {m[1]} 字节，已中断（{m[2]}）"),
    (r"redirect not followed: HTTP (\d{3}) to (.*?), (\S+ \S+)",
     lambda m: f"平台应答重定向，未跟随（HTTP {m[1]} 至 {m[2]}，{m[3]}）"),
    (r"the platform refused the token(?:, | \()401 unauthorized\)?: set a valid token \(current (.*)\)",
     lambda m: f"平台拒绝了令牌（HTTP 401）：请设置有效的令牌（当前 {_token(m[1])}）"),
    (r"the request id was used with a different body \(409 key_conflict\)",
     lambda m: "该请求号已用于内容不同的请求（409 key_conflict）"),
    (r"key_conflict", lambda m: "该请求号已用于内容不同的请求（409 key_conflict）"),
    (r"month (\d{6}) is closed", lambda m: f"{m[1]} 已结账"),
    (r"results of (.+) expired: look them up by number", lambda m: f"平台已不保留受理结果（{m[1]}），改按号码查询"),
    (r"results expired: looked up by number", lambda m: "平台已不保留受理结果，改按号码查询"),
    (r"the platform does not know acceptance id (.+): look them up by number",
     lambda m: f"平台不认识受理流水号 {m[1]}，改按号码查询"),
    (r"sender stopped before the answer arrived", lambda m: "发送程序在平台应答前停止，结果待确认"),
    (r"worker stopping", lambda m: "上传程序正在停止，未发送"),
    (r"month (\d{6}) was confirmed: confirmation withdrawn, uploaded again",
     lambda m: f"{m[1]} 月度汇总曾已确认：已撤回确认，重新上传"),
    (r"uploads failing", lambda m: "上传连续失败"),
    (r"slow answer \(([\d.]+)s\)", lambda m: f"平台应答慢（{m[1]} 秒）"),
    (r"sent again from the queue view", lambda m: "从上传队列重新上传"),
    (r"requeued from the command line", lambda m: "从命令行重新排队"),
    (r"requeued by the clerk", lambda m: "开票员重新排队"),
    (r"not on the platform \(looked up by number\)", lambda m: "平台没有这张发票（按号码查询），重新上传"),
    (r"number (\S+) is already the desk's invoice (\S+)", lambda m: f"号码 {m[1]} 已是本机发票 {m[2]} 的号码"),
    (r"the platform holds (\S+) for another seller", lambda m: f"平台上的 {m[1]} 属于另一销售方"),
    (r"the platform holds (\S+) with another ([\w.]+): (.*)",
     lambda m: f"平台上的 {m[1]} {field_label(m[2])}不同：{m[3]}"),
    (r"the platform refuses: the taxpayer may not issue now(?:: (.+)| \((.+)\))?",
     lambda m: "平台拒绝：纳税人当前不能开票" + (f"（{_zh(m[1] or m[2])}）" if m[1] or m[2] else "")),
    (r"invalid", lambda m: "不符合平台规则"),
    # Why a reconciliation's fix was not made (app/services/reconcile.py).
    (r"already in the store", lambda m: "本机已有此发票"),
    (r"no longer in the store", lambda m: "本机已没有此发票"),
    (r"the record carries another key", lambda m: "平台记录的幂等键不同"),
    (r"its key is in the store already \(another invoice\)", lambda m: "其幂等键已属于本机另一张发票"),
    # The codes of the rules the platform names (an upload result's error).
    (r"upload_too_late", lambda m: "超期未上传，平台不再接受"),
    (r"month_closed", lambda m: "所属月份已结账"),
    (r"month_confirmed", lambda m: "所属月份已确认汇总"),
    (r"number_used", lambda m: "号码已被另一张发票使用"),
    (r"quota_exceeded", lambda m: "超出可用额度"),
    (r"taxpayer_blocked", lambda m: "纳税人当前不能开票"),
    (r"unknown error", lambda m: "未知错误"),
    (r"([A-Z]\w*(?:Error|Exception)): (.*)", lambda m: f"意外错误（{m[1]}: {m[2]}）"),
)


@functools.cache
def _english() -> tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...]:
    """The patterns compiled when a stored text is first read, not at import (this module is on every start's
    path, and some fifty patterns cost it a few tens of milliseconds)."""
    return tuple((re.compile(pattern, re.DOTALL), make) for pattern, make in _ENGLISH_SOURCES)


def _token(masked: str) -> str:
    return "未设置" if masked in ("(none)", "") else masked


def _translated(english: str) -> str | None:
    for pattern, make in _english():
        found = pattern.fullmatch(english)
        if found is not None:
            return make(found)
    return None


def _trailing_parenthesis(text: str) -> int | None:
    """Where the " (…)" that ends text opens (ASCII parentheses, balanced), or None."""
    if not text.endswith(")"):
        return None
    depth = 0
    for index in range(len(text) - 1, -1, -1):
        if text[index] == ")":
            depth += 1
        elif text[index] == "(":
            depth -= 1
            if depth == 0:
                return index if index > 1 and text[index - 1] == " " else None
    return None


# Words the sync layer puts around another message: (English before, after; Chinese before, after).
_WRAPS: tuple[tuple[str, str, str, str], ...] = (
    ("upload refused: ", "", "上传被平台拒绝：", ""),
    ("look-up failed: ", "", "按号码查询失败：", ""),
    ("uploads failing: ", "", "上传连续失败：", ""),
    ("not sent: the platform failed on the record before (", ")", "未发送：平台处理上一张时失败（", "）"),
    ("not sent: the platform's answer to the record before did not fit (", ")",
     "未发送：平台对上一张的应答不符合协议（", "）"),
)
_CALL = re.compile(r"((?:GET|POST|DELETE) /\S*): (.+)", re.DOTALL)
# What older desks wrote: "中文 (English): the rest" (the 401, a taxpayer refused).
_OLD_MIXED = re.compile(r"([^()]*[\u4e00-\u9fff][^()]*) \(([^()\u4e00-\u9fff]+)\): (.+)", re.DOTALL)


def split_message(text: str) -> tuple[str, str]:
    """A message kept as text as (Chinese, English): "中文 (English)" and "English (中文)" split, English alone
    put into Chinese when it is a known one; a text that cannot be split is both."""
    text = (text or "").strip()
    for en_before, en_after, zh_before, zh_after in _WRAPS:
        if text.startswith(en_before) and text.endswith(en_after) and len(text) > len(en_before) + len(en_after):
            zh, en = split_message(text[len(en_before) : len(text) - len(en_after)])
            return zh_before + zh + zh_after, en_before + en + en_after
    call = _CALL.fullmatch(text)
    if call is not None:
        zh, en = split_message(call[2])
        return f"{call[1]}：{zh}", f"{call[1]}: {en}"
    old = _OLD_MIXED.fullmatch(text)
    if old is not None:
        zh_rest, en_rest = split_message(old[3])
        return _translated(f"{old[2]}: {old[3]}") or f"{old[1]}：{zh_rest}", f"{old[2]}: {en_rest}"
    opening = _trailing_parenthesis(text)
    if opening is not None:
        outer, inner = text[: opening - 1].rstrip(), text[opening + 1 : -1].strip()
        if has_chinese(outer) and inner and not has_chinese(inner[:1]):
            # An older desk kept the details in the English half only ("平台暂时不可用 (HTTP 503 from the
            # platform)"): the Chinese is made from it. A newer message carries them in its own （…）.
            return (outer if "（" in outer else _translated(inner) or outer), inner
        if not has_chinese(outer) and has_chinese(inner):
            return inner, outer
    if not has_chinese(text):
        return _translated(text) or text, text
    return text, text


def stored_message(text: str, lang: str = "zh") -> str:
    """A message kept as text (see split_message) in the chosen language."""
    zh, en = split_message(text)
    return zh if lang == "zh" else en
