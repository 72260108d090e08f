"""The 'overtaken on a leaderboard' rule, sized for boards of a million participants.

Planning never reads a whole board. It keeps one cursor (the last ``points_entries.id`` it looked at, a
``PlannerMark``) and each run reads only:

1. the ledger entries written since the cursor, summed per (challenge, subject): the *movers*;
2. their current all-time totals (primary-key lookups), hence each mover's total before the window
   (``before = now - delta``); a mover that gained went from ``before`` to ``now`` points;
3. the board lines whose points lie in some gainer's ``[before, now)``: exactly the subjects a gainer went
   past (one index range read on (contest, scope, period, points) per chunk of merged intervals);
4. one rank look-up per merged interval (scoring's bucket counts), the rest of the ranks follow from the
   ordered rows read, and the enrolments of the subjects that were passed.

So the work is proportional to what changed, not to the size of the board. A subject was *overtaken* when
some gainer who was not above them before (``before <= their old points``) is above them now
(``now > their points``); ranks are competition ranks (1 + subjects with more points), so that is exactly
"someone took your place". Subjects with no points are on no board and lose nothing. A subject whose own
points went down (an edit or a deletion) is not told they were overtaken by people who did not move.

Throttle: one nudge a day per user per challenge (the local day is in the dedupe key), whichever scope
(own place or team place) comes first. Preferences and the opt-out are applied by the planner.

Bounds: on a board of a million, one walk passes thousands, so a run reads at most ``MAX_PASSED_ROWS``
lines per board, from the top down (a prefix of an interval still has exact ranks); the rest of that
run's passes go untold (the nudge is throttled to one a day anyway).

Limits, on purpose: the first run (no cursor yet) and a backlog longer than ``MAX_WINDOW`` entries (a
planner that was down for a long time) move the cursor to the end without nudging: stale places are not
news. On PostgreSQL an entry whose transaction commits after a later id was read is counted in the next
window's ``before`` instead, so the people it passed may miss a nudge; nobody gets a wrong one.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from challenges.formats import format_of
from challenges.models import Challenge, Enrolment
from notifications.finalise import challenge_params
from notifications.models import NudgeKind, PlannerMark
from notifications.planner import Candidate
from scoring import leaderboards
from scoring.models import LeaderboardTotal as LT
from scoring.models import PointsEntry
from scoring.periods import period_key
from scoring.types import Period, Scope
from service.clock import zone
from service.db_dialect import one_of
from service.models import User

CURSOR_KEY = "overtaken:ledger-cursor"
MAX_WINDOW = 500_000  # ledger entries per run; more than that is a backlog, skipped
CHUNK = 1000  # ids per IN (...) list
RANGES_PER_QUERY = 100
MAX_PASSED_ROWS = 100_000  # board lines read per board and run; past that, the higher places are told first
ALL_KEY = period_key(Period.ALL, None)


@dataclass
class OvertakenStats:
    """What one run read (for tests and logs): it grows with the changes, never with the board."""

    entries_window: int = 0
    movers: int = 0
    board_rows_read: int = 0
    victims: int = 0
    skipped_backlog: bool = False
    truncated: bool = False
    intervals: list[tuple[int, int]] = field(default_factory=list)


LAST_RUN = OvertakenStats()


@dataclass
class LedgerWindow:
    """The ledger entries (lo, hi] written since the last planning run, summed per (challenge, scope, subject).

    ``complete`` is False on the first run and after a skipped backlog: then the deltas are empty although
    things may have changed, and a rule that must not miss a change (goal milestones) looks at everyone."""

    lo: int
    hi: int
    complete: bool
    deltas: dict[tuple[int, Scope], dict[int, int]] = field(default_factory=dict)

    def movers(self, challenge_id: int) -> set[int] | None:
        """Users who scored in the challenge since the last run; None when that is not known (look at all)."""
        return set(self.deltas.get((challenge_id, Scope.USER), {})) if self.complete else None


def ledger_window(session: Session, challenges: list[Challenge], now: datetime) -> LedgerWindow:
    """Advance the planner's ledger cursor to the newest entry and sum what came in since (one query)."""
    global LAST_RUN
    LAST_RUN = OvertakenStats()
    hi = int(session.scalar(select(func.max(PointsEntry.id))) or 0)
    mark = session.scalar(select(PlannerMark).where(PlannerMark.key == CURSOR_KEY))
    if mark is None:
        session.add(PlannerMark(key=CURSOR_KEY, value={"id": hi}, updated_at=now))
        session.flush()
        return LedgerWindow(hi, hi, complete=False)
    lo = int((mark.value or {}).get("id", 0))
    mark.value, mark.updated_at = {"id": max(lo, hi)}, now
    if hi - lo > MAX_WINDOW:
        LAST_RUN.skipped_backlog = True
        return LedgerWindow(lo, hi, complete=False)
    if hi <= lo or not challenges:
        return LedgerWindow(lo, max(lo, hi), complete=True)
    return LedgerWindow(lo, hi, complete=True, deltas=_deltas(session, lo, hi, [c.id for c in challenges]))


