"""Invoice and queue states, with the words the list shows."""

from __future__ import annotations

# Invoice.status
PENDING_UPLOAD = "pending_upload"  # issued offline, not yet accepted by the platform
ACCEPTED = "accepted"
REJECTED = "rejected"
CANCELLED = "cancelled"

INVOICE_STATUSES = (PENDING_UPLOAD, ACCEPTED, REJECTED, CANCELLED)

STATUS_LABELS = {
    PENDING_UPLOAD: ("离线待上传", "offline, to upload"),
    ACCEPTED: ("已上传", "accepted"),
    REJECTED: ("被平台拒绝", "rejected"),
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
QUEUE_WAITING_STATES = (Q_PENDING, Q_SENDING, Q_RETRY_WAIT, Q_UNKNOWN)

# CancellationRequest.state: a cancellation asked for while an upload's outcome is unknown.
REQUEST_WAITING, REQUEST_DONE, REQUEST_REFUSED = "waiting", "done", "refused"
