"""Challenge lifecycle nudges (starting tomorrow, started, ending soon, result) and end-of-challenge work.

Windows are fixed relative to the challenge's UTC instants, so they hold in every participant's zone and
across DST changes; quiet hours then move each user's nudge to their own next allowed local time, and a
nudge that would arrive after its moment has passed (e.g. "starts tomorrow" after the start) is dropped.
A challenge is final when its late-sync grace period is over (activity may still be added until then):
then finisher badges are awarded once (scoring.badges with ``final=True``) and every participant gets
their final standing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from challenges.models import Challenge, ChallengeStatus, Enrolment
from challenges.participation.enrolment import effective_end
from notifications.models import NudgeKind, PlannerMark
from notifications.planner import Candidate, PlanResult, plan
from scoring import badges, leaderboards, reconcile
from service.clock import utcnow
from service.db_dialect import insert_ignore

log = logging.getLogger(__name__)

STARTING_LEAD = timedelta(hours=24)
STARTED_WINDOW = timedelta(hours=24)
ENDING_LEAD = timedelta(hours=48)
RECONCILE_AFTER_END = timedelta(days=14)


def challenge_params(challenge: Challenge) -> dict[str, Any]:
    return {"challenge": challenge.title, "starts_at": challenge.starts_at.isoformat(),
            "ends_at": effective_end(challenge).isoformat()}


def participants(session: Session, challenge_ids: list[int]) -> Iterator[Enrolment]:
    if challenge_ids:
        yield from session.scalars(select(Enrolment).where(Enrolment.challenge_id.in_(challenge_ids),
                                                           Enrolment.left_at.is_(None)).order_by(Enrolment.id))


def new_participants(session: Session, challenge_id: int, key: str, *where: Any) -> list[Enrolment]:
    """Participants (matching ``where``) enrolled since the last call with ``key``: a fan-out tells each one
    once, and late joiners at a later run, without re-reading everyone every run (an enrolment-id cursor
    kept in a ``PlannerMark``, written in the caller's transaction with the nudges it planned)."""
    session.execute(insert_ignore(session, PlannerMark.__table__, index_elements=["key"]),
                    [{"key": key, "value": {}, "updated_at": utcnow()}])
    mark = session.scalar(select(PlannerMark).where(PlannerMark.key == key))
    assert mark is not None
    after = int((mark.value or {}).get("enrolment_id", 0))
    rows = list(session.scalars(select(Enrolment).where(Enrolment.challenge_id == challenge_id, Enrolment.id > after,
                                                        Enrolment.left_at.is_(None), *where).order_by(Enrolment.id)))
    if rows:
        mark.value, mark.updated_at = {"enrolment_id": rows[-1].id}, utcnow()
    return rows


def _live(session: Session, now: datetime, horizon: timedelta) -> list[Challenge]:
    return list(session.scalars(select(Challenge).where(
        Challenge.status != ChallengeStatus.DRAFT, Challenge.starts_at <= now + horizon,
        Challenge.ends_at >= now - horizon - timedelta(days=31))))


def lifecycle_candidates(session: Session, now: datetime) -> Iterator[Candidate]:
    for challenge in _live(session, now, ENDING_LEAD):
        end = effective_end(challenge)
        params = challenge_params(challenge)
        if challenge.status == ChallengeStatus.PUBLISHED and challenge.starts_at - STARTING_LEAD <= now \
                < challenge.starts_at:
            kind, until = NudgeKind.CHALLENGE_STARTING, challenge.starts_at
        elif challenge.starts_at <= now < min(end, challenge.starts_at + STARTED_WINDOW):
            kind, until = NudgeKind.CHALLENGE_STARTED, min(end, challenge.starts_at + STARTED_WINDOW)
        elif max(challenge.starts_at + STARTED_WINDOW, end - ENDING_LEAD) <= now < end:
            kind, until = NudgeKind.CHALLENGE_ENDING, end
        else:
            continue
        for enrolment in new_participants(session, challenge.id, f"{kind.value}:{challenge.id}"):
            yield Candidate(enrolment.user_id, kind, f"{kind.value}:{challenge.id}:{enrolment.user_id}", params,
                            challenge_id=challenge.id, expires_at=until)


def _claim_mark(session: Session, key: str) -> bool:
    """True the first time ``key`` is marked (a unique row), so finalisation happens once across replicas."""
    result = session.execute(insert_ignore(session, PlannerMark.__table__, index_elements=["key"]),
                             [{"key": key, "value": {}, "updated_at": utcnow()}])
    return bool(result.rowcount)


def finalise_ended(session: Session, now: datetime) -> list[Candidate]:
    """Award finisher badges and plan final standings for challenges whose late-sync window just closed."""
    out: list[Candidate] = []
    ended = session.scalars(select(Challenge).where(Challenge.status != ChallengeStatus.DRAFT, Challenge.ends_at <= now,
                                                    Challenge.ends_at >= now - timedelta(days=60)))
    for challenge in ended:
        if now < effective_end(challenge) + timedelta(days=challenge.grace_days):
            continue
        if not _claim_mark(session, f"final:{challenge.id}"):
            continue
        users = [e.user_id for e in participants(session, [challenge.id])]
        ranks = leaderboards.final_ranks(session, challenge.id)  # one ordered pass, not a query per person
        badges.ensure_definitions(session)  # idempotent; finisher badges need their definitions
        # what only the end can award; every other kind was checked when its points were made
        badges.evaluate(session, challenge.id, users, context={
            "final": True, "goal": challenge.goal, "ranks": ranks,
            "skip": set(badges.CHECKS) - {"top_n_finish", "collective_goal"}})
        params = challenge_params(challenge)
        params["participants"] = len(users)
        for user_id in users:
            rank = ranks.get(user_id, (len(users), 0))[0]
            out.append(Candidate(user_id, NudgeKind.CHALLENGE_RESULT, f"result:{challenge.id}:{user_id}",
                                 {**params, "rank": rank}, challenge_id=challenge.id))
    return out


def run_lifecycle(session: Session, holder: str = "") -> PlanResult:
    now = utcnow()
    result = plan(session, [*lifecycle_candidates(session, now), *finalise_ended(session, now)], now)
    session.commit()
    return result


def reconcile_leaderboards(session: Session, holder: str = "", keep_alive: Callable[[], bool] | None = None) -> int:
    """Compare the totals (SQL, then Redis) of challenges that are running or ended recently with their
    ledgers and correct what differs (``scoring.reconcile``), a chunk per transaction. ``keep_alive`` renews
    the job's lease after each chunk; once it fails the run stops, to go on at the next one. One log line of
    counts per challenge; returns how many challenges were reconciled in full."""
    now = utcnow()
    ids = list(session.scalars(select(Challenge.id).where(
        Challenge.status != ChallengeStatus.DRAFT, Challenge.starts_at <= now,
        Challenge.ends_at >= now - RECONCILE_AFTER_END).order_by(Challenge.id)))
    session.commit()

    def after_each() -> bool:
        session.commit()
        return keep_alive() if keep_alive is not None else True

    done = 0
    for challenge_id in ids:
        counts = reconcile.reconcile(session, challenge_id, after_each)
        session.commit()
        log.info("reconcile challenge %s: %s", challenge_id, counts.line())
        if not counts.complete:
            break
        done += 1
    return done
