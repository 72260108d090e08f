"""Batch items in three shapes: ours (``format: "vcc"``), Health Connect records and HealthKit samples.

A phone app can forward what the platform's health store hands it, unchanged; this module maps it to our
activity types. Every parser returns an ``ActivityIn`` or a string saying what is wrong with the item (the
batch answers that item ``rejected`` and goes on).

Health Connect (``format: "health_connect"``; androidx.health.connect.client.records, as JSON the way
react-native-health-connect returns them):

- ``{"recordType": "Steps", "startTime", "endTime", "count", "metadata": {"id", "dataOrigin"}}``
  -> a step record (kind ``steps``, type ``walking``);
- ``{"recordType": "ExerciseSession", "exerciseType": 56, ...}`` -> a session; ``exerciseType`` is the
  androidx ``ExerciseSessionRecord.EXERCISE_TYPE_*`` integer (or its name, e.g. ``"EXERCISE_TYPE_RUNNING"``),
  mapped by ``HC_EXERCISE_TYPES``;
- ``{"recordType": "Distance", "distance": {"inMeters": 5012.3}, "metadata": {"id"}, ...}`` -> a distance
  sample (Health Connect keeps a session's distance in separate DistanceRecords), added to the exercise
  session it lies within: one of the same batch, or one received earlier (``challenges.activities.distance_samples``);
  a distance outside every session is not an activity and is answered ``rejected``.

HealthKit (``format: "healthkit"``; HKSample fields as JSON):

- ``{"sampleType": "HKQuantityTypeIdentifierStepCount", "uuid", "startDate", "endDate", "quantity"}``
  -> a step record;
- ``{"sampleType": "HKWorkoutTypeIdentifier", "workoutActivityType": "HKWorkoutActivityTypeRunning" (or
  its raw value 37), "uuid", "startDate", "endDate", "totalDistance" (m)}`` -> a session, mapped by
  ``HK_WORKOUT_TYPES``;
- ``HKQuantityTypeIdentifierDistanceWalkingRunning`` / ``...DistanceCycling`` samples (``uuid``, ``quantity``
  in m) -> distance samples of the workout they lie within, like Health Connect distances.

The ``external_id`` is the store's own record id (``metadata.id`` / ``uuid``), so a re-sync is a duplicate;
distance samples need it too, because it is what makes a sample count once however often it is re-sent.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from challenges.activities.models import ActivityIn, ActivityKind, ActivitySource
from challenges.activities.plausibility import MAX_DISTANCE_M
from service.clock import unsupported_time

HC_EXERCISE_TYPES: dict[int, str] = {
    2: "badminton", 5: "basketball", 8: "cycling", 9: "cycling", 13: "circuit_training", 16: "dancing",
    25: "fitness_gym", 26: "aerobics", 36: "circuit_training", 37: "hiking", 46: "kayaking", 48: "pilates",
    53: "kayaking", 56: "running", 57: "running", 61: "skiing_cross_country", 64: "football",
    68: "stairs", 70: "fitness_gym", 71: "stretching", 73: "swimming_leisure", 74: "swimming_slow",
    76: "tennis", 78: "volleyball", 79: "walking", 81: "fitness_gym", 82: "wheelchair", 83: "yoga",
}
"""androidx ExerciseSessionRecord.EXERCISE_TYPE_* -> our type (e.g. RUNNING = 56, WALKING = 79, BIKING = 8)."""

HC_EXERCISE_NAMES: dict[str, int] = {
    "BADMINTON": 2, "BASKETBALL": 5, "BIKING": 8, "BIKING_STATIONARY": 9, "CALISTHENICS": 13, "DANCING": 16,
    "ELLIPTICAL": 25, "EXERCISE_CLASS": 26, "HIGH_INTENSITY_INTERVAL_TRAINING": 36, "HIKING": 37,
    "PADDLING": 46, "PILATES": 48, "ROWING": 53, "RUNNING": 56, "RUNNING_TREADMILL": 57, "SKIING": 61,
    "SOCCER": 64, "STAIR_CLIMBING": 68, "STRENGTH_TRAINING": 70, "STRETCHING": 71, "SWIMMING_OPEN_WATER": 73,
    "SWIMMING_POOL": 74, "TENNIS": 76, "VOLLEYBALL": 78, "WALKING": 79, "WEIGHTLIFTING": 81, "WHEELCHAIR": 82,
    "YOGA": 83,
}

HK_WORKOUT_TYPES: dict[str, str] = {
    "Walking": "walking", "Running": "running", "Hiking": "hiking", "Cycling": "cycling",
    "Swimming": "swimming_slow", "CrossCountrySkiing": "skiing_cross_country", "PaddleSports": "kayaking",
    "Rowing": "kayaking", "WheelchairWalkPace": "wheelchair", "WheelchairRunPace": "wheelchair_sport",
    "Yoga": "yoga", "Pilates": "pilates", "Soccer": "football", "Basketball": "basketball", "Tennis": "tennis",
    "Badminton": "badminton", "Volleyball": "volleyball", "TraditionalStrengthTraining": "fitness_gym",
    "FunctionalStrengthTraining": "fitness_gym", "HighIntensityIntervalTraining": "circuit_training",
    "StairClimbing": "stairs", "Stairs": "stairs", "SocialDance": "dancing", "CardioDance": "dancing",
    "Flexibility": "stretching",
}
"""HKWorkoutActivityType case names (without the ``HKWorkoutActivityType`` prefix) -> our type."""

HK_WORKOUT_RAW: dict[int, str] = {52: "Walking", 37: "Running", 24: "Hiking", 13: "Cycling", 46: "Swimming",
                                  60: "CrossCountrySkiing", 31: "PaddleSports", 35: "Rowing",
                                  70: "WheelchairWalkPace", 71: "WheelchairRunPace"}
"""Raw values of the HKWorkoutActivityType cases above that apps most often send as numbers."""

HK_STEPS = "HKQuantityTypeIdentifierStepCount"
HK_WORKOUT = "HKWorkoutTypeIdentifier"
HK_DISTANCES = ("HKQuantityTypeIdentifierDistanceWalkingRunning", "HKQuantityTypeIdentifierDistanceCycling")


SLACK = timedelta(seconds=1)
"""How far a sample may poke out of its session: times are parsed to the millisecond but stored durations are
whole seconds, so a session's stored end can be up to half a second before its last sample's end."""


@dataclass
class Distance:
    """A distance sample (not an activity): it is added to the exercise session it lies within."""

    started_at: datetime
    ended_at: datetime
    metres: float
    source: ActivitySource
    external_id: str
    source_ref: str | None = None


def lies_within(sample: Distance, started_at: datetime, ended_at: datetime) -> bool:
    return started_at - SLACK <= sample.started_at and sample.ended_at <= ended_at + SLACK


def parse_time(value: Any, name: str) -> datetime | str:
    """The instant in UTC, as the schemas' ``AwareDateTime`` reads it: Python takes offsets up to +23:59 that
    PostgreSQL refuses (``time zone displacement out of range``), and year 1 east of UTC overflows later."""
    if not isinstance(value, str):
        return f"{name}: give an ISO 8601 time with an offset"
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return f"{name}: {value[:80]!r} is not an ISO 8601 time"
    if at.tzinfo is None:
        return f"bad-time: {name} needs a UTC offset (a naive time is ambiguous)"
    if reason := unsupported_time(at):
        return f"bad-time: {name} {value!r}: {reason}"
    return at.astimezone(UTC)


def _interval(raw: dict[str, Any], start_key: str, end_key: str) -> tuple[datetime, int] | str:
    start, end = parse_time(raw.get(start_key), start_key), parse_time(raw.get(end_key), end_key)
    if isinstance(start, str):
        return start
    if isinstance(end, str):
        return end
    seconds = round((end - start).total_seconds())
    if seconds <= 0:
        return f"bad-time: {end_key} must be after {start_key}"
    return start, seconds


def _number(value: Any) -> float | None:
    """A finite JSON number; ``service.strict_json`` already refuses NaN, infinity and 20-digit integers in a
    body, and this keeps the mappings safe for any caller."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _metres(value: Any) -> float | None:
    metres = _number(value)
    return metres if metres is not None and 0 <= metres <= MAX_DISTANCE_M else None


