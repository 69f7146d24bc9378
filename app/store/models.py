"""Tables of the local store. Every model binds to `database`, opened by app.store.database."""

from __future__ import annotations

import peewee
from playhouse.sqlite_ext import FTS5Model, RowIDField, SearchField

from app.store.fields import DecimalTextField, MoneyField

database = peewee.DatabaseProxy()


class BaseModel(peewee.Model):
    class Meta:
        database = database
        legacy_table_names = False


class SellerProfile(BaseModel):
    """The one business this desk issues for (row id 1), and its usual clerks."""

    id = peewee.AutoField()
    name = peewee.TextField()
    tax_id = peewee.TextField()
    address = peewee.TextField(default="")
    phone = peewee.TextField(default="")
    bank = peewee.TextField(default="")
    account = peewee.TextField(default="")
    drawer = peewee.TextField(default="")  # 开票人
    payee = peewee.TextField(default="")  # 收款人
    reviewer = peewee.TextField(default="")  # 复核
    tax_id_confirmed = peewee.BooleanField(default=False)  # a failed check character the clerk confirmed
    taxpayer_type = peewee.TextField(default="general")  # general 一般纳税人 / small 小规模纳税人: the rates allowed
    updated_at = peewee.TextField()


class Buyer(BaseModel):
    """The customer book (客户信息): filled as invoices are issued, edited, merged and imported by the clerk."""

    id = peewee.AutoField()
    name = peewee.TextField()
    tax_id = peewee.TextField(default="")
    address = peewee.TextField(default="")
    phone = peewee.TextField(default="")
    bank = peewee.TextField(default="")
    account = peewee.TextField(default="")
    use_count = peewee.IntegerField(default=0)
    last_used_at = peewee.TextField()
    natural_person = peewee.BooleanField(default=False)
    id_type = peewee.TextField(default="")
    id_number = peewee.TextField(default="")
    email = peewee.TextField(default="")
    initials = peewee.TextField(default="")  # pinyin initials of the name, for completion
    # Confirmations the clerk gave once and is not asked again: a failed check character of the
    # tax id, a short name that is an organisation's and not a person's.
    tax_id_confirmed = peewee.BooleanField(default=False)
    short_name_confirmed = peewee.BooleanField(default=False)
    updated_at = peewee.TextField(default="")

    invoices: peewee.ModelSelect[Invoice]

    class Meta:
        indexes = ((("name", "tax_id"), True),)


class TaxCode(BaseModel):
    """The tax classification table in force (商品和服务税收分类编码表): shipped, then refreshed from the platform."""

    code = peewee.TextField(primary_key=True)  # 19 digits
    name = peewee.TextField()
    short_name = peewee.TextField()
    rates = peewee.TextField(default="")  # rate codes joined by ",": "0.13,0.09"
    policies = peewee.TextField(default="")  # policy flags joined by ",": "03,09"
    summary = peewee.BooleanField(default=False)
    usable = peewee.BooleanField(default=True)
    parent = peewee.TextField(default="")
    explanation = peewee.TextField(default="")
    keywords = peewee.TextField(default="")
    version = peewee.TextField(default="")
    initials = peewee.TextField(default="")  # pinyin initials of the name: rjkf for 软件开发


class Item(BaseModel):
    """The item catalog (项目信息): what the seller sells, under its tax code, for completion in the form."""

    id = peewee.AutoField()
    item_name = peewee.TextField()
    tax_code = peewee.TextField(index=True)
    spec = peewee.TextField(default="")
    unit = peewee.TextField(default="")
    unit_price = DecimalTextField(null=True)
    price_includes_tax = peewee.BooleanField(default=False)
    tax_rate = peewee.TextField()  # a rate code of app.core.tax
    policy = peewee.TextField(null=True)
    initials = peewee.TextField(default="")
    use_count = peewee.IntegerField(default=0)
    retired_at = peewee.TextField(null=True)  # retired items stay (invoices used them), out of completion
    created_at = peewee.TextField()
    updated_at = peewee.TextField()

    class Meta:
        indexes = ((("item_name", "spec"), True),)


