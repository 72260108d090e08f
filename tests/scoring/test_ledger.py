"""The ledger: idempotency, caps, reversals, edits, bulk scoring, rescore == incremental."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from scoring import ledger
from scoring.models import EntryKind, PointsEntry
from scoring.types import Metric, Period, Subject
from tests.scoring.conftest import board_lines, ledger_sums, source_nets
from tests.scoring.factories import T0, facts, rules


def entries(session: Any, contest_id: int) -> list[PointsEntry]:
    return list(session.scalars(select(PointsEntry).where(PointsEntry.contest_id == contest_id)
                                .order_by(PointsEntry.id)))


def test_scoring_the_same_source_twice_stores_one_entry(session: Any, users: list[Any]) -> None:
    r = rules()
    first = ledger.score(session, r, Subject(users[0].id), "activity:1", facts("walking_brisk", 40))
    again = ledger.score(session, r, Subject(users[0].id), "activity:1", facts("walking_brisk", 40))
    session.commit()
    assert first.created and not again.created
    assert (first.points, again.points, again.entry_key) == (40, 40, first.entry_key)
    assert len(entries(session, 1)) == 1
    assert ledger.user_total(session, 1, users[0].id) == 40


def test_daily_cap_limits_points_per_local_day(session: Any, users: list[Any]) -> None:
    r = rules(daily_cap=60)
    u = Subject(users[0].id)
    got = [ledger.score(session, r, u, f"activity:{i}", facts("walking_brisk", 25, at=T0 + timedelta(hours=i))).points
           for i in range(4)]
    next_day = ledger.score(session, r, u, "activity:9", facts("walking_brisk", 25, at=T0 + timedelta(days=1)))
    session.commit()
    assert got == [25, 25, 10, 0]
    assert next_day.points == 25
    assert "daily cap 60" in entries(session, 1)[2].rule
    assert ledger.user_total(session, 1, u.user_id) == 85


def test_reversing_a_capped_entry_reapplies_the_cap_to_that_day(session: Any, users: list[Any]) -> None:
    r = rules(daily_cap=60)
    u = Subject(users[0].id, team_id=5)
    for i, minutes in enumerate((40, 30, 20)):  # awarded 40, 20, 0 (cap 60)
        ledger.score(session, r, u, f"activity:{i}", facts("walking_brisk", minutes, at=T0 + timedelta(hours=i)))
    removed = ledger.reverse(session, r, "activity:0")
    session.commit()
    # from scratch the day would hold min(60, 30 + 20) = 50
    assert ledger.user_total(session, 1, u.user_id) == 50
    assert removed == 10
    kinds = [e.kind for e in entries(session, 1)]
    assert kinds == [EntryKind.ACTIVITY] * 3 + [EntryKind.REVERSAL] + [EntryKind.CAP_ADJUST] * 2
    assert board_lines(session, 1)[("team", "all", 5)] == 50


def test_the_room_a_reversal_frees_is_filed_under_the_sources_the_cap_had_cut(session: Any, users: list[Any]) -> None:
    r = rules(daily_cap=60)
    u = Subject(users[0].id, team_id=5)
    for i, minutes in enumerate((40, 30, 20)):  # awarded 40, 20, 0 (cap 60)
        ledger.score(session, r, u, f"activity:{i}", facts("walking_brisk", minutes, at=T0 + timedelta(hours=i)))
    ledger.reverse(session, r, "activity:0")
    session.commit()
    adjustments = [(e.source_key, e.points) for e in entries(session, 1) if e.kind is EntryKind.CAP_ADJUST]
    assert adjustments == [("activity:1", 10), ("activity:2", 20)]
    assert source_nets(session, 1) == {"activity:0": 0, "activity:1": 30, "activity:2": 20}
    ledger.reverse(session, r, "activity:1")  # its 30 (20 scored + 10 adjusted) go; activity:2 keeps 20
    session.commit()
    assert source_nets(session, 1) == {"activity:0": 0, "activity:1": 0, "activity:2": 20}
    assert ledger.user_total(session, 1, u.user_id) == 20


def test_a_later_reversal_refiles_an_adjustment_an_older_ledger_left_under_the_withdrawn_source(
        session: Any, users: list[Any]) -> None:
    r = rules(daily_cap=50)
    u = Subject(users[0].id)
    for key, minutes in (("activity:ride", 80), ("activity:walk", 30), ("activity:stroll", 10)):  # 50, 0, 0
        ledger.score(session, r, u, key, facts("walking_brisk", minutes))
    ride = entries(session, 1)[0]
    for kind, entry_key, points in ((EntryKind.REVERSAL, "rev:activity:ride:0", -50),
                                    (EntryKind.CAP_ADJUST, "cap:activity:ride:0", 40)):  # as written before the fix
        session.add(PointsEntry(contest_id=1, entry_key=entry_key, source_key=ride.source_key, generation=0,
                                kind=kind, user_id=u.user_id, local_day=ride.local_day, points=points))
    session.flush()
    ledger.reverse(session, r, "activity:stroll")
    session.commit()
    assert source_nets(session, 1) == {"activity:ride": 0, "activity:walk": 30, "activity:stroll": 0}
    assert ledger.user_total(session, 1, u.user_id) == 30


def test_reversal_sums_to_zero_and_is_idempotent(session: Any, users: list[Any]) -> None:
    r = rules()
    u = Subject(users[0].id, team_id=3, organisation_id=None)
    ledger.score(session, r, u, "activity:1", facts("running_8mph", 30))
    assert ledger.reverse(session, r, "activity:1") == 30
    assert ledger.reverse(session, r, "activity:1") == 0
    assert ledger.reverse(session, r, "activity:unknown") == 0
    session.commit()
    assert session.execute(select(func.sum(PointsEntry.points))).scalar_one() == 0
    assert len(entries(session, 1)) == 2
    assert board_lines(session, 1)[("user", "all", u.user_id)] == 0


def test_edit_is_reverse_then_score_again_as_a_new_generation(session: Any, users: list[Any]) -> None:
    r = rules()
    u = Subject(users[0].id)
    ledger.score(session, r, u, "activity:1", facts("walking_brisk", 30))
    ledger.reverse(session, r, "activity:1")
    edited = ledger.score(session, r, u, "activity:1", facts("walking_brisk", 45))
    retry = ledger.score(session, r, u, "activity:1", facts("walking_brisk", 45))
    session.commit()
    assert edited.created and edited.entry_key == "act:activity:1:1"
    assert not retry.created
    assert ledger.user_total(session, 1, u.user_id) == 45


def test_score_many_matches_one_by_one_scoring(session: Any, users: list[Any]) -> None:
    items = []
    for i in range(60):
        user = users[i % 3]
        items.append((Subject(user.id, team_id=i % 2 + 1), f"activity:{i}",
                      facts("walking_brisk" if i % 4 else "running_6mph", 10 + i % 25,
                            at=T0 + timedelta(hours=5 * i))))
    bulk = ledger.score_many(session, rules(1, daily_cap=50), [*items, items[0]])
    for subject, key, f in items:
        ledger.score(session, rules(2, daily_cap=50), subject, key, f)
    session.commit()
    assert [x.points for x in bulk[:-1]] == [e.points for e in entries(session, 2)]
    assert bulk[-1].created is False and bulk[-1].points == bulk[0].points
    assert board_lines(session, 1) == board_lines(session, 2)
    assert {k: v for k, v in board_lines(session, 1).items() if v} == ledger_sums(session, 1)


def test_rescore_rebuilds_the_same_totals_as_incremental_scoring(session: Any, users: list[Any]) -> None:
    r = rules(daily_cap=45, metric=Metric.ACTIVE_MINUTES)
    for i in range(30):
        ledger.score(session, r, Subject(users[i % 4].id, team_id=i % 3, organisation_id=None), f"activity:{i}",
                     facts("walking_brisk", 10 + (i * 7) % 30, at=T0 + timedelta(hours=7 * i)))
    for i in range(0, 30, 4):
        ledger.reverse(session, r, f"activity:{i}")
    session.commit()
    incremental = board_lines(session, 1)
    ledger.rescore_contest(session, 1)
    session.commit()
    assert board_lines(session, 1) == incremental
    assert {k: v for k, v in incremental.items() if v} == ledger_sums(session, 1)


def test_user_total_by_period(session: Any, users: list[Any]) -> None:
    r = rules()
    u = Subject(users[0].id)
    ledger.score(session, r, u, "activity:1", facts("walking_brisk", 30, at=T0))                       # Tue
    ledger.score(session, r, u, "activity:2", facts("walking_brisk", 20, at=T0 + timedelta(days=1)))   # Wed
    ledger.score(session, r, u, "activity:3", facts("walking_brisk", 10, at=T0 + timedelta(days=7)))   # next Tue
    session.commit()
    assert ledger.user_total(session, 1, u.user_id, Period.DAY, at=T0, tz="Europe/Helsinki") == 30
    assert ledger.user_total(session, 1, u.user_id, Period.WEEK, at=T0, tz="Europe/Helsinki") == 50
    assert ledger.user_total(session, 1, u.user_id) == 60
