"""HTTP surface of scoring (thin: parse, authorise, call logic, serialise).

Leaderboard and progress endpoints of challenges live in challenges/ (they need challenge visibility
and team names) and call scoring.leaderboards.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from scoring import exports, hooks  # noqa: F401  (connect the user-deleted reaction and the export sections)
from scoring.catalogue import ACTIVITY_TYPES
from scoring.errors import SigningUnavailable
from scoring.models import BadgeAward
from scoring.openbadges import JWT_MIME, credential, signed
from scoring.openbadges_api import blueprints as openbadges_blueprints
from scoring.schemas import ActivityTypeSchema, BadgeAwardPageSchema, CredentialSchema
from service import signing_keys
from service.auth import auth_required, current_user
from service.db import db
from service.errors import NotFound
from service.pagination import cursor_fields, keyset_page
from service.schemas import PaginationArgsSchema

blp = Blueprint("scoring", __name__, url_prefix="/api/v1", description="Activity types, badges and credentials.")


@blp.route("/activity-types")
class ActivityTypes(MethodView):
    @blp.response(200, ActivityTypeSchema(many=True))
    def get(self) -> list[Any]:
        """List the activity catalogue (2024 Adult Compendium codes and MET values)"""
        return list(ACTIVITY_TYPES.values())


@blp.route("/me/badges")
class MyBadges(MethodView):
    @auth_required
    @blp.arguments(PaginationArgsSchema, location="query")
    @blp.response(200, BadgeAwardPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List my badge awards, newest first"""
        before = cursor_fields(args["cursor"], id=int)
        q = select(BadgeAward).where(BadgeAward.user_id == current_user().id)
        if before is not None:
            q = q.where(BadgeAward.id < before["id"])
        awards = list(db.session.scalars(q.order_by(BadgeAward.id.desc()).limit(args["limit"] + 1)))
        items, next_cursor = keyset_page(awards, args["limit"], lambda award: {"id": award.id})
        return {"items": items, "next": next_cursor}


def _own_award_credential(award_id: int) -> dict[str, Any]:
    user = current_user()
    award = db.session.get(BadgeAward, award_id)
    if award is None or award.user_id != user.id:
        raise NotFound("No such badge award.", code="badge-award-not-found")
    settings = current_app.extensions["vcc_settings"]
    return credential(award, user, settings.public_base_url, current_app.config["SECRET_KEY"])


@blp.route("/badge-awards/<int:award_id>/credential")
class AwardCredential(MethodView):
    @auth_required
    @blp.response(200, CredentialSchema)
    def get(self, award_id: int) -> dict[str, Any]:
        """Export one of my badge awards as an Open Badges 3.0 OpenBadgeCredential (JSON, without a proof)"""
        return _own_award_credential(award_id)


@blp.route("/badge-awards/<int:award_id>/credential.jwt")
class AwardCredentialJwt(MethodView):
    @auth_required
    @blp.doc(responses={"200": {"description": "The credential as a Compact JWS (VC-JWT)", "content": {
        JWT_MIME: {"schema": {"type": "string"}}}}})
    def get(self, award_id: int) -> Response:
        """Export one of my badge awards as a signed, verifiable Open Badges 3.0 credential (VC-JWT)"""
        doc = _own_award_credential(award_id)
        keys = signing_keys.app_keys(current_app)  # type: ignore[arg-type]
        if keys is None:
            raise SigningUnavailable("This deployment has no Open Badges signing key (OPENBADGES_SIGNING_KEY), so "
                                     f"it cannot sign credentials; the unsigned document is at {doc['id']}.")
        token = signed(doc, keys, current_app.extensions["vcc_settings"].public_base_url)
        return Response(token, 200, mimetype=JWT_MIME, headers={"Cache-Control": "private, no-store"})


blueprints: list[Blueprint] = [blp, *openbadges_blueprints]
