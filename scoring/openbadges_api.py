"""Public Open Badges documents that credentials point at: the issuer Profile and each Achievement.

A verifier or a badge wallet dereferences ``issuer.id`` and ``achievement.id`` from an exported
credential; these answer without sign-in because they describe the badge, not the person.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields
from sqlalchemy import select

from scoring.models import BadgeDefinition
from scoring.openbadges import achievement_of, issuer_profile
from service.db import db
from service.errors import NotFound
from service.schemas import BaseSchema

blp = Blueprint("openbadges", __name__, url_prefix="/api/v1",
                description="Open Badges 3.0 issuer profile and achievements.")


class IssuerProfileSchema(BaseSchema):
    id = fields.String()
    type = fields.List(fields.String())
    name = fields.String()
    url = fields.String()


class AchievementSchema(BaseSchema):
    id = fields.String()
    type = fields.List(fields.String())
    name = fields.String()
    description = fields.String()
    criteria = fields.Dict(metadata={"description": "narrative: how the badge is earned"})
    image = fields.Dict(metadata={"description": "id (URL) and type Image, when the badge has one"})


def _base_url() -> str:
    return str(current_app.extensions["vcc_settings"].public_base_url)


@blp.route("/issuer")
class Issuer(MethodView):
    @blp.response(200, IssuerProfileSchema)
    def get(self) -> dict[str, Any]:
        """The Open Badges issuer Profile of this deployment"""
        return issuer_profile(_base_url())


@blp.route("/achievements/<string:code>")
class AchievementByCode(MethodView):
    @blp.response(200, AchievementSchema)
    def get(self, code: str) -> dict[str, Any]:
        """The Open Badges Achievement of one badge"""
        badge = db.session.scalar(select(BadgeDefinition).where(BadgeDefinition.code == code))
        if badge is None:
            raise NotFound(f"No badge with code {code!r}.", code="badge-not-found")
        return achievement_of(badge, _base_url())


blueprints: list[Blueprint] = [blp]