class NumberCounter(BaseModel):
    """Last provisional number given per seller; bumped in the issuing transaction, so no gaps."""

    seller_tax_id = peewee.TextField(primary_key=True)
    last_value = peewee.IntegerField(default=0)


class Invoice(BaseModel):
    id = peewee.AutoField()
    provisional_number = peewee.TextField(unique=True)  # LX-0000001, on the paper printed offline
    official_number = peewee.TextField(null=True, unique=True)  # 20 digits, from the platform
    platform_id = peewee.TextField(null=True)
    accepted_at = peewee.TextField(null=True)
    status = peewee.TextField(index=True)  # see app.core.status
    kind = peewee.TextField(index=True)
    issued_at = peewee.TextField(index=True)  # ISO 8601 with +08:00
    issued_date = peewee.TextField(index=True)  # YYYY-MM-DD, for periods
    offline = peewee.BooleanField(default=True)
    rules = peewee.TextField(default="shudian")  # app.core.invoice.Rules: legacy for what schema 1 issued
    medium = peewee.TextField(default="electronic")
    seller_name = peewee.TextField()
    seller_tax_id = peewee.TextField(index=True)
    seller_address = peewee.TextField(default="")
    seller_phone = peewee.TextField(default="")
    seller_bank = peewee.TextField(default="")
    seller_account = peewee.TextField(default="")
    buyer = peewee.ForeignKeyField(Buyer, null=True, backref="invoices", on_delete="RESTRICT")
    buyer_id: int | None  # the column behind `buyer`, read without loading the buyer
    buyer_name = peewee.TextField(index=True)
    buyer_tax_id = peewee.TextField(default="", index=True)
    buyer_address = peewee.TextField(default="")
    buyer_phone = peewee.TextField(default="")
    buyer_bank = peewee.TextField(default="")
    buyer_account = peewee.TextField(default="")
    buyer_natural_person = peewee.BooleanField(default=False)
    buyer_id_type = peewee.TextField(default="")
    buyer_id_number = peewee.TextField(default="")
    total_amount = MoneyField()
    total_tax = MoneyField()
    total_with_tax = MoneyField(index=True)
    prices_include_tax = peewee.BooleanField(default=False)
    remarks = peewee.TextField(default="")
    payee = peewee.TextField(default="")
    reviewer = peewee.TextField(default="")
    drawer = peewee.TextField()
    drawer_id_type = peewee.TextField(default="")
    drawer_id_number = peewee.TextField(default="")
    show_seller_bank = peewee.BooleanField(default=False)
    show_buyer_bank = peewee.BooleanField(default=False)
    original_number = peewee.TextField(null=True, index=True)
    red_form_uuid = peewee.TextField(null=True)
    red_reason_code = peewee.TextField(null=True)  # 01..04, in the v2 body of a red invoice
    confirmed_tax_ids = peewee.TextField(default="")  # space-separated ids whose check character was overridden
    confirmed_short_name = peewee.BooleanField(default=False)  # a short buyer name confirmed as not a person's
    content_hash = peewee.TextField()  # sha256 of the body as issued
    # Kept locally, outside the protocol body (and its content_hash): see app/store/lifecycle.py.
    red_reason = peewee.TextField(null=True)  # 销货退回 / 开票有误 / 服务中止 / 销售折让, on a red-letter invoice
    cancelled_at = peewee.TextField(null=True)
    cancel_reason = peewee.TextField(null=True)
    # Protocol v2: "direct" (the number is official from issue, taken from a block: provisional_number
    # holds it too) or "platform" (provisional_number is LX-..., the platform's number comes at issue).
    channel = peewee.TextField(default="platform")
    quota_period = peewee.TextField(null=True)  # YYYYMM whose quota a direct-channel invoice drew
    # What it drew: its total_amount; a red one of its direct blue invoice's month gives back (< 0).
    quota_drawn = MoneyField(default=0)
    reissue_of = peewee.TextField(null=True)  # the number of an invoice too late to upload that this one replaces

    # Backrefs peewee adds from the other side (annotations only: no column, no field).
    lines: peewee.ModelSelect[InvoiceLine]
    audit: peewee.ModelSelect[AuditEntry]
    queue_entry: peewee.ModelSelect[UploadQueueEntry]
    cancellation_requests: peewee.ModelSelect[CancellationRequest]

    class Meta:
        indexes = ((("status", "issued_at"), False),)  # the oldest invoice waiting: one seek


