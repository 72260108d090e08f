"""Scoring's export sections: every ledger line of the person (reversals and cap adjustments too), their own
board lines and their badges with evidence; other people's lines stay out."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from scoring import exports, ledger
from scoring.models import BadgeAward, BadgeDefinition
from scoring.types import Subject
from service.clock import utcnow
from tests.scoring.factories import T0, facts, rules


def test_ledger_lines_of_the_person_with_reversals_caps_and_their_board_lines(session: Any,
                                                                              users: list[Any]) -> None:
    me, other = users[0], users[1]
    capped = rules(contest_id=7, daily_cap=60)
    ledger.score(session, capped, Subject(me.id, team_id=3), "activity:1", facts("walking_brisk", 40))
    ledger.score(session, capped, Subject(me.id, team_id=3), "activity:2",
                 facts("walking_brisk", 40, at=T0 + timedelta(hours=2)))
    ledger.score(session, capped, Subject(other.id, team_id=3), "activity:3", facts("walking_brisk", 50))
    ledger.reverse(session, capped, "activity:1")
    session.commit()

    lines = exports.points(session, me.id)
    assert [(p["kind"], p["source_key"], p["points"]) for p in lines[:3]] == [
        ("activity", "activity:1", 40), ("activity", "activity:2", 20), ("reversal", "activity:1", -40)]
    assert [(p["kind"], p["points"]) for p in lines[3:]] == [("cap_adjust", 20)]  # activity:2 may now count fully
    first = lines[0]
    assert (first["contest_id"], first["team_id"], first["metric_value"], first["local_day"]) == (
        7, 3, 40.0, T0.date())
    assert first["points_before_daily_cap"] == 40 and "walking" in first["rule"]
    assert lines[1]["points_before_daily_cap"] == 40 and "daily cap 60" in lines[1]["rule"]
    assert first["created_at"].tzinfo is not None
    assert sum(p["points"] for p in lines) == ledger.user_total(session, 7, me.id) == 40

    totals = {t["period"]: t["points"] for t in exports.board_totals(session, me.id)}
    assert totals["all"] == 40
    assert all(t["contest_id"] == 7 for t in exports.board_totals(session, me.id))
    assert {t["points"] for t in exports.board_totals(session, other.id) if t["period"] == "all"} == {50}


def test_badges_with_evidence_and_a_contest_less_award(session: Any, users: list[Any]) -> None:
    me, other = users[0], users[1]
    badge = BadgeDefinition(code="test-early", name="Early bird", description="Moved before seven.",
                            criteria={"kind": "first_activity"})
    session.add(badge)
    session.flush()
    session.add_all([BadgeAward(user_id=me.id, badge_id=badge.id, contest_id=0, evidence={"value": {"at": "06:10"}},
                                awarded_at=utcnow()),
                     BadgeAward(user_id=other.id, badge_id=badge.id, contest_id=5, evidence=None, awarded_at=utcnow())])
    session.commit()
    mine = exports.badges(session, me.id)
    assert [(b["code"], b["name"], b["description"], b["contest_id"], b["evidence"]) for b in mine] == [
        ("test-early", "Early bird", "Moved before seven.", None, {"value": {"at": "06:10"}})]
    assert exports.points(session, me.id) == [] and exports.board_totals(session, me.id) == []
