"""The red-letter forms view, driven like a clerk against the reference platform over real HTTP: forms the
buyer raised (03) appear with their figures once refreshed, the clerk agrees to one and disagrees with another;
the desk's own form waiting for the buyer (02) shows the hours left of its 72; a void one (07) its end state."""

from __future__ import annotations

from PySide6.QtWidgets import QPushButton

from app.core import status
from app.services import red_forms
from app.services.issuing import issue_invoice
from app.services.settings import make_client, set_platform
from app.store.models import AuditEntry, Invoice, RedLetterForm
from app.ui.application import build_main_window
from app.ui.red_forms_view import COLUMNS, RedFormsView
from tests.helpers.bodies import invoice_body
from tests.helpers.platform import SYNC_TOKEN, make_worker
from tests.platform_v2.support import ok, set_clock


def _blue(v2) -> str:
    issued = issue_invoice(invoice_body())
    make_worker(v2).run_once()
    row = Invoice.get_by_id(issued.id)
    assert row.status == status.ACCEPTED
    return str(row.official_number)


def _buyer(v2, action: str, code: int = 200, **fields):
    return ok(v2, "POST", "/_buyer", {"action": action, **fields}, token=None, status=code)


def text(view: RedFormsView, row: int, column: str) -> str:
    item = view.table.item(row, COLUMNS.index(column))
    assert item is not None
    return item.text()


def test_the_clerk_agrees_and_disagrees_with_forms_the_buyer_raised(qtbot, store, seller, v2):
    set_clock(v2, reset=True)
    set_platform(v2.url, SYNC_TOKEN)
    first, second, own = _blue(v2), _blue(v2), _blue(v2)
    line = [{"original_line_no": 1, "amount": "-1000.00", "tax": "-60.00"}]
    agreed = _buyer(v2, "raise", 201, number=first, reason="01", lines=line)
    refused = _buyer(v2, "raise", 201, number=second, reason="03", lines=line)
    _buyer(v2, "use", number=own)
    client = make_client()
    try:
        waiting = red_forms.raise_form(own, "01", client=client).form
    finally:
        client.close()
    assert waiting.status == "02"

    window = build_main_window(store)
    qtbot.addWidget(window)
    window.trust_actions.red_forms_action.trigger()
    view = window.trust_actions.dialogs[-1]
    assert isinstance(view, RedFormsView)
    assert view.row_of(agreed["uuid"]) == -1  # not known before a refresh
    refresh = view.findChild(QPushButton, "forms_refresh")
    assert refresh is not None
    refresh.click()
    qtbot.waitUntil(lambda: not view.busy and view.row_of(agreed["uuid"]) >= 0, timeout=10000)
    row = view.row_of(agreed["uuid"])
    assert text(view, row, "status").startswith("03") and text(view, row, "raised_by") == "购方"
    assert text(view, row, "amount") == "-1,000.00" and text(view, row, "tax") == "-60.00"
    assert text(view, row, "original_number") == first and "小时" in text(view, row, "hours_left")
    own_row = view.row_of(waiting.uuid or "")
    assert text(view, own_row, "status").startswith("02")
    hours = float(text(view, own_row, "hours_left").split()[0])
    assert 71.5 < hours <= 72.0
    assert "待本方确认 2 张" in view.summary.text() and "待购方确认 1 张" in view.summary.text()

    # Own form: not to be agreed by the seller.
    view.table.selectRow(own_row)
    assert not view.agree_button.isEnabled() and view.revoke_button.isEnabled()

    view.table.selectRow(view.row_of(agreed["uuid"]))
    assert view.agree_button.isEnabled() and view.disagree_button.isEnabled()
    view.agree_button.click()
    qtbot.waitUntil(lambda: not view.busy, timeout=10000)
    assert text(view, view.row_of(agreed["uuid"]), "status").startswith("04")
    assert not view.agree_button.isEnabled()

    view.table.selectRow(view.row_of(refused["uuid"]))
    view.disagree_button.click()
    qtbot.waitUntil(lambda: not view.busy, timeout=10000)
    assert text(view, view.row_of(refused["uuid"]), "status").startswith("06")
    assert ok(v2, "GET", f"/v2/red-forms/{agreed['uuid']}")["status"] == "04"
    assert ok(v2, "GET", f"/v2/red-forms/{refused['uuid']}")["status"] == "06"
    assert {"red_form_agreed", "red_form_disagreed"} <= {e.action for e in AuditEntry.select()}

    # 72 hours on the platform's clock: the desk's own waiting form is void once refreshed.
    set_clock(v2, advance_hours=72.1)
    view.refresh()
    qtbot.waitUntil(lambda: not view.busy, timeout=10000)
    assert text(view, view.row_of(waiting.uuid or ""), "status").startswith("07")
    assert text(view, view.row_of(waiting.uuid or ""), "hours_left") == ""
    assert RedLetterForm.get(RedLetterForm.uuid == waiting.uuid).status == "07"
    # The agreed form is usable: the red invoice on it.
    set_clock(v2, reset=True)
    client = make_client()
    try:
        red = red_forms.issue_red_invoice(agreed["uuid"], client=client)
    finally:
        client.close()
    assert red.invoice.total_with_tax == -1060
