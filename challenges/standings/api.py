"""HTTP surface of standings: leaderboards, my progress, and the organiser report."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from challenges import privacy
from challenges.access import managed_challenge, visible_challenge
from challenges.standings import boards, reports
from challenges.standings.schemas import (
    LeaderboardArgsSchema,
    LeaderboardSchema,
    ProgressSchema,
    ReportArgsSchema,
    ReportSchema,
)
from service import audit
from service.auth import auth_required, current_user, optional_user
from service.db import db

blp = Blueprint("challenge-standings", __name__, url_prefix="/api/v1/challenges",
                description="Leaderboards, my progress and organiser reports of a challenge.")


@blp.route("/<int:challenge_id>/leaderboards")
class Leaderboards(MethodView):
    @blp.arguments(LeaderboardArgsSchema, location="query")
    @blp.response(200, LeaderboardSchema)
    def get(self, args: dict[str, Any], challenge_id: int) -> dict[str, Any]:
        """A leaderboard of participants, teams or organisations, for a day, an ISO week or the whole challenge"""
        user = optional_user()
        challenge = visible_challenge(db.session, challenge_id, user)
        return boards.leaderboard(db.session, challenge, user, scope=args["scope"], period=args["period"],
                                     day=args["date"], limit=args["limit"], cursor=args["cursor"],
                                     around_me=args["around"] == "me", k=args["k"])


@blp.route("/<int:challenge_id>/progress")
class Progress(MethodView):
    @auth_required
    @blp.response(200, ProgressSchema)
    def get(self, challenge_id: int) -> dict[str, Any]:
        """My totals, rank, streak and goal progress, and the collective progress of everyone"""
        user = current_user()
        challenge = visible_challenge(db.session, challenge_id, user)
        return boards.progress(db.session, challenge, user)


@blp.route("/<int:challenge_id>/report")
class Report(MethodView):
    @auth_required
    @blp.arguments(ReportArgsSchema, location="query")
    @blp.response(200, ReportSchema)
    def get(self, args: dict[str, Any], challenge_id: int) -> dict[str, Any]:
        """Aggregates per team, organisation and day, with small groups suppressed (organisers)"""
        return _report(challenge_id, args, "report.viewed")


@blp.route("/<int:challenge_id>/report.csv")
class ReportCsv(MethodView):
    @auth_required
    @blp.arguments(ReportArgsSchema, location="query")
    @blp.doc(responses={"200": {"description": "the report as CSV (section, key, name, participants, "
                                                "active_participants, total, suppressed)",
                                "content": {"text/csv": {"schema": {"type": "string"}}}}})
    def get(self, args: dict[str, Any], challenge_id: int) -> Response:
        """The same report as one CSV table for spreadsheets (small groups suppressed the same way)"""
        body = reports.as_csv(_report(challenge_id, args, "report.exported"))
        return Response(body, 200, mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="challenge-{challenge_id}-report.csv"'})


def _report(challenge_id: int, args: dict[str, Any], action: str) -> dict[str, Any]:
    """The report, recorded in the audit trail: who read which organisation's aggregates, and when."""
    user = current_user()
    challenge = managed_challenge(db.session, challenge_id, user)
    floor = privacy.group_floor(args["min_group_size"])
    body = reports.report(db.session, challenge, floor)
    audit.record(db.session, actor=user, organisation_id=challenge.organisation_id, action=action,
                 target_type="challenge", target_id=challenge.id, detail={"min_group_size": floor})
    db.session.commit()
    return body


blueprints: list[Blueprint] = [blp]
