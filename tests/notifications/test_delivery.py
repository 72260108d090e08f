"""Delivery through the real firebase-admin client to the fake FCM server: options, outcomes, retries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from sqlalchemy import select
from sqlalchemy.orm import Session

from notifications.dispatch import MAX_ATTEMPTS, dispatch_due
from notifications.models import AttemptOutcome, DeliveryAttempt, DeviceToken, NudgeKind, NudgeStatus
from tests.factories import quick_user as make_user
from tests.notifications.factories import make_device, plan_nudge
from tests.notifications.fake_fcm import FakeFcm

NOON_HELSINKI = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)  # 12:00 local, outside quiet hours


def _dispatch(session: Session, fcm: FakeFcm) -> object:
    return dispatch_due(session, fcm.sender, "test-holder")  # type: ignore[attr-defined]


def test_a_due_nudge_reaches_every_device_once_with_android_and_apns_options(session: Session, fcm: FakeFcm) -> None:
    with time_machine.travel(NOON_HELSINKI, tick=False):
        user = make_user(session, locale="nl")
        make_device(session, user, "android-1", "android")
        make_device(session, user, "iphone-1", "ios")
        nudge = plan_nudge(session, user, NudgeKind.OVERTAKEN, challenge_id=None,
                           params={"challenge": "Stadswandeling", "rank": 4, "scope": "user"})
        session.commit()
        stats = _dispatch(session, fcm)
    assert fcm.counts() == {"android-1": 1, "iphone-1": 1}
    message = next(m for m in fcm.received if m["token"] == "android-1")
    assert message["notification"]["title"] == "Je bent ingehaald"
    assert "4" not in message["notification"]["body"]  # the rank stays in the inbox, not on the lock screen
    assert message["android"]["collapse_key"] == "overtaken-0"
    assert message["android"]["priority"] == "normal"
    assert message["android"]["ttl"].endswith("s")
    apns = next(m for m in fcm.received if m["token"] == "iphone-1")["apns"]["headers"]
    assert apns["apns-collapse-id"] == "overtaken-0"
    assert apns["apns-priority"] == "5"
    assert int(apns["apns-expiration"]) > NOON_HELSINKI.timestamp()
    session.refresh(nudge)
    assert nudge.status == NudgeStatus.SENT and nudge.inbox_at is not None
    assert "#4" in nudge.body
    assert stats.sent == 1 and stats.pushes == 2  # type: ignore[attr-defined]
    with time_machine.travel(NOON_HELSINKI + timedelta(hours=1), tick=False):
        _dispatch(session, fcm)
    assert len(fcm.received) == 2


def test_unregistered_and_invalid_tokens_are_marked_and_never_used_again(session: Session, fcm: FakeFcm) -> None:
    with time_machine.travel(NOON_HELSINKI, tick=False):
        user = make_user(session)
        for token in ("good", "gone", "bad", "mismatch"):
            make_device(session, user, token)
        fcm.script("gone", "unregistered")
        fcm.script("bad", "invalid")
        fcm.script("mismatch", "sender_mismatch")
        first = plan_nudge(session, user)
        session.commit()
        _dispatch(session, fcm)
        assert fcm.counts() == {"good": 1}
        dead = {d.token: d.invalid_reason for d in session.scalars(
            select(DeviceToken).where(DeviceToken.invalid_since.is_not(None)))}
        assert dead == {"gone": "NOT_FOUND", "bad": "INVALID_ARGUMENT", "mismatch": "PERMISSION_DENIED"}
        session.refresh(first)
        assert first.status == NudgeStatus.SENT
        plan_nudge(session, user)
        session.commit()
        _dispatch(session, fcm)
    assert fcm.counts() == {"good": 2}


def test_quota_errors_are_retried_after_retry_after_then_delivered(session: Session, fcm: FakeFcm) -> None:
    with time_machine.travel(NOON_HELSINKI, tick=False):
        user = make_user(session)
        make_device(session, user, "busy")
        fcm.script("busy", "quota:120", "unavailable")
        nudge = plan_nudge(session, user)
        session.commit()
        _dispatch(session, fcm)
        session.refresh(nudge)
        assert nudge.status == NudgeStatus.PLANNED and nudge.attempts == 1
        assert nudge.due_at >= NOON_HELSINKI + timedelta(seconds=120)  # Retry-After honoured
    with time_machine.travel(nudge.due_at - timedelta(seconds=1), tick=False):
        _dispatch(session, fcm)  # not yet due: nothing happens
        session.refresh(nudge)
        assert nudge.attempts == 1
    with time_machine.travel(nudge.due_at, tick=False):
        _dispatch(session, fcm)  # 503 this time
        session.refresh(nudge)
        assert nudge.status == NudgeStatus.PLANNED and nudge.attempts == 2
    with time_machine.travel(nudge.due_at, tick=False):
        _dispatch(session, fcm)
    session.refresh(nudge)
    assert nudge.status == NudgeStatus.SENT
    outcomes = list(session.scalars(select(DeliveryAttempt.outcome).order_by(DeliveryAttempt.id)))
    assert outcomes == [AttemptOutcome.RETRY, AttemptOutcome.RETRY, AttemptOutcome.SUCCESS]
    assert fcm.counts() == {"busy": 1}


def test_retries_stop_after_the_maximum_number_of_attempts(session: Session, fcm: FakeFcm) -> None:
    moment = NOON_HELSINKI
    with time_machine.travel(moment, tick=False):
        user = make_user(session)
        make_device(session, user, "down")
        fcm.script("down", *["internal"] * (MAX_ATTEMPTS + 3))
        nudge = plan_nudge(session, user)
        session.commit()
    for _ in range(MAX_ATTEMPTS + 2):
        with time_machine.travel(moment, tick=False):
            _dispatch(session, fcm)
            session.refresh(nudge)
            moment = max(moment, nudge.due_at)
    assert nudge.status == NudgeStatus.FAILED and nudge.reason == "retries-exhausted"
    assert nudge.attempts == MAX_ATTEMPTS
    assert session.scalar(select(DeliveryAttempt.id).where(DeliveryAttempt.outcome != AttemptOutcome.RETRY)) is None
    assert nudge.inbox_at is not None  # the push failed, the inbox still has it


def test_installation_ids_go_in_fid_and_tokens_unseen_for_270_days_are_left_out(
        session: Session, fcm: FakeFcm) -> None:
    from notifications.devices import register_device

    with time_machine.travel(NOON_HELSINKI - timedelta(days=271), tick=False):
        user = make_user(session)
        make_device(session, user, "ancient")
    with time_machine.travel(NOON_HELSINKI, tick=False):
        register_device(session, user.id, token="fid-123", platform="web", token_type="fid")
        plan_nudge(session, user)
        session.commit()
        _dispatch(session, fcm)
    assert [("fid" in m, m.get("fid") or m.get("token")) for m in fcm.received] == [(True, "fid-123")]


def test_message_token_deprecation_is_silenced_only_where_registration_tokens_are_built() -> None:
    import warnings

    import pytest

    from notifications.models import Platform, TokenType
    from notifications.sender import Push, build_message, registration_tokens_allowed

    push = Push(key=1, token="reg-token", token_type=TokenType.REGISTRATION, platform=Platform.ANDROID,
                title="t", body="b")
    with pytest.warns(DeprecationWarning, match=r"Message\.token is deprecated"):
        build_message(push)  # firebase-admin 7.7 warns; outside our context the warning stands
    with registration_tokens_allowed():
        assert build_message(push).token == "reg-token"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fid = build_message(Push(key=2, token="fid-1", token_type=TokenType.FID, platform=Platform.WEB,
                                 title="t", body="b"))
    assert (fid.fid, fid.token) == ("fid-1", None)


def test_retry_after_is_read_as_seconds_or_an_http_date_and_backoff_never_undercuts_it() -> None:
    import random

    from hypothesis import given
    from hypothesis import strategies as st

    from notifications.dispatch import BACKOFF_MAX, backoff

    @given(attempt=st.integers(1, 20), retry_after=st.one_of(st.none(), st.floats(0, 7200)), seed=st.integers())
    def check(attempt: int, retry_after: float | None, seed: int) -> None:
        delay = backoff(attempt, retry_after, random.Random(seed))
        ceiling = min(BACKOFF_MAX, timedelta(seconds=30) * 2 ** (attempt - 1))
        assert delay >= timedelta(seconds=retry_after or 0)
        assert delay >= ceiling / 2
        assert delay <= max(ceiling, timedelta(seconds=retry_after or 0))

    check()


def test_a_retry_after_pauses_every_push_of_the_project_until_it_has_passed(session: Session, fcm: FakeFcm) -> None:
    with time_machine.travel(NOON_HELSINKI, tick=False):
        busy_user, calm_user = make_user(session), make_user(session)
        make_device(session, busy_user, "busy")
        make_device(session, calm_user, "calm")
        fcm.script("busy", "quota:120")
        first = plan_nudge(session, busy_user)
        second = plan_nudge(session, calm_user)
        session.commit()
        stats = dispatch_due(session, fcm.sender, "test-holder", batch=1)  # type: ignore[attr-defined]
        assert stats.paused_until == NOON_HELSINKI + timedelta(seconds=120)
        session.refresh(second)
        assert second.attempts == 0 and fcm.targets() == []  # the run stopped at the 429: no second batch
    with time_machine.travel(NOON_HELSINKI + timedelta(seconds=119), tick=False):
        stats = dispatch_due(session, fcm.sender, "other-replica")  # type: ignore[attr-defined]
        assert stats.claimed == 0 and stats.paused_until is not None
        assert fcm.targets() == []
    with time_machine.travel(NOON_HELSINKI + timedelta(seconds=120), tick=False):
        dispatch_due(session, fcm.sender, "test-holder")  # type: ignore[attr-defined]
    session.refresh(first)
    session.refresh(second)
    assert first.status == second.status == NudgeStatus.SENT
    assert sorted(fcm.targets()) == ["busy", "calm"]


def test_the_fcm_sender_sends_in_chunks_of_500_and_never_an_empty_one(fcm: FakeFcm, monkeypatch: Any) -> None:
    from firebase_admin import messaging

    from notifications.models import Platform, TokenType
    from notifications.sender import Push

    sizes: list[int] = []
    real = messaging.send_each

    def counting(messages: list[Any], *args: Any, **kwargs: Any) -> Any:
        sizes.append(len(messages))
        return real(messages, *args, **kwargs)

    monkeypatch.setattr(messaging, "send_each", counting)
    pushes = [Push(key=i, token=f"chunk-{i}", token_type=TokenType.REGISTRATION, platform=Platform.ANDROID,
                   title="t", body="b") for i in range(501)]
    fcm.script("chunk-500", "unregistered")
    results = fcm.sender.send(pushes)  # type: ignore[attr-defined]
    assert sizes == [500, 1]
    assert [r.key for r in results] == list(range(501))
    assert results[500].outcome == AttemptOutcome.INVALID_TOKEN and results[0].outcome == AttemptOutcome.SUCCESS
    assert len(fcm.received) == 500
    assert fcm.sender.send([]) == [] and sizes == [500, 1]  # type: ignore[attr-defined]
