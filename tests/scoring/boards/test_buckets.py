"""SQL ranks from point buckets equal a brute-force count of the subjects with more points."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from scoring import totals
from scoring.boards import sql
from scoring.buckets import bucket, lower
from scoring.models import LeaderboardTotal
from scoring.types import Scope

CONTESTS = itertools.count(5000)


def test_bucket_edges_are_consistent() -> None:
    for p in range(1, 5000):
        b = bucket(p)
        assert b is not None and lower(b) <= p < lower(b + 1)
    assert bucket(0) is None and bucket(-3) is None


@given(points=st.lists(st.one_of(st.integers(0, 60), st.integers(0, 5_000_000)), min_size=1, max_size=60))
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_bucketed_ranks_equal_a_brute_force_count(session: Any, points: list[int]) -> None:
    contest = next(CONTESTS)
    deltas = totals.Deltas(contest, "UTC")
    for sid, pts in enumerate(points, start=1):
        deltas.points[(Scope.USER, "all", sid)] = pts
    totals.apply(session, deltas)
    # move some subjects after the first write, as later activities and reversals do
    again = totals.Deltas(contest, "UTC")
    for sid, pts in enumerate(points[::3], start=1):
        again.points[(Scope.USER, "all", sid * 3 - 2)] = -pts // 2
    totals.apply(session, again)
    values = set(session.scalars(select(LeaderboardTotal.points).where(LeaderboardTotal.contest_id == contest)))
    ranks = sql.ranks_for(session, contest, Scope.USER, "all", {int(v) for v in values})
    for v in values:
        brute = session.execute(select(func.count()).select_from(LeaderboardTotal).where(
            LeaderboardTotal.contest_id == contest, LeaderboardTotal.points > v)).scalar_one()
        assert ranks[int(v)] == brute + 1, v
    session.rollback()
