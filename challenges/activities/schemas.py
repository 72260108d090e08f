"""Schemas of the activity resources, and the fast parser of batch items.

Batch items are parsed by ``parse_item`` (plain Python, one clear message per bad item) rather than by a
nested marshmallow schema: one bad item must not fail the other 999, and a 1,000-item sync has to stay cheap.
``BatchItemSchema`` documents the same shape in the OpenAPI document.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from challenges.activities.health_mappings import parse_time
from challenges.activities.models import ActivityIn, ActivityKind, ActivitySource, ActivityStatus, EntryStatus
from challenges.activities.plausibility import MAX_DISTANCE_M, MAX_DURATION_S, MAX_STEPS
from service.schemas import AwareDateTime, BaseSchema, PaginationArgsSchema

FILE_SOURCES = {ActivitySource.GPX, ActivitySource.TCX, ActivitySource.FIT}
SYNC_SOURCES = [s.value for s in ActivitySource if s not in FILE_SOURCES]
BATCH_FORMATS = ("vcc", "health_connect", "healthkit")
NAIVE = "needs a UTC offset, e.g. 2026-05-04T07:30:00+02:00 (a time without one is ambiguous)"


def _when(**kwargs: Any) -> AwareDateTime:
    return AwareDateTime(error_messages={"invalid_awareness": NAIVE}, **kwargs)


class _ActivityFields(BaseSchema):
    type = fields.String(validate=validate.Length(1, 40), metadata={"description": "activity type code, "
                         "see GET /api/v1/activity-types (e.g. walking, running, cycling)"})
    kind = fields.Enum(ActivityKind, by_value=True, metadata={
        "description": "session (a bout of exercise) or steps (a step count over an interval)"})
    started_at = _when(metadata={"description": "ISO 8601 with offset"})
    ended_at = _when(metadata={"description": "give ended_at or duration_s"})
    duration_s = fields.Integer(validate=validate.Range(1, MAX_DURATION_S))
    moving_time_s = fields.Integer(allow_none=True, validate=validate.Range(0, MAX_DURATION_S))
    distance_m = fields.Float(allow_none=True, validate=validate.Range(0, MAX_DISTANCE_M), allow_nan=False)
    steps = fields.Integer(allow_none=True, validate=validate.Range(0, MAX_STEPS))

    @validates_schema
    def _one_end(self, data: dict[str, Any], **_: Any) -> None:
        if "ended_at" in data and "duration_s" in data:
            raise ValidationError("Give ended_at or duration_s, not both.", "ended_at")
        if "ended_at" in data and "started_at" in data and data["ended_at"] <= data["started_at"]:
            raise ValidationError("bad-time: the activity ends before (or when) it starts.", "ended_at")


class ActivityCreateSchema(_ActivityFields):
    type = fields.String(required=True, validate=validate.Length(1, 40))
    started_at = _when(required=True)
    kind = fields.Enum(ActivityKind, by_value=True, load_default=ActivityKind.SESSION)
    source = fields.String(load_default="manual", validate=validate.OneOf(SYNC_SOURCES), metadata={
        "description": "where the figures come from; files (GPX/TCX/FIT) go to /activities/import"})
    external_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 255),
                                metadata={"description": "the source's own id; a second POST with it is a "
                                                         "duplicate"})

    @validates_schema
    def _needs_end(self, data: dict[str, Any], **_: Any) -> None:
        if "ended_at" not in data and "duration_s" not in data:
            raise ValidationError("Give ended_at or duration_s.", "duration_s")


class ActivityUpdateSchema(_ActivityFields):
    """Fields to change; the activity is re-judged and its points reversed and scored again."""


class ActivityEntrySchema(BaseSchema):
    challenge_id = fields.Integer()
    status = fields.Enum(EntryStatus, by_value=True)
    reason = fields.String(allow_none=True)
    points = fields.Integer(dump_default=0)


class ActivitySchema(BaseSchema):
    id = fields.Integer()
    type = fields.String(attribute="type_code")
    kind = fields.Enum(ActivityKind, by_value=True)
    started_at = AwareDateTime()
    ended_at = AwareDateTime()
    duration_s = fields.Integer()
    moving_time_s = fields.Integer(allow_none=True)
    distance_m = fields.Float(allow_none=True)
    steps = fields.Integer(allow_none=True)
    source = fields.Enum(ActivitySource, by_value=True)
    external_id = fields.String(allow_none=True)
    source_ref = fields.String(allow_none=True, metadata={"description": "file name, or the source's record"})
    source_sha256 = fields.String(allow_none=True, metadata={"description": "SHA-256 of an imported file"})
    status = fields.Enum(ActivityStatus, by_value=True)
    reason = fields.String(allow_none=True)
    superseded_by_id = fields.Integer(allow_none=True)
    result = fields.String(metadata={"description": "on create: created, duplicate, flagged or rejected"})
    entries = fields.List(fields.Nested(ActivityEntrySchema), metadata={
        "description": "how the activity stands in each challenge, with the points it scored there"})
    notes = fields.List(fields.String(), metadata={
        "description": "figures kept but counted nowhere, each as slug: sentence (steps-not-counted: a session's "
                       "steps; steps count from step records)"})
    created_at = AwareDateTime()
    updated_at = AwareDateTime()


class ActivityQueryArgsSchema(PaginationArgsSchema):
    status = fields.Enum(ActivityStatus, by_value=True, load_default=None)
    since = _when(load_default=None, metadata={"description": "only activities starting at or after this time"})
    until = _when(load_default=None, metadata={"description": "only activities starting before this time"})
    type = fields.String(load_default=None, validate=validate.Length(1, 40),
                         metadata={"description": "only this activity type (see GET /api/v1/activity-types)"})

    @validates_schema
    def _window(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("since") and data.get("until") and data["since"] >= data["until"]:
            raise ValidationError("until must be later than since.", "until")


class BatchItemSchema(BaseSchema):
    """One item of ``format: vcc`` (documentation of what ``parse_item`` accepts)."""

    source = fields.String(required=True, validate=validate.OneOf(SYNC_SOURCES))
    external_id = fields.String(required=True)
    type = fields.String(required=True)
    kind = fields.String(validate=validate.OneOf([k.value for k in ActivityKind]))
    started_at = AwareDateTime(required=True)
    ended_at = AwareDateTime()
    duration_s = fields.Integer()
    moving_time_s = fields.Integer()
    distance_m = fields.Float()
    steps = fields.Integer()


class _Items(fields.List):
    """A JSON array taken as it is: each item is parsed and answered on its own by the batch use case, so a
    per-item ``Raw`` field (1,000 calls that change nothing) is skipped; documented as an array all the same."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[Any]:
        if not isinstance(value, list):
            raise self.make_error("invalid")
        return value


