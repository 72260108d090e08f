"""Database leases: one replica at a time runs a job, and a crashed holder's lease simply expires.

A lease is a row (name, holder, expires_at). Taking it is one conditional UPDATE that succeeds only when
the lease is free (expired) or already ours, so two schedulers racing for it cannot both win: the
database serialises the two UPDATEs and the second sees a live lease held by someone else.

The job runner (``service.scheduler``) takes one per job run, named by the job's id. Leases are platform
code, below the domain packages, so each domain's jobs use them without importing one another.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from service.clock import utcnow
from service.db_dialect import insert_ignore
from service.models import Lease


def new_holder() -> str:
    """A name unique to this run, so two threads or processes on one host never share a lease."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def acquire(session: Session, name: str, holder: str, ttl: timedelta) -> bool:
    """Take (or extend) the lease ``name``; commits, so the lease is visible to other replicas at once."""
    session.execute(insert_ignore(session, Lease).values(name=name, holder=None, expires_at=None))
    now = utcnow()
    result = session.execute(
        update(Lease)
        .where(Lease.name == name, or_(Lease.expires_at.is_(None), Lease.expires_at <= now, Lease.holder == holder))
        .values(holder=holder, expires_at=now + ttl, acquired_at=now)
        .execution_options(synchronize_session=False))
    session.commit()
    return result.rowcount == 1  # type: ignore[attr-defined]


def renew(session: Session, name: str, holder: str, ttl: timedelta) -> bool:
    """Extend a lease we still hold (long dispatch runs call this between chunks)."""
    now = utcnow()
    result = session.execute(
        update(Lease).where(Lease.name == name, Lease.holder == holder, Lease.expires_at > now)
        .values(expires_at=now + ttl).execution_options(synchronize_session=False))
    session.commit()
    return result.rowcount == 1  # type: ignore[attr-defined]


def release(session: Session, name: str, holder: str, *, ran: bool = False, error: str | None = None) -> None:
    """Give the lease up. After a job run (``ran``) the same UPDATE records when it finished and how: ``error``
    is the exception's class name, ``None`` for a success (the scheduler check reads these)."""
    now = utcnow()
    values: dict[str, object] = {"expires_at": now}
    if ran:
        values.update(last_finished_at=now, last_error=error)
        if error is None:
            values["last_success_at"] = now
    session.execute(update(Lease).where(Lease.name == name, Lease.holder == holder)
                    .values(**values).execution_options(synchronize_session=False))
    session.commit()
