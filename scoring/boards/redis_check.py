"""Compare each Redis board of a contest with its SQL totals, and rebuild only a board that differs.

A board is read in subject chunks from SQL (the primary key's order) and its members' scores fetched with one
pipelined ZMSCORE per chunk; the member count (ZCARD against an index count) catches members SQL does not
have. A board that differs is rebuilt by ``redis_write.rebuild`` (temporary key and RENAME: readers never see
it half built; increments racing it are settled) and keeps its expiry. A comparison can see an increment in
one store and not yet in the other: it then rebuilds a board that was right, which costs time, never points.
Keys of boards SQL does not have are deleted; a missing all-time board is rebuilt at once, a missing day or
week board on its next read, as always.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scoring.boards.redis_write import board_key, contest_pattern, member, rebuild
from scoring.models import LeaderboardTotal as LT
from scoring.types import Scope

CHUNK = 5000
HELPER_SUFFIXES = (":building", ":touched", ":rebuild")


def _board(contest_id: int, scope: Scope, pkey: str) -> list[Any]:
    return [LT.contest_id == contest_id, LT.scope == scope, LT.period_key == pkey]


def same(session: Session, r: Any, key: str, contest_id: int, scope: Scope, pkey: str, chunk: int = CHUNK) -> bool:
    """True when the Redis board holds exactly the SQL lines with their points."""
    lines = session.scalar(select(func.count()).select_from(LT).where(*_board(contest_id, scope, pkey)))
    if int(r.zcard(key)) != int(lines or 0):
        return False
    after: int | None = None
    while True:
        q = select(LT.subject_id, LT.points).where(*_board(contest_id, scope, pkey))
        if after is not None:
            q = q.where(LT.subject_id > after)
        rows = session.execute(q.order_by(LT.subject_id).limit(chunk)).all()
        if not rows:
            return True
        scores = r.zmscore(key, [member(int(s)) for s, _ in rows])
        if any(score is None or int(score) != int(p) for (_, p), score in zip(rows, scores, strict=True)):
            return False
        after = int(rows[-1][0])


def stored_boards(r: Any, pfx: str, contest_id: int) -> set[str]:
    return {k if isinstance(k, str) else k.decode() for k in r.scan_iter(match=contest_pattern(pfx, contest_id),
                                                                         count=1000)
            if not (k if isinstance(k, str) else k.decode()).endswith(HELPER_SUFFIXES)}


def check_board(session: Session, r: Any, pfx: str, contest_id: int, scope: Scope, pkey: str,
                present: set[str]) -> str:
    """What was done to one board: "same", "rebuilt", "built" (a missing all-time board) or "missing"."""
    key = board_key(pfx, contest_id, scope, pkey)
    if key not in present:
        if pkey != "all":
            return "missing"
        return "built" if rebuild(session, r, key, contest_id, scope, pkey) else "missing"
    if same(session, r, key, contest_id, scope, pkey):
        return "same"
    ttl = int(r.pttl(key))
    rebuild(session, r, key, contest_id, scope, pkey)
    if ttl > 0:
        r.pexpire(key, ttl)
    return "rebuilt"


def drop_unknown(r: Any, pfx: str, contest_id: int, known: set[tuple[Scope, str]], present: set[str]) -> int:
    """Delete the contest's Redis boards that have no SQL lines; how many."""
    extra = present - {board_key(pfx, contest_id, s, p) for s, p in known}
    if extra:
        r.delete(*extra)
    return len(extra)