def from_health_connect(raw: dict[str, Any]) -> ActivityIn | Distance | str:
    kind = str(raw.get("recordType", "")).removesuffix("Record")
    meta = raw.get("metadata") if isinstance(raw.get("metadata"), dict) else {}
    interval = _interval(raw, "startTime", "endTime")
    if isinstance(interval, str):
        return interval
    start, seconds = interval
    ext, origin = meta.get("id"), meta.get("dataOrigin")
    if not isinstance(ext, str) or not ext:
        return "metadata.id (the Health Connect record id) is required"
    ref = f"health_connect:{kind}:{origin}" if origin else f"health_connect:{kind}"
    if kind == "Distance":
        dist = raw.get("distance")
        metres = _metres(dist.get("inMeters")) if isinstance(dist, dict) else _metres(dist)
        if metres is None:
            return f"Distance record: distance.inMeters must be a number from 0 to {MAX_DISTANCE_M:,}"
        return Distance(start, start + timedelta(seconds=seconds), metres, ActivitySource.HEALTH_CONNECT,
                        ext[:255], ref[:255])
    if kind == "Steps":
        count = raw.get("count")
        if not isinstance(count, int) or isinstance(count, bool):
            return "Steps record: count must be an integer"
        return ActivityIn("walking", start, seconds, ActivitySource.HEALTH_CONNECT, ActivityKind.STEPS, ext,
                          steps=count, source_ref=ref[:255])
    if kind == "ExerciseSession":
        etype = raw.get("exerciseType")
        if isinstance(etype, str):
            etype = HC_EXERCISE_NAMES.get(etype.removeprefix("EXERCISE_TYPE_"))
        code = HC_EXERCISE_TYPES.get(etype) if isinstance(etype, int) else None
        if code is None:
            return f"unknown-type: Health Connect exerciseType {raw.get('exerciseType')!r} has no mapping"
        return ActivityIn(code, start, seconds, ActivitySource.HEALTH_CONNECT, ActivityKind.SESSION, ext,
                          source_ref=ref[:255])
    return f"recordType {raw.get('recordType')!r} is not one we take (Steps, ExerciseSession, Distance)"


