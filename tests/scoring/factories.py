"""Factories for scoring tests: rules and facts with sensible defaults."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from scoring.types import ActivityFacts, Metric, ScoringRules

T0 = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)


def rules(contest_id: int = 1, metric: Metric = Metric.ACTIVE_MINUTES, tz: str = "Europe/Helsinki",
          **kw: object) -> ScoringRules:
    return ScoringRules(contest_id=contest_id, metric=metric, timezone=tz, **kw)  # type: ignore[arg-type]


def facts(type_code: str = "walking_brisk", minutes: float = 30, at: datetime = T0, **kw: object) -> ActivityFacts:
    return ActivityFacts(type_code=type_code, started_at=at, duration_s=round(minutes * 60), **kw)  # type: ignore[arg-type]






def award_first_move(session: Any, user: Any, contest_id: int = 1) -> int:
    """A "First move" badge award of ``user`` in ``contest_id``, through the real ledger and badge evaluation."""
    from sqlalchemy import select

    from scoring import badges, ledger
    from scoring.models import BadgeDefinition
    from scoring.types import Subject

    if session.scalar(select(BadgeDefinition).where(BadgeDefinition.code == "first")) is None:
        session.add(BadgeDefinition(code="first", name="First move", description="Logged a first activity.",
                                    criteria={"kind": "first_activity"}))
    ledger.score(session, rules(contest_id), Subject(user.id), f"activity:{user.id}", facts())
    award = badges.evaluate(session, contest_id, [user.id])[0]
    session.commit()
    return int(award.id)
