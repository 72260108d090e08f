"""Boards that missed increments while Redis was down are never served once it is back.

A private Redis (tests/conftest.py ``private_redis``) is stopped after a snapshot and started again, so it comes
back holding boards from before the outage, as a Redis with persistence would. Runs in every tier.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from scoring import leaderboards, ledger
from scoring.boards import redis_write
from scoring.models import LeaderboardTotal, StaleBoards
from scoring.types import Period, Scope, Subject
from service.db import db
from tests.conftest import RedisServer
from tests.factories import quick_user
from tests.scoring.factories import facts, rules

CONTEST = 1
TZ = "Europe/Helsinki"


@pytest.fixture
def cached(side_app: Callable[..., Flask], private_redis: RedisServer) -> Iterator[Any]:
    """A session of an app whose boards are mirrored to the private Redis; this process starts unsuspecting."""
    app = side_app(REDIS_URL=private_redis.url)
    with app.app_context():
        redis_write._health.update(suspect=False, checked=-math.inf)
        yield db.session
        db.session.rollback()


def in_redis(contest_id: int = CONTEST) -> dict[int, int]:
    r = redis_write.client()
    key = redis_write.board_key(redis_write.prefix(), contest_id, Scope.USER, "all")
    return {redis_write.subject(m): int(s) for m, s in r.zrange(key, 0, -1, withscores=True)}


def in_sql(session: Any, contest_id: int = CONTEST) -> dict[int, int]:
    return {int(s): int(p) for s, p in session.execute(select(LeaderboardTotal.subject_id, LeaderboardTotal.points)
                                                      .where(LeaderboardTotal.contest_id == contest_id,
                                                             LeaderboardTotal.scope == Scope.USER,
                                                             LeaderboardTotal.period_key == "all"))}


def read(session: Any, contest_id: int = CONTEST) -> list[tuple[int, int, int]]:
    return [(row.rank, row.subject_id, row.points)
            for row in leaderboards.board(session, contest_id, Scope.USER, Period.ALL, tz=TZ, labels=False).rows]


def score(session: Any, user: Any, key: str, minutes: int, contest_id: int = CONTEST) -> None:
    ledger.score(session, rules(contest_id), Subject(user.id), key, facts("walking_brisk", minutes))
    session.commit()


def test_a_write_that_cannot_reach_redis_marks_the_contest_and_the_next_read_rebuilds_it(
        cached: Any, private_redis: RedisServer) -> None:
    ann, ben = quick_user(cached), quick_user(cached)
    score(cached, ann, "a1", 50)
    score(cached, ben, "b1", 30)
    assert read(cached) == [(1, ann.id, 50), (2, ben.id, 30)]
    private_redis.save()
    private_redis.stop()

    score(cached, ben, "b2", 40)  # committed in SQL; Redis cannot even be told to drop the board
    assert cached.scalars(select(StaleBoards.misses).where(StaleBoards.contest_id == CONTEST)).all() == [1]
    assert read(cached) == [(1, ben.id, 70), (2, ann.id, 50)]  # from SQL meanwhile

    private_redis.start()
    assert in_redis() == {ann.id: 50, ben.id: 30}  # the snapshot: what the outage left behind
    assert read(cached) == [(1, ben.id, 70), (2, ann.id, 50)]
    assert in_redis() == in_sql(cached) == {ann.id: 50, ben.id: 70}


def test_marks_left_by_another_process_are_honoured_within_the_check_interval(cached: Any) -> None:
    """This process never saw Redis fail; another worker marked the contest. Until the next check the board is
    read as Redis has it; from then on it is rebuilt, and a mark already repaired is not repaired again."""
    ann = quick_user(cached)
    score(cached, ann, "a1", 50)
    assert read(cached) == [(1, ann.id, 50)]
    r = redis_write.client()
    key = redis_write.board_key(redis_write.prefix(), CONTEST, Scope.USER, "all")
    canary = redis_write.member(999_999)

    def another_worker_missed_an_increment() -> None:
        r.zadd(key, {canary: 1})  # stands for whatever the stale board holds
        redis_write.mark_stale(cached, {CONTEST})
        redis_write._health.update(suspect=False, checked=time.monotonic())

    another_worker_missed_an_increment()
    assert read(cached)[-1][1] == 999_999  # checked a moment ago: not yet seen
    redis_write._health["checked"] -= redis_write.REPAIR_EVERY_S
    assert read(cached) == [(1, ann.id, 50)]
    assert in_redis() == in_sql(cached)

    r.zadd(key, {canary: 1})
    redis_write.note_failure()  # this process now checks at once, but the mark is repaired already
    assert read(cached)[-1][1] == 999_999

    another_worker_missed_an_increment()
    redis_write.note_failure()
    assert read(cached) == [(1, ann.id, 50)]
    assert cached.scalars(select(StaleBoards.misses)).all() == [2]
