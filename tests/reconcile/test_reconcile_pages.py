"""The listing read a page ahead (app/services/reconcile_pages.py): the same pages in the same order, an error
where it happened, never more than one page read ahead, and the reader gone once the caller stops."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from app.services.reconcile_pages import pages, pages_ahead


class Source:
    """Items 0..count-1, counting how many were read, raising at `fail_at` if given."""

    def __init__(self, count: int, fail_at: int | None = None) -> None:
        self.count, self.fail_at, self.read = count, fail_at, 0
        self.threads: set[str] = set()

    def __iter__(self) -> Iterator[int]:
        for item in range(self.count):
            self.threads.add(threading.current_thread().name)
            if item == self.fail_at:
                raise ConnectionError(f"dropped at {item}")
            self.read += 1
            yield item


@pytest.mark.parametrize(("count", "size"), [(0, 3), (1, 3), (3, 3), (10, 3), (10, 1), (10, 100)])
def test_the_same_pages_in_the_same_order(count, size):
    expected = [list(range(start, min(start + size, count))) for start in range(0, count, size)]
    assert list(pages(range(count), size)) == expected
    source = Source(count)
    assert list(pages_ahead(source, size)) == expected
    assert source.threads <= {"reconcile-listing"}  # read by the reader, never by the caller


def test_an_error_comes_after_the_pages_before_it():
    got = []
    with pytest.raises(ConnectionError, match="dropped at 7"):
        for page in pages_ahead(Source(20, fail_at=7), 3):
            got.append(page)
    assert got == [[0, 1, 2], [3, 4, 5]]  # the page it broke in is not given half


def test_the_reader_keeps_one_page_ahead_and_stops_with_the_caller():
    source = Source(1000)
    listed = pages_ahead(source, 10)
    assert next(listed) == list(range(10))
    time.sleep(0.3)  # time enough to read far ahead, if it would
    assert source.read <= 20 + 1  # the caller's page, the next one, and the first item of the one after at most
    assert next(listed) == list(range(10, 20))
    time.sleep(0.3)
    assert source.read <= 30 + 1
    listed.close()  # the caller stops: the reader stops too, and the caller waited for it
    assert not [t for t in threading.enumerate() if t.name == "reconcile-listing"]
    assert source.read <= 31


def test_a_caller_that_fails_stops_the_reader():
    source = Source(1000)
    with pytest.raises(RuntimeError):
        for page in pages_ahead(source, 10):
            if page[0] == 20:
                raise RuntimeError("the comparison failed")
    assert not [t for t in threading.enumerate() if t.name == "reconcile-listing"]
    assert source.read <= 41
