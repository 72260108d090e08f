"""Challenge lifecycle: create, edit, publish and end; and the scoring rules a challenge hands to scoring/.

History rule (chosen over rescoring): once a challenge has started, a change that would rewrite what was
already scored is refused with 409 ``rules-locked``. Rescoring cannot help there, because the ledger records
points under the old rules and ``vcc rescore`` rebuilds totals from that ledger, not from the raw activity.
Locked once running: metric, format, timezone, daily_cap, vigorous_counts_double, allowed_types, plausibility
(which entries were flagged, and so scored nothing, was decided under the old limits), a start that is already
past (old or new), and an end that is already past (old or new). Title, description, goal,
visibility, region, team size cap and grace period stay editable, as does extending a running challenge; who sees
individual boards (``board_visibility``) may then only become more private (409 ``board-visibility-locked``).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from blinker import Namespace
from sqlalchemy import delete
from sqlalchemy.orm import Session

from challenges import limits, privacy
from challenges.formats import format_of
from challenges.models import Challenge, ChallengeStatus, Enrolment, Phase, Visibility
from scoring import badges
from scoring.catalogue import ACTIVITY_TYPES
from scoring.models import BadgeDefinition
from scoring.types import Metric, ScoringRules
from service.clock import utcnow, zone
from service.errors import Conflict, Invalid, Unprocessable
from service.models import User

LOCKED_ONCE_RUNNING = ("metric", "format", "timezone", "daily_cap", "vigorous_counts_double", "allowed_types",
                       "plausibility")
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def rules_for(challenge: Challenge) -> ScoringRules:
    """The scoring engine's view of a challenge: what it counts, in which time zone, with which caps."""
    allowed = frozenset(challenge.allowed_types) if challenge.allowed_types is not None else None
    return ScoringRules(contest_id=challenge.id, metric=Metric(challenge.metric), timezone=challenge.timezone,
                        daily_cap=challenge.daily_cap, vigorous_counts_double=challenge.vigorous_counts_double,
                        allowed_types=allowed)


def require_not_ended(challenge: Challenge, detail: str) -> None:
    """409 ``challenge-ended`` once the challenge is over: what it was (teams, badges) is final then."""
    if challenge.phase() == Phase.ENDED:
        raise Conflict(detail, code="challenge-ended")


def new_code(length: int = 8) -> str:
    """A short code people can type from a poster: no 0/O or 1/I look-alikes."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def localise(value: datetime, tz: str) -> datetime:
    """A time 'entered in the challenge's time zone': naive values are wall-clock times there."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone(tz))
    return value.astimezone(zone("UTC"))


def _check_window(starts_at: datetime, ends_at: datetime) -> None:
    if ends_at <= starts_at:
        raise Invalid("The challenge must end after it starts.", code="bad-window",
                      errors={"ends_at": ["must be after starts_at"]})


def _normalise(values: dict[str, Any], tz: str) -> dict[str, Any]:
    out = dict(values)
    for key in ("starts_at", "ends_at"):
        if out.get(key) is not None:
            out[key] = localise(out[key], tz)
    if "allowed_types" in out and out["allowed_types"] is not None:
        unknown = sorted(set(out["allowed_types"]) - set(ACTIVITY_TYPES))
        if unknown:
            raise Unprocessable(f"Unknown activity types: {', '.join(unknown)}.", code="unknown-activity-type",
                                errors={"allowed_types": [f"unknown: {', '.join(unknown)}"]})
        out["allowed_types"] = sorted(set(out["allowed_types"]))
    if "plausibility" in out:  # stored in one form, so an unchanged setting compares equal (rules-locked)
        out["plausibility"] = limits.normalised(out["plausibility"])
    return out


def create_challenge(session: Session, *, organisation_id: int, creator: User | None,
                     values: dict[str, Any]) -> Challenge:
    tz = values.get("timezone") or "UTC"
    data = _normalise({**values, "timezone": tz}, tz)
    _check_window(data["starts_at"], data["ends_at"])
    challenge = Challenge(organisation_id=organisation_id, created_by_id=creator.id if creator else None,
                          status=ChallengeStatus.DRAFT, **data)
    if challenge.visibility == Visibility.INVITE:
        challenge.invite_code = new_code(10)
    if format_of(challenge).goal_required and not challenge.goal:
        raise Invalid("A collective challenge needs a goal.", code="goal-required",
                      errors={"goal": ["required for the collective format"]})
    session.add(challenge)
    session.flush()
    return challenge


