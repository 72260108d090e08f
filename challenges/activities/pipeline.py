"""The ingest pipeline every path (single, batch, file import) goes through.

The pipeline runs, on a whole list at once (a batch of 1,000 is a handful of
statements, no per-item ORM flush):

1. ``input_problems``: what is not an activity at all is refused (single: 422; batch: item ``rejected``);
2. same record (``source`` + ``external_id``, or the fingerprint without an id): ``duplicate``, the stored
   record answers and nothing is stored twice;
3. ``plausibility.judge``: accepted, flagged or rejected (stored with the reason either way);
4. ``dedupe.resolve`` against the user's live records (and earlier items of the same batch): the richer of
   overlapping records counts, the poorer is ``superseded`` and its points reversed;
5. ``crediting.count``: an entry per challenge the activity falls in, scored through the ledger.

Functions take a session and plain values, flush but never commit (the view, or the idempotency helper,
commits once).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ARRAY, String, and_, any_, bindparam, func, insert, or_, select, text, tuple_, update
from sqlalchemy.orm import Session

from challenges.activities import bulk_rows, crediting, dedupe, plausibility
from challenges.activities.models import Activity, ActivityIn, ActivityKind, ActivitySource, ActivityStatus
from challenges.activities.plausibility import DEFAULT_LIMITS, Limits
from service import clock, metrics
from service.clock import utcnow
from service.db_dialect import is_postgres
from service.models import User

COLUMNS = (Activity.id, Activity.user_id, Activity.type_code, Activity.kind, Activity.started_at,
           Activity.ended_at, Activity.duration_s, Activity.distance_m, Activity.steps, Activity.status,
           Activity.reason, Activity.richness, Activity.deleted_at, Activity.source, Activity.external_id,
           Activity.moving_time_s)


@dataclass
class Row:
    """An activity as the pipeline handles it (a stored one from the pool, or a new one to insert)."""

    id: int | None
    user_id: int
    type_code: str
    kind: ActivityKind
    started_at: datetime
    ended_at: datetime
    duration_s: int
    distance_m: float | None
    steps: int | None
    status: ActivityStatus
    reason: str | None
    richness: int
    deleted_at: datetime | None = None
    source: ActivitySource | None = None
    external_id: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    supersedes: list[Row] = field(default_factory=list)
    kept_by: Row | None = None
    moving_time_s: int | None = None


STEPS_NOT_COUNTED = ("steps-not-counted: a session keeps its steps as one of its figures, but steps count only from "
                     "step records (kind steps), which are deduplicated across phone and watch: counted from sessions "
                     "as well, the same steps would count twice. Send them as a step record to count them")


def notes_of(kind: ActivityKind, steps: int | None) -> list[str]:
    """What an answer says about figures the activity carries that count nowhere, so none is dropped silently."""
    return [STEPS_NOT_COUNTED] if kind == ActivityKind.SESSION and steps else []


@dataclass
class ItemResult:
    """The answer for one item: created, duplicate, flagged or rejected, with the reason and points."""

    index: int
    status: str
    external_id: str | None = None
    activity_id: int | None = None
    reason: str | None = None
    row: Row | None = None
    points: dict[int, int] = field(default_factory=dict)
    entries: list[dict[str, Any]] = field(default_factory=list)
    supersedes: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def view(self) -> dict[str, Any]:
        """The stored activity as the API shows it, from what the pipeline already holds (no reload)."""
        assert self.row is not None
        return {**self.row.values, "id": self.row.id, "entries": self.entries, "result": self.status,
                "notes": self.notes}


def pool_row(r: Any) -> Row:
    return Row(r.id, r.user_id, r.type_code, r.kind, r.started_at, r.ended_at, r.duration_s, r.distance_m, r.steps,
               r.status, r.reason, r.richness, r.deleted_at, r.source, r.external_id, moving_time_s=r.moving_time_s)


def live_rows(session: Session, user_id: int, start: datetime, end: datetime, *,
              statuses: Sequence[ActivityStatus] = dedupe.LIVE, exclude: int | None = None) -> list[Row]:
    """The user's records of ``statuses`` (not deleted) overlapping [start, end): what an edit or an approval
    is deduplicated against."""
    query = select(*COLUMNS).where(Activity.user_id == user_id, Activity.started_at < end, Activity.ended_at > start,
                                   Activity.status.in_(statuses), Activity.deleted_at.is_(None))
    if exclude is not None:
        query = query.where(Activity.id != exclude)
    return [pool_row(r) for r in session.execute(query)]


def day_bounds(at: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    day = at.astimezone(zone).date()
    start = datetime.combine(day, time(), zone)
    return start, datetime.combine(day + timedelta(days=1), time(), zone)


def steps_by_day(pool: Iterable[Activity | Row], zone: ZoneInfo) -> dict[Any, int]:
    """The live step records' totals per local day, which the daily plausibility limit is checked against."""
    day_steps: dict[Any, int] = {}
    for row in pool:
        if row.kind == ActivityKind.STEPS:
            day = row.started_at.astimezone(zone).date()
            day_steps[day] = day_steps.get(day, 0) + (row.steps or 0)
    return day_steps


