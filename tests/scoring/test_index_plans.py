"""Board reads and per-person reads are index range reads whatever the planner's statistics say (EXPLAIN)."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, insert, text

from scoring import exports
from scoring.boards import sql
from scoring.models import LeaderboardTotal
from scoring.types import Scope

LINES = 100_000
BOARD_INDEXES = {"ix_leaderboard_totals_rank", "pk_leaderboard_totals", "pk_leaderboard_buckets",
                 "ix_leaderboard_totals_subject"}  # the last two: one line by its full key (points_of)


def _load(session: Any, contest: int, n: int = LINES) -> None:
    rng = random.Random(contest)
    rows = [{"contest_id": contest, "scope": "user", "period_key": "all", "subject_id": i,
             "points": int(rng.lognormvariate(6, 1.2))} for i in range(1, n + 1)]
    for start in range(0, n, 20_000):
        session.execute(insert(LeaderboardTotal), rows[start:start + 20_000])
    session.commit()


@contextmanager
def _captured(session: Any) -> Iterator[list[tuple[str, Any]]]:
    engine = session.get_bind().engine
    seen: list[tuple[str, Any]] = []

    def grab(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, params))

    event.listen(engine, "before_cursor_execute", grab)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", grab)


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _plans(session: Any, read: Callable[[], Any]) -> list[list[dict[str, Any]]]:
    with _captured(session) as seen:
        read()
    conn = session.connection()
    out = []
    for statement, params in seen:
        plan = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", params).scalar_one()[0]["Plan"]
        out.append(list(_nodes(plan)))
    return out


def _assert_board_range_reads(session: Any, read: Callable[[], Any]) -> None:
    plans = _plans(session, read)
    assert plans
    for nodes in plans:
        types = [n["Node Type"] for n in nodes]
        assert "Sort" not in types and "Incremental Sort" not in types, types
        scans = [n for n in nodes if n.get("Relation Name") in {"leaderboard_totals", "leaderboard_buckets"}]
        assert scans, types
        # an ordered read without a Sort is an index scan; a range count may take a bitmap of the same index
        assert all(n["Node Type"] in {"Index Scan", "Index Only Scan", "Bitmap Heap Scan"} for n in scans), types
        for scan in (n for n in nodes if "Index Name" in n):
            assert scan["Index Name"] in BOARD_INDEXES, scan["Index Name"]


def _board_reads(contest: int) -> list[Callable[[Any], Any]]:
    mid = LINES // 2
    return [
        lambda s: sql.top(s, contest, Scope.USER, "all", 50),
        lambda s: sql.top(s, contest, Scope.USER, "all", 50, after=(mid, sql.points_of(s, contest, Scope.USER,
                                                                                         "all", mid) or 0)),
        lambda s: sql.around(s, contest, Scope.USER, "all", mid, 5),
        lambda s: sql.ranks_for(s, contest, Scope.USER, "all", {0, 400, 404, 420}),  # as around() asks
    ]


@pytest.mark.postgres
def test_board_reads_are_index_range_reads_with_fresh_and_with_stale_statistics(session: Any) -> None:
    session.execute(text("ALTER TABLE leaderboard_totals SET (autovacuum_enabled = false)"))
    session.commit()
    try:
        _load(session, 501)
        session.execute(text("ANALYZE leaderboard_totals"))
        session.commit()
        for read in _board_reads(501):  # fresh statistics
            _assert_board_range_reads(session, lambda read=read: read(session))
        _load(session, 502)  # a bulk load the statistics know nothing of
        for contest in (501, 502):
            for read in _board_reads(contest):
                _assert_board_range_reads(session, lambda read=read: read(session))
    finally:
        session.rollback()
        session.execute(text("ALTER TABLE leaderboard_totals RESET (autovacuum_enabled)"))
        session.commit()


@pytest.mark.postgres
def test_a_persons_board_lines_across_contests_are_read_by_the_subject_index(session: Any) -> None:
    _load(session, 503)
    session.execute(text("ANALYZE leaderboard_totals"))
    session.commit()
    _load(session, 504)
    plans = _plans(session, lambda: exports.board_totals(session, 77))
    scans = [n for nodes in plans for n in nodes if n.get("Relation Name") == "leaderboard_totals"]
    assert [(n["Node Type"], n["Index Name"]) for n in scans] in (
        [("Index Only Scan", "ix_leaderboard_totals_subject")], [("Index Scan", "ix_leaderboard_totals_subject")])
    assert not any(n["Node Type"] == "Sort" for nodes in plans for n in nodes)


@pytest.mark.postgres
def test_per_person_reads_of_the_ledger_my_challenges_and_my_weeks_have_an_index(session: Any) -> None:
    """The tables are small in a test, so the planner may rightly prefer a scan: with scans priced out, a
    plan that still scans would mean no index serves the read (an index that starts with user_id bounds it
    by the person, whichever of them the planner takes on empty tables)."""
    statements = {
        "points_entries": ("SELECT id FROM points_entries WHERE user_id = 7 ORDER BY id", "ix_points_entries_user_id"),
        "enrolments": ("SELECT challenge_id FROM enrolments WHERE user_id = 7 AND left_at IS NULL",
                       "ix_enrolments_user_id_left_at"),
        "activities": ("SELECT id FROM activities WHERE user_id = 7 AND started_at >= now() - interval '8 weeks'",
                       "ix_activities_user_id_started_at"),
    }
    session.execute(text("SET LOCAL enable_seqscan = off"))
    for table, (statement, index) in statements.items():
        plan = session.execute(text(f"EXPLAIN (FORMAT JSON) {statement}")).scalar_one()[0]["Plan"]
        # a bitmap heap scan reads by the bitmap index scan under it: that child names the index
        scans = [child for n in _nodes(plan) if n.get("Relation Name") == table
                 for child in ([n] if n["Node Type"] != "Bitmap Heap Scan" else n.get("Plans", []))]
        assert scans and all(n.get("Index Name") == index or "user_id" in n.get("Index Cond", "") for n in scans), (
            table, [(n["Node Type"], n.get("Index Name"), n.get("Index Cond")) for n in scans])
    session.rollback()


def test_sqlite_reads_the_top_of_a_board_from_the_rank_index_without_a_sort(session: Any) -> None:
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's; PostgreSQL has the tests above")
    with _captured(session) as seen:
        sql.top(session, 1, Scope.USER, "all", 50)
        sql.top(session, 1, Scope.USER, "all", 50, after=(10, 100))
    conn = session.connection()
    for statement, params in seen:
        detail = " | ".join(str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params))
        assert "ix_leaderboard_totals_rank" in detail and "TEMP B-TREE" not in detail, detail
