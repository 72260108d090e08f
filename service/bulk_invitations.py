"""Invitations by e-mail, one address or a pasted list or CSV of them.

Each address gets an invitation reserved for it (one use) and one invitation mail through the outbox, so a
slow mail server holds no request and a mail goes out only if the invitations were committed. Sending the
same list again is safe: an address that still holds a usable invitation to the same place, or is a member
already, gets nothing new. The answer reports every row of the upload (invited, already invited, already a
member, duplicate, invalid), in the order given.
"""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from typing import Any

from babel.languages import get_official_languages
from marshmallow import ValidationError, validate
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from service.accounts import find_user_by_email
from service.errors import Unprocessable
from service.i18n import SOURCE_LANGUAGE, match
from service.invitations import create_invitation, link_for, preview, unusable
from service.mail import outbox, texts
from service.mail.models import MailKind
from service.models import Invitation, Membership, Organisation, Role, User
from service.users import normalise_email

MAX_ADDRESSES = 1000
HEADERS = {"email", "e-mail", "mail", "address", "email address", "e-mail address"}
_is_email = validate.Email()


def mail_language(session: Session, invitation: Invitation, inviter: User) -> tuple[str, str]:
    """The language and time zone of an invitation mail: the invitee's own when the address has an account;
    else the inviter's language (they know whom they invite), else the organisation's country's first official
    language, unless the inviter speaks one of that country's languages we have no catalogue of; else English.
    Dates are in the organisation's time zone then."""
    org = session.get(Organisation, invitation.organisation_id)
    tz = org.timezone if org else "UTC"
    invitee = find_user_by_email(session, invitation.email) if invitation.email else None
    if invitee is not None and invitee.deleted_at is None:
        return match(invitee.locale) or SOURCE_LANGUAGE, invitee.timezone or tz
    if chosen := match(inviter.locale):
        return chosen, tz
    spoken = get_official_languages(org.country.upper(), de_facto=True) if org and org.country else ()
    inviter_speaks_one = (inviter.locale or "").replace("_", "-").split("-")[0].lower() in spoken
    return (match(spoken[0]) if spoken and not inviter_speaks_one else None) or SOURCE_LANGUAGE, tz


def mail_invitation(session: Session, invitation: Invitation, inviter: User, base_url: str, now: datetime) -> None:
    """Queue the invitation's mail once (a second call for the same invitation queues nothing)."""
    if invitation.email is None:
        return
    found = preview(session, invitation.code)
    language, tz = mail_language(session, invitation, inviter)
    params = {"inviter": inviter.display_name, "organisation": found["organisation"]["name"],
              "challenge": found["challenge"]["title"] if found["challenge"] else None,
              "team": found["team"]["name"] if found["team"] else None,
              "link": link_for(base_url, invitation.code),
              "expires": invitation.expires_at}
    outbox.enqueue(session, recipient=invitation.email, kind=MailKind.INVITATION, now=now, locale=language,
                   text=texts.render(MailKind.INVITATION, language, params, tz),
                   dedupe_key=f"invitation:{invitation.id}")


def parse_addresses(text: str) -> list[tuple[int, str, str | None]]:
    """``(line, address, problem)`` for every address-like cell; a header line and empty lines are skipped,
    a line with no address at all is reported as a problem."""
    rows: list[tuple[int, str, str | None]] = []
    for number, cells in enumerate(csv.reader(text.splitlines()), start=1):
        cells = [c.strip() for c in cells if c.strip()]
        if not cells or (number == 1 and cells[0].lower() in HEADERS):
            continue
        addresses = [c for c in cells if "@" in c]
        if not addresses:
            rows.append((number, cells[0][:254], "no e-mail address on this line"))
        for cell in addresses:
            try:
                _is_email(cell)
            except ValidationError:
                rows.append((number, cell[:254], "not an e-mail address"))
            else:
                rows.append((number, normalise_email(cell), None if len(cell) <= 254 else "too long"))
    if len(rows) > MAX_ADDRESSES:
        raise Unprocessable(f"At most {MAX_ADDRESSES} addresses at once; send the rest separately.",
                            code="too-many-addresses")
    return rows


def _open_invitation(session: Session, organisation_id: int, email: str, challenge_id: int | None,
                     team_id: int | None) -> Invitation | None:
    candidates = session.scalars(select(Invitation).where(
        Invitation.organisation_id == organisation_id, Invitation.email == email, Invitation.revoked_at.is_(None),
        Invitation.challenge_id.is_(None) if challenge_id is None else Invitation.challenge_id == challenge_id,
        Invitation.team_id.is_(None) if team_id is None else Invitation.team_id == team_id,
        or_(Invitation.max_uses.is_(None), Invitation.uses < Invitation.max_uses)).order_by(Invitation.id.desc()))
    return next((c for c in candidates if unusable(c) is None), None)


def _is_member(session: Session, organisation_id: int, email: str) -> bool:
    return session.scalar(select(Membership.id).join(User, User.id == Membership.user_id).where(
        Membership.organisation_id == organisation_id, User.email == email)) is not None


def invite_many(session: Session, *, organisation: Organisation, created_by: User, inviter_role: Role, text: str,
                base_url: str, now: datetime, role: Role = Role.MEMBER, challenge_id: int | None = None,
                team_id: int | None = None, expires_in: timedelta | None = None) -> list[dict[str, Any]]:
    """One report row per address; the caller commits (and audits the counts)."""
    report: list[dict[str, Any]] = []
    seen: set[str] = set()
    for line, address, problem in parse_addresses(text):
        row: dict[str, Any] = {"line": line, "email": address, "invitation_id": None}
        if problem is not None:
            report.append({**row, "status": "invalid", "detail": problem})
            continue
        if address in seen:
            report.append({**row, "status": "duplicate", "detail": "listed before"})
            continue
        seen.add(address)
        if challenge_id is None and _is_member(session, organisation.id, address):
            report.append({**row, "status": "already-member", "detail": None})
            continue
        existing = _open_invitation(session, organisation.id, address, challenge_id, team_id)
        if existing is not None:
            report.append({**row, "status": "already-invited", "detail": None, "invitation_id": existing.id})
            continue
        invitation = create_invitation(session, organisation=organisation, created_by=created_by,
                                       inviter_role=inviter_role, role=role, email=address, max_uses=1,
                                       expires_in=expires_in, challenge_id=challenge_id, team_id=team_id)
        mail_invitation(session, invitation, created_by, base_url, now)
        report.append({**row, "status": "invited", "detail": None, "invitation_id": invitation.id})
    return report