class BatchSchema(BaseSchema):
    PER_ITEM_TEXT = ("items",)

    format = fields.String(load_default="vcc", validate=validate.OneOf(BATCH_FORMATS), metadata={
        "description": "vcc (BatchItemSchema items), health_connect (Health Connect records) or healthkit "
                       "(HealthKit samples); see challenges/health_mappings.py for the mappings"})
    items = _Items(fields.Raw(), required=True, metadata={
        "description": "up to 1,000 items; each is answered on its own"})


class BatchItemResultSchema(BaseSchema):
    index = fields.Integer()
    status = fields.String(metadata={"description": "created, duplicate, flagged, rejected or merged"})
    external_id = fields.String(allow_none=True)
    activity_id = fields.Integer(allow_none=True)
    reason = fields.String(allow_none=True)
    points = fields.Dict(keys=fields.String(), values=fields.Integer(),
                         metadata={"description": "points by challenge id"})
    supersedes = fields.List(fields.Integer(), metadata={
        "description": "ids of the earlier records (stored before, or items of this batch) this one replaced: "
                       "they count no more, their points are reversed"})
    notes = fields.List(fields.String(), metadata={"description": "as an activity's notes"})


class BatchResultSchema(BaseSchema):
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    results = fields.List(fields.Nested(BatchItemResultSchema))


class ImportFormSchema(BaseSchema):
    type = fields.String(load_default=None, validate=validate.Length(1, 40), metadata={
        "description": "activity type; default: the file's sport"})
    external_id = fields.String(load_default=None, validate=validate.Length(1, 255))


class ReviewDecisionSchema(BaseSchema):
    challenge_id = fields.Integer(load_default=None, metadata={
        "description": "decide for this challenge only (default: every challenge you organise)"})
    note = fields.String(load_default=None, validate=validate.Length(max=500))


class DecisionSchema(BaseSchema):
    activity_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    decision = fields.String(required=True, validate=validate.OneOf(["approve", "reject"]))
    note = fields.String(load_default=None, validate=validate.Length(max=500),
                         metadata={"description": "reason shown with a rejection"})


class DecisionsSchema(BaseSchema):
    decisions = fields.List(fields.Nested(DecisionSchema), required=True,
                            validate=validate.Length(min=1, max=200),
                            metadata={"description": "1 to 200 decisions on activities of this challenge"})


