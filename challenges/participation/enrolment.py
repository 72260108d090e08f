"""Enrolment: who takes part in which challenge, and who their points count for; and what an invitation's
challenge and team mean (``ChallengeInvitations``, registered with service.invitations)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from challenges.access import is_organiser
from challenges.formats import format_of
from challenges.models import Challenge, ChallengeStatus, Enrolment, Phase, Team, Visibility
from challenges.participation.teams import ensure_room, team_by_code
from scoring.types import Subject
from service import invitations, membership
from service.clock import utcnow
from service.errors import Conflict, Forbidden, Invalid, NotFound, Unprocessable
from service.models import Invitation, Membership, MembershipPolicy, Organisation, User


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
    ).all()
    now = now or utcnow()
    return [(c, e) for c, e in rows if accepts_activity_at(c, at, now)]


def subject_for(challenge: Challenge, enrolment: Enrolment) -> Subject:
    """Who an entry counts for: team format adds the team (and its organisation, if any); organisation
    format adds the participant's organisation (their 'team'); individual and collective count the user only."""
    return format_of(challenge).subject(enrolment)


def find_enrolment(session: Session, challenge_id: int, user_id: int) -> Enrolment | None:
    return session.scalar(select(Enrolment).where(Enrolment.challenge_id == challenge_id,
                                                  Enrolment.user_id == user_id))


def _check_invite(session: Session, challenge: Challenge, user: User, invite_code: str | None,
                  existing: Enrolment | None) -> None:
    if challenge.visibility != Visibility.INVITE or existing is not None:
        return
    if is_organiser(session, user, challenge.organisation_id):
        return
    if not invite_code:
        raise Forbidden("This challenge is by invitation: give its invite_code.", code="invite-code-required")
    if invite_code.strip().upper() != challenge.invite_code:
        raise Forbidden("The invite code does not match this challenge.", code="invite-code-wrong")


def _admitting(session: Session, organisation_ids: set[int], user: User) -> list[Organisation]:
    if not organisation_ids:
        return []
    orgs = session.scalars(select(Organisation).where(Organisation.id.in_(organisation_ids)).order_by(Organisation.id))
    return [org for org in orgs if membership.admits(org, user) is not None]


def _options(session: Session, organisation_ids: set[int]) -> list[dict[str, Any]]:
    orgs = session.scalars(select(Organisation).where(Organisation.id.in_(organisation_ids)).order_by(Organisation.id))
    return [{"id": org.id, "name": org.name, "areas": org.areas or []} for org in orgs]


def resolve_organisation(session: Session, challenge: Challenge, user: User, wanted: int | None,
                         area: str | None = None) -> int:
    """In organisation format, the participant's team is their organisation: one they are a member of, among
    those taking part (the challenge's organisation teams; any of theirs while none are registered). A taking
    part one that admits them by itself (open, or their verified e-mail domain) they may pick and join here."""
    mine = set(session.scalars(select(Membership.organisation_id).where(Membership.user_id == user.id)))
    taking_part = {t for t in session.scalars(select(Team.organisation_id).where(
        Team.challenge_id == challenge.id, Team.organisation_id.is_not(None)))}
    candidates = mine & taking_part if taking_part else mine
    joinable = {org.id: org for org in _admitting(session, taking_part - mine, user)}
    if wanted is not None:
        if wanted in joinable:
            membership.join(session, joinable[wanted], user, area=area)
            return wanted
        if wanted not in candidates:
            org = session.get(Organisation, wanted) if wanted in taking_part else None
            if org is not None and org.membership_policy != MembershipPolicy.INVITATION:
                raise membership.refusal(org, user)
            raise Forbidden(f"You can only count for an organisation you belong to that takes part, or one that "
                            f"admits you; {wanted} is not one of them.", code="not-a-participating-member",
                            choices=sorted(candidates | set(joinable)))
        return wanted
    if len(candidates) == 1:
        return next(iter(candidates))
    choices = candidates | set(joinable)
    if not choices:
        raise Conflict("You are not a member of any organisation taking part in this challenge, and none of them "
                       "admits you by itself.", code="no-participating-organisation")
    raise Invalid("Choose the organisation you count for with organisation_id (joining it, when you are not a "
                  "member yet).", code="choose-organisation", choices=sorted(choices),
                  options=_options(session, choices))