def from_healthkit(raw: dict[str, Any]) -> ActivityIn | Distance | str:
    sample = str(raw.get("sampleType", ""))
    interval = _interval(raw, "startDate", "endDate")
    if isinstance(interval, str):
        return interval
    start, seconds = interval
    ext = raw.get("uuid")
    if not isinstance(ext, str) or not ext:
        return "uuid (the HealthKit sample id) is required"
    ref = f"healthkit:{sample}:{raw.get('sourceBundleId') or raw.get('sourceName') or ''}".rstrip(":")
    if sample in HK_DISTANCES:
        metres = _metres(raw.get("quantity"))
        if metres is None:
            return f"distance sample: quantity (metres) must be a number from 0 to {MAX_DISTANCE_M:,}"
        return Distance(start, start + timedelta(seconds=seconds), metres, ActivitySource.HEALTHKIT, ext[:255],
                        ref[:255])
    if sample == HK_STEPS:
        qty = _number(raw.get("quantity"))
        if qty is None:
            return "step sample: quantity must be a number"
        return ActivityIn("walking", start, seconds, ActivitySource.HEALTHKIT, ActivityKind.STEPS, ext,
                          steps=round(qty), source_ref=ref[:255])
    if sample == HK_WORKOUT:
        wtype = raw.get("workoutActivityType")
        name = HK_WORKOUT_RAW.get(wtype) if isinstance(wtype, int) else str(wtype or "")
        code = HK_WORKOUT_TYPES.get((name or "").removeprefix("HKWorkoutActivityType"))
        if code is None:
            return f"unknown-type: HKWorkoutActivityType {wtype!r} has no mapping"
        dist = _number(raw.get("totalDistance"))
        return ActivityIn(code, start, seconds, ActivitySource.HEALTHKIT, ActivityKind.SESSION, ext,
                          distance_m=dist, source_ref=ref[:255])
    return f"sampleType {sample!r} is not one we take (StepCount, workouts, walking/cycling distance)"


def batch_homes(items: Sequence[ActivityIn | Distance | str]) -> dict[int, int | None]:
    """For each distance sample (by position): the position of the exercise session of the same batch and
    source it lies within (the first one), or ``None`` when it has no home in this batch."""
    sessions = [(j, it) for j, it in enumerate(items) if isinstance(it, ActivityIn) and it.kind == ActivityKind.SESSION]
    return {i: next((j for j, s in sessions if s.source == it.source and lies_within(it, s.started_at, s.ended_at)),
                    None)
            for i, it in enumerate(items) if isinstance(it, Distance)}
