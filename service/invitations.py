"""Invitations to an organisation by code or link (``{PUBLIC_BASE_URL}/join/{code}``).

An organiser shares a code with a role, an optional email it is reserved for, an optional number of
uses and an expiry, and optionally a challenge (of the organisation, or one it takes part in) and a team of
that challenge. Accepting joins the caller, and enrols them there; the use is counted with a guarded UPDATE so
two people racing for the last use cannot both get in. Challenges live in a domain package this one may not
import: it registers an ``InvitationScope`` (challenges.participation.enrolment) that checks, describes and
enters them.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from service.accounts import ROLE_RANK, normalise_email
from service.clock import utcnow
from service.errors import Forbidden, Gone, NotFound, Unprocessable
from service.models import Invitation, JoinedVia, Membership, Organisation, Role, User

DEFAULT_LIFETIME = timedelta(days=14)


class InvitationScope(Protocol):
    """What an invitation's challenge and team mean, told by the package that owns challenges."""

    def check(self, session: Session, organisation_id: int, challenge_id: int, team_id: int | None) -> None:
        """Raise a 4xx unless the team belongs to the challenge and the challenge to the organisation."""

    def describe(self, session: Session, invitation: Invitation) -> dict[str, Any]:
        """``challenge`` and ``team`` of the public preview: names and dates, nothing about people."""

    def enter(self, session: Session, invitation: Invitation, user: User) -> dict[str, Any]:
        """Enrol ``user`` (into the team); the ids of where they landed, ``challenge_id`` and ``team_id``."""

    def entered(self, session: Session, invitation: Invitation, user: User) -> bool:
        """Whether ``user`` takes part where the invitation leads (in its team, when it names one)."""


_scopes: list[InvitationScope] = []


def register_scope(scope: InvitationScope) -> None:
    _scopes[:] = [scope]


def _scope() -> InvitationScope:
    if not _scopes:
        raise Unprocessable("Invitations to a challenge are not available here.", code="no-challenges")
    return _scopes[0]


def link_for(public_base_url: str, code: str) -> str:
    return f"{public_base_url.rstrip('/')}/join/{code}"


def create_invitation(session: Session, *, organisation: Organisation, created_by: User, inviter_role: Role,
                      role: Role = Role.MEMBER, email: str | None = None, max_uses: int | None = None,
                      expires_at: datetime | None = None, expires_in: timedelta | None = None,
                      challenge_id: int | None = None, team_id: int | None = None) -> Invitation:
    """Only an admin may hand out the admin role; organisers invite members and organisers."""
    if ROLE_RANK[role] > ROLE_RANK[inviter_role]:
        raise Forbidden(f"A {inviter_role.value} cannot invite someone as {role.value}.", code="role-too-high")
    if team_id is not None and challenge_id is None:
        raise Unprocessable("A team_id needs the challenge_id of its challenge.", code="team-needs-challenge")
    if challenge_id is not None:
        _scope().check(session, organisation.id, challenge_id, team_id)
    now = utcnow()
    invitation = Invitation(organisation_id=organisation.id, code=secrets.token_urlsafe(12), role=role,
                            email=normalise_email(email) if email else None, max_uses=max_uses,
                            expires_at=expires_at or now + (expires_in or DEFAULT_LIFETIME),
                            challenge_id=challenge_id, team_id=team_id, created_by_id=created_by.id)
    session.add(invitation)
    session.flush()
    return invitation


def find_by_code(session: Session, code: str) -> Invitation:
    invitation = session.scalar(select(Invitation).where(Invitation.code == code))
    if invitation is None:
        raise NotFound("No invitation has this code; check the link.", code="invitation-not-found")
    return invitation


def unusable(invitation: Invitation) -> Gone | None:
    """Why nobody can use the invitation any more, or None while it is valid."""
    if invitation.revoked_at is not None:
        return Gone("This invitation was withdrawn by the organiser.", code="invitation-revoked")
    if invitation.expires_at is not None and invitation.expires_at <= utcnow():
        return Gone("This invitation has expired; ask the organiser for a new one.", code="invitation-expired")
    if invitation.max_uses is not None and invitation.uses >= invitation.max_uses:
        return Gone("This invitation has been used up.", code="invitation-used-up")
    return None


