"""Redis reads of the leaderboards (pipelined ZREVRANGE / ZREVRANK / ZSCORE / ZCOUNT).

See scoring.boards.redis_write for keys, member encoding and the write path. A read that finds its key
missing rebuilds the board from SQL totals first (same ranks, as the tests prove after a FLUSHDB).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from scoring.boards.redis_write import board_key, member, prefix, rebuild, subject
from scoring.types import Scope

Row = tuple[int, int]


def _rows(raw: list[tuple[str, float]]) -> list[Row]:
    return [(subject(m), int(s)) for m, s in raw]


def top(session: Session, r: Any, contest_id: int, scope: Scope, pkey: str, offset: int, limit: int,
        expire_at: datetime | None = None) -> list[Row]:
    key = board_key(prefix(), contest_id, scope, pkey)
    pipe = r.pipeline(transaction=False)
    pipe.exists(key)
    pipe.zrevrange(key, offset, offset + limit - 1, withscores=True)
    exists, raw = pipe.execute()
    if not exists and rebuild(session, r, key, contest_id, scope, pkey, expire_at):
        raw = r.zrevrange(key, offset, offset + limit - 1, withscores=True)
    return _rows(raw)


def count_above(r: Any, contest_id: int, scope: Scope, pkey: str, points: int) -> int:
    return int(r.zcount(board_key(prefix(), contest_id, scope, pkey), f"({points}", "+inf"))


def around(session: Session, r: Any, contest_id: int, scope: Scope, pkey: str, subject_id: int, k: int,
           expire_at: datetime | None = None) -> tuple[list[Row], int, int] | None:
    """(rows from k above to k below me, position of the first row, my rank) or None if I am not on it."""
    key = board_key(prefix(), contest_id, scope, pkey)
    mem = member(subject_id)
    pipe = r.pipeline(transaction=False)
    pipe.exists(key)
    pipe.zrevrank(key, mem)
    pipe.zscore(key, mem)
    exists, pos, score = pipe.execute()
    if not exists:
        if not rebuild(session, r, key, contest_id, scope, pkey, expire_at):
            return None
        pipe = r.pipeline(transaction=False)
        pipe.zrevrank(key, mem)
        pipe.zscore(key, mem)
        pos, score = pipe.execute()
    if pos is None:
        return None
    start = max(0, pos - k)
    pipe = r.pipeline(transaction=False)
    pipe.zrevrange(key, start, pos + k, withscores=True)
    pipe.zcount(key, f"({int(score)}", "+inf")
    raw, above = pipe.execute()
    return _rows(raw), start, int(above) + 1