def _deltas(session: Session, lo: int, hi: int, contest_ids: list[int]
            ) -> dict[tuple[int, Scope], dict[int, int]]:
    """Points gained (or lost) per (challenge, scope) and subject in the window (lo, hi]."""
    out: dict[tuple[int, Scope], dict[int, int]] = defaultdict(dict)
    rows = session.execute(
        select(PointsEntry.contest_id, PointsEntry.user_id, PointsEntry.team_id, func.sum(PointsEntry.points),
               func.count()).where(PointsEntry.id > lo, PointsEntry.id <= hi, PointsEntry.contest_id.in_(contest_ids))
        .group_by(PointsEntry.contest_id, PointsEntry.user_id, PointsEntry.team_id))
    for contest_id, user_id, team_id, points, count in rows:
        LAST_RUN.entries_window += int(count)
        if user_id is not None:  # an erased person's lines count for their team only
            users = out[(contest_id, Scope.USER)]
            users[user_id] = users.get(user_id, 0) + int(points or 0)
        if team_id is not None:
            teams = out[(contest_id, Scope.TEAM)]
            teams[team_id] = teams.get(team_id, 0) + int(points or 0)
    return dict(out)


def board_totals(session: Session, contest_id: int, scope: Scope, subjects: list[int]) -> dict[int, int]:
    """All-time board points of ``subjects`` (chunked primary-key reads); subjects with no line are absent."""
    out: dict[int, int] = {}
    for start in range(0, len(subjects), CHUNK):
        out.update((int(s), int(p)) for s, p in session.execute(select(LT.subject_id, LT.points).where(
            LT.contest_id == contest_id, LT.scope == scope, LT.period_key == ALL_KEY,
            one_of(session, LT.subject_id, subjects[start:start + CHUNK]))))
    return out


def _merge(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(intervals):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def passed(session: Session, contest_id: int, scope: Scope, delta: dict[int, int]) -> dict[int, int]:
    """Subjects some gainer went past in the window, with their rank now: {subject: rank}."""
    now = board_totals(session, contest_id, scope, list(delta))
    LAST_RUN.movers += len(delta)
    gainers = sorted((now[s] - d, now[s]) for s, d in delta.items() if d > 0 and s in now)
    intervals = _merge([(max(before, 1), after) for before, after in gainers if after > max(before, 1)])
    LAST_RUN.intervals += intervals
    if not intervals:
        return {}
    starts = [before for before, _ in gainers]
    best_after: list[int] = []  # best_after[i]: highest total now among gainers[:i + 1]
    for _, after in gainers:
        best_after.append(max(after, best_after[-1] if best_after else 0))
    out: dict[int, int] = {}
    board = [LT.contest_id == contest_id, LT.scope == scope, LT.period_key == ALL_KEY]
    budget = MAX_PASSED_ROWS
    top_first = intervals[::-1]
    for first in range(0, len(top_first), RANGES_PER_QUERY):
        if budget <= 0:
            break
        chunk = sorted(top_first[first:first + RANGES_PER_QUERY])
        rows = session.execute(select(LT.subject_id, LT.points).where(
            *board, or_(*(and_(LT.points >= lo, LT.points < hi) for lo, hi in chunk)))
            .order_by(LT.points.desc(), LT.subject_id).limit(budget)).all()
        LAST_RUN.truncated |= len(rows) == budget  # maybe more lines below the ones read
        budget -= len(rows)
        LAST_RUN.board_rows_read += len(rows)
        lows = [lo for lo, _ in chunk]
        groups: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for subject, points in rows:  # disjoint intervals: the one whose start is the last <= points
            groups[bisect_right(lows, points) - 1].append((int(subject), int(points)))
        for index, members in groups.items():
            hi = chunk[index][1]
            above = leaderboards.ranks_of_points(session, contest_id, scope, ALL_KEY, {hi - 1})[hi - 1] - 1
            prev_points, rank = None, 0
            for seen, (subject, points) in enumerate(members):
                if points != prev_points:
                    rank, prev_points = above + seen + 1, points
                old = points - delta.get(subject, 0)
                if old <= 0 or delta.get(subject, 0) < 0:
                    continue
                i = bisect_right(starts, old)  # gainers that were not above this subject before
                if i and best_after[i - 1] > points:
                    out[subject] = rank
    return out


def _audience(session: Session, challenge_id: int, scope: Scope, subjects: list[int]
              ) -> Iterator[tuple[int, int, str]]:
    """(user, subject, zone) of the enrolled, not deleted members behind the subjects."""
    column = Enrolment.user_id if scope == Scope.USER else Enrolment.team_id
    for start in range(0, len(subjects), CHUNK):
        yield from session.execute(
            select(Enrolment.user_id, column, User.timezone).join(User, User.id == Enrolment.user_id)
            .where(Enrolment.challenge_id == challenge_id, one_of(session, column, subjects[start:start + CHUNK]),
                   Enrolment.left_at.is_(None), User.deleted_at.is_(None)))  # type: ignore[misc]


def overtaken_candidates(session: Session, challenges: list[Challenge], window: LedgerWindow,
                         now: datetime) -> Iterator[Candidate]:
    """Overtaken nudges for the running ``challenges`` from the ledger entries in ``window``."""
    for challenge in challenges:
        for scope in format_of(challenge).rival_scopes:
            delta = window.deltas.get((challenge.id, scope))
            if not delta:
                continue
            ranks = passed(session, challenge.id, scope, dict(delta))
            LAST_RUN.victims += len(ranks)
            for user_id, subject, tz in _audience(session, challenge.id, scope, sorted(ranks)):
                day = now.astimezone(zone(tz or "UTC")).date().isoformat()
                yield Candidate(user_id, NudgeKind.OVERTAKEN, f"overtaken:{challenge.id}:{user_id}:{day}",
                                {**challenge_params(challenge), "rank": ranks[subject], "scope": scope.value},
                                challenge_id=challenge.id)
