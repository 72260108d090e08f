"""Marshmallow schemas of the challenge resources (no database lookups in here)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from challenges import privacy
from challenges.formats import format_of
from challenges.limits import CHALLENGE_BOUNDS, SPEED_TYPES
from challenges.models import BoardVisibility, ChallengeFormat, Phase, Setting, Visibility
from scoring.catalogue import ACTIVITY_TYPES
from scoring.schemas import BadgeSchema
from scoring.types import Metric
from service.clock import zone
from service.schemas import BaseSchema, PaginationArgsSchema, TimeZoneField, page_of, within_supported_years

MAX_GOAL = 1e12
MAX_DAILY_CAP = 1e6
"""Bounds of a goal and a daily cap in any metric's units (metres, steps, minutes...): far above any real one,
far below the floats (1e308) that used to overflow the arithmetic they enter."""
LOCAL_TIME_HELP = ("ISO 8601; with an offset it is an instant, without one it is wall-clock time in the "
                   "challenge's time zone")


def local_iso(obj: Any, attr: str) -> str | None:
    value = getattr(obj, attr)
    return None if value is None else value.astimezone(zone(obj.timezone)).isoformat()


class SpeedLimitsField(fields.Dict):
    """``{type code: km/h}``; each code a known activity type with a distance, each value a JSON number in
    range. Errors are keyed by the code, so the problem says which one is wrong."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict[str, float]:
        if not isinstance(value, Mapping):
            raise ValidationError("Not an object: send {\"<type code>\": <km/h>, ...}.")
        low, high = CHALLENGE_BOUNDS["max_speed_kmh"]
        out: dict[str, float] = {}
        errors: dict[str, list[str]] = {}
        for code, kmh in value.items():
            if code not in ACTIVITY_TYPES or code == "checkin":
                errors[str(code)] = [f"Unknown activity type {code!r} (see GET /api/v1/activity-types)."]
            elif code not in SPEED_TYPES:
                errors[code] = [f"{code} has no distance, so it has no speed to limit."]
            elif not isinstance(kmh, int | float) or isinstance(kmh, bool):
                errors[code] = ["Not a valid number (km/h)."]
            elif not low <= kmh <= high:
                errors[code] = [f"Must be between {low:g} and {high:g} km/h."]
            else:
                out[code] = float(kmh)
        if errors:
            raise ValidationError(errors)
        return out


def _bounded(key: str) -> validate.Range:
    low, high = CHALLENGE_BOUNDS[key]
    return validate.Range(min=low, max=high)


class PlausibilitySchema(BaseSchema):
    """A challenge's own plausibility limits, on top of the deployment's; entries breaking them are flagged
    in this challenge for its organisers to review. Every key is optional; ``{}`` or null sets none."""

    error_messages = {"type": "Not an object: send {\"steps_flag_per_day\": ..., \"max_duration_s\": ..., "
                              "\"max_speed_kmh\": {\"<type code>\": <km/h>}}."}

    steps_flag_per_day = fields.Integer(
        validate=_bounded("steps_flag_per_day"),
        metadata={"description": "flag a step record when the participant's steps of that day (challenge's "
                                 "time zone) go above this"})
    max_duration_s = fields.Integer(
        validate=_bounded("max_duration_s"), metadata={"description": "flag a session longer than this (s)"})
    max_speed_kmh = SpeedLimitsField(
        keys=fields.String(), values=fields.Float(),
        metadata={"description": "flag a faster average speed, per activity type code (a generic type such as "
                                 "running also covers its pace variants)"})