def check_usable(invitation: Invitation, user: User | None = None) -> None:
    """Raise a clear 4xx when the invitation cannot be used (now, or by this user)."""
    if (gone := unusable(invitation)) is not None:
        raise gone
    if user is not None and invitation.email and invitation.email != user.email:
        raise Forbidden("This invitation is for another email address.", code="invitation-other-email")


def preview(session: Session, code: str) -> dict[str, Any]:
    """What the invitation leads to, for anyone holding the code: names and dates, never who it is for.

    ``will`` lists what accepting does, in order: ``join_organisation``, ``enrol`` and ``join_team``."""
    invitation = find_by_code(session, code)
    org = session.get(Organisation, invitation.organisation_id)
    gone = unusable(invitation)
    found: dict[str, Any] = {"challenge": None, "team": None}
    if invitation.challenge_id is not None:
        found.update(_scope().describe(session, invitation))
    will = ["join_organisation"] + (["enrol"] if found["challenge"] else []) + (["join_team"] if found["team"] else [])
    return {"code": invitation.code, "valid": gone is None, "status": gone.code if gone else "valid",
            "organisation": {"id": invitation.organisation_id, "name": org.name if org else "",
                             "kind": org.kind if org else None},
            "organisation_id": invitation.organisation_id, "organisation_name": org.name if org else "",
            "role": invitation.role, "expires_at": invitation.expires_at,
            "reserved": invitation.email is not None, "will": will, **found}


def accept(session: Session, code: str, user: User) -> tuple[Membership, dict[str, Any]]:
    """Join the caller (and enrol them where the invitation says); an existing member keeps the higher of their
    role and the invited one. Accepting again changes nothing and counts no further use, also once the
    invitation is used up or expired: the person is where it leads already."""
    invitation = find_by_code(session, code)
    membership = session.scalar(select(Membership).where(Membership.user_id == user.id,
                                                         Membership.organisation_id == invitation.organisation_id))
    settled = (membership is not None and ROLE_RANK[membership.role] >= ROLE_RANK[invitation.role]
               and (invitation.challenge_id is None or _scope().entered(session, invitation, user)))
    if not settled:
        check_usable(invitation, user)
    if membership is None or ROLE_RANK[membership.role] < ROLE_RANK[invitation.role]:
        membership = _claim(session, invitation, user, membership)
    entered: dict[str, Any] = {"challenge_id": None, "team_id": None}
    if invitation.challenge_id is not None:
        entered = _scope().enter(session, invitation, user)
    return membership, entered


def _claim(session: Session, invitation: Invitation, user: User, membership: Membership | None) -> Membership:
    claimed = session.execute(update(Invitation).where(
        Invitation.id == invitation.id, Invitation.revoked_at.is_(None),
        or_(Invitation.max_uses.is_(None), Invitation.uses < Invitation.max_uses),
    ).values(uses=Invitation.uses + 1))
    if not getattr(claimed, "rowcount", 0):
        raise Gone("This invitation has been used up.", code="invitation-used-up")
    if membership is None:
        membership = Membership(user_id=user.id, organisation_id=invitation.organisation_id, role=invitation.role,
                                joined_via=JoinedVia.INVITATION)
        session.add(membership)
    else:
        membership.role = invitation.role
    session.flush()
    session.refresh(invitation)
    return membership


def revoke(session: Session, invitation: Invitation) -> Invitation:
    if invitation.revoked_at is None:
        invitation.revoked_at = utcnow()
        session.flush()
    return invitation


def list_for(session: Session, organisation_id: int, *, limit: int = 50,
             before_id: int | None = None) -> list[Invitation]:
    """Newest first; ``before_id`` continues a page."""
    query = select(Invitation).where(Invitation.organisation_id == organisation_id)
    if before_id is not None:
        query = query.where(Invitation.id < before_id)
    return list(session.scalars(query.order_by(Invitation.id.desc()).limit(limit)))
