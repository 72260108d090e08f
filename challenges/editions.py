"""Running a challenge again: "the same May challenge, next year", as a new draft.

Cities and employers repeat their campaigns. A copy takes the source's rules and settings (setting, metric,
format, goal, time zone, visibility, allowed types, caps, grace period, plausibility limits, team options),
new dates, its own badge definitions, and, unless told not to, its teams and its active check-in locations.
Nothing of the source's history comes along: no participants, activity, points or awarded badges. Teams get
fresh codes and locations fresh QR secrets, so codes printed for the old edition do not work for the new one.
The copy is a draft the organiser edits (a participant-made team they do not want can be deleted) and then
publishes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from challenges import lifecycle
from challenges.models import Challenge, Team
from challenges.places import locations
from scoring import badge_definitions
from service.models import User

COPIED = ("description", "setting", "metric", "format", "goal", "timezone", "visibility", "allowed_types",
          "daily_cap", "vigorous_counts_double", "grace_days", "region", "team_size_cap",
          "participants_create_teams", "plausibility")


def copy_challenge(session: Session, source: Challenge, creator: User, *, starts_at: datetime, ends_at: datetime,
                   title: str | None = None, teams: bool = True, places: bool = True) -> Challenge:
    """A new draft of ``source``'s organisation with its rules, new dates (wall-clock times in its time zone
    when naive), its own badges, and its teams and active locations unless ``teams`` / ``places`` say no."""
    values = {key: getattr(source, key) for key in COPIED}
    values |= {"title": title or source.title, "starts_at": starts_at, "ends_at": ends_at}
    copy = lifecycle.create_challenge(session, organisation_id=source.organisation_id, creator=creator,
                                      values=values)
    if teams:
        for team in session.scalars(select(Team).where(Team.challenge_id == source.id).order_by(Team.id)):
            session.add(Team(challenge_id=copy.id, name=team.name, code=lifecycle.new_code(8),
                             organisation_id=team.organisation_id, created_by_id=creator.id))
    if places:
        for place in locations.list_locations(session, source):
            locations.create_location(session, copy, {"name": place.name, "lat": place.lat, "lon": place.lon,
                                                      "radius_m": place.radius_m})
    for badge in badge_definitions.for_contest(session, source.id):
        if badge.contest_id == source.id:
            badge_definitions.define(session, copy.id, name=badge.name, criteria=dict(badge.criteria),
                                     description=badge.description, image_url=badge.image_url)
    session.flush()
    return copy
