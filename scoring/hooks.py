"""Reactions of scoring to platform events (connected when scoring.api is imported by the factory)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from scoring.ledger import detach_user, forget_user
from scoring.models import BadgeAward, LeaderboardTotal
from scoring.types import Scope
from service.db_dialect import rows_affected
from service.users import user_deleted


@user_deleted.connect
def _on_user_deleted(session: Session, user_id: int, **_: Any) -> dict[str, int]:
    """An erased person leaves every user board (SQL and Redis) and loses their badges; their ledger lines are
    detached from them, so team, organisation and collective totals keep their points.

    A badge award is deleted, not revoked: its credential URL then answers 404 and nothing is left to tie a
    credential the person exported to them (it names them by a salted hash of an address that is gone)."""
    contests = list(session.scalars(select(LeaderboardTotal.contest_id).where(
        LeaderboardTotal.scope == Scope.USER, LeaderboardTotal.subject_id == user_id).distinct()))
    for contest_id in contests:
        forget_user(session, contest_id, user_id)
    return {"user_boards_left": len(contests), "ledger_lines_detached": detach_user(session, user_id),
            "badge_awards": rows_affected(session, delete(BadgeAward).where(BadgeAward.user_id == user_id))}
