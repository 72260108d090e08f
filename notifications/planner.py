"""Turning rule output into planned nudges: preferences, quiet hours, staleness and dedupe, in bulk.

Rules (``notifications.rules``) yield ``Candidate`` values; ``plan`` drops what the user switched off,
moves the due time out of the user's quiet hours, drops what would be stale by then, and inserts the
rest with ``ON CONFLICT (dedupe_key) DO NOTHING`` so a rule may fire as often as it likes (and two
planners may race) without anyone getting the same nudge twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from notifications.models import Nudge, NudgeKind, NudgeStatus
from notifications.preferences import Prefs, load_prefs, next_allowed
from service.clock import utcnow
from service.db_dialect import bulk_insert, one_of
from service.models import User

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
TTL: dict[NudgeKind, timedelta] = {
    NudgeKind.CHALLENGE_STARTING: DAY, NudgeKind.CHALLENGE_STARTED: DAY, NudgeKind.CHALLENGE_ENDING: DAY,
    NudgeKind.CHALLENGE_RESULT: 7 * DAY, NudgeKind.INACTIVE: DAY, NudgeKind.STREAK_AT_RISK: 6 * HOUR,
    NudgeKind.OVERTAKEN: 12 * HOUR, NudgeKind.MILESTONE: 3 * DAY, NudgeKind.BADGE_EARNED: 7 * DAY,
    NudgeKind.WEEKLY_SUMMARY: 3 * DAY, NudgeKind.GOAL_REACHED: 3 * DAY, NudgeKind.ANNOUNCEMENT: 3 * DAY,
}
# Kinds where a newer nudge replaces an older one still on the device (FCM collapse key, APNs collapse id).
REPLACEABLE = {NudgeKind.OVERTAKEN, NudgeKind.STREAK_AT_RISK, NudgeKind.INACTIVE, NudgeKind.WEEKLY_SUMMARY,
               NudgeKind.CHALLENGE_ENDING}


@dataclass(frozen=True)
class Candidate:
    """A nudge a rule would like to send; ``dedupe_key`` names the event, so re-running a rule is harmless."""

    user_id: int
    kind: NudgeKind
    dedupe_key: str
    params: dict[str, Any] = field(default_factory=dict)
    challenge_id: int | None = None
    announcement_id: int | None = None
    not_before: datetime | None = None
    expires_at: datetime | None = None
    skip_reason: str | None = None  # stored as already skipped (e.g. a 50 % milestone superseded by 100 %)


@dataclass
class PlanResult:
    considered: int = 0
    inserted: int = 0
    unwanted: int = 0
    stale: int = 0


def user_prefs(session: Session, user_ids: Iterable[int]) -> dict[int, Prefs]:
    """Effective preferences of the (not deleted) users among ``user_ids``."""
    ids = list(set(user_ids))
    rows: list[tuple[int, str, str]] = []
    for start in range(0, len(ids), 1000):
        chunk = ids[start:start + 1000]
        rows += [tuple(r) for r in session.execute(  # type: ignore[misc]
            select(User.id, User.timezone, User.locale).where(one_of(session, User.id, chunk),
                                                              User.deleted_at.is_(None)))]
    return load_prefs(session, rows)


def plan(session: Session, candidates: Iterable[Candidate], now: datetime | None = None, *,
         quiet_hours: bool = True) -> PlanResult:
    """Insert the wanted, still-fresh candidates as planned nudges; the caller commits.

    ``quiet_hours=False`` is for seeding demo inboxes at any hour; nothing else turns quiet hours off."""
    now = now or utcnow()
    items = list(candidates)
    result = PlanResult(considered=len(items))
    prefs = user_prefs(session, (c.user_id for c in items))
    rows: list[dict[str, Any]] = []
    for cand in items:
        pref = prefs.get(cand.user_id)
        if pref is None or not pref.wants(cand.kind):
            result.unwanted += 1
            continue
        wanted_at = max(now, cand.not_before) if cand.not_before else now
        due = next_allowed(wanted_at, pref) if quiet_hours else wanted_at
        expires = cand.expires_at or wanted_at + TTL[cand.kind]
        if due >= expires:
            result.stale += 1
            continue
        rows.append({"user_id": cand.user_id, "kind": cand.kind.value, "dedupe_key": cand.dedupe_key,
                     "challenge_id": cand.challenge_id, "announcement_id": cand.announcement_id,
                     "params": cand.params,
                     "status": (NudgeStatus.SKIPPED if cand.skip_reason else NudgeStatus.PLANNED).value,
                     "reason": cand.skip_reason, "created_at": now, "due_at": due,
                     "expires_at": expires, "attempts": 0})
    result.inserted = len(bulk_insert(session, Nudge.__table__, rows, ["dedupe_key"], returning=["id"]))
    return result
