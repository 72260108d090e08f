"""The visibility policy (challenges.privacy) over every read endpoint of a challenge, for every kind of viewer, in a
workplace and in a public-space challenge: no individual figure reaches an employer, nobody signed out sees a
name, and no group below the minimum reaches an organiser, not even as the difference of two answers."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta
from fractions import Fraction
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st

from challenges.models import ChallengeFormat, Setting
from challenges.privacy import GroupSizes, short_name, suppress_groups
from service.clock import utcnow
from tests.challenges.conftest import Cast
from tests.challenges.factories import enrol, make_challenge, make_team, midday_soon, walk
from tests.factories import auth_headers, quick_user

SIZES = {"Alpha": 12, "Beta": 11, "Gamma": 3, "Delta": 10}
"""Gamma is below the minimum of 10; Delta, the smallest other department, must be hidden with it."""
VIEWERS = ("signed_out", "other", "person", "organiser", "admin")


@pytest.fixture(autouse=True)
def _midday() -> Any:
    with time_machine.travel(midday_soon()):
        yield


def _company(session: Any, cast: Cast, setting: Setting) -> SimpleNamespace:
    challenge = make_challenge(session, cast.org, format=ChallengeFormat.TEAM, setting=setting)
    teams, people, minutes = {}, {}, {}
    for t, (name, size) in enumerate(SIZES.items()):
        team = teams[name] = make_team(session, challenge, cast.organiser, name)
        for i in range(size):
            extra: dict[str, Any] = {}
            if name == "Alpha" and i == 0:
                extra = {"display_name": "Pat Person"}
            elif name == "Alpha" and i == 1:
                extra = {"display_name": "Quinn Quiet", "hide_from_leaderboards": True}
            elif name == "Alpha" and i == 2:
                extra = {"display_name": "Rae Real", "show_full_name": True}
            elif name == "Beta" and i == 0:
                extra = {"display_name": "Sam Stride", "alias": "Stepper"}
            else:
                extra = {"display_name": f"Worker{t}x{i} Lastname{t}x{i}"}
            person = quick_user(session, **extra)
            people[person.id] = person
            enrol(session, challenge, person, team_code=team.code)
            minutes[person.id] = 10 + 3 * i + 7 * t
            walk(session, person, minutes[person.id], key=f"{name}{i}")
            walk(session, person, 5 + i, key=f"{name}{i}y", days_ago=1)
    session.commit()
    by_name = {p.display_name: p for p in people.values()}
    return SimpleNamespace(challenge=challenge, teams=teams, people=people, pat=by_name["Pat Person"],
                           other=by_name["Sam Stride"], quinn=by_name["Quinn Quiet"], rae=by_name["Rae Real"],
                           url=f"/api/v1/challenges/{challenge.id}")


def _names_of_people(world: SimpleNamespace) -> set[str]:
    """Everything that names a person: full names, first name + initial, first and last names alone."""
    out: set[str] = set()
    for p in world.people.values():
        out |= {p.display_name, short_name(p.display_name), *p.display_name.split()}
    return out


def _headers(app: Flask, cast: Cast, world: SimpleNamespace, viewer: str) -> dict[str, str]:
    who = {"other": world.other, "person": world.pat, "organiser": cast.organiser, "admin": cast.admin}.get(viewer)
    return auth_headers(app, who) if who is not None else {}


def _reads(world: SimpleNamespace) -> dict[str, str]:
    """Every read endpoint of a challenge that can say something about people, by a short name."""
    alpha, gamma = world.teams["Alpha"].id, world.teams["Gamma"].id
    reads = {"challenge": "", "progress": "/progress", "report": "/report", "report.csv": "/report.csv",
             "review": "/review-queue", "teams": "/teams", "team": f"/teams/{alpha}",
             "roster": f"/teams/{alpha}/members", "small roster": f"/teams/{gamma}/members"}
    for scope in ("user", "team", "organisation"):
        for period in ("all", "day", "week"):
            reads[f"{scope} {period}"] = f"/leaderboards?scope={scope}&period={period}&limit=100"
        reads[f"{scope} around"] = f"/leaderboards?scope={scope}&around=me"
    return reads


def _figures_of_people(body: Any) -> list[Any]:
    """Rows in an answer that pair a person with a number."""
    found = []
    if isinstance(body, dict):
        if body.get("rows") is not None and body.get("scope") == "user":
            found += body["rows"]
        for item in body.get("items") or []:
            if isinstance(item, dict) and item.get("points") is not None and "joined_at" in item:
                found.append(item)
    return found


@pytest.mark.parametrize("setting", [Setting.WORK, Setting.PUBLIC_SPACE])
def test_every_read_endpoint_follows_the_policy_for_every_viewer(app: Flask, client: FlaskClient, session: Any,
                                                                 cast: Cast, setting: Setting) -> None:
    world = _company(session, cast, setting)
    flagged = client.post("/api/v1/activities", headers=auth_headers(app, world.pat), json={
        "type": "cycling", "started_at": (utcnow() - timedelta(hours=3)).isoformat(), "duration_s": 3600,
        "distance_m": 80_000, "external_id": "pat-person-commute.gpx"})
    assert flagged.status_code == 201, flagged.json
    names = _names_of_people(world)
    employer = setting is Setting.WORK
    for viewer in VIEWERS:
        headers = _headers(app, cast, world, viewer)
        for what, path in _reads(world).items():
            resp = client.get(world.url + path, headers=headers)
            assert resp.status_code < 500, (viewer, what, resp.status_code)
            text = resp.get_data(as_text=True)
            if viewer == "signed_out":
                assert not any(name in text for name in names), (what, text[:300])
                if employer and what not in ("challenge",):
                    assert resp.status_code in (401, 403), (what, resp.status_code)
            if viewer in ("organiser", "admin") and employer and resp.status_code == 200:
                assert _figures_of_people(resp.json if resp.is_json else None) == [], (viewer, what)
                assert "Pat Person" not in text or what in ("roster",), (viewer, what)
                assert "pat-person-commute" not in text, (viewer, what)
            if what.startswith("user ") and viewer in ("organiser", "admin"):
                assert resp.status_code == (403 if employer else 200), (viewer, what)
            if what.startswith("user ") and not what.endswith("around") and viewer in ("other", "person"):
                assert resp.status_code == 200, (viewer, what, resp.json)
                shown = {r["name"] for r in resp.json["rows"]}
                assert "Pat P." in shown and "Rae Real" in shown and "Stepper" in shown, (viewer, what)
                assert "Pat Person" not in shown and "Quinn Quiet" not in shown and "Sam Stride" not in shown
            if what == "review" and viewer in ("organiser", "admin"):
                [item] = resp.json["items"]
                assert (item["user_id"] is None) == employer
                assert item["display_name"].startswith("Participant #") == employer


@pytest.mark.parametrize("setting", [Setting.WORK, Setting.PUBLIC_SPACE])
def test_signed_out_readers_of_a_public_board_see_aliases_and_no_account_ids(
        app: Flask, client: FlaskClient, session: Any, cast: Cast, setting: Setting) -> None:
    world = _company(session, cast, setting)
    resp = client.get(f"{world.url}/leaderboards?scope=user&limit=100")
    if setting is Setting.WORK:
        assert resp.status_code == 401 and resp.json["type"].endswith("boards-for-participants")
        return
    rows = resp.json["rows"]
    assert len(rows) == sum(SIZES.values()) and {r["id"] for r in rows} == {None}
    assert "Stepper" in {r["name"] for r in rows}
    assert all(r["name"] == "Stepper" or r["name"].startswith("Participant #") for r in rows)


def _shown_teams(client: FlaskClient, url: str, headers: dict[str, str], period: str) -> dict[int, int]:
    body = client.get(f"{url}/leaderboards?scope=team&period={period}", headers=headers).json
    return {r["id"]: r["points"] for r in body["rows"]}


def test_an_employer_sees_the_same_departments_on_every_board_period_and_report_and_no_difference_reveals_one(
        app: Flask, client: FlaskClient, session: Any, cast: Cast) -> None:
    world = _company(session, cast, Setting.WORK)
    hr = _headers(app, cast, world, "organiser")
    report = client.get(f"{world.url}/report", headers=hr).json
    hidden = {r["key"] for r in report["by_team"] if r["suppressed"]}
    gamma, delta = world.teams["Gamma"].id, world.teams["Delta"].id
    assert hidden == {gamma, delta}
    true_gamma = {period: client.get(f"{world.url}/leaderboards?scope=team&period={period}",
                                     headers=_headers(app, cast, world, "person")).json for period in ("all", "day")}
    for period in ("all", "day", "week"):
        shown = _shown_teams(client, world.url, hr, period)
        assert set(shown) == {world.teams[n].id for n in ("Alpha", "Beta")}, period
        board = client.get(f"{world.url}/leaderboards?scope=team&period={period}", headers=hr).json
        assert board["hidden_groups"] == 2 and board["min_group_size"] == 10
        assert [r["rank"] for r in board["rows"]] == [1, 2]
    everyone = report["totals"]["total"]
    rest = everyone - sum(_shown_teams(client, world.url, hr, "all").values())
    gamma_all = next(r["points"] for r in true_gamma["all"]["rows"] if r["id"] == gamma)
    assert rest != gamma_all and rest == sum(
        r["points"] for r in true_gamma["all"]["rows"] if r["id"] in (gamma, delta))
    csv_rows = list(csv.DictReader(io.StringIO(client.get(f"{world.url}/report.csv", headers=hr).get_data(
        as_text=True))))
    assert {int(r["key"]) for r in csv_rows if r["section"] == "team" and r["suppressed"] == "true"} == hidden


def test_an_employers_roster_shows_who_is_in_a_team_without_anyones_figures(app: Flask, client: FlaskClient,
                                                                           session: Any, cast: Cast) -> None:
    world = _company(session, cast, Setting.WORK)
    alpha = world.teams["Alpha"].id
    items = client.get(f"{world.url}/teams/{alpha}/members?limit=50",
                       headers=_headers(app, cast, world, "organiser")).json["items"]
    assert len(items) == SIZES["Alpha"] and {i["points"] for i in items} == {None}
    assert "Pat Person" in {i["name"] for i in items}
    mates = client.get(f"{world.url}/teams/{alpha}/members?limit=50",
                       headers=_headers(app, cast, world, "person")).json["items"]
    by_name = {i["name"]: i for i in mates}
    assert by_name["Pat Person"]["is_me"] and "Rae Real" in by_name and "Quinn Quiet" not in by_name
    assert any(n.startswith("Participant #") for n in by_name) and any(n.endswith(" L.") for n in by_name)
    assert all(i["points"] is not None for i in mates)
    assert client.get(f"{world.url}/teams/{alpha}/members", headers=_headers(app, cast, world, "other")
                      ).status_code == 403


def test_individual_boards_can_be_switched_off_and_once_running_only_tightened(
        app: Flask, client: FlaskClient, session: Any, cast: Cast) -> None:
    world = _company(session, cast, Setting.PUBLIC_SPACE)
    org = _headers(app, cast, world, "organiser")
    assert client.get(world.url).json["board_visibility"] == "public"
    assert client.patch(world.url, json={"board_visibility": "none"}, headers=org).status_code == 200
    off = client.get(f"{world.url}/leaderboards?scope=user", headers=_headers(app, cast, world, "person"))
    assert off.status_code == 403 and off.json["type"].endswith("individual-boards-off")
    teams = client.get(f"{world.url}/leaderboards?scope=team", headers=_headers(app, cast, world, "person"))
    assert teams.status_code == 200 and {r["name"] for r in teams.json["rows"]} == set(SIZES)
    assert client.get(f"{world.url}/leaderboards?scope=team").status_code == 401  # signed out: boards not public
    again = client.patch(world.url, json={"board_visibility": "public"}, headers=org)
    assert again.status_code == 409 and again.json["type"].endswith("board-visibility-locked")
    assert client.get(world.url).status_code == 200 and client.get(world.url).json["board_visibility"] == "none"


def test_a_request_may_raise_the_minimum_group_but_asking_for_less_says_so(app: Flask, client: FlaskClient,
                                                                         session: Any, cast: Cast) -> None:
    world = _company(session, cast, Setting.WORK)
    hr = _headers(app, cast, world, "organiser")
    low = client.get(f"{world.url}/report?min_group_size=5", headers=hr)
    assert low.status_code == 422 and "at least 10" in low.json["detail"]
    high = client.get(f"{world.url}/report?min_group_size=12", headers=hr).json
    assert [r["name"] for r in high["by_team"] if not r["suppressed"]] == ["Alpha"] or all(
        r["suppressed"] for r in high["by_team"])


def test_a_deployment_cannot_set_a_minimum_group_below_five(tmp_path: Any) -> None:
    from service.config import load_settings

    with pytest.raises(RuntimeError, match="REPORT_MIN_GROUP_SIZE must be 5 or more"):
        load_settings({"VCC_INSTANCE_PATH": str(tmp_path), "REPORT_MIN_GROUP_SIZE": "4"})
    assert load_settings({"VCC_INSTANCE_PATH": str(tmp_path), "REPORT_MIN_GROUP_SIZE": "5"}).tunables[
        "REPORT_MIN_GROUP_SIZE"] == 5


def test_people_appear_by_alias_or_first_name_and_initial_unless_they_opt_in(app: Flask, client: FlaskClient,
                                                                           session: Any, cast: Cast) -> None:
    world = _company(session, cast, Setting.PUBLIC_SPACE)
    mine = _headers(app, cast, world, "person")
    assert client.patch("/api/v1/me", json={"alias": "  Pathfinder "}, headers=mine).json["alias"] == "Pathfinder"
    rows = client.get(f"{world.url}/leaderboards?scope=user&limit=100", headers=_headers(app, cast, world, "other")
                      ).json["rows"]
    assert "Pathfinder" in {r["name"] for r in rows} and "Pat P." not in {r["name"] for r in rows}
    assert client.patch("/api/v1/me", json={"show_full_name": True}, headers=mine).status_code == 200
    rows = client.get(f"{world.url}/leaderboards?scope=user&limit=100", headers=_headers(app, cast, world, "other")
                      ).json["rows"]
    assert "Pat Person" in {r["name"] for r in rows}
    signed_out = {r["name"] for r in client.get(f"{world.url}/leaderboards?scope=user&limit=100").json["rows"]}
    assert "Pat Person" not in signed_out and "Pathfinder" in signed_out
    too_long = client.patch("/api/v1/me", json={"alias": "x" * 41}, headers=mine)
    assert too_long.status_code == 422 and "alias" in too_long.json["errors"]


# complementary suppression as linear algebra: what an attacker can compute is the span of what is published
def _in_span(rows: list[list[Fraction]], target: list[Fraction]) -> bool:
    def rank(m: list[list[Fraction]]) -> int:
        m = [r[:] for r in m]
        r = 0
        for c in range(len(target)):
            pivot = next((i for i in range(r, len(m)) if m[i][c] != 0), None)
            if pivot is None:
                continue
            m[r], m[pivot] = m[pivot], m[r]
            for i in range(len(m)):
                if i != r and m[i][c] != 0:
                    f = m[i][c] / m[r][c]
                    m[i] = [a - f * b for a, b in zip(m[i], m[r], strict=True)]
            r += 1
        return r
    return rank([*rows, target]) == rank(rows)


sizes_st = st.lists(st.tuples(st.integers(0, 14), st.integers(0, 3)), min_size=1, max_size=8)


@given(sizes_st, st.integers(5, 10))
def test_no_hidden_group_can_be_computed_from_what_organisers_are_shown(cells: list[tuple[int, int]], k: int) -> None:
    """Teams (with the organisation each stands under) and organisations: every published total is a vector over
    the teams; no hidden team, and no hidden set smaller than k people, lies in their span."""
    teams = {i: n for i, (n, _) in enumerate(cells)}
    parent = {i: o for i, (_, o) in enumerate(cells)}
    orgs: dict[Any, int] = {}
    for i, n in teams.items():
        orgs[parent[i]] = orgs.get(parent[i], 0) + n
    hidden_t, hidden_o = suppress_groups(GroupSizes(teams=teams, team_parent=parent, orgs=orgs), k)
    assert all(t in hidden_t for t, n in teams.items() if 0 < n < k)
    if sum(teams.values()) < k:
        return  # the report hides everything then; nothing below is published
    one: Callable[[Callable[[int], bool]], list[Fraction]] = lambda pick: [  # noqa: E731
        Fraction(1 if pick(i) else 0) for i in range(len(cells))]
    published = [one(lambda i: True)]
    published += [one(lambda i, t=t: i == t) for t in teams if t not in hidden_t]
    published += [one(lambda i, o=o: parent[i] == o) for o in orgs if o not in hidden_o]
    for t, n in teams.items():
        if t in hidden_t and n > 0:
            assert not _in_span(published, one(lambda i, t=t: i == t)), (cells, k, hidden_t, hidden_o)
    for o, n in orgs.items():
        if o in hidden_o and 0 < n < k:
            assert not _in_span(published, one(lambda i, o=o: parent[i] == o)), (cells, k, hidden_t, hidden_o)


def test_an_organiser_in_a_small_department_reads_no_team_total_off_progress(app: Flask, client: FlaskClient,
                                                                             session: Any, cast: Cast) -> None:
    world = _company(session, cast, Setting.WORK)
    enrol(session, world.challenge, cast.organiser, team_code=world.teams["Gamma"].code)
    walk(session, cast.organiser, 15, key="hr-walk")
    session.commit()
    mine = client.get(f"{world.url}/progress", headers=_headers(app, cast, world, "organiser")).json
    assert mine["points"]["all"] == 15 and mine["goal"]["value"] is None
    colleague = next(p for p in world.people.values() if p.id in _members(session, world, "Gamma"))
    theirs = client.get(f"{world.url}/progress", headers=auth_headers(app, colleague)).json
    assert theirs["goal"]["value"] > 15  # a participant sees their team's total as ever


def test_a_group_whose_scorers_left_and_were_erased_still_counts_them(app: Flask, client: FlaskClient,
                                                                      session: Any, cast: Cast) -> None:
    from challenges.privacy import group_sizes

    world = _company(session, cast, Setting.WORK)
    gamma = world.teams["Gamma"].id
    for user_id in _members(session, world, "Gamma"):
        assert client.delete(f"{world.url}/enrolment", headers=auth_headers(app, world.people[user_id])
                             ).status_code == 200
        assert client.delete("/api/v1/me", headers=auth_headers(app, world.people[user_id])).status_code in (200, 204)
    sizes = group_sizes(session, world.challenge)
    assert sizes.teams[gamma] >= 1
    shown = _shown_teams(client, world.url, _headers(app, cast, world, "organiser"), "all")
    assert gamma not in shown


def _members(session: Any, world: SimpleNamespace, team: str) -> list[int]:
    from sqlalchemy import select

    from challenges.models import Enrolment

    return list(session.scalars(select(Enrolment.user_id).where(Enrolment.team_id == world.teams[team].id)))


def test_an_employer_reads_no_collective_total_of_a_challenge_smaller_than_the_minimum(
        app: Flask, client: FlaskClient, session: Any, cast: Cast) -> None:
    small = make_challenge(session, cast.org, format=ChallengeFormat.INDIVIDUAL, setting=Setting.WORK)
    people = [quick_user(session) for _ in range(3)]
    for n, person in enumerate(people):
        enrol(session, small, person)
        walk(session, person, 10 + n, key=f"small{n}")
    session.commit()
    url = f"/api/v1/challenges/{small.id}/progress"
    assert client.get(url, headers=cast.headers(app, "organiser")).json["collective"]["value"] is None
    assert client.get(url, headers=auth_headers(app, people[0])).json["collective"]["value"] == 10 + 11 + 12
