"""Retried writes with an Idempotency-Key replay the first answer and store nothing twice."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Blueprint, Flask, request
from sqlalchemy import func, select

from service import idempotency
from service.auth import auth_required, current_user
from service.db import db
from service.errors import Invalid
from service.idempotency import idempotent
from service.models import AuditNote, IdempotencyRecord
from tests.factories import auth_headers, make_user

BARRIER: dict[str, threading.Barrier | None] = {"b": None}


def _test_blueprint() -> Blueprint:
    bp = Blueprint("idem_test", __name__)

    @bp.post("/t/things")
    @auth_required
    @idempotent("things.create")
    def create_thing() -> Any:
        data = request.get_json()
        if data.get("fail"):
            raise Invalid("told to fail")
        barrier = BARRIER["b"]
        if barrier is not None:
            barrier.wait()
        note = AuditNote(user_id=current_user().id, event="thing", detail=str(data.get("name")))
        db.session.add(note)
        db.session.flush()
        return {"id": note.id, "name": data.get("name")}, 201

    @bp.post("/t/strict")
    @auth_required
    @idempotent("things.strict", required=True)
    def strict() -> Any:
        return {"ok": True}, 201

    return bp


@pytest.fixture
def idem_app(side_app: Callable[..., Flask]) -> Flask:
    flask_app = side_app()
    flask_app.register_blueprint(_test_blueprint())
    return flask_app


def _notes(flask_app: Flask) -> int:
    with flask_app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditNote)) or 0


def _user_headers(flask_app: Flask, email: str = "idem@example.org") -> dict[str, str]:
    with flask_app.app_context():
        user = make_user(db.session, email=email)
        db.session.commit()
        return auth_headers(flask_app, user)


def test_retry_with_same_key_and_body_replays_first_answer_and_stores_once(idem_app: Flask) -> None:
    headers = {**_user_headers(idem_app), "Idempotency-Key": "k-1"}
    client = idem_app.test_client()
    first = client.post("/t/things", json={"name": "walk", "n": 1}, headers=headers)
    again = client.post("/t/things", json={"n": 1, "name": "walk"}, headers=headers)  # key order differs
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert _notes(idem_app) == 1


def test_same_key_with_different_body_is_422_and_stores_nothing(idem_app: Flask) -> None:
    headers = {**_user_headers(idem_app), "Idempotency-Key": "k-2"}
    client = idem_app.test_client()
    client.post("/t/things", json={"name": "walk"}, headers=headers)
    resp = client.post("/t/things", json={"name": "run"}, headers=headers)
    assert resp.status_code == 422
    assert resp.mimetype == "application/problem+json"
    assert resp.get_json()["type"].endswith("/idempotency-key-reused")
    assert _notes(idem_app) == 1


def test_without_key_every_request_writes(idem_app: Flask) -> None:
    headers = _user_headers(idem_app)
    client = idem_app.test_client()
    for _ in range(2):
        assert client.post("/t/things", json={"name": "walk"}, headers=headers).status_code == 201
    assert _notes(idem_app) == 2


def test_error_answers_are_not_stored_so_a_corrected_retry_runs(idem_app: Flask) -> None:
    headers = {**_user_headers(idem_app), "Idempotency-Key": "k-3"}
    client = idem_app.test_client()
    assert client.post("/t/things", json={"fail": True}, headers=headers).status_code == 400
    resp = client.post("/t/things", json={"fail": True}, headers=headers)
    assert resp.status_code == 400 and "Idempotent-Replayed" not in resp.headers
    assert client.post("/t/things", json={"name": "ok"}, headers=headers).status_code == 201
    with idem_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 1


def test_keys_are_per_user(idem_app: Flask) -> None:
    client = idem_app.test_client()
    for email in ("a@example.org", "b@example.org"):
        headers = {**_user_headers(idem_app, email), "Idempotency-Key": "shared"}
        resp = client.post("/t/things", json={"name": "walk"}, headers=headers)
        assert resp.status_code == 201 and "Idempotent-Replayed" not in resp.headers
    assert _notes(idem_app) == 2


@pytest.mark.parametrize("key", ["", " ", "x" * 256])
def test_bad_keys_are_400(idem_app: Flask, key: str) -> None:
    headers = {**_user_headers(idem_app), "Idempotency-Key": key}
    resp = idem_app.test_client().post("/t/things", json={"name": "walk"}, headers=headers)
    assert resp.status_code == 400
    assert resp.get_json()["type"].endswith("/bad-idempotency-key")
    assert _notes(idem_app) == 0


def test_required_key_missing_is_428(idem_app: Flask) -> None:
    resp = idem_app.test_client().post("/t/strict", json={}, headers=_user_headers(idem_app))
    assert resp.status_code == 428
    assert resp.get_json()["type"].endswith("/idempotency-key-required")


def test_loser_of_a_race_rolls_back_its_write_and_replays_the_winner(idem_app: Flask,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Deterministic race: the loser looked before the winner committed, so it runs the view too."""
    headers = {**_user_headers(idem_app), "Idempotency-Key": "race"}
    client = idem_app.test_client()
    winner = client.post("/t/things", json={"name": "walk"}, headers=headers)
    real_find = idempotency.find_record
    calls = {"n": 0}

    def stale_first_lookup(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        return None if calls["n"] == 1 else real_find(*args, **kwargs)

    monkeypatch.setattr(idempotency, "find_record", stale_first_lookup)
    loser = client.post("/t/things", json={"name": "walk"}, headers=headers)
    assert loser.status_code == 201
    assert loser.get_json() == winner.get_json()
    assert loser.headers["Idempotent-Replayed"] == "true"
    assert _notes(idem_app) == 1


def test_two_truly_concurrent_retries_store_once(idem_app: Flask) -> None:
    headers = {**_user_headers(idem_app), "Idempotency-Key": "together"}
    BARRIER["b"] = threading.Barrier(2, timeout=10)
    results: list[Any] = []

    def send() -> None:
        resp = idem_app.test_client().post("/t/things", json={"name": "walk"}, headers=headers)
        results.append((resp.status_code, resp.get_json()))

    threads = [threading.Thread(target=send) for _ in range(2)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    finally:
        BARRIER["b"] = None
    assert [status for status, _ in results] == [201, 201]
    assert results[0][1] == results[1][1]
    assert _notes(idem_app) == 1
