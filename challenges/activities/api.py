"""HTTP surface of activity ingest: log one, sync a batch, import a file, list, edit, delete, review.

Views are thin: parse, authorise, call one use case in ``challenges.activities.ingest`` or
``challenges.activities.review``, commit once, serialise. With an ``Idempotency-Key`` the idempotency helper
commits the writes together with the stored answer, so a retry replays that answer and stores nothing twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response, current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from challenges.activities import ingest, review, weekly
from challenges.activities.bulk_rows import ConcurrentWrite
from challenges.activities.models import Activity, ActivityEntry, EntryStatus
from challenges.activities.pipeline import ItemResult
from challenges.activities.plausibility import Limits, limits_from
from challenges.activities.schemas import (
    ActivityCreateSchema,
    ActivityQueryArgsSchema,
    ActivitySchema,
    ActivityUpdateSchema,
    BatchResultSchema,
    BatchSchema,
    DecisionResultsSchema,
    DecisionsSchema,
    ImportFormSchema,
    ReviewDecisionSchema,
    ReviewItemSchema,
    WeeklySummarySchema,
    WeeksArgsSchema,
    activity_in,
)
from challenges.models import Challenge
from service import audit
from service.auth import auth_required, consent_required, current_user
from service.db import db
from service.errors import TooLarge, Unprocessable
from service.idempotency import HEADER, idempotent
from service.pagination import cursor_fields, keyset_page
from service.schemas import PaginationArgsSchema, page_of, prebuilt

blp = Blueprint("activities", __name__, url_prefix="/api/v1/activities",
                description="Activity ingest: manual entries, wearable sync, GPX/TCX/FIT import, review.")
T = TypeVar("T")

review_blp = Blueprint("activity-review", __name__, url_prefix="/api/v1/challenges",
                       description="Organisers' review queue of flagged activity.")


weeks_blp = Blueprint("my-weeks", __name__, url_prefix="/api/v1/me",
                      description="My weeks against the WHO guideline, across every challenge and none.")


ActivityPageSchema = page_of(ActivitySchema)
ReviewPageSchema = page_of(ReviewItemSchema, "ReviewPage")


def _commit() -> None:
    """Commit here unless the idempotency helper will commit the writes together with its record."""
    if request.headers.get(HEADER):
        db.session.flush()
    else:
        db.session.commit()


def race_safe(use_case: Callable[[], T]) -> T:
    """Run a write use case; if a concurrent request stored the same record first (unique constraint), run it
    once more on a fresh transaction, where that record is then found and answered as a duplicate."""
    try:
        return use_case()
    except (IntegrityError, ConcurrentWrite):
        db.session.rollback()
        return use_case()


def limits() -> Limits:
    return limits_from(current_app.config)


def present(activities: list[Activity]) -> list[dict[str, Any]]:
    return ingest.describe(db.session, activities)


@blp.route("")
class Activities(MethodView):
    @auth_required
    @blp.arguments(ActivityQueryArgsSchema, location="query")
    @blp.response(200, ActivityPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List my activities, newest first; filter by status, start time window and type"""
        after = cursor_fields(args["cursor"], id=int)
        query = select(Activity).where(Activity.user_id == current_user().id, Activity.deleted_at.is_(None))
        if args["status"] is not None:
            query = query.where(Activity.status == args["status"])
        if args["since"] is not None:
            query = query.where(Activity.started_at >= args["since"])
        if args["until"] is not None:
            query = query.where(Activity.started_at < args["until"])
        if args["type"] is not None:
            query = query.where(Activity.type_code == args["type"])
        if after:
            query = query.where(Activity.id < after["id"])
        rows = list(db.session.scalars(query.order_by(Activity.id.desc()).limit(args["limit"] + 1)))
        page, next_cursor = keyset_page(rows, args["limit"], lambda activity: {"id": activity.id})
        return {"items": present(page), "next": next_cursor}

    @auth_required
    @consent_required
    @idempotent("activities.create")
    @blp.arguments(ActivityCreateSchema)
    @blp.response(201, ActivitySchema)
    def post(self, data: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """Log one activity (manual entry or one synced record); send an Idempotency-Key to retry safely"""
        view, stored = race_safe(lambda: ingest.record_activity(db.session, current_user(), activity_in(data),
                                                                      limits=limits()))
        _commit()
        return view, 201 if stored else 200


@blp.route("/batch")
class ActivityBatch(MethodView):
    @auth_required
    @consent_required
    @idempotent("activities.batch")
    @blp.arguments(BatchSchema)
    @blp.response(200, BatchResultSchema)
    def post(self, data: dict[str, Any]) -> Response:
        """Sync up to 1,000 records (ours, Health Connect or HealthKit); each item gets its own status"""
        results = race_safe(lambda: ingest.sync_batch(db.session, current_user(), data["items"], data["format"],
                                                      limits=limits()))
        _commit()
        return prebuilt({"counts": dict(Counter(r.status for r in results)), "results": [_item(r) for r in results]})


def _item(r: ItemResult) -> dict[str, Any]:
    return {"index": r.index, "status": r.status, "external_id": r.external_id, "activity_id": r.activity_id,
            "reason": r.reason, "points": {str(k): v for k, v in r.points.items()}, "supersedes": r.supersedes,
            "notes": r.notes}


IMPORT_BODY = {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary", "description": "a GPX, TCX or FIT file"},
                   "type": {"type": "string", "description": "activity type; default: the file's sport"},
                   "external_id": {"type": "string", "description": "default: sha256 of the file"}}}}}}


