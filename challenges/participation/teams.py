"""Teams: created by organisers (or by participants when the challenge allows it), capped in size,
joined by a short code. In organisation-format challenges a team row with ``organisation_id`` registers a
participating organisation (a city in city-versus-city).

Managing them: organisers (and the creator of a participant-made team) rename a team or give it a new code
when the old one leaked; organisers delete a team that never scored and has nobody in it, and put an
enrolled participant into a team or take them out of it (an HR manager fixing a department). Points scored
before a move stay with the team they were scored for, as when leaving.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from challenges import privacy
from challenges.access import is_organiser
from challenges.formats import format_of
from challenges.lifecycle import new_code, require_not_ended
from challenges.models import Challenge, Enrolment, Team
from scoring.models import LeaderboardTotal
from scoring.totals import ALL_KEY, line_points
from scoring.types import Scope
from service.db_dialect import one_of
from service.errors import Conflict, Forbidden, Invalid, NotFound
from service.models import Organisation, User
from service.pagination import cursor_fields, keyset_page, keyset_rows


def member_counts(session: Session, challenge: Challenge, teams: Sequence[Team]) -> dict[int, int]:
    """Active members of each of ``teams`` (counted for those alone, not the whole challenge); in organisation
    format a team's members are its organisation's participants."""
    if not teams:
        return {}
    active = (Enrolment.challenge_id == challenge.id, Enrolment.left_at.is_(None))
    if format_of(challenge).team_is_organisation:
        orgs = [t.organisation_id for t in teams if t.organisation_id is not None]
        per_org = dict(session.execute(select(Enrolment.organisation_id, func.count(Enrolment.id)).where(
            *active, one_of(session, Enrolment.organisation_id, orgs)).group_by(Enrolment.organisation_id)).all())
        return {t.id: per_org.get(t.organisation_id, 0) for t in teams}
    rows = session.execute(select(Enrolment.team_id, func.count(Enrolment.id))
                           .where(*active, one_of(session, Enrolment.team_id, [t.id for t in teams]))
                           .group_by(Enrolment.team_id)).all()
    return {team_id: n for team_id, n in rows if team_id is not None}


def teams_page(session: Session, challenge: Challenge, *, limit: int, cursor: str | None
               ) -> tuple[list[Team], str | None]:
    """The challenge's teams in name order, a page at a time."""
    query = select(Team).where(Team.challenge_id == challenge.id)
    return keyset_rows(session, query, [Team.name, Team.id], limit=limit, cursor=cursor)


def create_team(session: Session, challenge: Challenge, user: User, *, name: str,
                organisation_id: int | None = None) -> Team:
    """Organisers may always create teams; participants only when ``participants_create_teams`` is on."""
    organiser = is_organiser(session, user, challenge.organisation_id)
    fmt = format_of(challenge)
    if not fmt.has_teams:
        raise Conflict(f"A {challenge.format.value} challenge has no teams.", code="no-teams")
    require_not_ended(challenge, "The challenge has ended.")
    if not organiser:
        if not challenge.participants_create_teams or not fmt.team_codes:
            raise Forbidden("Only organisers create teams in this challenge.", code="teams-by-organisers")
        if organisation_id is not None:
            raise Forbidden("Only organisers link a team to an organisation.", code="teams-by-organisers")
    if fmt.team_is_organisation and organisation_id is None:
        raise Invalid("In an organisation challenge each team is an organisation: give organisation_id.",
                      code="organisation-required", errors={"organisation_id": ["required"]})
    if organisation_id is not None and session.get(Organisation, organisation_id) is None:
        raise NotFound(f"No organisation {organisation_id}.", code="organisation-not-found")
    name = name.strip()
    if session.scalar(select(Team.id).where(Team.challenge_id == challenge.id, Team.name == name)):
        raise Conflict(f"A team called {name!r} already exists in this challenge.", code="team-name-taken")
    if organisation_id is not None and session.scalar(select(Team.id).where(
            Team.challenge_id == challenge.id, Team.organisation_id == organisation_id)):
        raise Conflict("This organisation already takes part.", code="organisation-already-in")
    team = Team(challenge_id=challenge.id, name=name, code=new_code(8), organisation_id=organisation_id,
                created_by_id=user.id)
    try:
        with session.begin_nested():
            session.add(team)
    except IntegrityError as exc:
        raise Conflict(f"A team called {name!r} already exists in this challenge.", code="team-name-taken") from exc
    return team


