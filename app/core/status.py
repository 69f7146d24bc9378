"""Invoice and queue states, with the words the list shows."""

from __future__ import annotations

# Invoice.status
PENDING_UPLOAD = "pending_upload"  # direct channel: an invoice from issue, its upload not yet accepted
PRE_ISSUE = "pre_issue"  # platform channel: a pre-issue record (预开单), not an invoice until the platform issues it
ACCEPTED = "accepted"  # uploaded and accepted (direct), or issued by the platform (platform channel)
REJECTED = "rejected"
UPLOAD_TOO_LATE = "upload_too_late"  # not uploaded within 48 hours or before its month closed: never valid
CANCELLED = "cancelled"

INVOICE_STATUSES = (PENDING_UPLOAD, PRE_ISSUE, ACCEPTED, REJECTED, UPLOAD_TOO_LATE, CANCELLED)
# Waiting for the platform: what the offline limits count and the month cannot be confirmed without.
WAITING_STATUSES = (PENDING_UPLOAD, PRE_ISSUE)

STATUS_LABELS = {
    PENDING_UPLOAD: ("已开具，待上传", "issued, to upload"),
    PRE_ISSUE: ("预开单（非发票），待平台开具", "pre-issue record (not an invoice), to be issued"),
    ACCEPTED: ("已上传", "accepted"),
    REJECTED: ("被平台拒绝", "rejected"),
    UPLOAD_TOO_LATE: ("超期未上传，须重新开具", "too late to upload: issue it again"),
    CANCELLED: ("已作废", "cancelled"),
}


def status_label(status: str, lang: str = "zh") -> str:
    labels = STATUS_LABELS.get(status)
    if labels is None:
        return status
    return labels[0] if lang == "zh" else labels[1]


# UploadQueueEntry.state
Q_PENDING = "pending"
Q_SENDING = "sending"
Q_RETRY_WAIT = "retry_wait"
Q_UNKNOWN = "unknown_outcome"
Q_ACCEPTED = "accepted"
Q_REJECTED = "rejected"
Q_WITHDRAWN = "withdrawn"  # its invoice was cancelled before it was sent: never to be sent (app/store/lifecycle.py)
Q_LOOKUP = "lookup"  # direct channel: the upload's results expired; its number is looked up (GET /v2/invoices/N)
Q_TOO_LATE = "too_late"  # the platform answered upload_too_late or month_closed: never sent again
QUEUE_WAITING_STATES = (Q_PENDING, Q_SENDING, Q_RETRY_WAIT, Q_UNKNOWN, Q_LOOKUP)

# UploadBatch.state (direct channel)
B_POSTING = "posting"  # committed with its entries; POST /v2/uploads not yet answered (asked again as it is)
B_AWAITING = "awaiting"  # the acceptance id is known: results to read
B_DONE = "done"  # every entry has its final result
B_EXPIRED = "expired"  # results gone (12 h): the entries left were looked up by number

# CancellationRequest.state: a cancellation asked for while an upload's outcome is unknown.
REQUEST_WAITING, REQUEST_DONE, REQUEST_REFUSED = "waiting", "done", "refused"
