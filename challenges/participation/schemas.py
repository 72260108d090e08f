"""Schemas of taking part: enrolment, my challenges, teams and their members."""

from __future__ import annotations

from marshmallow import fields, validate

from challenges.models import Phase
from challenges.participation.enrolment import needs_team, team_hint
from challenges.schemas import ChallengeSchema
from service.schemas import BaseSchema, PaginationArgsSchema, page_of


class EnrolmentCreateSchema(BaseSchema):
    invite_code = fields.String(load_default=None, validate=validate.Length(max=32))
    team_code = fields.String(load_default=None, validate=validate.Length(max=16))
    organisation_id = fields.Integer(load_default=None, metadata={
        "description": "organisation format: the organisation I count for; one taking part that admits me by "
                       "itself (open, or my verified e-mail domain) makes me its member in the same call"})
    area = fields.String(load_default=None, validate=validate.Length(min=1, max=80), metadata={
        "description": "when joining an organisation that lists areas (postcodes, districts): mine"})


class EnrolmentSchema(BaseSchema):
    challenge_id = fields.Integer()
    user_id = fields.Integer()
    team_id = fields.Integer(allow_none=True)
    organisation_id = fields.Integer(allow_none=True)
    joined_at = fields.DateTime(format="iso")
    left_at = fields.DateTime(format="iso", allow_none=True)
    active = fields.Boolean()
    team_needed = fields.Function(needs_team, metadata={
        "type": "boolean", "description": "a team challenge, and no team yet: activity counts for no team"})
    next_step = fields.Function(team_hint, allow_none=True, metadata={
        "type": "string", "description": "what to do to get a team (null when nothing is missing)"})


class MyChallengesArgsSchema(PaginationArgsSchema):
    status = fields.Enum(Phase, by_value=True, load_default=None,
                         validate=validate.OneOf([Phase.UPCOMING, Phase.RUNNING, Phase.ENDED],
                                                 error="One of upcoming, running or ended."))
    include_left = fields.Boolean(load_default=False, metadata={"description": "also challenges I left"})


class MyChallengeSchema(BaseSchema):
    challenge = fields.Nested(ChallengeSchema)
    enrolment = fields.Nested(EnrolmentSchema)


MyChallengePageSchema = page_of(MyChallengeSchema)


class TeamCreateSchema(BaseSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=80))
    organisation_id = fields.Integer(load_default=None)


class TeamUpdateSchema(BaseSchema):
    name = fields.String(validate=validate.Length(min=1, max=80))
    new_code = fields.Boolean(load_default=False, metadata={
        "description": "give the team a fresh code; the old one stops working (members stay)"})


class TeamMemberSchema(BaseSchema):
    user_id = fields.Integer(allow_none=True, metadata={"description": "null for a hidden teammate"})
    name = fields.String(metadata={"description": "display name, or the leaderboards' alias of a hidden member"})
    is_alias = fields.Boolean()
    is_me = fields.Boolean()
    joined_at = fields.DateTime()
    points = fields.Integer(allow_none=True, metadata={
        "description": "the member's points in the whole challenge; null for a member hidden from leaderboards, "
                       "shown to an organiser"})


TeamMemberPageSchema = page_of(TeamMemberSchema)


class TeamSchema(BaseSchema):
    id = fields.Integer()
    challenge_id = fields.Integer()
    name = fields.String()
    organisation_id = fields.Integer(allow_none=True)
    members = fields.Integer(attribute="member_count")
    code = fields.Function(lambda t: t.code if getattr(t, "show_code", False) else None, allow_none=True,
                           metadata={"type": "string", "description": "organisers and the team's creator"})


TeamPageSchema = page_of(TeamSchema, documented=True)
