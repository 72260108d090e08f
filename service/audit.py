"""The audit trail of organiser and admin actions: who did what, when, on what (GDPR art. 5(2), 30).

Call sites (the views of the action, after the use case succeeded) record in the same transaction, so a
rolled-back action leaves no trail and a committed one always does. ``detail`` says what changed (field names,
a role, a count, a challenge id), never a person's figures, a free-text note or an invitee's address.
Organisations' admins read their own trail (``trail``, ``GET /api/v1/organisations/{id}/audit``); events older
than ``AUDIT_RETENTION_DAYS`` are purged by a scheduler job.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import AuditEvent, User
from service.pagination import keyset_rows

AUDIT_RETENTION_DAYS = 365

ACTIONS: dict[str, str] = {
    "organisation.updated": "fields: the names of the fields that changed (how people become members aside)",
    "organisation.membership_policy_changed": "old_policy, new_policy, email_domains (the organisation's "
                                              "domains, no one's address), areas (how many)",
    "membership.role_changed": "target the membership; user_id, old_role, new_role",
    "membership.removed": "by an admin (leaving oneself is not an admin action); user_id, role",
    "invitation.created": "role, max_uses, email_domain (only the domain of a reserved address, never the "
                          "address); challenge_id and team_id when it carries them",
    "invitation.bulk_created": "target the organisation; role, counts (by status: invited, already-invited, "
                               "already-member, duplicate, invalid), challenge_id, team_id; never an address",
    "invitation.revoked": "role",
    "challenge.created": "format, setting",
    "challenge.updated": "fields: the names of the fields that changed, never their values",
    "challenge.published": "",
    "challenge.ended": "",
    "challenge.copied": "target the new draft; source_challenge_id",
    "challenge.deleted": "a draft; title",
    "badge.created": "target the badge definition; challenge_id, code",
    "badge.updated": "challenge_id, code, fields",
    "badge.deleted": "challenge_id, code",
    "activity.approved": "target the activity, one event per challenge decided; challenge_id, flags (the "
                         "plausibility codes such as too-fast, never figures), bulk (true from the review queue)",
    "activity.rejected": "as activity.approved, and note: whether a note was given (never its text)",
    "team.created": "target the team; challenge_id (organisers' and admins' teams, not participants' own)",
    "team.renamed": "challenge_id",
    "team.code_renewed": "challenge_id",
    "team.deleted": "challenge_id, name",
    "team.member_assigned": "target the team; challenge_id, user_id (the person moved)",
    "team.member_removed": "target the team; challenge_id, user_id",
    "location.created": "target the location; challenge_id",
    "location.updated": "challenge_id, fields (qr_secret when it was rotated, never the secret)",
    "location.archived": "challenge_id",
    "report.viewed": "the organiser report of a challenge (challenges.standings)",
    "report.exported": "the organiser report's CSV (challenges.standings)",
    "user.erased": "an erasure request carried out by the operator (`vcc users erase`; in no organisation's trail)",
}
"""Every action the trail may hold, with what its ``detail`` holds (docs/api.md shows the same list); ``record``
refuses any other."""


def record(session: Session, *, actor: User | None, organisation_id: int | None, action: str, target_type: str,
           target_id: int | None = None, detail: dict[str, Any] | None = None) -> AuditEvent:
    """``actor`` None is the operator (CLI, scheduler). An unknown action is a programming error, caught by
    tests before a trail with names nobody documented is written."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}: add it to service.audit.ACTIONS and docs/api.md")
    event = AuditEvent(organisation_id=organisation_id, actor_id=actor.id if actor is not None else None,
                       action=action, target_type=target_type, target_id=target_id, detail=detail or None)
    session.add(event)
    session.flush()
    return event


def snapshot(obj: Any, names: Iterable[str]) -> dict[str, Any]:
    """The values of ``names`` on ``obj`` before an edit, for ``changed`` to compare after it."""
    return {name: getattr(obj, name, None) for name in names}


def changed(obj: Any, before: dict[str, Any]) -> list[str]:
    """The names whose value differs after the edit: the trail names what changed, not what was sent."""
    return sorted(name for name, value in before.items() if getattr(obj, name, None) != value)


def email_domain(email: str | None) -> str | None:
    """Only the domain of an invitee's address: enough to tell an employer's staff invite from a stray one."""
    return email.rsplit("@", 1)[-1].lower() if email and "@" in email else None


def trail(session: Session, organisation_id: int, *, limit: int, cursor: str | None = None,
          action: str | None = None, since: datetime | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """One organisation's events, newest first (keyset on the id, so events written meanwhile never shift a
    page), each with its actor as the account reads now: an erased actor is detached from the trail and reads as
    nobody, like the operator."""
    query = select(AuditEvent).where(AuditEvent.organisation_id == organisation_id)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    if since is not None:
        query = query.where(AuditEvent.created_at >= since)
    events, next_cursor = keyset_rows(session, query, [AuditEvent.id], limit=limit, cursor=cursor, descending=True)
    actor_ids = {e.actor_id for e in events if e.actor_id is not None}
    rows = session.execute(select(User.id, User.display_name).where(User.id.in_(actor_ids))) if actor_ids else []
    names: dict[int, str] = {user_id: name for user_id, name in rows}
    return [{"id": e.id, "at": e.created_at,
             "actor": {"id": e.actor_id, "display_name": names[e.actor_id]} if e.actor_id in names else None,
             "action": e.action, "target": {"type": e.target_type, "id": e.target_id}, "detail": e.detail}
            for e in events], next_cursor
