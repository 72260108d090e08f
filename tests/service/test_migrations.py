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


def test_upgrading_to_contest_lines_gives_existing_contests_their_total(tmp_path: object) -> None:
    """0008 adds the contest-wide line; contests scored before it get theirs from the ledger, and the
    downgrade takes it away again."""
    from datetime import date

    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from service.app import create_app
    from tests.conftest import make_test_config

    url = f"sqlite:///{tmp_path}/old.sqlite3"
    fresh = create_app(make_test_config(url, None, tmp_path))  # type: ignore[arg-type]
    with fresh.app_context():
        upgrade(revision="0007_distance_samples")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO users (id, email, display_name, timezone, locale, is_superuser, "
                              "hide_from_leaderboards, created_at) VALUES (1, 'a@b.org', 'A', 'UTC', 'en', 0, 0, "
                              "'2026-05-01 00:00:00')"))
            for i, (contest, pts) in enumerate([(7, 30), (7, 12), (7, -12), (8, 0)]):
                conn.execute(text(
                    "INSERT INTO points_entries (contest_id, entry_key, source_key, generation, kind, user_id, "
                    "local_day, type_code, metric_value, uncapped_points, points, rule, created_at) VALUES "
                    "(:c, :k, :k, 0, 'activity', 1, :d, 'walking', 1, :p, :p, '', '2026-05-01 00:00:00')"),
                    {"c": contest, "k": f"act:{i}", "d": date(2026, 5, 1), "p": pts})
        upgrade()
        with db.engine.connect() as conn:
            lines = conn.execute(text("SELECT contest_id, points FROM leaderboard_totals "
                                      "WHERE scope = 'contest'")).all()
        assert sorted(lines) == [(7, 30)]  # contest 8 had no points: no line, as incremental scoring does
        downgrade(revision="0007_distance_samples")
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM leaderboard_totals")).scalar() == 0
        db.engine.dispose()
    create_engine(url).dispose()
