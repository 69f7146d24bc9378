"""Shared fixtures: a real store in a temporary folder, and Qt offscreen."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Before anything imports Qt: tests never need a screen.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
SELLER_TAX_ID = "91110108MA0123456G"  # check character verified by python-stdnum
BUYER_TAX_ID = "91110000600037341L"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def store(data_dir: Path):
    from app.services.store_access import open_store

    opened = open_store(data_dir)
    yield opened
    opened.close()


@pytest.fixture
def seller(store):
    from app.services.seller import set_seller

    return set_seller(name="北京某某科技有限公司", tax_id=SELLER_TAX_ID, drawer="张三", address="北京市海淀区中关村大街1号",
                      phone="010-62345678", bank="中国工商银行北京中关村支行", account="0200001234567890123")


def invoice_body(**overrides) -> dict:
    """A valid draft as the CLI and the form send it; amounts left for the service to compute."""
    body = {
        "kind": "normal",
        "buyer": {"name": "北京客户贸易有限公司", "tax_id": BUYER_TAX_ID},
        "lines": [{"name": "*信息技术服务*软件开发", "unit": "项", "quantity": "1", "unit_price": "1000",
                   "tax_rate": "0.06"}],
    }
    body.update(overrides)
    return body


def run_cli(data_dir: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """The real command line in a child process, as a clerk or a script would run it."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "app", "--data-dir", str(data_dir), *args], input=stdin,
                          capture_output=True, text=True, encoding="utf-8", cwd=ROOT, env=env, timeout=120)


PLATFORM_TOKEN = "test-token"


@pytest.fixture
def platform(tmp_path):
    """The reference platform in-process on a free loopback port, with its own SQLite file."""
    from app.platform.server import PlatformServer

    server = PlatformServer(tmp_path / "platform.sqlite3", token=PLATFORM_TOKEN).start()
    yield server
    server.stop()


def platform_numbers(platform) -> list[str]:
    """Provisional numbers of every record the platform holds, read from its own SQLite file."""
    import json
    import sqlite3

    conn = sqlite3.connect(platform.records.path)
    try:
        return [json.loads(body)["number"] for (body,) in conn.execute("SELECT body FROM record ORDER BY seq")]
    finally:
        conn.close()
