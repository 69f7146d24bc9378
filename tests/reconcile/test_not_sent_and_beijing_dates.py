"""Two rough edges of reconciliation: a record withdrawn before it was ever sent is rightly absent from the
platform, which is not 一致 (counted apart, as not sent); the view's period follows Beijing's date, also in the
hours after midnight when UTC still reads the day before."""

from __future__ import annotations

from datetime import datetime

from app.core.clock import BEIJING, shifted, today
from app.services import reconcile as rec
from app.services.issuing import issue_invoice
from app.services.lifecycle import cancel_invoice
from tests.helpers.bodies import invoice_body
from tests.helpers.platform import make_worker


def test_a_record_withdrawn_before_upload_is_not_counted_as_matching(online, client):
    sent = issue_invoice(invoice_body()).number
    make_worker(online).run_once()
    withdrawn = issue_invoice(invoice_body(remarks="不开了")).number
    assert cancel_invoice(withdrawn, "不开了").cancelled
    report = rec.reconcile(client, today().isoformat(), today().isoformat())
    assert report.local_count == 2 and report.differences == []
    assert (report.matched, report.not_sent) == (1, 1), (sent, report)


def test_the_views_period_is_beijings_month_just_after_midnight(qtbot, store, seller):
    from app.ui.application import build_main_window

    # 00:30 on 1 December in Beijing is still 30 November in UTC.
    with shifted(datetime(2026, 12, 1, 0, 30, tzinfo=BEIJING)):
        window = build_main_window(store)
        qtbot.addWidget(window)
        view = window.trust_actions.show_reconcile()
        assert view.period() == ("2026-12-01", "2026-12-01")
