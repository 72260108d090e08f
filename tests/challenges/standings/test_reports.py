"""Organiser reports: aggregates only, small groups suppressed, no differencing attack on one hidden cell."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from challenges.lifecycle import rules_for
from challenges.models import ChallengeFormat, CheckIn
from challenges.participation.enrolment import active_enrolments, subject_for
from challenges.places.checkins import CheckInProof, check_in
from challenges.places.locations import create_location
from challenges.standings.reports import report
from scoring import ledger
from scoring.types import ActivityFacts, Metric
from service.clock import utcnow
from tests.challenges.conftest import Cast
from tests.challenges.factories import enrol, make_challenge, make_team, midday_soon, walk
from tests.factories import quick_user


@pytest.fixture(autouse=True)
def _midday() -> Any:
    with time_machine.travel(midday_soon()):
        yield


@pytest.fixture(autouse=True)
def _groups_of_five(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """These departments are sized around the smallest minimum a deployment may set (5; the default is 10)."""
    monkeypatch.setitem(app.config, "REPORT_MIN_GROUP_SIZE", 5)


@pytest.fixture
def company(session: Any, cast: Cast) -> SimpleNamespace:
    """Three departments of 6, 5 and 4 people; everyone walks 10 minutes a day for two days."""
    challenge = make_challenge(session, cast.org, format=ChallengeFormat.TEAM)
    sizes = {"Sales": 6, "Finance": 5, "Legal": 4}
    teams = {}
    for name, size in sizes.items():
        team = teams[name] = make_team(session, challenge, cast.organiser, name)
        for i in range(size):
            person = quick_user(session)
            enrol(session, challenge, person, team_code=team.code)
            for day in (0, 1):
                walk(session, person, 10, key=f"{name}{i}d{day}", days_ago=day)
    session.commit()
    return SimpleNamespace(challenge=challenge, teams=teams, url=f"/api/v1/challenges/{challenge.id}/report")


def _by_name(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in rows}


def test_a_group_of_four_is_hidden_and_a_complementary_cell_too(app: Flask, client: FlaskClient, cast: Cast,
                                                                company: SimpleNamespace) -> None:
    resp = client.get(company.url, headers=cast.headers(app, "organiser"))
    assert resp.status_code == 200, resp.json
    body = resp.json
    assert body["totals"] == {"key": "all", "name": "all participants", "participants": 15,
                              "active_participants": 15, "total": 300, "suppressed": False}
    teams = _by_name(body["by_team"])
    assert teams["Legal"] == {"key": company.teams["Legal"].id, "name": "Legal", "participants": None,
                              "active_participants": None, "total": None, "suppressed": True}
    # Legal alone hidden would be total - Sales - Finance: the smallest other department is hidden as well
    assert teams["Finance"]["suppressed"] and teams["Finance"]["total"] is None
    assert teams["Sales"] == {"key": company.teams["Sales"].id, "name": "Sales", "participants": 6,
                              "active_participants": 6, "total": 120, "suppressed": False}
    assert [(d["active_participants"], d["total"]) for d in body["by_day"]] == [(15, 150), (15, 150)]


def test_the_csv_report_is_the_same_suppressed_report_as_one_spreadsheet_table(
        app: Flask, client: FlaskClient, session: Any, cast: Cast, company: SimpleNamespace) -> None:
    import csv
    import io

    company.teams["Sales"].name = "=HYPERLINK(\"http://x\")"  # must stay text in a spreadsheet
    session.commit()
    resp = client.get(f"{company.url}.csv", headers=cast.headers(app, "organiser"))
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert rows[0] == {"section": "all", "key": "all", "name": "all participants", "participants": "15",
                       "active_participants": "15", "total": "300", "suppressed": "false"}
    teams = {r["name"]: r for r in rows if r["section"] == "team"}
    assert teams["Legal"]["total"] == "" and teams["Legal"]["suppressed"] == "true"
    assert teams["Finance"]["suppressed"] == "true"
    assert teams["'=HYPERLINK(\"http://x\")"]["total"] == "120"
    assert [(r["active_participants"], r["total"]) for r in rows if r["section"] == "day"] == [("15", "150")] * 2
    assert client.get(f"{company.url}.csv", headers=cast.headers(app, "member")).status_code == 403
    assert client.get(f"{company.url}.csv?min_group_size=1",
                      headers=cast.headers(app, "organiser")).status_code == 422


def test_no_hidden_cell_can_be_derived_from_the_totals(session: Any, company: SimpleNamespace) -> None:
    body = report(session, company.challenge, min_group_size=5)
    for rows in (body["by_team"], body["by_day"]):
        hidden = [r for r in rows if r["suppressed"]]
        assert len(hidden) != 1


def test_small_active_days_are_suppressed(session: Any, cast: Cast, company: SimpleNamespace) -> None:
    people = [quick_user(session) for _ in range(2)]
    for i, person in enumerate(people):
        enrol(session, company.challenge, person, team_code=company.teams["Sales"].code)
        walk(session, person, 10, key=f"late{i}", days_ago=3)
    session.commit()
    days = report(session, company.challenge, min_group_size=5)["by_day"]
    assert days[0]["suppressed"] and days[0]["total"] is None
    assert sum(1 for d in days if d["suppressed"]) == 2


def test_a_challenge_with_fewer_people_than_the_minimum_shows_nothing(session: Any, cast: Cast) -> None:
    challenge = make_challenge(session, cast.org)
    for i in range(3):
        person = quick_user(session)
        enrol(session, challenge, person)
        walk(session, person, 15, key=f"p{i}")
    session.commit()
    body = report(session, challenge, min_group_size=5)
    assert body["totals"]["suppressed"] and body["totals"]["total"] is None
    assert all(d["suppressed"] for d in body["by_day"])


def test_minimum_group_size_can_be_raised_and_asking_below_the_floor_is_a_422_naming_it(
        app: Flask, client: FlaskClient, cast: Cast, company: SimpleNamespace) -> None:
    headers = cast.headers(app, "admin")
    raised = client.get(f"{company.url}?min_group_size=7", headers=headers).json
    assert raised["min_group_size"] == 7 and all(r["suppressed"] for r in _by_name(raised["by_team"]).values())
    assert client.get(f"{company.url}?min_group_size=5", headers=headers).json["min_group_size"] == 5
    for path in (company.url, f"{company.url}.csv"):
        lowered = client.get(f"{path}?min_group_size=2", headers=headers)
        assert lowered.status_code == 422 and lowered.mimetype == "application/problem+json"
        assert lowered.json["type"].endswith("/min-group-size-below-floor") and lowered.json["floor"] == 5
        assert "at least 5" in lowered.json["detail"]


@pytest.mark.parametrize(("who", "status"), [("admin", 200), ("organiser", 200), ("member", 403),
                                             ("outsider", 403), ("foreign_organiser", 403)])
def test_only_organisers_of_the_challenges_organisation_get_the_report(
        app: Flask, client: FlaskClient, cast: Cast, company: SimpleNamespace, who: str, status: int) -> None:
    assert client.get(company.url, headers=cast.headers(app, who)).status_code == status


def test_organisation_rows_are_reported_per_organisation(session: Any, cast: Cast) -> None:
    from service.accounts import set_membership
    from service.models import Role

    challenge = make_challenge(session, cast.org, format=ChallengeFormat.ORGANISATION)
    for org, size in ((cast.org, 5), (cast.other_org, 2)):
        make_team(session, challenge, cast.organiser, org.name, organisation_id=org.id)
        for i in range(size):
            person = quick_user(session)
            set_membership(session, user=person, organisation=org, role=Role.MEMBER)
            enrol(session, challenge, person)
            walk(session, person, 10, key=f"{org.id}-{i}", days_ago=0)
    session.commit()
    body = report(session, challenge, min_group_size=5)
    rows = _by_name(body["by_organisation"])
    assert rows["Espoo"]["suppressed"]
    assert rows["Tampere"]["suppressed"]  # complementary: the total minus Tampere would reveal Espoo
    assert body["by_team"] == []  # the teams only register the organisations: no second, empty breakdown


@given(st.lists(st.integers(min_value=0, max_value=12), min_size=1, max_size=8), st.integers(min_value=2, max_value=10))
def test_hidden_rows_are_never_alone_nor_together_smaller_than_the_minimum(sizes: list[int], k: int) -> None:
    from challenges.standings.reports import _Group, _row, _suppress

    groups = []
    for n, size in enumerate(sizes):
        group = _Group(n, f"g{n}")
        group.members.update(range(n * 100, n * 100 + size))
        groups.append(group)
    rows = _suppress([_row(g, day_row=False, k=k) for g in groups], k)
    hidden = [sizes[i] for i, r in enumerate(rows) if r["suppressed"]]
    shown = [r for r in rows if not r["suppressed"]]
    assert all(r["participants"] == 0 or r["participants"] >= k for r in shown)
    if hidden and shown:
        assert len(hidden) >= 2 and sum(hidden) >= k
    for r in rows:
        assert r["suppressed"] == (r["total"] is None)


def test_the_report_breaks_points_down_by_activity_type_and_hides_rare_ones(session: Any, cast: Cast,
                                                                           company: SimpleNamespace) -> None:
    people = [quick_user(session) for _ in range(7)]
    at = utcnow() - timedelta(hours=3)
    for i, person in enumerate(people):
        enrol(session, company.challenge, person, team_code=company.teams["Sales"].code)
        for challenge, enrolment in active_enrolments(session, person.id, at):
            kind = "cycling" if i < 5 else "running"  # five cyclists, two runners
            ledger.score(session, rules_for(challenge), subject_for(challenge, enrolment), f"{kind}{i}",
                         ActivityFacts(type_code=kind, started_at=at, duration_s=20 * 60))
    session.commit()
    rows = {r["key"]: r for r in report(session, company.challenge, min_group_size=5)["by_type"]}
    assert rows["walking_brisk"]["participants"] == 15 and rows["walking_brisk"]["total"] == 300
    assert rows["cycling"]["suppressed"] and rows["running"]["suppressed"]  # 2 runners, then the next smallest
    assert sum(r["total"] for r in rows.values() if not r["suppressed"]) == 300
    assert rows["walking_brisk"]["name"] == "Walking, 3.5-3.9 mph, level, brisk"


def test_the_report_counts_visitors_and_check_ins_per_location(session: Any, cast: Cast) -> None:
    challenge = make_challenge(session, cast.org, metric=Metric.CHECKINS)
    spots = {name: create_location(session, challenge, {"name": name, "lat": 61.5 + i / 100, "lon": 23.7})
             for i, name in enumerate(("Pier gym", "Hill stairs", "Quiet corner", "Unused bench"))}
    visitors = {"Pier gym": 6, "Hill stairs": 5, "Quiet corner": 2}
    now = utcnow()
    people = [quick_user(session) for _ in range(6)]
    for person in people:
        enrol(session, challenge, person)
    for name, count in visitors.items():
        spot = spots[name]
        for person in people[:count]:
            for days_ago in ((1, 0) if name == "Pier gym" else (0,)):  # the pier's people came twice
                check_in(session, challenge, person, spot.id, CheckInProof(lat=spot.lat, lon=spot.lon),
                         now=now - timedelta(days=days_ago, hours=1), app_secret="s")
    session.commit()
    assert session.scalar(select(func.count()).select_from(CheckIn)) == 6 * 2 + 5 + 2
    rows = {r["name"]: r for r in report(session, challenge, min_group_size=5)["by_location"]}
    assert list(rows) == ["Pier gym", "Hill stairs", "Quiet corner", "Unused bench"]
    assert rows["Pier gym"] == {"key": spots["Pier gym"].id, "name": "Pier gym", "participants": 6,
                                "active_participants": 6, "total": 12, "suppressed": False}
    assert rows["Quiet corner"]["suppressed"] and rows["Quiet corner"]["total"] is None
    # complementary cells, smallest first, until the hidden ones hold at least 5 people together
    assert rows["Unused bench"]["suppressed"] and rows["Hill stairs"]["suppressed"]
    shown = report(session, challenge, min_group_size=2)["by_location"]
    assert [(r["name"], r["participants"], r["total"]) for r in shown] == [
        ("Pier gym", 6, 12), ("Hill stairs", 5, 5), ("Quiet corner", 2, 2), ("Unused bench", 0, 0)]
