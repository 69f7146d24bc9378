"""`list | head` and `seller show | head`: a reader that stops reading ends the command quietly, without a
BrokenPipeError traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from app.services.issuing import issue_invoices
from tests.helpers.bodies import invoice_body
from tests.helpers.cli import ROOT


@pytest.mark.parametrize("command", [("list",), ("seller", "show"), ("list", "--json")])
def test_a_closed_pipe_ends_the_command_quietly(seller, store, data_dir, command):
    issue_invoices([invoice_body(remarks=f"#{i}") for i in range(30)])
    store.close()
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first line is written
    with os.fdopen(write, "wb") as out:
        process = subprocess.run([sys.executable, "-m", "app", "--data-dir", str(data_dir), *command], stdout=out,
                                 stderr=subprocess.PIPE, cwd=ROOT, timeout=120,
                                 env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    stderr = process.stderr.decode("utf-8", "replace")
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr and "内部错误" not in stderr, stderr
    assert process.returncode == 0, stderr
