"""HTTP surface of challenges: the challenge resource (discovery, create, edit, publish, end, copy) and a
challenge's badges; and ``blueprints``, the one flat list of every resource of the package, sub-packages
included, that the app factory registers."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from challenges import (
    discovery,
    editions,
    exports,  # noqa: F401  (connects the export sections)
    lifecycle,
)
from challenges.access import (
    ORGANISER_ROLES,
    managed_challenge,
    shown_to,
    visible_challenge,
)
from challenges.activities import api as activities_api
from challenges.activities import erasure  # noqa: F401  (connects the user-deleted reaction)
from challenges.formats import format_of
from challenges.lifecycle import require_not_ended
from challenges.models import Challenge
from challenges.participation import api as participation_api
from challenges.places import api as places_api
from challenges.schemas import (
    ChallengeBadgeCreateSchema,
    ChallengeBadgeSchema,
    ChallengeBadgeUpdateSchema,
    ChallengeByIdArgsSchema,
    ChallengeCopySchema,
    ChallengeCreateSchema,
    ChallengePageSchema,
    ChallengeQueryArgsSchema,
    ChallengeSchema,
    ChallengeUpdateSchema,
)
from challenges.standings import api as standings_api
from scoring import badge_definitions
from scoring.models import BadgeDefinition
from service import audit
from service.auth import auth_required, current_user, optional_user, require_org_role
from service.db import db
from service.errors import NotFound
from service.idempotency import idempotent
from service.models import Organisation

blp = Blueprint("challenges", __name__, url_prefix="/api/v1/challenges",
                description="Challenges: discovery, and organisers' create, edit, publish and end.")


MOVED_BY_TIMEZONE = ("starts_at", "ends_at")
"""A new time zone keeps the wall-clock dates, so the stored instants change without being sent."""


def for_viewer(challenge: Challenge) -> Challenge:
    return shown_to(db.session, challenge, optional_user())


@blp.route("")
class Challenges(MethodView):
    @blp.arguments(ChallengeQueryArgsSchema, location="query")
    @blp.response(200, ChallengePageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Discover challenges (public ones; organisers filtering by their organisation see all of its)"""
        rows, next_cursor = discovery.discover(db.session, optional_user(), **args)
        return {"items": [for_viewer(c) for c in rows], "next": next_cursor}

    @auth_required
    @idempotent("challenges.create")
    @blp.arguments(ChallengeCreateSchema)
    @blp.response(201, ChallengeSchema)
    def post(self, data: dict[str, Any]) -> Challenge:
        """Create a draft challenge (admin or organiser of the organisation)"""
        user = current_user()
        organisation_id = data.pop("organisation_id")
        organisation = db.session.get(Organisation, organisation_id)
        if organisation is None:
            raise NotFound(f"No organisation {organisation_id}.", code="organisation-not-found")
        require_org_role(user, organisation_id, ORGANISER_ROLES)
        data.setdefault("timezone", organisation.timezone)
        data.setdefault("region", organisation.region)
        challenge = lifecycle.create_challenge(db.session, organisation_id=organisation_id, creator=user,
                                               values=data)
        audit.record(db.session, actor=user, organisation_id=organisation_id, action="challenge.created",
                     target_type="challenge", target_id=challenge.id,
                     detail={"format": challenge.format.value, "setting": challenge.setting.value})
        return for_viewer(challenge)


@blp.route("/<int:challenge_id>")
class ChallengeById(MethodView):
    @blp.arguments(ChallengeByIdArgsSchema, location="query")
    @blp.response(200, ChallengeSchema)
    def get(self, args: dict[str, Any], challenge_id: int) -> Challenge:
        """Get one challenge (invite-only ones need the invite code or an enrolment)"""
        return for_viewer(visible_challenge(db.session, challenge_id, optional_user(), args["invite_code"]))

    @auth_required
    @blp.arguments(ChallengeUpdateSchema)
    @blp.response(200, ChallengeSchema)
    def patch(self, data: dict[str, Any], challenge_id: int) -> Challenge:
        """Edit a challenge; rules that would rewrite scored history are locked once it runs"""
        user = current_user()
        challenge = managed_challenge(db.session, challenge_id, user)
        before = audit.snapshot(challenge, {*data, *MOVED_BY_TIMEZONE})
        lifecycle.update_challenge(db.session, challenge, data)
        if fields := audit.changed(challenge, before):
            audit.record(db.session, actor=user, organisation_id=challenge.organisation_id,
                         action="challenge.updated", target_type="challenge", target_id=challenge.id,
                         detail={"fields": fields})
        db.session.commit()
        return for_viewer(challenge)

    @auth_required
    @blp.response(204)
    def delete(self, challenge_id: int) -> None:
        """Delete a draft (never published) with its teams and locations; a published one is ended instead"""
        user = current_user()
        challenge = managed_challenge(db.session, challenge_id, user)
        organisation_id, title = challenge.organisation_id, challenge.title
        lifecycle.delete_draft(db.session, challenge)
        audit.record(db.session, actor=user, organisation_id=organisation_id, action="challenge.deleted",
                     target_type="challenge", target_id=challenge_id, detail={"title": title})
        db.session.commit()


