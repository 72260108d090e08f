"""'Overtaken' reads only what changed since the last planning run, and tells exactly those who lost a place."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from challenges.lifecycle import rules_for
from challenges.models import Challenge
from challenges.participation.enrolment import find_enrolment, subject_for
from notifications import overtaken
from notifications.models import Nudge, NudgeKind
from notifications.preferences import update_preferences
from notifications.rules import plan_activity_nudges
from scoring import ledger
from scoring.types import ActivityFacts
from service.models import User
from tests.challenges.factories import enrol, make_challenge
from tests.factories import make_org, quick_user

START = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)
_keys = itertools.count(1)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(START + timedelta(days=1), tick=False):
        yield


def _give(session: Session, challenge: Challenge, people: list[tuple[User, int]]) -> None:
    """Score ``minutes`` of walking for each (user, minutes) in one batch through the real ledger."""
    items = []
    for user, minutes in people:
        enrolment = find_enrolment(session, challenge.id, user.id)
        items.append((subject_for(challenge, enrolment), f"ot:{next(_keys)}",
                      ActivityFacts("walking", START + timedelta(hours=2), minutes * 60)))
    ledger.score_many(session, rules_for(challenge), items)
    session.commit()


def _world(session: Session, extra: int = 0) -> tuple[Challenge, dict[str, User]]:
    challenge = make_challenge(session, make_org(session), starts_at=START, ends_at=START + timedelta(days=30))
    people = {name: quick_user(session, timezone="UTC") for name in ("leader", "mid", "low", "chaser")}
    crowd = [quick_user(session, timezone="UTC") for _ in range(extra)]
    for user in [*people.values(), *crowd]:
        enrol(session, challenge, user)
    _give(session, challenge, [(people["leader"], 100), (people["mid"], 50), (people["low"], 10),
                               (people["chaser"], 20)] + [(u, 1 + i % 9) for i, u in enumerate(crowd)])
    return challenge, people


def _overtaken(session: Session) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = {}
    for n in session.scalars(select(Nudge).where(Nudge.kind == NudgeKind.OVERTAKEN)):
        out.setdefault(n.user_id, []).append(n.params["rank"])
    return out


@contextmanager
def _counting(session: Session) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = session.get_bind()

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_only_the_one_who_was_passed_gets_one_nudge_and_the_rest_none(session: Session) -> None:
    challenge, p = _world(session)
    plan_activity_nudges(session)  # first look: sets the ledger cursor, nobody was overtaken
    assert _overtaken(session) == {}
    _give(session, challenge, [(p["chaser"], 50)])  # 20 -> 70: passes mid (50), not the leader (100)
    plan_activity_nudges(session)
    assert _overtaken(session) == {p["mid"].id: [3]}
    plan_activity_nudges(session)  # nothing changed since: nothing new
    _give(session, challenge, [(p["low"], 5)])  # low moves but passes nobody
    plan_activity_nudges(session)
    assert _overtaken(session) == {p["mid"].id: [3]}


def test_tie_broken_by_a_gainer_counts_and_a_second_pass_the_same_day_is_throttled(session: Session) -> None:
    challenge, p = _world(session)
    plan_activity_nudges(session)
    _give(session, challenge, [(p["low"], 40)])  # 10 -> 50: passes the chaser (20), level with mid
    plan_activity_nudges(session)
    assert _overtaken(session) == {p["chaser"].id: [4]}
    _give(session, challenge, [(p["low"], 1)])  # 51: mid was level, now below
    plan_activity_nudges(session)
    assert _overtaken(session) == {p["chaser"].id: [4], p["mid"].id: [3]}
    _give(session, challenge, [(p["chaser"], 40)])  # 60: passes low (51, news) and mid again (throttled)
    plan_activity_nudges(session)
    assert _overtaken(session) == {p["chaser"].id: [4], p["mid"].id: [3], p["low"].id: [3]}


def test_two_movers_who_swap_places_tell_only_the_one_who_fell_behind(session: Session) -> None:
    challenge, p = _world(session)
    plan_activity_nudges(session)
    _give(session, challenge, [(p["mid"], 5), (p["chaser"], 40)])  # mid 55, chaser 60: chaser passed a mover
    plan_activity_nudges(session)
    assert _overtaken(session) == {p["mid"].id: [3]}


def test_a_switched_off_kind_or_a_departed_participant_hears_nothing(session: Session) -> None:
    challenge, p = _world(session)
    plan_activity_nudges(session)
    update_preferences(session, p["mid"].id, {"kinds": [{"kind": "overtaken", "enabled": False}]})
    find_enrolment(session, challenge.id, p["low"].id).left_at = START
    session.commit()
    _give(session, challenge, [(p["chaser"], 100)])  # passes leader, mid and (already above) nobody else
    plan_activity_nudges(session)
    assert _overtaken(session) == {p["leader"].id: [2]}


@pytest.mark.parametrize("crowd", [20, 200])
def test_planning_reads_what_changed_not_the_board(session: Session, crowd: int) -> None:
    """Boards of 24 and 204 lines: the same statements, and only the passed lines are read."""
    challenge, p = _world(session, extra=crowd)  # the crowd has 1..9 points: below everyone who moves
    plan_activity_nudges(session)
    _give(session, challenge, [(p["chaser"], 50)])
    with _counting(session) as statements:
        plan_activity_nudges(session)
    stats = overtaken.LAST_RUN
    assert _overtaken(session) == {p["mid"].id: [3]}
    assert stats.entries_window == 1 and stats.movers == 1
    assert stats.board_rows_read == 1  # mid (50) alone, out of 4 + crowd lines
    board_reads = [s for s in statements if "leaderboard_totals" in s]
    assert len(board_reads) <= 4
    assert len(statements) == EXPECTED_STATEMENTS.setdefault("n", len(statements))  # same for 24 and 204


EXPECTED_STATEMENTS: dict[str, int] = {}


def test_a_backlog_longer_than_the_window_is_skipped_without_nudges(session: Session,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    challenge, p = _world(session)
    plan_activity_nudges(session)
    monkeypatch.setattr(overtaken, "MAX_WINDOW", 1)
    _give(session, challenge, [(p["chaser"], 50), (p["low"], 1)])
    plan_activity_nudges(session)
    assert overtaken.LAST_RUN.skipped_backlog and _overtaken(session) == {}
    monkeypatch.setattr(overtaken, "MAX_WINDOW", 1000)
    plan_activity_nudges(session)  # the cursor moved past the backlog: nothing is replayed
    assert _overtaken(session) == {}


def test_a_run_reads_at_most_its_budget_of_passed_lines_top_places_first(session: Session,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    challenge, p = _world(session)
    plan_activity_nudges(session)
    monkeypatch.setattr(overtaken, "MAX_PASSED_ROWS", 1)
    _give(session, challenge, [(p["chaser"], 100)])  # 20 -> 120: passes leader (100) and mid (50)
    plan_activity_nudges(session)
    assert overtaken.LAST_RUN.truncated and overtaken.LAST_RUN.board_rows_read == 1
    assert _overtaken(session) == {p["leader"].id: [2]}
