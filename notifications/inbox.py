"""The in-app inbox: a user's nudges from the moment dispatch put them there, newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from notifications.models import Nudge
from service.clock import utcnow
from service.errors import NotFound
from service.pagination import cursor_fields, keyset_page


def page(session: Session, user_id: int, *, limit: int, cursor: str | None, unread: bool = False) -> dict[str, Any]:
    """Keyset page on (inbox_at, id) descending, so new arrivals never shift later pages."""
    base = [Nudge.user_id == user_id, Nudge.inbox_at.is_not(None)]
    if unread:
        base.append(Nudge.read_at.is_(None))
    query = select(Nudge).where(*base)
    after = cursor_fields(cursor, at=datetime.fromisoformat, id=int)
    if after:
        query = query.where(or_(Nudge.inbox_at < after["at"],
                                and_(Nudge.inbox_at == after["at"], Nudge.id < after["id"])))
    rows = list(session.scalars(query.order_by(Nudge.inbox_at.desc(), Nudge.id.desc()).limit(limit + 1)))
    items, next_cursor = keyset_page(rows, limit, lambda n: {"at": n.inbox_at.isoformat(), "id": n.id})
    unread_count = session.scalar(select(func.count(Nudge.id)).where(
        Nudge.user_id == user_id, Nudge.inbox_at.is_not(None), Nudge.read_at.is_(None)))
    return {"items": items, "unread": unread_count, "next": next_cursor}


def mark_read(session: Session, user_id: int, nudge_id: int) -> Nudge:
    nudge = session.get(Nudge, nudge_id)
    if nudge is None or nudge.user_id != user_id or nudge.inbox_at is None:
        raise NotFound("No such notification in your inbox.", code="notification-not-found")
    if nudge.read_at is None:
        nudge.read_at = utcnow()
    session.flush()
    return nudge


def mark_all_read(session: Session, user_id: int) -> int:
    result = session.execute(update(Nudge).where(Nudge.user_id == user_id, Nudge.inbox_at.is_not(None),
                                                 Nudge.read_at.is_(None))
                             .values(read_at=utcnow()).execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
