"""Redis back end specifics: after-commit writes, rebuild after a flush, hash-tagged keys, expiry."""

from __future__ import annotations

from typing import Any

import pytest
from redis.crc import key_slot

from scoring import leaderboards, ledger
from scoring.boards import redis_write
from scoring.periods import local_day, period_key
from scoring.types import Period, Scope, Subject
from tests.scoring.factories import T0, facts, rules

pytestmark = pytest.mark.redis
TZ = "Europe/Helsinki"


def triples(rows: list[Any]) -> list[tuple[int, int, int]]:
    return [(r.rank, r.subject_id, r.points) for r in rows]


def contest_keys(r: Any) -> list[str]:
    return sorted(r.scan_iter(match=redis_write.contest_pattern(redis_write.prefix(), 1), count=1000))


def test_flushing_redis_then_reading_gives_the_same_ranks(session: Any, users: list[Any], app: Any) -> None:
    r = app.extensions["vcc_redis"]
    for i, (user, minutes) in enumerate(zip(users, [30, 50, 50, 10], strict=True)):
        ledger.score(session, rules(), Subject(user.id, team_id=7), f"activity:{i}", facts("walking_brisk", minutes))
    session.commit()
    before = triples(leaderboards.board(session, 1, Scope.USER, Period.ALL, tz=TZ).rows)
    around = triples(leaderboards.around(session, 1, Scope.USER, Period.ALL, users[0].id, 1, tz=TZ))
    assert contest_keys(r)
    redis_write.drop_contest(r, redis_write.prefix(), 1)
    assert contest_keys(r) == []
    assert triples(leaderboards.around(session, 1, Scope.USER, Period.ALL, users[0].id, 1, tz=TZ)) == around
    assert triples(leaderboards.board(session, 1, Scope.USER, Period.ALL, tz=TZ).rows) == before
    assert before == [(1, users[1].id, 50), (1, users[2].id, 50), (3, users[0].id, 30), (4, users[3].id, 10)]


def test_increments_reach_redis_only_after_commit(session: Any, users: list[Any], app: Any) -> None:
    r = app.extensions["vcc_redis"]
    key = redis_write.board_key(redis_write.prefix(), 1, Scope.USER, "all")
    ledger.score(session, rules(), Subject(users[0].id), "activity:1", facts("walking_brisk", 30))
    session.commit()
    leaderboards.board(session, 1, Scope.USER, Period.ALL, tz=TZ)  # builds the key
    assert r.zscore(key, redis_write.member(users[0].id)) == 30
    ledger.score(session, rules(), Subject(users[0].id), "activity:2", facts("walking_brisk", 20))
    assert r.zscore(key, redis_write.member(users[0].id)) == 30  # not committed yet
    session.rollback()
    assert r.zscore(key, redis_write.member(users[0].id)) == 30  # rolled back: never sent
    ledger.score(session, rules(), Subject(users[0].id), "activity:2", facts("walking_brisk", 20))
    session.commit()
    assert r.zscore(key, redis_write.member(users[0].id)) == 50  # ZINCRBY on the existing board


def test_after_a_script_flush_each_increment_is_applied_exactly_once(session: Any, users: list[Any],
                                                                      app: Any) -> None:
    """Increments go by EVALSHA; a Redis that lost its scripts answers NOSCRIPT, the script is loaded and only
    the refused increments are sent again."""
    r = app.extensions["vcc_redis"]
    key = redis_write.board_key(redis_write.prefix(), 1, Scope.USER, "all")
    ledger.score(session, rules(), Subject(users[0].id), "activity:1", facts("walking_brisk", 30))
    session.commit()
    leaderboards.board(session, 1, Scope.USER, Period.ALL, tz=TZ)
    r.script_flush()
    ledger.score(session, rules(), Subject(users[0].id), "activity:2", facts("walking_brisk", 20))
    ledger.score(session, rules(), Subject(users[1].id), "activity:3", facts("walking_brisk", 10))
    session.commit()
    assert r.script_exists(redis_write.INCR_SHA) == [True]
    assert r.zscore(key, redis_write.member(users[0].id)) == 50
    assert r.zscore(key, redis_write.member(users[1].id)) == 10
    ledger.score(session, rules(), Subject(users[0].id), "activity:4", facts("walking_brisk", 5))
    session.commit()
    assert r.zscore(key, redis_write.member(users[0].id)) == 55


