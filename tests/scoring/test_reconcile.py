"""The reconcile compares boards with the ledger and corrects only what differs, a chunk per transaction."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete, insert, text, update

from scoring import leaderboards, ledger, reconcile
from scoring.boards import redis_check, redis_write
from scoring.models import LeaderboardBucket, LeaderboardTotal
from scoring.types import Period, Scope, Subject
from service.db_dialect import insert_ignore, is_postgres
from tests.scoring.conftest import board_lines, ledger_sums
from tests.scoring.factories import T0, facts, rules
from tests.scoring.test_properties import SETTINGS, bucket_counts, expected_buckets, ops, run_ops

LT = LeaderboardTotal


def _seed(session: Any, users: list[Any], contest: int) -> None:
    r = rules(contest)
    for i, user in enumerate(users):
        for day in range(3):
            ledger.score(session, r, Subject(user.id, team_id=i % 2 + 1), f"activity:{contest}:{i}:{day}",
                         facts("walking_brisk", 20 + 7 * i + day, at=T0 + timedelta(days=day)))
    session.commit()


def _line(contest: int, scope: Scope, pkey: str, sid: int) -> list[Any]:
    return [LT.contest_id == contest, LT.scope == scope, LT.period_key == pkey, LT.subject_id == sid]


def _identities(session: Any, contest: int) -> dict[tuple[str, str, int], str]:
    """Each line's row version (PostgreSQL xmin): it changes only when the row is written."""
    rows = session.execute(text("SELECT scope, period_key, subject_id, xmin::text FROM leaderboard_totals "
                                "WHERE contest_id = :c"), {"c": contest})
    return {(s, p, i): x for s, p, i, x in rows}


def _commit(session: Any) -> Any:
    def after_each() -> bool:
        session.commit()
        return True
    return after_each


def test_reconcile_corrects_a_wrong_total_a_missing_and_an_extra_line_and_a_wrong_bucket_only(
        session: Any, users: list[Any]) -> None:
    _seed(session, users, 7)
    right = board_lines(session, 7)
    day = "d2026-03-04"
    session.execute(update(LT).where(*_line(7, Scope.USER, "all", users[0].id)).values(points=LT.points + 5))
    session.execute(delete(LT).where(*_line(7, Scope.TEAM, day, 2)))
    session.execute(insert(LT).values(contest_id=7, scope=Scope.USER, period_key=day, subject_id=99_999, points=3))
    session.execute(update(LeaderboardBucket).where(LeaderboardBucket.contest_id == 7,
                                                    LeaderboardBucket.scope == Scope.TEAM,
                                                    LeaderboardBucket.period_key == "all")
                    .values(count=LeaderboardBucket.count + 4))
    session.commit()
    before = _identities(session, 7) if is_postgres(session) else {}

    counts = reconcile.reconcile(session, 7, _commit(session))
    session.commit()

    assert (counts.inserted, counts.updated, counts.deleted, counts.complete) == (1, 1, 1, True)
    assert counts.buckets >= 1
    assert board_lines(session, 7) == right
    assert {k: v for k, v in right.items() if v} == ledger_sums(session, 7)
    assert bucket_counts(session, 7) == expected_buckets(right)
    if before:
        after = _identities(session, 7)
        written = {k for k in after if before.get(k) != after[k]}
        assert written == {("user", "all", users[0].id), ("team", day, 2)}


def test_reconcile_of_a_consistent_contest_writes_nothing(session: Any, users: list[Any]) -> None:
    _seed(session, users, 8)
    counts = reconcile.reconcile(session, 8, _commit(session))
    assert (counts.inserted, counts.updated, counts.deleted, counts.buckets) == (0, 0, 0, 0)
    assert counts.chunks >= 4 and counts.boards > 0


def test_a_lost_lease_stops_the_reconcile_after_the_chunk_it_was_renewed_in(session: Any, users: list[Any]) -> None:
    _seed(session, users, 9)
    session.execute(update(LT).where(LT.contest_id == 9, LT.scope == Scope.CONTEST).values(points=1))
    session.execute(update(LT).where(*_line(9, Scope.USER, "all", users[1].id)).values(points=2))
    session.commit()
    calls: list[int] = []

    def lost() -> bool:
        session.commit()
        calls.append(1)
        return False

    counts = reconcile.reconcile(session, 9, lost)
    assert not counts.complete and counts.chunks == 1 and len(calls) == 1
    assert board_lines(session, 9)[("contest", "all", 0)] == ledger_sums(session, 9)[("contest", "all", 0)]
    assert board_lines(session, 9)[("user", "all", users[1].id)] == 2  # the next run corrects it


