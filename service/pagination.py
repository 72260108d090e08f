"""Keyset pagination with opaque cursors, so pages stay stable while rows are added."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, TypeDecorator, literal, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.types import TypeEngine

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
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
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


_KEY_PARSERS: dict[type, Callable[[Any], Any]] = {int: int, str: str, datetime: datetime.fromisoformat}


def keyset_rows(session: Session, query: Select[Any], keys: Sequence[InstrumentedAttribute[Any]], *, limit: int,
                cursor: str | None, descending: bool = False) -> tuple[list[Any], str | None]:
    """A page of the entities ``query`` selects in the order of ``keys`` (the last one unique, such as the id),
    after the row a previous page's ``cursor`` ended on, and the cursor of the next page.

    The cursor holds that row's key values and the page starts strictly after them (a row-value comparison), so
    rows added or removed meanwhile never make a page repeat or skip one."""
    after = cursor_fields(cursor, **{key.key: _KEY_PARSERS[_python_type(key.type)] for key in keys})
    if after is not None:
        row, last = tuple_(*keys), tuple_(*(literal(after[key.key], key.type) for key in keys))
        query = query.where(row < last if descending else row > last)
    order = [key.desc() if descending else key.asc() for key in keys]
    rows = list(session.scalars(query.order_by(*order).limit(limit + 1)))
    return keyset_page(rows, limit, lambda row: {key.key: _cursor_value(getattr(row, key.key)) for key in keys})


def _python_type(column_type: TypeEngine[Any]) -> type:
    return (column_type.impl if isinstance(column_type, TypeDecorator) else column_type).python_type


def _cursor_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
