"""The seller profile: set once on first start, used for every invoice after."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.clock import now_iso
from app.core.errors import FieldError, ValidationFailed
from app.core.invoice import Party
from app.core.taxid import check_tax_id, normalize_tax_id
from app.core.validation import TAXPAYER_TYPES
from app.store import audit
from app.store.models import SellerProfile, database


@dataclass(frozen=True)
class SellerSettings:
    party: Party
    drawer: str = ""
    payee: str = ""
    reviewer: str = ""
    tax_id_confirmed: bool = False
    taxpayer_type: str = "general"  # general / small: which rates the seller may invoice at


_SELLER_SQL = ('SELECT "name", "tax_id", "address", "phone", "bank", "account", "drawer", "payee", "reviewer", '
               '"tax_id_confirmed", "taxpayer_type" FROM "seller_profile" WHERE "id" = 1')


def get_seller() -> SellerSettings | None:
    # Read at every issue: plain SQL, not a query peewee builds each time (the same columns and conversions).
    row = database.execute_sql(_SELLER_SQL).fetchone()
    if row is None:
        return None
    name, tax_id, address, phone, bank, account, drawer, payee, reviewer, confirmed, taxpayer_type = row
    return SellerSettings(Party(name, tax_id, address, phone, bank, account), drawer, payee, reviewer,
                          bool(confirmed), taxpayer_type)


def validate_seller(name: str, tax_id: str, drawer: str, confirm_tax_id: bool,
                    taxpayer_type: str = "general") -> list[FieldError]:
    errors: list[FieldError] = []
    if taxpayer_type not in TAXPAYER_TYPES:
        errors.append(FieldError("taxpayer_type",
                                 f"“{taxpayer_type}”不是纳税人类型（general 一般纳税人 / small 小规模纳税人）",
                                 f"{taxpayer_type!r} is not a taxpayer type (general or small)"))
    if not name.strip():
        errors.append(FieldError("seller.name", "不能为空", "is required"))
    tax_id = normalize_tax_id(tax_id)
    if not tax_id:
        errors.append(FieldError("seller.tax_id", "不能为空", "is required"))
    else:
        check = check_tax_id(tax_id)
        if not check.ok and not (check.check_char_failed and confirm_tax_id):
            errors.append(FieldError("seller.tax_id", check.message_zh, check.message_en, check.check_char_failed))
    if not drawer.strip():
        errors.append(FieldError("drawer", "不能为空", "is required"))
    for value, key, limit in ((name, "seller.name", 300), (drawer, "drawer", 300)):
        if len(value.strip()) > limit:
            errors.append(FieldError(key, f"不能超过{limit}个字", f"must be at most {limit} characters"))
    return errors


def set_seller(*, name: str, tax_id: str, drawer: str, address: str = "", phone: str = "", bank: str = "",
               account: str = "", payee: str = "", reviewer: str = "", confirm_tax_id: bool = False,
               taxpayer_type: str = "general", clerk: str | None = None) -> SellerSettings:
    """Create or replace the profile; raises ValidationFailed naming the field and stores nothing."""
    errors = validate_seller(name, tax_id, drawer, confirm_tax_id, taxpayer_type)
    if errors:
        raise ValidationFailed(errors)
    tax_id = normalize_tax_id(tax_id)
    confirmed = not check_tax_id(tax_id).ok
    drawer = drawer.strip()
    fields: dict[str, str | bool] = {
        "name": name.strip(), "tax_id": tax_id, "address": address.strip(), "phone": phone.strip(),
        "bank": bank.strip(), "account": account.strip(), "drawer": drawer, "payee": payee.strip(),
        "reviewer": reviewer.strip(), "tax_id_confirmed": confirmed, "taxpayer_type": taxpayer_type,
        "updated_at": now_iso()}
    with database.atomic("IMMEDIATE"):
        existed = SellerProfile.get_or_none(SellerProfile.id == 1) is not None
        if existed:
            SellerProfile.update(**fields).where(SellerProfile.id == 1).execute()
        else:
            SellerProfile.create(id=1, **fields)
        audit.append("seller_updated" if existed else "seller_created", clerk=clerk or drawer,
                     detail={k: v for k, v in fields.items() if k != "updated_at"})
    settings = get_seller()
    assert settings is not None
    return settings
