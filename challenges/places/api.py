"""HTTP surface of @public-space check-ins: locations (organisers), their rotating QR codes, check-ins."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from challenges.access import managed_challenge, visible_challenge
from challenges.models import Challenge, CheckIn, Location
from challenges.places import checkins, locations, qr
from challenges.places.schemas import (
    CheckInCreateSchema,
    CheckInPageSchema,
    CheckInSchema,
    LocationCreateSchema,
    LocationPageSchema,
    LocationSchema,
    LocationUpdateSchema,
    QrTokenSchema,
)
from service import audit
from service.auth import auth_required, current_user, optional_user
from service.clock import utcnow
from service.db import db
from service.idempotency import idempotent
from service.schemas import PaginationArgsSchema

locations_blp = Blueprint("challenge-locations", __name__, url_prefix="/api/v1/challenges",
                          description="Check-in locations with a geofence and a rotating QR code.")
checkins_blp = Blueprint("challenge-checkins", __name__, url_prefix="/api/v1/challenges",
                         description="Check-ins at locations, by geofence or QR code.")


LOCATION_FIELDS = ("name", "lat", "lon", "radius_m")


def _audit_location(action: str, challenge: Challenge, location: Location, **detail: Any) -> None:
    audit.record(db.session, actor=current_user(), organisation_id=challenge.organisation_id, action=action,
                 target_type="location", target_id=location.id, detail={"challenge_id": challenge.id, **detail})


def qr_window_s() -> int:
    return int(current_app.config.get("QR_WINDOW_SECONDS", qr.DEFAULT_WINDOW_S))


@locations_blp.route("/<int:challenge_id>/locations")
class Locations(MethodView):
    @locations_blp.arguments(PaginationArgsSchema, location="query")
    @locations_blp.response(200, LocationPageSchema)
    def get(self, args: dict[str, Any], challenge_id: int) -> dict[str, Any]:
        """Check-in locations of a challenge, in the order they were added"""
        challenge = visible_challenge(db.session, challenge_id, optional_user())
        items, next_cursor = locations.locations_page(db.session, challenge, **args)
        return {"items": items, "next": next_cursor}

    @auth_required
    @idempotent("challenges.places.locations.create")
    @locations_blp.arguments(LocationCreateSchema)
    @locations_blp.response(201, LocationSchema)
    def post(self, data: dict[str, Any], challenge_id: int) -> Location:
        """Add a location (organisers)"""
        challenge = managed_challenge(db.session, challenge_id, current_user())
        location = locations.create_location(db.session, challenge, data)
        _audit_location("location.created", challenge, location)
        return location


@locations_blp.route("/<int:challenge_id>/locations/<int:location_id>")
class LocationById(MethodView):
    @auth_required
    @locations_blp.arguments(LocationUpdateSchema)
    @locations_blp.response(200, LocationSchema)
    def patch(self, data: dict[str, Any], challenge_id: int, location_id: int) -> Location:
        """Edit a location, or rotate its QR secret (organisers)"""
        challenge = managed_challenge(db.session, challenge_id, current_user())
        location = locations.get_location(db.session, challenge, location_id)
        before = audit.snapshot(location, (*LOCATION_FIELDS, "qr_secret"))
        locations.update_location(db.session, location, data)
        if fields := audit.changed(location, before):
            _audit_location("location.updated", challenge, location, fields=fields)
        db.session.commit()
        return location

    @auth_required
    @locations_blp.response(204)
    def delete(self, challenge_id: int, location_id: int) -> None:
        """Archive a location: past check-ins stay, new ones are refused (organisers)"""
        challenge = managed_challenge(db.session, challenge_id, current_user())
        location = locations.get_location(db.session, challenge, location_id)
        locations.archive_location(db.session, location)
        _audit_location("location.archived", challenge, location)
        db.session.commit()


@locations_blp.route("/<int:challenge_id>/locations/<int:location_id>/qr")
class LocationQr(MethodView):
    @auth_required
    @locations_blp.response(200, QrTokenSchema)
    def get(self, challenge_id: int, location_id: int) -> dict[str, Any]:
        """The location's current QR token, for a screen at the spot (organisers)"""
        return _current_qr(challenge_id, location_id)


def _current_qr(challenge_id: int, location_id: int) -> dict[str, Any]:
    challenge = managed_challenge(db.session, challenge_id, current_user())
    location = locations.get_location(db.session, challenge, location_id)
    now, window = utcnow(), qr_window_s()
    secret = current_app.extensions["vcc_settings"].secret_key
    return {"location_id": location.id, "token": qr.token_for(location, now, secret, window),
            "expires_at": qr.expires_at(now, window), "window_seconds": window}


@locations_blp.route("/<int:challenge_id>/locations/<int:location_id>/qr.svg")
class LocationQrImage(MethodView):
    @auth_required
    @locations_blp.doc(responses={"200": {
        "description": "the current QR code as SVG, for a screen at the spot (refresh before X-QR-Expires-At)",
        "content": {"image/svg+xml": {"schema": {"type": "string"}}}}})
    def get(self, challenge_id: int, location_id: int) -> Response:
        """The location's current QR code as an image, for a screen at the spot (organisers)"""
        current = _current_qr(challenge_id, location_id)
        return Response(qr.svg_for(current["token"]), 200, mimetype="image/svg+xml", headers={
            "Cache-Control": "no-store", "X-QR-Expires-At": current["expires_at"].isoformat()})


@checkins_blp.route("/<int:challenge_id>/checkins")
class CheckIns(MethodView):
    @auth_required
    @checkins_blp.arguments(PaginationArgsSchema, location="query")
    @checkins_blp.response(200, CheckInPageSchema)
    def get(self, args: dict[str, Any], challenge_id: int) -> dict[str, Any]:
        """My check-ins in this challenge, newest first, each naming its location"""
        user = current_user()
        challenge = visible_challenge(db.session, challenge_id, user)
        items, next_cursor = checkins.my_checkins(db.session, challenge, user, **args)
        return {"items": items, "next": next_cursor}

    @auth_required
    @idempotent("challenges.places.checkins.create")
    @checkins_blp.arguments(CheckInCreateSchema)
    @checkins_blp.response(201, CheckInSchema)
    def post(self, data: dict[str, Any], challenge_id: int) -> CheckIn:
        """Check in at a location (inside its radius, or with its current QR token), once per local day"""
        user = current_user()
        challenge = visible_challenge(db.session, challenge_id, user)
        proof = checkins.CheckInProof(lat=data.get("lat"), lon=data.get("lon"), qr_token=data.get("qr_token"))
        done = checkins.check_in(
            db.session, challenge, user, data["location_id"], proof, now=utcnow(),
            app_secret=current_app.extensions["vcc_settings"].secret_key, qr_window_s=qr_window_s())
        done.checkin.points = done.points  # type: ignore[attr-defined]
        done.checkin.badges = done.badges  # type: ignore[attr-defined]
        return done.checkin


blueprints: list[Blueprint] = [locations_blp, checkins_blp]
