"""Retention of activity details: kept ACTIVITY_RETENTION_DAYS after a challenge's end, then reduced to the
ledger's daily points.

A challenge is past retention when its effective end (``participation.enrolment.effective_end``: its end, or
the moment an organiser ended it early) plus its late-sync ``grace_days`` plus the retention lies behind us.
Then:

- an activity is deleted, with its entries and distance samples, once every challenge it has an entry in is
  past retention (one that also counted in a later challenge stays until that one is past too);
- the check-ins of the challenge are deleted.

The ledger lines (``scoring`` points entries, filed under ``activity:<id>`` and ``checkin:...``) stay as they
are: every total, board, report figure that reads the ledger and each person's own points keep their values;
only the raw record behind them (times, durations, distances, source references) is gone. An activity that
never counted in any challenge (no entry at all) is the person's own log, kept while the account exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.orm import Session, aliased

from challenges.activities.distance_samples import DistanceSample
from challenges.activities.models import Activity, ActivityEntry
from challenges.models import Challenge, ChallengeStatus, CheckIn
from challenges.participation.enrolment import effective_end
from service.db_dialect import one_of
from service.retention import CHUNK, AfterEach, Pace, cutoff, deleter, drain, id_batches

ACTIVITY_RETENTION_DAYS = 180


@dataclass(frozen=True)
class Reduced:
    activities: int
    checkins: int


def past_retention(session: Session, now: datetime, days: int) -> list[int]:
    """Ids of the challenges whose activity details are due for deletion (drafts never are: nothing counted)."""
    limit = cutoff(now, days)
    rows = session.scalars(select(Challenge).where(
        Challenge.status != ChallengeStatus.DRAFT,
        or_(Challenge.ends_at <= limit, Challenge.ended_at <= limit)).order_by(Challenge.id))
    return [c.id for c in rows if effective_end(c) + timedelta(days=c.grace_days + days) <= now]


def delete_activities(session: Session, ids: list[int]) -> None:
    """The activities and what hangs off them, explicitly: SQLite applies no ``ON DELETE`` rules. An activity
    they had superseded stays, no longer pointing at its winner (what ``SET NULL`` does on PostgreSQL)."""
    session.execute(delete(DistanceSample).where(DistanceSample.activity_id.in_(ids)))
    session.execute(delete(ActivityEntry).where(ActivityEntry.activity_id.in_(ids)))
    session.execute(update(Activity).where(Activity.superseded_by_id.in_(ids)).values(superseded_by_id=None)
                    .execution_options(synchronize_session=False))
    session.execute(delete(Activity).where(Activity.id.in_(ids)).execution_options(synchronize_session=False))


def reduce_to_ledger(session: Session, now: datetime, days: int, after_each: AfterEach,
                     chunk: int = CHUNK) -> Reduced:
    """Delete the activity details of challenges past retention, ``chunk`` activities (or check-ins) per
    ``after_each`` (the job commits there). Running it again deletes nothing more: it is idempotent."""
    past = past_retention(session, now, days)
    if not past:
        return Reduced(0, 0)
    other = aliased(ActivityEntry)
    elsewhere = exists().where(other.activity_id == ActivityEntry.activity_id,
                               ~one_of(session, other.challenge_id, past))
    activities = (select(ActivityEntry.activity_id).where(one_of(session, ActivityEntry.challenge_id, past), ~elsewhere)
                  .distinct())
    pace = Pace(after_each)
    gone = drain(id_batches(session, activities, ActivityEntry.activity_id, chunk),
                 lambda ids: delete_activities(session, ids), pace)
    checkins = select(CheckIn.id).where(one_of(session, CheckIn.challenge_id, past))
    visits = drain(id_batches(session, checkins, CheckIn.id, chunk), deleter(session, CheckIn), pace)
    return Reduced(gone, visits)
