"""The audit trail of organiser and admin actions: who did what, when, on what (GDPR art. 5(2), 30).

Call sites record after the action succeeded, in the same transaction, so a rolled-back action leaves no
trail and a committed one always does. ``detail`` says what changed (field names, a role, a count), never a
person's figures.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from service.models import AuditEvent, User

AUDIT_RETENTION_DAYS = 365


def record(session: Session, *, actor: User | None, organisation_id: int | None, action: str, target_type: str,
           target_id: int | None = None, detail: dict[str, Any] | None = None) -> AuditEvent:
    event = AuditEvent(organisation_id=organisation_id, actor_id=actor.id if actor is not None else None,
                       action=action, target_type=target_type, target_id=target_id, detail=detail or None)
    session.add(event)
    session.flush()
    return event
