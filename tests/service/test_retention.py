"""The platform's retention jobs: expired refresh tokens, and audit events and notes past AUDIT_RETENTION_DAYS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from notifications import jobs
from service import audit
from service.audit import AUDIT_RETENTION_DAYS
from service.models import AuditEvent, AuditNote, RefreshToken
from service.retention import Pace, drain, id_batches, purge_audit
from service.scheduler import bind_app
from tests.factories import PASSWORD, make_org, quick_user

T0 = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)
REFRESH_DAYS = 30  # REFRESH_TOKEN_DAYS' default


def run_job(app: Flask, job_id: str) -> Any:
    bind_app(app)
    try:
        return jobs.run(job_id)
    finally:
        bind_app(None)


def token_request(client: FlaskClient, **body: str) -> Any:
    return client.post("/api/v1/auth/token", json=body)


def test_refresh_tokens_go_once_expired_and_reuse_detection_still_works_until_then(
        app: Flask, client: FlaskClient, session: Session) -> None:
    user = quick_user(session)
    session.commit()
    with time_machine.travel(T0, tick=False):
        first = token_request(client, grant_type="password", email=user.email, password=PASSWORD)
        assert first.status_code == 200, first.json
        used = first.json["refresh_token"]
    with time_machine.travel(T0 + timedelta(days=10), tick=False):
        assert token_request(client, grant_type="refresh_token", refresh_token=used).status_code == 200
    with time_machine.travel(T0 + timedelta(days=REFRESH_DAYS) - timedelta(minutes=1), tick=False):
        assert run_job(app, "service.refresh_token_purge") == {"refresh_tokens": 0}  # used, not yet expired
        reused = token_request(client, grant_type="refresh_token", refresh_token=used)
        assert reused.json["type"].endswith("/refresh-token-reused")  # the used token is still recognised
    with time_machine.travel(T0 + timedelta(days=REFRESH_DAYS, minutes=1), tick=False):
        assert run_job(app, "service.refresh_token_purge") == {"refresh_tokens": 1}
    session.expire_all()
    [successor] = session.scalars(select(RefreshToken)).all()
    assert successor.expires_at == T0 + timedelta(days=10 + REFRESH_DAYS)
    with time_machine.travel(T0 + timedelta(days=REFRESH_DAYS, minutes=2), tick=False):
        again = token_request(client, grant_type="refresh_token", refresh_token=used)
    assert again.status_code == 401 and again.json["type"].endswith("/invalid-refresh-token")


def test_audit_events_and_notes_go_after_audit_retention_days(app: Flask, session: Session) -> None:
    admin = quick_user(session)
    org = make_org(session)
    for age in (AUDIT_RETENTION_DAYS + 1, AUDIT_RETENTION_DAYS - 1):
        at = T0 - timedelta(days=age)
        session.add(AuditEvent(organisation_id=org.id, actor_id=admin.id, action="challenge.published",
                               target_type="challenge", target_id=age, created_at=at))
        session.add(AuditNote(user_id=admin.id, event="refresh-token-reuse", detail=str(age), created_at=at))
    session.commit()
    with time_machine.travel(T0, tick=False):
        assert run_job(app, "service.audit_purge") == {"audit_events": 1, "audit_notes": 1}
        assert run_job(app, "service.audit_purge") == {"audit_events": 0, "audit_notes": 0}
    session.expire_all()
    assert list(session.scalars(select(AuditEvent.target_id))) == [AUDIT_RETENTION_DAYS - 1]
    assert list(session.scalars(select(AuditNote.detail))) == [str(AUDIT_RETENTION_DAYS - 1)]


def test_the_audit_purge_reads_audit_retention_days(app: Flask, session: Session,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    org = make_org(session)
    with time_machine.travel(T0 - timedelta(days=31), tick=False):
        audit.record(session, actor=None, organisation_id=org.id, action="organisation.updated",
                     target_type="organisation", target_id=org.id)
    session.commit()
    monkeypatch.setitem(app.config, "AUDIT_RETENTION_DAYS", 30)
    with time_machine.travel(T0, tick=False):
        assert run_job(app, "service.audit_purge")["audit_events"] == 1


def test_purges_commit_chunk_by_chunk_and_stop_when_told(app: Flask, session: Session) -> None:
    for n in range(5):
        session.add(AuditNote(event="login-refused", detail=str(n), created_at=T0 - timedelta(days=400)))
    session.commit()
    seen: list[int] = []

    def after_each() -> bool:
        session.commit()
        seen.append(len(session.scalars(select(AuditNote.id)).all()))
        return len(seen) < 2

    assert purge_audit(session, T0, AUDIT_RETENTION_DAYS, after_each, chunk=2) == {"audit_events": 0,
                                                                                   "audit_notes": 4}
    assert seen == [3, 1]  # two chunks of two, then told to stop: the last one waits for the next run
    assert purge_audit(session, T0, AUDIT_RETENTION_DAYS, lambda: True, chunk=2)["audit_notes"] == 1


def test_id_batches_never_read_a_row_left_in_place_twice(session: Session) -> None:
    for n in range(5):
        session.add(AuditNote(event="e", detail=str(n)))
    session.commit()
    query = select(AuditNote.id)
    batches = list(id_batches(session, query, AuditNote.id, chunk=2))  # nothing removed between batches
    assert [len(b) for b in batches] == [2, 2, 1] and len({i for b in batches for i in b}) == 5
    assert drain(iter([[1], [2]]), lambda ids: None, Pace(lambda: True)) == 2
