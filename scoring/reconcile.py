"""Reconcile a contest's boards with its ledger by comparing, not rebuilding; and the chunked full rescore.

The board lines a ledger implies are computed in SQL, one subject range (``CHUNK`` subjects) of one scope at
a time, and joined (FULL OUTER JOIN, one statement, so one snapshot) with the lines stored for that range:
only the lines that differ come back. They are corrected by increments (``totals.add_to_lines``), not set:
ledger and lines are written in one transaction, so the difference seen in one snapshot is the drift, and a
writer that moved a line since keeps its points. Bucket counts are compared per board the same way (each
bucket's stored count against an index range count of the lines in it). Each chunk is followed by the
caller's ``after_each`` (commit, renew the lease), so writers wait at most for one chunk's corrections and a
lost lease stops the run; memory is bounded by a chunk, not by the contest.

Which lines exist is the ledger write path's rule: a line exists once a non-zero entry touched it (it may
sum to 0 later); deleted users (``users.deleted_at``) have no user lines. ``rescore`` uses the same SQL to
delete and re-insert each range, then fixes the buckets like the reconcile and runs ANALYZE.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import (
    BigInteger,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    column,
    delete,
    func,
    insert,
    literal,
    select,
    text,
    union_all,
    values,
)
from sqlalchemy.orm import Session

from scoring import totals
from scoring.boards import redis_check, redis_write
from scoring.buckets import bucket, lower
from scoring.models import LeaderboardBucket as LB
from scoring.models import LeaderboardTotal as LT
from scoring.models import PointsEntry as PE
from scoring.types import Scope
from service.db_dialect import is_postgres, rows_affected
from service.models import User
from service.retention import AfterEach, Pace

log = logging.getLogger(__name__)

CHUNK = 2000
LEDGER_ROWS_PER_SUBJECT = 20  # a user chunk also ends after CHUNK * this many ledger rows
BUCKET_MARGIN = 64  # buckets compared above the top seen: points may grow 4x while a board is checked
SUBJECT = {Scope.USER: PE.user_id, Scope.TEAM: PE.team_id, Scope.ORGANISATION: PE.organisation_id}
Range = tuple[int | None, int | None]


@dataclass
class Counts:
    """What a run checked and corrected (numbers only: this goes to the log)."""

    chunks: int = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    buckets: int = 0
    boards: int = 0
    redis: dict[str, int] = field(default_factory=dict)
    complete: bool = True

    def line(self) -> str:
        return (f"{self.chunks} chunks, {self.boards} boards; lines inserted {self.inserted}, updated "
                f"{self.updated}, deleted {self.deleted}; buckets corrected {self.buckets}"
                + "".join(f"; redis {k} {v}" for k, v in self.redis.items())
                + ("" if self.complete else "; stopped (lease lost)"))


def _day_text(session: Session, day: Any) -> Any:
    return func.to_char(day, "YYYY-MM-DD") if is_postgres(session) else cast(day, String)


def _week_text(session: Session, day: Any) -> Any:
    """ISO year and week as ``2024-W05`` (scoring.periods' week key without its ``w``)."""
    if is_postgres(session):
        return func.to_char(day, 'IYYY-"W"IW')
    thursday = func.date(day, "-3 days", "weekday 4")  # the Thursday of the ISO week names its year and week
    week = (cast(func.strftime("%j", thursday), Integer) - 1) / 7 + 1
    return func.strftime("%Y", thursday) + "-W" + func.printf("%02d", week)


def _in_range(col: Any, rng: Range) -> list[Any]:
    lo, hi = rng
    return [c for c in (col >= lo if lo is not None else None, col < hi if hi is not None else None)
            if c is not None]


def expected(session: Session, contest_id: int, scope: Scope, rng: Range) -> Select[Any]:
    """(sid, pkey, pts) of every line the ledger implies for the subjects of ``rng`` in ``scope``."""
    col = SUBJECT[scope]
    q = select(col.label("sid"), PE.local_day.label("day"), func.sum(PE.points).label("pts")).where(
        PE.contest_id == contest_id, col.is_not(None), *_in_range(col, rng))
    if scope is Scope.USER:
        q = q.where(col.not_in(select(User.id).where(User.deleted_at.is_not(None))))
    days = (q.group_by(col, PE.local_day).having(func.sum(case((PE.points != 0, 1), else_=0)) > 0)
            .cte(f"days_{scope.value}"))
    week = _week_text(session, days.c.day)
    return union_all(
        select(days.c.sid, (literal("d", String) + _day_text(session, days.c.day)).label("pkey"), days.c.pts),
        select(days.c.sid, (literal("w", String) + week).label("pkey"), func.sum(days.c.pts).label("pts"))
        .group_by(days.c.sid, week),
        select(days.c.sid, literal(totals.ALL_KEY, String).label("pkey"), func.sum(days.c.pts).label("pts"))
        .group_by(days.c.sid))


def _stored(contest_id: int, scope: Scope, rng: Range) -> Select[Any]:
    return select(LT.subject_id.label("sid"), LT.period_key.label("pkey"), LT.points.label("pts")).where(
        LT.contest_id == contest_id, LT.scope == scope, *_in_range(LT.subject_id, rng))


def _expected_for(session: Session, contest_id: int, scope: Scope, rng: Range) -> Select[Any]:
    if scope is Scope.CONTEST:
        return (select(literal(totals.CONTEST_SUBJECT).label("sid"),
                       literal(totals.ALL_KEY, String).label("pkey"), func.sum(PE.points).label("pts"))
                .where(PE.contest_id == contest_id)
                .having(func.sum(case((PE.points != 0, 1), else_=0)) > 0))
    return expected(session, contest_id, scope, rng)


def differences(session: Session, contest_id: int, scope: Scope, rng: Range) -> list[tuple[int, str, Any, Any]]:
    """(subject, period key, ledger says, line says) of each line in ``rng`` that differs; None = no line."""
    want = _expected_for(session, contest_id, scope, rng).subquery("want")
    have = _stored(contest_id, scope, rng).subquery("have")
    q = (select(func.coalesce(want.c.sid, have.c.sid), func.coalesce(want.c.pkey, have.c.pkey), want.c.pts,
                have.c.pts)
         .select_from(want.join(have, and_(want.c.sid == have.c.sid, want.c.pkey == have.c.pkey), full=True))
         .where(want.c.pts.is_distinct_from(have.c.pts)))
    return [(int(s), str(p), w, h) for s, p, w, h in session.execute(q)]


def fix_lines(session: Session, contest_id: int, scope: Scope, diffs: list[tuple[int, str, Any, Any]],
              counts: Counts) -> None:
    """Insert missing lines, correct wrong ones by their difference, delete extra ones (a line a writer
    moved since is corrected by difference instead)."""
    adds: list[tuple[totals.BoardKey, int]] = []
    moves: dict[tuple[str, str, int], int] = {}
    for sid, pkey, want, have in diffs:
        if want is not None:
            adds.append(((scope, pkey, sid), int(want) - int(have or 0)))
            counts.inserted += have is None
            counts.updated += have is not None
            continue
        gone = rows_affected(session, delete(LT).where(
            LT.contest_id == contest_id, LT.scope == scope, LT.period_key == pkey, LT.subject_id == sid,
            LT.points == have))
        if gone:
            counts.deleted += 1
            b = bucket(int(have)) if scope is not Scope.CONTEST else None
            if b is not None:
                moves[(scope.value, pkey, b)] = moves.get((scope.value, pkey, b), 0) - 1
        else:
            adds.append(((scope, pkey, sid), -int(have)))
            counts.updated += 1
    if adds:
        totals.add_to_lines(session, contest_id, sorted(adds))
    totals.apply_bucket_moves(session, contest_id, moves)


def ranges(session: Session, contest_id: int, scope: Scope, chunk: int = CHUNK) -> Iterator[Range]:
    """Consecutive subject-id ranges that cover every id, each ending after ``chunk`` subjects with an
    all-time line (and, for users, ``chunk * LEDGER_ROWS_PER_SUBJECT`` ledger rows): bounded even when lines
    are missing. Each range is read after the previous one was handled."""
    if scope is Scope.CONTEST:
        yield None, None
        return
    lo: int | None = None
    while True:
        ends = [session.scalar(select(LT.subject_id).where(
            LT.contest_id == contest_id, LT.scope == scope, LT.period_key == totals.ALL_KEY,
            *_in_range(LT.subject_id, (lo, None))).order_by(LT.subject_id).offset(chunk).limit(1))]
        if scope is Scope.USER:
            ends.append(session.scalar(select(PE.user_id).where(
                PE.contest_id == contest_id, *_in_range(PE.user_id, (lo, None))).order_by(PE.user_id)
                .offset(chunk * LEDGER_ROWS_PER_SUBJECT).limit(1)))
        found = [int(e) for e in ends if e is not None and (lo is None or e > lo)]
        hi = min(found) if found else None
        yield lo, hi
        if hi is None:
            return
        lo = hi


def boards(session: Session, contest_id: int) -> list[tuple[Scope, str]]:
    """Every (scope, period key) with lines or bucket rows, by skipping along the primary keys (one index
    probe per board, never a scan of the lines)."""
    out: set[tuple[Scope, str]] = set()
    for model in (LT, LB):
        for scope in (Scope.USER, Scope.TEAM, Scope.ORGANISATION):
            prev: str | None = None
            while True:
                q = select(model.period_key).where(model.contest_id == contest_id, model.scope == scope)
                if prev is not None:
                    q = q.where(model.period_key > prev)
                prev = session.scalar(q.order_by(model.period_key).limit(1))
                if prev is None:
                    break
                out.add((scope, prev))
    return sorted(out)


def bucket_differences(session: Session, contest_id: int, scope: Scope, pkey: str) -> dict[int, int]:
    """bucket -> (lines in it) - (stored count), for the buckets that differ; one statement, one snapshot."""
    board = [LT.contest_id == contest_id, LT.scope == scope, LT.period_key == pkey]
    stored_board = [LB.contest_id == contest_id, LB.scope == scope, LB.period_key == pkey]
    top = session.scalar(select(LT.points).where(*board).order_by(LT.points.desc()).limit(1))
    top_stored = session.scalar(select(func.max(LB.bucket)).where(*stored_board))
    highest = max(bucket(int(top or 0)) or 0, int(top_stored or 0)) + BUCKET_MARGIN
    bounds = values(column("b", Integer), column("lo", BigInteger), column("hi", BigInteger), name="bounds").data(
        [(b, lower(b), lower(b + 1)) for b in range(highest + 1)]).cte("bounds")
    counted = select(bounds.c.b.label("b"), select(func.count()).select_from(LT).where(
        *board, LT.points >= bounds.c.lo, LT.points < bounds.c.hi).scalar_subquery().label("n"),
        func.coalesce(select(LB.count).where(*stored_board, LB.bucket == bounds.c.b).scalar_subquery(), 0)
        .label("stored")).subquery("counted")
    q = select(counted.c.b, counted.c.n - counted.c.stored).where(counted.c.n != counted.c.stored)
    return {int(b): int(d) for b, d in session.execute(q)}


def fix_buckets(session: Session, contest_id: int, counts: Counts, pace: Pace) -> None:
    for scope, pkey in boards(session, contest_id):
        if not pace.going:
            counts.complete = False
            return
        diff = bucket_differences(session, contest_id, scope, pkey)
        totals.apply_bucket_moves(session, contest_id, {(scope.value, pkey, b): d for b, d in diff.items()})
        counts.buckets += len(diff)
        counts.boards += 1
        pace.chunk_done()


def _each_chunk(session: Session, contest_id: int, pace: Pace, counts: Counts,
                work: Callable[[Scope, Range], None], chunk: int) -> None:
    for scope in (Scope.CONTEST, Scope.USER, Scope.TEAM, Scope.ORGANISATION):
        for rng in ranges(session, contest_id, scope, chunk):
            if not pace.going:
                counts.complete = False
                return
            work(scope, rng)
            counts.chunks += 1
            pace.chunk_done()


def reconcile(session: Session, contest_id: int, after_each: AfterEach, chunk: int = CHUNK) -> Counts:
    """Compare every line and bucket of the contest with its ledger and correct only what differs."""
    counts, pace = Counts(), Pace(after_each)

    def check(scope: Scope, rng: Range) -> None:
        fix_lines(session, contest_id, scope, differences(session, contest_id, scope, rng), counts)

    _each_chunk(session, contest_id, pace, counts, check, chunk)
    if counts.complete:
        fix_buckets(session, contest_id, counts, pace)
    if counts.complete:
        check_redis(session, contest_id, counts, pace)
    return counts


def check_redis(session: Session, contest_id: int, counts: Counts, pace: Pace) -> None:
    """Each Redis board against its SQL totals (``redis_check``), one board per chunk."""
    r = redis_write.client()
    if r is None:
        return
    pfx = redis_write.prefix()
    try:
        present = redis_check.stored_boards(r, pfx, contest_id)
        known = boards(session, contest_id)
        counts.redis["dropped"] = redis_check.drop_unknown(r, pfx, contest_id, set(known), present)
        for scope, pkey in known:
            if not pace.going:
                counts.complete = False
                return
            what = redis_check.check_board(session, r, pfx, contest_id, scope, pkey, present)
            counts.redis[what] = counts.redis.get(what, 0) + 1
            pace.chunk_done()
    except RedisError:  # a cache: its boards are dropped and rebuilt by reads once it is back
        log.warning("reconcile: redis unreachable, its boards of contest %s not checked", contest_id)
        redis_write.note_failure()
        counts.redis["unreachable"] = 1


def rescore(session: Session, contest_id: int, after_each: AfterEach, chunk: int = CHUNK) -> Counts:
    """Delete and re-insert every line from the ledger, a subject range per transaction; then buckets as the
    reconcile fixes them, and fresh planner statistics (a bulk rewrite leaves them stale)."""
    counts, pace = Counts(), Pace(after_each)

    def rewrite(scope: Scope, rng: Range) -> None:
        counts.deleted += rows_affected(session, delete(LT).where(
            LT.contest_id == contest_id, LT.scope == scope, *_in_range(LT.subject_id, rng)))
        want = _expected_for(session, contest_id, scope, rng).subquery("want")
        counts.inserted += rows_affected(session, insert(LT).from_select(
            ["contest_id", "scope", "period_key", "subject_id", "points"],
            select(literal(contest_id), literal(scope.value, String), want.c.pkey, want.c.sid, want.c.pts)))

    _each_chunk(session, contest_id, pace, counts, rewrite, chunk)
    if counts.complete:
        fix_buckets(session, contest_id, counts, pace)
    analyze(session)
    return counts


def analyze(session: Session) -> None:
    if is_postgres(session):
        session.execute(text("ANALYZE leaderboard_totals, leaderboard_buckets"))
