"""Opening a store that a schema step must bring up to date, with the clerk told what is happening.

A migration runs once per new version, but at a million invoices it takes minutes (a verified backup
first, then e.g. schema step 8 builds the search index of every invoice). It runs off the GUI thread
while a progress dialog says so; the store is then opened again on the GUI thread, already current (the
second open costs milliseconds). A failure (no verified backup, a damaged file) is raised as it would be
by a plain open, for the caller's own handling.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEventLoop, Qt
from PySide6.QtWidgets import QApplication, QProgressDialog

from app.store.database import STORE_FILE, default_data_dir
from app.store.migrations import LATEST
from app.ui.i18n import tr

if TYPE_CHECKING:
    from app.store.database import Store

log = logging.getLogger(__name__)
POLL_MS = 50


def migration_due(data_dir: Path | str | None) -> int | None:
    """The schema version of the store in data_dir when a step must run on it (None: nothing to do, no
    store yet, or a file the open's own checks will judge)."""
    path = (Path(data_dir) if data_dir is not None else default_data_dir()) / STORE_FILE
    if not path.is_file():
        return None
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            version = int(connection.execute("PRAGMA user_version").fetchone()[0])
        finally:
            connection.close()
    except sqlite3.Error:
        return None
    return version if 0 < version < LATEST else None


def open_upgrading(data_dir: Path | str | None, opener: Callable[[Path | str | None], Store]) -> Store:
    """opener(data_dir), with a migration (when one is due) run off the GUI thread behind a progress dialog."""
    version = migration_due(data_dir)
    if version is None:
        return opener(data_dir)
    dialog = QProgressDialog(
        tr("正在升级本地数据库（架构 {old} → {new}）：先做一份已校验的备份，再建立新的表和索引。\n"
           "发票很多时需要几分钟，请稍候，不要关闭本程序。",
           "Bringing the store up to date (schema {old} → {new}): a verified backup first, then the new tables "
           "and indexes.\nWith many invoices this takes minutes: please wait and do not close the desk.",
           old=version, new=LATEST), "", 0, 0)
    dialog.setObjectName("store_upgrade_progress")
    dialog.setWindowTitle(tr("升级本地数据库", "Updating the store"))
    dialog.setCancelButton(None)  # a step half done rolls back, but stopping it helps nobody
    dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
    dialog.setMinimumDuration(0)
    dialog.show()
    outcome: dict[str, BaseException] = {}

    def migrate() -> None:
        try:
            opener(data_dir).close()  # this thread's connection closed: the GUI thread opens its own
        except BaseException as error:  # raised again on the GUI thread, where the caller handles it
            outcome["error"] = error

    started = time.monotonic()
    worker = threading.Thread(target=migrate, name="store-upgrade", daemon=True)
    worker.start()
    while worker.is_alive():
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, POLL_MS)
        worker.join(POLL_MS / 1000)
    dialog.close()
    dialog.deleteLater()
    if "error" in outcome:
        raise outcome["error"]
    log.info("store upgraded from schema %d to %d in %.1f s", version, LATEST, time.monotonic() - started)
    return opener(data_dir)
