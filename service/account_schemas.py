"""Request and response shapes of the auth, profile, organisation and invitation endpoints."""

from __future__ import annotations

from typing import Any

from flask import current_app
from marshmallow import ValidationError, fields, validate, validates_schema

from service.audit import ACTIONS
from service.invitations import link_for
from service.membership import MAX_AREAS, MAX_DOMAINS
from service.models import JoinedVia, MembershipPolicy, OrgKind, Role
from service.schemas import AwareDateTime, BaseSchema, PaginationArgsSchema, TimeZoneField, page_of

LOCALE = validate.And(  # the column is VARCHAR(16): a longer tag was a database error (a 500) on PostgreSQL
    validate.Length(max=16, error="A locale tag has at most 16 characters."),
    validate.Regexp(r"^[a-zA-Z]{2,3}([-_][a-zA-Z0-9]{2,8})*$", error="Use a locale tag such as 'en' or 'fi-FI'."))
DISPLAY_NAME = validate.Length(min=1, max=80)
ALIAS = validate.Length(max=40)


class EmailField(fields.Email):
    """An email address, trimmed and lower-cased before it is checked (people paste spaces)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, str):
            value = value.strip().lower()
        return str(super()._deserialize(value, attr, data, **kwargs))


NOTICE_VERSION = validate.Regexp(r"^[\w.:+-]{1,40}$",
                                 error="Name the privacy notice version in 1-40 letters, digits or . _ : + -")


class ConsentGrantSchema(BaseSchema):
    notice_version = fields.String(required=True, validate=NOTICE_VERSION, metadata={
        "description": "the version of the privacy notice the person was shown and agreed to",
        "example": "2026-05"})


class ConsentStateSchema(BaseSchema):
    purpose = fields.String(metadata={"example": "health_data"})
    granted = fields.Boolean()
    granted_at = fields.AwareDateTime(format="iso", allow_none=True)
    notice_version = fields.String(allow_none=True)
    needed_for = fields.String()


class ConsentRecordSchema(BaseSchema):
    purpose = fields.String()
    action = fields.String(metadata={"description": "granted or withdrawn"})
    notice_version = fields.String(allow_none=True)
    at = fields.AwareDateTime(format="iso")


class ConsentsSchema(BaseSchema):
    items = fields.List(fields.Nested(ConsentStateSchema), metadata={"description": "the current state per purpose"})
    records = fields.List(fields.Nested(ConsentRecordSchema), metadata={"description": "every change, oldest first"})


PASSWORD = validate.Length(min=8, max=256)
"""The password rule of sign-up, and of every other place a password is chosen (password reset)."""


class RegisterSchema(BaseSchema):
    email = EmailField(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, load_only=True, validate=PASSWORD)
    display_name = fields.String(required=True, validate=DISPLAY_NAME)
    timezone = TimeZoneField(load_default="UTC", metadata={"example": "Europe/Helsinki"})
    locale = fields.String(load_default="en", validate=LOCALE)
    health_data_consent_version = fields.String(
        load_default=None, validate=NOTICE_VERSION, metadata={
            "description": "give consent to processing health data (needed to log activity) right away: the "
                           "version of the privacy notice the app showed; same as PUT /api/v1/me/consents/health_data"})


class TokenRequestSchema(BaseSchema):
    """OAuth2-style token request: ``password`` grant (email + password) or ``refresh_token`` grant."""

    grant_type = fields.String(required=True, validate=validate.OneOf(["password", "refresh_token"]))
    email = fields.String(validate=validate.Length(max=254))
    password = fields.String(load_only=True, validate=validate.Length(max=256))
    refresh_token = fields.String(validate=validate.Length(max=200))

    @validates_schema
    def _grant_fields(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("grant_type") == "password":
            missing = {f: ["Required for grant_type 'password'."] for f in ("email", "password") if not data.get(f)}
            if missing:
                raise ValidationError(missing)
        elif data.get("grant_type") == "refresh_token" and not data.get("refresh_token"):
            raise ValidationError({"refresh_token": ["Required for grant_type 'refresh_token'."]})


class TokenSchema(BaseSchema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = fields.Integer(required=True, metadata={"description": "access token lifetime in seconds"})
    refresh_token = fields.String(required=True, metadata={"description": "opaque; single use, rotates"})
    refresh_expires_in = fields.Integer(required=True)


class LogoutSchema(BaseSchema):
    refresh_token = fields.String(required=True, validate=validate.Length(max=200))


class UserSchema(BaseSchema):
    id = fields.Integer(dump_only=True)
    email = fields.String()
    display_name = fields.String()
    timezone = fields.String()
    locale = fields.String()
    hide_from_leaderboards = fields.Boolean()
    alias = fields.String(allow_none=True)
    show_full_name = fields.Boolean()
    weight_kg = fields.Float(allow_none=True)
    is_superuser = fields.Boolean()
    email_verified_at = AwareDateTime(dump_only=True, allow_none=True, metadata={
        "description": "when a link mailed to the address was used; null: not verified"})
    created_at = AwareDateTime()


class UserUpdateSchema(BaseSchema):
    display_name = fields.String(validate=DISPLAY_NAME)
    timezone = TimeZoneField()
    locale = fields.String(validate=LOCALE)
    hide_from_leaderboards = fields.Boolean(metadata={
        "description": "take part without appearing on any board (shown as 'Participant #...' to others)"})
    alias = fields.String(allow_none=True, validate=ALIAS, metadata={
        "description": "the name boards show; without it, first name and initial (null clears it)"})
    show_full_name = fields.Boolean(metadata={"description": "opt in to boards showing display_name in full"})
    weight_kg = fields.Float(allow_none=True, validate=validate.Range(min=20, max=400),
                             metadata={"description": "used for kcal estimates only"})


DOMAIN = validate.Regexp(r"^@?([a-zA-Z0-9-]{1,63}\.)+[a-zA-Z]{2,63}$", error="Use a domain such as acme.example.")


class MembershipPolicyFields(BaseSchema):
    membership_policy = fields.Enum(MembershipPolicy, by_value=True, metadata={
        "description": "invitation (only by invitation), open (anyone joins by declaring it), email_domain (a "
                       "verified address in email_domains)"})
    email_domains = fields.List(fields.String(validate=validate.And(validate.Length(max=253), DOMAIN)),
                                allow_none=True, validate=validate.Length(max=MAX_DOMAINS), metadata={
        "description": "policy email_domain: these domains and their subdomains admit their verified addresses"})
    areas = fields.List(fields.String(validate=validate.Length(min=1, max=80)), allow_none=True,
                        validate=validate.Length(max=MAX_AREAS), metadata={
        "description": "postcodes or districts a person joining by themselves picks one of"})


class OrganisationCreateSchema(MembershipPolicyFields):
    kind = fields.Enum(OrgKind, by_value=True, required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    country = fields.String(validate=validate.Regexp(r"^[A-Za-z]{2}$", error="Use an ISO 3166-1 alpha-2 code."),
                            allow_none=True)
    region = fields.String(validate=validate.Length(max=80), allow_none=True)
    timezone = TimeZoneField(load_default="UTC")


class OrganisationUpdateSchema(MembershipPolicyFields):
    kind = fields.Enum(OrgKind, by_value=True)
    name = fields.String(validate=validate.Length(min=1, max=120))
    country = fields.String(validate=validate.Regexp(r"^[A-Za-z]{2}$", error="Use an ISO 3166-1 alpha-2 code."),
                            allow_none=True)
    region = fields.String(validate=validate.Length(max=80), allow_none=True)
    timezone = TimeZoneField()


class OrganisationSchema(BaseSchema):
    id = fields.Integer()
    kind = fields.Enum(OrgKind, by_value=True)
    name = fields.String()
    slug = fields.String()
    country = fields.String(allow_none=True)
    region = fields.String(allow_none=True)
    timezone = fields.String()
    membership_policy = fields.Enum(MembershipPolicy, by_value=True)
    email_domains = fields.List(fields.String(), allow_none=True)
    areas = fields.List(fields.String(), allow_none=True)
    created_at = AwareDateTime()
    my_role = fields.Enum(Role, by_value=True, allow_none=True,
                          metadata={"description": "the caller's role in this organisation"})


OrganisationPageSchema = page_of(OrganisationSchema, documented=True)


class OrganisationListArgsSchema(PaginationArgsSchema):
    pass


class MembershipSchema(BaseSchema):
    user_id = fields.Integer()
    organisation_id = fields.Integer()
    role = fields.Enum(Role, by_value=True)
    joined_via = fields.Enum(JoinedVia, by_value=True, allow_none=True, metadata={
        "description": "invitation, open or email_domain (ends when the address no longer admits); null: by "
                       "an admin"})
    area = fields.String(allow_none=True, metadata={"description": "the area the person picked"})
    display_name = fields.Function(lambda m: m.user.display_name)
    email = fields.Function(lambda m: m.user.email)
    created_at = AwareDateTime()


MembershipPageSchema = page_of(MembershipSchema, documented=True)


class JoinSchema(BaseSchema):
    area = fields.String(load_default=None, validate=validate.Length(min=1, max=80), metadata={
        "description": "one of the organisation's areas (required when it lists any)"})


class InvitationAcceptedSchema(MembershipSchema):
    challenge_id = fields.Integer(allow_none=True, metadata={"description": "the challenge I was enrolled in"})
    team_id = fields.Integer(allow_none=True, metadata={"description": "the team I was put in"})


class MembershipUpdateSchema(BaseSchema):
    role = fields.Enum(Role, by_value=True, required=True)


class InvitationCreateSchema(BaseSchema):
    role = fields.Enum(Role, by_value=True, load_default=Role.MEMBER)
    email = EmailField(allow_none=True, metadata={"description": "only this account may accept"})
    max_uses = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=100_000))
    expires_at = AwareDateTime(allow_none=True)
    expires_in_days = fields.Integer(validate=validate.Range(min=1, max=365),
                                     metadata={"description": "alternative to expires_at; default 14"})
    challenge_id = fields.Integer(load_default=None, metadata={
        "description": "also enrol in this challenge (of the organisation, or one it takes part in)"})
    team_id = fields.Integer(load_default=None, metadata={"description": "and put in this team of it"})


class InvitationSchema(BaseSchema):
    id = fields.Integer()
    organisation_id = fields.Integer()
    code = fields.String()
    link = fields.Function(lambda inv: link_for(current_app.extensions["vcc_settings"].public_base_url, inv.code),
                           metadata={"type": "string", "description": "{PUBLIC_BASE_URL}/join/{code}"})
    role = fields.Enum(Role, by_value=True)
    email = fields.String(allow_none=True)
    max_uses = fields.Integer(allow_none=True)
    uses = fields.Integer()
    expires_at = AwareDateTime(allow_none=True)
    revoked_at = AwareDateTime(allow_none=True)
    challenge_id = fields.Integer(allow_none=True)
    team_id = fields.Integer(allow_none=True)
    created_at = AwareDateTime()


InvitationPageSchema = page_of(InvitationSchema, documented=True)


class InvitationBulkSchema(BaseSchema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=300_000), metadata={
        "description": "pasted addresses (one per line, or separated by commas) or a CSV file's text: every cell "
                       "with an @ is an address, a header line such as 'email' is skipped; at most 1000"})
    role = fields.Enum(Role, by_value=True, load_default=Role.MEMBER)
    challenge_id = fields.Integer(load_default=None)
    team_id = fields.Integer(load_default=None)
    expires_in_days = fields.Integer(validate=validate.Range(min=1, max=365),
                                     metadata={"description": "default 14"})


class InvitationBulkRowSchema(BaseSchema):
    line = fields.Integer(metadata={"description": "the line of the upload"})
    email = fields.String()
    status = fields.String(metadata={"description": "invited, already-invited, already-member, duplicate or "
                                                    "invalid"})
    detail = fields.String(allow_none=True)
    invitation_id = fields.Integer(allow_none=True)


class InvitationBulkReportSchema(BaseSchema):
    items = fields.List(fields.Nested(InvitationBulkRowSchema))
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())


class PreviewOrganisationSchema(BaseSchema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.Enum(OrgKind, by_value=True, allow_none=True)


class PreviewChallengeSchema(BaseSchema):
    id = fields.Integer()
    title = fields.String()
    starts_at = AwareDateTime()
    ends_at = AwareDateTime()
    timezone = fields.String()
    phase = fields.String(metadata={"description": "draft, upcoming, running or ended"})


class PreviewTeamSchema(BaseSchema):
    id = fields.Integer()
    name = fields.String()


class InvitationPreviewSchema(BaseSchema):
    code = fields.String()
    valid = fields.Boolean(metadata={"description": "false: expired, withdrawn or used up (see status)"})
    status = fields.String(metadata={"description": "valid, invitation-expired, invitation-revoked or "
                                                    "invitation-used-up"})
    organisation = fields.Nested(PreviewOrganisationSchema)
    organisation_id = fields.Integer()
    organisation_name = fields.String()
    role = fields.Enum(Role, by_value=True)
    expires_at = AwareDateTime(allow_none=True)
    reserved = fields.Boolean(metadata={"description": "only the account with the address it was sent to may "
                                                      "accept (the address is not shown)"})
    challenge = fields.Nested(PreviewChallengeSchema, allow_none=True)
    team = fields.Nested(PreviewTeamSchema, allow_none=True)
    will = fields.List(fields.String(), metadata={
        "description": "what accepting does, in order: join_organisation, enrol, join_team"})


class AuditQueryArgsSchema(PaginationArgsSchema):
    action = fields.String(load_default=None, validate=validate.OneOf(list(ACTIONS)),
                           metadata={"description": "only this action (the list in docs/api.md)"})
    since = AwareDateTime(load_default=None, metadata={"description": "only events at or after this time"})


class AuditActorSchema(BaseSchema):
    id = fields.Integer(required=True)
    display_name = fields.String(required=True, metadata={"description": '"Deleted user" once erased'})


class AuditTargetSchema(BaseSchema):
    type = fields.String(required=True, metadata={"example": "challenge"})
    id = fields.Integer(required=True, allow_none=True)


class AuditEventSchema(BaseSchema):
    id = fields.Integer(required=True)
    at = AwareDateTime(required=True)
    actor = fields.Nested(AuditActorSchema, required=True, allow_none=True,
                          metadata={"description": "null: the operator (command line, scheduler)"})
    action = fields.String(required=True, metadata={"example": "challenge.published"})
    target = fields.Nested(AuditTargetSchema, required=True)
    detail = fields.Dict(required=True, allow_none=True,
                         metadata={"description": "what changed (field names, roles, ids), never anyone's figures"})


AuditPageSchema = page_of(AuditEventSchema, documented=True)
