"""Notifications' part of erasure (``service.users.user_deleted``): the person's devices, inbox, delivery
trail and preferences go.

Nudges (the inbox) and their delivery attempts say when the person was told what (a streak at risk, a rank
lost), the device tokens where to reach them. Announcements they wrote as an organiser stay for the
participants, without their author. No planner mark names a person (the marks are the ledger cursor, the
dispatch pause and per-challenge, per-goal and per-team enrolment cursors), so none is touched; and the
planner never plans for a deleted user again (``notifications.planner.user_prefs`` leaves them out).

Connected when notifications.api is imported by the factory.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from notifications.models import (
    Announcement,
    DeliveryAttempt,
    DeviceToken,
    NotificationPreference,
    NotificationSettings,
    Nudge,
)
from service.db_dialect import rows_affected
from service.users import user_deleted


@user_deleted.connect
def _erase(session: Session, user_id: int, **_: Any) -> dict[str, int]:
    """Deletes children first: SQLite enforces no foreign keys here, so nothing cascades by itself."""
    nudges = select(Nudge.id).where(Nudge.user_id == user_id)
    devices = select(DeviceToken.id).where(DeviceToken.user_id == user_id)
    counts = {
        "delivery_attempts": rows_affected(session, delete(DeliveryAttempt).where(
            DeliveryAttempt.nudge_id.in_(nudges) | DeliveryAttempt.device_id.in_(devices))),
        "nudges": rows_affected(session, delete(Nudge).where(Nudge.user_id == user_id)),
        "device_tokens": rows_affected(session, delete(DeviceToken).where(DeviceToken.user_id == user_id)),
        "notification_preferences": rows_affected(session, delete(NotificationPreference).where(
            NotificationPreference.user_id == user_id)),
        "notification_settings": rows_affected(session, delete(NotificationSettings).where(
            NotificationSettings.user_id == user_id)),
    }
    rows_affected(session, update(Announcement).where(Announcement.author_id == user_id).values(author_id=None))
    return counts
