"""Personal-data export (GDPR art. 15 right of access, art. 20 portability): one JSON document per person.

The platform writes the profile and its own sections (memberships, sign-ins, security events, invitations,
retry records); every domain package adds its sections through ``export_requested``, the same way it reacts
to ``service.accounts.user_deleted``, so this module never imports the domain packages.

A receiver gets ``(session, user_id=...)`` and returns ``{section name: rows}``; rows are plain values
(datetimes and dates are fine: ``to_json`` writes them as ISO 8601, times with their UTC offset). Rules for
a receiver: only this person's data (a team name or a challenge title is fine, another participant is
not), no secrets (password hashes, tokens, QR secrets, invitation codes), and a fixed number of queries per
section, never one per row, so a person with 10,000 activities costs what a person with ten does.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from enum import Enum
from typing import Any

from blinker import Namespace
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import consent
from service.clock import utcnow
from service.models import AuditNote, IdempotencyRecord, Invitation, Membership, Organisation, RefreshToken, User

FORMAT = "vcc-export/1"

export_requested = Namespace().signal("export-requested")
"""Sent with ``(session, user_id=...)``; each receiver returns a dict of its sections (see the module doc)."""


def build_export(session: Session, user: User, now: datetime | None = None) -> dict[str, Any]:
    """Everything the service holds about ``user``, as one document (``format`` names its version)."""
    sections = platform_sections(session, user)
    for receiver, contributed in export_requested.send(session, user_id=user.id):
        for name, rows in (contributed or {}).items():
            if name in sections:  # two packages claiming one name would silently lose data
                raise RuntimeError(f"export section {name!r} of {receiver!r} is already taken")
            sections[name] = rows
    return {"format": FORMAT, "generated_at": now or utcnow(), "user": profile(user),
            "sections": dict(sorted(sections.items()))}


def profile(user: User) -> dict[str, Any]:
    """The account itself; the password hash is never exported, only whether there is a password."""
    return {"id": user.id, "email": user.email, "display_name": user.display_name, "timezone": user.timezone,
            "locale": user.locale, "weight_kg": user.weight_kg, "hide_from_leaderboards": user.hide_from_leaderboards,
            "alias": user.alias, "show_full_name": user.show_full_name, "email_verified_at": user.email_verified_at,
            "has_password": bool(user.password_hash), "firebase_uid": user.firebase_uid,
            "is_superuser": user.is_superuser, "created_at": user.created_at,
            "health_data_consent_at": user.health_data_consent_at,
            "health_data_consent_version": user.health_data_consent_version}


def platform_sections(session: Session, user: User) -> dict[str, Any]:
    return {"memberships": memberships(session, user.id), "sign_ins": sign_ins(session, user.id),
            "security_events": security_events(session, user.id),
            "invitations_created": invitations_created(session, user.id),
            "invitations_received": invitations_received(session, user.email),
            "retry_records": retry_records(session, user.id), "consents": consent.records(session, user.id)}


def memberships(session: Session, user_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Membership.organisation_id, Organisation.name, Organisation.kind, Membership.role, Membership.created_at,
               Membership.joined_via, Membership.area)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .where(Membership.user_id == user_id).order_by(Membership.id))
    return [{"organisation_id": r.organisation_id, "organisation_name": r.name, "organisation_kind": r.kind,
             "role": r.role, "since": r.created_at, "joined_via": r.joined_via, "area": r.area} for r in rows]


def sign_ins(session: Session, user_id: int) -> list[dict[str, Any]]:
    """One line per refresh token issued (a sign-in or a rotation): its times only, never the token or its
    hash, nor the family id that links the rotations."""
    rows = session.execute(select(RefreshToken.issued_at, RefreshToken.expires_at, RefreshToken.used_at,
                                  RefreshToken.revoked_at)
                           .where(RefreshToken.user_id == user_id).order_by(RefreshToken.id))
    return [{"issued_at": r.issued_at, "expires_at": r.expires_at, "used_at": r.used_at, "revoked_at": r.revoked_at}
            for r in rows]


def security_events(session: Session, user_id: int) -> list[dict[str, Any]]:
    """Refused sign-ins and revoked token families recorded against the account (no family ids)."""
    rows = session.execute(select(AuditNote.event, AuditNote.created_at)
                           .where(AuditNote.user_id == user_id).order_by(AuditNote.id))
    return [{"event": r.event, "at": r.created_at} for r in rows]


def invitations_created(session: Session, user_id: int) -> list[dict[str, Any]]:
    """Invitations this person made: no code (it still admits people) and no invitee address (someone else's)."""
    rows = session.execute(
        select(Invitation.organisation_id, Organisation.name, Invitation.role, Invitation.email.is_not(None)
               .label("reserved"), Invitation.max_uses, Invitation.uses, Invitation.expires_at,
               Invitation.revoked_at, Invitation.created_at)
        .join(Organisation, Organisation.id == Invitation.organisation_id)
        .where(Invitation.created_by_id == user_id).order_by(Invitation.id))
    return [{"organisation_id": r.organisation_id, "organisation_name": r.name, "role": r.role,
             "reserved_for_an_email": bool(r.reserved), "max_uses": r.max_uses, "uses": r.uses,
             "expires_at": r.expires_at, "revoked_at": r.revoked_at, "created_at": r.created_at} for r in rows]


def invitations_received(session: Session, email: str) -> list[dict[str, Any]]:
    """Invitations reserved for this person's address (without the code, and without who sent them)."""
    rows = session.execute(
        select(Invitation.organisation_id, Organisation.name, Invitation.role, Invitation.uses,
               Invitation.expires_at, Invitation.revoked_at, Invitation.created_at)
        .join(Organisation, Organisation.id == Invitation.organisation_id)
        .where(Invitation.email == email).order_by(Invitation.id))
    return [{"organisation_id": r.organisation_id, "organisation_name": r.name, "role": r.role, "uses": r.uses,
             "expires_at": r.expires_at, "revoked_at": r.revoked_at, "created_at": r.created_at} for r in rows]


def retry_records(session: Session, user_id: int) -> list[dict[str, Any]]:
    """Stored first answers of retried writes (``Idempotency-Key``); the answer itself repeats data that the
    other sections hold, so only the key, the endpoint and the status are listed."""
    rows = session.execute(select(IdempotencyRecord.key, IdempotencyRecord.endpoint, IdempotencyRecord.status_code,
                                  IdempotencyRecord.created_at)
                           .where(IdempotencyRecord.user_id == user_id).order_by(IdempotencyRecord.id))
    return [{"idempotency_key": r.key, "endpoint": r.endpoint, "status": r.status_code, "created_at": r.created_at}
            for r in rows]


def last_chars(secret: str | None, keep: int = 6) -> str | None:
    """Enough of a token to tell devices apart, too little to use it; nothing of a token so short that
    ``keep`` characters would be half of it."""
    if not secret or len(secret) <= 2 * keep:
        return None
    return secret[-keep:]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):  # datetimes from UTCDateTime columns are aware: "+00:00"
        return value.isoformat()
    if isinstance(value, Enum):  # StrEnums never get here (json writes them as the strings they are)
        return value.value
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def to_json(document: dict[str, Any]) -> str:
    """The document as JSON text: one C-speed pass; enums are ``str`` subclasses and write their values."""
    return json.dumps(document, default=_plain, ensure_ascii=False, separators=(",", ":"))
