"""What a handler of the reference platform answers: a status, a JSON body, extra headers."""

from __future__ import annotations

from typing import Any

from app.core.errors import FieldError


class Answer:
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self.status, self.body, self.headers = status, body, headers or {}

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
