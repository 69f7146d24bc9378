"""The SQL of each schema step, frozen as it shipped: see app.store.migrations."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

import peewee

from app.core.errors import DeskError

if TYPE_CHECKING:  # the migrator is made by app.store.migrations, when a step runs
    from playhouse.migrate import SqliteMigrator

# Schema 1: the tables as Fapiao Desk 0.1 created them (before 数电).
V1_SQL = (
    'CREATE TABLE "buyer" ("id" INTEGER NOT NULL PRIMARY KEY, "name" TEXT NOT NULL, "tax_id" TEXT NOT NULL, "address" TEXT NOT NULL, "phone" TEXT NOT NULL, "bank" TEXT NOT NULL, "account" TEXT NOT NULL, "use_count" INTEGER NOT NULL, "last_used_at" TEXT NOT NULL)',
    'CREATE UNIQUE INDEX "buyer_name_tax_id" ON "buyer" ("name", "tax_id")',
    'CREATE TABLE "invoice" ("id" INTEGER NOT NULL PRIMARY KEY, "provisional_number" TEXT NOT NULL, "official_number" TEXT, "platform_id" TEXT, "accepted_at" TEXT, "status" TEXT NOT NULL, "kind" TEXT NOT NULL, "issued_at" TEXT NOT NULL, "issued_date" TEXT NOT NULL, "offline" INTEGER NOT NULL, "seller_name" TEXT NOT NULL, "seller_tax_id" TEXT NOT NULL, "seller_address" TEXT NOT NULL, "seller_phone" TEXT NOT NULL, "seller_bank" TEXT NOT NULL, "seller_account" TEXT NOT NULL, "buyer_id" INTEGER, "buyer_name" TEXT NOT NULL, "buyer_tax_id" TEXT NOT NULL, "buyer_address" TEXT NOT NULL, "buyer_phone" TEXT NOT NULL, "buyer_bank" TEXT NOT NULL, "buyer_account" TEXT NOT NULL, "total_amount" INTEGER NOT NULL, "total_tax" INTEGER NOT NULL, "total_with_tax" INTEGER NOT NULL, "prices_include_tax" INTEGER NOT NULL, "remarks" TEXT NOT NULL, "payee" TEXT NOT NULL, "reviewer" TEXT NOT NULL, "drawer" TEXT NOT NULL, "original_number" TEXT, "confirmed_tax_ids" TEXT NOT NULL, "content_hash" TEXT NOT NULL, "red_reason" TEXT, "cancelled_at" TEXT, "cancel_reason" TEXT, FOREIGN KEY ("buyer_id") REFERENCES "buyer" ("id") ON DELETE RESTRICT)',
    'CREATE UNIQUE INDEX "invoice_provisional_number" ON "invoice" ("provisional_number")',
    'CREATE UNIQUE INDEX "invoice_official_number" ON "invoice" ("official_number")',
    'CREATE INDEX "invoice_status" ON "invoice" ("status")',
    'CREATE INDEX "invoice_issued_date" ON "invoice" ("issued_date")',
    'CREATE INDEX "invoice_seller_tax_id" ON "invoice" ("seller_tax_id")',
    'CREATE INDEX "invoice_buyer_id" ON "invoice" ("buyer_id")',
    'CREATE TABLE "audit_entry" ("id" INTEGER NOT NULL PRIMARY KEY, "at" TEXT NOT NULL, "clerk" TEXT NOT NULL, "action" TEXT NOT NULL, "invoice_id" INTEGER, "detail" TEXT NOT NULL, "prev_hash" TEXT NOT NULL, "hash" TEXT NOT NULL, FOREIGN KEY ("invoice_id") REFERENCES "invoice" ("id") ON DELETE RESTRICT)',
    'CREATE INDEX "audit_entry_invoice_id" ON "audit_entry" ("invoice_id")',
    'CREATE UNIQUE INDEX "audit_entry_hash" ON "audit_entry" ("hash")',
    'CREATE TABLE "cancellation_request" ("id" INTEGER NOT NULL PRIMARY KEY, "invoice_id" INTEGER NOT NULL, "reason" TEXT NOT NULL, "clerk" TEXT NOT NULL, "requested_at" TEXT NOT NULL, "state" TEXT NOT NULL, "resolved_at" TEXT, "message" TEXT NOT NULL, FOREIGN KEY ("invoice_id") REFERENCES "invoice" ("id") ON DELETE RESTRICT)',
    'CREATE INDEX "cancellation_request_invoice_id" ON "cancellation_request" ("invoice_id")',
    'CREATE INDEX "cancellation_request_state" ON "cancellation_request" ("state")',
    'CREATE TABLE "invoice_line" ("id" INTEGER NOT NULL PRIMARY KEY, "invoice_id" INTEGER NOT NULL, "position" INTEGER NOT NULL, "name" TEXT NOT NULL, "spec" TEXT NOT NULL, "unit" TEXT NOT NULL, "quantity" TEXT, "unit_price" TEXT, "tax_rate" TEXT NOT NULL, "amount" INTEGER NOT NULL, "tax" INTEGER NOT NULL, "discount" INTEGER NOT NULL, FOREIGN KEY ("invoice_id") REFERENCES "invoice" ("id") ON DELETE RESTRICT)',
    'CREATE INDEX "invoice_line_invoice_id" ON "invoice_line" ("invoice_id")',
    'CREATE UNIQUE INDEX "invoice_line_invoice_id_position" ON "invoice_line" ("invoice_id", "position")',
    'CREATE TABLE "number_counter" ("seller_tax_id" TEXT NOT NULL PRIMARY KEY, "last_value" INTEGER NOT NULL)',
    'CREATE TABLE "outage" ("id" INTEGER NOT NULL PRIMARY KEY, "started_at" TEXT NOT NULL, "ended_at" TEXT, "failed_checks" INTEGER NOT NULL, "upload_attempts" INTEGER NOT NULL, "audit_id_at_start" INTEGER NOT NULL, "audit_id_at_end" INTEGER)',
    'CREATE INDEX "outage_started_at" ON "outage" ("started_at")',
    'CREATE TABLE "outage_error" ("id" INTEGER NOT NULL PRIMARY KEY, "outage_id" INTEGER NOT NULL, "message" TEXT NOT NULL, "count" INTEGER NOT NULL, "first_seen" TEXT NOT NULL, "last_seen" TEXT NOT NULL, FOREIGN KEY ("outage_id") REFERENCES "outage" ("id") ON DELETE CASCADE)',
    'CREATE INDEX "outage_error_outage_id" ON "outage_error" ("outage_id")',
    'CREATE UNIQUE INDEX "outage_error_outage_id_message" ON "outage_error" ("outage_id", "message")',
    'CREATE TABLE "outage_note" ("id" INTEGER NOT NULL PRIMARY KEY, "outage_id" INTEGER NOT NULL, "at" TEXT NOT NULL, "clerk" TEXT NOT NULL, "text" TEXT NOT NULL, FOREIGN KEY ("outage_id") REFERENCES "outage" ("id") ON DELETE CASCADE)',
    'CREATE INDEX "outage_note_outage_id" ON "outage_note" ("outage_id")',
    'CREATE TABLE "seller_profile" ("id" INTEGER NOT NULL PRIMARY KEY, "name" TEXT NOT NULL, "tax_id" TEXT NOT NULL, "address" TEXT NOT NULL, "phone" TEXT NOT NULL, "bank" TEXT NOT NULL, "account" TEXT NOT NULL, "drawer" TEXT NOT NULL, "payee" TEXT NOT NULL, "reviewer" TEXT NOT NULL, "tax_id_confirmed" INTEGER NOT NULL, "updated_at" TEXT NOT NULL)',
    'CREATE TABLE "setting" ("key" TEXT NOT NULL PRIMARY KEY, "value" TEXT NOT NULL)',
    'CREATE TABLE "sync_lock" ("name" TEXT NOT NULL PRIMARY KEY, "holder" TEXT NOT NULL, "host" TEXT NOT NULL, "pid" INTEGER NOT NULL, "heartbeat_at" REAL NOT NULL, "expires_at" REAL NOT NULL)',
    'CREATE TABLE "upload_queue_entry" ("id" INTEGER NOT NULL PRIMARY KEY, "invoice_id" INTEGER NOT NULL, "idempotency_key" TEXT NOT NULL, "state" TEXT NOT NULL, "attempts" INTEGER NOT NULL, "last_error" TEXT NOT NULL, "next_try_at" TEXT, "created_at" TEXT NOT NULL, "updated_at" TEXT NOT NULL, FOREIGN KEY ("invoice_id") REFERENCES "invoice" ("id") ON DELETE RESTRICT)',
    'CREATE UNIQUE INDEX "upload_queue_entry_invoice_id" ON "upload_queue_entry" ("invoice_id")',
    'CREATE UNIQUE INDEX "upload_queue_entry_idempotency_key" ON "upload_queue_entry" ("idempotency_key")',
    'CREATE INDEX "upload_queue_entry_state" ON "upload_queue_entry" ("state")',
)

# Schema 2: 数电. What schema 1 issued is marked legacy (rules, medium) and keeps every value it had,
# so its content hash and the audit chain still hold; new columns take their neutral defaults.
V2_SQL = (
    'CREATE TABLE "tax_code" ("code" TEXT NOT NULL PRIMARY KEY, "name" TEXT NOT NULL, '
    '"short_name" TEXT NOT NULL, "rates" TEXT NOT NULL, "policies" TEXT NOT NULL, "summary" INTEGER NOT NULL, '
    '"usable" INTEGER NOT NULL, "parent" TEXT NOT NULL, "explanation" TEXT NOT NULL, "keywords" TEXT NOT NULL, '
    '"version" TEXT NOT NULL, "initials" TEXT NOT NULL)',
    'CREATE TABLE "item" ("id" INTEGER NOT NULL PRIMARY KEY, "item_name" TEXT NOT NULL, "tax_code" TEXT NOT NULL, '
    '"spec" TEXT NOT NULL, "unit" TEXT NOT NULL, "unit_price" TEXT, "price_includes_tax" INTEGER NOT NULL, '
    '"tax_rate" TEXT NOT NULL, "policy" TEXT, "initials" TEXT NOT NULL, "use_count" INTEGER NOT NULL, '
    '"retired_at" TEXT, "created_at" TEXT NOT NULL, "updated_at" TEXT NOT NULL)',
    'CREATE INDEX "item_tax_code" ON "item" ("tax_code")',
    'CREATE UNIQUE INDEX "item_item_name_spec" ON "item" ("item_name", "spec")',
    'ALTER TABLE "seller_profile" ADD COLUMN "taxpayer_type" TEXT NOT NULL DEFAULT \'general\'',
    'ALTER TABLE "buyer" ADD COLUMN "natural_person" INTEGER NOT NULL DEFAULT 0',
    'ALTER TABLE "buyer" ADD COLUMN "id_type" TEXT NOT NULL DEFAULT \'\'',
    'ALTER TABLE "buyer" ADD COLUMN "id_number" TEXT NOT NULL DEFAULT \'\'',
    'ALTER TABLE "buyer" ADD COLUMN "email" TEXT NOT NULL DEFAULT \'\'',
    'ALTER TABLE "buyer" ADD COLUMN "initials" TEXT NOT NULL DEFAULT \'\'',
    'ALTER TABLE "buyer" ADD COLUMN "tax_id_confirmed" INTEGER NOT NULL DEFAULT 0',
    'ALTER TABLE "buyer" ADD COLUMN "short_name_confirmed" INTEGER NOT NULL DEFAULT 0',
    'ALTER TABLE "buyer" ADD COLUMN "updated_at" TEXT NOT NULL DEFAULT \'\'',
    'ALTER TABLE "invoice" ADD COLUMN "rules" TEXT NOT NULL DEFAULT \'legacy\'',
    'ALTER TABLE "invoice" ADD COLUMN "medium" TEXT NOT NULL DEFAULT \'paper\'',
    'ALTER TABLE "invoice" ADD COLUMN "buyer_natural_person" INTEGER NOT NULL DEFAULT 0',
    'ALTER TABLE "invoice" ADD COLUMN "buyer_id_type" TEXT NOT NULL DEFAULT \'\'',
    'ALTER TABLE "invoice" ADD COLUMN "buyer_id_number" TEXT NOT NULL DEFAULT \'\'',
    'ALTER TABLE "invoice" ADD COLUMN "drawer_id_type" TEXT NOT NULL DEFAULT \'\'',
    'ALTER TABLE "invoice" ADD COLUMN "drawer_id_number" TEXT NOT NULL DEFAULT \'\'',
    'ALTER TABLE "invoice" ADD COLUMN "show_seller_bank" INTEGER NOT NULL DEFAULT 0',
    'ALTER TABLE "invoice" ADD COLUMN "show_buyer_bank" INTEGER NOT NULL DEFAULT 0',
    'ALTER TABLE "invoice" ADD COLUMN "red_form_uuid" TEXT',
    'ALTER TABLE "invoice" ADD COLUMN "red_reason_code" TEXT',
    'ALTER TABLE "invoice" ADD COLUMN "confirmed_short_name" INTEGER NOT NULL DEFAULT 0',
    'ALTER TABLE "invoice_line" ADD COLUMN "nature" TEXT NOT NULL DEFAULT \'normal\'',
    'ALTER TABLE "invoice_line" ADD COLUMN "tax_code" TEXT NOT NULL DEFAULT \'\'',
    'ALTER TABLE "invoice_line" ADD COLUMN "short_name" TEXT NOT NULL DEFAULT \'\'',
    'ALTER TABLE "invoice_line" ADD COLUMN "item_name" TEXT NOT NULL DEFAULT \'\'',
    'ALTER TABLE "invoice_line" ADD COLUMN "policy" TEXT',
    'ALTER TABLE "invoice_line" ADD COLUMN "original_line_no" INTEGER',
    'ALTER TABLE "invoice_line" ADD COLUMN "item_id" INTEGER REFERENCES "item" ("id") ON DELETE RESTRICT',
    'CREATE INDEX "invoice_line_item_id" ON "invoice_line" ("item_id")',
    # A legacy discount line keeps its flag; the nature says the same in the 数电 way.
    'UPDATE "invoice_line" SET "nature" = \'discount\' WHERE "discount" = 1',
)


# Schema 3: the direct channel's stock: blocks of official numbers and slices of the month's quota.
V3_SQL = (
    'CREATE TABLE "number_block" ("id" INTEGER NOT NULL PRIMARY KEY, "request_id" TEXT NOT NULL, '
    '"requested_count" INTEGER NOT NULL, "first" TEXT, "last" TEXT, "year" INTEGER, "used" INTEGER NOT NULL, '
    '"state" TEXT NOT NULL, "requested_at" TEXT NOT NULL, "granted_at" TEXT, "retired_at" TEXT)',
    'CREATE UNIQUE INDEX "number_block_request_id" ON "number_block" ("request_id")',
    'CREATE TABLE "quota_slice" ("id" INTEGER NOT NULL PRIMARY KEY, "request_id" TEXT NOT NULL, '
    '"action" TEXT NOT NULL, "amount" INTEGER NOT NULL, "period" TEXT NOT NULL, "valid_from" TEXT, '
    '"valid_to" TEXT, "state" TEXT NOT NULL, "requested_at" TEXT NOT NULL, "granted_at" TEXT)',
    'CREATE UNIQUE INDEX "quota_slice_request_id" ON "quota_slice" ("request_id")',
)

# Schema 4: protocol v2's two channels. Each invoice knows its channel (v1's invoices got their numbers
# from the platform, so they count as the platform channel), what it drew of the month's quota, and
# the invoice it issues again; direct-channel uploads go in batches under one request id; the
# monthly summaries are kept. v1's invoices still waiting to upload had provisional numbers the
# platform never confirmed: under v2 they are pre-issue records (预开单), sent to POST /v2/issue.
V4_SQL = (
    'ALTER TABLE "invoice" ADD COLUMN "channel" TEXT NOT NULL DEFAULT \'platform\'',
    'ALTER TABLE "invoice" ADD COLUMN "quota_period" TEXT',
    'ALTER TABLE "invoice" ADD COLUMN "quota_drawn" INTEGER NOT NULL DEFAULT 0',
    'ALTER TABLE "invoice" ADD COLUMN "reissue_of" TEXT',
    'UPDATE "invoice" SET "status" = \'pre_issue\' WHERE "status" = \'pending_upload\'',
    'CREATE TABLE "quota_use" ("period" TEXT NOT NULL PRIMARY KEY, "drawn" INTEGER NOT NULL)',
    'CREATE TABLE "upload_batch" ("id" INTEGER NOT NULL PRIMARY KEY, "request_id" TEXT NOT NULL, '
    '"acceptance_id" TEXT, "state" TEXT NOT NULL, "size" INTEGER NOT NULL, "attempts" INTEGER NOT NULL, '
    '"next_try_at" TEXT, "last_error" TEXT NOT NULL, "created_at" TEXT NOT NULL, "answered_at" TEXT, '
    '"updated_at" TEXT NOT NULL)',
    'CREATE UNIQUE INDEX "upload_batch_request_id" ON "upload_batch" ("request_id")',
    'CREATE INDEX "upload_batch_state" ON "upload_batch" ("state")',
    'ALTER TABLE "upload_queue_entry" ADD COLUMN "batch_id" INTEGER REFERENCES "upload_batch" ("id") '
    'ON DELETE RESTRICT',
    'CREATE INDEX "upload_queue_entry_batch_id" ON "upload_queue_entry" ("batch_id")',
    'CREATE TABLE "month_summary" ("period" TEXT NOT NULL PRIMARY KEY, "state" TEXT NOT NULL, '
    '"count" INTEGER NOT NULL, "total_amount" INTEGER NOT NULL, "total_tax" INTEGER NOT NULL, '
    '"platform_figures" TEXT NOT NULL, "confirmed_at" TEXT, "updated_at" TEXT NOT NULL)',
    # What the offline limits read at every issue, kept by SQLite itself whatever path changes an invoice:
    # how many invoices wait for the platform, their positive amount, and how many of them carry a time
    # not in Beijing's offset (0 in practice: then the oldest is one index seek).
    'CREATE TABLE "waiting_totals" ("id" INTEGER NOT NULL PRIMARY KEY, "count" INTEGER NOT NULL, '
    '"amount" INTEGER NOT NULL, "odd_offsets" INTEGER NOT NULL)',
    'INSERT INTO "waiting_totals" SELECT 1, COUNT(*), COALESCE(SUM(MAX("total_amount", 0)), 0), '
    'COALESCE(SUM("issued_at" NOT LIKE \'%+08:00\'), 0) FROM "invoice" '
    'WHERE "status" IN (\'pending_upload\', \'pre_issue\')',
    'CREATE TRIGGER "invoice_waiting_insert" AFTER INSERT ON "invoice" '
    'WHEN NEW."status" IN (\'pending_upload\', \'pre_issue\') BEGIN '
    'UPDATE "waiting_totals" SET "count" = "count" + 1, "amount" = "amount" + MAX(NEW."total_amount", 0), '
    '"odd_offsets" = "odd_offsets" + (NEW."issued_at" NOT LIKE \'%+08:00\') WHERE "id" = 1; END',
    'CREATE TRIGGER "invoice_waiting_delete" AFTER DELETE ON "invoice" '
    'WHEN OLD."status" IN (\'pending_upload\', \'pre_issue\') BEGIN '
    'UPDATE "waiting_totals" SET "count" = "count" - 1, "amount" = "amount" - MAX(OLD."total_amount", 0), '
    '"odd_offsets" = "odd_offsets" - (OLD."issued_at" NOT LIKE \'%+08:00\') WHERE "id" = 1; END',
    'CREATE TRIGGER "invoice_waiting_update" AFTER UPDATE OF "status", "total_amount", "issued_at" ON "invoice" '
    'BEGIN '
    'UPDATE "waiting_totals" SET "count" = "count" - 1, "amount" = "amount" - MAX(OLD."total_amount", 0), '
    '"odd_offsets" = "odd_offsets" - (OLD."issued_at" NOT LIKE \'%+08:00\') '
    'WHERE "id" = 1 AND OLD."status" IN (\'pending_upload\', \'pre_issue\'); '
    'UPDATE "waiting_totals" SET "count" = "count" + 1, "amount" = "amount" + MAX(NEW."total_amount", 0), '
    '"odd_offsets" = "odd_offsets" + (NEW."issued_at" NOT LIKE \'%+08:00\') '
    'WHERE "id" = 1 AND NEW."status" IN (\'pending_upload\', \'pre_issue\'); '
    'END',
    'CREATE INDEX "invoice_status_issued_at" ON "invoice" ("status", "issued_at")',
    'CREATE INDEX "upload_queue_entry_state_id" ON "upload_queue_entry" ("state", "id")',
)


def _run(db: peewee.SqliteDatabase, statements: tuple[str, ...]) -> None:
    for sql in statements:
        db.execute_sql(sql)


def v1_create_tables(db: peewee.SqliteDatabase, migrator: SqliteMigrator) -> None:
    _run(db, V1_SQL)


def v2_shudian(db: peewee.SqliteDatabase, migrator: SqliteMigrator) -> None:
    _run(db, V2_SQL)


def v3_stock(db: peewee.SqliteDatabase, migrator: SqliteMigrator) -> None:
    _run(db, V3_SQL)


def v4_channels(db: peewee.SqliteDatabase, migrator: SqliteMigrator) -> None:
    _run(db, V4_SQL)

# Schema 5: paper 数电 invoices (medium paper, platform channel) print onto the tax bureau's pre-printed forms.
# The clerk records each pack of forms loaded into the printer (the form's own 10- or 12-digit code, its first
# 8-digit number, how many sheets, and which kind of form: 普票 or 专票); every sheet printed or spoiled is a row,
# the printed one naming its invoice, so the paper QR code carries the sheet and a reprint knows it.
V5_SQL = (
    'CREATE TABLE "paper_pack" ("id" INTEGER NOT NULL PRIMARY KEY, "kind" TEXT NOT NULL, "code" TEXT NOT NULL, '
    '"first" TEXT NOT NULL, "count" INTEGER NOT NULL, "used" INTEGER NOT NULL, "loaded_at" TEXT NOT NULL, '
    '"clerk" TEXT NOT NULL)',
    'CREATE INDEX "paper_pack_code" ON "paper_pack" ("code")',
    'CREATE TABLE "paper_sheet" ("id" INTEGER NOT NULL PRIMARY KEY, "pack_id" INTEGER NOT NULL '
    'REFERENCES "paper_pack" ("id") ON DELETE RESTRICT, "code" TEXT NOT NULL, "number" TEXT NOT NULL, '
    '"state" TEXT NOT NULL, "invoice_id" INTEGER REFERENCES "invoice" ("id") ON DELETE RESTRICT, '
    '"reason" TEXT NOT NULL, "at" TEXT NOT NULL, "clerk" TEXT NOT NULL)',
    'CREATE INDEX "paper_sheet_pack_id" ON "paper_sheet" ("pack_id")',
    'CREATE INDEX "paper_sheet_invoice_id" ON "paper_sheet" ("invoice_id")',
    'CREATE UNIQUE INDEX "paper_sheet_code_number" ON "paper_sheet" ("code", "number")',
)


def v5_paper_forms(db: peewee.SqliteDatabase, migrator: SqliteMigrator) -> None:
    _run(db, V5_SQL)

# Schema 6: red-letter confirmation forms (红字确认单, shudian-rules.md section 4): the desk's own (first a request
# committed with its request id before it is sent, so a send cut short is sent again under the same id) and those
# the buyer raised, as the platform last answered them; the red invoice issued on each.
V6_SQL = (
    'CREATE TABLE "red_letter_form" ("id" INTEGER NOT NULL PRIMARY KEY, "request_id" TEXT, "uuid" TEXT, '
    '"form_number" TEXT NOT NULL, "state" TEXT NOT NULL, "status" TEXT NOT NULL, "raised_by" TEXT NOT NULL, '
    '"invoice_id" INTEGER, "original_number" TEXT NOT NULL, "reason" TEXT NOT NULL, "lines" TEXT NOT NULL, '
    '"total_amount" INTEGER NOT NULL, "total_tax" INTEGER NOT NULL, "red_number" TEXT, "red_invoice_id" INTEGER, '
    '"decision" TEXT, "decision_request_id" TEXT, "clerk" TEXT NOT NULL, "attempts" INTEGER NOT NULL, '
    '"last_error" TEXT NOT NULL, "message" TEXT NOT NULL, "told" INTEGER NOT NULL, "requested_at" TEXT NOT NULL, '
    '"created_at" TEXT, "expires_at" TEXT, "updated_at" TEXT NOT NULL, '
    'FOREIGN KEY ("invoice_id") REFERENCES "invoice" ("id") ON DELETE RESTRICT, '
    'FOREIGN KEY ("red_invoice_id") REFERENCES "invoice" ("id") ON DELETE RESTRICT)',
    'CREATE UNIQUE INDEX "red_letter_form_request_id" ON "red_letter_form" ("request_id")',
    'CREATE UNIQUE INDEX "red_letter_form_uuid" ON "red_letter_form" ("uuid")',
    'CREATE INDEX "red_letter_form_state" ON "red_letter_form" ("state")',
    'CREATE INDEX "red_letter_form_invoice_id" ON "red_letter_form" ("invoice_id")',
    'CREATE INDEX "red_letter_form_original_number" ON "red_letter_form" ("original_number")',
    'CREATE INDEX "red_letter_form_red_invoice_id" ON "red_letter_form" ("red_invoice_id")',
)


def v6_red_letter_forms(db: peewee.SqliteDatabase, migrator: SqliteMigrator) -> None:
    _run(db, V6_SQL)

# Schema 7: drafts (草稿): an unfinished invoice form, kept so a closed window or a crash loses nothing. What the
# form holds is JSON text (content); the buyer's name, the total and the line count are kept beside it for the
# list of drafts. A draft is not an invoice: no number, no quota, no audit entry.
V7_SQL = (
    'CREATE TABLE "draft" ("id" INTEGER NOT NULL PRIMARY KEY, "content" TEXT NOT NULL, "buyer_name" TEXT NOT NULL, '
    '"total_with_tax" INTEGER NOT NULL, "line_count" INTEGER NOT NULL, "created_at" TEXT NOT NULL, '
    '"updated_at" TEXT NOT NULL)',
    'CREATE INDEX "draft_updated_at" ON "draft" ("updated_at")',
)


def v7_drafts(db: peewee.SqliteDatabase, migrator: SqliteMigrator) -> None:
    _run(db, V7_SQL)


# Schema 8: finding an invoice among a million (issue 15). A trigram index (FTS5) of what a clerk searches: the
# numbers, the buyer's name and tax id, the items' names and the remarks, each value between bars so a whole
# value is a phrase too. Every writer adds its invoices in its own transaction (app.store.invoice_search); these
# triggers keep a changed row in step. search_name is the directory of the buyer and item names used, with how
# often: words of one or two characters (which a trigram index cannot hold) are looked up there. Indexes for
# the list's sorts by date, buyer and amount.
V8_SQL = (
    'CREATE VIRTUAL TABLE "invoice_search" USING fts5("numbers", "buyer", "tax_id", "items", "remarks", '
    'tokenize = \'trigram\', columnsize = 0)',
    'INSERT INTO "invoice_search" ("rowid", "numbers", "buyer", "tax_id", "items", "remarks") '
    'SELECT "id", \'|\' || "provisional_number" || \'|\' || coalesce("official_number", \'\') || \'|\', '
    '\'|\' || "buyer_name" || \'|\', \'|\' || "buyer_tax_id" || \'|\', '
    '\'|\' || coalesce((SELECT group_concat("name", \'|\') FROM "invoice_line" '
    'WHERE "invoice_line"."invoice_id" = "invoice"."id"), \'\') || \'|\', "remarks" FROM "invoice" ORDER BY "id"',
    'CREATE TABLE "search_name" ("kind" TEXT NOT NULL, "name" TEXT NOT NULL, "uses" INTEGER NOT NULL, '
    'PRIMARY KEY ("kind", "name")) WITHOUT ROWID',
    'INSERT INTO "search_name" ("kind", "name", "uses") '
    'SELECT \'buyer\', "buyer_name", count(*) FROM "invoice" GROUP BY "buyer_name"',
    'INSERT INTO "search_name" ("kind", "name", "uses") '
    'SELECT \'item\', "name", count(*) FROM "invoice_line" GROUP BY "name"',
    'CREATE TRIGGER "invoice_search_update" AFTER UPDATE OF "provisional_number", "official_number", "buyer_name", '
    '"buyer_tax_id", "remarks" ON "invoice" BEGIN '
    'UPDATE "invoice_search" SET '
    '"numbers" = \'|\' || NEW."provisional_number" || \'|\' || coalesce(NEW."official_number", \'\') || \'|\', '
    '"buyer" = \'|\' || NEW."buyer_name" || \'|\', "tax_id" = \'|\' || NEW."buyer_tax_id" || \'|\', '
    '"remarks" = NEW."remarks" '
    'WHERE "rowid" = NEW."id"; '
    'INSERT INTO "search_name" ("kind", "name", "uses") VALUES (\'buyer\', NEW."buyer_name", 1) '
    'ON CONFLICT ("kind", "name") DO NOTHING; END',
    'CREATE TRIGGER "invoice_search_delete" AFTER DELETE ON "invoice" BEGIN '
    'DELETE FROM "invoice_search" WHERE "rowid" = OLD."id"; END',
    'CREATE TRIGGER "search_name_buyer" AFTER INSERT ON "invoice" BEGIN '
    'INSERT INTO "search_name" ("kind", "name", "uses") VALUES (\'buyer\', NEW."buyer_name", 1) '
    'ON CONFLICT ("kind", "name") DO UPDATE SET "uses" = "uses" + 1; END',
    'CREATE TRIGGER "search_name_item" AFTER INSERT ON "invoice_line" BEGIN '
    'INSERT INTO "search_name" ("kind", "name", "uses") VALUES (\'item\', NEW."name", 1) '
    'ON CONFLICT ("kind", "name") DO UPDATE SET "uses" = "uses" + 1; END',
    'CREATE INDEX "invoice_issued_at" ON "invoice" ("issued_at")',
    'CREATE INDEX "invoice_buyer_name" ON "invoice" ("buyer_name")',
    'CREATE INDEX "invoice_total_with_tax" ON "invoice" ("total_with_tax")',
)


def v8_search(db: peewee.SqliteDatabase, migrator: SqliteMigrator) -> None:
    try:
        _run(db, V8_SQL)
    except peewee.OperationalError as error:
        if "trigram" not in str(error) and "fts5" not in str(error):
            raise
        # SQLite older than 3.34 (or built without FTS5): the step rolls back, the store stays at schema 7.
        raise DeskError(f"本程序所用的 SQLite（{sqlite3.sqlite_version}）不支持全文检索（FTS5 trigram，需 3.34 或更新）："
                        "数据库未升级，请使用随本程序发布的版本",
                        f"this program's SQLite ({sqlite3.sqlite_version}) lacks full-text search (FTS5 trigram, "
                        "3.34 or newer): the store was not upgraded; use the build shipped with Fapiao Desk") from None


# Schema 9: the search index merges its segments in idle time, not inside an issue. By default FTS5 merges a
# little in every write transaction, and at a million invoices that merging is most of an issue's slowest
# percent (30-50 ms). automerge 0 stops it; crisismerge bounds the segments a level may gather (a query reads
# each) until the daily round's merge (app.services.search_index.tidy_search_index) folds them.
V9_SQL = (
    'INSERT INTO "invoice_search" ("invoice_search", "rank") VALUES (\'automerge\', 0)',
    'INSERT INTO "invoice_search" ("invoice_search", "rank") VALUES (\'crisismerge\', 64)',
)


def v9_search_merges(db: peewee.SqliteDatabase, migrator: SqliteMigrator) -> None:
    _run(db, V9_SQL)


# Schema 10: indexes for the list's remaining sorts (kind, buyer tax id, red/blue: a red invoice names its
# blue one) and for what looks up red-letter invoices by the number they reverse (the room left to reverse,
# the detail view's 已开红字发票): without them each read every invoice.
V10_SQL = (
    'CREATE INDEX "invoice_kind" ON "invoice" ("kind")',
    'CREATE INDEX "invoice_buyer_tax_id" ON "invoice" ("buyer_tax_id")',
    'CREATE INDEX "invoice_original_number" ON "invoice" ("original_number")',
)


def v10_sort_indexes(db: peewee.SqliteDatabase, migrator: SqliteMigrator) -> None:
    _run(db, V10_SQL)


# Schema 11: how many invoices there are of each status, kept by SQLite itself whatever path changes an invoice
# (as waiting_totals is, schema 4): the list's count at every start and after every change was a count(*) over
# the whole table, a tenth of a second at a million invoices. The triggers add one small upsert to an issue.
V11_SQL = (
    'CREATE TABLE "invoice_tally" ("status" TEXT NOT NULL PRIMARY KEY, "count" INTEGER NOT NULL) WITHOUT ROWID',
    'INSERT INTO "invoice_tally" SELECT "status", COUNT(*) FROM "invoice" GROUP BY "status"',
    'CREATE TRIGGER "invoice_tally_insert" AFTER INSERT ON "invoice" BEGIN '
    'INSERT INTO "invoice_tally" ("status", "count") VALUES (NEW."status", 1) '
    'ON CONFLICT ("status") DO UPDATE SET "count" = "count" + 1; END',
    'CREATE TRIGGER "invoice_tally_delete" AFTER DELETE ON "invoice" BEGIN '
    'UPDATE "invoice_tally" SET "count" = "count" - 1 WHERE "status" = OLD."status"; END',
    'CREATE TRIGGER "invoice_tally_update" AFTER UPDATE OF "status" ON "invoice" '
    'WHEN NEW."status" IS NOT OLD."status" BEGIN '
    'UPDATE "invoice_tally" SET "count" = "count" - 1 WHERE "status" = OLD."status"; '
    'INSERT INTO "invoice_tally" ("status", "count") VALUES (NEW."status", 1) '
    'ON CONFLICT ("status") DO UPDATE SET "count" = "count" + 1; END',
)


def v11_invoice_tally(db: peewee.SqliteDatabase, migrator: SqliteMigrator) -> None:
    _run(db, V11_SQL)


# Schema 12: indexes whose one column is the first of another index of the same table, which SQLite reads just as
# well: invoice_line (invoice_id, position), upload_queue_entry (state, id: the rowid, so in the same order as the
# one-column index), outage_error (outage_id, message). Every write kept both: an issue wrote two of them, and at a
# million invoices they held some 40 MB. (invoice (status) stays: it is (status, rowid), the list's order within a
# status, which (status, issued_at) is not.)
V12_SQL = (
    'DROP INDEX "invoice_line_invoice_id"',
    'DROP INDEX "upload_queue_entry_state"',
    'DROP INDEX "outage_error_outage_id"',
)


def v12_prefix_indexes(db: peewee.SqliteDatabase, migrator: SqliteMigrator) -> None:
    _run(db, V12_SQL)
