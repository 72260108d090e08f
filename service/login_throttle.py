"""Per-account sign-in throttling: failed sign-ins in a row for one email address, counted in the database,
with an exponential back-off.

The per-address limit (LOGIN_RATELIMIT) lives in flask-limiter, which counts per worker without Redis and
which an attacker spreading guesses over many addresses never meets. This one is shared by every worker and
host and survives restarts. It counts addresses with no account exactly as those with one, so its answers do
not tell which exist, and it keys them by a keyed hash, so guessed addresses are not stored.

An attempt is counted before its password is checked (``charge``, committed by the caller first), so
concurrent guesses cannot all slip through one free slot; a success takes the count away (``clear``). The
first ``free`` failures are answered at once; after the n-th (n >= free) the next attempt waits
min(cap, 2 ** (n - free)) seconds. While it must wait it is refused unchecked (even with the right password,
so a refusal says nothing about the password) and it does not count. A count left alone for ``FORGET_AFTER``
starts again from zero, and ``purge_forgotten`` deletes it.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from datetime import datetime, timedelta

from sqlalchemy import case, delete, select, update
from sqlalchemy.orm import Session

from service.db_dialect import insert_ignore
from service.errors import TooManyRequests
from service.models import LoginThrottle
from service.users import normalise_email

FORGET_AFTER = timedelta(days=1)


class SignInThrottled(TooManyRequests):
    code = "too-many-failed-sign-ins"
    title = "Too many failed sign-ins"


def account_key(email: str, secret: str) -> str:
    return hmac.new(secret.encode(), normalise_email(email).encode(), hashlib.sha256).hexdigest()


def backoff(failures: int, free: int, cap_s: int) -> timedelta:
    if failures < free:
        return timedelta(0)
    return timedelta(seconds=min(cap_s, 2 ** min(failures - free, 40)))


def charge(session: Session, key: str, *, now: datetime, free: int, cap_s: int) -> None:
    """Count this attempt as a failure, or raise SignInThrottled while the address must wait.

    One conditional UPDATE both checks and counts, so on PostgreSQL a concurrent attempt waits for this
    transaction and then sees its wait (the lease pattern of service.leases)."""
    session.execute(insert_ignore(session, LoginThrottle).values(account_key=key, failures=0, blocked_until=None,
                                                                  last_failure_at=now))
    counted = session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.account_key == key,
               (LoginThrottle.blocked_until.is_(None)) | (LoginThrottle.blocked_until <= now))
        .values(failures=case((LoginThrottle.last_failure_at < now - FORGET_AFTER, 1),
                              else_=LoginThrottle.failures + 1),
                last_failure_at=now)
        .returning(LoginThrottle.failures)
        .execution_options(synchronize_session=False)).scalar()
    if counted is None:
        until = session.scalar(select(LoginThrottle.blocked_until).where(LoginThrottle.account_key == key))
        wait = max(1, math.ceil(((until or now) - now).total_seconds()))
        unit = "second" if wait == 1 else "seconds"
        raise SignInThrottled(f"Too many failed sign-ins with this email address; try again in {wait} {unit}.",
                              retry_after=wait)
    wait_next = backoff(int(counted), free, cap_s)
    session.execute(update(LoginThrottle).where(LoginThrottle.account_key == key)
                    .values(blocked_until=now + wait_next if wait_next else None)
                    .execution_options(synchronize_session=False))


def clear(session: Session, key: str) -> None:
    session.execute(delete(LoginThrottle).where(LoginThrottle.account_key == key))


def purge_forgotten(session: Session, now: datetime) -> int:
    """Delete counts with no failure for FORGET_AFTER (they would start again from zero anyway)."""
    result = session.execute(delete(LoginThrottle).where(LoginThrottle.last_failure_at < now - FORGET_AFTER))
    return int(getattr(result, "rowcount", 0) or 0)
