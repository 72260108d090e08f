"""Leaderboards: one interface over two back ends (SQL totals, or Redis sorted sets when configured).

Order and ranks (both back ends): points descending, ties by subject id ascending (stable), standard
competition ranking (1, 2, 2, 4): rank = 1 + number of subjects with strictly more points.
Periods are the contest's local day, ISO week or the whole contest (scoring.periods).
Pagination: ``next_cursor`` carries the last row (position, points, subject, rank), so the next page
knows its first rank without counting and SQL continues by keyset. It is given only when a further row
exists (limit + 1 rows are read), so a client never fetches an empty last page.
User boards get labels: a hidden user (User.hide_from_leaderboards) shows as "Participant #<hash>",
a deleted user drops out of the rows. Team and organisation names are the caller's (challenges/).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import current_app, has_app_context
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.orm import Session

from scoring.boards import redis_read, redis_write, sql
from scoring.periods import current_key, local_day, period_end_utc, period_key
from scoring.types import BoardPage, BoardRow, Period, Scope
from service import metrics
from service.clock import utcnow
from service.errors import Invalid
from service.models import User
from service.pagination import decode_cursor, encode_cursor

MAX_LIMIT = 500
log = logging.getLogger(__name__)


def _pkey(period: Period | str, at: datetime | None, tz: str, period_key: str | None) -> tuple[str, datetime | None]:
    period = Period(period)
    when = at or utcnow()
    key = period_key or current_key(period, when, tz)
    return key, period_end_utc(period, local_day(when, tz), tz) if period_key is None else None


def _ranked(rows: list[tuple[int, int]], start: int, prev: tuple[int, int] | None, known: dict[int, int],
            count_above: Callable[[int], int]) -> list[BoardRow]:
    """Competition ranks for consecutive rows from position ``start``.

    ``prev`` is the (points, rank) of the row just before ``start`` (from a cursor); ``known`` maps
    points to ranks already computed. A row whose points differ from the row before it has rank
    position + 1; only a first row with nothing before it needs ``count_above``.
    """
    out: list[BoardRow] = []
    for i, (sid, pts) in enumerate(rows):
        if pts in known:
            rank = known[pts]
        elif prev is not None and prev[0] == pts:
            rank = prev[1]
        elif prev is not None or start + i == 0:
            rank = start + i + 1
        else:
            rank = count_above(pts) + 1
        known.setdefault(pts, rank)
        out.append(BoardRow(rank=rank, subject_id=sid, points=pts))
        prev = (pts, rank)
    return out


def _mirror(session: Session) -> Any | None:
    """The Redis client, when one is configured and answers, with boards that missed increments dropped."""
    r = redis_write.client()
    if r is None:
        return None
    try:
        redis_write.repair_if_due(session, r)
    except RedisError:
        _unavailable()
        return None
    return r


def _unavailable() -> None:
    redis_write.note_failure()
    metrics.REDIS_FALLBACKS.labels("read").inc()
    log.warning("redis unavailable; leaderboard read from SQL", exc_info=True)


def _no_count(points: int) -> int:
    raise AssertionError("rank needed a count the caller said was known")


def alias_for(user_id: int) -> str:
    secret = current_app.config.get("SECRET_KEY", "") if has_app_context() else ""
    digest = hashlib.sha256(f"{secret}:participant:{user_id}".encode()).hexdigest()[:6]
    return f"Participant #{digest}"


def label_rows(session: Session, scope: Scope | str, rows: list[BoardRow]) -> list[BoardRow]:
    """Names for user rows (aliases for hidden users); deleted users are dropped. Other scopes unchanged."""
    if Scope(scope) is not Scope.USER or not rows:
        return rows
    users = {u.id: u for u in session.execute(
        select(User.id, User.display_name, User.hide_from_leaderboards, User.deleted_at)
        .where(User.id.in_([r.subject_id for r in rows])))}
    out = []
    for row in rows:
        u = users.get(row.subject_id)
        if u is None or u.deleted_at is not None:
            continue
        if u.hide_from_leaderboards:
            out.append(BoardRow(row.rank, row.subject_id, row.points, alias_for(u.id), True))
        else:
            out.append(BoardRow(row.rank, row.subject_id, row.points, u.display_name, False))
    return out


def board(session: Session, contest_id: int, scope: Scope | str, period: Period | str = Period.ALL, *,
          at: datetime | None = None, tz: str = "UTC", limit: int = 20, cursor: str | None = None,
          period_key: str | None = None, labels: bool = True) -> BoardPage:
    """One page of a board (top-N when ``cursor`` is None)."""
    scope = Scope(scope)
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid(f"limit must be between 1 and {MAX_LIMIT}", code="invalid-limit")
    pkey, expire_at = _pkey(period, at, tz, period_key)
    state = decode_cursor(cursor) if cursor else None
    try:
        offset, last = (0, None) if not state else (int(state["o"]), (int(state["s"]), int(state["p"])))
        prev = None if not state else (int(state["p"]), int(state["r"]))
    except (KeyError, TypeError, ValueError):
        raise Invalid("malformed cursor", code="invalid-cursor") from None
    # One row past the page, read only to learn whether a next page exists (a full page alone does not say).
    rows = None
    r = _mirror(session)
    if r is not None:
        try:
            rows = redis_read.top(session, r, contest_id, scope, pkey, offset, limit + 1, expire_at)
        except RedisError:
            _unavailable()
    if rows is None:
        rows = sql.top(session, contest_id, scope, pkey, limit + 1, last)
    ranked = _ranked(rows[:limit], offset, prev, {}, _no_count)
    nxt = None
    if len(rows) > limit:
        tail = ranked[-1]
        nxt = encode_cursor({"o": offset + len(ranked), "p": tail.points, "s": tail.subject_id, "r": tail.rank})
    return BoardPage(rows=label_rows(session, scope, ranked) if labels else ranked, next_cursor=nxt,
                     period_key=pkey)


def around(session: Session, contest_id: int, scope: Scope | str, period: Period | str, subject_id: int,
           k: int = 3, *, at: datetime | None = None, tz: str = "UTC", period_key: str | None = None,
           labels: bool = True) -> list[BoardRow]:
    """My row with up to ``k`` rows above and below; empty when I am not on the board."""
    scope = Scope(scope)
    if not 0 <= k <= 100:
        raise Invalid("k must be between 0 and 100", code="invalid-k")
    pkey, expire_at = _pkey(period, at, tz, period_key)
    r = _mirror(session)
    ranked = None
    if r is not None:
        try:
            found = redis_read.around(session, r, contest_id, scope, pkey, subject_id, k, expire_at)
            if found is None:
                return []
            rows, start, my_rank = found
            mine = next(p for s, p in rows if s == subject_id)
            count = lambda pts: redis_read.count_above(r, contest_id, scope, pkey, pts)  # noqa: E731
            ranked = _ranked(rows, start, None, {mine: my_rank}, count)
        except RedisError:
            _unavailable()
    if ranked is None:
        in_sql = sql.around(session, contest_id, scope, pkey, subject_id, k)
        if in_sql is None:
            return []
        rows, known = in_sql
        ranked = _ranked(rows, 0, None, known, _no_count)
    return label_rows(session, scope, ranked) if labels else ranked


def rank_of(session: Session, contest_id: int, scope: Scope | str, period: Period | str, subject_id: int, *,
            at: datetime | None = None, tz: str = "UTC", period_key: str | None = None) -> BoardRow | None:
    rows = around(session, contest_id, scope, period, subject_id, 0, at=at, tz=tz, period_key=period_key,
                  labels=False)
    return rows[0] if rows else None


def final_ranks(session: Session, contest_id: int, scope: Scope | str = Scope.USER) -> dict[int, tuple[int, int]]:
    """All-time (rank, points) of every subject with a line on the board, from the SQL totals (authoritative)."""
    return sql.all_ranks(session, contest_id, Scope(scope), period_key(Period.ALL))


def ranks_of_points(session: Session, contest_id: int, scope: Scope, pkey: str, values: set[int]) -> dict[int, int]:
    """The competition rank each points value would have on a board (nudges that compare people to a rank),
    from the SQL rank buckets, which every write keeps up to date whatever the cache."""
    return sql.ranks_for(session, contest_id, scope, pkey, values)
