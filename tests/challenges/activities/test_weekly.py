"""My weeks against the WHO 150 minutes: every accepted activity once, in my time zone, vigorous minutes twice."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from tests.challenges.activity_helpers import iso, make_world, post

NOW = datetime(2026, 6, 17, 9, 0, tzinfo=UTC)  # Wednesday, 12:00 in Helsinki


@pytest.fixture(autouse=True)
def _wednesday() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


def at(day: int, hour: int, minute: int = 0) -> str:
    return iso(datetime(2026, 6, day, hour, minute, tzinfo=UTC))


def test_weeks_count_moderate_and_doubled_vigorous_minutes_steps_and_distance(app: Flask, client: FlaskClient,
                                                                               session: Any) -> None:
    w = make_world(app, session)
    pat = w.users[0]
    for body in [
        {"type": "walking", "started_at": at(16, 7), "duration_s": 40 * 60},                      # moderate 40
        {"type": "running", "started_at": at(16, 15), "duration_s": 30 * 60, "distance_m": 6000},  # vigorous 30
        {"type": "walking", "started_at": at(14, 21, 30), "duration_s": 20 * 60},  # Mon 00:30 in Helsinki
        {"type": "yoga", "started_at": at(16, 17), "duration_s": 60 * 60},                         # light: 0
        {"type": "walking", "kind": "steps", "source": "wearable", "external_id": "s-1", "started_at": at(16, 12),
         "duration_s": 3600, "steps": 5000},
        {"type": "walking", "started_at": at(10, 7), "duration_s": 160 * 60},                     # last week
        {"type": "walking", "started_at": at(14, 20), "duration_s": 30 * 60},  # Sun 23:00 in Helsinki: last week
    ]:
        assert post(client, w, pat, body).status_code == 201, body
    flagged = post(client, w, pat, {"type": "cycling", "started_at": at(16, 5), "duration_s": 3600,
                                    "distance_m": 80_000}).json
    assert flagged["status"] == "flagged"
    gone = post(client, w, pat, {"type": "walking", "started_at": at(16, 19), "duration_s": 30 * 60}).json
    assert client.delete(f"/api/v1/activities/{gone['id']}", headers=w.h(pat)).status_code == 204

    resp = client.get("/api/v1/me/weeks?weeks=3", headers=w.h(pat))
    assert resp.status_code == 200, resp.json
    body = resp.json
    assert body["timezone"] == "Europe/Helsinki" and body["weekly_goal_minutes"] == 150
    this, last, before = body["weeks"]
    assert this == {"week": "2026-W25", "starts_on": "2026-06-15", "active_minutes": 120.0,
                    "moderate_minutes": 60.0, "vigorous_minutes": 30.0, "steps": 5000, "distance_m": 6000.0,
                    "sessions": 4, "goal_met": False}
    assert (last["week"], last["active_minutes"], last["sessions"], last["goal_met"]) == ("2026-W24", 190.0, 2, True)
    assert before["starts_on"] == date(2026, 6, 1).isoformat() and before["sessions"] == 0
    assert before["goal_met"] is False


def test_weeks_need_a_sign_in_and_a_sane_count(app: Flask, client: FlaskClient, session: Any) -> None:
    w = make_world(app, session)
    assert client.get("/api/v1/me/weeks").status_code == 401
    assert client.get("/api/v1/me/weeks?weeks=0", headers=w.h(w.users[0])).status_code == 422
    assert client.get("/api/v1/me/weeks?weeks=54", headers=w.h(w.users[0])).status_code == 422
    assert len(client.get("/api/v1/me/weeks", headers=w.h(w.users[0])).json["weeks"]) == 8


def test_every_minute_lands_in_exactly_one_week_whatever_the_time_zone(session: Any) -> None:
    """Property: for any set of accepted sessions and any zone, the weeks' active minutes add up to the sum of
    the activities' own (WHO-weighted) minutes that started since the first week began, and none is counted
    in a week it did not start in (local calendar)."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from challenges.activities.models import Activity, ActivityKind, ActivitySource, ActivityStatus
    from challenges.activities.weekly import weekly_summary
    from scoring import rules
    from scoring.periods import week_start
    from scoring.types import ActivityFacts, Metric, ScoringRules
    from tests.factories import quick_user

    activities = st.lists(st.tuples(st.integers(min_value=-60 * 24 * 30, max_value=0),  # minutes before now
                                    st.sampled_from(["walking", "running", "cycling", "yoga", "swimming_slow"]),
                                    st.integers(min_value=60, max_value=3 * 3600)), max_size=12)

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(zone=st.sampled_from(["Europe/Helsinki", "America/Los_Angeles", "Asia/Kolkata", "UTC"]), acts=activities)
    def check(zone: str, acts: list[tuple[int, str, int]]) -> None:
        user = quick_user(session, timezone=zone)
        for i, (offset, code, seconds) in enumerate(acts):
            start = NOW + timedelta(minutes=offset) - timedelta(seconds=seconds)
            session.add(Activity(user_id=user.id, type_code=code, kind=ActivityKind.SESSION, started_at=start,
                                 ended_at=start + timedelta(seconds=seconds), duration_s=seconds,
                                 source=ActivitySource.MANUAL, external_id=f"p{i}", fingerprint=f"f{i}",
                                 richness=0, status=ActivityStatus.ACCEPTED))
        session.flush()
        body = weekly_summary(session, user, weeks=6, now=NOW)
        local = ZoneInfo(zone)
        first = week_start(NOW.astimezone(local).date()) - timedelta(weeks=5)
        who = ScoringRules(contest_id=0, metric=Metric.ACTIVE_MINUTES, timezone=zone, vigorous_counts_double=True)
        expected: dict[str, float] = {}
        for offset, code, seconds in acts:
            start = NOW + timedelta(minutes=offset) - timedelta(seconds=seconds)
            monday = week_start(start.astimezone(local).date())
            if monday < first:
                continue
            value, _ = rules.explain(who, ActivityFacts(type_code=code, started_at=start, duration_s=seconds))
            key = f"{monday.isocalendar()[0]}-W{monday.isocalendar()[1]:02d}"
            expected[key] = expected.get(key, 0.0) + value
        got = {w["week"]: w["active_minutes"] for w in body["weeks"] if w["active_minutes"]}
        assert got.keys() == {k for k, v in expected.items() if round(v, 1)}
        for key, value in got.items():
            assert abs(value - expected[key]) < 0.11
        assert sum(w["sessions"] for w in body["weeks"]) == sum(
            1 for offset, _, seconds in acts
            if week_start((NOW + timedelta(minutes=offset) - timedelta(seconds=seconds)).astimezone(local).date())
            >= first)
        session.rollback()

    check()