@blp.route("/import", endpoint="activities_import")
class ActivityImport(MethodView):
    @auth_required
    @consent_required
    @blp.doc(requestBody=IMPORT_BODY)
    @blp.response(201, ActivitySchema)
    def post(self) -> tuple[dict[str, Any], int]:
        """Import a GPX, TCX or FIT file (multipart field `file`); the same file twice is a duplicate"""
        form = ImportFormSchema().load(request.form.to_dict())
        upload = request.files.get("file")
        if upload is None:
            raise Unprocessable("Send the activity file in the multipart/form-data field 'file'.",
                                code="file-missing", errors={"file": ["Missing data for required field."]})
        limit = current_app.extensions["vcc_settings"].import_max_bytes
        try:
            data = upload.stream.read(limit + 1)
        finally:
            upload.close()  # a large upload is spooled to a temporary file: release it now
        if len(data) > limit:
            raise TooLarge(f"The file is larger than the import limit of {limit} bytes.", code="file-too-large",
                           limit=limit)
        view, stored = race_safe(lambda: ingest.import_file(
            db.session, current_user(), upload.filename, data, max_bytes=limit, type_code=form.get("type"),
            external_id=form.get("external_id"), limits=limits()))
        db.session.commit()
        return view, 201 if stored else 200


@blp.route("/<int:activity_id>")
class ActivityById(MethodView):
    @auth_required
    @blp.response(200, ActivitySchema)
    def get(self, activity_id: int) -> dict[str, Any]:
        """Get one of my activities, with how it stands in each challenge"""
        return present([ingest.own_activity(db.session, current_user(), activity_id)])[0]

    @auth_required
    @consent_required
    @blp.arguments(ActivityUpdateSchema)
    @blp.response(200, ActivitySchema)
    def patch(self, data: dict[str, Any], activity_id: int) -> dict[str, Any]:
        """Edit an activity: its points are reversed and it is scored again"""
        activity = ingest.edit_activity(db.session, current_user(), activity_id, data, limits=limits())
        db.session.commit()
        return present([activity])[0]

    @auth_required
    @blp.response(204)
    def delete(self, activity_id: int) -> None:
        """Delete an activity: its points are reversed (what it had superseded counts again)"""
        ingest.delete_activity(db.session, current_user(), activity_id)
        db.session.commit()


@blp.route("/<int:activity_id>/approve")
class ActivityApprove(MethodView):
    @auth_required
    @blp.arguments(ReviewDecisionSchema)
    @blp.response(200, ActivitySchema)
    def post(self, data: dict[str, Any], activity_id: int) -> dict[str, Any]:
        """Approve a flagged activity in the challenges you organise: it scores there"""
        flagged = _flagged([activity_id], data["challenge_id"])
        activity = review.approve(db.session, current_user(), activity_id, challenge_id=data["challenge_id"])
        _audit_decisions(flagged, {activity_id: ("activity.approved", {})})
        db.session.commit()
        db.session.refresh(activity)
        return present([activity])[0]


@blp.route("/<int:activity_id>/reject")
class ActivityReject(MethodView):
    @auth_required
    @blp.arguments(ReviewDecisionSchema)
    @blp.response(200, ActivitySchema)
    def post(self, data: dict[str, Any], activity_id: int) -> dict[str, Any]:
        """Reject a flagged activity in the challenges you organise"""
        flagged = _flagged([activity_id], data["challenge_id"])
        activity = review.reject(db.session, current_user(), activity_id, challenge_id=data["challenge_id"],
                                 note=data["note"])
        _audit_decisions(flagged, {activity_id: ("activity.rejected", {"note": data["note"] is not None})})
        db.session.commit()
        db.session.refresh(activity)
        return present([activity])[0]


Flagged = dict[int, tuple[int, int, str | None]]
"""Flagged entries by id: activity, challenge and flag reason."""


