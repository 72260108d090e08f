"""Failed sign-ins are counted per account in the database and answered with an exponential back-off.

The per-address limit (LOGIN_RATELIMIT) is off in these apps, as it effectively is for an attacker who
spreads guesses over many addresses, or over workers without Redis.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import requests
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from service import login_throttle
from service.clock import utcnow
from service.models import LoginThrottle
from tests.conftest import serve_http
from tests.factories import PASSWORD, make_user

EMAIL = "ana@example.org"


def sign_in(client: FlaskClient, email: str = EMAIL, password: str = "not the password") -> Any:
    return client.post("/api/v1/auth/token", json={"grant_type": "password", "email": email, "password": password})


def statuses(client: FlaskClient, n: int, **kwargs: str) -> list[int]:
    return [sign_in(client, **kwargs).status_code for _ in range(n)]


def test_failed_sign_ins_of_an_account_are_counted_by_every_worker_and_survive_a_restart(
        side_app: Callable[..., Flask], session: Any) -> None:
    make_user(session, email=EMAIL)
    session.commit()
    workers = [side_app().test_client(), side_app().test_client()]
    with time_machine.travel(utcnow(), tick=False):
        seen = [sign_in(workers[i % 2]) for i in range(30)]
        assert [resp.status_code for resp in seen] == [401] * 5 + [429] * 25
        refused = seen[-1]
        assert refused.mimetype == "application/problem+json"
        assert refused.get_json()["type"].endswith("/too-many-failed-sign-ins")
        assert refused.headers["Retry-After"] == "1" and refused.get_json()["retry_after"] == 1
        restarted = side_app().test_client()
        assert sign_in(restarted, password=PASSWORD).status_code == 429


def test_simultaneous_guesses_cannot_share_the_free_attempts(side_app: Callable[..., Flask], session: Any) -> None:
    make_user(session, email=EMAIL)
    session.commit()
    body = {"grant_type": "password", "email": EMAIL, "password": "not the password"}
    with time_machine.travel(utcnow(), tick=False), serve_http(side_app()) as base, \
            ThreadPoolExecutor(max_workers=12) as pool:
        seen = sorted(pool.map(lambda _: requests.post(f"{base}/api/v1/auth/token", json=body, timeout=60).status_code,
                               range(24)))
    assert seen == [401] * 5 + [429] * 19


def test_each_further_failure_doubles_the_wait_up_to_the_cap(side_app: Callable[..., Flask], session: Any) -> None:
    make_user(session, email=EMAIL)
    session.commit()
    client = side_app(LOGIN_FREE_FAILURES="3", LOGIN_BACKOFF_MAX_SECONDS="20").test_client()
    waits = []
    with time_machine.travel(utcnow(), tick=False) as clock:
        assert statuses(client, 3) == [401] * 3
        for _ in range(7):
            refused = sign_in(client)
            assert refused.status_code == 429
            wait = int(refused.headers["Retry-After"])
            waits.append(wait)
            clock.shift(timedelta(seconds=wait) - timedelta(milliseconds=1))
            assert sign_in(client).status_code == 429  # a moment too early, and not counted
            clock.shift(timedelta(milliseconds=1))
            assert sign_in(client).status_code == 401
    assert waits == [1, 2, 4, 8, 16, 20, 20]


def test_an_address_without_an_account_is_answered_exactly_like_one_with_an_account(
        side_app: Callable[..., Flask], session: Any) -> None:
    make_user(session, email=EMAIL)
    session.commit()
    client = side_app().test_client()
    answers = {}
    with time_machine.travel(utcnow(), tick=False):
        for email in (EMAIL, "nobody@example.org"):
            seen = [sign_in(client, email=email) for _ in range(7)]
            answers[email] = [(r.status_code, r.headers.get("Retry-After"), r.get_json()["detail"]) for r in seen]
    assert answers[EMAIL] == answers["nobody@example.org"]
    assert [status for status, _, _ in answers[EMAIL]] == [401] * 5 + [429] * 2


def test_case_and_spaces_do_not_make_another_account(side_app: Callable[..., Flask], session: Any) -> None:
    client = side_app().test_client()
    spellings = ["Ana@Example.org", " ana@example.org ", "ANA@EXAMPLE.ORG", "ana@example.org", "aNa@example.ORG"]
    with time_machine.travel(utcnow(), tick=False):
        assert [sign_in(client, email=e).status_code for e in spellings] == [401] * 5
        assert sign_in(client, email="Ana@example.org").status_code == 429


def test_a_successful_sign_in_resets_the_count(side_app: Callable[..., Flask], session: Any) -> None:
    make_user(session, email=EMAIL)
    session.commit()
    client = side_app().test_client()
    with time_machine.travel(utcnow(), tick=False):
        assert statuses(client, 4) == [401] * 4
        assert sign_in(client, password=PASSWORD).status_code == 200
        assert statuses(client, 6) == [401] * 5 + [429]
    session.expire_all()
    assert session.scalars(select(LoginThrottle.failures)).all() == [5]


def test_while_backed_off_even_the_right_password_is_refused_then_accepted(side_app: Callable[..., Flask],
                                                                           session: Any) -> None:
    make_user(session, email=EMAIL)
    session.commit()
    client = side_app().test_client()
    with time_machine.travel(utcnow(), tick=False) as clock:
        assert statuses(client, 5) == [401] * 5
        assert sign_in(client, password=PASSWORD).status_code == 429  # no oracle: the password is not checked
        clock.shift(timedelta(seconds=1))
        assert sign_in(client, password=PASSWORD).status_code == 200
    session.expire_all()
    assert session.scalars(select(LoginThrottle)).all() == []


def test_counters_are_kept_by_a_hash_of_the_address_not_the_address(side_app: Callable[..., Flask],
                                                                    session: Any) -> None:
    sign_in(side_app().test_client(), email="nobody@example.org")
    keys = session.scalars(select(LoginThrottle.account_key)).all()
    assert len(keys) == 1 and "nobody" not in keys[0] and len(keys[0]) == 64


def test_a_count_quiet_for_a_day_starts_again_and_is_purged(session: Any) -> None:
    key = login_throttle.account_key(EMAIL, "secret")
    start = utcnow()
    for _ in range(5):
        login_throttle.charge(session, key, now=start, free=5, cap_s=900)
    session.commit()
    later = start + login_throttle.FORGET_AFTER + timedelta(seconds=1)
    assert login_throttle.purge_forgotten(session, start + login_throttle.FORGET_AFTER) == 0
    login_throttle.charge(session, key, now=later, free=5, cap_s=900)  # counts as the first failure again
    assert session.scalars(select(LoginThrottle.failures)).all() == [1]
    assert login_throttle.purge_forgotten(session, later + login_throttle.FORGET_AFTER + timedelta(seconds=1)) == 1
    assert session.scalars(select(LoginThrottle)).all() == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(free=st.integers(0, 6), cap=st.integers(1, 40),
       gaps=st.lists(st.floats(0, 50, allow_nan=False), min_size=1, max_size=40))
def test_no_schedule_of_wrong_guesses_gets_more_checked_than_the_backoff_allows(
        session: Any, free: int, cap: int, gaps: list[float]) -> None:
    """Whatever the timing, the n-th checked guess (n > free) comes at least min(cap, 2**(n-1-free)) seconds after
    the one before it; refused guesses change nothing, and each says truly how long to wait."""
    key = login_throttle.account_key(f"{free}-{cap}-{gaps}@example.org", "secret")
    now = utcnow()
    checked: list[Any] = []
    for gap in gaps:
        now += timedelta(seconds=gap)
        try:
            login_throttle.charge(session, key, now=now, free=free, cap_s=cap)
        except login_throttle.SignInThrottled as exc:
            wait = exc.extra["retry_after"]
            assert 1 <= wait <= cap
            assert len(checked) >= max(free, 1)
            allowed_at = checked[-1] + timedelta(seconds=min(cap, 2 ** (len(checked) - free)))
            assert now < allowed_at <= now + timedelta(seconds=wait) < allowed_at + timedelta(seconds=1)
        else:
            checked.append(now)
    for n in range(max(free, 1), len(checked)):
        assert (checked[n] - checked[n - 1]).total_seconds() >= min(cap, 2 ** (n - free)) - 1e-3
    session.rollback()
