"""`vcc create-admin` and `vcc seed-demo` through Flask's CLI runner, on the test database.

The seeded demo is also used to drive the organiser dashboard's own JavaScript (Node, minimal fake
DOM, ``js/dashboard_driver.js``) against the app over HTTP: seeding is the slow part, so it is done once.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from challenges.demo import HR_EMAIL
from service.cli import create_admin, seed_demo
from service.demo import DEMO_CITY_SLUG, DEMO_ORGANISER_EMAIL, DEMO_PASSWORD
from service.models import Membership, Organisation, Role, User


def test_create_admin_makes_a_superuser_who_can_log_in(app: Flask, session: Any) -> None:
    result = app.test_cli_runner().invoke(create_admin, ["--email", "Root@Example.org", "--password",
                                                         "admin-password", "--name", "Root"])
    assert result.exit_code == 0, result.output
    assert "root@example.org" in result.output
    user = session.scalar(select(User).where(User.email == "root@example.org"))
    assert user.is_superuser and user.display_name == "Root"
    resp = app.test_client().post("/api/v1/auth/token", json={"grant_type": "password",
                                                               "email": "root@example.org",
                                                               "password": "admin-password"})
    assert resp.status_code == 200


def test_create_admin_promotes_an_existing_user_and_refuses_weak_passwords(app: Flask, session: Any) -> None:
    runner = app.test_cli_runner()
    weak = runner.invoke(create_admin, ["--email", "x@example.org", "--password", "short"])
    assert weak.exit_code == 1 and "at least 8 characters" in weak.output
    assert session.scalar(select(func.count()).select_from(User)) == 0
    for _ in range(2):
        assert runner.invoke(create_admin, ["--email", "x@example.org", "--password", "long password"]
                             ).exit_code == 0
    assert session.scalar(select(func.count()).select_from(User)) == 1


NODE = shutil.which("node")
DRIVER = Path(__file__).parent / "js" / "dashboard_driver.js"
APP_JS = Path(__file__).resolve().parents[2] / "service" / "static" / "dashboard" / "app.js"


def test_seed_demo_creates_a_city_whose_organiser_can_log_in(app: Flask, session: Any, live_url: str) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(seed_demo, [])
    assert result.exit_code == 0, result.output
    assert DEMO_ORGANISER_EMAIL in result.output and DEMO_PASSWORD in result.output
    city = session.scalar(select(Organisation).where(Organisation.slug == DEMO_CITY_SLUG))
    organiser = session.scalar(select(User).where(User.email == DEMO_ORGANISER_EMAIL))
    role = session.scalar(select(Membership.role).where(Membership.organisation_id == city.id,
                                                        Membership.user_id == organiser.id))
    assert role in (Role.ORGANISER, Role.ADMIN)
    client = app.test_client()
    tokens = client.post("/api/v1/auth/token", json={"grant_type": "password", "email": DEMO_ORGANISER_EMAIL,
                                                     "password": DEMO_PASSWORD})
    assert tokens.status_code == 200
    orgs = client.get("/api/v1/organisations",
                      headers={"Authorization": f"Bearer {tokens.get_json()['access_token']}"}).get_json()
    assert [o["slug"] for o in orgs["items"]] == [DEMO_CITY_SLUG]

    again = runner.invoke(seed_demo, ["--if-empty"])
    assert again.exit_code == 0 and "nothing to do" in again.output
    assert session.scalar(select(func.count()).select_from(Organisation).where(
        Organisation.slug == DEMO_CITY_SLUG)) == 1

    if NODE is None:
        pytest.skip("Node.js is not installed: the dashboard script part of this test needs it")
    check_dashboard(live_url)


def check_dashboard(live_url: str) -> None:
    """Sign in (a wrong password shows the API's message), list organisations, challenges, a challenge's
    standings and report (and its CSV), approve a flagged ride, sign out."""
    run = subprocess.run([str(NODE), str(DRIVER), str(APP_JS), live_url, DEMO_ORGANISER_EMAIL, DEMO_PASSWORD],
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    assert summary["loginVisibleAtStart"] is True
    assert "email or password is wrong" in summary["wrongPasswordMessage"]
    assert DEMO_ORGANISER_EMAIL in summary["who"]
    assert any("Demo City" in org for org in summary["orgs"])
    assert summary["challenges"], "the organisation's challenges are listed (or an empty-state line)"
    if "challengeTitle" in summary:
        for panel in ("standings", "report"):
            assert "Could not load" not in summary[panel], summary[panel]
        assert summary["reportTables"] >= 1
        assert summary["standingsRows"] >= 3  # the cycling month's board of organisations (header + cities)
        assert summary["csvName"].endswith("-report.csv")  # the Download CSV button saved the report
        assert summary["reviewBefore"] >= 1  # the demo's implausible rides await review in the cycling month
        assert summary["reviewAfter"] == summary["reviewBefore"] - 1  # approving one takes it off the queue
        assert summary["csvHeader"] == "section,key,name,participants,active_participants,total,suppressed"
    assert summary["rosterRows"] >= 2  # a city's roster in the cycling month: a header row and its cyclists
    assert "points" in summary["rosterText"] and "newCodeMessage" not in summary  # cities have no join code
    assert "streak badge are not valid (length:" in summary["badgeRefused"]  # the API's reason, shown
    assert summary["badgeAdded"] == "Badge Hundred kilometres added: 100 points in the challenge."
    assert summary["badgeListed"].startswith("Hundred kilometres: 100 points in the challenge")
    assert summary["badgeDeleted"] == "Badge Hundred kilometres deleted."
    assert "Copied as a draft starting" in summary["copyMessage"]  # "Run again next year" made a draft copy
    assert summary["copyListed"] and "draft" in summary["copyListed"]
    assert summary["afterDelete"] == "Draft deleted."
    assert summary["codeSvg"] == "<svg" and summary["codeTitle"]  # a park's rotating check-in code, shown
    assert summary["codeClosed"] is True
    assert summary["loginVisibleAfterLogout"] is True and summary["tokensAfterLogout"] == 0
    hr = subprocess.run([str(NODE), str(DRIVER), str(APP_JS), live_url, HR_EMAIL, DEMO_PASSWORD],
                        capture_output=True, text=True, timeout=60, check=False)
    assert hr.returncode == 0, hr.stdout + hr.stderr
    acme = json.loads(hr.stdout.strip().splitlines()[-1])
    assert "step" in acme["challengeTitle"].lower()  # Acme's department challenge
    assert acme["rosterRows"] >= 2 and "points" in acme["rosterText"]  # a department's people with points
    assert "has a new code" in acme["newCodeMessage"] and "no longer works" in acme["newCodeMessage"]
