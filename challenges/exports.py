"""Challenges' part of the personal-data export: enrolments, activities with their entries, check-ins and
the distance samples merged into activities.

Connected when challenges.api is imported by the factory. One query per section (the entries of all
activities come in one query and are nested under their activity), so the cost does not grow with the
number of activities. Other participants never appear: a challenge's title, a team's name and a check-in
spot are shown, reviewers only as "reviewed at".
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from challenges.activities.distance_samples import DistanceSample
from challenges.activities.models import Activity, ActivityEntry
from challenges.models import Challenge, CheckIn, Enrolment, Location, Team
from service.exports import export_requested
from service.models import Organisation

ACTIVITY_COLUMNS = [c for c in Activity.__table__.c if c.name != "user_id"]
"""Every stored column of an activity (the raw source reference, fingerprint, status and reason included):
a column added later is exported without anyone remembering to list it here."""
SAMPLE_COLUMNS = [c for c in DistanceSample.__table__.c if c.name != "user_id"]


@export_requested.connect
def _sections(session: Session, user_id: int, **_: Any) -> dict[str, Any]:
    return {"enrolments": enrolments(session, user_id), "activities": activities(session, user_id),
            "checkins": checkins(session, user_id), "distance_samples": distance_samples(session, user_id)}


def enrolments(session: Session, user_id: int) -> list[dict[str, Any]]:
    """Every challenge joined (also the ones left: ``left_at``), with its title, organiser and the team."""
    host, scored_for = aliased(Organisation), aliased(Organisation)
    rows = session.execute(
        select(Enrolment.challenge_id, Challenge.title, Challenge.format, Challenge.metric, host.name.label("host"),
               Enrolment.team_id, Team.name.label("team"), Enrolment.organisation_id,
               scored_for.name.label("scored_for"), Enrolment.joined_at, Enrolment.left_at)
        .join(Challenge, Challenge.id == Enrolment.challenge_id)
        .join(host, host.id == Challenge.organisation_id)
        .outerjoin(Team, Team.id == Enrolment.team_id)
        .outerjoin(scored_for, scored_for.id == Enrolment.organisation_id)
        .where(Enrolment.user_id == user_id).order_by(Enrolment.id))
    return [{"challenge_id": r.challenge_id, "challenge_title": r.title, "challenge_format": r.format,
             "metric": r.metric, "organised_by": r.host, "team_id": r.team_id, "team_name": r.team,
             "organisation_id": r.organisation_id, "organisation_name": r.scored_for, "joined_at": r.joined_at,
             "left_at": r.left_at} for r in rows]


def activities(session: Session, user_id: int) -> list[dict[str, Any]]:
    """Every activity as stored (deleted and superseded ones too), each with how it stands per challenge."""
    entries = _entries(session, user_id)
    rows = session.execute(select(*ACTIVITY_COLUMNS).where(Activity.user_id == user_id).order_by(Activity.id))
    return [{**row, "entries": entries.get(row["id"], [])} for row in (dict(r._mapping) for r in rows)]


def _entries(session: Session, user_id: int) -> dict[int, list[dict[str, Any]]]:
    rows = session.execute(
        select(ActivityEntry.activity_id, ActivityEntry.challenge_id, Challenge.title, ActivityEntry.status,
               ActivityEntry.reason, ActivityEntry.reviewed_at, ActivityEntry.created_at)
        .join(Activity, Activity.id == ActivityEntry.activity_id)
        .join(Challenge, Challenge.id == ActivityEntry.challenge_id)
        .where(Activity.user_id == user_id).order_by(ActivityEntry.activity_id, ActivityEntry.challenge_id))
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        out[r.activity_id].append({"challenge_id": r.challenge_id, "challenge_title": r.title, "status": r.status,
                                   "reason": r.reason, "reviewed_at": r.reviewed_at, "created_at": r.created_at})
    return out


def checkins(session: Session, user_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(CheckIn.id, CheckIn.challenge_id, Challenge.title, CheckIn.location_id, Location.name,
               Location.lat, Location.lon, CheckIn.at, CheckIn.local_day, CheckIn.method, CheckIn.created_at)
        .join(Location, Location.id == CheckIn.location_id)
        .join(Challenge, Challenge.id == CheckIn.challenge_id)
        .where(CheckIn.user_id == user_id).order_by(CheckIn.id))
    return [{"id": r.id, "challenge_id": r.challenge_id, "challenge_title": r.title, "location_id": r.location_id,
             "location_name": r.name, "location_lat": r.lat, "location_lon": r.lon, "at": r.at,
             "local_day": r.local_day, "method": r.method, "created_at": r.created_at} for r in rows]


def distance_samples(session: Session, user_id: int) -> list[dict[str, Any]]:
    """Health-store distance samples added to an activity (``activity_id``), with their record ids."""
    rows = session.execute(select(*SAMPLE_COLUMNS).where(DistanceSample.user_id == user_id)
                           .order_by(DistanceSample.id))
    return [dict(r._mapping) for r in rows]
