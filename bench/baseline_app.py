"""The bare baseline the ingest figure is a ratio of: Flask + Flask-SQLAlchemy doing one INSERT per request.

It is deliberately the least a Flask app can do to store an activity: parse a small JSON body, build one row
shaped like an activity, INSERT it (the id comes back through RETURNING on the flush) and COMMIT, answer 201
JSON. No auth, no validation library, no dedupe, no scoring. Whatever the real ``POST /api/v1/activities``
costs on top of this is what the ingest ratio shows.

It runs on the same database URL as the service under test (its own table, ``bench_baseline_activity``,
made by :func:`create_tables` because it is not part of the product schema and must never appear in the
migrations), with the same engine options the service uses for that dialect, so both pay the same
commit cost.

Serve it with ``gunicorn 'bench.baseline_app:create_app()'`` and ``BENCH_BASELINE_DATABASE_URL`` set.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import BigInteger, DateTime, Float, Integer, String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from service.config import normalise_database_url

URL_ENV = "BENCH_BASELINE_DATABASE_URL"
TABLE = "bench_baseline_activity"


class BaselineBase(DeclarativeBase):
    """Own metadata, so the baseline table never leaks into the service's models or migration drift check."""


db = SQLAlchemy(model_class=BaselineBase)


class BaselineActivity(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = TABLE

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    duration_s: Mapped[int] = mapped_column(Integer)
    distance_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    steps: Mapped[int | None] = mapped_column(Integer, nullable=True)
    source: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def engine_options(url: str) -> dict[str, Any]:
    """The same options service.app gives its engine for this dialect, so the commit path is comparable."""
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    return {"pool_pre_ping": True}


def create_tables(database_url: str) -> None:
    """Make the baseline table (idempotent); the harness calls this before gunicorn starts its workers."""
    url = normalise_database_url(database_url)
    engine = create_engine(url, **engine_options(url))
    try:
        BaselineBase.metadata.create_all(engine)
    finally:
        engine.dispose()


def _row_from(body: Any) -> BaselineActivity:
    if not isinstance(body, dict):
        raise ValueError("send a JSON object")
    distance = body.get("distance_m")
    steps = body.get("steps")
    return BaselineActivity(
        user_id=int(body["user_id"]),
        type=str(body["type"]),
        started_at=datetime.fromisoformat(body["started_at"]),
        duration_s=int(body["duration_s"]),
        distance_m=None if distance is None else float(distance),
        steps=None if steps is None else int(steps),
        source=str(body.get("source", "manual")),
        external_id=body.get("external_id"),
        created_at=datetime.now(UTC),
    )


def create_app(database_url: str | None = None) -> Flask:
    """Build the baseline app; the URL comes from the argument or ``BENCH_BASELINE_DATABASE_URL``."""
    url = normalise_database_url(database_url or os.environ.get(URL_ENV) or "")
    if not url:
        raise RuntimeError(f"set {URL_ENV} to the database the service under test uses")
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(url)
    db.init_app(app)

    @app.post("/insert")
    def insert() -> ResponseReturnValue:
        try:
            row = _row_from(request.get_json(silent=True))
        except (KeyError, TypeError, ValueError) as exc:
            return jsonify(error=str(exc)), 400
        db.session.add(row)
        db.session.flush()  # one INSERT ... RETURNING id; reading the id after commit would cost a SELECT
        row_id = row.id
        db.session.commit()
        return jsonify(id=row_id, status="created"), 201

    @app.get("/healthz")
    def healthz() -> ResponseReturnValue:
        return jsonify(status="ok")

    return app
