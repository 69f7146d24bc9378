"""Red-letter confirmation forms (红字确认单) on the reference platform (platform-api-v2.md, shudian-rules.md
section 4; what this server decides: docs/platform-api-v2-reference.md "Red-letter forms").

States: 01 no confirmation needed, 02 raised by the seller and waiting for the buyer, 03 raised by the
buyer and waiting for the seller, 04 confirmed by both, 05 / 06 refused by the buyer / the seller,
07 void (not answered within 72 hours), 08 withdrawn by who raised it, 09 withdrawn after
confirmation. A red invoice may be issued on a form in 01 or 04, once.

A form takes, from what is left of its blue invoice (its total with tax less every red invoice
accepted against it), what it reverses; so do the other open forms (01 to 04 not yet used), so that
two forms racing for the same remainder cannot both be raised. Every method runs inside the
platform's request (its lock and transaction), after the 72-hour expiry has been applied.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from app.core.money import to_money
from app.platform.answer import Answer, detail, error
from app.platform.v2.clock import parse_stamp, shown, stamp
from app.platform.v2.store import content_hash, dumps

if TYPE_CHECKING:
    from app.platform.v2.platform import V2Platform
    from app.platform.v2.store import V2Store

ANSWER_WITHIN = timedelta(hours=72)
REASONS = {"01": "开票有误", "02": "销货退回", "03": "服务中止", "04": "销售折让"}
USABLE = ("01", "04")  # a red invoice may be issued on these
OPEN = ("01", "02", "03", "04")  # still holding a part of the blue invoice (until used)
WAITING = ("02", "03")  # waiting for the other party: void after 72 hours
MAX_KEY = 100


def _invalid(field: str, zh: str, en: str) -> Answer:
    return error(422, "invalid", "红字确认单不符合规则", "the red-letter form breaks a rule", [detail(field, zh, en)])


def _conflict() -> Answer:
    return error(409, "key_conflict", "该请求号已用于另一请求", "the request id was used before with a different body")


def _not_found() -> Answer:
    return error(404, "not_found", "红字确认单不存在", "no such red-letter form")


def _money(value: Any) -> Decimal | None:
    if not isinstance(value, str):
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and amount == to_money(amount) else None


def _decimal(value: Any) -> Decimal | None:
    if value is None or not isinstance(value, str):
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


class RedForms:
    def __init__(self, platform: V2Platform) -> None:
        self.platform = platform

    @property
    def store(self) -> V2Store:
        return self.platform.store

    # --- state ---------------------------------------------------------------------------------

    def expire(self, now: datetime) -> None:
        """Forms waiting for the other party for 72 hours become 07 (void)."""
        for row in self.store.all("SELECT uuid, created_at FROM v2_red_form WHERE status IN ('02', '03')"):
            if parse_stamp(row["created_at"]) + ANSWER_WITHIN <= now:
                self.store.run("UPDATE v2_red_form SET status = '07', updated_at = ? WHERE uuid = ?", stamp(now),
                               row["uuid"])

    def _view(self, row: sqlite3.Row) -> dict[str, Any]:
        created = parse_stamp(row["created_at"])
        view = {"uuid": row["uuid"], "form_number": row["form_number"], "status": row["status"],
                "raised_by": row["raised_by"], "original_number": row["original_number"], "reason": row["reason"],
                "reason_name": REASONS.get(row["reason"], ""), "lines": json.loads(row["lines"]),
                "total_amount": _fen_text(row["amount_fen"]), "total_tax": _fen_text(row["tax_fen"]),
                "seller_tax_id": row["seller_tax_id"], "buyer_tax_id": row["buyer_tax_id"],
                "created_at": shown(created), "updated_at": shown(parse_stamp(row["updated_at"])),
                "red_number": row["red_number"]}
        if row["status"] in WAITING:
            view["expires_at"] = shown(created + ANSWER_WITHIN)
        return view

    def _row(self, form_uuid: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.store.one("SELECT * FROM v2_red_form WHERE uuid = ? AND seller_tax_id = ?",
                                                 form_uuid, self.platform.seller)
        return row

    def taken_by_open_forms(self, original_number: str, except_uuid: str | None = None) -> int:
        """Fen (with tax, negative) the open forms of a blue invoice hold, not yet used by a red invoice."""
        row = self.store.one("SELECT COALESCE(SUM(amount_fen + tax_fen), 0) FROM v2_red_form WHERE original_number = ?"
                             " AND status IN ('01', '02', '03', '04') AND red_number IS NULL AND uuid != ?",
                             original_number, except_uuid or "")
        return int(row[0]) if row is not None else 0

    # --- raising -------------------------------------------------------------------------------

    def _checked_lines(self, blue: sqlite3.Row, reason: str, lines: Any
                       ) -> tuple[list[dict[str, Any]], int, int] | Answer:
        blue_lines = json.loads(blue["body"]).get("lines") or []
        if not isinstance(lines, list) or not lines:
            return _invalid("lines", "应列出红冲的行（至少一行）", "must list the lines reversed (one at least)")
        kept: list[dict[str, Any]] = []
        amount_fen = tax_fen = 0
        seen: set[int] = set()
        for index, line in enumerate(lines):
            field = f"lines[{index}]"
            if not isinstance(line, dict):
                return _invalid(field, "应为对象", "must be an object")
            number = line.get("original_line_no")
            if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= len(blue_lines):
                return _invalid(f"{field}.original_line_no", f"应为蓝字发票的行号（1至{len(blue_lines)}）",
                                f"must be a line number of the blue invoice (1 to {len(blue_lines)})")
            if number in seen:
                return _invalid(f"{field}.original_line_no", "同一行不能红冲两次", "reverses a line twice")
            seen.add(number)
            blue_line = blue_lines[number - 1]
            amount, tax = _money(line.get("amount")), _money(line.get("tax"))
            if amount is None or amount >= 0:
                return _invalid(f"{field}.amount", "应为负的金额（两位小数）", "must be a negative amount (two places)")
            if tax is None or tax > 0:
                return _invalid(f"{field}.tax", "应为不大于零的税额（两位小数）",
                                "must be a tax of zero or less (two places)")
            blue_amount = _money(blue_line.get("amount")) or Decimal(0)
            following = blue_lines[number] if number < len(blue_lines) else None
            if blue_line.get("nature") == "discounted" and isinstance(following, dict) \
                    and following.get("nature") == "discount":
                blue_amount += _money(following.get("amount")) or Decimal(0)  # its discount spread onto it
            if -amount > blue_amount:
                return _invalid(f"{field}.amount", f"超过蓝字发票该行金额（{blue_amount}）",
                                f"more than the blue line's amount ({blue_amount})")
            quantity = _decimal(line.get("quantity"))
            code = str(blue_line.get("tax_code") or "")
            price = _decimal(blue_line.get("unit_price"))
            blue_quantity = _decimal(blue_line.get("quantity"))
            if price is not None and blue_quantity and blue_amount != (_money(blue_line.get("amount")) or 0):
                price = blue_amount / blue_quantity  # a discounted line keeps its net unit price
            refusal = self._reason_rule(field, reason, code, quantity, amount, price, line)
            if refusal is not None:
                return refusal
            kept.append({"original_line_no": number, "quantity": line.get("quantity"),
                         "amount": f"{amount:f}", "tax": f"{tax:f}"})
            amount_fen += int(amount * 100)
            tax_fen += int(tax * 100)
        return kept, amount_fen, tax_fen

    @staticmethod
    def _reason_rule(field: str, reason: str, code: str, quantity: Decimal | None, amount: Decimal,
                     price: Decimal | None, line: Mapping[str, Any]) -> Answer | None:
        """shudian-rules.md section 4: what each reason may change, and which codes may use it. `price` is the
        blue line's unit price, net of the discount that follows it."""
        goods = code[:1] in ("1", "2")
        if reason == "03" and goods:
            return _invalid(f"{field}.original_line_no", "货物编码的行不能以服务中止红冲",
                            "a goods line cannot be reversed for 服务中止 (service stopped)")
        if reason == "02" and code[:1] == "3":
            return _invalid(f"{field}.original_line_no", "服务编码的行不能以销货退回红冲",
                            "a service line cannot be reversed for 销货退回 (goods returned)")
        if reason == "04":
            if line.get("quantity") not in (None, "") or line.get("unit_price") not in (None, ""):
                return _invalid(f"{field}.quantity", "销售折让不填数量和单价",
                                "a 销售折让 (allowance) has no quantity or unit price")
            return None
        if reason == "02":
            if quantity is None or quantity >= 0:
                return _invalid(f"{field}.quantity", "销货退回应填负的退回数量", "a return gives the negative quantity")
            if price is not None and abs(abs(amount / quantity) - price) > Decimal("0.01"):
                return _invalid(f"{field}.amount", f"销货退回不能改变单价（蓝字发票为 {price}）",
                                f"a return keeps the unit price ({price} on the blue invoice)")
        if line.get("unit_price") not in (None, ""):
            given = _decimal(line.get("unit_price"))
            if reason in ("02", "03") and given is not None and price is not None \
                    and abs(abs(given) - price) > Decimal("0.01"):
                return _invalid(f"{field}.unit_price", "该红冲原因不能改变单价",
                                "this reason may not change the unit price")
        return None

    def _form_number(self, now: datetime) -> str:
        return f"{now:%Y%m%d}{self.store.reserve('red_form', 0, 1):012d}"

    def _raise(self, now: datetime, body: Mapping[str, Any], raised_by: str, blue_number: Any,
               request_id: str | None, digest: str | None) -> Answer:
        reason = body.get("reason")
        if reason not in REASONS:
            return _invalid("reason", "应为 01 开票有误、02 销货退回、03 服务中止 或 04 销售折让",
                            "must be 01, 02, 03 or 04")
        blue = self.store.invoice(blue_number) if isinstance(blue_number, str) else None
        if blue is None or blue["seller_tax_id"] != self.platform.seller:
            return error(422, "original_not_found", "平台没有该蓝字发票", "the platform holds no such blue invoice",
                         [detail("original_number", "平台没有该蓝字发票", "no such blue invoice of this seller")])
        if blue["red"]:
            return _invalid("original_number", "是红字发票，不能红冲", "is a red-letter invoice")
        if blue["status"] == "reversed_in_full":
            return _invalid("original_number", "蓝字发票已全额红冲", "the blue invoice is reversed in full")
        checked = self._checked_lines(blue, str(reason), body.get("lines"))
        if isinstance(checked, Answer):
            return checked
        lines, amount_fen, tax_fen = checked
        left = blue["with_tax_fen"] + self.store.reds_of(blue["number"]) + self.taken_by_open_forms(blue["number"])
        if left + amount_fen + tax_fen < 0:
            return _invalid("lines", f"超过蓝字发票尚可红冲的金额（{_fen_text(left)}，已扣除其他未用的确认单）",
                            f"more than what is left of the blue invoice ({_fen_text(left)}, other open forms "
                            "included)")
        buyer_tax_id = str(json.loads(blue["body"]).get("buyer", {}).get("tax_id") or "")
        if raised_by == "seller":
            status = "02" if blue["used_by_buyer"] else "01"
        else:
            status = "03"
        form_uuid = str(uuid.uuid4())
        self.store.run(
            "INSERT INTO v2_red_form (uuid, form_number, seller_tax_id, buyer_tax_id, request_id, request_hash,"
            " raised_by, original_number, reason, lines, amount_fen, tax_fen, status, answer, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)", form_uuid, self._form_number(now),
            self.platform.seller, buyer_tax_id, request_id, digest, raised_by, blue["number"], reason, dumps(lines),
            amount_fen, tax_fen, status, stamp(now), stamp(now))
        row = self._row(form_uuid)
        assert row is not None
        answer = self._view(row)
        if request_id is not None:
            answer["request_id"] = request_id
        self.store.run("UPDATE v2_red_form SET answer = ? WHERE uuid = ?", dumps(answer), form_uuid)
        return Answer(201, answer)

    def raise_form(self, now: datetime, body: Mapping[str, Any]) -> Answer:
        """POST /v2/red-forms by the seller. The same request id with the same body: the first answer again."""
        request_id = body.get("request_id")
        if not isinstance(request_id, str) or not request_id.strip() or len(request_id) > MAX_KEY:
            return _invalid("request_id", f"不能为空，且不超过{MAX_KEY}个字符",
                            f"is required, at most {MAX_KEY} characters")
        digest = content_hash({k: body.get(k) for k in ("original_number", "reason", "lines")})
        known = self.store.one("SELECT request_hash, answer FROM v2_red_form WHERE seller_tax_id = ? AND "
                               "request_id = ?", self.platform.seller, request_id)
        if known is not None:
            return Answer(201, json.loads(known["answer"])) if known["request_hash"] == digest else _conflict()
        return self._raise(now, body, "seller", body.get("original_number"), request_id, digest)

    # --- reading -------------------------------------------------------------------------------

    def forms(self, query: Mapping[str, str]) -> Answer:
        wanted = query.get("status")
        if wanted is not None and wanted not in {f"{i:02d}" for i in range(1, 11)}:
            return _invalid("status", "应为 01 至 10", "must be 01 to 10")
        rows = self.store.all("SELECT * FROM v2_red_form WHERE seller_tax_id = ? AND (? IS NULL OR status = ?) "
                              "ORDER BY created_at, form_number", self.platform.seller, wanted, wanted)
        return Answer(200, {"items": [self._view(row) for row in rows]})

    def form(self, form_uuid: str) -> Answer:
        row = self._row(form_uuid)
        return Answer(200, self._view(row)) if row is not None else _not_found()

    # --- answering -----------------------------------------------------------------------------

    def decide(self, now: datetime, form_uuid: str, body: Mapping[str, Any]) -> Answer:
        """The seller's answer to a 03 form (agree / disagree), or the withdrawal of its own (revoke)."""
        request_id = body.get("request_id")
        if not isinstance(request_id, str) or not request_id.strip() or len(request_id) > MAX_KEY:
            return _invalid("request_id", f"不能为空，且不超过{MAX_KEY}个字符",
                            f"is required, at most {MAX_KEY} characters")
        decision = body.get("decision")
        digest = content_hash({"decision": decision})
        known = self.store.one("SELECT request_hash, answer FROM v2_red_form_decision WHERE uuid = ? AND "
                               "request_id = ?", form_uuid, request_id)
        if known is not None:
            return Answer(200, json.loads(known["answer"])) if known["request_hash"] == digest else _conflict()
        row = self._row(form_uuid)
        if row is None:
            return _not_found()
        if decision not in ("agree", "disagree", "revoke"):
            return _invalid("decision", "应为 agree、disagree 或 revoke", "must be agree, disagree or revoke")
        state = row["status"]
        if decision in ("agree", "disagree"):
            if state != "03":
                return _invalid("decision", f"确认单状态为 {state}，不是待销售方确认（03）",
                                f"the form is in state {state}, not waiting for the seller (03)")
            new = "04" if decision == "agree" else "06"
        else:
            if row["raised_by"] != "seller":
                return _invalid("decision", "只能撤销本方提出的确认单", "only a form this seller raised can be revoked")
            if row["red_number"] is not None:
                return _invalid("decision", "已据此开具红字发票，不能撤销", "a red invoice was issued on it already")
            if state not in ("01", "02", "04"):
                return _invalid("decision", f"确认单状态为 {state}，不能撤销", f"a form in state {state} cannot be "
                                "revoked")
            new = "09" if state == "04" else "08"
        self.store.run("UPDATE v2_red_form SET status = ?, updated_at = ? WHERE uuid = ?", new, stamp(now), form_uuid)
        fresh = self._row(form_uuid)
        assert fresh is not None
        answer = self._view(fresh)
        self.store.run("INSERT INTO v2_red_form_decision (uuid, request_id, request_hash, decision, answer, at) "
                       "VALUES (?, ?, ?, ?, ?, ?)", form_uuid, request_id, digest, decision, dumps(answer),
                       stamp(now))
        return Answer(200, answer)

    # --- the buyer's side (POST /_buyer) --------------------------------------------------------

    def buyer_raises(self, now: datetime, body: Mapping[str, Any]) -> Answer:
        return self._raise(now, body, "buyer", body.get("number"), None, None)

    def buyer_answers(self, now: datetime, body: Mapping[str, Any]) -> Answer:
        form_uuid = body.get("uuid")
        row = self._row(form_uuid) if isinstance(form_uuid, str) else None
        if row is None:
            return _not_found()
        decision = body.get("decision")
        if decision not in ("agree", "disagree"):
            return _invalid("decision", "应为 agree 或 disagree", "must be agree or disagree")
        if row["status"] != "02":
            return _invalid("uuid", f"确认单状态为 {row['status']}，不是待购买方确认（02）",
                            f"the form is in state {row['status']}, not waiting for the buyer (02)")
        self.store.run("UPDATE v2_red_form SET status = ?, updated_at = ? WHERE uuid = ?",
                       "04" if decision == "agree" else "05", stamp(now), row["uuid"])
        fresh = self._row(row["uuid"])
        assert fresh is not None
        return Answer(200, self._view(fresh))

    # --- a red invoice on a form ----------------------------------------------------------------

    def refusal_for_red(self, form_uuid: str, original_number: str, amount_fen: int, tax_fen: int
                        ) -> list[dict[str, str]] | None:
        """Why a red invoice may not be issued on this form (None: it may). Checked before it is accepted."""
        row = self._row(form_uuid)
        if row is None or row["original_number"] != original_number:
            return [detail("red_form_uuid", "不是该蓝字发票的红字确认单",
                           "is not a red-letter form of this blue invoice")]
        if row["status"] not in USABLE:
            return [detail("red_form_uuid", f"确认单状态为 {row['status']}，只有 01 或 04 可开具红字发票",
                           f"the form is in state {row['status']}: a red invoice needs 01 or 04")]
        if row["red_number"] is not None:
            return [detail("red_form_uuid", f"已据此开具红字发票 {row['red_number']}",
                           f"red invoice {row['red_number']} was issued on it already")]
        if (row["amount_fen"], row["tax_fen"]) != (amount_fen, tax_fen):
            return [detail("total_amount", f"与确认单金额不符（{_fen_text(row['amount_fen'])} / "
                                           f"{_fen_text(row['tax_fen'])}）",
                           f"differs from the form's figures ({_fen_text(row['amount_fen'])} / "
                           f"{_fen_text(row['tax_fen'])})")]
        return None

    def mark_used(self, form_uuid: str, red_number: str, now: datetime) -> None:
        self.store.run("UPDATE v2_red_form SET red_number = ?, updated_at = ? WHERE uuid = ?", red_number, stamp(now),
                       form_uuid)


def _fen_text(value: int) -> str:
    return f"{Decimal(value) / 100:.2f}"
