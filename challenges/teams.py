"""Teams: created by organisers (or by participants when the challenge allows it), capped in size,
joined by a short code. In organisation-format challenges a team row with ``organisation_id`` registers a
participating organisation (a city in city-versus-city)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from challenges.access import is_organiser
from challenges.lifecycle import new_code
from challenges.models import Challenge, ChallengeFormat, Enrolment, Phase, Team
from service.errors import Conflict, Forbidden, Invalid, NotFound
from service.models import Organisation, User


def member_counts(session: Session, challenge: Challenge) -> dict[int, int]:
    """Active members per team; in organisation format a team's members are its organisation's participants."""
    active = (Enrolment.challenge_id == challenge.id, Enrolment.left_at.is_(None))
    if challenge.format == ChallengeFormat.ORGANISATION:
        per_org = dict(session.execute(select(Enrolment.organisation_id, func.count(Enrolment.id)).where(*active)
                                       .group_by(Enrolment.organisation_id)).all())
        teams = session.execute(select(Team.id, Team.organisation_id).where(Team.challenge_id == challenge.id))
        return {team_id: per_org.get(org_id, 0) for team_id, org_id in teams}
    rows = session.execute(select(Enrolment.team_id, func.count(Enrolment.id))
                           .where(*active, Enrolment.team_id.is_not(None)).group_by(Enrolment.team_id)).all()
    return {team_id: n for team_id, n in rows if team_id is not None}


def list_teams(session: Session, challenge: Challenge) -> list[Team]:
    return list(session.scalars(select(Team).where(Team.challenge_id == challenge.id).order_by(Team.name)))


def create_team(session: Session, challenge: Challenge, user: User, *, name: str,
                organisation_id: int | None = None) -> Team:
    """Organisers may always create teams; participants only when ``participants_create_teams`` is on."""
    organiser = is_organiser(session, user, challenge.organisation_id)
    if challenge.format not in (ChallengeFormat.TEAM, ChallengeFormat.ORGANISATION):
        raise Conflict(f"A {challenge.format.value} challenge has no teams.", code="no-teams")
    if challenge.phase() == Phase.ENDED:
        raise Conflict("The challenge has ended.", code="challenge-ended")
    if not organiser:
        if not challenge.participants_create_teams or challenge.format != ChallengeFormat.TEAM:
            raise Forbidden("Only organisers create teams in this challenge.", code="teams-by-organisers")
        if organisation_id is not None:
            raise Forbidden("Only organisers link a team to an organisation.", code="teams-by-organisers")
    if challenge.format == ChallengeFormat.ORGANISATION and organisation_id is None:
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
