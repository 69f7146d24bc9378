"""The reference platform on loopback, in-process on port 0, and helpers to fill the queue."""

from __future__ import annotations

import pytest

from tests.conftest import platform_numbers  # noqa: F401  (shared; the tests here import it from this module)



TOKEN = "test-token-0123456789"


@pytest.fixture
def platform(tmp_path):
    from app.platform.server import PlatformServer

    server = PlatformServer(tmp_path / "platform.sqlite3", token=TOKEN, seed=7).start()
    yield server
    server.stop()


def issue_many(count: int, **overrides) -> list:
    """Issue `count` invoices through the real issue service (the same path as the form)."""
    from tests.conftest import invoice_body

    from app.services.issuing import issue_invoices

    issued = []
    for start in range(0, count, 200):
        bodies = [invoice_body(remarks=f"#{i}", **overrides) for i in range(start, min(count, start + 200))]
        issued += issue_invoices(bodies)
    return issued


def make_worker(platform, token: str = TOKEN, **options):
    from app.platform.http_client import HttpPlatformClient
    from app.sync.worker import Backoff, QueueWorker

    timeout = options.pop("timeout", 2.0)
    options.setdefault("backoff", Backoff(base=0.02, cap=0.2))
    return QueueWorker(lambda: HttpPlatformClient(platform.url, token, timeout=timeout, batch_timeout=timeout),
                       **options)
