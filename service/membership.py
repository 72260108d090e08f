"""How people become members of an organisation, by the policy its admins chose.

``invitation``: only through an invitation (service.invitations). ``open``: anyone joins by declaring it (a
city's residents), picking one of the organisation's areas when it lists some. ``email_domain``: a person whose
*verified* address lies in one of the organisation's domains (or a subdomain of one) joins by themselves; an
unverified address proves nothing, since anyone can type one.

A membership made by domain lasts while it admits the person: when their address changes or stops being
verified (a session flush that changes ``users.email`` or ``users.email_verified_at``), or when an admin takes
the domain off the list, it ends. One an admin since promoted (organiser or admin) stays: a person chose it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.errors import Forbidden, Unprocessable
from service.models import JoinedVia, Membership, MembershipPolicy, Organisation, Role, User

MAX_DOMAINS = 20
MAX_AREAS = 500


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].strip().lower()


def _in_domains(address: str, domains: list[str] | None) -> bool:
    domain = domain_of(address)
    return any(domain == d or domain.endswith("." + d) for d in domains or ())


def domain_admits(organisation: Organisation, user: User) -> bool:
    return user.email_verified_at is not None and _in_domains(user.email, organisation.email_domains)


def admits(organisation: Organisation, user: User) -> JoinedVia | None:
    """How ``user`` may join by themselves, or None when only an invitation lets them in."""
    if organisation.membership_policy == MembershipPolicy.OPEN:
        return JoinedVia.OPEN
    if organisation.membership_policy == MembershipPolicy.EMAIL_DOMAIN and domain_admits(organisation, user):
        return JoinedVia.EMAIL_DOMAIN
    return None


def refusal(organisation: Organisation, user: User) -> Forbidden:
    """Why ``user`` cannot join ``organisation`` by themselves, in words they can act on."""
    if organisation.membership_policy == MembershipPolicy.EMAIL_DOMAIN:
        if _in_domains(user.email, organisation.email_domains):
            return Forbidden("Verify your e-mail address first (use the link we mailed you); an unverified address "
                             "does not make you a member.", code="email-not-verified")
        return Forbidden(f"{organisation.name} admits people with an address at "
                         f"{', '.join(organisation.email_domains or [])} only.", code="email-domain-not-admitted",
                         email_domains=list(organisation.email_domains or []))
    return Forbidden(f"{organisation.name} admits members by invitation only; ask its organisers for a link.",
                     code="invitation-required")


def pick_area(organisation: Organisation, area: str | None) -> str | None:
    """The organisation's own spelling of ``area``; required when it lists areas, refused when it lists none."""
    choices = organisation.areas or []
    if not choices:
        if area:
            raise Unprocessable(f"{organisation.name} lists no areas to pick from.", code="no-areas")
        return None
    if not area:
        raise Unprocessable(f"Pick your area of {organisation.name}.", code="choose-area", choices=choices)
    wanted = area.strip().casefold()
    for choice in choices:
        if choice.casefold() == wanted:
            return choice
    raise Unprocessable(f"{area!r} is not an area of {organisation.name}.", code="area-unknown", choices=choices)


def find(session: Session, organisation_id: int, user_id: int) -> Membership | None:
    return session.scalar(select(Membership).where(Membership.organisation_id == organisation_id,
                                                   Membership.user_id == user_id))


def join(session: Session, organisation: Organisation, user: User, *, area: str | None = None) -> Membership:
    """Make ``user`` a member by the organisation's policy; a member already just updates their area."""
    existing = find(session, organisation.id, user.id)
    if existing is not None:
        if area is not None:
            existing.area = pick_area(organisation, area)
            session.flush()
        return existing
    via = admits(organisation, user)
    if via is None:
        raise refusal(organisation, user)
    membership = Membership(user_id=user.id, organisation_id=organisation.id, role=Role.MEMBER, joined_via=via,
                            area=pick_area(organisation, area))
    try:
        with session.begin_nested():
            session.add(membership)
    except IntegrityError:  # the same person joined twice at once; the other request made the row
        found = find(session, organisation.id, user.id)
        if found is None:
            raise
        return found
    return membership


def _lapsed(session: Session, *where: Any) -> list[Membership]:
    rows = session.execute(
        select(Membership, Organisation, User).join(Organisation, Organisation.id == Membership.organisation_id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.joined_via == JoinedVia.EMAIL_DOMAIN, Membership.role == Role.MEMBER, *where)).all()
    return [m for m, org, user in rows if not domain_admits(org, user)]


def end_lapsed(session: Session, *, user_id: int | None = None, organisation_id: int | None = None) -> int:
    """End the domain memberships of one person or one organisation that their address no longer admits."""
    where = [Membership.user_id == user_id] if user_id is not None else []
    if organisation_id is not None:
        where.append(Membership.organisation_id == organisation_id)
    with session.no_autoflush:
        ended = _lapsed(session, *where)
        for membership in ended:
            session.delete(membership)
    return len(ended)


def clean_domains(values: list[str]) -> list[str]:
    """Lower-case, without a leading ``@``, each once, in the order given."""
    seen: dict[str, None] = {}
    for value in values:
        seen.setdefault(value.strip().lstrip("@").lower(), None)
    return [v for v in seen if v]


def clean_areas(values: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for value in values:
        if value.strip():
            seen.setdefault(value.strip().casefold(), value.strip())
    return list(seen.values())


@event.listens_for(Session, "before_flush")
def _address_changed(session: Session, _context: Any, _instances: Any) -> None:
    """Wherever an address is changed or loses its verification, its domain memberships end in that flush."""
    for obj in list(session.dirty):
        if isinstance(obj, User) and obj.id is not None:
            state = inspect(obj)
            if state.attrs.email.history.has_changes() or state.attrs.email_verified_at.history.has_changes():
                end_lapsed(session, user_id=obj.id)
