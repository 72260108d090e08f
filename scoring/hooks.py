"""Reactions of scoring to platform events (connected when scoring.api is imported by the factory)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from scoring.ledger import forget_user
from scoring.models import BadgeAward, LeaderboardTotal
from scoring.types import Scope
from service.users import user_deleted


@user_deleted.connect
def _on_user_deleted(session: Session, user_id: int, **_: Any) -> None:
    """A deleted user leaves every user board and loses their badges (team totals keep their points)."""
    contests = session.scalars(select(LeaderboardTotal.contest_id).where(
        LeaderboardTotal.scope == Scope.USER, LeaderboardTotal.subject_id == user_id).distinct())
    for contest_id in list(contests):
        forget_user(session, contest_id, user_id)
    session.execute(delete(BadgeAward).where(BadgeAward.user_id == user_id))
