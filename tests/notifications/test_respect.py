"""Respecting people: quiet hours in each user's zone (also across DST), caps, preferences, locales."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from notifications.dispatch import dispatch_due
from notifications.models import NudgeKind, NudgeStatus
from notifications.preferences import Prefs, in_quiet_hours, next_allowed, update_preferences
from notifications.sender import LogSender
from notifications.templates import language_for, render
from service.clock import zone
from tests.factories import quick_user
from tests.notifications.factories import plan_nudge

ZONES = ["Europe/Amsterdam", "Europe/Helsinki", "America/New_York", "Asia/Tokyo", "Pacific/Auckland", "UTC"]


def test_quiet_hours_move_a_nudge_to_eight_in_the_morning_in_each_users_own_zone(session: Session) -> None:
    at = datetime(2026, 6, 10, 20, 30, tzinfo=UTC)  # 22:30 Amsterdam, 23:30 Helsinki, 16:30 New York
    with time_machine.travel(at, tick=False):
        ams = plan_nudge(session, quick_user(session, timezone="Europe/Amsterdam"), now=at)
        nyc = plan_nudge(session, quick_user(session, timezone="America/New_York"), now=at)
    assert ams.due_at == datetime(2026, 6, 11, 6, 0, tzinfo=UTC)  # 08:00 CEST next morning
    assert nyc.due_at == at  # afternoon in New York: straight away


def test_quiet_hours_follow_the_dst_change_of_the_night(session: Session) -> None:
    spring = datetime(2026, 3, 28, 22, 0, tzinfo=UTC)  # 23:00 CET; clocks go to CEST at 02:00
    autumn = datetime(2026, 10, 24, 21, 0, tzinfo=UTC)  # 23:00 CEST; back to CET at 03:00
    with time_machine.travel(spring, tick=False):
        a = plan_nudge(session, quick_user(session, timezone="Europe/Amsterdam"), now=spring)
    with time_machine.travel(autumn, tick=False):
        b = plan_nudge(session, quick_user(session, timezone="Europe/Amsterdam"), now=autumn)
    assert a.due_at == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)  # 08:00 CEST (UTC+2)
    assert b.due_at == datetime(2026, 10, 25, 7, 0, tzinfo=UTC)  # 08:00 CET (UTC+1)


@given(at=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)),
       tz=st.sampled_from(ZONES), start=st.integers(0, 1439), end=st.integers(0, 1439))
def test_next_allowed_is_never_inside_quiet_hours_never_earlier_and_within_a_day(
        at: datetime, tz: str, start: int, end: int) -> None:
    prefs = Prefs(timezone=tz, quiet_start=start, quiet_end=end)
    due = next_allowed(at, prefs)
    assert at <= due <= at + timedelta(hours=25)
    assert not in_quiet_hours(due.astimezone(zone(tz)), start, end)  # also when the end's wall time is skipped
    if not in_quiet_hours(at.astimezone(zone(tz)), start, end):
        assert due == at


def test_user_adjusted_quiet_hours_are_used(session: Session) -> None:
    user = quick_user(session, timezone="Europe/Helsinki")
    update_preferences(session, user.id, {"quiet_hours": {"start": "12:00", "end": "13:30"}})
    at = datetime(2026, 6, 10, 9, 15, tzinfo=UTC)  # 12:15 Helsinki
    nudge = plan_nudge(session, user, now=at)
    assert nudge.due_at == datetime(2026, 6, 10, 10, 30, tzinfo=UTC)


def test_a_nudge_that_falls_into_quiet_hours_at_dispatch_waits_instead_of_buzzing(session: Session) -> None:
    user = quick_user(session, timezone="Europe/Helsinki")
    nudge = plan_nudge(session, user, now=datetime(2026, 6, 10, 17, 0, tzinfo=UTC))  # 20:00 local
    session.commit()
    with time_machine.travel(datetime(2026, 6, 10, 18, 5, tzinfo=UTC), tick=False):  # dispatcher late: 21:05
        stats = dispatch_due(session, LogSender(), "t")
    session.refresh(nudge)
    assert stats.deferred == 1 and nudge.status == NudgeStatus.PLANNED
    assert nudge.due_at == datetime(2026, 6, 11, 5, 0, tzinfo=UTC)


def test_daily_caps_per_kind_and_in_total_hold_in_the_users_local_day(session: Session) -> None:
    user = quick_user(session, timezone="Asia/Tokyo")
    update_preferences(session, user.id, {"daily_cap": 3})
    noon = datetime(2026, 6, 10, 3, 0, tzinfo=UTC)  # 12:00 Tokyo
    with time_machine.travel(noon, tick=False):
        kinds = [NudgeKind.OVERTAKEN, NudgeKind.OVERTAKEN, NudgeKind.BADGE_EARNED, NudgeKind.MILESTONE,
                 NudgeKind.INACTIVE]
        nudges = [plan_nudge(session, user, kind) for kind in kinds]
        session.commit()
        dispatch_due(session, LogSender(), "t")
    for n in nudges:
        session.refresh(n)
    statuses = [(n.kind, n.status, n.reason) for n in nudges]
    assert statuses == [
        (NudgeKind.OVERTAKEN, NudgeStatus.SENT, "inbox-only"),
        (NudgeKind.OVERTAKEN, NudgeStatus.SKIPPED, "daily-cap"),  # one 'overtaken' a day
        (NudgeKind.BADGE_EARNED, NudgeStatus.SENT, "inbox-only"),
        (NudgeKind.MILESTONE, NudgeStatus.SENT, "inbox-only"),
        (NudgeKind.INACTIVE, NudgeStatus.SKIPPED, "daily-cap"),  # three in total
    ]
    assert all(n.inbox_at is not None for n in nudges)  # capped ones stay readable in the app
    with time_machine.travel(datetime(2026, 6, 10, 23, 30, tzinfo=UTC), tick=False):  # 08:30 next Tokyo day
        again = plan_nudge(session, user, NudgeKind.OVERTAKEN)
        session.commit()
        dispatch_due(session, LogSender(), "t")
    session.refresh(again)
    assert again.status == NudgeStatus.SENT


def test_switched_off_kinds_and_global_opt_out_stop_planning_and_sending(session: Session) -> None:
    user = quick_user(session)
    at = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)
    planned = plan_nudge(session, user, NudgeKind.BADGE_EARNED, now=at)
    update_preferences(session, user.id, {"kinds": [{"kind": "overtaken", "enabled": False}]})
    assert plan_nudge(session, user, NudgeKind.OVERTAKEN, now=at) is None
    update_preferences(session, user.id, {"opted_out": True})
    assert plan_nudge(session, user, NudgeKind.BADGE_EARNED, now=at) is None
    session.commit()
    with time_machine.travel(at, tick=False):
        dispatch_due(session, LogSender(), "t")
    session.refresh(planned)
    assert planned.status == NudgeStatus.SKIPPED and planned.reason == "preference" and planned.inbox_at is None


def test_texts_follow_the_users_locale_with_english_fallback() -> None:
    params = {"challenge": "Stadtlauf", "streak": 5}
    assert render(NudgeKind.STREAK_AT_RISK, "nl-BE", params).title == "Houd je reeks vast"
    assert render(NudgeKind.STREAK_AT_RISK, "fi_FI", params).title == "Pidä putkesi"
    assert render(NudgeKind.STREAK_AT_RISK, "es", params).title == "Mantén tu racha"
    assert render(NudgeKind.STREAK_AT_RISK, "de", params).title == "Keep your streak"
    assert language_for(None) == "en"
    for lang in ("en", "nl", "fi", "es"):
        text = render(NudgeKind.STREAK_AT_RISK, lang, params)
        assert "5" in text.inbox and "5" not in text.push + text.title  # detail in the inbox only


def test_every_kind_has_every_text_in_every_language() -> None:
    from notifications.templates import catalogue, languages

    assert {"en", "nl", "fi", "es"} <= set(languages())
    for lang in languages():
        for kind in NudgeKind:
            assert set(catalogue(lang)[kind.value]) == {"title", "push", "inbox"}, (lang, kind)


@given(keys=st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=12),
       runs=st.integers(1, 3))
def test_planning_any_candidates_any_number_of_times_stores_one_nudge_per_event(
        app: Any, keys: list[str], runs: int) -> None:
    from sqlalchemy import func, select

    from notifications.models import Nudge
    from notifications.planner import Candidate, plan
    from service.db import db
    from tests.conftest import wipe_database

    with app.app_context():
        session = db.session
        user = quick_user(session, timezone="UTC")
        total = 0
        for _ in range(runs):
            total += plan(session, [Candidate(user.id, NudgeKind.MILESTONE, f"prop:{k}") for k in keys],
                          now=datetime(2026, 6, 10, 12, 0, tzinfo=UTC), quiet_hours=False).inserted
        session.commit()
        stored = session.scalar(select(func.count(Nudge.id)))
        db.session.remove()
    wipe_database(app)
    assert stored == total == len(set(keys))