def team_by_code(session: Session, challenge: Challenge, code: str) -> Team:
    team = session.scalar(select(Team).where(Team.code == code.strip().upper(), Team.challenge_id == challenge.id))
    if team is None:
        raise NotFound("No team with this code in this challenge.", code="team-code-unknown")
    return team


def ensure_room(session: Session, challenge: Challenge, team: Team) -> None:
    """Refuse a full team. On PostgreSQL the team row is locked first, so two last-place joins serialise."""
    if challenge.team_size_cap is None:
        return
    session.execute(select(Team.id).where(Team.id == team.id).with_for_update())
    members = session.scalar(select(func.count(Enrolment.id)).where(
        Enrolment.team_id == team.id, Enrolment.left_at.is_(None))) or 0
    if members >= challenge.team_size_cap:
        raise Conflict(f"Team {team.name!r} is full ({challenge.team_size_cap} members).", code="team-full",
                       team_size_cap=challenge.team_size_cap)


def get_team(session: Session, challenge: Challenge, team_id: int) -> Team:
    team = session.get(Team, team_id)
    if team is None or team.challenge_id != challenge.id:
        raise NotFound(f"No team {team_id} in this challenge.", code="team-not-found")
    return team


def may_manage(session: Session, user: User | None, challenge: Challenge, team: Team) -> bool:
    """Organisers manage every team; a participant the team they created, while participants may make teams."""
    if user is None:
        return False
    if is_organiser(session, user, challenge.organisation_id):
        return True
    return team.created_by_id == user.id and challenge.participants_create_teams


TEAMS_FINAL = "The challenge has ended; its teams are final."


def update_team(session: Session, challenge: Challenge, team: Team, user: User, *, name: str | None = None,
                new_team_code: bool = False) -> Team:
    """Rename a team and/or give it a fresh code (the old code stops working; members stay)."""
    if not may_manage(session, user, challenge, team):
        raise Forbidden("Only the challenge's organisers and the team's creator change a team.",
                        code="team-managers-only")
    require_not_ended(challenge, TEAMS_FINAL)
    if name is not None:
        name = name.strip()
        if not name:
            raise Invalid("A team name cannot be blank.", code="invalid-input", errors={"name": ["blank"]})
        if name != team.name and session.scalar(select(Team.id).where(
                Team.challenge_id == challenge.id, Team.name == name, Team.id != team.id)):
            raise Conflict(f"A team called {name!r} already exists in this challenge.", code="team-name-taken")
        team.name = name
    if new_team_code:
        team.code = new_code(8)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # a concurrent rename took the name first
        raise Conflict(f"A team called {team.name!r} already exists in this challenge.",
                       code="team-name-taken") from exc
    return team


def delete_team(session: Session, challenge: Challenge, team: Team) -> None:
    """Delete a team nobody is in and that never scored (organisers; the caller checks the role). A team with
    history is refused: its points are part of the results, so rename it instead."""
    members = member_counts(session, challenge, [team]).get(team.id, 0)
    if members:
        raise Conflict(f"Team {team.name!r} has {members} active member(s); move or remove them first.",
                       code="team-not-empty", members=members)
    line = format_of(challenge).team_line(team)
    if line is not None and line_points(session, challenge.id, *line) is not None:
        raise Conflict(f"Team {team.name!r} has scored in this challenge, so it stays in the results; rename it "
                       "instead.", code="team-has-points")
    # former members keep their enrolment, without the team nor the organisation it stood for (SQLite does not
    # apply ON DELETE SET NULL by itself)
    session.execute(update(Enrolment).where(Enrolment.team_id == team.id).values(team_id=None, organisation_id=None))
    session.delete(team)
    session.flush()


def _team_format(challenge: Challenge) -> None:
    if not format_of(challenge).team_codes:
        raise Conflict("Only team-format challenges place people in teams; in organisation format a "
                       "participant's team is their organisation.", code="no-teams")


def _active_enrolment(session: Session, challenge: Challenge, user_id: int) -> Enrolment:
    found = session.scalar(select(Enrolment).where(Enrolment.challenge_id == challenge.id,
                                                   Enrolment.user_id == user_id, Enrolment.left_at.is_(None)))
    if found is None:
        raise NotFound(f"User {user_id} is not taking part in this challenge.", code="not-enrolled")
    return found


