"""Typed SQLAlchemy 2.0 models of challenges: the challenge, its teams, enrolments and check-in locations.

Times are stored in UTC (``UTCDateTime`` through the base's type map); the challenge's ``timezone`` says
how they were entered and which local day a check-in or a point belongs to.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scoring.types import Metric
from service.clock import utcnow
from service.db import Base
from service.models import str_enum


class Setting(enum.StrEnum):
    WORK = "work"
    PUBLIC_SPACE = "public_space"
    SPORTSCLUB = "sportsclub"
    SCHOOL = "school"
    HOME = "home"
    TOURISM = "tourism"


class ChallengeFormat(enum.StrEnum):
    INDIVIDUAL = "individual"
    TEAM = "team"
    ORGANISATION = "organisation"
    COLLECTIVE = "collective"


class Visibility(enum.StrEnum):
    PUBLIC = "public"
    INVITE = "invite"


class BoardVisibility(enum.StrEnum):
    """Who may see the boards of individual people (challenges.privacy decides; teams and organisations are
    governed by the minimum group size instead)."""

    PUBLIC = "public"
    PARTICIPANTS = "participants"
    NONE = "none"


class ChallengeStatus(enum.StrEnum):
    """The stored, organiser-controlled status; ``Challenge.phase`` adds the date-derived states."""

    DRAFT = "draft"
    PUBLISHED = "published"
    ENDED = "ended"


class Phase(enum.StrEnum):
    """What a participant sees: a published challenge is upcoming, running or ended by its dates."""

    DRAFT = "draft"
    UPCOMING = "upcoming"
    RUNNING = "running"
    ENDED = "ended"


class CheckInMethod(enum.StrEnum):
    GEOFENCE = "geofence"
    QR = "qr"


class Challenge(Base):
    __tablename__ = "challenges"
    __table_args__ = (Index("ix_challenges_status_starts_at", "status", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(160))
    description: Mapped[str] = mapped_column(Text, default="")
    setting: Mapped[Setting] = mapped_column(str_enum(Setting, "challenge_setting"))
    metric: Mapped[Metric] = mapped_column(str_enum(Metric, "challenge_metric"))
    format: Mapped[ChallengeFormat] = mapped_column(str_enum(ChallengeFormat, "challenge_format"))
    goal: Mapped[float | None]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    visibility: Mapped[Visibility] = mapped_column(str_enum(Visibility, "challenge_visibility"),
                                                   default=Visibility.PUBLIC)
    invite_code: Mapped[str | None] = mapped_column(String(32), unique=True)
    board_visibility: Mapped[BoardVisibility | None] = mapped_column(
        str_enum(BoardVisibility, "challenge_board_visibility"))
    """None: the setting's default (challenges.privacy.DEFAULT_BOARDS)."""
    status: Mapped[ChallengeStatus] = mapped_column(str_enum(ChallengeStatus, "challenge_status"),
                                                    default=ChallengeStatus.DRAFT)
    allowed_types: Mapped[list[str] | None] = mapped_column(JSON)
    daily_cap: Mapped[float | None]
    vigorous_counts_double: Mapped[bool] = mapped_column(default=False)
    grace_days: Mapped[int] = mapped_column(default=7)
    region: Mapped[str | None] = mapped_column(String(80), index=True)
    team_size_cap: Mapped[int | None]
    participants_create_teams: Mapped[bool] = mapped_column(default=False)
    plausibility: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The challenge's own plausibility limits (``challenges.limits.ChallengeLimits``); None: only the
    deployment's. Entries breaking them are flagged in this challenge."""
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]

    teams: Mapped[list[Team]] = relationship(back_populates="challenge", cascade="all, delete-orphan",
                                             passive_deletes=True)
    locations: Mapped[list[Location]] = relationship(back_populates="challenge", cascade="all, delete-orphan",
                                                     passive_deletes=True)

    def phase(self, now: datetime | None = None) -> Phase:
        """Draft until published; then upcoming, running, ended by the dates (or ended early by hand)."""
        now = now or utcnow()
        if self.status == ChallengeStatus.DRAFT:
            return Phase.DRAFT
        if self.status == ChallengeStatus.ENDED or now >= self.ends_at:
            return Phase.ENDED
        return Phase.RUNNING if now >= self.starts_at else Phase.UPCOMING


class Team(Base):
    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("challenge_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    code: Mapped[str] = mapped_column(String(16), unique=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    challenge: Mapped[Challenge] = relationship(back_populates="teams")


class Enrolment(Base):
    """One row per user and challenge; leaving sets ``left_at`` and re-joining clears it.

    ``organisation_id`` is resolved once at joining (organisation format: the participant's organisation;
    team format: the team's organisation, if any), so scoring a subject needs no further lookups.
    """

    __tablename__ = "enrolments"
    __table_args__ = (UniqueConstraint("challenge_id", "user_id"),
                      Index("ix_enrolments_user_id_left_at", "user_id", "left_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="SET NULL"))
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    left_at: Mapped[datetime | None]

    challenge: Mapped[Challenge] = relationship()
    team: Mapped[Team | None] = relationship()

    @property
    def active(self) -> bool:
        return self.left_at is None


class Location(Base):
    """A check-in spot with a geofence; ``qr_secret`` is mixed into the QR token key so it can be rotated."""

    __tablename__ = "locations"

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    lat: Mapped[float]
    lon: Mapped[float]
    radius_m: Mapped[float] = mapped_column(default=100.0)
    qr_secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    archived_at: Mapped[datetime | None]

    challenge: Mapped[Challenge] = relationship(back_populates="locations")


class CheckIn(Base):
    __tablename__ = "checkins"
    __table_args__ = (UniqueConstraint("user_id", "location_id", "local_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"), index=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    local_day: Mapped[date] = mapped_column(Date)
    method: Mapped[CheckInMethod] = mapped_column(str_enum(CheckInMethod, "checkin_method"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    location: Mapped[Location] = relationship()