class DecisionResultSchema(BaseSchema):
    activity_id = fields.Integer()
    result = fields.String(metadata={"description": "approved, rejected or not-decided"})
    status = fields.String(allow_none=True, metadata={"description": "the activity's status afterwards"})
    code = fields.String(allow_none=True, metadata={"description": "why it was not decided (problem type)"})
    detail = fields.String(allow_none=True)


class DecisionResultsSchema(BaseSchema):
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    results = fields.List(fields.Nested(DecisionResultSchema))


class ReviewItemSchema(BaseSchema):
    activity = fields.Nested(ActivitySchema)
    user_id = fields.Integer(allow_none=True, metadata={"description": "null in workplace and school challenges"})
    display_name = fields.String(metadata={
        "description": "the participant's name; in workplace and school challenges the boards' pseudonym"})
    challenge_id = fields.Integer()
    reason = fields.String(allow_none=True)
    flagged_at = AwareDateTime()


_ITEM_KEYS = {"source", "external_id", "type", "kind", "started_at", "ended_at", "duration_s", "moving_time_s",
              "distance_m", "steps"}
_INTS = ("duration_s", "moving_time_s", "steps")


def parse_item(raw: Any) -> ActivityIn | str:
    """A ``format: vcc`` batch item -> ``ActivityIn``, or the reason it cannot be taken."""
    if not isinstance(raw, dict):
        return "an item must be a JSON object"
    unknown = set(raw) - _ITEM_KEYS
    if unknown:
        return f"unknown field(s): {', '.join(sorted(unknown))}"
    source = raw.get("source")
    if source not in SYNC_SOURCES:
        return f"source must be one of {', '.join(SYNC_SOURCES)} (files go to /activities/import)"
    ext = raw.get("external_id")
    if not isinstance(ext, str) or not 1 <= len(ext) <= 255:
        return "external_id (the source's id of this record, 1..255 characters) is required"
    type_code = raw.get("type")
    if not isinstance(type_code, str):
        return "type is required (see GET /api/v1/activity-types)"
    for key in _INTS:
        value = raw.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            return f"{key} must be an integer"
    dist = raw.get("distance_m")
    if dist is not None and (not isinstance(dist, int | float) or isinstance(dist, bool)):
        return "distance_m must be a number"
    try:
        kind = ActivityKind(raw.get("kind", "session"))
    except ValueError:
        return "kind must be session or steps"
    start = parse_time(raw.get("started_at"), "started_at")
    if isinstance(start, str):
        return start
    duration = raw.get("duration_s")
    if raw.get("ended_at") is not None:
        if duration is not None:
            return "give ended_at or duration_s, not both"
        end = parse_time(raw["ended_at"], "ended_at")
        if isinstance(end, str):
            return end
        duration = round((end - start).total_seconds())
    if duration is None:
        return "give ended_at or duration_s"
    if duration > MAX_DURATION_S:
        return f"bad-time: duration_s {duration} is more than a week"
    return ActivityIn(type_code, start, duration, ActivitySource(source), kind, ext,
                      distance_m=float(dist) if dist is not None else None, steps=raw.get("steps"),
                      moving_time_s=raw.get("moving_time_s"))


def activity_in(data: dict[str, Any]) -> ActivityIn:
    """A loaded ``ActivityCreateSchema`` -> ``ActivityIn``."""
    start = data["started_at"]
    duration = data.get("duration_s")
    if duration is None:
        duration = round((data["ended_at"] - start).total_seconds())
    return ActivityIn(data["type"], start, duration, ActivitySource(data["source"]), data["kind"],
                      data.get("external_id"), distance_m=data.get("distance_m"), steps=data.get("steps"),
                      moving_time_s=data.get("moving_time_s"))


class WeeksArgsSchema(BaseSchema):
    weeks = fields.Integer(load_default=8, validate=validate.Range(min=1, max=53),
                           metadata={"description": "how many ISO weeks, this one first (1-53)"})


class WeekSchema(BaseSchema):
    week = fields.String(metadata={"description": "ISO week, e.g. 2026-W48"})
    starts_on = fields.Date(metadata={"description": "its Monday, in my time zone"})
    active_minutes = fields.Float(metadata={"description": "moderate minutes + vigorous minutes x2 (WHO)"})
    moderate_minutes = fields.Float()
    vigorous_minutes = fields.Float()
    steps = fields.Integer()
    distance_m = fields.Float()
    sessions = fields.Integer()
    goal_met = fields.Boolean(metadata={"description": "active_minutes reached the weekly 150"})


class WeeklySummarySchema(BaseSchema):
    timezone = fields.String()
    weekly_goal_minutes = fields.Integer()
    weeks = fields.List(fields.Nested(WeekSchema))
