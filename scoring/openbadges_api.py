"""Public Open Badges documents that credentials point at: the issuer Profile, each Achievement and the
issuer's public keys.

A verifier or a badge wallet dereferences ``issuer.id`` and ``achievement.id`` from an exported
credential, and a signed credential's ``kid`` to the key that checks it; these answer without sign-in
because they describe the badge and the issuer, not the person.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields
from sqlalchemy import select

from scoring.models import BadgeDefinition
from scoring.openbadges import achievement_of, issuer_profile, jwk_document
from service import signing_keys
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


class JwkSchema(BaseSchema):
    kid = fields.String(metadata={"description": "this key's own URL, as signed credentials name it"})
    kty = fields.String()
    alg = fields.String()
    use = fields.String()
    n = fields.String()
    e = fields.String()
    crv = fields.String()
    x = fields.String()
    y = fields.String()


class JwkSetSchema(BaseSchema):
    keys = fields.List(fields.Nested(JwkSchema), metadata={
        "description": "the current signing key first, then retired keys that older credentials were signed with"})


KEY_CACHE = {"Cache-Control": "public, max-age=3600"}


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


@blp.route("/issuer/keys")
class IssuerKeys(MethodView):
    @blp.response(200, JwkSetSchema)
    def get(self) -> tuple[dict[str, Any], int, dict[str, str]]:
        """The issuer's public keys (a JWK Set) that check signed credentials"""
        keys = signing_keys.app_keys(current_app)  # type: ignore[arg-type]
        published = keys.published if keys else ()
        return {"keys": [jwk_document(_base_url(), k) for k in published]}, 200, KEY_CACHE


@blp.route("/issuer/keys/<string:thumbprint>")
class IssuerKey(MethodView):
    @blp.response(200, JwkSchema)
    def get(self, thumbprint: str) -> tuple[dict[str, Any], int, dict[str, str]]:
        """One public key of the issuer, by its RFC 7638 thumbprint (the ``kid`` of a signed credential)"""
        keys = signing_keys.app_keys(current_app)  # type: ignore[arg-type]
        key = keys.find(thumbprint) if keys else None
        if key is None:
            raise NotFound(f"The issuer has no key {thumbprint!r}.", code="issuer-key-not-found")
        return jwk_document(_base_url(), key), 200, KEY_CACHE


blueprints: list[Blueprint] = [blp]