class _ChallengeFields(BaseSchema):
    title = fields.String(validate=validate.Length(min=1, max=160))
    description = fields.String(validate=validate.Length(max=10_000))
    setting = fields.Enum(Setting, by_value=True)
    metric = fields.Enum(Metric, by_value=True)
    format = fields.Enum(ChallengeFormat, by_value=True)
    goal = fields.Float(allow_none=True, validate=validate.Range(min=0, max=MAX_GOAL, min_inclusive=False),
                        metadata={"description": "in metric units, up to 1e12 (STADTRADELN's 2023 total was 2.3e11 m)"})
    starts_at = fields.DateTime(format="iso", validate=within_supported_years,
                                metadata={"description": LOCAL_TIME_HELP})
    ends_at = fields.DateTime(format="iso", validate=within_supported_years, metadata={"description": LOCAL_TIME_HELP})
    timezone = TimeZoneField()
    visibility = fields.Enum(Visibility, by_value=True)
    board_visibility = fields.Enum(BoardVisibility, by_value=True, allow_none=True, metadata={
        "description": "who sees individual boards: public (anyone; aliases only when signed out), participants, "
                       "none (teams and organisations only); null: the setting's default (work and school "
                       "participants, others public). Once running it can only become more private"})
    allowed_types = fields.List(fields.String(validate=validate.Length(min=1, max=64)), allow_none=True,
                                validate=validate.Length(min=1, max=200),
                                metadata={"description": "activity type codes that count; null = all"})
    daily_cap = fields.Float(allow_none=True, validate=validate.Range(min=0, max=MAX_DAILY_CAP, min_inclusive=False),
                             metadata={"description": "per participant and local day, in metric units (up to 1e6: "
                                                      "1,000 km, ten times the steps anyone walks)"})
    vigorous_counts_double = fields.Boolean()
    grace_days = fields.Integer(validate=validate.Range(min=0, max=60),
                                metadata={"description": "days after the end in which late syncs still count"})
    region = fields.String(allow_none=True, validate=validate.Length(max=80))
    team_size_cap = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=10_000))
    participants_create_teams = fields.Boolean()
    plausibility = fields.Nested(PlausibilitySchema, allow_none=True,
                                 metadata={"description": "this challenge's own plausibility limits; null = the "
                                                          "deployment's only"})


class ChallengeCreateSchema(_ChallengeFields):
    organisation_id = fields.Integer(required=True)
    title = fields.String(required=True, validate=validate.Length(min=1, max=160))
    setting = fields.Enum(Setting, by_value=True, required=True)
    metric = fields.Enum(Metric, by_value=True, required=True)
    format = fields.Enum(ChallengeFormat, by_value=True, required=True)
    starts_at = fields.DateTime(format="iso", required=True, validate=within_supported_years,
                                metadata={"description": LOCAL_TIME_HELP})
    ends_at = fields.DateTime(format="iso", required=True, validate=within_supported_years,
                              metadata={"description": LOCAL_TIME_HELP})


class ChallengeCopySchema(BaseSchema):
    title = fields.String(validate=validate.Length(min=1, max=160),
                          metadata={"description": "default: the source's title"})
    starts_at = fields.DateTime(format="iso", required=True, validate=within_supported_years,
                                metadata={"description": LOCAL_TIME_HELP})
    ends_at = fields.DateTime(format="iso", required=True, validate=within_supported_years,
                              metadata={"description": LOCAL_TIME_HELP})
    teams = fields.Boolean(load_default=True, metadata={"description": "copy the teams (with fresh codes)"})
    locations = fields.Boolean(load_default=True, metadata={
        "description": "copy the active check-in locations (with fresh QR secrets)"})


class ChallengeUpdateSchema(_ChallengeFields):
    """Every field optional; rule fields are locked once the challenge runs (409 rules-locked)."""


