"""Each nudge kind fires when, and only when, it should (time travel over zones and a DST change)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.orm import Session

from challenges.lifecycle import rules_for
from challenges.models import Challenge, ChallengeFormat
from challenges.participation.enrolment import find_enrolment, subject_for
from notifications.finalise import run_lifecycle
from notifications.models import Nudge, NudgeKind, NudgeStatus
from notifications.rules import plan_activity_nudges, plan_weekly_summaries
from scoring import badges, ledger
from scoring.types import ActivityFacts
from service.models import Role, User
from tests.challenges.factories import enrol, make_challenge, make_team
from tests.factories import make_org, quick_user

_keys = itertools.count(1)


@pytest.fixture
def at() -> Iterator[Any]:
    """``at(moment)`` freezes time there (later calls move it), for the rest of the test."""
    travellers: list[Any] = []

    def go(moment: datetime) -> None:
        if travellers:
            travellers.pop().stop()
        traveller = time_machine.travel(moment, tick=False)
        traveller.start()
        travellers.append(traveller)

    yield go
    for traveller in travellers:
        traveller.stop()


def give(session: Session, challenge: Challenge, user: User, when: datetime, minutes: int = 30) -> None:
    enrolment = find_enrolment(session, challenge.id, user.id)
    ledger.score(session, rules_for(challenge), subject_for(challenge, enrolment), f"test:{next(_keys)}",
                 ActivityFacts("walking", when, minutes * 60))
    session.commit()


def nudges(session: Session, kind: NudgeKind) -> list[tuple[int, NudgeStatus]]:
    return [(n.user_id, n.status) for n in session.scalars(select(Nudge).where(Nudge.kind == kind)
                                                           .order_by(Nudge.user_id, Nudge.id))]


def test_lifecycle_nudges_fire_once_in_their_windows_and_stale_ones_are_dropped(session: Session, at: Any) -> None:
    start = datetime(2026, 6, 15, 6, 0, tzinfo=UTC)  # 08:00 Amsterdam
    end = datetime(2026, 6, 29, 6, 0, tzinfo=UTC)
    at(start - timedelta(days=3))
    org = make_org(session, timezone="Europe/Amsterdam")
    challenge = make_challenge(session, org, starts_at=start, ends_at=end, timezone="Europe/Amsterdam",
                               title="Fietsmaand")
    ams, tokyo, la = (quick_user(session, timezone=tz) for tz in ("Europe/Amsterdam", "Asia/Tokyo",
                                                                  "America/Los_Angeles"))
    for user in (ams, tokyo, la):
        enrol(session, challenge, user)
    session.commit()
    at(start - timedelta(hours=25))
    run_lifecycle(session)
    assert nudges(session, NudgeKind.CHALLENGE_STARTING) == []
    at(start - timedelta(hours=10))  # 20:00 UTC: 22:00 Amsterdam, 05:00 Tokyo, 13:00 Los Angeles
    result = run_lifecycle(session)
    run_lifecycle(session)
    rows = {n.user_id: n for n in session.scalars(select(Nudge).where(Nudge.kind == NudgeKind.CHALLENGE_STARTING))}
    # Amsterdam is in quiet hours until 08:00 local, which is the start itself: "starts tomorrow" is dropped
    assert set(rows) == {tokyo.id, la.id} and result.stale == 1
    assert rows[tokyo.id].due_at == datetime(2026, 6, 14, 23, 0, tzinfo=UTC)  # 08:00 Tokyo, before the start
    assert rows[la.id].due_at == start - timedelta(hours=10)  # 13:00 in Los Angeles: now
    at(start + timedelta(hours=1))
    run_lifecycle(session)
    assert len(nudges(session, NudgeKind.CHALLENGE_STARTED)) == 3
    at(end - timedelta(hours=49))
    run_lifecycle(session)
    assert nudges(session, NudgeKind.CHALLENGE_ENDING) == []
    at(end - timedelta(hours=47))
    run_lifecycle(session)
    run_lifecycle(session)
    assert len(nudges(session, NudgeKind.CHALLENGE_ENDING)) == 3
    assert len(nudges(session, NudgeKind.CHALLENGE_STARTED)) == 3  # nothing new of the earlier kinds


def test_starting_tomorrow_is_dropped_when_quiet_hours_would_deliver_it_after_the_start(
        session: Session, at: Any) -> None:
    start = datetime(2026, 6, 15, 7, 0, tzinfo=UTC)
    at(start - timedelta(days=2))
    challenge = make_challenge(session, make_org(session), starts_at=start, ends_at=start + timedelta(days=10))
    night_owl = quick_user(session, timezone="America/Los_Angeles")
    enrol(session, challenge, night_owl)
    session.commit()
    at(start - timedelta(hours=2))  # 22:00 in Los Angeles: next allowed 08:00 local = 15:00 UTC, after the start
    result = run_lifecycle(session)
    assert result.stale == 1 and nudges(session, NudgeKind.CHALLENGE_STARTING) == []


def test_final_standings_and_finisher_badges_come_once_after_the_late_sync_window(session: Session, at: Any) -> None:
    start, end = datetime(2026, 5, 1, 6, 0, tzinfo=UTC), datetime(2026, 5, 15, 6, 0, tzinfo=UTC)
    at(start + timedelta(days=1))
    badges.ensure_definitions(session)
    challenge = make_challenge(session, make_org(session), starts_at=start, ends_at=end, grace_days=3)
    people = [quick_user(session) for _ in range(4)]
    for i, person in enumerate(people):
        enrol(session, challenge, person)
        give(session, challenge, person, start + timedelta(hours=30), minutes=20 + 10 * i)
    at(end + timedelta(days=2))
    run_lifecycle(session)
    assert nudges(session, NudgeKind.CHALLENGE_RESULT) == []  # activity may still come in
    at(end + timedelta(days=3, minutes=5))
    run_lifecycle(session)
    run_lifecycle(session)
    results = {n.user_id: n.params for n in session.scalars(select(Nudge).where(
        Nudge.kind == NudgeKind.CHALLENGE_RESULT))}
    assert {uid: p["rank"] for uid, p in results.items()} == {people[3].id: 1, people[2].id: 2, people[1].id: 3,
                                                            people[0].id: 4}
    assert all(p["participants"] == 4 for p in results.values())
    plan_activity_nudges(session)
    podium = {n.user_id for n in session.scalars(select(Nudge).where(Nudge.kind == NudgeKind.BADGE_EARNED))
              if n.params["badge"] == "Podium"}
    assert podium == {people[3].id, people[2].id, people[1].id}


def test_finalising_a_challenge_costs_the_same_statements_for_3_or_12_participants(session: Session,
                                                                                  at: Any) -> None:
    """Final ranks come from one ordered pass over the board, not a rank query per participant; ties share."""
    from sqlalchemy import event

    from notifications.finalise import finalise_ended

    start, end = datetime(2026, 5, 1, 6, 0, tzinfo=UTC), datetime(2026, 5, 15, 6, 0, tzinfo=UTC)
    at(start + timedelta(days=1))
    badges.ensure_definitions(session)
    org = make_org(session)
    sizes = {}
    for size in (3, 12):
        challenge = make_challenge(session, org, starts_at=start, ends_at=end, grace_days=1)
        for i in range(size):
            person = quick_user(session)
            enrol(session, challenge, person)
            give(session, challenge, person, start + timedelta(hours=30), minutes=20 + 10 * (i // 2))
        sizes[challenge.id] = size
    session.commit()
    at(end + timedelta(days=2))
    statements: list[str] = []
    listener = lambda *a: statements.append(a[2])  # noqa: E731
    event.listen(session.get_bind(), "before_cursor_execute", listener)
    try:
        candidates = finalise_ended(session, end + timedelta(days=2))
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", listener)
    by_challenge: dict[int, list[int]] = {}
    for c in candidates:
        by_challenge.setdefault(c.challenge_id, []).append(c.params["rank"])
    small, large = sorted(by_challenge, key=lambda cid: sizes[cid])
    assert sorted(by_challenge[small]) == [1, 2, 2]
    assert sorted(by_challenge[large]) == [1, 1, 3, 3, 5, 5, 7, 7, 9, 9, 11, 11]
    per_challenge = [s for s in statements if "leaderboard_totals" in s]
    assert len(per_challenge) == 2  # one ordered read of each board


def test_inactivity_reminder_after_three_quiet_days_once_per_spell_in_daytime(session: Session, at: Any) -> None:
    start = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)
    at(start)
    challenge = make_challenge(session, make_org(session, timezone="Europe/Helsinki"), starts_at=start,
                               ends_at=start + timedelta(days=30), timezone="Europe/Helsinki")
    lazy, busy = quick_user(session), quick_user(session)
    for user in (lazy, busy):
        enrol(session, challenge, user)
    give(session, challenge, lazy, start + timedelta(hours=2))
    give(session, challenge, busy, start + timedelta(hours=2))
    at(datetime(2026, 6, 3, 9, 0, tzinfo=UTC))
    give(session, challenge, busy, datetime(2026, 6, 3, 8, 0, tzinfo=UTC))
    at(datetime(2026, 6, 5, 9, 0, tzinfo=UTC))  # lazy: 4 days since June 1; busy: 2 days
    plan_activity_nudges(session)
    plan_activity_nudges(session)
    assert nudges(session, NudgeKind.INACTIVE) == [(lazy.id, NudgeStatus.PLANNED)]
    at(datetime(2026, 6, 5, 20, 0, tzinfo=UTC))  # 23:00 local: no reminders at night
    give(session, challenge, lazy, datetime(2026, 6, 5, 19, 0, tzinfo=UTC))
    at(datetime(2026, 6, 10, 3, 0, tzinfo=UTC))  # 06:00 local
    plan_activity_nudges(session)
    assert len(nudges(session, NudgeKind.INACTIVE)) == 1
    at(datetime(2026, 6, 10, 8, 0, tzinfo=UTC))  # 11:00 local, a new quiet spell for both
    plan_activity_nudges(session)
    assert sorted(u for u, _ in nudges(session, NudgeKind.INACTIVE)) == sorted([lazy.id, lazy.id, busy.id])


def test_streak_at_risk_in_the_local_evening_of_a_dst_day_and_gone_by_midnight(session: Session, at: Any) -> None:
    start = datetime(2026, 3, 20, 0, 0, tzinfo=UTC)
    at(start)
    org = make_org(session, timezone="Europe/Amsterdam")
    challenge = make_challenge(session, org, starts_at=start, ends_at=start + timedelta(days=30),
                               timezone="Europe/Amsterdam")
    keen, done_today, fresh = (quick_user(session, timezone="Europe/Amsterdam") for _ in range(3))
    for user in (keen, done_today, fresh):
        enrol(session, challenge, user)
    for day in (26, 27, 28):
        give(session, challenge, keen, datetime(2026, 3, day, 10, 0, tzinfo=UTC))
        give(session, challenge, done_today, datetime(2026, 3, day, 10, 0, tzinfo=UTC))
    give(session, challenge, done_today, datetime(2026, 3, 29, 9, 0, tzinfo=UTC))
    give(session, challenge, fresh, datetime(2026, 3, 28, 10, 0, tzinfo=UTC))  # a one-day streak: not worth it
    at(datetime(2026, 3, 29, 14, 0, tzinfo=UTC))  # 16:00 CEST on the day clocks went forward: not evening
    plan_activity_nudges(session)
    assert nudges(session, NudgeKind.STREAK_AT_RISK) == []
    at(datetime(2026, 3, 29, 16, 30, tzinfo=UTC))  # 18:30 CEST
    plan_activity_nudges(session)
    rows = list(session.scalars(select(Nudge).where(Nudge.kind == NudgeKind.STREAK_AT_RISK)))
    assert [n.user_id for n in rows] == [keen.id]
    assert rows[0].params["streak"] == 3
    assert rows[0].expires_at == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)  # local midnight in CEST


def test_overtaken_fires_for_the_one_who_lost_a_place_once_a_day(session: Session, at: Any) -> None:
    start = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)
    at(start + timedelta(days=1))
    challenge = make_challenge(session, make_org(session), starts_at=start, ends_at=start + timedelta(days=30))
    leader, chaser = quick_user(session), quick_user(session)
    for user in (leader, chaser):
        enrol(session, challenge, user)
    give(session, challenge, leader, start + timedelta(hours=2), minutes=60)
    give(session, challenge, chaser, start + timedelta(hours=3), minutes=30)
    plan_activity_nudges(session)  # first look: remember the ranks, nobody was overtaken
    assert nudges(session, NudgeKind.OVERTAKEN) == []
    give(session, challenge, chaser, start + timedelta(hours=26), minutes=60)
    plan_activity_nudges(session)
    assert [u for u, _ in nudges(session, NudgeKind.OVERTAKEN)] == [leader.id]
    give(session, challenge, leader, start + timedelta(hours=27), minutes=60)
    give(session, challenge, chaser, start + timedelta(hours=28), minutes=90)
    plan_activity_nudges(session)  # overtaken again the same day: throttled
    assert [u for u, _ in nudges(session, NudgeKind.OVERTAKEN)] == [leader.id]


def test_goal_milestones_fire_at_half_and_full_and_a_jump_skips_the_half(session: Session, at: Any) -> None:
    start = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)
    at(start + timedelta(days=1))
    challenge = make_challenge(session, make_org(session), starts_at=start, ends_at=start + timedelta(days=30),
                               goal=100)
    steady, sprinter = quick_user(session), quick_user(session)
    for user in (steady, sprinter):
        enrol(session, challenge, user)
    give(session, challenge, steady, start + timedelta(hours=2), minutes=40)
    plan_activity_nudges(session)
    assert nudges(session, NudgeKind.MILESTONE) == []
    give(session, challenge, steady, start + timedelta(hours=3), minutes=20)
    give(session, challenge, sprinter, start + timedelta(hours=3), minutes=120)
    plan_activity_nudges(session)
    give(session, challenge, steady, start + timedelta(hours=4), minutes=45)
    plan_activity_nudges(session)
    plan_activity_nudges(session)
    rows = [(n.user_id, n.params["percent"], n.status) for n in session.scalars(
        select(Nudge).where(Nudge.kind == NudgeKind.MILESTONE).order_by(Nudge.user_id, Nudge.id))]
    assert sorted(rows) == sorted([(steady.id, 50, NudgeStatus.PLANNED), (steady.id, 100, NudgeStatus.PLANNED),
                                   (sprinter.id, 50, NudgeStatus.SKIPPED), (sprinter.id, 100, NudgeStatus.PLANNED)])


@pytest.mark.parametrize("fmt", [ChallengeFormat.TEAM, ChallengeFormat.COLLECTIVE])
def test_team_and_collective_goal_reached_tells_exactly_those_who_reached_it(
        session: Session, at: Any, fmt: ChallengeFormat) -> None:
    start = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)
    at(start + timedelta(days=1))
    organiser = quick_user(session)
    org = make_org(session, members={organiser: Role.ORGANISER})
    challenge = make_challenge(session, org, starts_at=start, ends_at=start + timedelta(days=30),
                               goal=100, format=fmt)
    people = [quick_user(session) for _ in range(4)]
    if fmt == ChallengeFormat.TEAM:
        red, blue = make_team(session, challenge, organiser, "Red"), make_team(session, challenge, organiser, "Blue")
        for person, team in zip(people, (red, red, blue, blue), strict=True):
            enrol(session, challenge, person, team_code=team.code)
    else:
        for person in people:
            enrol(session, challenge, person)
    give(session, challenge, people[0], start + timedelta(hours=2), minutes=60)
    give(session, challenge, people[2], start + timedelta(hours=2), minutes=30)
    plan_activity_nudges(session)
    assert nudges(session, NudgeKind.GOAL_REACHED) == []
    give(session, challenge, people[1], start + timedelta(hours=3), minutes=45)
    plan_activity_nudges(session)
    plan_activity_nudges(session)
    reached = sorted(u for u, _ in nudges(session, NudgeKind.GOAL_REACHED))
    expected = people[:2] if fmt == ChallengeFormat.TEAM else people
    assert reached == sorted(p.id for p in expected)


def test_badge_earned_once_per_award(session: Session, at: Any) -> None:
    start = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)
    at(start + timedelta(days=1))
    badges.ensure_definitions(session)
    challenge = make_challenge(session, make_org(session), starts_at=start, ends_at=start + timedelta(days=30),
                               title="Walk to Work")
    user = quick_user(session, locale="es")
    enrol(session, challenge, user)
    give(session, challenge, user, start + timedelta(hours=2))
    assert [a.badge.code for a in badges.evaluate(session, challenge.id, [user.id])] == ["first-move"]
    session.commit()
    plan_activity_nudges(session)
    plan_activity_nudges(session)
    rows = list(session.scalars(select(Nudge).where(Nudge.kind == NudgeKind.BADGE_EARNED)))
    assert [(n.user_id, n.params["badge"], n.params["challenge"]) for n in rows] == [
        (user.id, "First move", "Walk to Work")]


def test_weekly_summary_on_monday_morning_local_with_last_weeks_numbers(session: Session, at: Any) -> None:
    start = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)  # a Monday
    at(start + timedelta(days=1))
    challenge = make_challenge(session, make_org(session, timezone="Europe/Helsinki"), starts_at=start,
                               ends_at=start + timedelta(days=30), timezone="Europe/Helsinki")
    helsinki = quick_user(session, timezone="Europe/Helsinki")
    newyork = quick_user(session, timezone="America/New_York")
    for user in (helsinki, newyork):
        enrol(session, challenge, user)
    for day in (2, 3, 5):
        give(session, challenge, helsinki, datetime(2026, 6, day, 9, 0, tzinfo=UTC), minutes=30)
    at(datetime(2026, 6, 8, 5, 30, tzinfo=UTC))  # Monday 08:30 Helsinki, 01:30 New York
    plan_weekly_summaries(session)
    assert nudges(session, NudgeKind.WEEKLY_SUMMARY) == []
    at(datetime(2026, 6, 8, 6, 5, tzinfo=UTC))  # 09:05 Helsinki
    plan_weekly_summaries(session)
    rows = list(session.scalars(select(Nudge).where(Nudge.kind == NudgeKind.WEEKLY_SUMMARY)))
    assert [(n.user_id, n.params["points"], n.params["active_days"]) for n in rows] == [(helsinki.id, 90, 3)]
    at(datetime(2026, 6, 8, 13, 5, tzinfo=UTC))  # 09:05 New York
    plan_weekly_summaries(session)
    plan_weekly_summaries(session)
    assert sorted(u for u, _ in nudges(session, NudgeKind.WEEKLY_SUMMARY)) == sorted([helsinki.id, newyork.id])
    at(datetime(2026, 6, 9, 13, 5, tzinfo=UTC))  # Tuesday: nothing new
    plan_weekly_summaries(session)
    assert len(nudges(session, NudgeKind.WEEKLY_SUMMARY)) == 2


def test_team_members_hear_when_their_team_lost_a_place(session: Session, at: Any) -> None:
    start = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)
    at(start + timedelta(days=1))
    organiser = quick_user(session)
    org = make_org(session, members={organiser: Role.ORGANISER})
    challenge = make_challenge(session, org, starts_at=start, ends_at=start + timedelta(days=30),
                               format=ChallengeFormat.TEAM)
    red, blue = make_team(session, challenge, organiser, "Red"), make_team(session, challenge, organiser, "Blue")
    reds = [quick_user(session) for _ in range(2)]
    blue_star = quick_user(session)
    for person in reds:
        enrol(session, challenge, person, team_code=red.code)
    enrol(session, challenge, blue_star, team_code=blue.code)
    give(session, challenge, reds[0], start + timedelta(hours=2), minutes=60)
    give(session, challenge, blue_star, start + timedelta(hours=2), minutes=30)
    plan_activity_nudges(session)
    give(session, challenge, blue_star, start + timedelta(hours=3), minutes=60)  # Blue passes Red
    plan_activity_nudges(session)
    rows = {n.user_id: n.params["scope"] for n in session.scalars(select(Nudge).where(
        Nudge.kind == NudgeKind.OVERTAKEN))}
    # both Red members hear it once: the one who also lost their own place gets that (one a day per challenge)
    assert rows == {reds[0].id: "user", reds[1].id: "team"}


@pytest.mark.parametrize("people", [3, 30])
def test_streak_at_risk_reads_all_evening_members_in_one_query(session: Session, at: Any, people: int) -> None:
    from sqlalchemy import event

    from notifications.rules import _members, streak_at_risk

    start = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)
    at(start)
    challenge = make_challenge(session, make_org(session), starts_at=start, ends_at=start + timedelta(days=30))
    crowd = [quick_user(session, timezone="UTC") for _ in range(people)]
    for user in crowd:
        enrol(session, challenge, user)
    for day in (1, 2):
        for user in crowd:
            give(session, challenge, user, start + timedelta(days=day))
    at(start + timedelta(days=3, hours=13))  # 19:00 UTC: everybody's evening, today not met
    members = _members(session, challenge.id)
    statements: list[str] = []
    engine = session.get_bind()

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        found = list(streak_at_risk(session, challenge, members, datetime.now(UTC)))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert sorted(c.user_id for c in found) == sorted(u.id for u in crowd)
    assert all(c.params["streak"] == 2 for c in found)
    assert len(statements) == 1


def test_weekly_summary_counts_the_users_own_last_week_when_their_monday_is_the_challenges_sunday(
        session: Session, at: Any) -> None:
    start = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)  # a Monday
    at(start + timedelta(days=1))
    challenge = make_challenge(session, make_org(session, timezone="Europe/Amsterdam"), starts_at=start,
                               ends_at=start + timedelta(days=30), timezone="Europe/Amsterdam")
    kiwi, other = quick_user(session, timezone="Pacific/Auckland"), quick_user(session, timezone="Pacific/Auckland")
    for user in (kiwi, other):
        enrol(session, challenge, user)
    for day in (2, 3):
        give(session, challenge, kiwi, datetime(2026, 6, day, 9, 0, tzinfo=UTC), minutes=30)
    give(session, challenge, other, datetime(2026, 6, 4, 9, 0, tzinfo=UTC), minutes=90)
    at(datetime(2026, 6, 7, 21, 5, tzinfo=UTC))  # Monday 09:05 in Auckland, still Sunday in Amsterdam
    plan_weekly_summaries(session)
    rows = {n.user_id: n.params for n in session.scalars(select(Nudge).where(Nudge.kind == NudgeKind.WEEKLY_SUMMARY))}
    assert (rows[kiwi.id]["points"], rows[kiwi.id]["active_days"], rows[kiwi.id]["rank"]) == (60, 2, 2)
    assert (rows[other.id]["points"], rows[other.id]["rank"]) == (90, 1)


def test_fan_outs_tell_each_participant_once_and_late_joiners_at_the_next_run(session: Session, at: Any) -> None:
    start = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)
    at(start + timedelta(hours=2))
    challenge = make_challenge(session, make_org(session), starts_at=start, ends_at=start + timedelta(days=30),
                               goal=10, format=ChallengeFormat.COLLECTIVE)
    early = [quick_user(session, timezone="UTC") for _ in range(3)]
    for user in early:
        enrol(session, challenge, user)
    give(session, challenge, early[0], start + timedelta(hours=1), minutes=60)  # collective goal reached
    assert run_lifecycle(session).considered == 3  # "started" for everyone enrolled
    assert run_lifecycle(session).considered == 0  # nobody is looked at twice
    assert plan_activity_nudges(session).considered == 3  # goal reached: first look, everyone
    late = quick_user(session, timezone="UTC")
    enrol(session, challenge, late)
    give(session, challenge, early[1], start + timedelta(hours=1, minutes=30))
    assert plan_activity_nudges(session).considered == 1  # only the newcomer hears about the goal
    assert run_lifecycle(session).considered == 1
    for kind in (NudgeKind.CHALLENGE_STARTED, NudgeKind.GOAL_REACHED):
        assert sorted(u for u, _ in nudges(session, kind)) == sorted(u.id for u in [*early, late])


def test_an_activity_deleted_again_does_not_count_as_being_active(session: Session, at: Any) -> None:
    start = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)
    at(start)
    challenge = make_challenge(session, make_org(session), starts_at=start, ends_at=start + timedelta(days=30))
    user = quick_user(session, timezone="UTC")
    enrol(session, challenge, user)
    give(session, challenge, user, start + timedelta(hours=1))
    at(datetime(2026, 6, 5, 12, 0, tzinfo=UTC))
    give(session, challenge, user, datetime(2026, 6, 5, 11, 0, tzinfo=UTC))
    assert ledger.reverse(session, rules_for(challenge), f"test:{next(_keys) - 1}") > 0  # deleted again
    session.commit()
    plan_activity_nudges(session)
    rows = list(session.scalars(select(Nudge).where(Nudge.kind == NudgeKind.INACTIVE)))
    assert [(n.user_id, n.params["days"]) for n in rows] == [(user.id, 4)]


def test_who_withdrew_consent_gets_no_nudges_read_from_their_activity(session: Session, at: Any) -> None:
    from service import consent

    start = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)  # a Monday
    at(start + timedelta(hours=6))
    challenge = make_challenge(session, make_org(session, timezone="Europe/Helsinki"), starts_at=start,
                               ends_at=start + timedelta(days=30), timezone="Europe/Helsinki")
    kept, withdrew = quick_user(session), quick_user(session)
    never = quick_user(session, health_data_consent_at=None, health_data_consent_version=None)  # given elsewhere
    for user in (kept, withdrew, never):
        enrol(session, challenge, user)
        give(session, challenge, user, start + timedelta(hours=5))
    consent.grant(session, withdrew, "2026-05")
    consent.withdraw(session, withdrew)
    session.commit()
    at(datetime(2026, 6, 8, 7, 0, tzinfo=UTC))  # Monday 10:00 Helsinki, a week of quiet days for all three
    plan_activity_nudges(session)
    plan_weekly_summaries(session)
    for kind in (NudgeKind.INACTIVE, NudgeKind.WEEKLY_SUMMARY):
        assert sorted(u for u, _ in nudges(session, kind)) == sorted([kept.id, never.id]), kind
