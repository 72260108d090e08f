"""Activity ingest use cases: one per path (single, batch sync, file import, edit, delete).

All of them end in ``pipeline.run`` or reuse its parts, so every path stores the raw source
reference, dedupes, judges plausibility and scores through the ledger the same way. They flush, never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from challenges.activities import crediting, dedupe, distance_samples, files, health_mappings, pipeline, plausibility
from challenges.activities.models import (
    Activity,
    ActivityEntry,
    ActivityIn,
    ActivityKind,
    ActivitySource,
    ActivityStatus,
)
from challenges.activities.pipeline import ItemResult
from challenges.activities.plausibility import DEFAULT_LIMITS, Limits
from challenges.activities.schemas import parse_item
from scoring.models import PointsEntry
from service import clock
from service.clock import utcnow
from service.errors import NotFound, TooLarge, Unprocessable
from service.models import User
from service.schemas import text_problem


class InvalidActivity(Unprocessable):
    code = "invalid-activity"
    title = "Not a valid activity"


def _raise_for(res: ItemResult) -> None:
    if res.row is None and res.status == "rejected":
        slug = (res.reason or "invalid-activity").split(":", 1)[0]
        code = slug if slug.replace("-", "").isalpha() and len(slug) < 40 else "invalid-activity"
        raise InvalidActivity(res.reason or "The activity is not valid.", code=code)


def record_activity(session: Session, user: User, item: ActivityIn, *, now: datetime | None = None,
                    limits: Limits = DEFAULT_LIMITS) -> tuple[dict[str, Any], bool]:
    """One activity (manual entry or a single synced record): its view (``result`` says what happened) and
    whether a new row was stored (False when the same record had been received before)."""
    res = pipeline.run(session, user, [item], now=now, limits=limits)[0]
    _raise_for(res)
    if res.row is not None:
        return res.view(), True
    activity = session.get(Activity, res.activity_id)
    assert activity is not None
    return {**describe(session, [activity])[0], "result": res.status}, False


def describe(session: Session, activities: Sequence[Activity]) -> list[dict[str, Any]]:
    """Activities as the API shows them: with their entries and the net points each scored (from the ledger)."""
    ids = [a.id for a in activities]
    entries: dict[int, list[ActivityEntry]] = {}
    if ids:  # one query for the page, not one per activity
        for e in session.scalars(select(ActivityEntry).where(ActivityEntry.activity_id.in_(ids))
                                 .order_by(ActivityEntry.challenge_id)):
            entries.setdefault(e.activity_id, []).append(e)
    points = points_by_entry(session, ids, {e.challenge_id for es in entries.values() for e in es})
    out = []
    for a in activities:
        view = {c.key: getattr(a, c.key) for c in Activity.__mapper__.column_attrs}
        view["entries"] = [{"challenge_id": e.challenge_id, "status": e.status, "reason": e.reason,
                            "points": points.get((a.id, e.challenge_id), 0)} for e in entries.get(a.id, [])]
        view["notes"] = pipeline.notes_of(a.kind, a.steps)
        out.append(view)
    return out


def sync_batch(session: Session, user: User, raw_items: Sequence[Any], fmt: str = "vcc", *,
               now: datetime | None = None, limits: Limits = DEFAULT_LIMITS, award: bool = True
               ) -> list[ItemResult]:
    """A wearable sync of up to ``limits.max_batch_items`` items, each answered on its own.

    Health Connect / HealthKit distance samples are added to the exercise session they lie within, of this
    batch or received before (``challenges.activities.distance_samples``), and answered ``merged`` with its id.
    ``award=False`` skips the badge check (a bulk load such as the demo evaluates badges once at the end).
    """
    if len(raw_items) > limits.max_batch_items:
        raise TooLarge(f"A batch holds at most {limits.max_batch_items} items; this one has {len(raw_items)}. "
                       "Split it into several requests.", code="batch-too-large", limit=limits.max_batch_items)
    now = now or utcnow()
    parsed: list[ActivityIn | str | None]
    placements: list[distance_samples.Placement] = []
    unstorable: dict[int, str] = {}
    if text_problem(raw_items):  # the schema leaves the items' text to us: one bad item fails only itself
        unstorable = {i: f"bad-text: {problem}" for i, r in enumerate(raw_items) if (problem := text_problem(r))}
    if fmt == "vcc":
        parsed = [unstorable.get(i) or parse_item(r) for i, r in enumerate(raw_items)]
    else:
        mapper = health_mappings.from_health_connect if fmt == "health_connect" else health_mappings.from_healthkit
        mapped = [unstorable.get(i) or (mapper(r) if isinstance(r, dict) else "an item must be a JSON object")
                  for i, r in enumerate(raw_items)]
        placements = distance_samples.place(session, user.id, mapped)
        parsed = [None if isinstance(it, health_mappings.Distance) else it for it in mapped]
    slots = [i for i, p in enumerate(parsed) if p is not None]
    results = pipeline.run(session, user, [parsed[i] for i in slots], now=now,  # type: ignore[misc]
                                    limits=limits, award=award)
    out: list[ItemResult] = [ItemResult(i, "pending") for i in range(len(parsed))]
    for slot, res in zip(slots, results, strict=True):
        res.index = slot
        out[slot] = res
    for res in _settle_distances(session, user, placements, out, now=now, limits=limits, award=award):
        out[res.index] = res
    return out


def _settle_distances(session: Session, user: User, placements: list[distance_samples.Placement],
                      results: list[ItemResult], *, now: datetime, limits: Limits, award: bool) -> list[ItemResult]:
    """After the batch's activities are stored: point the samples merged in this batch at their session's id,
    add the others to the stored sessions they lie within (rejudged and rescored), remember all of them."""
    into: dict[int, list[distance_samples.Placement]] = {}
    for p in placements:
        if p.status != "merged":
            continue
        if not p.adds:  # already in the workout's totalDistance: remembered, not added
            home = results[p.home] if p.home is not None else None
            p.activity_id = p.activity_id or (home.activity_id if home else None)
            if p.activity_id is None:
                p.status = "rejected"
                p.reason = f"session-not-stored: its workout (item {p.home}) was not stored ({home and home.reason})"
            continue
        if p.home is not None:
            home = results[p.home]
            if home.row is not None:  # stored now, judged and scored with the sample's distance in it
                p.activity_id = home.row.id
                continue
            if home.status != "duplicate" or home.activity_id is None:
                p.status = "rejected"
                p.reason = f"session-not-stored: its exercise session (item {p.home}) was not stored ({home.reason})"
                continue
            # the session was received before: the sample goes into the stored one
            p.activity_id, p.reason = home.activity_id, f"merged into activity {home.activity_id}, its exercise session"
        into.setdefault(p.activity_id, []).append(p)  # type: ignore[arg-type]
    if into:
        stored = session.scalars(select(Activity).where(Activity.id.in_(sorted(into))).with_for_update()
                                 .execution_options(populate_existing=True))
        for act in stored:
            problem = _add_distance(session, user, act, sum(p.sample.metres for p in into[act.id]),
                                    now=now, limits=limits, award=award)
            for p in into[act.id] if problem else ():
                p.status, p.reason = "rejected", problem
    distance_samples.record(session, user.id, placements, now)
    return [ItemResult(p.index, p.status, p.sample.external_id, p.activity_id, p.reason) for p in placements]


def _add_distance(session: Session, user: User, act: Activity, metres: float, *, now: datetime, limits: Limits,
                  award: bool) -> str | None:
    """Add late distance samples to a stored session; what is wrong, if they cannot go in."""
    if act.deleted_at is not None:
        return f"session-deleted: activity {act.id}, the exercise session it lies within, was deleted"
    item = _item_of(act)
    item.distance_m = (item.distance_m or 0.0) + metres
    if act.status not in dedupe.LIVE:  # counts nowhere (superseded): keep the figure for if it ever counts again
        act.distance_m, act.fingerprint, act.updated_at = item.distance_m, dedupe.fingerprint(user.id, item), now
        return None
    problems = plausibility.input_problems(type_code=item.type_code, started_at=item.started_at,
                                           duration_s=item.duration_s, distance_m=item.distance_m,
                                           steps=item.steps, moving_time_s=item.moving_time_s, now=now)
    if problems:
        return "; ".join(problems)
    rejudge(session, user, act, item, now=now, limits=limits, award=award, why="distance samples added")
    return None


def import_file(session: Session, user: User, filename: str | None, data: bytes, *, max_bytes: int,
                type_code: str | None = None, external_id: str | None = None, now: datetime | None = None,
                limits: Limits = DEFAULT_LIMITS) -> tuple[dict[str, Any], bool]:
    """A GPX, TCX or FIT file: figures computed from the track; the same file twice is a duplicate."""
    if len(data) > max_bytes:
        raise TooLarge(f"The file is {len(data)} bytes; imports are limited to {max_bytes} bytes.",
                       code="file-too-large", limit=max_bytes)
    summary = files.read_activity_file(filename, data, max_points=limits.max_file_points)
    code = type_code or files.type_for_sport(summary.sport)
    if code is None:
        raise InvalidActivity(f"The file's sport {summary.sport!r} is not one we can map; send the form field "
                              "'type' (see GET /api/v1/activity-types).", code="unknown-type")
    item = ActivityIn(code, summary.started_at, summary.duration_s, ActivitySource(summary.format),
                      ActivityKind.SESSION, external_id or f"sha256:{summary.sha256}",
                      distance_m=summary.distance_m, moving_time_s=summary.moving_time_s,
                      source_ref=(filename or f"upload.{summary.format}")[:255], source_sha256=summary.sha256)
    return record_activity(session, user, item, now=now, limits=limits)


def own_activity(session: Session, user: User, activity_id: int) -> Activity:
    """The user's own, not deleted activity; anyone else's is simply not found."""
    activity = session.get(Activity, activity_id)
    if activity is None or activity.user_id != user.id or activity.deleted_at is not None:
        raise NotFound(f"You have no activity {activity_id}.", code="activity-not-found")
    return activity


EDITABLE = {"type": "type_code", "kind": "kind", "started_at": "started_at", "duration_s": "duration_s",
            "moving_time_s": "moving_time_s", "distance_m": "distance_m", "steps": "steps"}


def edit_activity(session: Session, user: User, activity_id: int, changes: dict[str, Any], *,
                  now: datetime | None = None, limits: Limits = DEFAULT_LIMITS) -> Activity:
    """Change an activity: its points are reversed, and it is judged, deduplicated and scored afresh."""
    now = now or utcnow()
    act = own_activity(session, user, activity_id)
    item = _item_of(act)
    for key, value in changes.items():
        if key == "ended_at":
            continue
        setattr(item, EDITABLE[key], value)
    if "ended_at" in changes:
        item.duration_s = round((changes["ended_at"] - item.started_at).total_seconds())
    problems = plausibility.input_problems(type_code=item.type_code, started_at=item.started_at,
                                           duration_s=item.duration_s, distance_m=item.distance_m,
                                           steps=item.steps, moving_time_s=item.moving_time_s, now=now)
    if problems:
        raise InvalidActivity("; ".join(problems), code=problems[0].split(":", 1)[0])
    return rejudge(session, user, act, item, now=now, limits=limits)


def _item_of(act: Activity) -> ActivityIn:
    return ActivityIn(act.type_code, act.started_at, act.duration_s, act.source, act.kind, act.external_id,
                      act.distance_m, act.steps, act.moving_time_s, act.source_ref, act.source_sha256)


def rejudge(session: Session, user: User, act: Activity, item: ActivityIn, *, now: datetime,
            limits: Limits = DEFAULT_LIMITS, award: bool = True, why: str = "edited") -> Activity:
    """Make a stored activity what ``item`` says (an edit, or distance samples that arrived later): its points
    are reversed, and it is judged, deduplicated and scored afresh."""
    crediting.withdraw(session, [act.id], why, drop=True)
    zone = clock.zone(user.timezone or "UTC")
    pool = dedupe.Pool(r for r in _pool(session, user.id, item, zone) if r.id != act.id)
    day_steps = pipeline.steps_by_day(pool, zone)
    row = pipeline.judge_and_resolve(user.id, item, dedupe.fingerprint(user.id, item), pool, day_steps,
                                              zone, limits, now)
    for key, value in row.values.items():
        if key not in ("created_at", "user_id", "source", "external_id", "source_ref", "source_sha256"):
            setattr(act, key, value)  # superseded_by_id too: the kept rival, or None
    session.flush()
    row.id = act.id
    losers = [r.id for r in row.supersedes if r.id is not None]
    pipeline.supersede(session, act.id, losers)
    crediting.count(session, [act], now, weights={user.id: user.weight_kg}, award=award)
    session.flush()
    session.refresh(act)
    return act


def delete_activity(session: Session, user: User, activity_id: int, *, now: datetime | None = None) -> int:
    """Delete (softly, keeping the trail): points reversed; what it had superseded counts again."""
    now = now or utcnow()
    act = own_activity(session, user, activity_id)
    removed = crediting.withdraw(session, [act.id], "deleted by the participant")
    act.deleted_at, act.updated_at = now, now
    revived = list(session.scalars(select(Activity).where(Activity.superseded_by_id == act.id,
                                                          Activity.deleted_at.is_(None))))
    if revived:
        ids = [a.id for a in revived]
        session.execute(delete(ActivityEntry).where(ActivityEntry.activity_id.in_(ids)))
        session.execute(update(Activity).where(Activity.id.in_(ids)).values(
            status=ActivityStatus.ACCEPTED, superseded_by_id=None, updated_at=now,
            reason=f"counts again: activity {act.id}, which had superseded it, was deleted"))
        session.flush()
        for a in revived:
            session.refresh(a)
        crediting.count(session, revived, now, weights={user.id: user.weight_kg})
    session.flush()
    return removed


def _pool(session: Session, user_id: int, item: ActivityIn, zone: ZoneInfo) -> list[pipeline.Row]:
    """Live records around ``item``: its whole local day(s), so the day's step total is complete too."""
    start = pipeline.day_bounds(item.started_at, zone)[0]
    end = pipeline.day_bounds(item.ended_at, zone)[1]
    return pipeline.live_rows(session, user_id, start, end)


def points_by_entry(session: Session, activity_ids: Sequence[int], challenge_ids: set[int]
                    ) -> dict[tuple[int, int], int]:
    """Net points per (activity, challenge) from the ledger itself (reversals included); the challenge ids
    let the (contest_id, source_key) index answer it."""
    if not activity_ids or not challenge_ids:
        return {}
    keys = {f"activity:{i}": i for i in activity_ids}
    rows = session.execute(select(PointsEntry.source_key, PointsEntry.contest_id, func.sum(PointsEntry.points))
                           .where(PointsEntry.contest_id.in_(sorted(challenge_ids)),
                                  PointsEntry.source_key.in_(list(keys)))
                           .group_by(PointsEntry.source_key, PointsEntry.contest_id))
    return {(keys[k], c): int(p or 0) for k, c, p in rows}
