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

# The words the views show for the states above, Chinese and English (issue 15: never a bare state name).
QUEUE_STATE_LABELS = {
    Q_PENDING: ("待上传", "waiting"), Q_SENDING: ("上传中", "sending"),
    Q_RETRY_WAIT: ("等待重试", "waiting to retry"), Q_UNKNOWN: ("结果待确认", "outcome unknown"),
    Q_ACCEPTED: ("已接受", "accepted"), Q_REJECTED: ("被拒绝", "rejected"),
    Q_WITHDRAWN: ("已撤回", "withdrawn"), Q_LOOKUP: ("按号码查询中", "looking it up by number"),
    Q_TOO_LATE: ("超期，不再上传", "too late, not sent again"),
}
BATCH_STATE_LABELS = {
    B_POSTING: ("提交中", "being sent"), B_AWAITING: ("等待受理结果", "awaiting results"),
    B_DONE: ("已完成", "done"), B_EXPIRED: ("受理结果已过期", "results expired"),
}
REQUEST_STATE_LABELS = {
    REQUEST_WAITING: ("等待平台", "waiting for the platform"), REQUEST_DONE: ("已完成", "done"),
    REQUEST_REFUSED: ("被拒绝", "refused"),
}
# The channel an invoice went by (app/core/official_numbers.py): the desk's own block, or the platform issuing.
CHANNEL_LABELS = {"direct": ("直连（乐企）", "direct"), "platform": ("平台", "platform")}
# What the platform says of an invoice it holds (a v2 record's status).
RECORD_STATUS_LABELS = {
    "accepted": ("已接受", "accepted"), "reversed_in_full": ("已全额红冲", "reversed in full"),
    "reversed_in_part": ("已部分红冲", "reversed in part"), "processing": ("处理中", "processing"),
    "rejected": ("被拒绝", "rejected"), "duplicate": ("重复上传（已接受）", "duplicate (accepted)"),
}


def label_of(table: dict[str, tuple[str, str]], state: str, lang: str = "zh") -> str:
    """A state's words from one of the tables above; a state no table knows is shown as it is."""
    labels = table.get(state)
    if labels is None:
        return state
    return labels[0] if lang == "zh" else labels[1]


def queue_state_label(state: str, lang: str = "zh") -> str:
    return label_of(QUEUE_STATE_LABELS, state, lang)


def record_status_label(state: str, lang: str = "zh") -> str:
    return label_of(RECORD_STATUS_LABELS, state, lang)
