"""What cannot be real is flagged (kept, scoring nothing until an organiser approves), not dropped.

Two kinds of "no":

- ``input_problems``: the entry is not a description of anything (unknown type, no duration, a start in the
  future, negative distance). Nothing is stored: the single endpoint answers 422, the batch marks the item
  ``rejected`` with the reason, and the client can fix and resend it.
- ``judge``: the entry is well formed but implausible. Flagged when a reviewer might still say yes (average
  speed beyond the type's ceiling, a session over 24 h, a very high day of steps, an inhuman cadence);
  rejected (still stored, with the reason) above the hard step limit.

Anchors (DESIGN.md, "Plausibility anchors"): world-record marathon pace is about 21 km/h, so ``max_speed_kmh``
per type comes from the scoring catalogue; very active populations average ~14-18k steps a day, so a day over
40k is flagged and over 100k rejected; elite running cadence stays under ~250 steps/min. The limits are a
``Limits`` value so a deployment (or a test) can set its own.

A challenge may add its own, usually stricter, limits (``ChallengeLimits``, from the challenge's
``plausibility`` setting: a school's running challenge flags 20 km/h). They never change the activity's own
verdict, which is the deployment's; ``challenge_flags`` only flags the activity's entry in that challenge.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from challenges.activities.models import ActivityKind
from challenges.activities.screening import MAX_POINTS
from challenges.limits import DAY_S, ChallengeLimits
from scoring.catalogue import ACTIVITY_TYPES
from service.clock import unsupported_time

FUTURE_SKEW = timedelta(minutes=5)
"""Phone clocks drift; an end this little in the future is accepted as now."""
MAX_DURATION_S = 7 * DAY_S
MAX_DISTANCE_M = 10_000_000
MAX_STEPS = 10_000_000
"""What one record can hold at all, whatever path it came by (a schema, a batch item, a health store, a file):
beyond these it describes nothing, and would overflow the columns and sums it enters."""



@dataclass(frozen=True)
class Limits:
    steps_flag_per_day: int = 40_000
    steps_reject_per_day: int = 100_000
    max_cadence_spm: float = 300.0
    max_duration_s: int = DAY_S
    max_batch_items: int = 1000
    max_file_points: int = MAX_POINTS


DEFAULT_LIMITS = Limits()

CONFIG_KEYS = {"ACTIVITY_STEPS_FLAG_PER_DAY": "steps_flag_per_day",
               "ACTIVITY_STEPS_REJECT_PER_DAY": "steps_reject_per_day",
               "ACTIVITY_MAX_CADENCE_SPM": "max_cadence_spm",
               "ACTIVITY_MAX_DURATION_S": "max_duration_s",
               "ACTIVITY_MAX_BATCH_ITEMS": "max_batch_items",
               "ACTIVITY_IMPORT_MAX_POINTS": "max_file_points"}
"""App config keys (``create_app({...})`` or Flask config) that override the defaults of a deployment."""


def limits_from(config: Mapping[str, Any]) -> Limits:
    """The deployment's limits: defaults, with any ``CONFIG_KEYS`` the app config sets."""
    values = {field: type(getattr(DEFAULT_LIMITS, field))(config[key])
              for key, field in CONFIG_KEYS.items() if config.get(key) is not None}
    return replace(DEFAULT_LIMITS, **values) if values else DEFAULT_LIMITS


@dataclass(frozen=True)
class Verdict:
    """``status`` is accepted, flagged or rejected; ``reasons`` are stable slugs with a human sentence."""

    status: str
    reasons: tuple[str, ...] = ()

    @property
    def reason(self) -> str | None:
        return "; ".join(self.reasons) if self.reasons else None