def test_small_chunks_cover_every_subject(session: Any, users: list[Any]) -> None:
    _seed(session, users, 10)
    session.execute(update(LT).where(LT.contest_id == 10, LT.scope == Scope.USER).values(points=LT.points + 1))
    session.commit()
    counts = reconcile.reconcile(session, 10, _commit(session), chunk=1)
    assert counts.chunks >= len(users) + 1
    assert {k: v for k, v in board_lines(session, 10).items() if v} == ledger_sums(session, 10)


@pytest.mark.postgres
def test_reconcile_commits_each_chunk_so_a_writer_to_the_same_challenge_goes_on_between_chunks(
        app: Any, session: Any, users: list[Any]) -> None:
    _seed(session, users, 11)
    session.execute(update(LT).where(LT.contest_id == 11, LT.scope == Scope.CONTEST).values(points=1))
    session.commit()
    writes: list[int] = []

    def between_chunks() -> bool:
        session.commit()
        with session.get_bind().engine.connect() as other:  # would wait, and then fail, on a row lock held
            other.execute(text("SET lock_timeout = '2s'"))
            result = other.execute(update(LT).where(LT.contest_id == 11, LT.scope == Scope.CONTEST)
                                   .values(points=LT.points))
            other.commit()
            writes.append(result.rowcount)
        return True

    counts = reconcile.reconcile(session, 11, between_chunks)
    assert counts.complete and writes and all(n == 1 for n in writes)
    assert counts.updated == 1


@pytest.mark.redis
def test_reconcile_rebuilds_only_the_redis_boards_that_differ(app: Any, session: Any, users: list[Any],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    _seed(session, users, 12)
    r = app.extensions["vcc_redis"]
    for scope in (Scope.USER, Scope.TEAM):
        leaderboards.board(session, 12, scope, Period.ALL, labels=False)
        leaderboards.board(session, 12, scope, Period.DAY, at=T0, tz="Europe/Helsinki", labels=False)
    pfx = redis_write.prefix()
    wrong = redis_write.board_key(pfx, 12, Scope.USER, "all")
    missing = redis_write.board_key(pfx, 12, Scope.TEAM, "all")
    stray = redis_write.board_key(pfx, 12, Scope.USER, "d1999-01-01")
    r.zadd(wrong, {redis_write.member(users[0].id): 1})
    r.delete(missing)
    r.zadd(stray, {redis_write.member(users[0].id): 5})
    rebuilt: list[str] = []
    real = redis_check.rebuild

    def spy(session_: Any, r_: Any, key: str, *args: Any, **kw: Any) -> int:
        rebuilt.append(key)
        return real(session_, r_, key, *args, **kw)

    monkeypatch.setattr(redis_check, "rebuild", spy)
    counts = reconcile.reconcile(session, 12, _commit(session))

    assert sorted(rebuilt) == sorted([wrong, missing])
    assert counts.redis["rebuilt"] == 1 and counts.redis["built"] == 1 and counts.redis["dropped"] == 1
    assert not r.exists(stray)
    for key, scope in ((wrong, Scope.USER), (missing, Scope.TEAM)):
        sql = {sid: pts for (s, p, sid), pts in board_lines(session, 12).items() if s == scope.value and p == "all"}
        assert {redis_write.subject(m): int(v) for m, v in r.zrange(key, 0, -1, withscores=True)} == sql


corruptions = st.lists(st.tuples(st.sampled_from(["add", "drop", "extra", "bucket"]), st.integers(0, 50),
                                 st.integers(-30, 30)), max_size=6)


@given(sequence=ops, damage=corruptions)
@SETTINGS
def test_after_a_reconcile_the_boards_equal_a_fresh_rescore(session: Any, users: list[Any], app: Any,
                                                            sequence: list, damage: list) -> None:
    contest, _, _ = run_ops(session, users, sequence)
    keys = sorted(board_lines(session, contest))
    for what, pick, amount in damage:
        if what == "extra" or not keys:
            session.execute(insert_ignore(session, LT.__table__), [{
                "contest_id": contest, "scope": "user", "period_key": "d2026-03-09", "subject_id": 50_000 + pick,
                "points": amount}])
            continue
        line = _line(contest, Scope(keys[pick % len(keys)][0]), *keys[pick % len(keys)][1:])
        if what == "add":
            session.execute(update(LT).where(*line).values(points=LT.points + amount))
        elif what == "drop":
            session.execute(delete(LT).where(*line))
        else:
            session.execute(update(LeaderboardBucket).where(LeaderboardBucket.contest_id == contest)
                            .values(count=LeaderboardBucket.count + amount))
    session.commit()
    reconcile.reconcile(session, contest, _commit(session), chunk=1)
    session.commit()
    lines, buckets = board_lines(session, contest), bucket_counts(session, contest)
    ledger.rescore_contest(session, contest)
    session.commit()
    assert board_lines(session, contest) == lines
    assert bucket_counts(session, contest) == buckets == expected_buckets(lines)
