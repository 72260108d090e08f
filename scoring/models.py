"""Typed SQLAlchemy 2.0 models of scoring: the append-only ledger, materialised board totals, badges.

``contest_id`` is the challenge id, an opaque int: scoring's migration comes before challenges', so
there is no foreign key to challenges (users and organisations are earlier and do get one).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scoring.types import Scope
from service.clock import utcnow
from service.db import Base
from service.models import str_enum


class EntryKind(enum.StrEnum):
    ACTIVITY = "activity"
    REVERSAL = "reversal"
    CAP_ADJUST = "cap_adjust"
    BONUS = "bonus"


class PointsEntry(Base):
    """One immutable line of the ledger. (contest_id, entry_key) is unique: a retry stores nothing new.

    ``entry_key`` is ``act:<source_key>:<generation>``, ``rev:<source_key>:<generation>`` or
    ``cap:<source_key>:<generation>@<the rev key that re-applied the cap>`` (the source that gains or loses;
    older ledgers have ``cap:<reversed source>:<generation>``); the generation counts earlier reversals of the
    source, so a source can be scored again after an edit while a duplicate of the same version collides.
    ``uncapped_points`` is what the rule gave before the daily cap (negated on reversals), so the cap
    can be re-applied to a day from its rows alone.
    """

    __tablename__ = "points_entries"
    __table_args__ = (
        UniqueConstraint("contest_id", "entry_key"),
        Index("ix_points_entries_source_contest", "source_key", "contest_id"),  # also serves lookups by source alone
        Index("ix_points_entries_contest_user_day", "contest_id", "user_id", "local_day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(Integer)
    entry_key: Mapped[str] = mapped_column(String(300))
    source_key: Mapped[str] = mapped_column(String(255))
    generation: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[EntryKind] = mapped_column(str_enum(EntryKind, "points_entry_kind"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    """None once the person was erased: the line then only carries what team, organisation and collective
    totals need."""
    team_id: Mapped[int | None] = mapped_column(Integer)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="SET NULL"))
    local_day: Mapped[date] = mapped_column(Date)
    type_code: Mapped[str | None] = mapped_column(String(40))
    metric_value: Mapped[float] = mapped_column(default=0.0)
    uncapped_points: Mapped[int] = mapped_column(BigInteger, default=0)
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    rule: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LeaderboardTotal(Base):
    """Materialised board line, derived from the ledger (only the ledger writes it).

    The rank index is in board order (points DESC, subject_id ASC), so every board read is a range read of
    it in one direction or the other and never needs a sort, whatever the planner's statistics say (with
    points ascending, a top-N read ordered ``points DESC, subject_id`` came out subject-descending, and
    PostgreSQL sorted the whole board whenever it misjudged the board's size). The subject index serves the
    per-person reads across contests (the personal export) and the reconcile's subject-range chunks.
    """

    __tablename__ = "leaderboard_totals"
    __table_args__ = (
        Index("ix_leaderboard_totals_subject", "scope", "subject_id", "contest_id", "period_key",
              postgresql_include=["points"]),
    )

    contest_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[Scope] = mapped_column(str_enum(Scope, "leaderboard_scope"), primary_key=True)
    period_key: Mapped[str] = mapped_column(String(16), primary_key=True)
    subject_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    points: Mapped[int] = mapped_column(BigInteger, default=0)


Index("ix_leaderboard_totals_rank", LeaderboardTotal.contest_id, LeaderboardTotal.scope, LeaderboardTotal.period_key,
      LeaderboardTotal.points.desc(), LeaderboardTotal.subject_id)


class LeaderboardBucket(Base):
    """How many subjects of a board have points in each logarithmic bucket (scoring.buckets).

    It turns "rank of me" into a sum over at most a few hundred bucket rows plus an index range count
    inside my own bucket, instead of counting every row above me (a million for a last-placed person).
    Only positive points are counted: a subject with 0 points is above nobody.
    """

    __tablename__ = "leaderboard_buckets"

    contest_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[Scope] = mapped_column(str_enum(Scope, "leaderboard_bucket_scope"), primary_key=True)
    period_key: Mapped[str] = mapped_column(String(16), primary_key=True)
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, default=0)


class BadgeDefinition(Base):
    """A badge as data: ``criteria`` is ``{"kind": ..., ...}`` (see scoring.badges for the kinds).

    ``contest_id`` None means the badge applies to every contest it is evaluated for.
    """

    __tablename__ = "badge_definitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(String(500), default="")
    criteria: Mapped[dict[str, Any]] = mapped_column(JSON)
    image_url: Mapped[str | None] = mapped_column(String(500))
    contest_id: Mapped[int | None] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BadgeAward(Base):
    """Awarded exactly once per (user, badge, contest); ``contest_id`` 0 marks a contest-less award."""

    __tablename__ = "badge_awards"
    __table_args__ = (UniqueConstraint("user_id", "badge_id", "contest_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    badge_id: Mapped[int] = mapped_column(ForeignKey("badge_definitions.id", ondelete="CASCADE"))
    contest_id: Mapped[int] = mapped_column(Integer, default=0)
    evidence: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    awarded_at: Mapped[datetime] = mapped_column(default=utcnow)

    badge: Mapped[BadgeDefinition] = relationship(lazy="joined")


class StaleBoards(Base):
    """A contest whose Redis boards missed an increment: Redis was unreachable after the commit, so they could
    not even be dropped. The next read that reaches Redis drops them (scoring.boards.redis_write), to be rebuilt
    from the SQL totals. ``misses`` counts the misses, so a repair clears only the marks it has seen."""

    __tablename__ = "stale_boards"

    contest_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    misses: Mapped[int] = mapped_column(BigInteger, default=1)
