"""Schemas of standings: leaderboards, my progress and the organiser report."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, post_load, validate

from scoring.types import BoardScope, Period, Scope
from service.schemas import BaseSchema, within_supported_years


class LeaderboardArgsSchema(BaseSchema):
    scope = fields.Enum(BoardScope, by_value=True, load_default=BoardScope.USER)
    period = fields.Enum(Period, by_value=True, load_default=Period.ALL)
    date = fields.Date(load_default=None, validate=within_supported_years,
                       metadata={"description": "a local day inside the day/week wanted; default today"})
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    cursor = fields.String(load_default=None)
    around = fields.String(load_default=None, validate=validate.OneOf(["me"]))
    k = fields.Integer(load_default=5, validate=validate.Range(min=0, max=50),
                       metadata={"description": "rows above and below with around=me"})

    @post_load
    def _scope(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        data["scope"] = Scope(data["scope"].value)
        return data


class BoardRowSchema(BaseSchema):
    rank = fields.Integer()
    id = fields.Integer(allow_none=True, metadata={"description": "null for hidden participants"})
    name = fields.String()
    points = fields.Integer()
    is_alias = fields.Boolean()
    is_me = fields.Boolean()


class LeaderboardSchema(BaseSchema):
    scope = fields.String()
    period = fields.String()
    period_key = fields.String()
    rows = fields.List(fields.Nested(BoardRowSchema))
    next = fields.String(allow_none=True)
    min_group_size = fields.Integer(allow_none=True, metadata={
        "description": "organisers of a workplace or school challenge: the smallest group shown; else null"})
    hidden_groups = fields.Integer(allow_none=True, metadata={
        "description": "organisers of a workplace or school challenge: groups left out (too small, or hidden so "
                       "that no small group can be worked out from the others); else null"})


class ReportArgsSchema(BaseSchema):
    min_group_size = fields.Integer(load_default=None, validate=validate.Range(min=2, max=100),
                                    metadata={"description": "raise (never lower) the configured minimum"})


class ProgressPointsSchema(BaseSchema):
    day = fields.Integer()
    week = fields.Integer()
    all = fields.Integer()


class ProgressStreakSchema(BaseSchema):
    days = fields.Integer()
    today_met = fields.Boolean()
    at_risk = fields.Boolean()


class CollectiveProgressSchema(BaseSchema):
    value = fields.Integer(allow_none=True, metadata={
        "description": "null for organisers of a workplace or school challenge with fewer people than the minimum "
                       "group size"})
    goal = fields.Float(allow_none=True)
    fraction = fields.Float(allow_none=True)


class GoalProgressSchema(CollectiveProgressSchema):
    scope = fields.String(metadata={"description": "participant, team, organisation or collective"})


class ProgressSchema(BaseSchema):
    challenge_id = fields.Integer()
    metric = fields.String()
    phase = fields.String()
    enrolled = fields.Boolean()
    team_id = fields.Integer(allow_none=True)
    organisation_id = fields.Integer(allow_none=True)
    points = fields.Nested(ProgressPointsSchema)
    rank = fields.Integer(allow_none=True)
    streak = fields.Nested(ProgressStreakSchema)
    goal = fields.Nested(GoalProgressSchema)
    collective = fields.Nested(CollectiveProgressSchema)


class ReportRowSchema(BaseSchema):
    key = fields.Raw()
    name = fields.String()
    participants = fields.Integer(allow_none=True)
    active_participants = fields.Integer(allow_none=True)
    total = fields.Integer(allow_none=True, metadata={
        "description": "points, i.e. whole metric units; in by_location the number of check-ins"})
    suppressed = fields.Boolean()


class ReportSchema(BaseSchema):
    challenge_id = fields.Integer()
    metric = fields.String()
    min_group_size = fields.Integer()
    totals = fields.Nested(ReportRowSchema)
    by_team = fields.List(fields.Nested(ReportRowSchema))
    by_organisation = fields.List(fields.Nested(ReportRowSchema))
    by_day = fields.List(fields.Nested(ReportRowSchema))
    by_type = fields.List(fields.Nested(ReportRowSchema), metadata={"description": "per activity type reported"})
    by_location = fields.List(fields.Nested(ReportRowSchema), metadata={
        "description": "per check-in location: visitors and check-ins"})
