"""Detaching an erased person's ledger lines (``scoring.ledger.detach_user``, run by ``service.accounts.delete_user``):
for random add/edit/delete sequences under a daily cap, every team and contest line is what it was, the person
is on no user board, rescoring gives the same lines and never a line for nobody, and the other participant
scores on, capped, reversed and re-capped, as if nothing had happened."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import example, given
from sqlalchemy import func, select

from scoring import ledger, streaks
from scoring.models import PointsEntry
from scoring.types import Scope, Subject
from service.accounts import delete_user
from tests.factories import quick_user
from tests.scoring.conftest import board_lines, ledger_sums
from tests.scoring.factories import T0, facts, rules
from tests.scoring.test_properties import CAP, CAPPED_THEN_DELETED, SETTINGS, ops, run_ops


def _nets_of(session: Any, contest: int, user_id: int | None) -> dict[str, int]:
    """Net points per source of one person's lines (``None``: lines of nobody, i.e. erased ones)."""
    who = PointsEntry.user_id.is_(None) if user_id is None else PointsEntry.user_id == user_id
    rows = session.execute(select(PointsEntry.source_key, func.sum(PointsEntry.points)).where(
        PointsEntry.contest_id == contest, who).group_by(PointsEntry.source_key))
    return {k: int(v) for k, v in rows}


def _not_users(lines: dict[tuple[str, str, int], int]) -> dict[tuple[str, str, int], int]:
    return {k: v for k, v in lines.items() if k[0] != Scope.USER.value}


@given(sequence=ops)
@example(sequence=CAPPED_THEN_DELETED)
@SETTINGS
def test_team_and_contest_totals_are_equal_before_and_after_an_erasure(session: Any, app: Any,
                                                                      sequence: list) -> None:
    # people of their own for each example: the function-scoped fixture would hand the next example a tombstone
    users = [quick_user(session) for _ in range(4)]
    session.commit()
    contest, _, _ = run_ops(session, users, sequence)
    erased, survivor = users[0], users[1]
    before = board_lines(session, contest)
    kept = {"total": ledger.user_total(session, contest, survivor.id),
            "days": ledger.day_points(session, contest, survivor.id),
            "streak": streaks.streak(session, contest, survivor.id, tz="Europe/Helsinki")}
    theirs = _nets_of(session, contest, survivor.id)
    delete_user(session, erased)
    session.commit()

    after = board_lines(session, contest)
    assert _not_users(after) == _not_users(before)
    assert {k: v for k, v in after.items() if k[0] == Scope.USER.value} == {
        k: v for k, v in before.items() if k[0] == Scope.USER.value and k[2] != erased.id}
    assert {k: v for k, v in after.items() if v} == ledger_sums(session, contest)
    assert kept == {"total": ledger.user_total(session, contest, survivor.id),
                    "days": ledger.day_points(session, contest, survivor.id),
                    "streak": streaks.streak(session, contest, survivor.id, tz="Europe/Helsinki")}
    lines = session.scalars(select(PointsEntry).where(PointsEntry.contest_id == contest)).all()
    assert all((e.user_id is None) == (e.source_key == "erased") for e in lines)
    # the other person's sources keep their points (the generated ops may reuse a source key across people)
    assert _nets_of(session, contest, survivor.id) == theirs
    assert _nets_of(session, contest, erased.id) == {}
    ledger.rescore_contest(session, contest)
    session.commit()
    assert board_lines(session, contest) == after

    r = rules(contest, daily_cap=CAP)
    day = T0 + timedelta(hours=1)
    ledger.score(session, r, Subject(survivor.id, team_id=1), "activity:after-1", facts("walking_brisk", 55, at=day))
    ledger.score(session, r, Subject(survivor.id, team_id=1), "activity:after-2", facts("walking_brisk", 40, at=day))
    ledger.reverse(session, r, "activity:after-1")
    session.commit()
    assert {k: v for k, v in board_lines(session, contest).items() if v} == ledger_sums(session, contest)
    assert max(ledger.day_points(session, contest, survivor.id).values()) <= CAP
    assert not session.scalars(select(PointsEntry.id).where(PointsEntry.user_id.is_(None),
                                                            PointsEntry.source_key != "erased")).all()
