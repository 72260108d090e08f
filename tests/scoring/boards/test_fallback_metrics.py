"""Board reads and writes that Redis could not serve are counted, by operation, as they fall back to SQL."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from scoring import leaderboards, ledger
from scoring.types import Period, Scope, Subject
from service.db import db
from tests.factories import moved, quick_user, scrape
from tests.scoring.factories import facts, rules

FALLBACKS = "vcc_redis_fallbacks_total"


def test_reads_and_writes_that_fall_back_to_sql_are_counted(side_app: Callable[..., Flask],
                                                            client: FlaskClient) -> None:
    unreachable = side_app(REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens there: every Redis call fails
    with unreachable.app_context():
        session = db.session
        ann = quick_user(session).id
        session.commit()
        before = scrape(client)
        ledger.score(session, rules(1), Subject(ann), "a1", facts("walking_brisk", 30))
        session.commit()  # the points are in SQL; the Redis increment after the commit fails
        written = scrape(client)
        rows = leaderboards.board(session, 1, Scope.USER, Period.ALL, tz="Europe/Helsinki", labels=False).rows
        read = scrape(client)
        db.session.remove()
    assert [(row.rank, row.subject_id, row.points) for row in rows] == [(1, ann, 30)]  # served from SQL
    assert moved(before, written, FALLBACKS, operation="write") == 1
    assert moved(before, written, FALLBACKS, operation="read") == 0
    assert moved(written, read, FALLBACKS, operation="read") == 1