class InvoiceLine(BaseModel):
    id = peewee.AutoField()
    invoice = peewee.ForeignKeyField(Invoice, backref="lines", on_delete="RESTRICT", index=False)  # (invoice, position)
    invoice_id: int
    position = peewee.IntegerField()
    name = peewee.TextField()
    spec = peewee.TextField(default="")
    unit = peewee.TextField(default="")
    quantity = DecimalTextField(null=True)
    unit_price = DecimalTextField(null=True)
    tax_rate = peewee.TextField()
    amount = MoneyField()
    tax = MoneyField()
    discount = peewee.BooleanField(default=False)  # nature == discount (schema 1 had only this)
    nature = peewee.TextField(default="normal")  # app.core.invoice.LineNature
    tax_code = peewee.TextField(default="")  # empty on a legacy line only
    short_name = peewee.TextField(default="")
    item_name = peewee.TextField(default="")
    policy = peewee.TextField(null=True)
    original_line_no = peewee.IntegerField(null=True)
    item = peewee.ForeignKeyField(Item, null=True, backref="lines", on_delete="RESTRICT")
    item_id: int | None

    class Meta:
        indexes = ((("invoice", "position"), True),)


class AuditEntry(BaseModel):
    """One change to one invoice (or to the desk), chained by hash to the entry before it."""

    id = peewee.AutoField()
    at = peewee.TextField()
    clerk = peewee.TextField(default="")
    action = peewee.TextField()
    invoice = peewee.ForeignKeyField(Invoice, null=True, backref="audit", on_delete="RESTRICT")
    invoice_id: int | None
    detail = peewee.TextField(default="{}")  # canonical JSON
    prev_hash = peewee.TextField()
    hash = peewee.TextField(unique=True)


class UploadBatch(BaseModel):
    """One direct-channel upload (POST /v2/uploads) of up to 100 invoices: the request id is committed with
    its entries before it is sent, so a lost answer is asked again with the same id and the same invoices."""

    id = peewee.AutoField()
    request_id = peewee.TextField(unique=True)
    acceptance_id = peewee.TextField(null=True)  # 受理流水号, once the platform answered
    state = peewee.TextField(index=True)  # posting / awaiting / done / expired
    size = peewee.IntegerField()
    attempts = peewee.IntegerField(default=0)
    next_try_at = peewee.TextField(null=True)
    last_error = peewee.TextField(default="")
    created_at = peewee.TextField()
    answered_at = peewee.TextField(null=True)  # when the acceptance id came: results expire 12 h later
    updated_at = peewee.TextField()

    entries: peewee.ModelSelect[UploadQueueEntry]


class UploadQueueEntry(BaseModel):
    """One per issued invoice, written in the issuing transaction; worked by app.sync."""

    id = peewee.AutoField()
    invoice = peewee.ForeignKeyField(Invoice, unique=True, backref="queue_entry", on_delete="RESTRICT")
    invoice_id: int
    idempotency_key = peewee.TextField(unique=True)  # made once, at issue, never changed
    state = peewee.TextField(default="pending")  # found by the (state, id) index
    attempts = peewee.IntegerField(default=0)
    last_error = peewee.TextField(default="")
    next_try_at = peewee.TextField(null=True)
    created_at = peewee.TextField()
    updated_at = peewee.TextField()
    batch = peewee.ForeignKeyField(UploadBatch, null=True, backref="entries", on_delete="RESTRICT")
    batch_id: int | None

    class Meta:
        indexes = ((("state", "id"), False),)


