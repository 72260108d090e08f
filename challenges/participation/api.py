"""HTTP surface of taking part: enrolment (join/leave) and teams."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from challenges import discovery, privacy
from challenges.access import get_challenge, is_organiser, managed_challenge, shown_to, visible_challenge
from challenges.models import Challenge, Enrolment, Phase, Team
from challenges.participation import enrolment, teams
from challenges.participation.schemas import (
    EnrolmentCreateSchema,
    EnrolmentSchema,
    MyChallengePageSchema,
    MyChallengesArgsSchema,
    TeamCreateSchema,
    TeamMemberPageSchema,
    TeamPageSchema,
    TeamSchema,
    TeamUpdateSchema,
)
from service import audit
from service.auth import auth_required, current_user, optional_user
from service.db import db
from service.errors import NotFound
from service.idempotency import idempotent
from service.schemas import PaginationArgsSchema

enrolment_blp = Blueprint("challenge-enrolment", __name__, url_prefix="/api/v1/challenges",
                          description="Joining and leaving a challenge.")
teams_blp = Blueprint("challenge-teams", __name__, url_prefix="/api/v1/challenges",
                      description="Teams of a challenge, joined by team code.")
mine_blp = Blueprint("my-challenges", __name__, url_prefix="/api/v1/me",
                     description="The challenges I take part in (invite-only ones included).")


@mine_blp.route("/challenges")
class MyChallenges(MethodView):
    @auth_required
    @mine_blp.arguments(MyChallengesArgsSchema, location="query")
    @mine_blp.response(200, MyChallengePageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """The challenges I joined, newest start first, each with my enrolment (team, joined, left)"""
        user = current_user()
        rows, next_cursor = discovery.my_challenges(db.session, user, **args)
        return {"items": [{"challenge": shown_to(db.session, c, user), "enrolment": e} for c, e in rows],
                "next": next_cursor}


@enrolment_blp.route("/<int:challenge_id>/enrolment")
class EnrolmentResource(MethodView):
    @auth_required
    @enrolment_blp.response(200, EnrolmentSchema)
    def get(self, challenge_id: int) -> Enrolment:
        """My enrolment in this challenge"""
        found = enrolment.find_enrolment(db.session, get_challenge(db.session, challenge_id).id, current_user().id)
        if found is None:
            raise NotFound("You are not enrolled in this challenge.", code="not-enrolled")
        return found

    @auth_required
    @enrolment_blp.arguments(EnrolmentCreateSchema)
    @enrolment_blp.response(201, EnrolmentSchema)
    def post(self, data: dict[str, Any], challenge_id: int) -> Enrolment:
        """Join (or re-join, or switch team with a team code); repeating it changes nothing"""
        user = current_user()
        challenge = get_challenge(db.session, challenge_id)
        if challenge.phase() == Phase.DRAFT and not is_organiser(db.session, user, challenge.organisation_id):
            raise NotFound(f"No challenge {challenge_id}.", code="challenge-not-found")
        joined = enrolment.join(db.session, challenge, user, **data)
        db.session.commit()
        return joined

    @auth_required
    @enrolment_blp.response(200, EnrolmentSchema)
    def delete(self, challenge_id: int) -> Enrolment:
        """Leave; points already scored stay with your team"""
        challenge = get_challenge(db.session, challenge_id)
        left = enrolment.leave(db.session, challenge, current_user())
        db.session.commit()
        return left


def _decorate(found: list[Team], challenge: Challenge, organiser: bool, user_id: int | None,
              my_team_id: int | None) -> list[Team]:
    counts = teams.member_counts(db.session, challenge, found)
    for team in found:
        team.member_count = counts.get(team.id, 0)  # type: ignore[attr-defined]
        team.show_code = organiser or (user_id is not None and (  # type: ignore[attr-defined]
            team.created_by_id == user_id or team.id == my_team_id))
    return found


def _for_viewer(found: list[Team], challenge: Challenge) -> list[Team]:
    """``_decorate`` for the signed-in viewer, if any: organiser, creator or member of each team. Signed out, teams
    are shown only where the challenge's boards are public (challenges.privacy)."""
    user = optional_user()
    if user is None:
        privacy.require_boards(challenge, privacy.viewer_of(db.session, challenge, None))
    mine = enrolment.find_enrolment(db.session, challenge.id, user.id) if user else None
    return _decorate(found, challenge, is_organiser(db.session, user, challenge.organisation_id),
                     user.id if user else None, mine.team_id if mine and mine.active else None)


def _audit_team(action: str, challenge: Challenge, team: Team, **detail: Any) -> None:
    """Organisers' and admins' team changes; participants managing their own team are taking part, not
    administering, and stay out of the trail."""
    audit.record(db.session, actor=current_user(), organisation_id=challenge.organisation_id, action=action,
                 target_type="team", target_id=team.id, detail={"challenge_id": challenge.id, **detail})


