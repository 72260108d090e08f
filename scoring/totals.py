"""The one write path to the boards: ledger deltas -> LeaderboardTotal upserts (+ Redis after commit).

Only scoring.ledger calls ``apply``. Each ledger entry moves 10 lines at most (user, team and
organisation x day, ISO week, all; and the contest's own all-time line, which is no board: it holds the
whole contest's points so a collective goal never sums the ledger); a batch is folded into one dict first
so the upsert is one statement, in key order (two concurrent batches then lock rows in the same order on
PostgreSQL).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import Table, case, delete, func, select
from sqlalchemy.orm import Session

from scoring.boards import redis_write
from scoring.buckets import bucket
from scoring.models import LeaderboardBucket, LeaderboardTotal, PointsEntry
from scoring.periods import keys_for_day, period_end_utc, period_key
from scoring.types import Period, Scope
from service.db_dialect import bulk_insert

BoardKey = tuple[Scope, str, int]
LINE_KEY = ["contest_id", "scope", "period_key", "subject_id"]
BUCKET_KEY = ["contest_id", "scope", "period_key", "bucket"]
ALL_KEY = period_key(Period.ALL, date.min)
CONTEST_SUBJECT = 0


class Deltas:
    """Board increments collected while scoring, applied once.

    A board line exists once a non-zero entry touched it (it may later sum to 0 after a reversal);
    ``rebuild_sql`` follows the same rule, so rescoring gives the same lines as incremental scoring.
    """

    def __init__(self, contest_id: int, tz: str) -> None:
        self.contest_id = contest_id
        self.tz = tz
        self.points: dict[BoardKey, int] = defaultdict(int)
        self.expiry: dict[str, datetime] = {}
        self._keys: dict[date, list[str]] = {}

    def add(self, user_id: int, team_id: int | None, organisation_id: int | None, day: date, points: int) -> None:
        if points == 0:
            return
        keys = self._keys.get(day)
        if keys is None:
            keys = self._keys[day] = list(keys_for_day(day).values())
            for period, pkey in zip(Period, keys, strict=True):
                if period is not Period.ALL and pkey not in self.expiry:
                    end = period_end_utc(period, day, self.tz)
                    if end is not None:
                        self.expiry[pkey] = end
        lines = self.points
        lines[(Scope.CONTEST, ALL_KEY, CONTEST_SUBJECT)] += points
        for pkey in keys:
            lines[(Scope.USER, pkey, user_id)] += points
            if team_id is not None:
                lines[(Scope.TEAM, pkey, team_id)] += points
            if organisation_id is not None:
                lines[(Scope.ORGANISATION, pkey, organisation_id)] += points


UserLines = dict[int, list[tuple[str, int, int]]]
"""user id -> (period key, points before, points after) of each of the user's day and week lines written."""


def apply(session: Session, deltas: Deltas, entries: list[dict] | None = None,
          also: list[tuple[Table, list[dict]]] | None = None, lines: UserLines | None = None) -> dict[int, int]:
    """Upsert the increments; returns the new all-time total of each user line written (the upsert's
    RETURNING gives it, so badge checks need no SUM over the ledger). ``lines``, when given, receives the
    user's day and week lines before and after, so streak badges can tell whether a day or week just
    reached a threshold without reading the user's ledger.

    ``entries``: new ledger rows that cannot exist yet (fresh sources), inserted by the same statement on
    PostgreSQL (one round trip for ledger and board); a duplicate would fail the statement, never skip silently.
    ``also``: the caller's own new rows (other tables) to insert first in that same statement.
    """
    items = sorted(deltas.points.items())
    before = [*(also or ()), (PointsEntry.__table__, entries or [])]
    if not items:
        if any(r for _, r in before):
            bulk_insert(session, LeaderboardTotal.__table__, [], LINE_KEY, before=before)
        return {}
    rows = [{"contest_id": deltas.contest_id, "scope": scope.value, "period_key": pkey, "subject_id": sid,
             "points": pts} for (scope, pkey, sid), pts in items]
    written = bulk_insert(session, LeaderboardTotal.__table__, rows, LINE_KEY, add_on_conflict="points",
                          returning=["scope", "period_key", "subject_id", "points"], before=before)
    moves: dict[tuple[str, str, int], int] = defaultdict(int)
    user_totals: dict[int, int] = {}
    for scope, pkey, sid, new in written:
        scope = Scope(scope)
        if scope is Scope.CONTEST:
            continue
        old = int(new) - deltas.points[(scope, pkey, sid)]
        if scope is Scope.USER and pkey == ALL_KEY:
            user_totals[int(sid)] = int(new)
        elif scope is Scope.USER and lines is not None:
            lines.setdefault(int(sid), []).append((pkey, old, int(new)))
        before, after = bucket(old), bucket(int(new))
        if before != after:
            if before is not None:
                moves[(scope.value, pkey, before)] -= 1
            if after is not None:
                moves[(scope.value, pkey, after)] += 1
    _apply_buckets(session, deltas.contest_id, moves)
    redis_write.queue_increments(session, deltas.contest_id, [i for i in items if i[0][0] is not Scope.CONTEST],
                                  deltas.expiry)
    return user_totals


