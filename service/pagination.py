"""Keyset pagination with opaque cursors, so pages stay stable while rows are added."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from service.errors import Invalid

T = TypeVar("T")


def encode_cursor(values: dict[str, Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        pad = "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(cursor + pad))
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid("The cursor is not one this API issued.", code="bad-cursor") from exc
    if not isinstance(value, dict):
        raise Invalid("The cursor is not one this API issued.", code="bad-cursor")
    return value


def cursor_fields(cursor: str | None, **parsers: Callable[[Any], Any]) -> dict[str, Any] | None:
    """The named fields of a cursor, each parsed (``id=int``, ``at=datetime.fromisoformat``).

    A cursor that lacks a field or holds a value its parser refuses was not issued by this API: 400, not 500.
    """
    values = decode_cursor(cursor)
    if values is None:
        return None
    try:
        return {name: parse(values[name]) for name, parse in parsers.items()}
    except (KeyError, TypeError, ValueError) as exc:
        raise Invalid("The cursor is not one this API issued.", code="bad-cursor") from exc


def keyset_page(rows: Sequence[T], limit: int, cursor_of: Callable[[T], dict[str, Any]]) -> tuple[list[T], str | None]:
    """Split ``limit + 1`` fetched rows into a page and the cursor after it (only when another row exists)."""
    items = list(rows[:limit])
    return items, encode_cursor(cursor_of(items[-1])) if len(rows) > limit else None