def run(session: Session, user: User, items: Sequence[ActivityIn | str], *, now: datetime | None = None,
        limits: Limits = DEFAULT_LIMITS, award: bool = True) -> list[ItemResult]:
    """Run the pipeline on a list of items (a ``str`` item is a parse problem already found by the caller)."""
    now = now or utcnow()
    results: list[ItemResult] = []
    valid: list[tuple[int, ActivityIn, str]] = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            results.append(ItemResult(i, "rejected", reason=item))
            continue
        problems = plausibility.input_problems(
            type_code=item.type_code, started_at=item.started_at, duration_s=item.duration_s,
            distance_m=item.distance_m, steps=item.steps, moving_time_s=item.moving_time_s, now=now)
        if problems:
            results.append(ItemResult(i, "rejected", item.external_id, reason="; ".join(problems)))
            continue
        valid.append((i, item, dedupe.fingerprint(user.id, item)))
        results.append(ItemResult(i, "pending", item.external_id))
    if not valid:
        _count(session, results)
        return results
    zone = clock.zone(user.timezone or "UTC")
    # day bounds are monotone in time: the span is the bounds of the earliest start and the latest end
    span_start = day_bounds(min(it.started_at for _, it, _ in valid), zone)[0]
    span_end = day_bounds(max(it.ended_at for _, it, _ in valid), zone)[1]
    known, pool, drawn = _lookup(session, user.id, valid, span_start, span_end)
    day_steps = steps_by_day(pool, zone)
    new_rows: list[Row] = []
    seen: dict[tuple[Any, ...], int] = {}
    for i, item, fp in valid:
        key = (item.source, item.external_id) if item.external_id is not None else (item.source, "fp", fp)
        res = results[i]
        if key in known:
            res.status, res.activity_id = "duplicate", known[key]
            res.reason = "already received: same source and external_id" if item.external_id else \
                "already received: the same activity from the same source"
            continue
        if key in seen:
            res.status, res.reason = "duplicate", f"repeats item {seen[key]} of this batch"
            continue
        seen[key] = i
        row = judge_and_resolve(user.id, item, fp, pool, day_steps, zone, limits, now)
        res.row = row
        new_rows.append(row)
        if row.status in dedupe.LIVE:
            pool.add(row)  # type: ignore[arg-type]
    first = _store(session, new_rows, drawn)
    counted = crediting.count(session, new_rows, now, weights={user.id: user.weight_kg}, award=award,
                                     fresh=True, first=first)  # new: the ledger holds nothing of them
    points_of: dict[int, dict[int, int]] = {}
    for (aid, cid), pts in counted.points.items():
        points_of.setdefault(aid, {})[cid] = pts
    for res in results:
        if res.row is None:
            continue
        row = res.row
        res.activity_id = row.id
        res.reason = row.reason
        res.supersedes = [loser.id for loser in row.supersedes if loser.id is not None]
        res.notes = notes_of(row.kind, row.steps)
        res.status = {ActivityStatus.ACCEPTED: "created", ActivityStatus.FLAGGED: "flagged",
                      ActivityStatus.REJECTED: "rejected", ActivityStatus.SUPERSEDED: "duplicate"}[row.status]
        res.points = points_of.get(row.id or 0, {})
        res.entries = [{"challenge_id": e["challenge_id"], "status": e["status"], "reason": e["reason"],
                        "points": res.points.get(e["challenge_id"], 0)} for e in counted.entries.get(row.id or 0, [])]
        if row.status == ActivityStatus.ACCEPTED and any(
                e["status"] != "counted" for e in counted.entries.get(row.id or 0, [])):
            res.status = "flagged"
            res.reason = "; ".join(sorted({e["reason"] for e in counted.entries[row.id or 0] if e["reason"]}))
    _count(session, results)
    return results


def _count(session: Session, results: Sequence[ItemResult]) -> None:
    """Items refused before anything is stored count at once (a single one is answered 422, so its transaction
    never commits); the others count when the transaction that stored or answered them commits."""
    outcomes: Counter[str] = Counter()
    for res in results:
        if res.row is None and res.status == "rejected":
            metrics.INGEST_ITEMS.labels("rejected").inc()
        else:
            outcomes[{"created": "accepted", "duplicate": "superseded" if res.row else "duplicate"}.get(
                res.status, res.status)] += 1
    metrics.count_on_commit(session, metrics.INGEST_ITEMS, outcomes)


