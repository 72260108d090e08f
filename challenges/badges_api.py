"""HTTP surface of a challenge's badges: what can be earned in it, and the organisers' own badges."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from challenges.access import managed_challenge, visible_challenge
from challenges.lifecycle import require_not_ended
from challenges.models import Challenge, ChallengeFormat
from challenges.schemas import ChallengeBadgeCreateSchema, ChallengeBadgeSchema, ChallengeBadgeUpdateSchema
from scoring import badge_definitions
from scoring.models import BadgeDefinition
from service.auth import auth_required, current_user, optional_user
from service.extensions import db
from service.idempotency import idempotent

blp = Blueprint("challenge-badges", __name__, url_prefix="/api/v1/challenges",
                description="Badges a challenge awards: the built-in ones and the organisers' own.")


def _criteria(challenge: Challenge, criteria: Any) -> dict[str, Any]:
    return badge_definitions.checked_criteria(criteria, contest_goal=challenge.goal,
                                              has_teams=challenge.format == ChallengeFormat.TEAM)


BADGES_FINAL = "The challenge has ended; what earns its badges is final."  # a new rule could only be unfair or idle

@blp.route("/<int:challenge_id>/badges")
class ChallengeBadges(MethodView):
    @blp.response(200, ChallengeBadgeSchema(many=True))
    def get(self, challenge_id: int) -> list[BadgeDefinition]:
        """Every badge that can be earned in this challenge: the built-in ones, then the challenge's own"""
        challenge = visible_challenge(db.session, challenge_id, optional_user())
        return badge_definitions.for_contest(db.session, challenge.id)

    @auth_required
    @idempotent("challenges.badges.create")
    @blp.arguments(ChallengeBadgeCreateSchema)
    @blp.response(201, ChallengeBadgeSchema)
    def post(self, data: dict[str, Any], challenge_id: int) -> BadgeDefinition:
        """Define a badge of this challenge's own, e.g. all 12 park spots visited (organisers)"""
        challenge = managed_challenge(db.session, challenge_id, current_user())
        require_not_ended(challenge, BADGES_FINAL)
        data["criteria"] = _criteria(challenge, data["criteria"])
        return badge_definitions.define(db.session, challenge.id, **data)


@blp.route("/<int:challenge_id>/badges/<string:code>")
class ChallengeBadge(MethodView):
    @auth_required
    @idempotent("challenges.badges.update")
    @blp.arguments(ChallengeBadgeUpdateSchema)
    @blp.response(200, ChallengeBadgeSchema)
    def patch(self, data: dict[str, Any], challenge_id: int, code: str) -> BadgeDefinition:
        """Rename or re-describe one of the challenge's own badges; its criteria only while no one holds it"""
        challenge = managed_challenge(db.session, challenge_id, current_user())
        badge = badge_definitions.own(db.session, challenge.id, code)
        if "criteria" in data:
            require_not_ended(challenge, BADGES_FINAL)
            data["criteria"] = _criteria(challenge, data["criteria"])
        return badge_definitions.change(db.session, badge, data)

    @auth_required
    @blp.response(204)
    def delete(self, challenge_id: int, code: str) -> None:
        """Delete one of the challenge's own badges that no one holds (organisers)"""
        challenge = managed_challenge(db.session, challenge_id, current_user())
        badge_definitions.remove(db.session, badge_definitions.own(db.session, challenge.id, code))
        db.session.commit()


blueprints: list[Blueprint] = [blp]