@teams_blp.route("/<int:challenge_id>/teams")
class Teams(MethodView):
    @teams_blp.arguments(PaginationArgsSchema, location="query")
    @teams_blp.response(200, TeamPageSchema)
    def get(self, args: dict[str, Any], challenge_id: int) -> dict[str, Any]:
        """Teams in name order with their member counts (codes only for organisers and the team's own people)"""
        challenge = visible_challenge(db.session, challenge_id, optional_user())
        found, next_cursor = teams.teams_page(db.session, challenge, **args)
        return {"items": _for_viewer(found, challenge), "next": next_cursor}

    @auth_required
    @idempotent("challenges.participation.teams.create")
    @teams_blp.arguments(TeamCreateSchema)
    @teams_blp.response(201, TeamSchema)
    def post(self, data: dict[str, Any], challenge_id: int) -> Team:
        """Create a team (organisers; participants too when the challenge allows it, who then join it)"""
        user = current_user()
        challenge = visible_challenge(db.session, challenge_id, user)
        team = teams.create_team(db.session, challenge, user, **data)
        organiser = is_organiser(db.session, user, challenge.organisation_id)
        if organiser:
            _audit_team("team.created", challenge, team)
        else:
            enrolment.join(db.session, challenge, user, team_code=team.code)
        return _decorate([team], challenge, organiser, user.id, None)[0]


@teams_blp.route("/<int:challenge_id>/teams/<int:team_id>")
class TeamResource(MethodView):
    @teams_blp.response(200, TeamSchema)
    def get(self, challenge_id: int, team_id: int) -> Team:
        """One team with its member count (its code only for organisers and the team's own people)"""
        challenge = visible_challenge(db.session, challenge_id, optional_user())
        return _for_viewer([teams.get_team(db.session, challenge, team_id)], challenge)[0]

    @auth_required
    @idempotent("challenges.participation.teams.update")
    @teams_blp.arguments(TeamUpdateSchema)
    @teams_blp.response(200, TeamSchema)
    def patch(self, data: dict[str, Any], challenge_id: int, team_id: int) -> Team:
        """Rename a team or give it a new code (organisers, and the creator of a participant-made team)"""
        user = current_user()
        challenge = visible_challenge(db.session, challenge_id, user)
        team = teams.get_team(db.session, challenge, team_id)
        old_name = team.name
        teams.update_team(db.session, challenge, team, user, name=data.get("name"), new_team_code=data["new_code"])
        if is_organiser(db.session, user, challenge.organisation_id):
            if team.name != old_name:
                _audit_team("team.renamed", challenge, team)
            if data["new_code"]:
                _audit_team("team.code_renewed", challenge, team)
        db.session.commit()
        return _for_viewer([team], challenge)[0]

    @auth_required
    @teams_blp.response(204)
    def delete(self, challenge_id: int, team_id: int) -> None:
        """Delete a team that is empty and never scored (organisers)"""
        challenge = managed_challenge(db.session, challenge_id, current_user())
        team = teams.get_team(db.session, challenge, team_id)
        teams.delete_team(db.session, challenge, team)
        _audit_team("team.deleted", challenge, team, name=team.name)
        db.session.commit()


@teams_blp.route("/<int:challenge_id>/teams/<int:team_id>/members")
class TeamMembers(MethodView):
    @auth_required
    @teams_blp.arguments(PaginationArgsSchema, location="query")
    @teams_blp.response(200, TeamMemberPageSchema)
    def get(self, args: dict[str, Any], challenge_id: int, team_id: int) -> dict[str, Any]:
        """Who is in the team, in joining order, with their points (the team's members and organisers)"""
        user = current_user()
        challenge = visible_challenge(db.session, challenge_id, user)
        items, next_cursor = teams.members(db.session, challenge, teams.get_team(db.session, challenge, team_id),
                                           user, **args)
        return {"items": items, "next": next_cursor}


@teams_blp.route("/<int:challenge_id>/teams/<int:team_id>/members/<int:user_id>")
class TeamMember(MethodView):
    @auth_required
    @teams_blp.response(200, EnrolmentSchema)
    def put(self, challenge_id: int, team_id: int, user_id: int) -> Enrolment:
        """Put an enrolled participant into this team (organisers; the size cap holds)"""
        challenge = managed_challenge(db.session, challenge_id, current_user())
        team = teams.get_team(db.session, challenge, team_id)
        before = enrolment.find_enrolment(db.session, challenge.id, user_id)
        was_in = before is not None and before.active and before.team_id == team.id
        placed = teams.assign_member(db.session, challenge, team, user_id)
        if not was_in:
            _audit_team("team.member_assigned", challenge, team, user_id=user_id)
        db.session.commit()
        return placed

    @auth_required
    @teams_blp.response(200, EnrolmentSchema)
    def delete(self, challenge_id: int, team_id: int, user_id: int) -> Enrolment:
        """Take a participant out of this team; they stay enrolled, without a team (organisers)"""
        challenge = managed_challenge(db.session, challenge_id, current_user())
        team = teams.get_team(db.session, challenge, team_id)
        removed = teams.remove_member(db.session, challenge, team, user_id)
        _audit_team("team.member_removed", challenge, team, user_id=user_id)
        db.session.commit()
        return removed


blueprints: list[Blueprint] = [enrolment_blp, teams_blp, mine_blp]
