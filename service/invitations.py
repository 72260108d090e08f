"""Invitations to an organisation by code or link (``{PUBLIC_BASE_URL}/join/{code}``).

An organiser shares a code with a role, an optional email it is reserved for, an optional number of
uses and an expiry. Accepting joins the caller; the use is counted with a guarded UPDATE so two people
racing for the last use cannot both get in.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from service.accounts import ROLE_RANK, normalise_email
from service.clock import utcnow
from service.errors import Forbidden, Gone, NotFound
from service.models import Invitation, Membership, Organisation, Role, User

DEFAULT_LIFETIME = timedelta(days=14)


def link_for(public_base_url: str, code: str) -> str:
    return f"{public_base_url.rstrip('/')}/join/{code}"


def create_invitation(session: Session, *, organisation: Organisation, created_by: User, inviter_role: Role,
                      role: Role = Role.MEMBER, email: str | None = None, max_uses: int | None = None,
                      expires_at: datetime | None = None, expires_in: timedelta | None = None) -> Invitation:
    """Only an admin may hand out the admin role; organisers invite members and organisers."""
    if ROLE_RANK[role] > ROLE_RANK[inviter_role]:
        raise Forbidden(f"A {inviter_role.value} cannot invite someone as {role.value}.", code="role-too-high")
    now = utcnow()
    invitation = Invitation(organisation_id=organisation.id, code=secrets.token_urlsafe(12), role=role,
                            email=normalise_email(email) if email else None, max_uses=max_uses,
                            expires_at=expires_at or now + (expires_in or DEFAULT_LIFETIME),
                            created_by_id=created_by.id)
    session.add(invitation)
    session.flush()
    return invitation


def find_by_code(session: Session, code: str) -> Invitation:
    invitation = session.scalar(select(Invitation).where(Invitation.code == code))
    if invitation is None:
        raise NotFound("No invitation has this code; check the link.", code="invitation-not-found")
    return invitation


def check_usable(invitation: Invitation, user: User | None = None) -> None:
    """Raise a clear 4xx when the invitation cannot be used (now, or by this user)."""
    if invitation.revoked_at is not None:
        raise Gone("This invitation was withdrawn by the organiser.", code="invitation-revoked")
    if invitation.expires_at is not None and invitation.expires_at <= utcnow():
        raise Gone("This invitation has expired; ask the organiser for a new one.", code="invitation-expired")
    if invitation.max_uses is not None and invitation.uses >= invitation.max_uses:
        raise Gone("This invitation has been used up.", code="invitation-used-up")
    if user is not None and invitation.email and invitation.email != user.email:
        raise Forbidden("This invitation is for another email address.", code="invitation-other-email")


def accept(session: Session, code: str, user: User) -> Membership:
    """Join the caller; an existing member keeps the higher of their role and the invited one."""
    invitation = find_by_code(session, code)
    check_usable(invitation, user)
    membership = session.scalar(select(Membership).where(Membership.user_id == user.id,
                                                         Membership.organisation_id == invitation.organisation_id))
    if membership is not None and ROLE_RANK[membership.role] >= ROLE_RANK[invitation.role]:
        return membership
    claimed = session.execute(update(Invitation).where(
        Invitation.id == invitation.id, Invitation.revoked_at.is_(None),
        or_(Invitation.max_uses.is_(None), Invitation.uses < Invitation.max_uses),
    ).values(uses=Invitation.uses + 1))
    if not getattr(claimed, "rowcount", 0):
        raise Gone("This invitation has been used up.", code="invitation-used-up")
    if membership is None:
        membership = Membership(user_id=user.id, organisation_id=invitation.organisation_id, role=invitation.role)
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