def _locked_changes(challenge: Challenge, data: dict[str, Any], now: datetime) -> list[str]:
    locked = [k for k in LOCKED_ONCE_RUNNING if k in data and data[k] != getattr(challenge, k)]
    if "starts_at" in data and data["starts_at"] != challenge.starts_at and (
            min(data["starts_at"], challenge.starts_at) <= now):
        locked.append("starts_at")
    if "ends_at" in data and data["ends_at"] != challenge.ends_at and min(data["ends_at"], challenge.ends_at) <= now:
        locked.append("ends_at")
    return locked


def update_challenge(session: Session, challenge: Challenge, values: dict[str, Any],
                     now: datetime | None = None) -> Challenge:
    """Apply an organiser's edit; refuse changes that would rewrite already-scored history."""
    now = now or utcnow()
    tz = values.get("timezone") or challenge.timezone
    data = _normalise(values, tz)
    if tz != challenge.timezone:  # keep the wall-clock start and end the organiser entered
        for key in ("starts_at", "ends_at"):
            if values.get(key) is None:
                wall = getattr(challenge, key).astimezone(zone(challenge.timezone)).replace(tzinfo=None)
                data[key] = localise(wall, tz)
    if challenge.phase(now) in (Phase.RUNNING, Phase.ENDED):
        if "board_visibility" in data and privacy.loosening(challenge, data["board_visibility"]):
            raise Conflict("Once a challenge runs its individual boards can only become more private: participants "
                           "joined under the current rule.", code="board-visibility-locked",
                           fields=["board_visibility"])
        locked = _locked_changes(challenge, data, now)
        if locked:
            raise Conflict(f"{', '.join(locked)} cannot change once the challenge has started: it would rewrite "
                           "points already scored.", code="rules-locked", fields=locked)
    if challenge.status == ChallengeStatus.ENDED:
        raise Conflict("An ended challenge cannot be edited.", code="challenge-ended")
    _check_window(data.get("starts_at", challenge.starts_at), data.get("ends_at", challenge.ends_at))
    for key, value in data.items():
        setattr(challenge, key, value)
    if challenge.visibility == Visibility.INVITE and not challenge.invite_code:
        challenge.invite_code = new_code(10)
    if format_of(challenge).goal_required and not challenge.goal:
        raise Invalid("A collective challenge needs a goal.", code="goal-required")
    challenge.updated_at = now
    session.flush()
    return challenge


def publish_challenge(session: Session, challenge: Challenge, now: datetime | None = None) -> Challenge:
    now = now or utcnow()
    if challenge.status != ChallengeStatus.DRAFT:
        raise Conflict(f"The challenge is already {challenge.status.value}.", code="not-a-draft")
    if challenge.ends_at <= now:
        raise Conflict("The challenge's end date is already past; move it before publishing.",
                       code="window-past")
    challenge.status = ChallengeStatus.PUBLISHED
    challenge.published_at = now
    challenge.updated_at = now
    badges.ensure_definitions(session)  # a fresh deployment awards badges from the first activity on
    session.flush()
    return challenge


def end_challenge(session: Session, challenge: Challenge, now: datetime | None = None) -> Challenge:
    """End a published challenge now (or keep its date if already past); activity after this stops counting."""
    now = now or utcnow()
    if challenge.status != ChallengeStatus.PUBLISHED:
        raise Conflict(f"Only a published challenge can be ended; this one is {challenge.status.value}.",
                       code="not-published")
    challenge.status = ChallengeStatus.ENDED
    challenge.ended_at = min(now, challenge.ends_at)
    challenge.updated_at = now
    session.flush()
    return challenge


challenge_deleting = Namespace().signal("challenge-deleting")
"""Sent with the session and ``challenge_id`` before a draft is deleted, so packages that keep rows about a
challenge (notifications: announcements, nudges) remove theirs; ``challenges`` never imports them. Needed
because SQLite, the embedded default, does not apply ``ON DELETE CASCADE``."""


def delete_draft(session: Session, challenge: Challenge) -> None:
    """Delete a challenge that was never published, with its teams, locations and own badges (a mistake, a test
    run).

    A published challenge is part of its participants' history (points, badges, reports): it is ended,
    never deleted.
    """
    if challenge.status != ChallengeStatus.DRAFT:
        raise Conflict(f"Only a draft can be deleted; this challenge is {challenge.status.value} and part of its "
                       "participants' history: end it instead.", code="not-a-draft")
    challenge_deleting.send(session, challenge_id=challenge.id)
    session.execute(delete(Enrolment).where(Enrolment.challenge_id == challenge.id))
    session.execute(delete(BadgeDefinition).where(BadgeDefinition.contest_id == challenge.id))  # a draft awards none
    for child in (*challenge.teams, *challenge.locations):  # loaded, so the ORM cascade deletes them
        session.delete(child)
    session.delete(challenge)
    session.flush()
