"""Factories for challenge rows, built through the real use cases (lifecycle, teams, enrolment)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from challenges import lifecycle
from challenges.models import Challenge, ChallengeFormat, Enrolment, Setting, Team, Visibility
from challenges.participation import enrolment, teams
from scoring import ledger
from scoring.types import ActivityFacts, Metric
from service.clock import utcnow
from service.models import Organisation, User

_seq = itertools.count(1)


def make_challenge(session: Session, org: Organisation, *, publish: bool = True, starts_at: datetime | None = None,
                   ends_at: datetime | None = None, creator: User | None = None, **values: Any) -> Challenge:
    """A challenge of ``org``; by default published and running (started a week ago, three weeks left)."""
    now = utcnow()
    data: dict[str, Any] = {
        "title": f"Challenge {next(_seq)}",
        "setting": Setting.PUBLIC_SPACE,
        "metric": Metric.ACTIVE_MINUTES,
        "format": ChallengeFormat.INDIVIDUAL,
        "timezone": org.timezone,
        "visibility": Visibility.PUBLIC,
        "starts_at": starts_at or now - timedelta(days=7),
        "ends_at": ends_at or now + timedelta(days=21),
        **values,
    }
    challenge = lifecycle.create_challenge(session, organisation_id=org.id, creator=creator, values=data)
    if publish:
        if challenge.ends_at <= now:
            challenge.status = challenge.status.PUBLISHED
            challenge.published_at = now
        else:
            lifecycle.publish_challenge(session, challenge)
    session.flush()
    return challenge


def challenge_body(organisation: int, **over: Any) -> dict[str, Any]:
    """A valid POST /api/v1/challenges body (a May 2030 individual active-minutes challenge), with overrides."""
    body = {"organisation_id": organisation, "title": "Walk 150 minutes a week", "setting": "public_space",
            "metric": "active_minutes", "format": "individual", "starts_at": "2030-05-01T00:00:00",
            "ends_at": "2030-06-01T00:00:00", "timezone": "Europe/Helsinki"}
    body.update(over)
    return body


def make_team(session: Session, challenge: Challenge, organiser: User, name: str | None = None,
              organisation_id: int | None = None) -> Team:
    return teams.create_team(session, challenge, organiser, name=name or f"Team {next(_seq)}",
                             organisation_id=organisation_id)


def enrol(session: Session, challenge: Challenge, user: User, **kwargs: Any) -> Enrolment:
    return enrolment.join(session, challenge, user, **kwargs)


def score_walk(session: Session, user_id: int, at: datetime, key: str, minutes: int = 30) -> None:
    """A brisk walk scored straight into the ledger of every challenge the user is enrolled in at ``at``."""
    for challenge, enrolled in enrolment.active_enrolments(session, user_id, at):
        ledger.score(session, lifecycle.rules_for(challenge), enrolment.subject_for(challenge, enrolled), key,
                     ActivityFacts(type_code="walking_brisk", started_at=at, duration_s=minutes * 60))


def walk(session: Session, user: User, minutes: int, *, key: str, days_ago: int = 0) -> None:
    """A walk of ``minutes`` that ended five minutes ago (``days_ago`` days back)."""
    score_walk(session, user.id, utcnow() - timedelta(days=days_ago, minutes=minutes + 5), key, minutes)


def midday_soon() -> datetime:
    """09:00 UTC two days ahead: 'today' and 'yesterday' never straddle local midnight during a test, and day
    boards stay in the future for Redis (whose expiry clock time-machine cannot move)."""
    return datetime.combine(datetime.now(UTC).date() + timedelta(days=2), time(9), tzinfo=UTC)
