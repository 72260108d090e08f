"""The append-only points ledger: the only write path to points and (through scoring.totals) to boards.

Invariants (tested):
- (contest_id, entry_key) is unique; INSERT .. ON CONFLICT DO NOTHING makes a retried or concurrent
  second scoring of the same source store nothing new (``created=False``).
- Nothing is updated in place: an edit is ``reverse`` then ``score`` again (a new generation), a delete
  is ``reverse``.
- Per participant and contest-local day, awarded points == min(cap, sum of uncapped points of the live
  sources of that day), and each source holds (the sum of the lines filed under it, which is what its
  activity shows) what scoring the live sources afresh in the order they were scored gives it; a withdrawn
  source holds 0. ``score`` keeps it by awarding ``min(uncapped, cap - awarded so far)``; ``reverse`` by
  taking away all the reversed generation holds and appending ``cap_adjust`` entries under the sources the
  freed room goes to. So the incremental totals equal what scoring the remaining sources from scratch gives.
- Board totals == sums of ledger points (``rescore_contest`` rebuilds them and yields the same ranks).
On PostgreSQL, capped writers of the same (contest, user) serialise on an advisory lock; SQLite has a
single writer anyway.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import String, Table, bindparam, cast, func, literal, select, update
from sqlalchemy.orm import Session

from scoring import reconcile, rules, totals
from scoring.boards import redis_write
from scoring.models import EntryKind, PointsEntry
from scoring.periods import local_day, period_key, week_start
from scoring.types import ActivityFacts, Period, Scope, ScoreResult, ScoringRules, Subject
from service.clock import utcnow
from service.db_dialect import bulk_insert, lock_keys, rows_affected
from service.retention import AfterEach

CHUNK = 500


@dataclass
class _SourceState:
    generation: int = 0
    live: Any = None  # the live activity entry's row


_FRESH = _SourceState()


def _states(session: Session, contest_id: int, source_keys: Iterable[str]) -> dict[str, _SourceState]:
    """Generation (number of reversals) and the live activity entry of each source."""
    keys = list(dict.fromkeys(source_keys))
    states: dict[str, _SourceState] = {k: _SourceState() for k in keys}
    for start in range(0, len(keys), CHUNK):
        part = keys[start:start + CHUNK]
        q = select(PointsEntry.__table__).where(PointsEntry.source_key.in_(part), PointsEntry.contest_id == contest_id,
                                                PointsEntry.kind.in_([EntryKind.ACTIVITY, EntryKind.REVERSAL]))
        acts: dict[str, dict[int, Any]] = defaultdict(dict)
        for entry in session.execute(q):  # Core rows: no ORM identity map work on the hot path
            st = states[entry.source_key]
            if entry.kind is EntryKind.REVERSAL:
                st.generation = max(st.generation, entry.generation + 1)
            else:
                acts[entry.source_key][entry.generation] = entry
        for key, by_gen in acts.items():
            states[key].live = by_gen.get(states[key].generation)
    return states


def _day_sums(session: Session, contest_id: int, pairs: set[tuple[int, date]]) -> dict[tuple[int, date], int]:
    out: dict[tuple[int, date], int] = defaultdict(int)
    users = sorted({u for u, _ in pairs})
    days = sorted({d for _, d in pairs})
    for start in range(0, len(users), CHUNK):
        q = (select(PointsEntry.user_id, PointsEntry.local_day, func.sum(PointsEntry.points))
             .where(PointsEntry.contest_id == contest_id, PointsEntry.user_id.in_(users[start:start + CHUNK]),
                    PointsEntry.local_day.in_(days))
             .group_by(PointsEntry.user_id, PointsEntry.local_day))
        for user_id, day, pts in session.execute(q):
            out[(user_id, day)] = int(pts or 0)
    return out


def _result(rules_: ScoringRules, entry: Any, created: bool) -> ScoreResult:
    return ScoreResult(contest_id=rules_.contest_id, source_key=entry.source_key, entry_key=entry.entry_key,
                       created=created, points=int(entry.points), uncapped_points=int(entry.uncapped_points),
                       metric_value=float(entry.metric_value), local_day=entry.local_day, rule=entry.rule)


def _insert(session: Session, rows: list[dict]) -> set[str]:
    """Insert entries, skipping existing (contest_id, entry_key); returns the keys actually inserted."""
    now = utcnow()
    for row in rows:
        row.setdefault("created_at", now)
    found = bulk_insert(session, PointsEntry.__table__, rows, ["contest_id", "entry_key"], returning=["entry_key"])
    return {key for (key,) in found}


def score(session: Session, rules_: ScoringRules, subject: Subject, source_key: str,
          facts: ActivityFacts) -> ScoreResult:
    """Score one source for one contest (idempotent per (contest, source, generation))."""
    return score_many(session, rules_, [(subject, source_key, facts)])[0]


def score_many(session: Session, rules_: ScoringRules, items: list[tuple[Subject, str, ActivityFacts]],
               user_totals: dict[int, int] | None = None, *, fresh: bool = False,
               also: list[tuple[Table, list[dict]]] | None = None,
               lines: totals.UserLines | None = None) -> list[ScoreResult]:
    """Score a batch with a handful of statements (state read, day sums, one insert, one board upsert).

    Items are capped in list order; a source repeated inside the batch is scored once. ``user_totals``, when
    given, receives the new all-time total of every user whose board line moved (for badge checks); ``lines``
    their day and week lines before and after (``totals.apply``).
    ``fresh`` says the sources were created in this transaction (e.g. activities just inserted), so no entry
    of them can exist yet and the state read is skipped; their entries are then inserted by the board upsert's
    statement, together with ``also`` (the caller's own new rows of other tables, e.g. activity entries).
    """
    contest = rules_.contest_id
    cap = rules.cap_points(rules_)
    if cap is not None:
        lock_keys(session, [f"lb:{contest}:{s.user_id}" for s, _, _ in items])
    # fresh sources have no state: they all share one empty one (never written to on this path)
    states = {} if fresh else _states(session, contest, (k for _, k, _ in items))
    prepared = []
    for subject, key, facts in items:
        value, rule = rules.explain(rules_, facts)
        day = local_day(facts.started_at, rules_.timezone)
        prepared.append((subject, key, facts, value, rule, day))
    sums = _day_sums(session, contest, {(s.user_id, d) for s, _, _, _, _, d in prepared}) if cap is not None else {}
    rows: list[dict] = []
    planned: dict[str, dict] = {}
    for subject, key, facts, value, rule, day in prepared:
        st = states.get(key, _FRESH)
        if st.live is not None or key in planned:
            continue
        uncapped = rules.to_points(value)
        pts = uncapped
        if cap is not None:
            room = max(0, cap - sums[(subject.user_id, day)])
            pts = max(0, min(uncapped, room)) if uncapped >= 0 else uncapped
            sums[(subject.user_id, day)] += pts
            if pts != uncapped:
                rule = f"{rule}; daily cap {cap}"
        row = {"contest_id": contest, "entry_key": f"act:{key}:{st.generation}", "source_key": key,
               "generation": st.generation, "kind": EntryKind.ACTIVITY.value, "user_id": subject.user_id,
               "team_id": subject.team_id, "organisation_id": subject.organisation_id, "local_day": day,
               "type_code": facts.type_code, "metric_value": value, "uncapped_points": uncapped,
               "points": pts, "rule": rule[:255]}
        rows.append(row)
        planned[key] = row
    deltas = totals.Deltas(contest, rules_.timezone)
    if fresh:  # nothing of these sources exists: every row goes in, with the board upsert in one statement
        now = utcnow()
        for row in rows:
            row["created_at"] = now
            deltas.add(row["user_id"], row["team_id"], row["organisation_id"], row["local_day"], row["points"])
        inserted = {row["entry_key"] for row in rows}
        written = totals.apply(session, deltas, entries=rows, also=also, lines=lines)
    else:
        for table, also_rows in also or ():
            if also_rows:
                session.execute(table.insert(), also_rows)
        inserted = _insert(session, rows)
        for row in rows:
            if row["entry_key"] in inserted:
                deltas.add(row["user_id"], row["team_id"], row["organisation_id"], row["local_day"], row["points"])
        written = totals.apply(session, deltas, lines=lines)
    if user_totals is not None:
        user_totals.update(written)
    missing = [k for _, k, _ in items if k not in planned or planned[k]["entry_key"] not in inserted]
    if missing:  # already scored before (or by a concurrent writer just now): report what is stored
        states.update(_states(session, contest, missing))
    results = []
    reported: set[str] = set()
    for _, key, _ in items:
        row = planned.get(key)
        st = states.get(key, _FRESH)
        if row is not None and row["entry_key"] in inserted:
            results.append(ScoreResult(contest, key, row["entry_key"], key not in reported, row["points"],
                                       row["uncapped_points"], row["metric_value"], row["local_day"], row["rule"]))
            reported.add(key)
        elif st.live is not None:
            results.append(_result(rules_, st.live, False))
        else:
            results.append(ScoreResult(contest, key, f"act:{key}:{st.generation}", False, 0, 0, 0.0,
                                       row["local_day"] if row else date.min, "not stored"))
    return results


def reverse(session: Session, rules_: ScoringRules, source_key: str) -> int:
    """Append a reversal of the source's live generation (and re-apply the day's cap); returns points removed.

    The reversal takes away all the generation holds (its activity line and the cap adjustments filed under
    it), so a withdrawn source shows 0; the room it frees goes to the day's other live sources that the cap
    had cut, each on its own key.
    """
    contest = rules_.contest_id
    cap = rules.cap_points(rules_)
    st = _states(session, contest, [source_key])[source_key]
    live = st.live
    if live is None:
        return 0
    day: list[Any] = []
    held = int(live.points)
    if cap is not None:
        lock_keys(session, [f"lb:{contest}:{live.user_id}"])
        day = list(session.execute(_DAY_LINES, {"contest": contest, "user": live.user_id, "day": live.local_day}))
        held = sum(int(x.points) for x in day if x.source_key == source_key and x.generation == st.generation)
    rev = {"contest_id": contest, "source_key": source_key, "generation": st.generation, "user_id": live.user_id,
           "team_id": live.team_id, "organisation_id": live.organisation_id, "local_day": live.local_day,
           "type_code": live.type_code, "entry_key": f"rev:{source_key}:{st.generation}",
           "kind": EntryKind.REVERSAL.value, "metric_value": -live.metric_value,
           "uncapped_points": -live.uncapped_points, "points": -held, "rule": f"reversal of {live.entry_key}"}
    if not _insert(session, [rev]):
        return 0  # a concurrent reversal won
    deltas = totals.Deltas(contest, rules_.timezone)
    deltas.add(live.user_id, live.team_id, live.organisation_id, live.local_day, -held)
    removed = held
    if cap is not None:
        day.append(_Reversal(source_key, st.generation, -held))
        adjustments = []
        for target, diff in _cap_adjustments(cap, day):
            adjustments.append({
                "contest_id": contest, "source_key": target.source_key, "generation": target.generation,
                "user_id": live.user_id, "team_id": target.team_id, "organisation_id": target.organisation_id,
                "local_day": live.local_day, "type_code": target.type_code,
                "entry_key": _cap_key(target.source_key, target.generation, rev["entry_key"]),
                "kind": EntryKind.CAP_ADJUST.value, "metric_value": 0.0, "uncapped_points": 0, "points": diff,
                "rule": f"daily cap {cap} re-applied after reversal of {live.entry_key}"})
        inserted = _insert(session, adjustments)
        for adj in adjustments:
            if adj["entry_key"] in inserted:
                deltas.add(adj["user_id"], adj["team_id"], adj["organisation_id"], adj["local_day"], adj["points"])
                removed -= adj["points"]
    totals.apply(session, deltas)
    return removed


@dataclass(frozen=True)
class _Reversal:
    """The reversal just written, as ``_cap_adjustments`` reads a line (the day's other lines are Core rows)."""

    source_key: str
    generation: int
    points: int
    id: int = 0
    kind: EntryKind = EntryKind.REVERSAL


_DAY_LINES = (select(PointsEntry.id, PointsEntry.source_key, PointsEntry.generation, PointsEntry.kind,
                     PointsEntry.points, PointsEntry.uncapped_points, PointsEntry.team_id,
                     PointsEntry.organisation_id, PointsEntry.type_code)
              .where(PointsEntry.contest_id == bindparam("contest"), PointsEntry.user_id == bindparam("user"),
                     PointsEntry.local_day == bindparam("day"))
              .order_by(PointsEntry.id))


def _cap_adjustments(cap: int, lines: Iterable[Any]) -> list[tuple[Any, int]]:
    """The cap re-applied to one participant-day: (the source's latest activity line, points it gains or loses).

    A withdrawn source must hold 0. A live one keeps what the cap let it have, at most its uncapped points;
    the room left under the cap goes to the live sources the cap had cut, in the order they were scored (so
    the day is what scoring them afresh in that order gives), and a day over the cap gives back from the
    latest first. Lines of no activity (nothing writes them today) keep their points and take room first, as
    they do when a source is scored.
    """
    held: dict[str, int] = defaultdict(int)
    latest: dict[str, Any] = {}
    reversed_: set[tuple[str, int]] = set()
    for line in lines:
        held[line.source_key] += int(line.points)
        if line.kind == EntryKind.ACTIVITY and (line.source_key not in latest
                                                or line.id > latest[line.source_key].id):
            latest[line.source_key] = line
        elif line.kind == EntryKind.REVERSAL:
            reversed_.add((line.source_key, line.generation))
    order = sorted(latest.values(), key=lambda line: line.id)
    live = [line for line in order if (line.source_key, line.generation) not in reversed_]
    due = dict.fromkeys(latest, 0)
    for line in live:
        due[line.source_key] = max(0, min(held[line.source_key], int(line.uncapped_points)))
    room = cap - sum(v for k, v in held.items() if k not in latest) - sum(due.values())
    for line in live if room > 0 else reversed(live):
        if room == 0:
            break
        key = line.source_key
        step = max(0, min(room, int(line.uncapped_points) - due[key])) if room > 0 else -min(-room, due[key])
        due[key] += step
        room -= step
    return [(line, due[line.source_key] - held[line.source_key]) for line in order
            if due[line.source_key] != held[line.source_key]]


def _cap_key(source_key: str, generation: int, cause: str) -> str:
    """Unique per (adjusted source generation, reversal that caused it); hashed down past the column's width."""
    key = f"cap:{source_key}:{generation}@{cause}"
    return key if len(key) <= 300 else f"{key[:250]}#{hashlib.sha256(key.encode()).hexdigest()[:40]}"


def rescore_contest(session: Session, contest_id: int, after_each: AfterEach | None = None) -> int:
    """Rebuild every board line of the contest from the ledger (SQL, then drop Redis boards to rebuild);
    returns the lines written. With ``after_each`` (commit, progress) each subject range is its own
    transaction (``scoring.reconcile.rescore``); without it, all of it is the caller's one transaction."""
    counts = reconcile.rescore(session, contest_id, after_each or (lambda: True))
    r = redis_write.client()
    if r is not None:
        redis_write.drop_contest(r, redis_write.prefix(), contest_id)
    return counts.inserted


def forget_user(session: Session, contest_id: int, user_id: int) -> None:
    """Take a (deleted) user off a contest's user boards; their ledger rows stay for team totals."""
    keys = totals.remove_lines(session, contest_id, Scope.USER, user_id)
    if keys and redis_write.client() is not None:
        pfx = redis_write.prefix()
        redis_write.queue_removal(session, [redis_write.board_key(pfx, contest_id, Scope.USER, k) for k in keys],
                                   [redis_write.member(user_id)])


ERASED = "erased"
"""The source key of every detached line."""


def detach_user(session: Session, user_id: int) -> int:
    """Erasure: the person's lines keep only what team, organisation and collective totals (and the organiser
    report's days and activity types) need, so every total others see stays exact; returns the lines detached.

    The user, the source (an activity id or a check-in key naming the user), the rule text and the write time
    go: the key becomes ``erased:<line id>`` (unique in its contest), the time the start of the line's day in
    UTC, so neither groups one person's lines apart from the day's. Lines without a user are on no user board,
    and nothing that scores, reverses or re-applies a cap ever selects them again.
    """
    days = list(session.scalars(select(PointsEntry.local_day).where(PointsEntry.user_id == user_id).distinct()))
    detached = 0
    for day in days:
        detached += rows_affected(session, update(PointsEntry).where(
            PointsEntry.user_id == user_id, PointsEntry.local_day == day).values(
            user_id=None, entry_key=literal(ERASED + ":") + cast(PointsEntry.id, String), source_key=ERASED,
            generation=0, rule="", created_at=datetime.combine(day, time(0), tzinfo=UTC)))
    return detached


def user_total(session: Session, contest_id: int, user_id: int, period: Period | str = Period.ALL,
               at: datetime | None = None, tz: str = "UTC") -> int:
    """The user's points in the contest for the period containing ``at`` (from the ledger itself)."""
    period = Period(period)
    q = select(func.coalesce(func.sum(PointsEntry.points), 0)).where(
        PointsEntry.contest_id == contest_id, PointsEntry.user_id == user_id)
    if period is not Period.ALL:
        day = local_day(at or utcnow(), tz)
        if period is Period.DAY:
            q = q.where(PointsEntry.local_day == day)
        else:
            start = week_start(day)
            q = q.where(PointsEntry.local_day >= start, PointsEntry.local_day < start + timedelta(days=7))
    return int(session.execute(q).scalar_one())


def day_points(session: Session, contest_id: int, user_id: int) -> dict[date, int]:
    """Points per contest-local day for one user (streaks and WHO-week badges read this)."""
    return {d: int(p or 0) for d, p in session.execute(_DAY_POINTS, {"contest": contest_id, "user": user_id})}


_DAY_POINTS = (select(PointsEntry.local_day, func.sum(PointsEntry.points))
               .where(PointsEntry.contest_id == bindparam("contest"), PointsEntry.user_id == bindparam("user"))
               .group_by(PointsEntry.local_day))


__all__ = ["day_points", "detach_user", "forget_user", "period_key", "rescore_contest", "reverse", "score",
           "score_many", "user_total"]
