"""Enrolment: who takes part in which challenge, and who their points count for."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from challenges.models import Challenge, ChallengeFormat, ChallengeStatus, Enrolment
from scoring.types import Subject
from service.clock import utcnow


def effective_end(challenge: Challenge) -> datetime:
    """An organiser may end a challenge early; activity after that moment no longer counts."""
    if challenge.status == ChallengeStatus.ENDED and challenge.ended_at is not None:
        return min(challenge.ends_at, challenge.ended_at)
    return challenge.ends_at


def accepts_activity_at(challenge: Challenge, at: datetime, now: datetime | None = None) -> bool:
    """True when ``at`` lies in the challenge window and the late-sync grace period has not run out."""
    if challenge.status == ChallengeStatus.DRAFT:
        return False
    now = now or utcnow()
    end = effective_end(challenge)
    return challenge.starts_at <= at < end and now < end + timedelta(days=challenge.grace_days)


def active_enrolments(session: Session, user_id: int, at: datetime,
                      now: datetime | None = None) -> list[tuple[Challenge, Enrolment]]:
    """Challenges an activity of ``user_id`` that happened at ``at`` counts for, with the enrolment.

    Published (or ended) challenges the user is currently enrolled in whose window contains ``at``, as long
    as ``now`` is within the late-sync grace period after the end. Activity from before the user joined still
    counts when it lies inside the window (late entry, as Bike to Work allows). Ordered by challenge id.
    """
    rows = session.execute(
        select(Challenge, Enrolment)
        .join(Enrolment, Enrolment.challenge_id == Challenge.id)
        .where(Enrolment.user_id == user_id, Enrolment.left_at.is_(None),
               Challenge.status != ChallengeStatus.DRAFT,
               Challenge.starts_at <= at, Challenge.ends_at > at)
        .order_by(Challenge.id)
    ).tuples().all()
    now = now or utcnow()
    return [(c, e) for c, e in rows if accepts_activity_at(c, at, now)]


def subject_for(challenge: Challenge, enrolment: Enrolment) -> Subject:
    """Who an entry counts for: team format adds the team (and its organisation, if any); organisation
    format adds the participant's organisation (their 'team'); individual and collective count the user only."""
    if challenge.format == ChallengeFormat.TEAM:
        return Subject(user_id=enrolment.user_id, team_id=enrolment.team_id,
                       organisation_id=enrolment.organisation_id)
    if challenge.format == ChallengeFormat.ORGANISATION:
        return Subject(user_id=enrolment.user_id, organisation_id=enrolment.organisation_id)
    return Subject(user_id=enrolment.user_id)
