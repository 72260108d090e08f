"""SQL back end of the leaderboards, over LeaderboardTotal and its (contest, scope, period, points, subject) index.

Every query is an index range: the top of a board is a backward scan of the index (PostgreSQL adds an
incremental sort of equal-points groups to put ties in subject id order); "rank of me" is
``1 + count(points > mine)``, an index-only range count of the rows above me (never a count of the whole
board); pages after the first continue from the last row (keyset), so deep pages need no OFFSET scan.
Ties: standard competition ranking (1, 2, 2, 4); equal points are listed by subject id ascending.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from scoring.models import LeaderboardTotal as LT
from scoring.types import Scope

Row = tuple[int, int]  # (subject_id, points)


def _board(contest_id: int, scope: Scope, pkey: str) -> list:
    return [LT.contest_id == contest_id, LT.scope == scope, LT.period_key == pkey]


def _rows(session: Session, q: Select[Any]) -> list[Row]:
    return [(int(s), int(p)) for s, p in session.execute(q)]


def count_above(session: Session, contest_id: int, scope: Scope, pkey: str, points: int) -> int:
    q = select(func.count()).select_from(LT).where(*_board(contest_id, scope, pkey), LT.points > points)
    return int(session.execute(q).scalar_one())


def top(session: Session, contest_id: int, scope: Scope, pkey: str, limit: int,
        after: Row | None = None) -> list[Row]:
    """``limit`` rows in board order, after the row ``after`` (keyset) when given."""
    base = select(LT.subject_id, LT.points).where(*_board(contest_id, scope, pkey))
    if after is None:
        return _rows(session, base.order_by(LT.points.desc(), LT.subject_id.asc()).limit(limit))
    sid, pts = after
    rows = _rows(session, base.where(LT.points == pts, LT.subject_id > sid).order_by(LT.subject_id.asc())
                 .limit(limit))
    if len(rows) < limit:
        rows += _rows(session, base.where(LT.points < pts).order_by(LT.points.desc(), LT.subject_id.asc())
                      .limit(limit - len(rows)))
    return rows


def points_of(session: Session, contest_id: int, scope: Scope, pkey: str, subject_id: int) -> int | None:
    value = session.get(LT, (contest_id, scope, pkey, subject_id))
    return None if value is None else int(value.points)


def around(session: Session, contest_id: int, scope: Scope, pkey: str, subject_id: int,
           k: int) -> tuple[list[Row], int, int] | None:
    """(rows from k above to k below me, position of the first row, my rank) or None if I am not on it."""
    mine = points_of(session, contest_id, scope, pkey, subject_id)
    if mine is None:
        return None
    base = select(LT.subject_id, LT.points).where(*_board(contest_id, scope, pkey))
    above_n = count_above(session, contest_id, scope, pkey, mine)
    ties_before = int(session.execute(
        select(func.count()).select_from(LT).where(*_board(contest_id, scope, pkey), LT.points == mine,
                                                   LT.subject_id < subject_id)).scalar_one())
    my_pos = above_n + ties_before
    above = _rows(session, base.where(LT.points == mine, LT.subject_id < subject_id)
                  .order_by(LT.subject_id.desc()).limit(k))
    if len(above) < k:
        above += _rows(session, base.where(LT.points > mine).order_by(LT.points.asc(), LT.subject_id.desc())
                       .limit(k - len(above)))
    above.reverse()
    below = _rows(session, base.where(LT.points == mine, LT.subject_id > subject_id)
                  .order_by(LT.subject_id.asc()).limit(k))
    if len(below) < k:
        below += _rows(session, base.where(LT.points < mine).order_by(LT.points.desc(), LT.subject_id.asc())
                       .limit(k - len(below)))
    return [*above, (subject_id, mine), *below], my_pos - len(above), above_n + 1
