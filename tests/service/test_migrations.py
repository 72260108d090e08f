"""The migration chain is the only way the schema is made, and the models never drift from it."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlalchemy import create_engine, inspect

from service.db import db


def test_migrations_reach_head_and_models_have_no_drift(app: Flask) -> None:
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models differ from migrations: {diff}"


def test_empty_database_upgrades_to_head_and_downgrades_cleanly(tmp_path: object) -> None:
    from flask_migrate import downgrade, upgrade

    from service.app import create_app
    from tests.conftest import make_test_config

    url = f"sqlite:///{tmp_path}/fresh.sqlite3"
    fresh = create_app(make_test_config(url, None, tmp_path))  # type: ignore[arg-type]
    with fresh.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"users", "organisations", "memberships", "alembic_version"} <= tables
        assert {t.name for t in db.metadata.sorted_tables} <= tables
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()
    create_engine(url).dispose()
