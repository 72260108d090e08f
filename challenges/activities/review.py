"""The organisers' review of flagged entries: a queue per challenge, approve (scores it) or reject.

A decision is made per challenge: an organiser of one challenge's organisation decides there and nowhere
else, so approving a flagged ride in a city's cycling month does not make it count in an employer's step
challenge. Approving an activity that is flagged only in challenges of other organisations is a 403.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from challenges.access import is_organiser, managed_challenge
from challenges.activities import crediting, dedupe, pipeline
from challenges.activities.models import Activity, ActivityEntry, ActivityIn, ActivityStatus, EntryStatus
from challenges.models import Challenge
from challenges.privacy import EMPLOYER_SETTINGS
from scoring.leaderboards import alias_for
from service.clock import utcnow
from service.errors import Conflict, DomainError, Forbidden, NotFound
from service.models import User
from service.pagination import cursor_fields, keyset_page


def review_queue(session: Session, organiser: User, challenge_id: int, *, limit: int = 50,
                 cursor: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """Flagged entries of the challenge, oldest first (keyset on the entry id).

    In a workplace or school challenge the organiser judges the activity, not the person: each entry comes under
    the boards' pseudonym, without the account id or the source's own references (a file name can name someone)."""
    challenge = managed_challenge(session, challenge_id, organiser)
    blind = challenge.setting in EMPLOYER_SETTINGS
    after = (cursor_fields(cursor, id=int) or {"id": 0})["id"]
    rows = session.execute(
        select(ActivityEntry, Activity, User.display_name)
        .join(Activity, Activity.id == ActivityEntry.activity_id).join(User, User.id == Activity.user_id)
        .where(ActivityEntry.challenge_id == challenge_id, ActivityEntry.status == EntryStatus.FLAGGED,
               ActivityEntry.id > after, Activity.deleted_at.is_(None))
        .order_by(ActivityEntry.id).limit(limit + 1)).all()
    items = [{"activity": act, "user_id": None if blind else act.user_id,
              "display_name": alias_for(act.user_id) if blind else name, "challenge_id": entry.challenge_id,
              "reason": entry.reason, "flagged_at": entry.created_at, "_id": entry.id, "blind": blind}
             for entry, act, name in rows]
    return keyset_page(items, limit, lambda item: {"id": item["_id"]})


def _decidable(session: Session, reviewer: User, activity_id: int, challenge_id: int | None
               ) -> tuple[Activity, list[ActivityEntry]]:
    activity = session.get(Activity, activity_id)
    if activity is None or activity.deleted_at is not None:
        raise NotFound(f"No activity {activity_id}.", code="activity-not-found")
    if challenge_id is not None:
        managed_challenge(session, challenge_id, reviewer)
    entries = list(session.scalars(select(ActivityEntry).where(ActivityEntry.activity_id == activity_id)))
    if not entries and challenge_id is None:
        raise NotFound(f"Activity {activity_id} is in no challenge.", code="activity-not-found")
    mine = [e for e in entries if (challenge_id is None or e.challenge_id == challenge_id)
            and is_organiser(session, reviewer, session.get(Challenge, e.challenge_id).organisation_id)]  # type: ignore[union-attr]
    if not mine:
        raise Forbidden("This activity is not in a challenge you organise.", code="foreign-challenge")
    flagged = [e for e in mine if e.status == EntryStatus.FLAGGED]
    if not flagged:
        raise Conflict(f"Activity {activity_id} has no flagged entry awaiting your decision.",
                       code="not-flagged", statuses={str(e.challenge_id): e.status.value for e in mine})
    return activity, flagged


def approve(session: Session, reviewer: User, activity_id: int, *, challenge_id: int | None = None,
            now: datetime | None = None) -> Activity:
    """Count the flagged entries the reviewer may decide on; a richer-than-rivals approval supersedes them."""
    now = now or utcnow()
    activity, flagged = _decidable(session, reviewer, activity_id, challenge_id)
    if activity.status == ActivityStatus.FLAGGED:
        item = ActivityIn(activity.type_code, activity.started_at, activity.duration_s, activity.source,
                          activity.kind, activity.external_id, activity.distance_m, activity.steps)
        pool = pipeline.live_rows(session, activity.user_id, activity.started_at, activity.ended_at,
                                           statuses=(ActivityStatus.ACCEPTED,), exclude=activity.id)
        resolution = dedupe.resolve(item, dedupe.rivals_of(item, pool))  # type: ignore[arg-type]
        if not resolution.keep_new:
            activity.status = ActivityStatus.SUPERSEDED
            activity.reason = (f"approved, but counted once: activity {resolution.kept.id if resolution.kept else ''}"
                               " covers the same time with a richer record")
            crediting.withdraw(session, [activity.id], activity.reason)
            session.flush()
            return activity
        pipeline.supersede(session, activity.id, [r.id for r in resolution.supersede])  # type: ignore[misc]
        activity.status = ActivityStatus.ACCEPTED
        activity.reason = f"approved by an organiser (was: {activity.reason})"
        activity.updated_at = now
    owner = session.get(User, activity.user_id)
    crediting.score_entries(session, flagged, activity, reviewer.id, now,
                                   owner.weight_kg if owner else None)
    session.flush()
    return activity


def reject(session: Session, reviewer: User, activity_id: int, *, challenge_id: int | None = None,
           note: str | None = None, now: datetime | None = None) -> Activity:
    """Reject the flagged entries the reviewer may decide on (the activity stays, with the decision)."""
    now = now or utcnow()
    activity, flagged = _decidable(session, reviewer, activity_id, challenge_id)
    for entry in flagged:
        entry.status, entry.reviewed_by_id, entry.reviewed_at = EntryStatus.REJECTED, reviewer.id, now
        entry.reason = f"rejected by an organiser: {note}" if note else f"rejected by an organiser ({entry.reason})"
    session.flush()
    return activity


MAX_DECISIONS = 200
DONE = {"approve": "approved", "reject": "rejected"}


def decide_many(session: Session, reviewer: User, challenge_id: int, decisions: list[dict[str, Any]],
                now: datetime | None = None) -> list[dict[str, Any]]:
    """Approve or reject many flagged activities of one challenge; each decision is answered on its own.

    Every decision runs in its own savepoint, so one that cannot be made (not flagged any more, not in this
    challenge) leaves the others standing. The reviewer must organise the challenge (checked once, first).
    """
    managed_challenge(session, challenge_id, reviewer)
    now = now or utcnow()
    results = []
    for d in decisions:
        activity_id, decision = d["activity_id"], d["decision"]
        try:
            with session.begin_nested():
                if decision == "approve":
                    activity = approve(session, reviewer, activity_id, challenge_id=challenge_id, now=now)
                else:
                    activity = reject(session, reviewer, activity_id, challenge_id=challenge_id, note=d.get("note"),
                                      now=now)
            results.append({"activity_id": activity_id, "result": DONE[decision], "status": activity.status.value,
                            "code": None, "detail": None})
        except DomainError as exc:
            results.append({"activity_id": activity_id, "result": "not-decided", "status": None,
                            "code": exc.code, "detail": str(exc)})
    return results
