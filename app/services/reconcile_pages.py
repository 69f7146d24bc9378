"""The platform's listing read a page ahead: while reconciliation checks one page, the next is on its way.

A reconciliation spends its time in two places that need not wait for each other: the platform (another
process, or another machine) preparing a page, and the desk checking the page it has. pages_ahead() reads
the listing in a thread of its own, one page ahead of the caller, so the platform's work and the desk's
overlap; memory stays two pages, whatever the period.

Nothing is believed sooner for it: the pages come to the caller in order, whole, exactly as the listing
gave them, and the caller checks each as before. An error of the listing (PlatformError, or anything else)
is raised to the caller where the page it stopped at would have come, as reading it directly would; when
the caller stops early (an error of its own, or it has read enough), the thread stops after the request it
is in, and the caller waits for that, so the client is never used by two threads at once.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Generator, Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

_POLL = 0.1  # seconds the reader waits at a time for its page to be taken before looking whether the caller stopped


def pages(items: Iterable[T], page_size: int) -> Iterator[list[T]]:
    """The items, page_size at a time (the last page may be shorter; no empty page)."""
    stream = iter(items)
    while True:
        page = list(itertools.islice(stream, page_size))
        if not page:
            return
        yield page


def pages_ahead(items: Iterable[T], page_size: int) -> Generator[list[T], None, None]:
    """pages(items, page_size), the next page read in a thread while the caller works on this one.

    The reader hands each page over and reads the next only once the caller has taken it: at most two pages
    are alive (the caller's, and the next, read or being read), as when the caller reads them itself (its
    page is still held while the next one is built)."""
    ready: queue.Queue[tuple[str, Any]] = queue.Queue()  # at most one item: the reader waits for it to be taken
    taken = threading.Semaphore(0)
    stop = threading.Event()

    def hand(item: tuple[str, Any]) -> bool:
        ready.put(item)
        while not taken.acquire(timeout=_POLL):
            if stop.is_set():
                return False
        return True

    def read() -> None:
        try:
            for page in pages(items, page_size):
                if not hand(("page", page)):
                    return
                del page  # the caller's now: not held here while the next one is read
            hand(("end", None))
        except BaseException as failed:  # handed to the caller, raised there
            hand(("error", failed))

    reader = threading.Thread(target=read, name="reconcile-listing", daemon=True)
    reader.start()
    try:
        while True:
            try:
                kind, value = ready.get(timeout=_POLL)  # a timeout: Ctrl-C is heard while waiting (Windows too)
            except queue.Empty:
                continue
            taken.release()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
            del value
    finally:
        stop.set()
        reader.join()
