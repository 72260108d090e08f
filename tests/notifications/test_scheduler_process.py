"""`vcc scheduler` as a process: its liveness check for container health checks, and a clean stop on SIGTERM
(twice, as supervisors and `vcc serve` send it) that lets the push in flight finish."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from flask import Flask
from sqlalchemy.orm import Session

from notifications.jobs import JOBS
from notifications.models import Nudge, NudgeStatus
from notifications.preferences import get_settings
from service.scheduler import beat, stop_beating
from tests.factories import quick_user
from tests.notifications.factories import make_device, plan_nudge
from tests.notifications.fake_fcm import FakeFcm

HOST = socket.gethostname()


def _check(app: Flask) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["scheduler", "--check"])
    return result.exit_code, result.output


def test_the_check_exits_1_without_a_scheduler_on_this_host_and_0_while_one_beats(app: Flask, session: Session) -> None:
    assert _check(app) == (1, f"no scheduler has run on {HOST}\n")
    assert beat(session, "this-process")
    assert _check(app) == (0, f"ok: the scheduler on {HOST} is alive, {len(JOBS)} jobs on time\n")
    stop_beating(session, "this-process")
    code, output = _check(app)
    assert code == 1 and output.startswith(f"the scheduler on {HOST} is not running")


def test_the_check_says_so_when_the_database_does_not_answer(side_app) -> None:  # type: ignore[no-untyped-def]
    down = side_app(DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/none")
    code, output = _check(down)
    assert code == 1 and output.startswith("cannot read the scheduler's state: OperationalError")


def test_sigterm_twice_stops_cleanly_after_the_push_in_flight(app: Flask, session: Session, database_url: str,
                                                             fake_fcm_server: FakeFcm, tmp_path: Path) -> None:
    fake_fcm_server.reset()
    user = quick_user(session)
    prefs = get_settings(session, user.id)
    prefs.quiet_start_minute = prefs.quiet_end_minute = 0  # no quiet hours, whatever the hour of the run
    session.add(prefs)
    phone = f"slow-phone-{uuid.uuid4().hex}"  # only this run's push counts, whatever else reaches the fake FCM
    make_device(session, user, phone)
    nudge = plan_nudge(session, user)
    session.commit()
    fake_fcm_server.script(phone, "hang:8")  # FCM answers after 8 s: the push is in flight at SIGTERM
    env = {**os.environ, "DATABASE_URL": database_url, "VCC_INSTANCE_PATH": str(tmp_path), "LOG_LEVEL": "INFO",
           "SECRET_KEY": "test-secret-key-that-is-long-enough-for-hs256-0123456789", "REDIS_URL": "",
           "FIREBASE_CREDENTIALS": json.dumps(fake_fcm_server.service_account), "FCM_URL": fake_fcm_server.base_url}
    proc = subprocess.Popen([sys.executable, "-m", "service.cli", "scheduler"], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        alive = (1, "not checked")
        # the liveness check is asked while the scheduler starts and pushes, so the SIGTERMs below still find the
        # push in flight however slowly the check answers on a loaded machine
        while time.monotonic() < deadline and proc.poll() is None:
            if alive[0] != 0:
                alive = _check(app)
            if phone in fake_fcm_server.targets() and alive[0] == 0:
                break
            time.sleep(0.05)
        assert phone in fake_fcm_server.targets(), "the scheduler never pushed"
        assert alive[0] == 0, alive[1]
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(iter(proc.stderr.readline, "")), daemon=True)
        reader.start()
        proc.send_signal(signal.SIGTERM)
        # the second signal once the first was handled: two signals before Python runs its handler are one
        settle = time.monotonic() + 20
        while not any("scheduler stopping" in line for line in lines) and time.monotonic() < settle:
            time.sleep(0.05)
        assert proc.poll() is None, ("the scheduler left before the push in flight finished", lines)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        reader.join(timeout=10)
        err = "".join(lines)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "SchedulerNotRunningError" not in err, err
    messages = [json.loads(line)["msg"] for line in err.splitlines()]
    assert "scheduler stopping (signal 15)" in messages and "scheduler already stopping (signal 15)" in messages
    session.expire_all()
    assert session.get(Nudge, nudge.id).status == NudgeStatus.SENT  # the push in flight finished and was recorded
    code, output = _check(app)
    assert code == 1 and output.startswith(f"the scheduler on {HOST} is not running")
