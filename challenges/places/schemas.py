"""Schemas of check-in places: locations, their QR tokens, and check-ins."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from challenges.models import CheckInMethod
from service.schemas import BaseSchema, page_of


class LocationCreateSchema(BaseSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    lat = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    lon = fields.Float(required=True, validate=validate.Range(min=-180, max=180))
    radius_m = fields.Float(load_default=100.0, validate=validate.Range(min=5, max=5000))


class LocationUpdateSchema(BaseSchema):
    name = fields.String(validate=validate.Length(min=1, max=120))
    lat = fields.Float(validate=validate.Range(min=-90, max=90))
    lon = fields.Float(validate=validate.Range(min=-180, max=180))
    radius_m = fields.Float(validate=validate.Range(min=5, max=5000))
    rotate_qr_secret = fields.Boolean(metadata={"description": "invalidate every QR code printed so far"})


class LocationSchema(BaseSchema):
    id = fields.Integer()
    challenge_id = fields.Integer()
    name = fields.String()
    lat = fields.Float()
    lon = fields.Float()
    radius_m = fields.Float()


LocationPageSchema = page_of(LocationSchema, documented=True)


class QrTokenSchema(BaseSchema):
    location_id = fields.Integer()
    token = fields.String()
    expires_at = fields.DateTime(format="iso")
    window_seconds = fields.Integer()


class CheckInCreateSchema(BaseSchema):
    location_id = fields.Integer(required=True)
    lat = fields.Float(validate=validate.Range(min=-90, max=90))
    lon = fields.Float(validate=validate.Range(min=-180, max=180))
    qr_token = fields.String(validate=validate.Length(min=1, max=200))

    @validates_schema
    def _one_proof(self, data: dict[str, Any], **kwargs: Any) -> None:
        has_geo = "lat" in data or "lon" in data
        if has_geo and ("lat" not in data or "lon" not in data):
            raise ValidationError("Give both lat and lon.", "lat" if "lat" not in data else "lon")
        if has_geo == ("qr_token" in data):
            raise ValidationError("Give either lat and lon (geofence) or qr_token, not both or neither.",
                                  "_schema")


class CheckInSchema(BaseSchema):
    id = fields.Integer()
    challenge_id = fields.Integer()
    location_id = fields.Integer()
    location_name = fields.String(attribute="location.name")
    at = fields.DateTime(format="iso")
    local_day = fields.Date()
    method = fields.Enum(CheckInMethod, by_value=True)
    points = fields.Integer(metadata={"description": "on check-in: the points it scored"})
    badges = fields.List(fields.String(), metadata={"description": "on check-in: codes of badges it earned"})


CheckInPageSchema = page_of(CheckInSchema, documented=True)