def input_problems(*, type_code: str, started_at: datetime | None, duration_s: int | None,
                   distance_m: float | None, steps: int | None, moving_time_s: int | None,
                   now: datetime) -> list[str]:
    """Reasons this entry cannot be taken at all (empty when it can)."""
    problems: list[str] = []
    if type_code not in ACTIVITY_TYPES or type_code == "checkin":
        problems.append(f"unknown-type: {type_code!r} is not an activity type (see GET /api/v1/activity-types)")
    if started_at is None or started_at.tzinfo is None:
        problems.append("bad-time: started_at needs a UTC offset, e.g. 2026-05-04T07:30:00+02:00")
        return problems
    if reason := unsupported_time(started_at):
        problems.append(f"bad-time: started_at {started_at.isoformat()}: {reason}")
        return problems
    if duration_s is None or duration_s <= 0:
        problems.append("bad-time: the activity ends before (or when) it starts; duration must be > 0")
        return problems
    if duration_s > MAX_DURATION_S:
        problems.append(f"bad-time: a duration of {duration_s} s is more than a week")
        return problems
    if started_at > now + FUTURE_SKEW:
        problems.append("future-start: the activity starts in the future")
    elif started_at + timedelta(seconds=duration_s) > now + FUTURE_SKEW:
        problems.append("future-end: the activity ends in the future")
    if distance_m is not None and not 0 <= distance_m <= MAX_DISTANCE_M:  # NaN too
        problems.append(f"bad-value: distance_m must lie between 0 and {MAX_DISTANCE_M:,} m")
    if steps is not None and not 0 <= steps <= MAX_STEPS:
        problems.append(f"bad-value: steps must lie between 0 and {MAX_STEPS:,}")
    if moving_time_s is not None and (moving_time_s < 0 or moving_time_s > duration_s):
        problems.append("bad-value: moving_time_s must lie between 0 and duration_s")
    return problems


def average_kmh(distance_m: float, duration_s: int, moving_time_s: int | None) -> float:
    """Average speed over the moving time when the source gives one (a GPS track's pauses are not travel)."""
    timed = moving_time_s if moving_time_s else duration_s
    return distance_m / 1000 / (timed / 3600)


def judge(*, type_code: str, duration_s: int, moving_time_s: int | None, distance_m: float | None,
          steps: int | None, day_steps_before: int = 0, limits: Limits = DEFAULT_LIMITS) -> Verdict:
    """Accepted, flagged or rejected, with every reason that applies (the worst status wins)."""
    flags: list[str] = []
    rejects: list[str] = []
    activity = ACTIVITY_TYPES[type_code]
    if duration_s > limits.max_duration_s:
        flags.append(f"too-long: {duration_s / 3600:.1f} h is longer than a day")
    if distance_m and activity.max_speed_kmh:
        kmh = average_kmh(distance_m, duration_s, moving_time_s)
        if kmh > activity.max_speed_kmh:
            flags.append(f"too-fast: average {kmh:.1f} km/h is beyond the {activity.max_speed_kmh:g} km/h "
                         f"ceiling for {type_code}")
    if steps:
        cadence = steps / (duration_s / 60)
        if cadence > limits.max_cadence_spm:
            flags.append(f"too-many-steps: {cadence:.0f} steps/min is more than a person can sustain")
        day = day_steps_before + steps
        if day > limits.steps_reject_per_day:
            rejects.append(f"too-many-steps: {day} steps in a day is beyond {limits.steps_reject_per_day}")
        elif day > limits.steps_flag_per_day:
            flags.append(f"too-many-steps: {day} steps in a day is beyond {limits.steps_flag_per_day}")
    if rejects:
        return Verdict("rejected", tuple(rejects + flags))
    if flags:
        return Verdict("flagged", tuple(flags))
    return Verdict("accepted")


def challenge_flags(limits: ChallengeLimits, *, type_code: str, kind: ActivityKind, duration_s: int,
                    moving_time_s: int | None, distance_m: float | None, steps: int | None,
                    day_steps_before: int = 0) -> list[str]:
    """Why this activity breaks the challenge's own limits (empty when it does not).

    The duration limit is for sessions: a step record is a bucket of a phone's count and may span the day.
    The day's steps are the step records' (only they count in a steps challenge), in the challenge's days.
    """
    reasons: list[str] = []
    if kind == ActivityKind.SESSION and limits.max_duration_s is not None and duration_s > limits.max_duration_s:
        reasons.append(f"too-long: {duration_s / 3600:.1f} h is longer than this challenge's limit of "
                       f"{limits.max_duration_s / 3600:g} h")
    if distance_m and type_code in limits.speed:
        ceiling, named = limits.speed[type_code]
        kmh = average_kmh(distance_m, duration_s, moving_time_s)
        if kmh > ceiling:
            reasons.append(f"too-fast: average {kmh:.1f} km/h is above this challenge's limit of {ceiling:g} km/h "
                           f"for {named}")
    if kind == ActivityKind.STEPS and steps and limits.steps_flag_per_day is not None:
        day = day_steps_before + steps
        if day > limits.steps_flag_per_day:
            reasons.append(f"too-many-steps: {day} steps in a day is above this challenge's limit of "
                           f"{limits.steps_flag_per_day}")
    return reasons