def _flagged(activity_ids: list[int], challenge_id: int | None) -> Flagged:
    """The activities' flagged entries before a decision, so the trail can name the challenges the decision
    changed; whether the reviewer may decide stays the review module's to judge."""
    query = select(ActivityEntry.id, ActivityEntry.activity_id, ActivityEntry.challenge_id, ActivityEntry.reason
                   ).where(ActivityEntry.activity_id.in_(activity_ids), ActivityEntry.status == EntryStatus.FLAGGED)
    if challenge_id is not None:
        query = query.where(ActivityEntry.challenge_id == challenge_id)
    return {row.id: (row.activity_id, row.challenge_id, row.reason) for row in db.session.execute(query)}


def _flag_codes(reason: str | None) -> list[str]:
    """The plausibility slugs of a flag reason ("too-fast: average 80.0 km/h ..."): the figures stay out."""
    return sorted({part.split(":", 1)[0].strip() for part in (reason or "").split(";") if part.strip()})


def _audit_decisions(flagged: Flagged, decided: dict[int, tuple[str, dict[str, Any]]]) -> None:
    """One event per activity and challenge whose flagged entry a decision (``decided``: activity id to action
    and extra detail) took out of the queue."""
    if not flagged:
        return
    still = set(db.session.scalars(select(ActivityEntry.id).where(ActivityEntry.id.in_(list(flagged)),
                                                                  ActivityEntry.status == EntryStatus.FLAGGED)))
    organisations = dict(db.session.execute(select(Challenge.id, Challenge.organisation_id).where(
        Challenge.id.in_({challenge for _, challenge, _ in flagged.values()}))).all())
    for entry_id, (activity_id, challenge_id, reason) in sorted(flagged.items()):
        if entry_id in still or activity_id not in decided:
            continue
        action, extra = decided[activity_id]
        audit.record(db.session, actor=current_user(), organisation_id=organisations[challenge_id], action=action,
                     target_type="activity", target_id=activity_id,
                     detail={"challenge_id": challenge_id, "flags": _flag_codes(reason), **extra})


@review_blp.route("/<int:challenge_id>/review-queue/decisions")
class ReviewDecisions(MethodView):
    @auth_required
    @idempotent("activities.review.decisions")
    @review_blp.arguments(DecisionsSchema)
    @review_blp.response(200, DecisionResultsSchema)
    def post(self, data: dict[str, Any], challenge_id: int) -> dict[str, Any]:
        """Approve or reject up to 200 flagged activities at once; each decision is answered on its own"""
        decisions = data["decisions"]
        flagged = _flagged([d["activity_id"] for d in decisions], challenge_id)
        results = review.decide_many(db.session, current_user(), challenge_id, decisions)
        decided: dict[int, tuple[str, dict[str, Any]]] = {}
        for d, r in zip(decisions, results, strict=True):
            if r["result"] == "approved":
                decided.setdefault(r["activity_id"], ("activity.approved", {"bulk": True}))
            elif r["result"] == "rejected":
                decided.setdefault(r["activity_id"], ("activity.rejected",
                                                      {"bulk": True, "note": d.get("note") is not None}))
        _audit_decisions(flagged, decided)
        _commit()
        return {"counts": dict(Counter(r["result"] for r in results)), "results": results}


@review_blp.route("/<int:challenge_id>/review-queue")
class ReviewQueue(MethodView):
    @auth_required
    @review_blp.arguments(PaginationArgsSchema, location="query")
    @review_blp.response(200, ReviewPageSchema)
    def get(self, args: dict[str, Any], challenge_id: int) -> dict[str, Any]:
        """Flagged activity awaiting an organiser's decision (organisers of the challenge only)"""
        items, next_cursor = review.review_queue(db.session, current_user(), challenge_id, limit=args["limit"],
                                                 cursor=args["cursor"])
        acts = present([i["activity"] for i in items])
        for item, view in zip(items, acts, strict=True):
            if item.pop("blind"):  # a workplace challenge: the source's own references can name the person
                view.update(external_id=None, source_ref=None)
            item["activity"] = view
            item.pop("_id")
        return {"items": items, "next": next_cursor}

@weeks_blp.route("/weeks")
class MyWeeks(MethodView):
    @auth_required
    @weeks_blp.arguments(WeeksArgsSchema, location="query")
    @weeks_blp.response(200, WeeklySummarySchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """My active minutes, steps and distance per ISO week against the WHO 150 minutes, across all challenges"""
        return weekly.weekly_summary(db.session, current_user(), args["weeks"])


blueprints: list[Blueprint] = [blp, review_blp, weeks_blp]
