"""No input to `issue` gives a traceback: any JSON value anywhere in a body, any bytes on standard input, the
shapes an outside harness found (invalid UTF-8, huge exponents, non-string tax ids, deep nesting, very long
integers) end in a refusal naming the field, exit 2 on the command line, and nothing stored."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.cli.common import BadInput, read_json
from app.core.errors import DeskError, ValidationFailed
from app.services.issuing import issue_invoices
from app.store.models import AuditEntry, Invoice, UploadQueueEntry
from tests.helpers.bodies import full_body
from tests.helpers.cli import ROOT

FIXTURES = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]

# Any JSON value, numbers at the edges included (as json.loads gives them: floats arrive as text).
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from(["", "0", "-1", "1e999999", "-1e-999999", "NaN", "Infinity", "1" * 400, "0.000000001",
                     "9" * 20, "１２３", "\u0000", "\\u4e2d", "*", "**", "  ", "北京", "x" * 600]),
    st.text(max_size=40),
    st.text(st.characters(exclude_categories=()), max_size=8),  # controls and lone surrogates too
)
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)), max_leaves=12)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


BASE = full_body()
PATHS = [path for path in _paths(BASE) if path]


def _replaced(path: tuple[Any, ...], value: Any) -> Any:
    body = copy.deepcopy(BASE)
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return body


def _counts() -> tuple[int, int, int]:
    return Invoice.select().count(), AuditEntry.select().count(), UploadQueueEntry.select().count()


def _issue_or_refuse(body: Any) -> None:
    before = _counts()
    try:
        issued = issue_invoices([body])
    except ValidationFailed as failed:
        assert failed.errors and all(error.field and error.message_zh and error.message_en for error in failed.errors)
        assert _counts() == before  # nothing stored half-way
        return
    except DeskError:
        assert _counts() == before
        return
    assert len(issued) == 1 and _counts() == (before[0] + 1, before[1] + 1, before[2] + 1)


@settings(max_examples=300, deadline=None, suppress_health_check=FIXTURES)
@given(path=st.sampled_from(PATHS), value=json_values)
def test_any_value_in_any_field_is_issued_or_refused_naming_a_field(seller, path, value):
    _issue_or_refuse(_replaced(path, value))


@settings(max_examples=150, deadline=None, suppress_health_check=FIXTURES)
@given(body=json_values)
def test_any_json_at_all_is_refused_naming_a_field(seller, body):
    _issue_or_refuse(body)


@settings(max_examples=300, deadline=None)
@given(raw=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(lambda t: t.encode("utf-8"))))
def test_any_bytes_are_read_or_refused_as_json(tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("in") / "body.json"
    path.write_bytes(raw)
    try:
        read_json(str(path))
    except BadInput as refused:
        assert refused.describe("zh").startswith("输入文件")


HARNESS_CASES = {
    "invalid_utf8": b'{"kind": "normal", "buyer": {"name": "\xff\xfe"}}',
    "huge_exponent": json.dumps({**BASE, "lines": [{**BASE["lines"][0], "quantity": 1e308}]}).replace(
        "1e+308", "1e999999").encode(),
    "long_integer": json.dumps(BASE).replace('"quantity": "1"', '"quantity": ' + "9" * 5000, 1).encode(),
    "tax_id_number": json.dumps({**BASE, "buyer": {**BASE["buyer"], "tax_id": 91110000600037341}}).encode(),
    "deep_nesting": b'{"kind": "normal", "buyer": ' + b"[" * 100000 + b"]" * 100000 + b"}",
    "nul_in_name": json.dumps({**BASE, "buyer": {**BASE["buyer"], "name": "北京\u0000公司"}}).encode(),
    "lone_surrogate": json.dumps(BASE, ensure_ascii=False).replace("北京客户", "\\ud800", 1).encode(),
    "long_tax_id_integer": json.dumps({**BASE, "buyer": {**BASE["buyer"], "tax_id": 0}}).replace(
        '"tax_id": 0', '"tax_id": ' + "7" * 4500).encode(),
}


@pytest.mark.parametrize("case", sorted(HARNESS_CASES))
def test_the_harness_inputs_exit_2_naming_the_field_and_store_nothing(seller, data_dir, store, case):
    before = _counts()
    process = subprocess.run([sys.executable, "-m", "app", "--data-dir", str(data_dir), "issue", "-"],
                             input=HARNESS_CASES[case], capture_output=True, cwd=ROOT, timeout=120)
    stderr = process.stderr.decode("utf-8", "replace")
    assert process.returncode == 2, (case, process.returncode, stderr)
    assert "Traceback" not in stderr and "内部错误" not in stderr, stderr
    assert re.match(r"[^\x00-\x7f][^：\n]*：", stderr), stderr  # the field by its Chinese name
    assert _counts() == before
