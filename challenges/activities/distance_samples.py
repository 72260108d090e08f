"""Distance samples from health stores, each added exactly once to the exercise session it lies within.

Health Connect keeps a session's distance in separate ``DistanceRecord``s, HealthKit in distance samples, and
phones sync incrementally: a sample may arrive in the batch of its session, or in a later one (a batch
boundary splits them, or the store wrote the distance after the session was synced). So a sample goes into

1. the exercise session of its own batch it lies within (same source), before that session is judged; else
2. the user's stored session of the same source it lies within (live: accepted or flagged, not deleted),
   which is then judged and scored afresh with the added distance (as an edit is: ``ingest.rejudge``);
3. nowhere: it is answered ``rejected`` (``distance-outside-session``), since a distance alone is not an
   activity (steps come from step records).

Every merged sample is remembered here, by the store's record id, with its span, its metres and the activity
it went into (the raw source reference, like an activity's). A sample re-sent later, alone or with its
session, is answered ``duplicate`` and adds nothing. The samples live in their own table rather than as
activity rows so nothing that reads activities (lists, leaderboards, dedupe pools, the review queue, the
revival of superseded records when a session is deleted) has to learn to skip them. Deleting the session
keeps its samples as a trail: a later re-send of one is still a duplicate, and does not bring back the
distance of a session the participant deleted.

Cost: one query per batch that holds distance samples (already merged ones, and stored sessions for the
samples without a home in their batch, in one statement), none for other batches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, and_, exists, literal, select, true, union_all
from sqlalchemy.orm import Mapped, Session, mapped_column

from challenges.activities import bulk_rows, dedupe
from challenges.activities.health_mappings import SLACK, Distance, batch_homes, lies_within
from challenges.activities.models import Activity, ActivityIn, ActivityKind, ActivitySource
from service.clock import utcnow
from service.db import Base
from service.db_dialect import one_of
from service.models import str_enum


class DistanceSample(Base):
    """A distance sample that was added to an activity (an exercise session): the proof it counted once."""

    __tablename__ = "distance_samples"
    __table_args__ = (UniqueConstraint("user_id", "source", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    source: Mapped[ActivitySource] = mapped_column(str_enum(ActivitySource, "activity_source"))
    external_id: Mapped[str] = mapped_column(String(255))
    source_ref: Mapped[str | None] = mapped_column(String(255))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime]
    distance_m: Mapped[float]
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    added: Mapped[bool] = mapped_column(default=True, server_default=true())
    """False when the workout's own HealthKit ``totalDistance`` already held it (remembered, not added)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


@dataclass
class Placement:
    """Where one distance sample of a batch goes: ``merged`` (into batch item ``home`` or stored activity
    ``activity_id``), ``duplicate`` (merged before) or ``rejected``, with the reason."""

    index: int
    sample: Distance
    status: str
    home: int | None = None
    activity_id: int | None = None
    reason: str | None = None
    adds: bool = True
    """False for a HealthKit sample inside a workout that came with its ``totalDistance``, which already holds
    it: the sample is remembered (a re-send stays a duplicate) but not added a second time."""


OUTSIDE = ("distance-outside-session: the sample lies within no exercise session of this batch and no counting "
           "{source} session received before; a distance alone is not an activity (steps come from step records)")


def place(session: Session, user_id: int, items: Sequence[ActivityIn | Distance | str]) -> list[Placement]:
    """Decide where each distance sample of a batch goes; a fresh sample with a home in the batch is added to
    that item's distance here, so the session is judged with it. No query when there are no samples."""
    homes = batch_homes(items)
    if not homes:
        return []
    with_total = {j for j, it in enumerate(items) if isinstance(it, ActivityIn) and owns_distance(it.source,
                                                                                                  it.distance_m)}
    samples = {i: it for i, it in enumerate(items) if isinstance(it, Distance)}
    merged, sessions = _lookup(session, user_id, list(samples.values()),
                               [samples[i] for i, home in homes.items() if home is None])
    out: list[Placement] = []
    seen: dict[tuple[ActivitySource, str], int] = {}
    for i, sample in samples.items():
        key = (sample.source, sample.external_id)
        if key in seen:
            out.append(Placement(i, sample, "duplicate", reason=f"repeats item {seen[key]} of this batch"))
            continue
        seen[key] = i
        if key in merged:
            out.append(Placement(i, sample, "duplicate", activity_id=merged[key],
                                 reason=f"already received: merged into activity {merged[key]}"))
            continue
        home = homes[i]
        if home is not None and home in with_total:
            out.append(Placement(i, sample, "merged", home=home, adds=False, reason=(
                f"included: the workout of item {home} of this batch came with its totalDistance")))
            continue
        if home is not None:
            target = items[home]
            assert isinstance(target, ActivityIn)
            target.distance_m = (target.distance_m or 0.0) + sample.metres
            out.append(Placement(i, sample, "merged", home=home,
                                 reason=f"merged into the exercise session of item {home} of this batch"))
            continue
        stored = next(((aid, total) for aid, source, start, end, total in sessions
                       if source == sample.source and lies_within(sample, start, end)), None)
        if stored is None:
            out.append(Placement(i, sample, "rejected", reason=OUTSIDE.format(source=sample.source.value)))
        elif stored[1]:
            out.append(Placement(i, sample, "merged", activity_id=stored[0], adds=False, reason=(
                f"included: activity {stored[0]}, the workout it lies within, came with its totalDistance")))
        else:
            out.append(Placement(i, sample, "merged", activity_id=stored[0],
                                 reason=f"merged into activity {stored[0]}, the exercise session it lies within"))
    return out


