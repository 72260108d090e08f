"""Plain values that cross the boundary between challenges/ and the scoring engine.

challenges/ builds these from its own rows; scoring/ never imports challenges/.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime


class Metric(enum.StrEnum):
    ACTIVE_MINUTES = "active_minutes"
    MET_MINUTES = "met_minutes"
    STEPS = "steps"
    DISTANCE_M = "distance_m"
    CHECKINS = "checkins"
    SESSIONS = "sessions"


class Scope(enum.StrEnum):
    USER = "user"
    TEAM = "team"
    ORGANISATION = "organisation"
    CONTEST = "contest"
    """Not a board: one all-time line (subject 0) holding the whole contest's points, for collective goals."""


class BoardScope(enum.StrEnum):
    """The scopes a leaderboard can be asked for (``Scope`` without the contest line)."""

    USER = "user"
    TEAM = "team"
    ORGANISATION = "organisation"


class Period(enum.StrEnum):
    DAY = "day"
    WEEK = "week"
    ALL = "all"


@dataclass(frozen=True)
class ScoringRules:
    """What a challenge scores and how; ``contest_id`` is the challenge id (an opaque int to scoring)."""

    contest_id: int
    metric: Metric
    timezone: str
    daily_cap: float | None = None
    vigorous_counts_double: bool = False
    allowed_types: frozenset[str] | None = None


@dataclass(frozen=True)
class Subject:
    """Who an entry counts for: the user, and the team and organisation it also counts towards."""

    user_id: int
    team_id: int | None = None
    organisation_id: int | None = None


@dataclass(frozen=True)
class ActivityFacts:
    """A real, accepted activity (or check-in: ``type_code='checkin'``) as scoring needs to see it."""

    type_code: str
    started_at: datetime
    duration_s: int
    distance_m: float | None = None
    steps: int | None = None
    weight_kg: float | None = None


@dataclass(frozen=True)
class ScoreResult:
    """What scoring one source gave. ``created`` is False when the same source was already scored."""

    contest_id: int
    source_key: str
    entry_key: str
    created: bool
    points: int
    uncapped_points: int
    metric_value: float
    local_day: date
    rule: str


@dataclass(frozen=True)
class BoardRow:
    """One line of a leaderboard; ``label`` is filled for user boards (an alias when the user hides)."""

    rank: int
    subject_id: int
    points: int
    label: str | None = None
    is_alias: bool = False


@dataclass(frozen=True)
class BoardPage:
    rows: list[BoardRow]
    next_cursor: str | None
    period_key: str


@dataclass(frozen=True)
class Streak:
    """Consecutive local days (or ISO weeks) meeting ``threshold``; ``at_risk`` when today is not met yet."""

    length: int
    at_risk: bool
    today_met: bool
    unit: str
    threshold: int
    last_met: date | None
