"""Marshmallow schemas of scoring's HTTP surface."""

from __future__ import annotations

from marshmallow import fields

from service.schemas import BaseSchema, page_of


class ActivityTypeSchema(BaseSchema):
    code = fields.String()
    name = fields.String()
    compendium_code = fields.String(allow_none=True)
    met = fields.Float()
    category = fields.String()
    intensity = fields.String()
    max_speed_kmh = fields.Float(allow_none=True)
    has_distance = fields.Boolean()
    has_steps = fields.Boolean()


class BadgeSchema(BaseSchema):
    code = fields.String()
    name = fields.String()
    description = fields.String()
    image_url = fields.String(allow_none=True)
    criteria = fields.Dict()


class BadgeAwardSchema(BaseSchema):
    id = fields.Integer()
    contest_id = fields.Integer(metadata={"description": "the challenge id (0 for awards outside a challenge)"})
    awarded_at = fields.AwareDateTime(format="iso")
    evidence = fields.Dict(allow_none=True)
    badge = fields.Nested(BadgeSchema)
    credential_url = fields.Method("_credential_url")

    signed_credential_url = fields.Method("_signed_credential_url", metadata={
        "description": "the same credential signed (VC-JWT), for a badge wallet or a verifier"})

    def _credential_url(self, award: object) -> str:
        return f"/api/v1/badge-awards/{award.id}/credential"  # type: ignore[attr-defined]

    def _signed_credential_url(self, award: object) -> str:
        return f"{self._credential_url(award)}.jwt"


BadgeAwardPageSchema = page_of(BadgeAwardSchema)


class CredentialSchema(BaseSchema):
    """An Open Badges 3.0 OpenBadgeCredential (JSON-LD; field names as the spec spells them)."""

    context = fields.List(fields.String(), attribute="@context", data_key="@context")
    id = fields.String()
    type = fields.List(fields.String())
    name = fields.String()
    issuer = fields.Dict(metadata={"description": "Profile: id, type, name"})
    valid_from = fields.String(attribute="validFrom", data_key="validFrom")
    credential_subject = fields.Dict(attribute="credentialSubject", data_key="credentialSubject",
                                     metadata={"description": "AchievementSubject: salted email hash, achievement"})
