"""Helpers of the scoring tests that read boards and the ledger independently (``users`` is the root fixture)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
from sqlalchemy import func, select

from scoring.models import LeaderboardTotal, PointsEntry
from scoring.periods import keys_for_day


def board_lines(session: Any, contest_id: int) -> dict[tuple[str, str, int], int]:
    rows = session.execute(select(LeaderboardTotal.scope, LeaderboardTotal.period_key, LeaderboardTotal.subject_id,
                                  LeaderboardTotal.points).where(LeaderboardTotal.contest_id == contest_id))
    return {(str(s.value if hasattr(s, "value") else s), p, i): int(v) for s, p, i, v in rows}


def ledger_sums(session: Any, contest_id: int) -> dict[tuple[str, str, int], int]:
    """Board lines computed straight from the ledger (independently of scoring.totals), zero lines dropped."""
    q = (select(PointsEntry.user_id, PointsEntry.team_id, PointsEntry.organisation_id, PointsEntry.local_day,
                func.sum(PointsEntry.points)).where(PointsEntry.contest_id == contest_id)
         .group_by(PointsEntry.user_id, PointsEntry.team_id, PointsEntry.organisation_id, PointsEntry.local_day))
    out: dict[tuple[str, str, int], int] = defaultdict(int)
    for user_id, team_id, org_id, day, pts in session.execute(q):
        out[("contest", "all", 0)] += int(pts)  # the whole contest's line (collective goals)
        for pkey in keys_for_day(day).values():
            for scope, sid in (("user", user_id), ("team", team_id), ("organisation", org_id)):
                if sid is not None:
                    out[(scope, pkey, sid)] += int(pts)
    return {k: v for k, v in out.items() if v}


def source_nets(session: Any, contest_id: int | None = None) -> dict[str, int]:
    """Net points per ledger source (of one contest, or all): what each activity's entry shows."""
    q = select(PointsEntry.source_key, func.sum(PointsEntry.points)).group_by(PointsEntry.source_key)
    if contest_id is not None:
        q = q.where(PointsEntry.contest_id == contest_id)
    return {key: int(net) for key, net in session.execute(q)}


def nonzero(lines: dict[tuple[str, str, int], int]) -> dict[tuple[str, str, int], int]:
    return {k: v for k, v in lines.items() if v}


@pytest.fixture(params=["sql", pytest.param("redis", marks=pytest.mark.redis)])
def backend(request: pytest.FixtureRequest, app: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test once on the SQL back end and once on Redis (the latter only in the Redis tier)."""
    if request.param == "sql":
        monkeypatch.delitem(app.extensions, "vcc_redis", raising=False)
    else:
        assert app.extensions.get("vcc_redis") is not None
    return request.param
