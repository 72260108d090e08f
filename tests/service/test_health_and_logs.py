"""Liveness, readiness (migrations at head), request ids and JSON log lines."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from service.logs import JsonFormatter
from tests.challenges.activity_helpers import ago, make_world, post, walk


def test_healthz_is_ok(client: FlaskClient) -> None:
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.get_json() == {"status": "ok"}


def test_readyz_is_200_when_migrated_to_head(client: FlaskClient) -> None:
    resp = client.get("/readyz")
    assert resp.status_code == 200
    assert resp.get_json()["checks"]["database"] == "ok"


def test_readyz_is_503_on_an_unmigrated_database(side_app: Callable[..., Flask], tmp_path: Path) -> None:
    empty = side_app(DATABASE_URL=f"sqlite:///{tmp_path}/empty.sqlite3")
    resp = empty.test_client().get("/readyz")
    assert resp.status_code == 503
    body = resp.get_json()
    assert body["status"] == "unavailable"
    assert "not at head" in body["checks"]["database"]


@pytest.mark.redis
def test_readyz_checks_redis_when_configured(side_app: Callable[..., Flask], redis_url: str) -> None:
    with_redis = side_app(REDIS_URL=redis_url)
    resp = with_redis.test_client().get("/readyz")
    assert resp.status_code == 200 and resp.get_json()["checks"]["redis"] == "ok"


def test_readyz_is_503_when_redis_is_down(side_app: Callable[..., Flask]) -> None:
    down = side_app(REDIS_URL="redis://127.0.0.1:1/0")
    resp = down.test_client().get("/readyz")
    assert resp.status_code == 503
    assert resp.get_json()["checks"]["redis"].startswith("unreachable")


def test_request_id_is_echoed_and_in_the_json_log_line(client: FlaskClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="vcc.access"):
        resp = client.get("/healthz", headers={"X-Request-ID": "phone-42.retry:1"})
    assert resp.headers["X-Request-ID"] == "phone-42.retry:1"
    records = [r for r in caplog.records if r.name == "vcc.access"]
    assert len(records) == 1
    line = json.loads(JsonFormatter().format(records[0]))
    assert line["request_id"] == "phone-42.retry:1"
    assert line["path"] == "/healthz" and line["method"] == "GET" and line["status"] == 200
    assert line["duration_ms"] >= 0


@pytest.mark.parametrize("incoming", [None, "", "bad id with spaces", "x" * 200, "<script>"])
def test_missing_or_unsafe_request_id_is_replaced(client: FlaskClient, incoming: str | None) -> None:
    headers = {"X-Request-ID": incoming} if incoming is not None else {}
    rid = client.get("/healthz", headers=headers).headers["X-Request-ID"]
    assert rid != incoming and len(rid) == 32
    assert rid != client.get("/healthz").headers["X-Request-ID"]


def test_error_responses_carry_the_request_id(client: FlaskClient) -> None:
    resp = client.get("/api/v1/nothing-here", headers={"X-Request-ID": "abc-123"})
    assert resp.get_json()["request_id"] == "abc-123" == resp.headers["X-Request-ID"]


REFUSE_NEW_ACTIVITIES = {
    # PostgreSQL: a NOT NULL column nulled on the way in, whose violation reports the whole failing row
    "postgresql": ["CREATE FUNCTION vcc_test_null_type() RETURNS trigger LANGUAGE plpgsql AS "
                   "$$ BEGIN NEW.type_code := NULL; RETURN NEW; END $$",
                   "CREATE TRIGGER vcc_test_null_type BEFORE INSERT ON activities FOR EACH ROW "
                   "EXECUTE FUNCTION vcc_test_null_type()"],
    "sqlite": ["CREATE TRIGGER vcc_test_refuse BEFORE INSERT ON activities "
               "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"],
}
ALLOW_NEW_ACTIVITIES = {
    "postgresql": ["DROP TRIGGER vcc_test_null_type ON activities", "DROP FUNCTION vcc_test_null_type()"],
    "sqlite": ["DROP TRIGGER vcc_test_refuse"],
}


@pytest.fixture
def database_refuses_activities(app: Flask, session: Session) -> Iterator[None]:
    """A real database error on every new activity (a trigger), removed again after the test."""
    from sqlalchemy import text

    from service.db import db

    dialect = db.engine.dialect.name
    with db.engine.begin() as conn:
        for statement in REFUSE_NEW_ACTIVITIES[dialect]:
            conn.execute(text(statement))
    yield
    session.rollback()  # the test's reads hold no lock the DROP would wait for
    with db.engine.begin() as conn:
        for statement in ALLOW_NEW_ACTIVITIES[dialect]:
            conn.execute(text(statement))


def test_a_database_error_is_logged_without_the_activity_s_figures(
        app: Flask, client: FlaskClient, session: Session, caplog: pytest.LogCaptureFixture,
        database_refuses_activities: None) -> None:
    world = make_world(app, session)
    start = ago(hours=2, minutes=13)
    with caplog.at_level(logging.ERROR):
        resp = post(client, world, world.users[0], walk(start, 47, distance_m=3219))
    assert resp.status_code == 500 and resp.mimetype == "application/problem+json"
    lines = "\n".join(JsonFormatter().format(r) for r in caplog.records if r.levelno >= logging.ERROR)
    assert "hide_parameters=True" in lines  # the failing statement is in the log line, its values are not
    assert "[parameters:" not in lines
    assert "Failing row" not in lines  # PostgreSQL's DETAIL of a violated constraint repeats the row
    for figure in ("2820", "3219", start.strftime("%H:%M:%S")):  # the walk's seconds, metres and start time
        assert figure not in lines
