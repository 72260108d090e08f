"""Notifications' part of the personal-data export: devices, notification settings and preferences, the
nudges planned or sent to the person (the inbox) and the delivery log of their pushes.

Connected when notifications.api is imported by the factory. Device tokens are credentials for pushing to
a phone, so only their last six characters are shown. One query per section.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from notifications.models import DeliveryAttempt, DeviceToken, NotificationPreference, NotificationSettings, Nudge
from service.exports import export_requested, last_chars


@export_requested.connect
def _sections(session: Session, user_id: int, **_: Any) -> dict[str, Any]:
    return {"devices": devices(session, user_id), "notification_settings": settings(session, user_id),
            "notification_preferences": preferences(session, user_id), "notifications": nudges(session, user_id),
            "push_deliveries": deliveries(session, user_id)}


def devices(session: Session, user_id: int) -> list[dict[str, Any]]:
    d = DeviceToken
    rows = session.execute(select(d.id, d.token, d.token_type, d.platform, d.app_version, d.created_at,
                                  d.last_seen_at, d.invalid_since, d.invalid_reason)
                           .where(d.user_id == user_id).order_by(d.id))
    return [{"id": r.id, "token_last_6": last_chars(r.token), "token_type": r.token_type, "platform": r.platform,
             "app_version": r.app_version, "registered_at": r.created_at, "last_seen_at": r.last_seen_at,
             "invalid_since": r.invalid_since, "invalid_reason": r.invalid_reason} for r in rows]


def settings(session: Session, user_id: int) -> dict[str, Any] | None:
    """The person's global switches, or None when they never changed the defaults."""
    row = session.get(NotificationSettings, user_id)
    if row is None:
        return None
    return {"opted_out": row.opted_out, "quiet_start_minute": row.quiet_start_minute,
            "quiet_end_minute": row.quiet_end_minute, "daily_cap": row.daily_cap, "updated_at": row.updated_at}


def preferences(session: Session, user_id: int) -> list[dict[str, Any]]:
    p = NotificationPreference
    rows = session.execute(select(p.kind, p.enabled, p.daily_cap, p.updated_at)
                           .where(p.user_id == user_id).order_by(p.id))
    return [{"kind": r.kind, "enabled": r.enabled, "daily_cap": r.daily_cap, "updated_at": r.updated_at}
            for r in rows]


def nudges(session: Session, user_id: int) -> list[dict[str, Any]]:
    """Every nudge of the person, whatever became of it (sent, skipped and why, expired), with its text."""
    n = Nudge
    rows = session.execute(select(n.id, n.kind, n.challenge_id, n.announcement_id, n.params, n.status, n.reason,
                                  n.title, n.body, n.created_at, n.due_at, n.expires_at, n.attempts, n.sent_at,
                                  n.inbox_at, n.read_at)
                           .where(n.user_id == user_id).order_by(n.id))
    return [{"id": r.id, "kind": r.kind, "challenge_id": r.challenge_id, "announcement_id": r.announcement_id,
             "params": r.params, "status": r.status, "reason": r.reason, "title": r.title, "body": r.body,
             "created_at": r.created_at, "due_at": r.due_at, "expires_at": r.expires_at, "attempts": r.attempts,
             "sent_at": r.sent_at, "in_inbox_since": r.inbox_at, "read_at": r.read_at} for r in rows]


def deliveries(session: Session, user_id: int) -> list[dict[str, Any]]:
    """Each push of a nudge to a device: when, through which sender, and what came of it."""
    a = DeliveryAttempt
    rows = session.execute(select(a.nudge_id, a.device_id, a.attempt, a.sender, a.outcome, a.started_at,
                                  a.finished_at, a.error_code)
                           .join(Nudge, Nudge.id == a.nudge_id)
                           .where(Nudge.user_id == user_id).order_by(a.id))
    return [{"notification_id": r.nudge_id, "device_id": r.device_id, "attempt": r.attempt, "sender": r.sender,
             "outcome": r.outcome, "started_at": r.started_at, "finished_at": r.finished_at,
             "error_code": r.error_code} for r in rows]
