"""Desk settings kept in the store, so they travel with its backups."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from app.core.errors import FieldError, ValidationFailed
from app.services import secrets
from app.store import audit
from app.store.models import Setting, database

if TYPE_CHECKING:
    from app.platform.http_client import HttpPlatformClient


def get_setting(key: str, default: Any = None) -> Any:
    # Read at every issue (the channel, the taxpayer, the limits): plain SQL, not a query peewee builds each time.
    row = database.execute_sql('SELECT "value" FROM "setting" WHERE "key" = ?', (key,)).fetchone()
    return default if row is None else json.loads(row[0])


# Values never written into the history in clear.
SECRET_KEYS = {"platform.token"}


def set_setting(key: str, value: Any, *, clerk: str = "") -> None:
    """Set a value; a change is an audit entry (raising an offline limit is exactly what an
    inspector asks about). IMMEDIATE: the audit chain is appended under the write lock."""

    text = json.dumps(value, ensure_ascii=False)
    with database.atomic("IMMEDIATE"):
        row = Setting.get_or_none(Setting.key == key)
        if row is not None and row.value == text:
            return
        Setting.insert(key=key, value=text).on_conflict_replace().execute()
        shown = "(changed)" if key in SECRET_KEYS else value
        audit.append("setting_changed", clerk=clerk, detail={"key": key, "value": shown})


# --- the online platform (app/sync) ---------------------------------------------------------------

PLATFORM_URL = "platform.url"
PLATFORM_TOKEN = "platform.token"
DEFAULT_PLATFORM_URL = "http://127.0.0.1:8765"


def platform_url() -> str:
    return get_setting(PLATFORM_URL) or DEFAULT_PLATFORM_URL


def platform_token() -> str:
    """The bearer token (app.services.secrets: the credential store, never the store); show it only through
    app.platform.client.mask_token, never log it. A token an older release kept in the store moves out of it
    here, the first time it is read."""
    token = secrets.read_token()
    if token:
        return token
    legacy = get_setting(PLATFORM_TOKEN)
    if isinstance(legacy, str) and legacy:
        _store_token(legacy, clerk="desk")
        set_setting(PLATFORM_TOKEN, "")  # audited as "(changed)": the store keeps no token from now on
        return legacy
    return ""


def _store_token(token: str, *, clerk: str = "") -> None:
    where = secrets.write_token(token)
    with database.atomic("IMMEDIATE"):
        audit.append("platform_token_stored", clerk=clerk, detail={"where": where, "set": bool(token)})


def set_platform(url: str | None = None, token: str | None = None) -> None:
    """Set what is given; a URL must be http(s)://host[:port][/path]."""
    from urllib.parse import urlsplit


    if url is not None:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValidationFailed([FieldError("platform.url", f"“{url}”不是有效的平台地址（http://主机:端口）",
                                               f"{url!r} is not an http(s) URL")])
        set_setting(PLATFORM_URL, url.strip().rstrip("/"))
    if token is not None:
        _store_token(token.strip())
        if get_setting(PLATFORM_TOKEN):
            set_setting(PLATFORM_TOKEN, "")  # a token an older release kept in the store goes


def make_client(url: str | None = None, token: str | None = None, **options: Any) -> HttpPlatformClient:
    """A client for the given URL and token, or for those in the store's settings (read when called, so a
    new URL or token applies at once). A URL that is not one is refused naming platform.url."""
    from app.platform.http_client import HttpPlatformClient  # http.client, ssl: loaded by the first client

    address = url or platform_url()
    try:
        return HttpPlatformClient(address, token if token is not None else platform_token(), **options)
    except ValueError:
        raise ValidationFailed([FieldError("platform.url", f"“{address}”不是有效的平台地址（http://主机:端口）",
                                           f"{address!r} is not an http(s) URL")]) from None
