"""Explicit consent to processing health data, which logging activity needs.

Activity histories are health data (GDPR art. 9): this service processes them on the person's explicit
consent, given in the app against a privacy notice the app names by version. Consent is given and taken back
as easily (art. 7(3)), each change is kept as a record (art. 7(1)), and without it no new activity comes in:
the ingest endpoints answer 403 ``health-data-consent-required`` (``service.auth.consent_required``). Withdrawing
stops what comes next; what was logged before stays until the person deletes it or their account, which the
answer tells them. Deleting the account deletes the consent records with the data they covered. Operators
who collect this consent elsewhere set ``HEALTH_DATA_CONSENT_REQUIRED=false``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import and_, delete, select
from sqlalchemy.orm import Session

from service.clock import utcnow
from service.db_dialect import rows_affected
from service.errors import Forbidden
from service.models import ConsentRecord, User
from service.users import user_deleted

F = TypeVar("F", bound=Callable[..., Any])

HEALTH_DATA = "health_data"
GRANTED = "granted"
WITHDRAWN = "withdrawn"
NEEDED_FOR = "logging, syncing, importing and editing activity"


WITHDREW = and_(User.health_data_consent_at.is_(None),
                select(ConsentRecord.id).where(ConsentRecord.user_id == User.id).exists())
"""SQL: the user had consented and took it back (never having consented, as where consent is collected
elsewhere, is not this); nudges read from activity leave them out."""


class ConsentRequired(Forbidden):
    code = "health-data-consent-required"
    title = "Consent to process health data is needed"


def state(user: User) -> dict[str, Any]:
    return {"purpose": HEALTH_DATA, "granted": user.health_data_consent_at is not None,
            "granted_at": user.health_data_consent_at, "notice_version": user.health_data_consent_version,
            "needed_for": NEEDED_FOR}


def grant(session: Session, user: User, notice_version: str, now: datetime | None = None) -> User:
    """Give (or renew, for a new notice version) consent; repeating the same grant records nothing new."""
    if user.health_data_consent_at is not None and user.health_data_consent_version == notice_version:
        return user
    user.health_data_consent_at = now or utcnow()
    user.health_data_consent_version = notice_version
    session.add(ConsentRecord(user_id=user.id, purpose=HEALTH_DATA, action=GRANTED, notice_version=notice_version,
                              created_at=user.health_data_consent_at))
    session.flush()
    return user


def withdraw(session: Session, user: User, now: datetime | None = None) -> User:
    """Take consent back; withdrawing when none is given records nothing."""
    if user.health_data_consent_at is None:
        return user
    session.add(ConsentRecord(user_id=user.id, purpose=HEALTH_DATA, action=WITHDRAWN,
                              notice_version=user.health_data_consent_version, created_at=now or utcnow()))
    user.health_data_consent_at = None
    user.health_data_consent_version = None
    session.flush()
    return user


def records(session: Session, user_id: int) -> list[dict[str, Any]]:
    """The person's consent history, oldest first (shown to them and in their data export)."""
    rows = session.scalars(select(ConsentRecord).where(ConsentRecord.user_id == user_id).order_by(ConsentRecord.id))
    return [{"purpose": r.purpose, "action": r.action, "notice_version": r.notice_version, "at": r.created_at}
            for r in rows]


def require_health_data(user: User, required: bool = True) -> None:
    if required and user.health_data_consent_at is None:
        raise ConsentRequired(
            "Logging activity needs your explicit consent to processing health data: PUT "
            "/api/v1/me/consents/health_data with the privacy notice version your app showed. Activity logged "
            "before stays until you delete it or your account.")


@user_deleted.connect
def _forget_on_deletion(session: Session, user_id: int, **_: Any) -> dict[str, int]:
    """Erasure deletes the consent history too: it proves the processing of data that no longer exists, and
    kept, it would be the one dated trail left of the person (the tombstone's consent fields are cleared)."""
    return {"consent_records": rows_affected(session, delete(ConsentRecord).where(ConsentRecord.user_id == user_id))}
