"""Keyset pagination with opaque cursors, so pages stay stable while rows are added."""

from __future__ import annotations

import base64
import json
from typing import Any

from service.errors import Invalid


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
