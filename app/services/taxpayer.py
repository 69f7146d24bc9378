"""The seller as the platform knows it (GET /v2/taxpayer): its status and risk decide whether it may issue.

A taxpayer whose status is not 03 (normal) or 09, or who is flagged high risk, may not issue
(shudian-rules.md section 5). The desk asks at start when online and about every 24 hours, keeps
the last answer in the store (so it holds offline too) and refuses to issue while it says no. A desk
that has never heard from the platform issues: offline first, it cannot know better.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app.core.clock import in_beijing, now, now_iso
from app.core.errors import EXIT_ERROR, DeskError
from app.platform.client import Taxpayer, TransientFailure
from app.services.seller import get_seller
from app.services.settings import get_setting, set_setting
from app.store.models import Setting, database

TAXPAYER_KEY = "taxpayer"  # the last answer (a change is an audit entry)
CHECKED_KEY = "taxpayer.checked_at"  # when it was last asked: bookkeeping, not audited (it changes daily)
REFRESH_EVERY = timedelta(hours=24)
STATUS_LABELS = {"03": "正常", "09": "正常（其他）", "05": "非正常", "06": "注销", "07": "停业", "08": "报验"}


class TaxpayerBlocked(DeskError):
    """The platform says this seller may not issue now (status or risk)."""

    exit_code = EXIT_ERROR


class WrongTaxpayer(TransientFailure):
    """The platform answered for another taxpayer than this desk's seller: not believed."""


@dataclass(frozen=True)
class TaxpayerState:
    """What the desk last heard, as the status bar and `taxpayer show` tell it."""

    tax_id: str
    name: str
    status: str
    risk: str
    taxpayer_type: str
    channels: tuple[str, ...]
    checked_at: str

    @property
    def may_issue(self) -> bool:
        return self.status in ("03", "09") and self.risk != "blocked"

    def reason(self) -> tuple[str, str]:
        """Why it may not issue, in Chinese and English ('' when it may)."""
        if self.risk == "blocked":
            return ("平台将本纳税人列为高风险，暂停开票；请联系主管税务机关",
                    "the platform flags this taxpayer as high risk and has stopped its invoicing: "
                    "contact the tax office")
        if self.status not in ("03", "09"):
            label = STATUS_LABELS.get(self.status, "非正常")
            return (f"纳税人状态为 {self.status}（{label}），不能开具发票；请联系主管税务机关",
                    f"taxpayer status {self.status} is not normal (03): invoicing is not allowed; "
                    "contact the tax office")
        return "", ""


def last_known() -> TaxpayerState | None:
    value = get_setting(TAXPAYER_KEY)
    if not isinstance(value, dict):
        return None
    try:
        return TaxpayerState(tax_id=str(value["tax_id"]), name=str(value["name"]), status=str(value["status"]),
                             risk=str(value["risk"]), taxpayer_type=str(value["taxpayer_type"]),
                             channels=tuple(str(c) for c in value.get("channels", [])),
                             checked_at=str(get_setting(CHECKED_KEY) or ""))
    except KeyError:
        return None


def refresh(client: Any, clerk: str = "") -> TaxpayerState:
    """Ask the platform and keep its answer; raises TransientFailure when it cannot be asked or believed."""
    answer: Taxpayer = client.taxpayer()
    seller = get_seller()
    if seller is not None and answer.tax_id != seller.party.tax_id:
        raise WrongTaxpayer(f"平台答复的纳税人（{answer.tax_id}）不是本机的销售方（{seller.party.tax_id}），未采信 "
                            f"(the platform answered for taxpayer {answer.tax_id}, not this desk's seller "
                            f"{seller.party.tax_id}: not believed)")
    value = {"tax_id": answer.tax_id, "name": answer.name, "status": answer.status, "risk": answer.risk,
             "taxpayer_type": answer.taxpayer_type, "channels": list(answer.channels)}
    # set_setting writes (and audits) only a change: a daily answer that says the same adds no entry.
    set_setting(TAXPAYER_KEY, value, clerk=clerk)
    with database.atomic("IMMEDIATE"):
        Setting.insert(key=CHECKED_KEY, value=json.dumps(now_iso())).on_conflict_replace().execute()
    state = last_known()
    assert state is not None
    return state


def due(at: datetime | None = None) -> bool:
    """Whether the desk should ask again: never asked, or more than 24 hours ago."""
    state = last_known()
    if state is None or not state.checked_at:
        return True
    try:
        checked = in_beijing(datetime.fromisoformat(state.checked_at))
    except ValueError:
        return True
    return (at or now()) - checked >= REFRESH_EVERY


def check_may_issue() -> None:
    """Raises TaxpayerBlocked when the platform's last answer says this seller may not issue."""
    state = last_known()
    if state is None or state.may_issue:
        return
    zh, en = state.reason()
    raise TaxpayerBlocked(f"taxpayer（纳税人）：{zh}（{state.checked_at} 平台答复）",
                          f"taxpayer: {en} (the platform's answer of {state.checked_at})")
