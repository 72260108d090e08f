"""Typed models of activity ingest: the activity as received, and how it stands in each challenge.

An ``Activity`` is what one source said about one piece of movement (a manual entry, a wearable summary,
a step-count bucket, a GPS track). It is stored once per ``(user, source, external_id)`` and keeps a raw
source reference (file name and SHA-256, or the source's record id) so any figure can be traced back.

Its ``status`` is intrinsic (plausible or not, counted once or superseded by a richer record);
``ActivityEntry`` says what became of it in each challenge it falls in: counted there (points in the
ledger under ``activity:<id>``), flagged for that challenge's organisers, or rejected. Keeping both lets an
organiser approve a late or implausible entry in their challenge without touching anyone else's.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Index, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.clock import utcnow
from service.db import Base
from service.models import str_enum


class ActivitySource(enum.StrEnum):
    MANUAL = "manual"
    WEARABLE = "wearable"
    HEALTH_CONNECT = "health_connect"
    HEALTHKIT = "healthkit"
    GARMIN = "garmin"
    STRAVA = "strava"
    GPX = "gpx"
    TCX = "tcx"
    FIT = "fit"


class ActivityKind(enum.StrEnum):
    """A session is a bout of exercise; a step record is a count of steps over an interval (phone, watch)."""

    SESSION = "session"
    STEPS = "steps"


class ActivityStatus(enum.StrEnum):
    ACCEPTED = "accepted"
    FLAGGED = "flagged"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"


class EntryStatus(enum.StrEnum):
    COUNTED = "counted"
    FLAGGED = "flagged"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


RICHNESS: dict[ActivitySource, int] = {
    ActivitySource.MANUAL: 1,
    ActivitySource.WEARABLE: 2,
    ActivitySource.HEALTH_CONNECT: 2,
    ActivitySource.HEALTHKIT: 2,
    ActivitySource.GARMIN: 2,
    ActivitySource.STRAVA: 2,
    ActivitySource.GPX: 3,
    ActivitySource.TCX: 3,
    ActivitySource.FIT: 3,
}
"""GPS track > wearable summary > manual entry: which of two overlapping records is kept."""


class Activity(Base):
    __tablename__ = "activities"
    __table_args__ = (UniqueConstraint("user_id", "source", "external_id"),
                      Index("ix_activities_user_id_started_at", "user_id", "started_at"),
                      Index("ix_activities_user_id_fingerprint", "user_id", "fingerprint"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    type_code: Mapped[str] = mapped_column(String(40))
    kind: Mapped[ActivityKind] = mapped_column(str_enum(ActivityKind, "activity_kind"),
                                               default=ActivityKind.SESSION)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime]
    duration_s: Mapped[int]
    moving_time_s: Mapped[int | None]
    distance_m: Mapped[float | None]
    steps: Mapped[int | None]
    source: Mapped[ActivitySource] = mapped_column(str_enum(ActivitySource, "activity_source"))
    external_id: Mapped[str | None] = mapped_column(String(255))
    source_ref: Mapped[str | None] = mapped_column(String(255))
    source_sha256: Mapped[str | None] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64))
    richness: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[ActivityStatus] = mapped_column(str_enum(ActivityStatus, "activity_status"),
                                                   default=ActivityStatus.ACCEPTED)
    reason: Mapped[str | None] = mapped_column(Text)
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("activities.id", ondelete="SET NULL"),
                                                         index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]

    entries: Mapped[list[ActivityEntry]] = relationship(back_populates="activity", cascade="all, delete-orphan",
                                                        passive_deletes=True, order_by="ActivityEntry.challenge_id")

    @property
    def source_key(self) -> str:
        """The ledger's name for this activity's points: every entry and reversal is filed under it."""
        return f"activity:{self.id}"


class ActivityEntry(Base):
    """How one activity stands in one challenge (counted, flagged for review, rejected, withdrawn)."""

    __tablename__ = "activity_entries"
    __table_args__ = (UniqueConstraint("activity_id", "challenge_id"),
                      Index("ix_activity_entries_challenge_id_status", "challenge_id", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"))
    status: Mapped[EntryStatus] = mapped_column(str_enum(EntryStatus, "activity_entry_status"))
    reason: Mapped[str | None] = mapped_column(Text)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    activity: Mapped[Activity] = relationship(back_populates="entries")


@dataclass
class ActivityIn:
    """One incoming activity after parsing, before it is judged, deduplicated and stored."""

    type_code: str
    started_at: datetime
    duration_s: int
    source: ActivitySource
    kind: ActivityKind = ActivityKind.SESSION
    external_id: str | None = None
    distance_m: float | None = None
    steps: int | None = None
    moving_time_s: int | None = None
    source_ref: str | None = None
    source_sha256: str | None = None

    @property
    def ended_at(self) -> datetime:
        return self.started_at + timedelta(seconds=self.duration_s)

    @property
    def richness(self) -> int:
        return RICHNESS[self.source]
