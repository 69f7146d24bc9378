"""The desk's log: one rotating file in the data dir, configured once per process.

The windowed bundle has no console, so anything that goes wrong off the GUI thread (a worker's
failure, an uncaught exception in a thread) must land somewhere a maintainer can read: here.
Uncaught exceptions (sys.excepthook, threading.excepthook) are written to the log and then handed
to the listeners (the app shows a dialog that says where the log is).
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import TracebackType

from app.base.files import make_private, private_folder
from app.core.clock import BEIJING

LOG_FILE = "fapiao-desk.log"
MAX_BYTES = 2 * 1024 * 1024
BACKUPS = 5  # fapiao-desk.log.1 … .5: about 12 MB at most
FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(threadName)s] %(message)s"

log = logging.getLogger("app")


class BeijingFormatter(logging.Formatter):
    """Times in the log on the desk's one clock (Beijing), like the invoices and the audit log."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # logging's name
        moment = datetime.fromtimestamp(record.created, BEIJING)
        return moment.strftime(datefmt) if datefmt else moment.isoformat(timespec="milliseconds")

class QuietFileHandler(logging.handlers.RotatingFileHandler):
    """The log is best effort: a record that cannot be written (a full disk) is dropped, never printed to the
    clerk as logging's own traceback."""

    def handleError(self, record: logging.LogRecord) -> None:  # logging's name
        return

    def doRollover(self) -> None:  # logging's name: the new file is as private as the first
        super().doRollover()
        make_private(Path(self.baseFilename))


# Called with (summary, log file or None) after an uncaught exception is logged.
ExceptionListener = Callable[[str, "Path | None"], None]
_listeners: list[ExceptionListener] = []
_handler: logging.Handler | None = None
_path: Path | None = None


def log_path() -> Path | None:
    """The file being written, or None when logging was not configured (or the folder is not writable)."""
    return _path


def configure(log_dir: Path | None, *, level: int = logging.INFO) -> Path | None:
    """Log to log_dir/fapiao-desk.log (rotating) and route uncaught exceptions there.

    Called again with another folder (the app after a restore, tests), the file follows it. A folder
    that cannot be written is not an error: the desk still runs, and says so on stderr."""
    global _handler, _path
    root = logging.getLogger()
    if _handler is not None:
        root.removeHandler(_handler)
        _handler.close()
        _handler, _path = None, None
    if log_dir is not None:
        try:
            private_folder(log_dir)  # the data folder: this user's only
            handler = QuietFileHandler(log_dir / LOG_FILE, maxBytes=MAX_BYTES, backupCount=BACKUPS,
                                       encoding="utf-8")
            make_private(log_dir / LOG_FILE)
        except OSError as error:
            print(f"日志文件无法写入 (cannot write the log in {log_dir}): {error.strerror}", file=sys.stderr)
        else:
            handler.setFormatter(BeijingFormatter(FORMAT))
            root.addHandler(handler)
            _handler, _path = handler, log_dir / LOG_FILE
    root.setLevel(min(root.level or level, level))
    sys.excepthook = _uncaught
    threading.excepthook = _uncaught_in_thread
    return _path


def add_exception_listener(listener: ExceptionListener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def remove_exception_listener(listener: ExceptionListener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def report_uncaught(kind: type[BaseException], value: BaseException, tb: TracebackType | None,
                    where: str = "") -> None:
    """Log an exception nobody caught, then tell the listeners (a dialog in the app)."""
    log.critical("uncaught exception%s", f" in {where}" if where else "", exc_info=(kind, value, tb))
    summary = f"{kind.__name__}: {value}"
    for listener in list(_listeners):
        try:
            listener(summary, _path)
        except Exception:  # a broken listener must not hide the original failure
            log.exception("exception listener failed")


def _uncaught(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, tb)
        return
    report_uncaught(kind, value, tb)
    if _path is None or (sys.stderr is not None and sys.stderr.isatty()):
        sys.__excepthook__(kind, value, tb)


def _uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else "a thread"
    report_uncaught(args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback, where=name)
