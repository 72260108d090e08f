"""Who may see and manage a challenge. Roles are checked per organisation, never globally."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from challenges.models import Challenge, Enrolment, Phase, Visibility
from service.auth import require_org_role, role_in
from service.errors import NotFound
from service.models import Role, User

ORGANISER_ROLES = (Role.ADMIN, Role.ORGANISER)


def get_challenge(session: Session, challenge_id: int) -> Challenge:
    challenge = session.get(Challenge, challenge_id)
    if challenge is None:
        raise NotFound(f"No challenge {challenge_id}.", code="challenge-not-found")
    return challenge


def is_organiser(session: Session, user: User | None, organisation_id: int) -> bool:
    if user is None:
        return False
    return user.is_superuser or role_in(session, user, organisation_id) in ORGANISER_ROLES


def shown_to(session: Session, challenge: Challenge, viewer: User | None) -> Challenge:
    """Mark whether this viewer may see the invite code (organisers of the challenge's organisation only)."""
    challenge.show_invite_code = is_organiser(session, viewer, challenge.organisation_id)  # type: ignore[attr-defined]
    return challenge


def require_organiser(user: User, challenge: Challenge) -> None:
    """403 unless admin/organiser of the challenge's own organisation (drafts answer 404 to outsiders)."""
    require_org_role(user, challenge.organisation_id, ORGANISER_ROLES)


def managed_challenge(session: Session, challenge_id: int, user: User) -> Challenge:
    """The challenge, for an admin/organiser of its own organisation (404 if absent, else 403)."""
    challenge = get_challenge(session, challenge_id)
    require_organiser(user, challenge)
    return challenge


def is_enrolled(session: Session, user: User | None, challenge: Challenge, *, active_only: bool = False) -> bool:
    if user is None:
        return False
    query = select(Enrolment.id).where(Enrolment.challenge_id == challenge.id, Enrolment.user_id == user.id)
    if active_only:
        query = query.where(Enrolment.left_at.is_(None))
    return session.scalar(query) is not None


def visible_challenge(session: Session, challenge_id: int, user: User | None,
                      invite_code: str | None = None) -> Challenge:
    """The challenge if this viewer may see it; otherwise a 404 so private challenges cannot be probed.

    Drafts: organisers only. Invite-only: organisers, (former) participants, or anyone holding the code.
    """
    challenge = get_challenge(session, challenge_id)
    if is_organiser(session, user, challenge.organisation_id):
        return challenge
    if challenge.phase() == Phase.DRAFT:
        raise NotFound(f"No challenge {challenge_id}.", code="challenge-not-found")
    if challenge.visibility == Visibility.INVITE and not (
            (invite_code and invite_code.strip().upper() == challenge.invite_code)
            or is_enrolled(session, user, challenge)):
        raise NotFound(f"No challenge {challenge_id}.", code="challenge-not-found")
    return challenge