def _lookup(session: Session, user_id: int, valid: list[tuple[int, ActivityIn, str]], span_start: datetime,
            span_end: datetime) -> tuple[dict[tuple[Any, ...], int], dedupe.Pool, int | None]:
    """In one query (per 500 items): the records the items repeat (rule 1) and the live pool around them.

    For a single item on PostgreSQL the same query also draws the id its activity will get, so the activity
    can be inserted by the ledger's statement together with its entries (see ``_store``).
    """
    known: dict[tuple[Any, ...], int] = {}
    pool = dedupe.Pool()
    in_pool: set[int] = set()
    postgres = is_postgres(session)
    draw = postgres and len(valid) == 1
    drawn: int | None = None
    for start in range(0, len(valid), 500):
        chunk = valid[start:start + 500]
        pairs = [(it.source.value, it.external_id) for _, it, _ in chunk if it.external_id is not None]
        fps = [fp for _, it, fp in chunk if it.external_id is None]
        params: dict[str, Any] = {"uid": user_id, "span_start": span_start, "span_end": span_end}
        if pairs and postgres:  # one array parameter instead of 1,000 placeholders psycopg must parse
            params["ext"] = [e for _, e in pairs]
        elif pairs:
            params["pairs"] = pairs
        if fps:
            params["fps"] = fps
        stmt = _lookup_statement(postgres, bool(pairs), bool(fps), draw)
        for r in session.execute(stmt, params):
            if draw:
                drawn = r.next_id
                if r.id is None:
                    continue
            source = ActivitySource(r.source)
            if r.external_id is not None:
                known[(source, r.external_id)] = r.id
            if r.deleted_at is None:
                known.setdefault((source, "fp", r.fingerprint), r.id)
            if (r.id not in in_pool and r.status in dedupe.LIVE and r.deleted_at is None
                    and r.started_at < span_end and r.ended_at > span_start):
                in_pool.add(r.id)
                pool.add(pool_row(r))  # type: ignore[arg-type]
    return known, pool, drawn


@lru_cache(maxsize=16)
def _lookup_statement(postgres: bool, pairs: bool, fps: bool, draw: bool = False) -> Any:
    """The lookup query, built once per shape (its parameters bound at execution): the rule-1 repeats (same
    source and external id, or same fingerprint) and the live pool of the span; with ``draw``, each row also
    carries one new activity id (a one-row CTE left-joined to the matches, so it comes back even with none)."""
    wanted: list[Any] = [and_(Activity.started_at < bindparam("span_end"), Activity.ended_at > bindparam("span_start"),
                              Activity.status.in_(dedupe.LIVE), Activity.deleted_at.is_(None))]
    if pairs and postgres:
        wanted.append(Activity.external_id == any_(bindparam("ext", type_=ARRAY(String))))
    elif pairs:
        wanted.append(tuple_(Activity.source, Activity.external_id).in_(bindparam("pairs", expanding=True)))
    if fps:
        wanted.append(and_(Activity.fingerprint.in_(bindparam("fps", expanding=True)), Activity.deleted_at.is_(None)))
    if not draw:
        return select(*COLUMNS, Activity.fingerprint).where(Activity.user_id == bindparam("uid"), or_(*wanted))
    next_id = select(func.nextval(func.pg_get_serial_sequence("activities", "id")).label("next_id")).cte("next_id")
    matches = and_(Activity.user_id == bindparam("uid"), or_(*wanted))
    return select(next_id.c.next_id, *COLUMNS, Activity.fingerprint).select_from(
        next_id.outerjoin(Activity.__table__, matches))


def judge_and_resolve(user_id: int, item: ActivityIn, fp: str, pool: dedupe.Pool, day_steps: dict,
                       zone: ZoneInfo, limits: Limits, now: datetime) -> Row:
    day = item.started_at.astimezone(zone).date()
    verdict = plausibility.judge(type_code=item.type_code, duration_s=item.duration_s,
                                 moving_time_s=item.moving_time_s, distance_m=item.distance_m, steps=item.steps,
                                 day_steps_before=day_steps.get(day, 0) if item.kind == ActivityKind.STEPS else 0,
                                 limits=limits)
    status, reason = ActivityStatus(verdict.status), verdict.reason
    supersedes: list[Row] = []
    kept: Row | None = None
    ended_at = item.ended_at
    if status != ActivityStatus.REJECTED:
        resolution = dedupe.resolve(item, pool.rivals(item, ended_at))
        if not resolution.keep_new:
            kept = resolution.kept  # type: ignore[assignment]
            status = ActivityStatus.SUPERSEDED
            reason = (f"counted once: overlaps activity {kept.id if kept and kept.id else '(this batch)'} "
                      f"from {kept.source.value if kept and kept.source else 'another source'}, which is kept")
        elif status == ActivityStatus.ACCEPTED:
            supersedes = resolution.supersede  # type: ignore[assignment]
            for rival in supersedes:
                rival.status = ActivityStatus.SUPERSEDED
                rival.reason = "counted once: a later item of this batch covers the same time with a richer record"
    if item.kind == ActivityKind.STEPS and status in dedupe.LIVE:
        day_steps[day] = day_steps.get(day, 0) + (item.steps or 0) - sum(r.steps or 0 for r in supersedes)
    values = {"user_id": user_id, "type_code": item.type_code, "kind": item.kind, "started_at": item.started_at,
              "ended_at": ended_at, "duration_s": item.duration_s, "moving_time_s": item.moving_time_s,
              "distance_m": item.distance_m, "steps": item.steps, "source": item.source,
              "external_id": item.external_id, "source_ref": item.source_ref, "source_sha256": item.source_sha256,
              "fingerprint": fp, "richness": item.richness, "status": status, "reason": reason,
              "created_at": now, "updated_at": now, "superseded_by_id": kept.id if kept else None}
    return Row(None, user_id, item.type_code, item.kind, item.started_at, ended_at, item.duration_s,
               item.distance_m, item.steps, status, reason, item.richness, None, item.source, item.external_id,
               values, supersedes, kept if kept is not None and kept.id is None else None, item.moving_time_s)


