"""The join page in a real browser: headless Debian Chromium opens an invitation link signed out, signs up
with the consent step and lands in the team. Only the system's chromium and chromedriver are used (Selenium
Manager is kept offline, so nothing is downloaded); where they are missing the test is skipped, and with
CI=true it fails (``make test`` installs them on Debian as root, see the README)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from challenges.models import ChallengeFormat, Enrolment, Visibility
from service.invitations import create_invitation
from service.models import Membership, Role, User
from tests.challenges.factories import make_challenge, make_team
from tests.conftest import _unreachable, serve_http
from tests.factories import make_org, make_user

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("SE_OFFLINE", "1")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
            raise FileNotFoundError(f"{CHROMIUM} or {CHROMEDRIVER} is missing "
                                    "(apt-get install -y chromium chromium-driver)")
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                    "--window-size=390,844"):  # a phone's viewport
            options.add_argument(arg)
        driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    except Exception as exc:
        _unreachable("Headless Chromium", exc)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def test_a_signed_out_person_signs_up_on_the_join_page_and_lands_in_the_team(
        app: Flask, session: Any, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    hr = make_user(session)
    employer = make_org(session, name="Acme", kind="employer", members={hr: Role.ORGANISER})
    challenge = make_challenge(session, employer, format=ChallengeFormat.TEAM, visibility=Visibility.INVITE,
                               title="Acme step challenge")
    team = make_team(session, challenge, hr, "Finance")
    code = create_invitation(session, organisation=employer, created_by=hr, inviter_role=Role.ORGANISER,
                             challenge_id=challenge.id, team_id=team.id).code
    session.commit()
    with serve_http(app) as url:
        browser.get(f"{url}/join/{code}")
        assert "You are invited to join Acme." in browser.find_element(By.ID, "invited-to").text
        assert "Finance" in browser.find_element(By.ID, "invited-team").text
        wait = WebDriverWait(browser, 20)
        wait.until(ready.visibility_of_element_located((By.ID, "signup-form")))
        browser.find_element(By.ID, "signup-name").send_keys("Fiona Finance")
        browser.find_element(By.ID, "signup-email").send_keys("fiona@acme.example")
        browser.find_element(By.ID, "signup-password").send_keys("correct horse battery")
        browser.find_element(By.ID, "signup-consent").click()
        browser.find_element(By.CSS_SELECTOR, "#signup-form button[type=submit]").click()
        wait.until(ready.visibility_of_element_located((By.ID, "done")))
        landed = browser.find_element(By.ID, "landed").text
        console = [e for e in browser.get_log("browser")
                   if e.get("level") == "SEVERE" and "favicon.ico" not in e.get("message", "")]
    assert "Your team: Finance." in landed and "Acme step challenge" in landed
    assert console == []  # the page broke no Content-Security-Policy rule and threw nothing
    session.expire_all()
    person = session.scalar(select(User).where(User.email == "fiona@acme.example"))
    assert person is not None and person.health_data_consent_at is not None
    assert session.scalar(select(Membership.role).where(Membership.user_id == person.id,
                                                        Membership.organisation_id == employer.id)) == Role.MEMBER
    enrolment = session.scalar(select(Enrolment).where(Enrolment.user_id == person.id))
    assert enrolment is not None and enrolment.challenge_id == challenge.id and enrolment.team_id == team.id