def assign_member(session: Session, challenge: Challenge, team: Team, user_id: int) -> Enrolment:
    """Put an enrolled participant into ``team`` (organisers; the caller checks the role). The team's size cap
    holds; doing it twice changes nothing."""
    _team_format(challenge)
    require_not_ended(challenge, TEAMS_FINAL)
    enrolment = _active_enrolment(session, challenge, user_id)
    if enrolment.team_id != team.id:
        ensure_room(session, challenge, team)
        enrolment.team_id, enrolment.organisation_id = team.id, team.organisation_id
        session.flush()
    return enrolment


def remove_member(session: Session, challenge: Challenge, team: Team, user_id: int) -> Enrolment:
    """Take a participant out of ``team`` (organisers); they stay enrolled, without a team, until they join one."""
    _team_format(challenge)
    require_not_ended(challenge, TEAMS_FINAL)
    enrolment = _active_enrolment(session, challenge, user_id)
    if enrolment.team_id != team.id:
        raise NotFound(f"User {user_id} is not in team {team.name!r}.", code="not-in-team")
    enrolment.team_id, enrolment.organisation_id = None, None
    session.flush()
    return enrolment


@dataclass
class Member:
    """A team member as a roster shows them: ``user_id`` is None for a hidden member shown to a teammate, and
    ``points`` None where the viewer may not see that person's figures (challenges.privacy)."""

    user_id: int | None
    name: str
    is_alias: bool
    is_me: bool
    joined_at: datetime
    points: int | None


def members(session: Session, challenge: Challenge, team: Team, viewer: User, *, limit: int = 50,
            cursor: str | None = None) -> tuple[list[Member], str | None]:
    """The team's active members in joining order, for the challenge's organisers and the team's own members.

    Organisers place people in teams, so they see who is in one by name; the points only where the policy lets
    them see people's figures (never in a workplace or school challenge) and never of someone hidden from the
    boards. Teammates see each other as the boards show them (alias, or first name and initial), with the points
    where individual boards are open to them; a hidden member appears under the boards' pseudonym."""
    in_team = format_of(challenge).team_member_filter(team)
    who = privacy.viewer_of(session, challenge, viewer)
    organiser = who.organiser
    if not organiser and session.scalar(select(Enrolment.id).where(
            Enrolment.challenge_id == challenge.id, Enrolment.user_id == viewer.id, Enrolment.left_at.is_(None),
            in_team)) is None:
        raise Forbidden("Only the team's members and the challenge's organisers see who is in a team.",
                        code="team-members-only")
    after = cursor_fields(cursor, id=int)
    query = (select(Enrolment.id, Enrolment.user_id, Enrolment.joined_at, *privacy.PERSON_COLUMNS[1:])
             .join(User, User.id == Enrolment.user_id)
             .where(Enrolment.challenge_id == challenge.id, Enrolment.left_at.is_(None), in_team,
                    User.deleted_at.is_(None))
             .order_by(Enrolment.id).limit(limit + 1))
    if after is not None:
        query = query.where(Enrolment.id > after["id"])
    rows = session.execute(query).all()
    page, next_cursor = keyset_page(rows, limit, lambda r: {"id": r.id})
    points = dict(session.execute(select(LeaderboardTotal.subject_id, LeaderboardTotal.points).where(
        LeaderboardTotal.contest_id == challenge.id, LeaderboardTotal.scope == Scope.USER,
        LeaderboardTotal.period_key == ALL_KEY,
        one_of(session, LeaderboardTotal.subject_id, [r.user_id for r in page]))).all()) if page else {}
    figures = privacy.sees_people(challenge, who)
    out = []
    for r in page:
        me = r.user_id == viewer.id
        scored: int | None = int(points.get(r.user_id, 0))
        person = SimpleNamespace(id=r.user_id, display_name=r.display_name, alias=r.alias,
                                 show_full_name=r.show_full_name, hide_from_leaderboards=r.hide_from_leaderboards)
        if organiser or me:
            shown = privacy.Shown(r.user_id, r.display_name, False)
            hidden_figures = (not figures or bool(r.hide_from_leaderboards)) and not me
        else:
            shown = privacy.shown_person(person, who)
            hidden_figures = not figures and not me
        out.append(Member(shown.user_id, shown.name, shown.is_alias, me, r.joined_at,
                          None if hidden_figures else scored))
    return out, next_cursor
