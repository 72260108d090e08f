"""Check-ins at @public-space locations: inside the geofence or with a valid rotating QR token, inside the
challenge window, once per location per local day (of the challenge's time zone). Each valid check-in is
scored through the ledger like an activity of type ``checkin``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from challenges.lifecycle import rules_for
from challenges.models import Challenge, ChallengeStatus, CheckIn, CheckInMethod
from challenges.participation.enrolment import effective_end, find_enrolment, subject_for
from challenges.places import qr
from challenges.places.geo import haversine_m
from challenges.places.locations import get_location
from scoring import badges, ledger
from scoring.types import ActivityFacts
from service.clock import zone
from service.errors import Conflict, Forbidden, Unprocessable
from service.models import User
from service.pagination import keyset_rows


@dataclass(frozen=True)
class CheckInProof:
    lat: float | None = None
    lon: float | None = None
    qr_token: str | None = None


@dataclass(frozen=True)
class CheckInResult:
    checkin: CheckIn
    points: int
    badges: list[str]


def source_key(user_id: int, location_id: int, local_day: object) -> str:
    """``checkin:<location>:<local day>:<user>``: the location second, as scoring's check-in badges read it."""
    return f"checkin:{location_id}:{local_day}:{user_id}"


def check_in(session: Session, challenge: Challenge, user: User, location_id: int, proof: CheckInProof, *,
             now: datetime, app_secret: str, qr_window_s: int = qr.DEFAULT_WINDOW_S) -> CheckInResult:
    """Record and score one check-in (then evaluate badges, e.g. 'five different locations')."""
    location = get_location(session, challenge, location_id)
    enrolment = find_enrolment(session, challenge.id, user.id)
    if enrolment is None or enrolment.left_at is not None:
        raise Forbidden("Join the challenge before checking in.", code="not-enrolled")
    if challenge.status == ChallengeStatus.DRAFT or not (challenge.starts_at <= now < effective_end(challenge)):
        raise Conflict("Check-ins count only while the challenge runs.", code="outside-window",
                       starts_at=challenge.starts_at.isoformat(), ends_at=effective_end(challenge).isoformat())
    if proof.qr_token is not None:
        if not qr.verify(location, proof.qr_token, now, app_secret, qr_window_s):
            raise Unprocessable("The QR code is not valid for this location or has expired; scan it again.",
                                code="invalid-qr-token")
        method = CheckInMethod.QR
    else:
        assert proof.lat is not None and proof.lon is not None
        distance = haversine_m(proof.lat, proof.lon, location.lat, location.lon)
        if distance > location.radius_m:
            raise Unprocessable(f"You are {distance:.0f} m from {location.name}; check in within "
                                f"{location.radius_m:.0f} m.", code="outside-geofence",
                                distance_m=round(distance), radius_m=location.radius_m)
        method = CheckInMethod.GEOFENCE
    day = now.astimezone(zone(challenge.timezone)).date()
    duplicate = Conflict(f"You already checked in at {location.name} on {day.isoformat()}.",
                         code="duplicate-checkin", local_day=day.isoformat())
    if session.scalar(select(CheckIn.id).where(CheckIn.user_id == user.id, CheckIn.location_id == location.id,
                                               CheckIn.local_day == day)) is not None:
        raise duplicate
    checkin = CheckIn(user_id=user.id, location_id=location.id, challenge_id=challenge.id, at=now,
                      local_day=day, method=method)
    try:
        with session.begin_nested():
            session.add(checkin)
    except IntegrityError as exc:
        raise duplicate from exc
    result = ledger.score(session, rules_for(challenge), subject_for(challenge, enrolment),
                          source_key(user.id, location.id, day),
                          ActivityFacts(type_code="checkin", started_at=now, duration_s=0))
    awarded = badges.evaluate(session, challenge.id, [user.id],
                              context={"goal": challenge.goal, "tz": challenge.timezone})
    return CheckInResult(checkin, result.points, [a.badge.code for a in awarded])


def my_checkins(session: Session, challenge: Challenge, user: User, *, limit: int, cursor: str | None
                ) -> tuple[list[CheckIn], str | None]:
    """The user's check-ins in the challenge, newest first, a page at a time, each with its location loaded (the
    answer names it; an archived location too)."""
    query = (select(CheckIn).where(CheckIn.challenge_id == challenge.id, CheckIn.user_id == user.id)
             .options(joinedload(CheckIn.location)))
    return keyset_rows(session, query, [CheckIn.at, CheckIn.id], limit=limit, cursor=cursor, descending=True)
