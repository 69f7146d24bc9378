"""Shared fixtures: a real store in a temporary folder, the reference platform on loopback, Qt
offscreen, and a watch on the log (an unexpected logged error fails the test). Helpers that tests
import live in tests/helpers, never here."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Before anything imports Qt: tests never need a screen.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The platform token goes to a private file in each test's data dir, never to the developer's own keyring.
os.environ["FAPIAO_DESK_KEYRING"] = "file"

from app.platform.http_client import HttpPlatformClient
from app.platform.server import PlatformServer
from app.services.seller import SellerSettings, set_seller
from app.services.store_access import open_store
from app.store.database import Store
from tests.helpers.bodies import SELLER_TAX_ID
from tests.helpers.platform import PLATFORM_TOKEN, SYNC_TOKEN


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "logged_errors_expected: the test provokes errors that the desk logs")


class _ErrorWatch(logging.Handler):
    """Collects every record of level ERROR and above logged anywhere during a test."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def no_unexpected_logged_errors(request: pytest.FixtureRequest) -> Iterator[_ErrorWatch]:
    """Fails a test that passed its assertions while the desk logged an error it did not expect: a
    worker's swallowed exception, a listener that broke. Mark a test logged_errors_expected to allow it."""
    watch = _ErrorWatch()
    root = logging.getLogger()
    root.addHandler(watch)
    try:
        yield watch
    finally:
        root.removeHandler(watch)
    if request.node.get_closest_marker("logged_errors_expected") is None and watch.records:
        shown = "\n".join(f"{r.name}: {r.getMessage()}" + (f" ({r.exc_info[1]!r})" if r.exc_info else "")
                          for r in watch.records[:5])
        pytest.fail(f"the desk logged {len(watch.records)} unexpected error(s):\n{shown}", pytrace=False)


@pytest.fixture(autouse=True)
def no_form_outlives_its_test() -> Iterator[None]:
    """An invoice form a test left open keeps its draft timer: firing in a later test, it would save its draft
    into that test's store (the store is process-wide), which then greets its window with "1 份未完成的发票草稿".
    After each test every form still alive stops saving and closes. Only where the forms' module was loaded."""
    yield
    import sys

    forms = sys.modules.get("app.ui.invoice_form")
    if forms is None:
        return
    from PySide6.QtWidgets import QApplication

    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, forms.InvoiceForm):
            widget.draft_timer.stop()
            widget.keeps_draft = False
            widget.dirty = False
            widget.hide()
            widget.deleteLater()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def store(data_dir: Path) -> Iterator[Store]:
    opened = open_store(data_dir)
    yield opened
    opened.close()


@pytest.fixture
def seller(store: Store) -> SellerSettings:
    return set_seller(name="北京某某科技有限公司", tax_id=SELLER_TAX_ID, drawer="张三",
                      address="北京市海淀区中关村大街1号",
                      phone="010-62345678", bank="中国工商银行北京中关村支行", account="0200001234567890123")


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[PlatformServer]:
    """The reference platform in-process on a free loopback port, with its own SQLite file."""
    server = PlatformServer(tmp_path / "platform.sqlite3", token=PLATFORM_TOKEN).start()
    yield server
    server.stop()


@pytest.fixture
def v2(tmp_path: Path) -> Iterator[PlatformServer]:
    """The reference platform for protocol v2 tests: a short result delay, its clock at a fixed start
    (tests/platform_v2/support.START) so deadlines are reckoned from a known moment."""
    from tests.platform_v2.support import START, set_clock

    server = PlatformServer(tmp_path / "platform.sqlite3", token=SYNC_TOKEN, result_delay_ms=30).start()
    set_clock(server, now=START)
    yield server
    server.stop()


@pytest.fixture
def online(store: Store, seller: SellerSettings, v2: PlatformServer) -> PlatformServer:
    """The desk set to reach the `v2` platform, whose clock runs at real time (the desk dates invoices with the
    real clock, and the platform refuses invoices dated in its future). The channel: the default, platform."""
    from app.services.settings import set_platform
    from tests.platform_v2.support import set_clock

    set_clock(v2, reset=True)
    set_platform(v2.url, SYNC_TOKEN)
    return v2


@pytest.fixture
def client(online: PlatformServer) -> Iterator[HttpPlatformClient]:
    from app.services.settings import make_client

    made = make_client()
    yield made
    made.close()


@pytest.fixture
def direct(online: PlatformServer) -> PlatformServer:
    """The direct channel with a block of 1,000 numbers and 300,000.00 of quota drawn."""
    from tests.helpers.platform import draw_direct_stock

    return draw_direct_stock(online)
