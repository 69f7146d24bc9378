"""What a layout needs to print one invoice: the invoice and the facts about it that
change the paper (an invoice or a pre-issue record, accepted or not, official number, copy, cancelled).

An invoice (it holds an official number) prints its 数电 face (app.printing.face). A pre-issue record (预开单,
platform channel, LX-… and no official number yet) is not an invoice: it prints as a plain slip that says so
(app.printing.slip: no invoice title, no form, no QR code, a mark across the page). Once the platform has
issued it (official number) it prints as the invoice it has become.

Built from the store by app.services.printing_log.load_print_views; the layouts take
nothing else, so a new mark (e.g. 作废) is a new flag here and a few lines in a layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.core import status as statuses
from app.core.invoice import Invoice

HASH_CHARS = 12  # hex digits of the content hash on a pre-issue slip


@dataclass(frozen=True)
class PrintView:
    invoice: Invoice
    status: str  # app.core.status: pre_issue, pending_upload, accepted, rejected, cancelled, ...
    official_number: str | None  # the official 20 digits: from issue (direct) or from the platform (platform)
    content_hash: str  # sha256 hex of the body as issued (the store row's content_hash)
    copy: bool = False  # printed before: this paper is a 副本
    cancelled: bool = False  # 作废

    @property
    def is_invoice(self) -> bool:
        """An invoice holds an official number: a direct-channel invoice from issue, a platform-channel record once
        the platform issued it. Anything else (a pre-issue record, one the platform rejected) is not an invoice."""
        return bool(self.official_number)

    @property
    def pre_issue(self) -> bool:
        """A pre-issue record (预开单) with no official number: not an invoice, and its paper must say so."""
        return not self.is_invoice

    @property
    def accepted(self) -> bool:
        """The platform holds the invoice: the offline mark and the QR code go. A direct-channel invoice waiting
        for its upload is an invoice (its official number prints) but not accepted yet."""
        return self.is_invoice and self.status not in statuses.WAITING_STATUSES

    @property
    def earlier_number(self) -> str | None:
        """The pre-issue record's number (LX-…) an invoice issued by the platform came from, printed beside it."""
        if self.official_number and self.official_number != self.invoice.number:
            return self.invoice.number
        return None

    @property
    def short_hash(self) -> str:
        return self.content_hash[:HASH_CHARS]

    @property
    def issued_at(self) -> datetime:
        assert self.invoice.issued_at is not None, "only issued invoices print"
        return self.invoice.issued_at
