"""GET /api/v1/me/export: the signed-in person's data as one JSON file (GDPR art. 15 and 20).

Thin: the document is built by ``service.exports`` (and the domain packages' receivers). The view is
limited per person (``EXPORT_RATELIMIT``, default 5 per hour): an export reads every row the person has.
"""

from __future__ import annotations

from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields

from service import exports
from service.auth import auth_required, current_user
from service.db import db
from service.extensions import limiter
from service.schemas import BaseSchema

blp = Blueprint("export", __name__, url_prefix="/api/v1/me/export",
                description="Download everything the service holds about me (GDPR access and portability).")


def _export_limit() -> str:
    return str(current_app.extensions["vcc_settings"].export_ratelimit)


def _per_person() -> str:
    """Counted per signed-in person, not per address (the view is behind ``auth_required``)."""
    return f"export-user:{current_user().id}"


def _rows(description: str) -> fields.List:
    return fields.List(fields.Dict(), required=True, metadata={"description": description})


class ExportUserSchema(BaseSchema):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    display_name = fields.String(required=True)
    timezone = fields.String(required=True)
    locale = fields.String(required=True)
    weight_kg = fields.Float(required=True, allow_none=True)
    hide_from_leaderboards = fields.Boolean(required=True)
    alias = fields.String(required=True, allow_none=True)
    show_full_name = fields.Boolean(required=True)
    email_verified_at = fields.String(required=True, allow_none=True, metadata={
        "format": "date-time", "description": "when I proved the address is mine (null: not yet)"})
    has_password = fields.Boolean(required=True, metadata={"description": "the hash itself is never exported"})
    firebase_uid = fields.String(required=True, allow_none=True)
    is_superuser = fields.Boolean(required=True)
    created_at = fields.String(required=True, metadata={"format": "date-time"})
    health_data_consent_at = fields.String(required=True, allow_none=True, metadata={
        "format": "date-time", "description": "when I consented to processing my health data (null: not given)"})
    health_data_consent_version = fields.String(required=True, allow_none=True)


class ExportSectionsSchema(BaseSchema):
    """One key per section; every time is ISO 8601 with its UTC offset."""

    memberships = _rows("organisations I belong to: name, kind, my role, since when")
    sign_ins = _rows("refresh tokens issued to me (times only, never the token)")
    security_events = _rows("refused sign-ins and revoked sessions recorded against my account")
    invitations_created = _rows("invitations I made (without code and invitee address)")
    invitations_received = _rows("invitations reserved for my email address (without code)")
    retry_records = _rows("stored first answers of my retried writes (key, endpoint, status)")
    consents = _rows("every time I gave or withdrew a consent, with the privacy notice version")
    enrolments = _rows("challenges I joined or left, with title, organiser and team")
    activities = _rows("every activity as stored (source reference, status, reason, deleted ones too), "
                       "each with its entries per challenge")
    checkins = _rows("check-ins with the challenge and the location")
    distance_samples = _rows("health-store distance samples merged into my activities")
    points = _rows("my points ledger lines: contest (challenge id), source_key, points, metric value, local day, "
                   "rule")
    board_totals = _rows("my lines of the user leaderboards per contest and period")
    badges = _rows("badges awarded to me, with evidence")
    devices = _rows("push devices (only the last 6 characters of each token)")
    notification_settings = fields.Dict(required=True, allow_none=True,
                                        metadata={"description": "opt-out, quiet hours, daily cap (null: defaults)"})
    notification_preferences = _rows("per-kind notification switches")
    notifications = _rows("nudges planned or sent to me (the inbox), with status and text")
    push_deliveries = _rows("each push of a notification to one of my devices and its outcome")


class ExportSchema(BaseSchema):
    format = fields.String(required=True, metadata={"example": exports.FORMAT})
    generated_at = fields.String(required=True, metadata={"format": "date-time"})
    user = fields.Nested(ExportUserSchema, required=True)
    sections = fields.Nested(ExportSectionsSchema, required=True)


@blp.route("")
class MyExport(MethodView):
    @auth_required
    @blp.response(200, ExportSchema, headers={"Content-Disposition": {
        "description": 'attachment; filename="vcc-export-<user id>.json"', "schema": {"type": "string"}}})
    @limiter.limit(_export_limit, key_func=_per_person)
    def get(self) -> Response:
        """Download all my data as one JSON document (GDPR access and portability; a few per hour)"""
        user = current_user()
        document = exports.build_export(db.session, user)
        response = current_app.response_class(exports.to_json(document), 200, mimetype="application/json")
        response.headers["Content-Disposition"] = f'attachment; filename="vcc-export-{user.id}.json"'
        response.headers["Cache-Control"] = "no-store"
        return response


blueprints: list[Blueprint] = [blp]
