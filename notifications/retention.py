"""Retention of nudges (the inbox), their delivery attempts, announcements and planner marks:
NOTIFICATION_RETENTION_DAYS.

- A nudge is deleted, with its delivery attempts, once it is older than that by ``created_at``, no longer
  pending (sent, skipped, failed or expired; planned and sending ones are never touched), and the planner is
  done with its challenge (``PLANNER_HORIZON``). Until then its unique ``dedupe_key`` is what stops the
  planner from planning it again: a milestone, a reached goal or a quiet spell would otherwise be told twice.
- An announcement is deleted once it was fanned out longer ago than that and none of its nudges is left.
- A planner mark is deleted once it was not updated for that long, unless its key names a challenge
  (``<what>:<challenge id>...``: a fan-out cursor, the claim that a challenge was finalised) the planner is not
  done with: without its mark a fan-out would start again from the first participant.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import Select, delete, exists, or_, select
from sqlalchemy.orm import Session

from challenges.models import Challenge
from notifications.models import Announcement, DeliveryAttempt, Nudge, NudgeStatus, PlannerMark
from service.db_dialect import one_of
from service.retention import CHUNK, AfterEach, Pace, cutoff, deleter, drain, id_batches, slices

NOTIFICATION_RETENTION_DAYS = 90

PLANNER_HORIZON = timedelta(days=60)
"""How long after a challenge's end the planner still looks at it: ``finalise.finalise_ended`` reads challenges
that ended up to 60 days ago (the longest window of any rule; every other one closes sooner)."""

FINISHED = (NudgeStatus.SENT, NudgeStatus.SKIPPED, NudgeStatus.FAILED, NudgeStatus.EXPIRED)

_NAMES_CHALLENGE = re.compile(r"^[a-z_]+:(\d+)(?::|$)")


def _settled(now: datetime) -> Select[tuple[int]]:
    return select(Challenge.id).where(Challenge.ends_at < now - PLANNER_HORIZON)


def purge(session: Session, now: datetime, days: int, after_each: AfterEach, chunk: int = CHUNK) -> dict[str, int]:
    """Delete what is past retention, ``chunk`` rows per ``after_each`` (the job commits there); how many of
    each kind went. Idempotent."""
    limit, pace = cutoff(now, days), Pace(after_each)
    attempts: list[int] = []

    def remove_nudges(ids: list[int]) -> None:
        result = session.execute(delete(DeliveryAttempt).where(DeliveryAttempt.nudge_id.in_(ids)))
        attempts.append(int(getattr(result, "rowcount", 0) or 0))
        deleter(session, Nudge)(ids)

    nudges = select(Nudge.id).where(Nudge.created_at < limit, Nudge.status.in_(FINISHED),
                                    or_(Nudge.challenge_id.is_(None), Nudge.challenge_id.in_(_settled(now))))
    gone = drain(id_batches(session, nudges, Nudge.id, chunk), remove_nudges, pace)
    announcements = select(Announcement.id).where(Announcement.fanned_out_at < limit,
                                                  ~exists().where(Nudge.announcement_id == Announcement.id))
    told = drain(id_batches(session, announcements, Announcement.id, chunk), deleter(session, Announcement), pace)
    marks = drain(slices(stale_marks(session, now, limit), chunk), deleter(session, PlannerMark), pace)
    return {"nudges": gone, "delivery_attempts": sum(attempts), "announcements": told, "planner_marks": marks}


def stale_marks(session: Session, now: datetime, before: datetime) -> list[int]:
    """Marks not updated since ``before`` whose challenge (if their key names one) the planner is done with."""
    rows = session.execute(select(PlannerMark.id, PlannerMark.key).where(PlannerMark.updated_at < before)
                           .order_by(PlannerMark.id)).all()
    named = {mark_id: int(m.group(1)) for mark_id, key in rows if (m := _NAMES_CHALLENGE.match(key))}
    live = set(session.scalars(select(Challenge.id).where(one_of(session, Challenge.id, sorted(set(named.values()))),
                                                          Challenge.ends_at >= now - PLANNER_HORIZON)))
    return [mark_id for mark_id, _ in rows if named.get(mark_id) not in live]
