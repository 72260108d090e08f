"""Property: for random add/edit/delete sequences, board totals equal ledger sums, and every user-day holds
min(cap, sum of its live activities) - what scoring the surviving activities from scratch would give; each
source holds what scoring the survivors afresh in their scoring order gives it, and a withdrawn one holds 0.
Runs on SQL, and (Redis tier) on Redis where the sorted sets must equal the ledger sums too."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import timedelta
from typing import Any, NamedTuple

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from scoring import leaderboards, ledger
from scoring.boards import redis_write
from scoring.buckets import bucket
from scoring.models import LeaderboardBucket
from scoring.periods import local_day, period_key
from scoring.rules import to_points
from scoring.types import Period, Scope, Subject
from tests.scoring.conftest import board_lines, ledger_sums, source_nets
from tests.scoring.factories import T0, facts, rules

CONTESTS = itertools.count(1000)
CAP = 60

ops = st.lists(st.tuples(st.sampled_from(["add", "edit", "delete"]), st.integers(0, 1), st.integers(0, 3),
                         st.sampled_from([10, 25, 40, 55]), st.integers(0, 3)), min_size=1, max_size=25)
# a capped day whose first entry is then deleted: the cap must be re-applied to what is left
CAPPED_THEN_DELETED = [("add", 0, 0, 40, 0), ("add", 0, 1, 30, 0), ("delete", 0, 0, 5, 0)]
# the case: the source that filled the day is edited; the one it had cut must gain on its own key
CAPPED_THEN_EDITED = [("add", 0, 0, 55, 0), ("add", 0, 1, 25, 0), ("add", 0, 2, 10, 0), ("edit", 0, 0, 10, 0)]

SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


class Run(NamedTuple):
    contest: int
    expected: dict[tuple[int, Any], int]
    """points per (user id, local day): min(cap, the day's live minutes)"""
    sources: dict[str, int]
    """points each source that ever scored should hold: the cap applied afresh in scoring order, 0 if withdrawn"""


def run_ops(session: Any, users: list[Any], sequence: list[tuple[str, int, int, int, int]],
            on_step: Any = None) -> Run:
    contest = next(CONTESTS)
    r = rules(contest, daily_cap=CAP)
    live: dict[str, tuple[int, Any, int]] = {}  # source -> (user id, local day, minutes), in scoring order
    seen: set[str] = set()
    for op, u, src, minutes, hours in sequence:
        key = f"activity:{src}"
        user = users[u]
        at = T0 + timedelta(hours=7 * hours)
        if op == "add" and key not in live:
            ledger.score(session, r, Subject(user.id, team_id=u % 2), key, facts("walking_brisk", minutes, at=at))
            live[key] = (user.id, local_day(at, r.timezone), minutes)
            seen.add(key)
        elif op == "edit" and key in live:
            owner = users[[x.id for x in users].index(live[key][0])]
            ledger.reverse(session, r, key)
            ledger.score(session, r, Subject(owner.id, team_id=users.index(owner) % 2), key,
                         facts("walking_brisk", minutes, at=at))
            del live[key]  # scored again: last in the order
            live[key] = (owner.id, local_day(at, r.timezone), minutes)
        elif op == "delete" and key in live:
            ledger.reverse(session, r, key)
            del live[key]
        session.commit()
        if on_step:
            on_step(contest)
    expected: dict[tuple[int, Any], int] = defaultdict(int)
    sources = dict.fromkeys(seen, 0)
    for key, (user_id, day, minutes) in live.items():
        sources[key] = min(to_points(minutes), CAP - expected[(user_id, day)])
        expected[(user_id, day)] += sources[key]
    return Run(contest, dict(expected), sources)


def check_sql(session: Any, contest: int, expected: dict[tuple[int, Any], int]) -> None:
    lines = {k: v for k, v in board_lines(session, contest).items() if v}
    assert lines == ledger_sums(session, contest)
    for (user_id, day), pts in expected.items():
        assert lines.get(("user", period_key(Period.DAY, day), user_id), 0) == pts
    assert sum(v for (s, p, _), v in lines.items() if s == "user" and p == "all") == sum(expected.values())
    assert lines.get(("contest", "all", 0), 0) == sum(expected.values())
    assert bucket_counts(session, contest) == expected_buckets(lines)


def bucket_counts(session: Any, contest: int) -> dict[tuple[str, str, int], int]:
    rows = session.execute(select(LeaderboardBucket.scope, LeaderboardBucket.period_key, LeaderboardBucket.bucket,
                                  LeaderboardBucket.count).where(LeaderboardBucket.contest_id == contest))
    return {(str(getattr(s, "value", s)), p, b): n for s, p, b, n in rows if n}


def expected_buckets(lines: dict[tuple[str, str, int], int]) -> dict[tuple[str, str, int], int]:
    out: dict[tuple[str, str, int], int] = defaultdict(int)
    for (scope, pkey, _), pts in lines.items():
        if pts > 0 and scope != "contest":  # the contest line is no board: nothing ranks in it
            out[(scope, pkey, bucket(pts))] += 1  # type: ignore[index]
    return dict(out)


@given(sequence=ops)
@example(sequence=CAPPED_THEN_DELETED)
@example(sequence=CAPPED_THEN_EDITED)
@SETTINGS
def test_sql_boards_equal_ledger_sums_capped_day_totals_and_each_sources_share(
        session: Any, users: list[Any], app: Any, sequence: list) -> None:
    contest, expected, sources = run_ops(session, users, sequence)
    check_sql(session, contest, expected)
    assert source_nets(session, contest) == sources
    before = board_lines(session, contest)
    ledger.rescore_contest(session, contest)
    session.commit()
    assert board_lines(session, contest) == before


@pytest.mark.redis
@given(sequence=ops)
@example(sequence=CAPPED_THEN_DELETED)
@SETTINGS
def test_redis_boards_equal_ledger_sums(session: Any, users: list[Any], app: Any, sequence: list) -> None:
    r = app.extensions["vcc_redis"]

    def read_boards(contest: int) -> None:  # builds missing keys so later increments go through ZINCRBY
        for scope in (Scope.USER, Scope.TEAM):
            leaderboards.board(session, contest, scope, Period.ALL, labels=False)
            leaderboards.board(session, contest, scope, Period.DAY, at=T0, tz="Europe/Helsinki", labels=False)

    contest, expected, _ = run_ops(session, users, sequence, read_boards)
    check_sql(session, contest, expected)
    sums = ledger_sums(session, contest)
    pfx = redis_write.prefix()
    for scope in ("user", "team"):
        for pkey in ("all", period_key(Period.DAY, local_day(T0, "Europe/Helsinki"))):
            raw = r.zrange(redis_write.board_key(pfx, contest, scope, pkey), 0, -1, withscores=True)
            in_redis = {redis_write.subject(m): int(s) for m, s in raw if int(s)}
            in_ledger = {sid: v for (s, p, sid), v in sums.items() if s == scope and p == pkey}
            assert in_redis == in_ledger, (scope, pkey)