def owns_distance(source: ActivitySource, distance_m: float | None) -> bool:
    """A HealthKit workout's ``totalDistance`` already sums its distance samples (Health Connect sessions have
    no distance of their own: theirs is only the sum of their records)."""
    return source == ActivitySource.HEALTHKIT and distance_m is not None


def _lookup(session: Session, user_id: int, samples: list[Distance], homeless: list[Distance]
            ) -> tuple[dict[tuple[ActivitySource, str], int],
                       list[tuple[int, ActivitySource, datetime, datetime, bool]]]:
    """In one statement: the samples merged before (-> the activity they went into) and, when some samples
    have no home in their batch, the user's live sessions of their sources around them (oldest first), each
    with whether its distance is a HealthKit ``totalDistance`` (a distance no sample was added to)."""
    parts = []
    for source in sorted({s.source for s in samples}):
        ids = [s.external_id for s in samples if s.source == source]
        ext = one_of(session, DistanceSample.external_id, ids)
        parts.append(select(literal("sample").label("what"), DistanceSample.activity_id.label("id"),
                            DistanceSample.source, DistanceSample.external_id, DistanceSample.started_at,
                            DistanceSample.ended_at, literal(False).label("has_total"))
                     .where(DistanceSample.user_id == user_id, DistanceSample.source == source, ext))
    if homeless:
        lo = min(s.started_at for s in homeless) - SLACK
        hi = max(s.ended_at for s in homeless) + SLACK
        own_total = and_(Activity.source == ActivitySource.HEALTHKIT, Activity.distance_m.is_not(None),
                         ~exists().where(DistanceSample.activity_id == Activity.id, DistanceSample.added))
        parts.append(select(literal("session").label("what"), Activity.id, Activity.source, Activity.external_id,
                            Activity.started_at, Activity.ended_at, own_total.label("has_total"))
                     .where(Activity.user_id == user_id, Activity.kind == ActivityKind.SESSION,
                            Activity.source.in_(sorted({s.source for s in homeless})),
                            Activity.status.in_(dedupe.LIVE), Activity.deleted_at.is_(None),
                            Activity.started_at <= hi, Activity.ended_at >= lo))
    merged: dict[tuple[ActivitySource, str], int] = {}
    sessions: list[tuple[int, ActivitySource, datetime, datetime, bool]] = []
    statement = parts[0] if len(parts) == 1 else union_all(*parts)
    for r in session.execute(statement):
        source = ActivitySource(r.source)
        if r.what == "sample":
            merged[(source, r.external_id)] = r.id
        else:
            sessions.append((r.id, source, r.started_at, r.ended_at, bool(r.has_total)))
    sessions.sort(key=lambda s: (s[2], s[0]))
    return merged, sessions


def record(session: Session, user_id: int, placements: Sequence[Placement], now: datetime) -> None:
    """Remember the merged samples (one statement), so a re-send of any of them is a duplicate."""
    rows = [{"user_id": user_id, "source": p.sample.source, "external_id": p.sample.external_id,
             "source_ref": p.sample.source_ref, "started_at": p.sample.started_at, "ended_at": p.sample.ended_at,
             "distance_m": p.sample.metres, "activity_id": p.activity_id, "added": p.adds, "created_at": now}
            for p in placements if p.status == "merged"]
    bulk_rows.write(session, DistanceSample.__table__, rows)  # type: ignore[arg-type]
