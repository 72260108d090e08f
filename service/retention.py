"""Retention of the platform's own records, and the chunked deletion every retention job shares.

Retention jobs delete in chunks of ``CHUNK`` rows, each chunk its own transaction (the job's ``after_each``
commits it and renews the job's lease), so a purge of a year of rows never holds long locks or one huge
transaction, and a purge cut short by a crash or a lost lease simply goes on at the next run.

- Refresh tokens are deleted once their ``expires_at`` passed. Used and revoked tokens are kept until then:
  reuse detection (``service.tokens.rotate``) needs a used token to recognise a replay of it, and an expired
  token is refused before that check, so deleting it changes no answer.
- Audit events (organiser and admin actions) and audit notes (security events) are kept
  ``AUDIT_RETENTION_DAYS`` by their ``created_at``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from service.models import AuditEvent, AuditNote, RefreshToken

CHUNK = 1000

AfterEach = Callable[[], bool]
"""Called after each chunk (commit, renew the lease); False stops the purge, e.g. when the lease was lost."""


def setting_days(name: str, default: int) -> int:
    """A retention setting of the deployment (``service.config.TUNABLES``), else the default of its module."""
    return int(current_app.config.get(name, default))


def cutoff(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)


def id_batches(session: Session, query: Select[Any], key: Any, chunk: int = CHUNK) -> Iterator[list[int]]:
    """Ids that ``query`` selects (one column, ``key``), ``chunk`` at a time in ascending order. Each batch is
    read after the previous one was handled, and keyset-paged, so rows left in place are never read twice."""
    after: int | None = None
    while True:
        page = query.where(key > after) if after is not None else query
        ids = list(session.scalars(page.order_by(key).limit(chunk)))
        if not ids:
            return
        yield ids
        if len(ids) < chunk:
            return
        after = ids[-1]


def slices(ids: Sequence[int], chunk: int = CHUNK) -> Iterator[list[int]]:
    """Ids chosen in Python, ``chunk`` at a time."""
    for start in range(0, len(ids), chunk):
        yield list(ids[start:start + chunk])


class Pace:
    """Wraps a job's ``after_each``: once it said stop, every later chunk of the same run is skipped too."""

    def __init__(self, after_each: AfterEach) -> None:
        self.after_each = after_each
        self.going = True

    def chunk_done(self) -> None:
        self.going = self.going and self.after_each()


def drain(batches: Iterable[list[int]], remove: Callable[[list[int]], None], pace: Pace) -> int:
    """``remove`` each batch of ids, each followed by the job's ``after_each``; how many ids were removed."""
    removed = 0
    if not pace.going:
        return removed
    for ids in batches:
        remove(ids)
        removed += len(ids)
        pace.chunk_done()
        if not pace.going:
            break
    return removed


def deleter(session: Session, model: Any) -> Callable[[list[int]], None]:
    """Deletes rows of ``model`` by id (rows without dependants of their own)."""
    def remove(ids: list[int]) -> None:
        session.execute(delete(model).where(model.id.in_(ids)).execution_options(synchronize_session=False))

    return remove


def purge_refresh_tokens(session: Session, now: datetime, after_each: AfterEach, chunk: int = CHUNK) -> int:
    query = select(RefreshToken.id).where(RefreshToken.expires_at <= now)
    return drain(id_batches(session, query, RefreshToken.id, chunk), deleter(session, RefreshToken), Pace(after_each))


def purge_audit(session: Session, now: datetime, days: int, after_each: AfterEach,
                chunk: int = CHUNK) -> dict[str, int]:
    """Audit events and audit notes older than ``days``; how many of each went."""
    out: dict[str, int] = {}
    pace = Pace(after_each)
    for name, model in (("audit_events", AuditEvent), ("audit_notes", AuditNote)):
        query = select(model.id).where(model.created_at < cutoff(now, days))
        out[name] = drain(id_batches(session, query, model.id, chunk), deleter(session, model), pace)
    return out