class Setting(BaseModel):
    """Desk settings as JSON values by key (platform URL, printer offsets, offline limits, ...)."""

    key = peewee.TextField(primary_key=True)
    value = peewee.TextField()  # JSON


class CancellationRequest(BaseModel):
    """A cancellation asked for while the invoice's upload outcome is not known; carried out in order."""

    id = peewee.AutoField()
    invoice = peewee.ForeignKeyField(Invoice, backref="cancellation_requests", on_delete="RESTRICT")
    invoice_id: int
    reason = peewee.TextField()
    clerk = peewee.TextField(default="")
    requested_at = peewee.TextField()
    state = peewee.TextField(index=True, default="waiting")  # waiting / done / refused
    resolved_at = peewee.TextField(null=True)
    message = peewee.TextField(default="")


class Outage(BaseModel):
    """One spell of the platform not answering, from the first failed check to the first good one."""

    id = peewee.AutoField()
    started_at = peewee.TextField(index=True)
    ended_at = peewee.TextField(null=True)
    failed_checks = peewee.IntegerField(default=0)  # what was tried: health checks that failed
    upload_attempts = peewee.IntegerField(default=0)  # and uploads that failed meanwhile
    # The last audit entry id when it opened and when it closed: the invoices issued meanwhile are
    # those whose "issued" entry falls between (exact, where times to the millisecond may tie).
    audit_id_at_start = peewee.IntegerField(default=0)
    audit_id_at_end = peewee.IntegerField(null=True)

    errors: peewee.ModelSelect[OutageError]
    notes: peewee.ModelSelect[OutageNote]


class OutageError(BaseModel):
    """An error seen during an outage, once per distinct message, with how often."""

    id = peewee.AutoField()
    outage = peewee.ForeignKeyField(Outage, backref="errors", on_delete="CASCADE", index=False)  # (outage, message)
    outage_id: int
    message = peewee.TextField()
    count = peewee.IntegerField(default=1)
    first_seen = peewee.TextField()
    last_seen = peewee.TextField()

    class Meta:
        indexes = ((("outage", "message"), True),)


class OutageNote(BaseModel):
    """What the clerk adds: who was called, what was tried."""

    id = peewee.AutoField()
    outage = peewee.ForeignKeyField(Outage, backref="notes", on_delete="CASCADE")
    outage_id: int
    at = peewee.TextField()
    clerk = peewee.TextField(default="")
    text = peewee.TextField()


class SyncLock(BaseModel):
    """Who may send the upload queue now: one row per lock name, taken and released in transactions.

    Broken when its holder died: its pid is gone on this host, or its heartbeat expired."""

    name = peewee.TextField(primary_key=True)
    holder = peewee.TextField()  # a random id per worker
    host = peewee.TextField()
    pid = peewee.IntegerField()
    heartbeat_at = peewee.FloatField()  # epoch seconds
    expires_at = peewee.FloatField()


class NumberBlock(BaseModel):
    """A block of official numbers (预赋码) drawn for the direct channel: the request is kept (committed
    before it is sent) so that a lost answer is asked again under the same request id, never drawn twice."""

    id = peewee.AutoField()
    request_id = peewee.TextField(unique=True)
    requested_count = peewee.IntegerField()
    first = peewee.TextField(null=True)  # 20 digits, once granted
    last = peewee.TextField(null=True)
    year = peewee.IntegerField(null=True)
    used = peewee.IntegerField(default=0)  # numbers taken from first on
    state = peewee.TextField(default="requested")  # requested / held / retired / refused
    requested_at = peewee.TextField()
    granted_at = peewee.TextField(null=True)
    retired_at = peewee.TextField(null=True)


class QuotaSlice(BaseModel):
    """A slice of the month's invoicing quota (发票额度) downloaded or returned, kept like NumberBlock."""

    id = peewee.AutoField()
    request_id = peewee.TextField(unique=True)
    action = peewee.TextField()  # download / return
    amount = MoneyField()
    period = peewee.TextField()  # YYYYMM: the desk's month when asked, the platform's once granted
    valid_from = peewee.TextField(null=True)  # YYYY-MM-DD
    valid_to = peewee.TextField(null=True)
    state = peewee.TextField(default="requested")  # requested / granted / refused
    requested_at = peewee.TextField()
    granted_at = peewee.TextField(null=True)


