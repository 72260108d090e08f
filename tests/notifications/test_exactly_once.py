"""No nudge is sent twice and none is lost: concurrent dispatchers, replicas with leases, a killed scheduler.

The leases themselves are tested with the job runner, in tests/service/test_leases.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from notifications import jobs
from notifications.dispatch import CLAIM_TIMEOUT, dispatch_due
from notifications.models import AttemptOutcome, DeliveryAttempt, NotificationSettings, Nudge, NudgeKind, NudgeStatus
from notifications.planner import Candidate, plan
from service import leases
from service.clock import utcnow
from service.config import PROJECT_ROOT
from service.db import db
from service.scheduler import bind_app
from tests.factories import quick_user
from tests.notifications.factories import make_device
from tests.notifications.fake_fcm import FakeFcm


def _setup(session: Session, count: int, prefix: str) -> list[str]:
    """``count`` users with one device and one due nudge each (quiet hours off, so any test hour works)."""
    tokens = []
    for i in range(count):
        user = quick_user(session, timezone="UTC")
        device = make_device(session, user, f"{prefix}-{i}")
        tokens.append(device.token)
        session.add(NotificationSettings(user_id=user.id, opted_out=False, quiet_start_minute=0,
                                         quiet_end_minute=0, daily_cap=10))
        session.flush()
        plan(session, [Candidate(user.id, NudgeKind.BADGE_EARNED, f"once:{device.id}", {"badge": "B"})])
    session.commit()
    return tokens


def _in_threads(app: Flask, count: int, target: Any) -> list[Any]:
    results: list[Any] = [None] * count
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = target()
        except BaseException as exc:  # pragma: no cover - surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    return results


@pytest.mark.postgres
def test_two_dispatchers_claiming_with_skip_locked_send_each_nudge_exactly_once(
        app: Flask, session: Session, fcm: FakeFcm) -> None:
    tokens = _setup(session, 120, "pair")

    def dispatch() -> Any:
        with app.app_context():
            try:
                return dispatch_due(db.session, fcm.sender, leases.new_holder(), batch=10)  # type: ignore[attr-defined]
            finally:
                db.session.remove()

    stats = _in_threads(app, 2, dispatch)
    assert fcm.counts() == {t: 1 for t in tokens}
    assert sum(s.pushes for s in stats) == len(tokens)
    assert all(s.pushes > 0 for s in stats)  # both really worked, on disjoint claims
    assert set(session.scalars(select(Nudge.status))) == {NudgeStatus.SENT}


@pytest.mark.postgres
def test_two_scheduler_replicas_running_the_dispatch_job_send_each_nudge_exactly_once(
        app: Flask, session: Session, fcm: FakeFcm) -> None:
    tokens = _setup(session, 60, "replica")
    bind_app(app)
    try:
        results = _in_threads(app, 2, lambda: jobs.run("nudges.dispatch"))
    finally:
        bind_app(None)
    assert fcm.counts() == {t: 1 for t in tokens}
    assert sorted(r is None for r in results) in ([False, True], [False, False])


DOOMED = textwrap.dedent("""
    import sys
    from service.app import create_app
    from tests.conftest import make_test_config
    config = make_test_config(sys.argv[1], None, sys.argv[2], FIREBASE_CREDENTIALS=sys.argv[3], FCM_URL=sys.argv[4])
    app = create_app(config)
    with app.app_context():
        from notifications.dispatch import dispatch_due
        from notifications.sender import get_sender
        from service.db import db
        dispatch_due(db.session, get_sender(app), "doomed", batch=5)
""")


def test_a_scheduler_killed_mid_dispatch_and_restarted_sends_nothing_twice_and_loses_nothing(
        app: Flask, session: Session, fcm: FakeFcm, database_url: str, tmp_path: Path) -> None:
    tokens = _setup(session, 15, "kill")
    for token in tokens[5:10]:
        fcm.script(token, "hang:5")  # the second batch is in flight when the process dies
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    account = tmp_path / "service-account.json"  # FIREBASE_CREDENTIALS names the file, as in production
    account.write_text(json.dumps(fcm.service_account))
    log = tmp_path / "doomed.log"
    with log.open("w") as err:
        proc = subprocess.Popen([sys.executable, "-c", DOOMED, database_url, str(tmp_path), str(account),
                                 fcm.base_url], env=env, cwd=PROJECT_ROOT, stderr=err)
    try:
        deadline = time.monotonic() + 30
        while len(fcm.received) < 10 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert len(fcm.received) == 10, log.read_text()[-3000:]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    session.expire_all()
    states = sorted(str(s) for s in session.scalars(select(Nudge.status)))
    assert states.count("sent") == 5 and states.count("sending") == 5 and states.count("planned") == 5
    with time_machine.travel(utcnow() + CLAIM_TIMEOUT + timedelta(seconds=5), tick=False):
        stats = dispatch_due(session, fcm.sender, "restarted")  # type: ignore[attr-defined]
    assert stats.recovered == 5
    assert fcm.counts() == {t: 1 for t in tokens}  # nothing twice: in-flight ones are not resent
    session.expire_all()
    assert set(session.scalars(select(Nudge.status))) == {NudgeStatus.SENT}  # nothing lost
    unknown = list(session.scalars(select(DeliveryAttempt).where(DeliveryAttempt.outcome == AttemptOutcome.UNKNOWN)))
    assert len(unknown) == 5
