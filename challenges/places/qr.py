"""Signed, rotating QR tokens for check-in locations.

A token is ``<location id>.<window>.<signature>`` where ``window = floor(unix time / window_s)`` and the
signature is HMAC-SHA256 over ``location id:window`` keyed with the app secret and the location's own
``qr_secret`` (so one location's codes can be revoked by rotating its secret). The current and the previous
window are accepted, so a code scanned just before it rotates still works; a photographed code stops working
after at most two windows.
"""

from __future__ import annotations

import hashlib
import hmac
import io
from datetime import UTC, datetime

import segno

from challenges.models import Location

DEFAULT_WINDOW_S = 300
SIGNATURE_CHARS = 24


def _window(at: datetime, window_s: int) -> int:
    return int(at.timestamp()) // window_s


def _sign(location: Location, window: int, app_secret: str) -> str:
    key = f"{app_secret}:{location.qr_secret}".encode()
    return hmac.new(key, f"{location.id}:{window}".encode(), hashlib.sha256).hexdigest()[:SIGNATURE_CHARS]


def token_for(location: Location, at: datetime, app_secret: str, window_s: int = DEFAULT_WINDOW_S) -> str:
    window = _window(at, window_s)
    return f"{location.id}.{window}.{_sign(location, window, app_secret)}"


def expires_at(at: datetime, window_s: int = DEFAULT_WINDOW_S) -> datetime:
    """When the current code stops being the current one (it stays valid one more window)."""
    return datetime.fromtimestamp((_window(at, window_s) + 1) * window_s, UTC)


def verify(location: Location, token: str, now: datetime, app_secret: str, window_s: int = DEFAULT_WINDOW_S) -> bool:
    """True for a token of this location signed for the current or the previous window."""
    parts = token.strip().split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].lstrip("-").isdigit():
        return False
    if int(parts[0]) != location.id:
        return False
    window = int(parts[1])
    current = _window(now, window_s)
    if window not in (current, current - 1):
        return False
    return hmac.compare_digest(parts[2], _sign(location, window, app_secret))


def svg_for(token: str) -> str:
    """The token as a QR code (SVG, scales to any screen or print size; error correction M survives a
    scratched or glared display)."""
    out = io.BytesIO()
    segno.make(token, error="m").save(out, kind="svg", scale=8, border=4, xmldecl=False, title="check-in code")
    return out.getvalue().decode()
