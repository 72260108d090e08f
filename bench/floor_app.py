"""The service's own floor: what ``POST /api/v1/activities`` could cost at best with its auth and validation.

The ingest ratio compares the full path with a bare Flask app doing one INSERT. This app answers "how much of
the gap is the stack and how much is the work": it is the real service (``service.app.create_app``: its
middleware, JWT auth that loads the user, marshmallow validation of the same body) plus one route that stores
the validated activity with a single INSERT into the baseline's table and commits, after ``k`` extra one-row
primary-key SELECTs. ``k=0`` is the floor of any authenticated write; the slope over ``k`` is what each
further statement in a request costs. Never part of the product: only ``bench.ingest`` serves it.

Serve it with ``gunicorn 'bench.floor_app:create_app()'`` and the service's environment plus
``BENCH_BASELINE_DATABASE_URL`` (the table is made by ``bench.baseline_app.create_tables``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import insert, select

from bench.baseline_app import BaselineActivity
from challenges.activities.schemas import ActivityCreateSchema
from service.app import create_app as create_service
from service.auth import auth_required, current_user
from service.db import db
from service.models import User
from service.runtime import freeze_startup_heap

EXTRA_STATEMENTS = (0, 4)
_SCHEMA = ActivityCreateSchema()
_INSERT = insert(BaselineActivity.__table__).returning(BaselineActivity.__table__.c.id)


def _view(k: int):  # type: ignore[no-untyped-def]
    lookup = select(User.id).where(User.id == 1)

    @auth_required
    def floor() -> ResponseReturnValue:
        data = _SCHEMA.load(request.get_json())
        user = current_user()
        for _ in range(k):
            db.session.execute(lookup).first()
        row_id = db.session.execute(_INSERT, {
            "user_id": user.id, "type": data["type"], "started_at": data["started_at"],
            "duration_s": data["duration_s"], "distance_m": data.get("distance_m"), "steps": data.get("steps"),
            "source": data["source"], "external_id": data.get("external_id"),
            "created_at": datetime.now(UTC)}).scalar_one()
        db.session.commit()
        return jsonify(id=row_id, status="created"), 201

    floor.__name__ = f"bench_floor_{k}"
    return floor


def create_app() -> Flask:
    """Served like ``wsgi.py`` serves the service (start-up heap frozen), plus the floor routes."""
    app = create_service()
    for k in EXTRA_STATEMENTS:
        app.add_url_rule(f"/bench/floor/{k}", view_func=_view(k), methods=["POST"])
    freeze_startup_heap(app.extensions["vcc_settings"].gc_freeze)
    return app