@blp.route("/<int:challenge_id>/copy")
class ChallengeCopy(MethodView):
    @auth_required
    @idempotent("challenges.copy")
    @blp.arguments(ChallengeCopySchema)
    @blp.response(201, ChallengeSchema)
    def post(self, data: dict[str, Any], challenge_id: int) -> Challenge:
        """Run a challenge again: a new draft with its rules, new dates, and its teams and locations"""
        user = current_user()
        source = managed_challenge(db.session, challenge_id, user)
        copy = editions.copy_challenge(db.session, source, user, starts_at=data["starts_at"],
                                       ends_at=data["ends_at"], title=data.get("title"), teams=data["teams"],
                                       places=data["locations"])
        audit.record(db.session, actor=user, organisation_id=copy.organisation_id, action="challenge.copied",
                     target_type="challenge", target_id=copy.id, detail={"source_challenge_id": source.id})
        return for_viewer(copy)


@blp.route("/<int:challenge_id>/publish")
class ChallengePublish(MethodView):
    @auth_required
    @blp.response(200, ChallengeSchema)
    def post(self, challenge_id: int) -> Challenge:
        """Publish a draft: it becomes discoverable (if public) and joinable"""
        user = current_user()
        challenge = managed_challenge(db.session, challenge_id, user)
        lifecycle.publish_challenge(db.session, challenge)
        audit.record(db.session, actor=user, organisation_id=challenge.organisation_id,
                     action="challenge.published", target_type="challenge", target_id=challenge.id)
        db.session.commit()
        return for_viewer(challenge)


@blp.route("/<int:challenge_id>/end")
class ChallengeEnd(MethodView):
    @auth_required
    @blp.response(200, ChallengeSchema)
    def post(self, challenge_id: int) -> Challenge:
        """End a published challenge now; activity after this moment no longer counts"""
        user = current_user()
        challenge = managed_challenge(db.session, challenge_id, user)
        lifecycle.end_challenge(db.session, challenge)
        audit.record(db.session, actor=user, organisation_id=challenge.organisation_id, action="challenge.ended",
                     target_type="challenge", target_id=challenge.id)
        db.session.commit()
        return for_viewer(challenge)


badges_blp = Blueprint("challenge-badges", __name__, url_prefix="/api/v1/challenges",
                description="Badges a challenge awards: the built-in ones and the organisers' own.")


def _criteria(challenge: Challenge, criteria: Any) -> dict[str, Any]:
    return badge_definitions.checked_criteria(criteria, contest_goal=challenge.goal,
                                              has_teams=format_of(challenge).team_goal_badges)


def _audit_badge(action: str, challenge: Challenge, badge: BadgeDefinition, **detail: Any) -> None:
    audit.record(db.session, actor=current_user(), organisation_id=challenge.organisation_id, action=action,
                 target_type="badge", target_id=badge.id,
                 detail={"challenge_id": challenge.id, "code": badge.code, **detail})


BADGES_FINAL = "The challenge has ended; what earns its badges is final."  # a new rule could only be unfair or idle

@badges_blp.route("/<int:challenge_id>/badges")
class ChallengeBadges(MethodView):
    @badges_blp.response(200, ChallengeBadgeSchema(many=True))
    def get(self, challenge_id: int) -> list[BadgeDefinition]:
        """Every badge that can be earned in this challenge: the built-in ones, then the challenge's own"""
        challenge = visible_challenge(db.session, challenge_id, optional_user())
        return badge_definitions.for_contest(db.session, challenge.id)

    @auth_required
    @idempotent("challenges.badges.create")
    @badges_blp.arguments(ChallengeBadgeCreateSchema)
    @badges_blp.response(201, ChallengeBadgeSchema)
    def post(self, data: dict[str, Any], challenge_id: int) -> BadgeDefinition:
        """Define a badge of this challenge's own, e.g. all 12 park spots visited (organisers)"""
        challenge = managed_challenge(db.session, challenge_id, current_user())
        require_not_ended(challenge, BADGES_FINAL)
        data["criteria"] = _criteria(challenge, data["criteria"])
        badge = badge_definitions.define(db.session, challenge.id, **data)
        _audit_badge("badge.created", challenge, badge)
        return badge


@badges_blp.route("/<int:challenge_id>/badges/<string:code>")
class ChallengeBadge(MethodView):
    @auth_required
    @idempotent("challenges.badges.update")
    @badges_blp.arguments(ChallengeBadgeUpdateSchema)
    @badges_blp.response(200, ChallengeBadgeSchema)
    def patch(self, data: dict[str, Any], challenge_id: int, code: str) -> BadgeDefinition:
        """Rename or re-describe one of the challenge's own badges; its criteria only while no one holds it"""
        challenge = managed_challenge(db.session, challenge_id, current_user())
        badge = badge_definitions.own(db.session, challenge.id, code)
        if "criteria" in data:
            require_not_ended(challenge, BADGES_FINAL)
            data["criteria"] = _criteria(challenge, data["criteria"])
        before = audit.snapshot(badge, data)
        badge_definitions.change(db.session, badge, data)
        if fields := audit.changed(badge, before):
            _audit_badge("badge.updated", challenge, badge, fields=fields)
        return badge

    @auth_required
    @badges_blp.response(204)
    def delete(self, challenge_id: int, code: str) -> None:
        """Delete one of the challenge's own badges that no one holds (organisers)"""
        challenge = managed_challenge(db.session, challenge_id, current_user())
        badge = badge_definitions.own(db.session, challenge.id, code)
        badge_definitions.remove(db.session, badge)
        _audit_badge("badge.deleted", challenge, badge)
        db.session.commit()


blueprints: list[Blueprint] = [blp, badges_blp, *participation_api.blueprints, *places_api.blueprints,
                               *standings_api.blueprints, *activities_api.blueprints]
