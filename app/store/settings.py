"""Desk settings kept in the store, so they travel with its backups."""

from __future__ import annotations

import json
from typing import Any

from app.store.models import Setting, database


def get_setting(key: str, default: Any = None) -> Any:
    row = Setting.get_or_none(Setting.key == key)
    return default if row is None else json.loads(row.value)


def set_setting(key: str, value: Any) -> None:
    with database.atomic():
        Setting.insert(key=key, value=json.dumps(value, ensure_ascii=False)).on_conflict_replace().execute()
