"""Starting the desktop app: the Qt application, the embedded CJK font, the log, the store, first
start, the window.

The pieces are functions so tests can build the same windows without running the event loop.
run_desktop alone installs what is process-wide (the log file, Qt's messages to the log, the
dialog for uncaught exceptions: app/ui/diagnostics.py) and takes the last two down when it returns.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication, QDialog

from app import __version__
from app.base import logs
from app.base.resources import cjk_font_path
from app.core.errors import DeskError
from app.services.seller import get_seller
from app.store.database import Store, default_data_dir
from app.ui.diagnostics import ErrorReporter, install_qt_message_handler, restore_qt_message_handler, show_desk_error
from app.ui.i18n import install_qt_translations, set_language, tr
from app.ui.main_window import MainWindow

if TYPE_CHECKING:
    from app.ui.seller_dialog import SellerDialog

FONT_POINT_SIZE = 10
log = logging.getLogger(__name__)


def install_cjk_font(app: QApplication) -> str | None:
    """Load the shipped WenQuanYi Micro Hei and make it the application font, so Chinese renders
    the same on a PC without Chinese fonts. Returns the family, or None if the file is missing."""
    font_id = QFontDatabase.addApplicationFont(str(cjk_font_path()))
    if font_id < 0:
        return None
    families = QFontDatabase.applicationFontFamilies(font_id)
    if not families:
        return None
    font = QFont(families[0], FONT_POINT_SIZE)
    app.setFont(font)
    return families[0]


def make_application(lang: str = "zh", argv: list[str] | None = None) -> QApplication:
    set_language(lang)
    existing = QApplication.instance()
    if existing is not None and not isinstance(existing, QApplication):
        raise RuntimeError("a QCoreApplication without widgets is running; the desk needs a QApplication")
    app = existing or QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("FapiaoDesk")
    app.setApplicationDisplayName(tr("发票离线开票台"))
    install_qt_translations(app)
    install_cjk_font(app)
    return app


def first_start_dialog() -> SellerDialog | None:
    """The seller dialog when the store has no profile yet, else None."""
    if get_seller() is not None:
        return None
    from app.ui.seller_dialog import SellerDialog  # first start only: not on every start's path

    return SellerDialog(None, first_start=True)


def build_main_window(store: Store) -> MainWindow:
    return MainWindow(store)


def run_desktop(data_dir: Path | str | None, lang: str = "zh") -> int:
    """The app, until its window closes; the exit status (a DeskError's exit_code when it cannot start)."""
    app = make_application(lang)
    directory = Path(data_dir) if data_dir is not None else default_data_dir()
    logs.configure(directory)  # the store's data dir: the log lives beside the store
    log.info("Fapiao Desk %s starting; data in %s", __version__, directory)
    previous_handler = install_qt_message_handler()
    reporter = ErrorReporter().install()
    try:
        return _run(app, directory)
    finally:
        reporter.uninstall()
        restore_qt_message_handler(previous_handler)


def _run(app: QApplication, data_dir: Path) -> int:
    from app.ui.on_screen import WhenOnScreen
    from app.ui.startup_checks import after_start, open_store_or_restore
    from app.ui.store_check import start_store_check

    try:
        store, restored = open_store_or_restore(data_dir)  # a damaged store: the newest good backup is offered
    except DeskError as error:  # a newer schema, no verified backup before a migration, …
        log.error("cannot open the store in %s: %s", data_dir, error.describe("en"))
        return show_desk_error(error)
    if store is None:
        return 1
    try:
        dialog = first_start_dialog()
        if dialog is not None and dialog.exec() != QDialog.DialogCode.Accepted:
            return 0  # no seller, nothing to issue for: the clerk chose to stop
        window = build_main_window(store)
        window.show()

        def start_background() -> None:
            start_store_check(window)  # PRAGMA quick_check reads every page: off the GUI thread
            window.sync_actions.runner.start()  # monitor and upload worker, off the GUI thread
            after_start(window, restored)  # audit chain verified off the GUI thread; reconcile after a restore

        background = WhenOnScreen(window, start_background)  # after the first paint: see app/ui/on_screen.py
        try:
            return app.exec()
        finally:
            background.cancel()
            if background.started:
                window.store_check.stop()  # a whole-file check still running is interrupted, not waited for
                window.sync_actions.runner.stop()
            window.backup_actions.backup_at_close()
            window.store.close()  # a restore in the app replaced the store it opened with
    finally:
        store.close()