def _apply_buckets(session: Session, contest_id: int, moves: dict[tuple[str, str, int], int]) -> None:
    rows = [{"contest_id": contest_id, "scope": s, "period_key": p, "bucket": b, "count": n}
            for (s, p, b), n in sorted(moves.items()) if n]
    bulk_insert(session, LeaderboardBucket.__table__, rows, BUCKET_KEY, add_on_conflict="count")


def remove_lines(session: Session, contest_id: int, scope: Scope, subject_id: int) -> list[str]:
    """Delete a subject's lines of one scope (a deleted user); returns the period keys it was on."""
    lines = session.execute(select(LeaderboardTotal.period_key, LeaderboardTotal.points).where(
        LeaderboardTotal.contest_id == contest_id, LeaderboardTotal.scope == scope,
        LeaderboardTotal.subject_id == subject_id)).all()
    moves: dict[tuple[str, str, int], int] = defaultdict(int)
    for pkey, pts in lines:
        b = bucket(int(pts))
        if b is not None:
            moves[(scope.value, pkey, b)] -= 1
    session.execute(delete(LeaderboardTotal).where(
        LeaderboardTotal.contest_id == contest_id, LeaderboardTotal.scope == scope,
        LeaderboardTotal.subject_id == subject_id))
    _apply_buckets(session, contest_id, moves)
    return [pkey for pkey, _ in lines]


def rebuild_sql(session: Session, contest_id: int, *, exclude_users: set[int] | None = None) -> int:
    """Recompute every board line of a contest from the ledger; returns the number of lines written."""
    session.execute(delete(LeaderboardTotal).where(LeaderboardTotal.contest_id == contest_id))
    session.execute(delete(LeaderboardBucket).where(LeaderboardBucket.contest_id == contest_id))
    q = (select(PointsEntry.user_id, PointsEntry.team_id, PointsEntry.organisation_id, PointsEntry.local_day,
                func.sum(PointsEntry.points),
                func.sum(case((PointsEntry.points != 0, 1), else_=0)))
         .where(PointsEntry.contest_id == contest_id)
         .group_by(PointsEntry.user_id, PointsEntry.team_id, PointsEntry.organisation_id, PointsEntry.local_day))
    lines: dict[BoardKey, int] = defaultdict(int)
    seen: set[BoardKey] = set()
    for user_id, team_id, org_id, day, pts, nonzero in session.execute(q):
        if not nonzero:
            continue
        subjects = [(Scope.USER, None if exclude_users and user_id in exclude_users else user_id),
                    (Scope.TEAM, team_id), (Scope.ORGANISATION, org_id)]
        contest_line = (Scope.CONTEST, ALL_KEY, CONTEST_SUBJECT)
        lines[contest_line] += int(pts or 0)
        seen.add(contest_line)
        for pkey in keys_for_day(day).values():
            for scope, sid in subjects:
                if sid is not None:
                    lines[(scope, pkey, sid)] += int(pts or 0)
                    seen.add((scope, pkey, sid))
    rows = [{"contest_id": contest_id, "scope": s.value, "period_key": p, "subject_id": i, "points": lines[(s, p, i)]}
            for (s, p, i) in sorted(seen)]
    if rows:
        session.execute(LeaderboardTotal.__table__.insert(), rows)
    moves: dict[tuple[str, str, int], int] = defaultdict(int)
    for row in rows:
        b = None if row["scope"] == Scope.CONTEST.value else bucket(row["points"])
        if b is not None:
            moves[(row["scope"], row["period_key"], b)] += 1
    _apply_buckets(session, contest_id, moves)
    return len(rows)


def line_points(session: Session, contest_id: int, scope: Scope, subject_id: int) -> int | None:
    """A subject's whole-contest points from its board line; None when it has no line (it never scored)."""
    points = session.scalar(select(LeaderboardTotal.points).where(
        LeaderboardTotal.contest_id == contest_id, LeaderboardTotal.scope == scope,
        LeaderboardTotal.period_key == ALL_KEY, LeaderboardTotal.subject_id == subject_id))
    return None if points is None else int(points)


def contest_total(session: Session, contest_id: int) -> int:
    """The whole contest's points (every participant's, deleted users' included), from its contest line."""
    return line_points(session, contest_id, Scope.CONTEST, CONTEST_SUBJECT) or 0
