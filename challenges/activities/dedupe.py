"""Counting every real activity exactly once.

Three rules, in this order:

1. **Same record**: the same ``(user, source, external_id)`` is a duplicate (a retried sync); the stored
   record answers. Without an external id the content ``fingerprint`` (type, start to the minute, duration
   to the minute, distance to 10 m, steps) plays that part for the same source.
2. **Same movement, other record** (sessions): two sessions of one user overlap when the shared time is at
   least half of the shorter one (clock skew between a watch and a phone is seconds; two real sessions
   rarely share half their time). Of overlapping sessions the richer is kept: GPS track (GPX/TCX/FIT) over
   wearable summary over manual entry; between equals, the one that arrived first. The poorer is
   ``superseded`` and, if it had scored, its points are reversed.
3. **Steps** (step records: a count over an interval, from a phone or a watch): counts that overlap in time
   are not added; the larger count is kept (a new record must beat the sum of the records it overlaps),
   so a phone's hourly buckets and a watch's quarter-hour buckets for the same morning count once.

Only records that still count (accepted or flagged, not deleted) take part.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from challenges.activities.models import Activity, ActivityIn, ActivityKind, ActivityStatus

LIVE = (ActivityStatus.ACCEPTED, ActivityStatus.FLAGGED)
MIN_SHARED_FRACTION = 0.5


def fingerprint(user_id: int, item: ActivityIn) -> str:
    start = item.started_at.replace(second=0, microsecond=0).isoformat()
    dist = "" if item.distance_m is None else round(item.distance_m / 10)
    steps = "" if item.steps is None else item.steps
    text = f"{user_id}|{item.kind.value}|{item.type_code}|{start}|{round(item.duration_s / 60)}|{dist}|{steps}"
    return hashlib.sha256(text.encode()).hexdigest()


def shared_seconds(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> float:
    return max(0.0, (min(a_end, b_end) - max(a_start, b_start)).total_seconds())


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """Shared time of at least half the shorter interval."""
    shared = shared_seconds(a_start, a_end, b_start, b_end)
    if shared <= 0:
        return False
    shorter = min((a_end - a_start).total_seconds(), (b_end - b_start).total_seconds())
    return shared >= MIN_SHARED_FRACTION * shorter


@dataclass
class Resolution:
    """``keep_new`` False means the new record is stored superseded by ``kept``."""

    keep_new: bool
    supersede: list[Activity] = field(default_factory=list)
    kept: Activity | None = None


def resolve(item: ActivityIn, rivals: Sequence[Activity]) -> Resolution:
    """Which of ``item`` and the live records it overlaps counts (rules 2 and 3 above)."""
    if not rivals:
        return Resolution(True)
    if item.kind == ActivityKind.STEPS:
        existing = sum(r.steps or 0 for r in rivals)
        if (item.steps or 0) > existing:
            return Resolution(True, list(rivals))
        return Resolution(False, kept=max(rivals, key=lambda r: r.steps or 0))
    best = max(rivals, key=lambda r: (r.richness, -(r.id or 10**15)))
    if best.richness >= item.richness:
        return Resolution(False, kept=best)
    return Resolution(True, list(rivals))


def rivals_of(item: ActivityIn, pool: Iterable[Activity], end: datetime | None = None) -> list[Activity]:
    """The live records in ``pool`` that overlap ``item`` (same kind); ``end`` is ``item.ended_at`` when the
    caller has it already."""
    start, end = item.started_at, end or item.ended_at
    return [a for a in pool
            if a.kind == item.kind and a.status in LIVE and a.deleted_at is None
            and overlaps(start, end, a.started_at, a.ended_at)]


class Pool:
    """The live records a batch is checked against, indexed by kind and start so a lookup is not a scan.

    ``rivals`` looks only at records starting in [start - longest duration seen, end), found by bisection,
    so a 1,000-item batch costs ~1,000 small lookups instead of 500,000 pairwise comparisons.
    """

    def __init__(self, rows: Iterable[Activity] = ()) -> None:
        self._starts: dict[ActivityKind, list[datetime]] = {}
        self._rows: dict[ActivityKind, list[Activity]] = {}
        self._longest: dict[ActivityKind, timedelta] = {}
        for row in rows:
            self.add(row)

    def add(self, row: Activity) -> None:
        starts = self._starts.setdefault(row.kind, [])
        rows = self._rows.setdefault(row.kind, [])
        at = bisect.bisect_right(starts, row.started_at)
        starts.insert(at, row.started_at)
        rows.insert(at, row)
        span = row.ended_at - row.started_at
        if span > self._longest.get(row.kind, timedelta(0)):
            self._longest[row.kind] = span

    def __iter__(self) -> Iterator[Activity]:
        for rows in self._rows.values():
            yield from rows

    def rivals(self, item: ActivityIn, end: datetime | None = None) -> list[Activity]:
        starts = self._starts.get(item.kind)
        if not starts:
            return []
        end = end or item.ended_at
        rows = self._rows[item.kind]
        lo = bisect.bisect_left(starts, item.started_at - self._longest[item.kind])
        hi = bisect.bisect_left(starts, end)
        return rivals_of(item, rows[lo:hi], end)

