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

from sqlalchemy import Table, delete, select
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
    ``scoring.reconcile`` follows the same rule, so rescoring gives the same lines as incremental scoring.
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
    user_totals: dict[int, int] = {}
    for scope, pkey, sid, old, new in add_to_lines(session, deltas.contest_id, items, before):
        if scope is Scope.USER and pkey == ALL_KEY:
            user_totals[sid] = new
        elif scope is Scope.USER and lines is not None:
            lines.setdefault(sid, []).append((pkey, old, new))
    redis_write.queue_increments(session, deltas.contest_id, [i for i in items if i[0][0] is not Scope.CONTEST],
                                  deltas.expiry)
    return user_totals


def add_to_lines(session: Session, contest_id: int, items: list[tuple[BoardKey, int]],
                 before: list[tuple[Table, list[dict]]] | None = None) -> list[tuple[Scope, str, int, int, int]]:
    """Add each increment to its line (creating it), move the bucket counts the lines crossed; returns
    (scope, period key, subject, points before, after) per line. The reconcile corrects by increments too,
    so a line a writer moved since the comparison read it keeps that writer's points."""
    rows = [{"contest_id": contest_id, "scope": scope.value, "period_key": pkey, "subject_id": sid,
             "points": pts} for (scope, pkey, sid), pts in items]
    added = dict(items)
    written = bulk_insert(session, LeaderboardTotal.__table__, rows, LINE_KEY, add_on_conflict="points",
                          returning=["scope", "period_key", "subject_id", "points"], before=before)
    moves: dict[tuple[str, str, int], int] = defaultdict(int)
    out: list[tuple[Scope, str, int, int, int]] = []
    for scope, pkey, sid, new in written:
        scope = Scope(scope)
        old = int(new) - added[(scope, pkey, int(sid))]
        out.append((scope, pkey, int(sid), old, int(new)))
        if scope is Scope.CONTEST:
            continue
        was, now = bucket(old), bucket(int(new))
        if was != now:
            if was is not None:
                moves[(scope.value, pkey, was)] -= 1
            if now is not None:
                moves[(scope.value, pkey, now)] += 1
    apply_bucket_moves(session, contest_id, moves)
    return out


def apply_bucket_moves(session: Session, contest_id: int, moves: dict[tuple[str, str, int], int]) -> None:
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
    apply_bucket_moves(session, contest_id, moves)
    return [pkey for pkey, _ in lines]


def line_points(session: Session, contest_id: int, scope: Scope, subject_id: int) -> int | None:
    """A subject's whole-contest points from its board line; None when it has no line (it never scored)."""
    points = session.scalar(select(LeaderboardTotal.points).where(
        LeaderboardTotal.contest_id == contest_id, LeaderboardTotal.scope == scope,
        LeaderboardTotal.period_key == ALL_KEY, LeaderboardTotal.subject_id == subject_id))
    return None if points is None else int(points)


def contest_total(session: Session, contest_id: int) -> int:
    """The whole contest's points (every participant's, deleted users' included), from its contest line."""
    return line_points(session, contest_id, Scope.CONTEST, CONTEST_SUBJECT) or 0
