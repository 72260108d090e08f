"""Marshmallow schemas of the notifications API (inputs ...CreateSchema / ...UpdateSchema, outputs ...Schema)."""

from __future__ import annotations

from marshmallow import fields, validate

from notifications.models import NudgeKind, Platform, TokenType
from service.schemas import AwareDateTime, BaseSchema, PaginationArgsSchema, page_of

HHMM = validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error="Use 24-hour HH:MM, e.g. '21:30'.")
KINDS = [k.value for k in NudgeKind]


class DeviceCreateSchema(BaseSchema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=1024),
                          metadata={"description": "FCM registration token (or Firebase installation id)"})
    platform = fields.String(required=True, validate=validate.OneOf([p.value for p in Platform]))
    token_type = fields.String(load_default=TokenType.REGISTRATION.value,
                               validate=validate.OneOf([t.value for t in TokenType]))
    app_version = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40))


class DeviceSchema(BaseSchema):
    id = fields.Integer()
    token = fields.String()
    platform = fields.String()
    token_type = fields.String()
    app_version = fields.String(allow_none=True)
    created_at = AwareDateTime()
    last_seen_at = AwareDateTime()
    invalid_since = AwareDateTime(allow_none=True, metadata={"description": "set when FCM rejected the token"})


class QuietHoursSchema(BaseSchema):
    start = fields.String(required=True, validate=HHMM)
    end = fields.String(required=True, validate=HHMM)


class KindPreferenceSchema(BaseSchema):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    enabled = fields.Boolean()
    daily_cap = fields.Integer(validate=validate.Range(min=0, max=20))


class PreferencesSchema(BaseSchema):
    opted_out = fields.Boolean(metadata={"description": "no nudges at all"})
    quiet_hours = fields.Nested(QuietHoursSchema, metadata={"description": "local time; pushes wait until the end"})
    daily_cap = fields.Integer(metadata={"description": "most pushes a local day, all kinds together"})
    kinds = fields.List(fields.Nested(KindPreferenceSchema))


class PreferencesUpdateSchema(BaseSchema):
    opted_out = fields.Boolean()
    quiet_hours = fields.Nested(QuietHoursSchema)
    daily_cap = fields.Integer(validate=validate.Range(min=0, max=50))
    kinds = fields.List(fields.Nested(KindPreferenceSchema), validate=validate.Length(max=len(KINDS)))


class InboxArgsSchema(PaginationArgsSchema):
    unread = fields.Boolean(load_default=False, metadata={"description": "only unread notifications"})


class NotificationSchema(BaseSchema):
    id = fields.Integer()
    kind = fields.String()
    title = fields.String()
    body = fields.String()
    challenge_id = fields.Integer(allow_none=True)
    created_at = AwareDateTime(attribute="inbox_at")
    read_at = AwareDateTime(allow_none=True)


class NotificationPageSchema(page_of(NotificationSchema, documented=True)):  # type: ignore[misc]
    unread = fields.Integer(metadata={"description": "unread notifications in the whole inbox"})


class ReadAllSchema(BaseSchema):
    marked = fields.Integer()


class AnnouncementCreateSchema(BaseSchema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=120))
    body = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    scheduled_at = AwareDateTime(load_default=None, allow_none=True,
                                 metadata={"description": "when to send (ISO 8601 with offset); default now"})


class AnnouncementSchema(BaseSchema):
    id = fields.Integer()
    challenge_id = fields.Integer()
    title = fields.String()
    body = fields.String()
    scheduled_at = AwareDateTime()
    fanned_out_at = AwareDateTime(allow_none=True)
    created_at = AwareDateTime()
