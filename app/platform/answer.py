"""What a handler of the reference platform answers: a status, a JSON body, extra headers."""

from __future__ import annotations

import json
from typing import Any

from app.core.errors import FieldError

_UNREAD = object()


def dumps(value: Any) -> str:
    """The JSON text the reference platform sends and stores: real characters, no spaces."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class Answer:
    """`body` the value sent as JSON; or `text`, the very JSON text to send, when a handler has it already (the
    listing, from the records' stored texts): `body` is then that text read back, on first use (in process)."""

    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None, *,
                 text: str | None = None) -> None:
        self.status, self.headers, self._text = status, headers or {}, text
        self._body = _UNREAD if text is not None else body

    @property
    def body(self) -> Any:
        if self._body is _UNREAD:
            self._body = json.loads(self._text or "null")
        return self._body

    def json_text(self) -> str:
        """What goes over the wire: the text given, or the body's JSON."""
        return self._text if self._text is not None else dumps(self._body)

    def __repr__(self) -> str:
        return f"Answer({self.status}, {self.body!r})"


def field_details(errors: list[FieldError]) -> list[dict[str, str]]:
    """FieldErrors as the protocol's details: the field, the message in Chinese, and in English beside it."""
    return [{"field": e.field, "message": e.message_zh, "message_en": e.message_en} for e in errors]


def detail(field: str, zh: str, en: str) -> dict[str, str]:
    return {"field": field, "message": zh, "message_en": en}


def error(status: int, code: str, zh: str, en: str, details: list[dict[str, str]] | None = None,
          headers: dict[str, str] | None = None, **extra: Any) -> Answer:
    """A v2 error: `{"error": CODE, "message": TEXT, "details": [...]}` and anything extra (`platform`)."""
    return Answer(status, {"error": code, "message": f"{zh} ({en})", "details": details or [], **extra}, headers)
