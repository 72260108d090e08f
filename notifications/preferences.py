"""Who wants what, and when: per-kind switches, global opt-out, quiet hours and daily caps.

Defaults live here (not in the database) so a user without any stored row gets sensible behaviour:
every kind on, quiet from 21:00 to 08:00 local time, at most four pushes a day and a per-kind cap
(one reminder of each sort a day; badges and announcements may come a little more often).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from notifications.models import NotificationPreference, NotificationSettings, NudgeKind
from service.clock import utcnow, zone
from service.db_dialect import one_of

DEFAULT_QUIET_START = 21 * 60
DEFAULT_QUIET_END = 8 * 60
DEFAULT_DAILY_CAP = 4
KIND_DAILY_CAP: dict[NudgeKind, int] = {kind: 1 for kind in NudgeKind}
KIND_DAILY_CAP.update({NudgeKind.BADGE_EARNED: 3, NudgeKind.ANNOUNCEMENT: 2, NudgeKind.MILESTONE: 2,
                       NudgeKind.CHALLENGE_RESULT: 2, NudgeKind.GOAL_REACHED: 2})


@dataclass
class Prefs:
    """The effective preferences of one user (stored rows over defaults)."""

    timezone: str = "UTC"
    locale: str = "en"
    opted_out: bool = False
    quiet_start: int = DEFAULT_QUIET_START
    quiet_end: int = DEFAULT_QUIET_END
    daily_cap: int = DEFAULT_DAILY_CAP
    disabled: set[NudgeKind] = field(default_factory=set)
    kind_caps: dict[NudgeKind, int] = field(default_factory=dict)

    def wants(self, kind: NudgeKind) -> bool:
        return not self.opted_out and kind not in self.disabled

    def cap_for(self, kind: NudgeKind) -> int:
        return self.kind_caps.get(kind, KIND_DAILY_CAP[kind])


def load_prefs(session: Session, users: Iterable[tuple[int, str, str]]) -> dict[int, Prefs]:
    """Effective preferences for ``(user_id, timezone, locale)`` triples, two queries per 1,000 users."""
    result = {uid: Prefs(timezone=tz or "UTC", locale=loc or "en") for uid, tz, loc in users}
    ids = list(result)
    for start in range(0, len(ids), 1000):
        chunk = ids[start:start + 1000]
        mine = one_of(session, NotificationSettings.user_id, chunk)
        for row in session.scalars(select(NotificationSettings).where(mine)):
            prefs = result[row.user_id]
            prefs.opted_out, prefs.daily_cap = row.opted_out, row.daily_cap
            prefs.quiet_start, prefs.quiet_end = row.quiet_start_minute, row.quiet_end_minute
        for pref in session.scalars(select(NotificationPreference)
                                    .where(one_of(session, NotificationPreference.user_id, chunk))):
            prefs = result[pref.user_id]
            if not pref.enabled:
                prefs.disabled.add(pref.kind)
            if pref.daily_cap is not None:
                prefs.kind_caps[pref.kind] = pref.daily_cap
    return result


def in_quiet_hours(local: datetime, start: int, end: int) -> bool:
    minute = local.hour * 60 + local.minute
    if start == end:
        return False
    if start < end:
        return start <= minute < end
    return minute >= start or minute < end


def next_allowed(at: datetime, prefs: Prefs) -> datetime:
    """``at`` itself, or the end of the quiet hours it falls in (local wall time, DST-aware), in UTC."""
    tz = zone(prefs.timezone)
    local = at.astimezone(tz)
    if not in_quiet_hours(local, prefs.quiet_start, prefs.quiet_end):
        return at
    end = time(prefs.quiet_end // 60, prefs.quiet_end % 60)
    day = local.date()
    minute = local.hour * 60 + local.minute
    if minute >= prefs.quiet_end:  # in the evening part of a window that wraps past midnight
        day += timedelta(days=1)
    allowed = datetime.combine(day, end, tzinfo=tz)
    return allowed.astimezone(at.tzinfo)


def local_day_start(at: datetime, tz_name: str) -> datetime:
    """The UTC instant at which the local day containing ``at`` began (midnight local)."""
    tz = zone(tz_name)
    local = at.astimezone(tz)
    return datetime.combine(local.date(), time(0), tzinfo=tz).astimezone(at.tzinfo)


def get_settings(session: Session, user_id: int) -> NotificationSettings:
    row = session.get(NotificationSettings, user_id)
    if row is None:
        row = NotificationSettings(user_id=user_id, opted_out=False, quiet_start_minute=DEFAULT_QUIET_START,
                                   quiet_end_minute=DEFAULT_QUIET_END, daily_cap=DEFAULT_DAILY_CAP)
    return row


def describe(session: Session, user_id: int) -> dict:
    """The preferences document the API shows: global switches plus every kind with its effective values."""
    row = get_settings(session, user_id)
    stored = {p.kind: p for p in session.scalars(select(NotificationPreference)
                                                  .where(NotificationPreference.user_id == user_id))}
    kinds = []
    for kind in NudgeKind:
        pref = stored.get(kind)
        kinds.append({"kind": kind.value, "enabled": pref.enabled if pref else True,
                      "daily_cap": pref.daily_cap if pref and pref.daily_cap is not None else KIND_DAILY_CAP[kind]})
    return {"opted_out": row.opted_out, "quiet_hours": {"start": _hhmm(row.quiet_start_minute),
                                                        "end": _hhmm(row.quiet_end_minute)},
            "daily_cap": row.daily_cap, "kinds": kinds}


def update_preferences(session: Session, user_id: int, data: dict) -> dict:
    """Apply a partial update (only the fields given change); the caller commits."""
    row = get_settings(session, user_id)
    session.add(row)
    if "opted_out" in data:
        row.opted_out = data["opted_out"]
    if "daily_cap" in data:
        row.daily_cap = data["daily_cap"]
    if "quiet_hours" in data:
        quiet = data["quiet_hours"]
        row.quiet_start_minute = _minutes(quiet["start"])
        row.quiet_end_minute = _minutes(quiet["end"])
    row.updated_at = utcnow()
    stored = {p.kind: p for p in session.scalars(select(NotificationPreference)
                                                  .where(NotificationPreference.user_id == user_id))}
    for item in data.get("kinds", []):
        kind = NudgeKind(item["kind"])
        pref = stored.get(kind)
        if pref is None:
            pref = NotificationPreference(user_id=user_id, kind=kind, enabled=True)
            session.add(pref)
            stored[kind] = pref
        if "enabled" in item:
            pref.enabled = item["enabled"]
        if "daily_cap" in item:
            pref.daily_cap = item["daily_cap"]
        pref.updated_at = utcnow()
    session.flush()
    return describe(session, user_id)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _minutes(value: str | time) -> int:
    if isinstance(value, time):
        return value.hour * 60 + value.minute
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)
