"""Scoring's part of the personal-data export: the person's ledger lines, board totals and badges.

Connected when scoring.api is imported by the factory. ``contest_id`` is the challenge id (scoring does not
know challenges; the challenges sections carry the titles). One query per section.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scoring.models import BadgeAward, BadgeDefinition, LeaderboardTotal, PointsEntry
from scoring.types import Scope
from service.exports import export_requested


@export_requested.connect
def _sections(session: Session, user_id: int, **_: Any) -> dict[str, Any]:
    return {"points": points(session, user_id), "board_totals": board_totals(session, user_id),
            "badges": badges(session, user_id)}


def points(session: Session, user_id: int) -> list[dict[str, Any]]:
    """Every ledger line of the person, oldest first: scored activities and check-ins, reversals after an
    edit or a delete, daily-cap adjustments and bonuses (``kind``). Team and organisation are ids."""
    e = PointsEntry
    rows = session.execute(select(e.id, e.contest_id, e.kind, e.source_key, e.generation, e.type_code,
                                  e.metric_value, e.uncapped_points, e.points, e.local_day, e.rule, e.team_id,
                                  e.organisation_id, e.created_at)
                           .where(e.user_id == user_id).order_by(e.id))
    return [{"id": r.id, "contest_id": r.contest_id, "kind": r.kind, "source_key": r.source_key,
             "generation": r.generation, "type_code": r.type_code, "metric_value": r.metric_value,
             "points_before_daily_cap": r.uncapped_points, "points": r.points, "local_day": r.local_day,
             "rule": r.rule, "team_id": r.team_id, "organisation_id": r.organisation_id, "created_at": r.created_at}
            for r in rows]


def board_totals(session: Session, user_id: int) -> list[dict[str, Any]]:
    """The person's own lines of the user leaderboards (derived from the ledger), per contest and period."""
    t = LeaderboardTotal
    rows = session.execute(select(t.contest_id, t.period_key, t.points)
                           .where(t.scope == Scope.USER, t.subject_id == user_id)
                           .order_by(t.contest_id, t.period_key))
    return [{"contest_id": r.contest_id, "period": r.period_key, "points": r.points} for r in rows]


def badges(session: Session, user_id: int) -> list[dict[str, Any]]:
    rows = session.execute(select(BadgeAward.id, BadgeAward.contest_id, BadgeAward.evidence, BadgeAward.awarded_at,
                                  BadgeDefinition.code, BadgeDefinition.name, BadgeDefinition.description)
                           .join(BadgeDefinition, BadgeDefinition.id == BadgeAward.badge_id)
                           .where(BadgeAward.user_id == user_id).order_by(BadgeAward.id))
    return [{"id": r.id, "code": r.code, "name": r.name, "description": r.description,
             "contest_id": r.contest_id or None, "evidence": r.evidence, "awarded_at": r.awarded_at} for r in rows]
