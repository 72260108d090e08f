"""Bodies of the e-mail endpoints: a token from a mailed link, an address asking for a reset link."""

from __future__ import annotations

from marshmallow import fields, validate

from service.account_schemas import PASSWORD, EmailField
from service.schemas import BaseSchema

TOKEN = validate.Length(min=1, max=200)


class VerifyEmailSchema(BaseSchema):
    token = fields.String(required=True, validate=TOKEN, metadata={"description": "from the mailed link"})


class PasswordResetRequestSchema(BaseSchema):
    email = EmailField(required=True, validate=validate.Length(max=254))


class PasswordResetConfirmSchema(BaseSchema):
    token = fields.String(required=True, validate=TOKEN, metadata={"description": "from the mailed link"})
    password = fields.String(required=True, load_only=True, validate=PASSWORD,
                             metadata={"description": "the new password (the sign-up rules)"})


class AcceptedSchema(BaseSchema):
    status = fields.String(required=True, metadata={"example": "accepted"})
    detail = fields.String(required=True)