def join(session: Session, challenge: Challenge, user: User, *, invite_code: str | None = None,
         team_code: str | None = None, organisation_id: int | None = None, area: str | None = None,
         now: datetime | None = None) -> Enrolment:
    """Enrol (or re-enrol, or switch team). Points already scored keep the team they were scored for."""
    now = now or utcnow()
    phase = challenge.phase(now)
    if phase == Phase.DRAFT:
        raise NotFound(f"No challenge {challenge.id}.", code="challenge-not-found")
    if phase == Phase.ENDED:
        raise Conflict("The challenge has ended; it takes no new participants.", code="challenge-ended")
    existing = find_enrolment(session, challenge.id, user.id)
    _check_invite(session, challenge, user, invite_code, existing)
    fmt = format_of(challenge)
    if team_code and not fmt.team_codes:
        raise Invalid(f"A {challenge.format.value} challenge has no team codes.", code="no-teams")
    if organisation_id is not None and not fmt.picks_organisation:
        raise Invalid("organisation_id only applies to organisation-format challenges.", code="no-organisations")
    team_id = existing.team_id if existing is not None else None
    org_id = existing.organisation_id if existing is not None else None
    if fmt.team_codes and team_code:
        team = team_by_code(session, challenge, team_code)
        if not (existing is not None and existing.active and existing.team_id == team.id):
            ensure_room(session, challenge, team)
        team_id, org_id = team.id, team.organisation_id
    elif fmt.team_codes and existing is not None and not existing.active and team_id:
        old_team = session.get(Team, team_id)
        if old_team is not None:
            ensure_room(session, challenge, old_team)  # coming back to a team that filled up meanwhile
    elif fmt.picks_organisation and (existing is None or organisation_id is not None
                                                              or org_id is None):
        org_id = resolve_organisation(session, challenge, user, organisation_id, area)
    if existing is None:
        enrolment = Enrolment(challenge_id=challenge.id, user_id=user.id, team_id=team_id,
                              organisation_id=org_id, joined_at=now)
        try:
            with session.begin_nested():
                session.add(enrolment)
        except IntegrityError:
            found = find_enrolment(session, challenge.id, user.id)
            if found is None:
                raise
            return found
        return enrolment
    if existing.left_at is not None:
        existing.left_at = None
        existing.joined_at = now
    existing.team_id, existing.organisation_id = team_id, org_id
    session.flush()
    return existing


def needs_team(enrolment: Enrolment) -> bool:
    """A participant of a challenge whose teams are joined by code, without one yet. Allowed on purpose: an HR
    manager may put people into their department afterwards (``teams.assign_member``)."""
    return format_of(enrolment.challenge).team_codes and enrolment.active and enrolment.team_id is None


def team_hint(enrolment: Enrolment) -> str | None:
    """What a participant without a team should know and do, or None when nothing is missing. Their activity
    counts for them alone until then, and points keep the team they were scored for: the sooner, the better."""
    if not needs_team(enrolment):
        return None
    challenge = enrolment.challenge
    base = f"/api/v1/challenges/{challenge.id}"
    join = f"join your team with its code (POST {base}/enrolment with team_code)"
    how = (f"{join} or create one (POST {base}/teams)" if challenge.participants_create_teams
           else f"ask the organisers or a teammate for your team's code and {join}, or wait for the organisers to "
                "put you in one")
    return (f"You are in, with no team yet: your activity counts for you but for no team, and what you score "
            f"before joining one stays off the team boards. To get a team, {how}.")


def leave(session: Session, challenge: Challenge, user: User, now: datetime | None = None) -> Enrolment:
    """Stop taking part. Past ledger entries carry their team, so the team keeps the points."""
    enrolment = find_enrolment(session, challenge.id, user.id)
    if enrolment is None or enrolment.left_at is not None:
        raise NotFound("You are not enrolled in this challenge.", code="not-enrolled")
    enrolment.left_at = now or utcnow()
    session.flush()
    return enrolment


class ChallengeInvitations:
    """An invitation's challenge: the organisation's own, or one it takes part in; its team, one of that
    challenge's. Accepting enrols as joining with the challenge's invite code and the team's code would."""

    def check(self, session: Session, organisation_id: int, challenge_id: int, team_id: int | None) -> None:
        challenge = session.get(Challenge, challenge_id)
        if challenge is None:
            raise Unprocessable(f"No challenge {challenge_id}.", code="invitation-challenge-unknown")
        takes_part = challenge.organisation_id == organisation_id or session.scalar(
            select(Team.id).where(Team.challenge_id == challenge.id, Team.organisation_id == organisation_id)
            .limit(1)) is not None
        if not takes_part:
            raise Unprocessable("The challenge is neither this organisation's nor one it takes part in.",
                                code="challenge-not-of-organisation")
        if team_id is not None:
            team = session.get(Team, team_id)
            if team is None or team.challenge_id != challenge.id:
                raise Unprocessable(f"Team {team_id} is not a team of challenge {challenge_id}.",
                                    code="team-not-in-challenge")
            if not format_of(challenge).team_codes:
                raise Unprocessable(f"A {challenge.format.value} challenge has no teams to join.", code="no-teams")

    def describe(self, session: Session, invitation: Invitation) -> dict[str, Any]:
        challenge = session.get(Challenge, invitation.challenge_id)
        team = session.get(Team, invitation.team_id) if invitation.team_id is not None else None
        if challenge is None:
            return {"challenge": None, "team": None}
        return {"challenge": {"id": challenge.id, "title": challenge.title, "starts_at": challenge.starts_at,
                              "ends_at": challenge.ends_at, "timezone": challenge.timezone,
                              "phase": challenge.phase().value},
                "team": {"id": team.id, "name": team.name} if team is not None else None}

    def enter(self, session: Session, invitation: Invitation, user: User) -> dict[str, Any]:
        challenge = session.get(Challenge, invitation.challenge_id)
        if challenge is None:
            return {"challenge_id": None, "team_id": None}
        team = session.get(Team, invitation.team_id) if invitation.team_id is not None else None
        picks = format_of(challenge).picks_organisation
        enrolment = join(session, challenge, user, invite_code=challenge.invite_code,
                         team_code=team.code if team is not None else None,
                         organisation_id=invitation.organisation_id if picks else None)
        return {"challenge_id": challenge.id, "team_id": enrolment.team_id}

    def entered(self, session: Session, invitation: Invitation, user: User) -> bool:
        found = find_enrolment(session, invitation.challenge_id, user.id) if invitation.challenge_id else None
        return found is not None and found.active and invitation.team_id in (None, found.team_id)


invitations.register_scope(ChallengeInvitations())