class QuotaUse(BaseModel):
    """What the direct channel's invoices of a month drew of its quota: bumped in the issuing transaction,
    given back when an invoice is rejected or too late (so it never counts what the platform never took)."""

    period = peewee.TextField(primary_key=True)
    drawn = MoneyField(default=0)


class WaitingTotals(BaseModel):
    """One row (id 1) kept by triggers on the invoice table (app/store/schema_steps.V4_SQL): the invoices
    waiting for the platform, counted for the offline limits without reading them. Never written by Python."""

    id = peewee.IntegerField(primary_key=True)
    count = peewee.IntegerField()
    amount = MoneyField()
    odd_offsets = peewee.IntegerField()


class InvoiceTally(BaseModel):
    """How many invoices there are of each status, kept by triggers on the invoice table
    (app/store/schema_steps.V11_SQL): the list's count without reading every invoice. Never written by Python."""

    status = peewee.TextField(primary_key=True)
    count = peewee.IntegerField()

    class Meta:
        without_rowid = True


class MonthSummary(BaseModel):
    """The monthly summary (汇总确认) of one month as the desk last told or asked the platform."""

    period = peewee.TextField(primary_key=True)  # YYYYMM
    state = peewee.TextField()  # confirmed / mismatch / withdrawn / closed
    count = peewee.IntegerField()
    total_amount = MoneyField()
    total_tax = MoneyField()
    platform_figures = peewee.TextField(default="{}")  # JSON: the platform's figures on a mismatch
    confirmed_at = peewee.TextField(null=True)
    updated_at = peewee.TextField()


class PaperPack(BaseModel):
    """A pack of the tax bureau's pre-printed paper invoice forms loaded into the printer (schema 5): the form's
    own code (10 or 12 digits), its first 8-digit number, how many sheets, and the kind of form (normal 普票,
    special 专票). Sheets are taken in order from the oldest pack of the kind with sheets left."""

    id = peewee.AutoField()
    kind = peewee.TextField()  # app.core.invoice.InvoiceKind value
    code = peewee.TextField(index=True)
    first = peewee.TextField()  # 8 digits
    count = peewee.IntegerField()
    used = peewee.IntegerField(default=0)  # sheets passed from first on (printed or spoiled)
    loaded_at = peewee.TextField()
    clerk = peewee.TextField(default="")

    sheets: peewee.ModelSelect[PaperSheet]


class PaperSheet(BaseModel):
    """One sheet of a pack that was printed (naming its invoice) or spoiled (with the reason)."""

    id = peewee.AutoField()
    pack = peewee.ForeignKeyField(PaperPack, backref="sheets", on_delete="RESTRICT")
    pack_id: int
    code = peewee.TextField()
    number = peewee.TextField()  # 8 digits
    state = peewee.TextField()  # printed / spoiled
    invoice = peewee.ForeignKeyField(Invoice, null=True, backref="paper_sheets", on_delete="RESTRICT")
    invoice_id: int | None
    reason = peewee.TextField(default="")  # why it was spoiled
    at = peewee.TextField()
    clerk = peewee.TextField(default="")

    class Meta:
        indexes = ((("code", "number"), True),)


