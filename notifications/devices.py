"""Device tokens: registered idempotently by token, removed by the user, pruned when FCM says so.

A token FCM reported as unregistered or invalid keeps its ``invalid_since`` for ever: registering it again
does not revive it (FCM issued a new token to that app instance; the dead one can never work again).

A token belongs to one app install, which is signed in to one account at a time, so the account that registers
it last holds it ("same phone, new login"): knowing the token is the proof, since only that install (and the
API, to the token's holder alone) ever shows it. The move makes a new device of the new holder's; the previous
holder's device is gone with its delivery history detached, so nothing of theirs is ever pushed to the token
again (dispatch picks devices by the nudge's user at send time).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from notifications.models import DeliveryAttempt, DeviceToken, Platform, TokenType
from service.clock import utcnow
from service.errors import NotFound


def register_device(session: Session, user_id: int, *, token: str, platform: Platform | str,
                    token_type: TokenType | str = TokenType.REGISTRATION, app_version: str | None = None
                    ) -> tuple[DeviceToken, bool]:
    """Create or refresh the device for ``token``; returns (device, created). A token registered by another
    account moves here as a new device (created), keeping only whether FCM declared it dead."""
    now = utcnow()
    device = session.scalar(select(DeviceToken).where(DeviceToken.token == token))
    dead: tuple[datetime | None, str | None] = (None, None)
    if device is not None and device.user_id != user_id:
        dead = device.invalid_since, device.invalid_reason  # a token FCM declared dead stays dead
        _forget(session, device)
        device = None
    created = device is None
    if device is None:
        device = DeviceToken(token=token, created_at=now, invalid_since=dead[0], invalid_reason=dead[1])
        session.add(device)
    device.user_id = user_id
    device.platform = Platform(platform)
    device.token_type = TokenType(token_type)
    device.app_version = app_version
    device.last_seen_at = now
    session.flush()
    return device, created


def _forget(session: Session, device: DeviceToken) -> None:
    """Delete a device; its delivery attempts stay in its holder's log without it. Done here rather than left
    to the foreign key's SET NULL, which SQLite does not enforce: there a new device could get the freed id."""
    session.execute(update(DeliveryAttempt).where(DeliveryAttempt.device_id == device.id).values(device_id=None)
                    .execution_options(synchronize_session=False))
    session.delete(device)
    session.flush()


def list_devices(session: Session, user_id: int) -> list[DeviceToken]:
    return list(session.scalars(select(DeviceToken).where(DeviceToken.user_id == user_id)
                                .order_by(DeviceToken.id)))


def remove_device(session: Session, user_id: int, device_id: int) -> None:
    device = session.get(DeviceToken, device_id)
    if device is None or device.user_id != user_id:
        raise NotFound("No such device of yours.", code="device-not-found")
    _forget(session, device)