class ChallengeSchema(BaseSchema):
    id = fields.Integer()
    organisation_id = fields.Integer()
    title = fields.String()
    description = fields.String()
    setting = fields.Enum(Setting, by_value=True)
    metric = fields.Enum(Metric, by_value=True)
    format = fields.Enum(ChallengeFormat, by_value=True)
    format_rules = fields.Function(lambda c: format_of(c).rules(), metadata={
        "type": "object", "description": "what the format decides (challenges.formats): boards that fill, the main "
        "board, what the goal is a goal of, whether teams exist and are joined by code"})
    goal = fields.Float(allow_none=True)
    starts_at = fields.Function(lambda c: local_iso(c, "starts_at"), metadata={"type": "string"})
    ends_at = fields.Function(lambda c: local_iso(c, "ends_at"), metadata={"type": "string"})
    timezone = fields.String()
    visibility = fields.Enum(Visibility, by_value=True)
    board_visibility = fields.Function(lambda c: privacy.board_visibility(c).value, metadata={
        "type": "string", "enum": [v.value for v in BoardVisibility],
        "description": "who sees individual boards (the setting's default unless the organiser chose)"})
    invite_code = fields.Function(lambda c: c.invite_code if getattr(c, "show_invite_code", False) else None,
                                  allow_none=True,
                                  metadata={"type": "string", "description": "organisers only"})
    status = fields.Function(lambda c: c.status.value, metadata={"type": "string"})
    phase = fields.Function(lambda c: c.phase().value, metadata={"type": "string",
                                                                  "enum": [p.value for p in Phase]})
    allowed_types = fields.List(fields.String(), allow_none=True)
    daily_cap = fields.Float(allow_none=True)
    vigorous_counts_double = fields.Boolean()
    grace_days = fields.Integer()
    region = fields.String(allow_none=True)
    team_size_cap = fields.Integer(allow_none=True)
    participants_create_teams = fields.Boolean()
    plausibility = fields.Nested(PlausibilitySchema, allow_none=True)
    published_at = fields.DateTime(format="iso", allow_none=True)
    ended_at = fields.DateTime(format="iso", allow_none=True)


class ChallengeQueryArgsSchema(PaginationArgsSchema):
    organisation_id = fields.Integer()
    setting = fields.Enum(Setting, by_value=True)
    status = fields.Enum(Phase, by_value=True, metadata={"description": "draft needs organisation_id and the "
                                                                        "organiser role there"})
    region = fields.String(validate=validate.Length(min=1, max=80))


class ChallengeByIdArgsSchema(BaseSchema):
    invite_code = fields.String(load_default=None, validate=validate.Length(max=32))


ChallengePageSchema = page_of(ChallengeSchema)


class ChallengeBadgeSchema(BadgeSchema):
    challenge_id = fields.Integer(attribute="contest_id", allow_none=True, metadata={
        "description": "this challenge's own badge; null for a built-in badge that every challenge has"})
    achievement_url = fields.Method("_achievement_url", metadata={
        "description": "the Open Badges Achievement of this badge"})

    def _achievement_url(self, badge: Any) -> str:
        return f"/api/v1/achievements/{badge.code}"


_BADGE_CRITERIA = ("what earns it: {kind, ...}; kinds total_at_least {points}, streak {length, threshold?, unit?}, "
                   "first_activity, checkin_locations {count}, top_n_finish {n}, collective_goal {goal?, scope?}, "
                   "who_weeks {weeks, weekly_points?}")


class ChallengeBadgeCreateSchema(BaseSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    description = fields.String(load_default="", validate=validate.Length(max=500))
    criteria = fields.Dict(required=True, metadata={"description": _BADGE_CRITERIA,
                                                    "example": {"kind": "checkin_locations", "count": 12}})
    image_url = fields.Url(load_default=None, allow_none=True, schemes={"https", "http"},
                           validate=validate.Length(max=500))


class ChallengeBadgeUpdateSchema(BaseSchema):
    name = fields.String(validate=validate.Length(min=1, max=120))
    description = fields.String(validate=validate.Length(max=500))
    criteria = fields.Dict(metadata={"description": "only while no one holds the badge; " + _BADGE_CRITERIA})
    image_url = fields.Url(allow_none=True, schemes={"https", "http"}, validate=validate.Length(max=500))

    @validates_schema
    def _something(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data:
            raise ValidationError("Give at least one of name, description, criteria, image_url.", "_schema")
