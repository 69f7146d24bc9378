"""What the line table offers for a line's code: its short name, the rates and policy flags it may take.

No rule lives here: the rates a code allows are those the core's own check accepts
(app.core.validation.check_rate_and_policy, the check every invoice line gets), the rate a code
or a policy brings is app.core.catalog_rules.default_rate, and the table in force is read
through the store's read models (app.store.taxcode_search, app.store.taxcodes).
"""

from __future__ import annotations

from collections.abc import Callable

from app.core.catalog_rules import default_rate
from app.core.tax import RATES
from app.core.taxcodes import POLICIES, TaxCode
from app.core.validation import SMALL_TAXPAYER_RATES, check_rate_and_policy
from app.store.taxcode_search import TaxCodeHit, get_code
from app.store.taxcodes import StoredTaxCodes

ALL_RATES = tuple(rate.code for rate in RATES)
ALL_POLICIES = tuple(policy.flag for policy in POLICIES)


class LineChoices:
    """One per form: the seller's taxpayer type, and the codes looked up so far (the table is read when a
    code is first asked about; refresh() forgets them, e.g. after the table was updated)."""

    def __init__(self, taxpayer_type: str = "general", lookup: Callable[[str], TaxCodeHit | None] = get_code) -> None:
        self.taxpayer_type = taxpayer_type
        self._lookup = lookup
        self._hits: dict[str, TaxCodeHit | None] = {}
        self._codes = StoredTaxCodes()

    def refresh(self) -> None:
        self._hits.clear()
        self._codes = StoredTaxCodes()

    def hit(self, code: str) -> TaxCodeHit | None:
        code = code.strip()
        if not code:
            return None
        if code not in self._hits:
            self._hits[code] = self._lookup(code)
        return self._hits[code]

    def remember(self, hit: TaxCodeHit) -> None:
        """A code the picker found: no second look-up for it."""
        self._hits[hit.code] = hit

    def short_name(self, code: str) -> str:
        hit = self.hit(code)
        return hit.short_name if hit is not None else ""

    def _code(self, code: str) -> TaxCode | None:
        return self._codes.get(code.strip()) if self.hit(code) is not None else None

    def rates(self, code: str, policy: str = "") -> tuple[str, ...]:
        """The rates a line of this code (with this policy flag) may carry, the code's usual ones first;
        every rate when the code is not known (yet)."""
        known = self._code(code)
        if known is None:
            return ALL_RATES
        allowed = [rate for rate in ALL_RATES
                   if not check_rate_and_policy({"tax_rate": rate, "policy": policy or None}, "", known,
                                                self.taxpayer_type)[0]]
        # The usual rates first: the code's own (a small taxpayer's 征收率 in their order).
        usual = SMALL_TAXPAYER_RATES if self.taxpayer_type == "small" else known.line_rates
        allowed.sort(key=lambda rate: usual.index(rate) if rate in usual else len(usual) + ALL_RATES.index(rate))
        return tuple(allowed) or ALL_RATES

    def policies(self, code: str) -> tuple[str, ...]:
        """The policy flags the code allows; every flag when the code is not known."""
        hit = self.hit(code)
        return hit.policies if hit is not None else ALL_POLICIES

    def rate_for(self, code: str, policy: str, current: str) -> str:
        """The rate a line takes when its code or policy is chosen: the one they bring, else the rate it had
        if still allowed, else the first allowed."""
        brought = default_rate(self._code(code), policy or None, self.taxpayer_type)
        if brought is not None:
            return brought
        allowed = self.rates(code, policy)
        return current if current in allowed or not allowed else allowed[0]