def _store(session: Session, rows: list[Row], drawn: int | None = None) -> list[tuple[Any, list[dict]]]:
    """One INSERT .. RETURNING for the new rows, then mark what they supersede (reversing its points).

    A single new row whose id was drawn by the lookup and that supersedes nothing is not inserted here: it is
    returned for ``crediting.count`` to write with its entries and ledger lines in one statement.
    """
    if not rows:
        return []
    for row in rows:
        row.values["status"] = row.status
    table = Activity.__table__
    if drawn is not None and len(rows) == 1 and not rows[0].supersedes and rows[0].kept_by is None:
        rows[0].id = rows[0].values["id"] = drawn
        return [(table, [rows[0].values])]
    values = [r.values for r in rows]
    dialect = session.get_bind().dialect.name
    ids: Sequence[int]
    if dialect == "postgresql" and len(rows) > 1:
        # Ids drawn from the sequence first (one array; the sequence is looked up once, not per row), then
        # COPY: a 1,000-row INSERT .. RETURNING is one huge statement that psycopg re-parses on every call.
        ids = session.execute(text("SELECT array_agg(nextval((SELECT pg_get_serial_sequence('activities', 'id')))) "
                                   "FROM generate_series(1, :n)"), {"n": len(rows)}).scalar_one()
        for value, aid in zip(values, sorted(ids), strict=True):
            value["id"] = aid
        ids = [v["id"] for v in values]
        bulk_rows.write(session, table, values)  # type: ignore[arg-type]
    elif dialect == "sqlite" and len(rows) > 1 and all(r.external_id for r in rows):
        # SQLite cannot return the ids of a multi-row INSERT in order, so SQLAlchemy would send one INSERT per
        # row; one INSERT and one SELECT of the ids by (source, external_id) is much cheaper.
        session.execute(insert(table), values)  # type: ignore[arg-type]
        found = {(ActivitySource(s), e): i for i, s, e in session.execute(
            select(Activity.id, Activity.source, Activity.external_id).where(
                Activity.user_id == rows[0].user_id,
                tuple_(Activity.source, Activity.external_id).in_([(r.source.value, r.external_id)  # type: ignore[union-attr]
                                                                   for r in rows])))}
        ids = [found[(r.source, r.external_id)] for r in rows]
    else:
        ids = session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True),  # type: ignore[arg-type]
                              values).scalars().all()
    for row, aid in zip(rows, ids, strict=True):
        row.id = aid
    for row in rows:
        supersede(session, row.id, [loser.id for loser in row.supersedes if loser.id is not None])  # type: ignore[arg-type]
        for loser in row.supersedes:  # an item of this batch answers with the winner's id, as it is now stored
            loser.reason = superseded_reason(row.id)  # type: ignore[arg-type]
        if row.kept_by is not None:  # kept by an earlier item of this batch, whose id is known only now
            session.execute(update(Activity).where(Activity.id == row.id).values(superseded_by_id=row.kept_by.id))
    return []


def superseded_reason(winner: int) -> str:
    return f"counted once: activity {winner} covers the same time with a richer record"


def supersede(session: Session, winner: int, losers: list[int]) -> None:
    """Mark ``losers`` superseded by ``winner`` and reverse whatever points they had scored."""
    if not losers:
        return
    session.execute(update(Activity).where(Activity.id.in_(losers)).values(
        status=ActivityStatus.SUPERSEDED, superseded_by_id=winner, updated_at=utcnow(),
        reason=superseded_reason(winner)))
    crediting.withdraw(session, losers, f"superseded by activity {winner}")
