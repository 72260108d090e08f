"""SQL back end of the leaderboards, over LeaderboardTotal and LeaderboardBucket.

No query scans a board or sorts. The rank index (contest, scope, period, points DESC, subject) is in board
order: the top of a board and the rows below me are a forward range read of it, the rows above me a
backward one, so the plan does not depend on statistics (tests/scoring/test_index_plans.py runs EXPLAIN
with fresh and stale ones). Later pages continue from the last row (keyset), not by OFFSET.
A rank is ``1 + number of subjects with more points``, computed as the sum of the LeaderboardBucket
counts above my bucket (at most a few hundred primary-key rows) plus an index-only range count of the
rows above me inside my own bucket (~2% of my points wide) - never a count of everybody above me.
Ties: standard competition ranking (1, 2, 2, 4); equal points are listed by subject id ascending.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from scoring.buckets import bucket, lower
from scoring.models import LeaderboardBucket as LB
from scoring.models import LeaderboardTotal as LT
from scoring.types import Scope

Row = tuple[int, int]  # (subject_id, points)


def _board(contest_id: int, scope: Scope, pkey: str) -> list[Any]:
    return [LT.contest_id == contest_id, LT.scope == scope, LT.period_key == pkey]


def _rows(session: Session, q: Select[Any]) -> list[Row]:
    return [(int(s), int(p)) for s, p in session.execute(q)]


def ranks_for(session: Session, contest_id: int, scope: Scope, pkey: str, values: set[int]) -> dict[int, int]:
    """Competition rank of each points value: 1 + subjects with more points (buckets + one range count)."""
    positive = sorted(v for v in values if v > 0)
    out: dict[int, int] = {}
    floor_bucket = bucket(positive[0]) if positive else None
    q = select(LB.bucket, LB.count).where(LB.contest_id == contest_id, LB.scope == scope, LB.period_key == pkey)
    if floor_bucket is not None and all(v > 0 for v in values):
        q = q.where(LB.bucket > floor_bucket)
    counts = {int(b): int(n) for b, n in session.execute(q)}
    for v in values:
        if v <= 0:  # everybody with positive points is above; a negative line never happens in practice
            out[v] = 1 + sum(counts.values()) if v == 0 else 1 + int(session.execute(
                select(func.count()).select_from(LT).where(*_board(contest_id, scope, pkey), LT.points > v))
                .scalar_one())
    if not positive:
        return out
    top_bucket = bucket(positive[-1])
    assert top_bucket is not None and floor_bucket is not None
    ceiling = lower(top_bucket + 1)
    near = [(int(p), int(n)) for p, n in session.execute(
        select(LT.points, func.count()).where(*_board(contest_id, scope, pkey), LT.points > positive[0],
                                              LT.points < ceiling).group_by(LT.points))]
    for v in positive:
        b = bucket(v)
        assert b is not None
        edge = lower(b + 1)
        above_buckets = sum(n for bb, n in counts.items() if bb > b)
        inside = sum(n for p, n in near if v < p < edge)
        out[v] = 1 + above_buckets + inside
    return out


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
    value = session.execute(select(LT.points).where(*_board(contest_id, scope, pkey), LT.subject_id == subject_id)
                            ).scalar()
    return None if value is None else int(value)


def around(session: Session, contest_id: int, scope: Scope, pkey: str, subject_id: int,
           k: int) -> tuple[list[Row], dict[int, int]] | None:
    """(rows from k above to k below me, rank of each points value in them), or None if I am not on it."""
    mine = points_of(session, contest_id, scope, pkey, subject_id)
    if mine is None:
        return None
    base = select(LT.subject_id, LT.points).where(*_board(contest_id, scope, pkey))
    above = _rows(session, base.where(LT.points == mine, LT.subject_id < subject_id)
                  .order_by(LT.subject_id.desc()).limit(k)) if k else []
    if len(above) < k:
        above += _rows(session, base.where(LT.points > mine).order_by(LT.points.asc(), LT.subject_id.desc())
                       .limit(k - len(above)))
    above.reverse()
    below = _rows(session, base.where(LT.points == mine, LT.subject_id > subject_id)
                  .order_by(LT.subject_id.asc()).limit(k)) if k else []
    if len(below) < k:
        below += _rows(session, base.where(LT.points < mine).order_by(LT.points.desc(), LT.subject_id.asc())
                       .limit(k - len(below)))
    rows = [*above, (subject_id, mine), *below]
    return rows, ranks_for(session, contest_id, scope, pkey, {p for _, p in rows})


def all_ranks(session: Session, contest_id: int, scope: Scope, pkey: str) -> dict[int, tuple[int, int]]:
    """Every subject's (rank, points) on one board, from one ordered pass (final standings of a challenge).

    Standard competition ranking, as ``ranks_for``; a million-line board is one streamed index scan instead
    of a rank query per subject.
    """
    q = (select(LT.subject_id, LT.points).where(*_board(contest_id, scope, pkey))
         .order_by(LT.points.desc(), LT.subject_id).execution_options(yield_per=20_000))
    ranks: dict[int, tuple[int, int]] = {}
    prev_points, rank = None, 0
    for position, (subject_id, points) in enumerate(session.execute(q), start=1):
        if points != prev_points:
            prev_points, rank = points, position
        ranks[int(subject_id)] = (rank, int(points))
    return ranks
