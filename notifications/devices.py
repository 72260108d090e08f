"""Device tokens: registered idempotently by token, removed by the user, pruned when FCM says so.

A token FCM reported as unregistered or invalid keeps its ``invalid_since`` for ever: registering it again
does not revive it (FCM issued a new token to that app instance; the dead one can never work again).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from notifications.models import DeviceToken, Platform, TokenType
from service.clock import utcnow
from service.errors import NotFound


def register_device(session: Session, user_id: int, *, token: str, platform: Platform | str,
                    token_type: TokenType | str = TokenType.REGISTRATION, app_version: str | None = None
                    ) -> tuple[DeviceToken, bool]:
    """Create or refresh the device for ``token``; returns (device, created). A token moves to the
    user who registers it last (the phone changed hands or accounts)."""
    now = utcnow()
    device = session.scalar(select(DeviceToken).where(DeviceToken.token == token))
    created = device is None
    if device is None:
        device = DeviceToken(token=token, created_at=now)
        session.add(device)
    device.user_id = user_id
    device.platform = Platform(platform)
    device.token_type = TokenType(token_type)
    device.app_version = app_version
    device.last_seen_at = now
    session.flush()
    return device, created


def list_devices(session: Session, user_id: int) -> list[DeviceToken]:
    return list(session.scalars(select(DeviceToken).where(DeviceToken.user_id == user_id)
                                .order_by(DeviceToken.id)))


def remove_device(session: Session, user_id: int, device_id: int) -> None:
    device = session.get(DeviceToken, device_id)
    if device is None or device.user_id != user_id:
        raise NotFound("No such device of yours.", code="device-not-found")
    session.delete(device)
    session.flush()
