"""What a layout needs to print one invoice: the invoice and the facts about it that
change the paper (an invoice or a pre-issue record, accepted or not, official number, copy, cancelled).

A pre-issue record (预开单, platform channel, LX-… and no official number yet) is not an invoice: it
prints on a paper that says so (no invoice title, no invoice number field, no QR code, a mark across
the page). Once the platform has issued it (official number) it prints as the invoice it has become.

Built from the store by app.services.printing_log.load_print_views; the layouts take
nothing else, so a new mark (e.g. 作废) is a new flag here and a few lines in a layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.core import status as statuses
from app.core.invoice import Invoice
from app.core.money import format_money

HASH_CHARS = 12  # hex digits of the content hash on the paper and in the QR code
QR_SCHEME = "FPDESK1"  # first field of the QR payload, so a scanner knows the layout of the rest


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

    def qr_payload(self) -> str:
        """Number, date, seller id, total with tax and the short hash, so paper can be matched to the record:
        FPDESK1|LX-0000001|20261129|91110108MA0123456G|1060.00|3f2a9c0d1e4b."""
        invoice = self.invoice
        return "|".join([QR_SCHEME, invoice.number, self.issued_at.strftime("%Y%m%d"), invoice.seller.tax_id,
                         format_money(invoice.total_with_tax), self.short_hash])