def test_keys_of_a_contest_share_one_cluster_slot_and_day_boards_expire(session: Any, users: list[Any],
                                                                        app: Any) -> None:
    r = app.extensions["vcc_redis"]
    ledger.score(session, rules(), Subject(users[0].id, team_id=3, organisation_id=None), "activity:1",
                 facts("walking_brisk", 30))
    session.commit()
    for scope in (Scope.USER, Scope.TEAM):
        for period in Period:
            leaderboards.board(session, 1, scope, period, at=T0, tz=TZ)
    keys = contest_keys(r)
    assert len(keys) == 6
    assert len({key_slot(k.encode()) for k in keys}) == 1
    day_key = redis_write.board_key(redis_write.prefix(), 1, Scope.USER, period_key(Period.DAY, local_day(T0, TZ)))
    all_key = redis_write.board_key(redis_write.prefix(), 1, Scope.USER, "all")
    assert r.ttl(day_key) > 0
    assert r.ttl(all_key) == -1


def test_rescore_drops_redis_boards_and_they_come_back_identical(session: Any, users: list[Any], app: Any) -> None:
    r = app.extensions["vcc_redis"]
    for i, user in enumerate(users):
        ledger.score(session, rules(), Subject(user.id), f"activity:{i}", facts("walking_brisk", 10 * (i % 2 + 1)))
    session.commit()
    before = triples(leaderboards.board(session, 1, Scope.USER, Period.ALL, tz=TZ).rows)
    ledger.rescore_contest(session, 1)
    session.commit()
    assert contest_keys(r) == []
    assert triples(leaderboards.board(session, 1, Scope.USER, Period.ALL, tz=TZ).rows) == before


class _Interleaved:
    """The real Redis client, with something run just before (or after) the rebuild's RENAME: the moment
    another request's commit can slip in while a board is being copied from SQL."""

    def __init__(self, r: Any, before: Any = None, after: Any = None) -> None:
        self._r, self._before, self._after = r, before, after

    def __getattr__(self, name: str) -> Any:
        return getattr(self._r, name)

    def rename(self, src: str, dst: str) -> Any:
        if self._before:
            self._before()
        done = self._r.rename(src, dst)
        if self._after:
            self._after()
        return done


def test_a_commit_during_a_rebuild_is_neither_lost_nor_counted_twice(session: Any, users: list[Any],
                                                                     app: Any) -> None:
    from sqlalchemy.orm import Session

    r = app.extensions["vcc_redis"]
    key = redis_write.board_key(redis_write.prefix(), 1, Scope.USER, "all")
    ledger.score(session, rules(), Subject(users[0].id), "activity:1", facts("walking_brisk", 30))
    ledger.score(session, rules(), Subject(users[1].id), "activity:2", facts("walking_brisk", 10))
    session.commit()

    def commit_elsewhere(user: Any, source: str, minutes: int) -> None:
        with Session(bind=session.get_bind()) as other:
            ledger.score(other, rules(), Subject(user.id), source, facts("walking_brisk", minutes))
            other.commit()  # its increment is sent now, while the board is missing (lost before this fix)

    late = _Interleaved(r, before=lambda: commit_elsewhere(users[0], "activity:3", 20))
    assert redis_write.rebuild(session, late, key, 1, Scope.USER, "all") == 2
    assert r.zscore(key, redis_write.member(users[0].id)) == 50

    # an increment whose commit the copy already holds, arriving after the RENAME, is not added twice
    ledger.score(session, rules(), Subject(users[1].id), "activity:4", facts("walking_brisk", 5))
    delayed = session.info.pop(redis_write.PENDING)["ops"]  # held back, as a slow after-commit send would be
    session.commit()
    r.delete(key)
    echo = _Interleaved(r, after=lambda: redis_write._send(r, delayed, []))
    assert redis_write.rebuild(session, echo, key, 1, Scope.USER, "all") == 2
    assert r.zscore(key, redis_write.member(users[1].id)) == 15
    assert not r.exists(f"{key}:building") and not r.exists(f"{key}:touched")
    assert triples(leaderboards.board(session, 1, Scope.USER, Period.ALL, tz=TZ).rows) == [
        (1, users[0].id, 50), (2, users[1].id, 15)]