class RedLetterForm(BaseModel):
    """A red-letter confirmation form (红字确认单, schema 6), the desk's own or one the buyer raised.

    A form the clerk raises is first a request (state `requested`): its request id is committed before it is
    sent, so a send cut short (a lost answer, a killed process) is sent again under the same id and the
    platform answers the same form. Requests recorded while the platform is away are sent in the order
    recorded. Once the platform answered, the row holds the form as it last said (state `known`: uuid,
    status 01-10, figures, the red number); a request the platform refused is `refused` with the reason. A
    decision (agree / disagree / revoke) is committed the same way (decision + decision_request_id) before
    it is sent. `message` is what the clerk is told of an outcome reached in the background (`told` once
    shown)."""

    id = peewee.AutoField()
    request_id = peewee.TextField(null=True, unique=True)  # the desk's own forms
    uuid = peewee.TextField(null=True, unique=True)  # the platform's, once it answered
    form_number = peewee.TextField(default="")
    state = peewee.TextField(index=True)  # requested / known / refused
    status = peewee.TextField(default="")  # 01 .. 10 on the platform
    raised_by = peewee.TextField(default="seller")  # seller / buyer
    invoice = peewee.ForeignKeyField(Invoice, null=True, backref="red_forms", on_delete="RESTRICT")  # the blue
    invoice_id: int | None
    original_number = peewee.TextField(index=True)
    reason = peewee.TextField()  # 01 .. 04
    lines = peewee.TextField(default="[]")  # JSON: [{"original_line_no", "quantity", "amount", "tax"}]
    total_amount = MoneyField()  # negative
    total_tax = MoneyField()
    red_number = peewee.TextField(null=True)  # the red invoice the platform recorded on it
    red_invoice = peewee.ForeignKeyField(Invoice, null=True, backref="red_form_used", on_delete="RESTRICT")
    red_invoice_id: int | None
    decision = peewee.TextField(null=True)  # agree / disagree / revoke, waiting to be sent
    decision_request_id = peewee.TextField(null=True)
    clerk = peewee.TextField(default="")
    attempts = peewee.IntegerField(default=0)
    last_error = peewee.TextField(default="")
    message = peewee.TextField(default="")  # an outcome to tell the clerk
    told = peewee.BooleanField(default=True)
    requested_at = peewee.TextField()
    created_at = peewee.TextField(null=True)  # on the platform
    expires_at = peewee.TextField(null=True)  # while it waits (02, 03): 72 hours after it was raised
    updated_at = peewee.TextField()


class Draft(BaseModel):
    """An unfinished invoice form (草稿, schema 7), kept when its window closes or the desk dies, and offered again.

    Written only by app/services/drafts.py. A draft is not an invoice: it never takes a number or quota and has no
    audit entry; issuing the form deletes its draft in the issuing transaction."""

    id = peewee.AutoField()
    content = peewee.TextField()  # JSON: the form's body as typed and its confirmations (app/store/drafts.py)
    buyer_name = peewee.TextField(default="")  # for the list of drafts, without reading content
    total_with_tax = MoneyField(default=0)  # as the form showed it when saved
    line_count = peewee.IntegerField(default=0)
    created_at = peewee.TextField()
    updated_at = peewee.TextField(index=True)


class InvoiceSearch(FTS5Model):
    """The trigram index of what a clerk searches (schema step 8; written by app.store.invoice_search, never
    through this model): rowid is the invoice's id, each value between bars (|LX-0000001|2611...|)."""

    rowid = RowIDField()
    numbers = SearchField()
    buyer = SearchField()
    tax_id = SearchField()
    items = SearchField()
    remarks = SearchField()

    class Meta:
        database = database
        table_name = "invoice_search"
        options = {"tokenize": "trigram", "columnsize": 0}


class SearchName(BaseModel):
    """The buyer and item names the invoices used (kept by triggers), and how often: where a word of one or
    two characters is looked up."""

    kind = peewee.TextField()  # buyer / item
    name = peewee.TextField()
    uses = peewee.IntegerField()

    class Meta:
        primary_key = peewee.CompositeKey("kind", "name")
        without_rowid = True


ALL_MODELS = (SellerProfile, Buyer, TaxCode, Item, NumberCounter, Invoice, InvoiceLine, AuditEntry, UploadQueueEntry,
              Setting, CancellationRequest, Outage, OutageError, OutageNote, SyncLock, NumberBlock, QuotaSlice,
              UploadBatch, QuotaUse, MonthSummary, WaitingTotals, InvoiceTally, PaperPack, PaperSheet, RedLetterForm,
              Draft, InvoiceSearch, SearchName)
