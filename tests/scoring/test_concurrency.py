"""Two writers at once on PostgreSQL: the same source scored concurrently is stored once, and a daily
cap holds when two different sources of the same user-day are scored concurrently, or one is reversed while
another is scored."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from scoring import ledger
from scoring.models import PointsEntry
from scoring.types import Subject
from tests.scoring.conftest import board_lines, source_nets
from tests.scoring.factories import facts, rules

pytestmark = pytest.mark.postgres


def run_together(app: Any, work: list[Callable[[Any], Any]]) -> list[Any]:
    from service.db import db

    barrier = threading.Barrier(len(work))
    results: list[Any] = [None] * len(work)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            with app.app_context():
                db.session.connection()
                barrier.wait(timeout=10)
                results[i] = work[i](db.session)
                db.session.commit()
                db.session.remove()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    return results


def test_the_same_source_scored_twice_at_once_is_stored_once(app: Any, session: Any, users: list[Any]) -> None:
    uid = users[0].id
    results = run_together(app, [
        lambda s: ledger.score(s, rules(), Subject(uid, team_id=1), "activity:1", facts("walking_brisk", 30)),
        lambda s: ledger.score(s, rules(), Subject(uid, team_id=1), "activity:1", facts("walking_brisk", 30)),
    ])
    assert sorted(r.created for r in results) == [False, True]
    assert session.execute(select(func.count()).select_from(PointsEntry)).scalar_one() == 1
    lines = board_lines(session, 1)
    assert lines[("user", "all", uid)] == 30 and lines[("team", "all", 1)] == 30


def test_a_daily_cap_holds_under_concurrent_sources(app: Any, session: Any, users: list[Any],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    uid = users[0].id
    capped = rules(daily_cap=50)
    # make the race certain: each writer, having read the day's points, waits (up to 1 s) for the other to
    # have read them too. With the per-user lock the second writer cannot read before the first commits.
    read_both = threading.Barrier(2)
    original = ledger._day_sums

    def slow_day_sums(*args: Any) -> Any:
        sums = original(*args)
        with contextlib.suppress(threading.BrokenBarrierError):
            read_both.wait(timeout=1)
        return sums

    monkeypatch.setattr(ledger, "_day_sums", slow_day_sums)
    run_together(app, [
        lambda s: ledger.score(s, capped, Subject(uid), "activity:1", facts("walking_brisk", 40)),
        lambda s: ledger.score(s, capped, Subject(uid), "activity:2", facts("walking_brisk", 40)),
    ])
    assert ledger.user_total(session, 1, uid) == 50
    assert board_lines(session, 1)[("user", "all", uid)] == 50


def test_a_reversal_and_a_new_source_of_one_capped_day_at_once_leave_each_source_its_share(
        app: Any, session: Any, users: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    uid = users[0].id
    capped = rules(daily_cap=50)
    ledger.score(session, capped, Subject(uid), "activity:ride", facts("walking_brisk", 80))  # 50 of 80
    ledger.score(session, capped, Subject(uid), "activity:walk", facts("walking_brisk", 30))  # 0: the day is full
    session.commit()
    original = ledger._day_sums

    def slow_day_sums(*args: Any) -> Any:  # the new source's writer holds its reading of the day for a while
        sums = original(*args)
        threading.Event().wait(0.5)
        return sums

    monkeypatch.setattr(ledger, "_day_sums", slow_day_sums)
    run_together(app, [
        lambda s: ledger.reverse(s, capped, "activity:ride"),
        lambda s: ledger.score(s, capped, Subject(uid), "activity:late", facts("walking_brisk", 40)),
    ])
    # in either order: the walk scored first takes its 30, the late one the 20 left
    assert source_nets(session, 1) == {"activity:ride": 0, "activity:walk": 30, "activity:late": 20}
    assert board_lines(session, 1)[("user", "all", uid)] == 50
