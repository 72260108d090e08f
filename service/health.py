"""Liveness and readiness: readiness means the database answers, migrations are at head, Redis answers."""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from service.db import db

bp = Blueprint("health", __name__)


def migration_heads() -> set[str]:
    migrate_ext = current_app.extensions["migrate"]
    config = migrate_ext.migrate.get_config(migrate_ext.directory)
    return set(ScriptDirectory.from_config(config).get_heads())


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    return jsonify(status="ok")


def _database_heads() -> set[str]:
    with db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        return set(MigrationContext.configure(conn).get_current_heads())


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    checks: dict[str, str] = {}
    ok = True
    try:
        try:
            current = _database_heads()
        except DBAPIError as exc:  # a pooled connection the server dropped (restart): the pool is now reset
            if not exc.connection_invalidated:
                raise
            current = _database_heads()
        heads = migration_heads()
        if current == heads:
            checks["database"] = "ok"
        else:
            ok = False
            checks["database"] = f"migrations not at head (at {sorted(current)}, head {sorted(heads)})"
    except Exception as exc:  # readiness must report, not raise
        ok = False
        checks["database"] = f"unreachable: {type(exc).__name__}"
    redis_client = current_app.extensions.get("vcc_redis")
    if redis_client is not None:
        try:
            redis_client.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            ok = False
            checks["redis"] = f"unreachable: {type(exc).__name__}"
    status = 200 if ok else 503
    return jsonify(status="ok" if ok else "unavailable", checks=checks), status
