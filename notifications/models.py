"""Typed SQLAlchemy 2.0 models of notifications: devices, preferences, nudges, delivery attempts.

A ``Nudge`` is planned once (its ``dedupe_key`` is unique, so a rule that fires twice, or two scheduler
replicas planning at once, store one row), claimed by one dispatcher (``status='sending'`` with a claim
that expires), pushed to each valid device (one ``DeliveryAttempt`` row per device and try) and shown
in the user's inbox from ``inbox_at`` on.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.clock import utcnow
from service.db import Base
from service.models import str_enum


class NudgeKind(enum.StrEnum):
    CHALLENGE_STARTING = "challenge_starting"
    CHALLENGE_STARTED = "challenge_started"
    CHALLENGE_ENDING = "challenge_ending"
    CHALLENGE_RESULT = "challenge_result"
    INACTIVE = "inactive"
    STREAK_AT_RISK = "streak_at_risk"
    OVERTAKEN = "overtaken"
    MILESTONE = "milestone"
    BADGE_EARNED = "badge_earned"
    WEEKLY_SUMMARY = "weekly_summary"
    GOAL_REACHED = "goal_reached"
    ANNOUNCEMENT = "announcement"


class NudgeStatus(enum.StrEnum):
    PLANNED = "planned"      # waiting for due_at (also between retries)
    SENDING = "sending"      # claimed by a dispatcher until claim_expires_at
    SENT = "sent"            # delivery round finished (pushed to every device that could take it)
    SKIPPED = "skipped"      # not pushed on purpose (preference, cap); ``reason`` says why
    FAILED = "failed"        # retries exhausted without any device taking it
    EXPIRED = "expired"      # became stale before it could be sent (its TTL passed)


class Platform(enum.StrEnum):
    ANDROID = "android"
    IOS = "ios"
    WEB = "web"


class TokenType(enum.StrEnum):
    """What the app registered: an FCM registration token (``Message.token``) or an installation id (``fid``)."""

    REGISTRATION = "registration"
    FID = "fid"


class AttemptOutcome(enum.StrEnum):
    PENDING = "pending"            # written before the HTTP call; left so only if the process died
    SUCCESS = "success"
    RETRY = "retry"                # 429 / 503 / 500: try again later
    INVALID_TOKEN = "invalid_token"
    FAILED = "failed"              # a permanent error that is not about the token
    UNKNOWN = "unknown"            # a pending attempt found after a crash: FCM may have it, never resent


class DeviceToken(Base):
    __tablename__ = "device_tokens"
    __table_args__ = (Index("ix_device_tokens_user_id_invalid_since", "user_id", "invalid_since"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token: Mapped[str] = mapped_column(String(1024), unique=True)
    token_type: Mapped[TokenType] = mapped_column(str_enum(TokenType, "device_token_type"),
                                                  default=TokenType.REGISTRATION)
    platform: Mapped[Platform] = mapped_column(str_enum(Platform, "device_platform"))
    app_version: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    invalid_since: Mapped[datetime | None]
    invalid_reason: Mapped[str | None] = mapped_column(String(64))


class NotificationSettings(Base):
    """Per-user switches that cover every kind: global opt-out, quiet hours and the daily cap."""

    __tablename__ = "notification_settings"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    opted_out: Mapped[bool] = mapped_column(default=False)
    quiet_start_minute: Mapped[int] = mapped_column(default=21 * 60)
    quiet_end_minute: Mapped[int] = mapped_column(default=8 * 60)
    daily_cap: Mapped[int] = mapped_column(default=4)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class NotificationPreference(Base):
    """A per-kind override: switched off, or a per-day cap other than the kind's default."""

    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("user_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[NudgeKind] = mapped_column(str_enum(NudgeKind, "preference_kind"))
    enabled: Mapped[bool] = mapped_column(default=True)
    daily_cap: Mapped[int | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Nudge(Base):
    __tablename__ = "nudges"
    __table_args__ = (Index("ix_nudges_status_due_at", "status", "due_at"),
                      Index("ix_nudges_user_id_inbox_at", "user_id", "inbox_at"),
                      Index("ix_nudges_user_id_sent_at", "user_id", "sent_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[NudgeKind] = mapped_column(str_enum(NudgeKind, "nudge_kind"))
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    challenge_id: Mapped[int | None] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), index=True)
    announcement_id: Mapped[int | None] = mapped_column(ForeignKey("announcements.id", ondelete="CASCADE"),
                                                        index=True)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[NudgeStatus] = mapped_column(str_enum(NudgeStatus, "nudge_status"), default=NudgeStatus.PLANNED)
    reason: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    claim_expires_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    inbox_at: Mapped[datetime | None]
    read_at: Mapped[datetime | None]
    title: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)


class DeliveryAttempt(Base):
    """One push of one nudge to one device; written as ``pending`` before the call so a crash leaves a trace."""

    __tablename__ = "delivery_attempts"
    __table_args__ = (Index("ix_delivery_attempts_nudge_id_device_id", "nudge_id", "device_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    nudge_id: Mapped[int] = mapped_column(ForeignKey("nudges.id", ondelete="CASCADE"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("device_tokens.id", ondelete="SET NULL"))
    attempt: Mapped[int]
    sender: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[AttemptOutcome] = mapped_column(str_enum(AttemptOutcome, "attempt_outcome"),
                                                    default=AttemptOutcome.PENDING)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    message_id: Mapped[str | None] = mapped_column(String(200))
    error_code: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    retry_after_s: Mapped[float | None]


class Announcement(Base):
    """An organiser's message to every participant of a challenge, fanned out as nudges at ``scheduled_at``."""

    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    scheduled_at: Mapped[datetime]
    fanned_out_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PlannerMark(Base):
    """Remembers what a rule last saw (e.g. a user's rank on a board) so 'overtaken' compares with it."""

    __tablename__ = "planner_marks"
    __table_args__ = (UniqueConstraint("key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    value: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

