"""``python -m bench.nudges``: planning 100,000 nudges, and FCM delivery through our sender vs bare send_each.

1. Planning: 25,000 users in 12 time zones, four candidates each (100,000), through ``notifications.planner.plan``
   (preferences, quiet hours, staleness, one bulk INSERT ... ON CONFLICT DO NOTHING per 5,000 rows) and the
   commit. Target: < 10 s.
2. Delivery: the real firebase-admin client against the fake FCM server (tests/notifications/fake_fcm.py, run
   in its own process so it does not share our GIL), both apps aimed at it by notifications.fcm_seam. The
   baseline is a bare loop of ``messaging.send_each`` over chunks of 500 minimal messages; the service side
   is ``FcmSender.send`` (messages with Android/APNs options, outcome classification). Alternating rounds.
   Target: >= 80% of the baseline's messages/s. A third, informational figure runs the whole dispatcher
   (claim, checks, render, attempt rows, send, record) on the same server.
3. Overtaken: a board of 1,000,000 lines (written directly, with matching bucket counts) plus 500 enrolled
   movers who score through the real ledger; one planning run after their activity (it reads the ledger
   window and the passed lines, at most ``MAX_PASSED_ROWS``). Target: < 10 s, whatever the board size.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.harness import BenchOptions, Figure, bench_environment, compare, emit
from bench.report import absolute, at_least

PLAN_USERS = 25_000
PLAN_KINDS = 4
SEND_MESSAGES = 5_000
ROUNDS = 3
BOARD_LINES = 1_000_000
OVERTAKEN_MOVERS = 500
ZONES = ["Europe/Helsinki", "Europe/Amsterdam", "Europe/Madrid", "Europe/London", "America/New_York",
         "America/Los_Angeles", "Asia/Tokyo", "Asia/Kolkata", "Australia/Sydney", "Pacific/Auckland", "UTC",
         "America/Sao_Paulo"]


def _users(session: Any, count: int) -> list[int]:
    from sqlalchemy import insert, select

    from service.models import User

    now = datetime.now(UTC)
    tag = uuid.uuid4().hex[:6]
    rows = [{"email": f"b{tag}{i}@bench.vcc", "display_name": f"B{i}", "timezone": ZONES[i % len(ZONES)],
             "locale": ("en", "nl", "fi", "es")[i % 4], "password_hash": "x", "is_superuser": False,
             "hide_from_leaderboards": False, "created_at": now} for i in range(count)]
    for start in range(0, count, 5000):
        session.execute(insert(User), rows[start:start + 5000])
    session.commit()
    return list(session.scalars(select(User.id).where(User.email.like(f"b{tag}%")).order_by(User.id)))


def bench_planning(app: Any) -> Figure:
    from notifications.models import NudgeKind
    from notifications.planner import Candidate, plan
    from service.db import db

    kinds = [NudgeKind.BADGE_EARNED, NudgeKind.MILESTONE, NudgeKind.WEEKLY_SUMMARY, NudgeKind.INACTIVE]
    with app.app_context():
        user_ids = _users(db.session, PLAN_USERS)
        candidates = [Candidate(uid, kind, f"bench:{kind.value}:{uid}", {"challenge": "Bench", "badge": "B"})
                      for uid in user_ids for kind in kinds[:PLAN_KINDS]]
        started = time.perf_counter()
        result = plan(db.session, candidates)
        db.session.commit()
        elapsed = time.perf_counter() - started
        db.session.remove()
    print(f"   planned {result.inserted:,} of {len(candidates):,} candidates in {elapsed:.2f} s", flush=True)
    return emit(absolute(f"plan {len(candidates):,} nudges", elapsed, "s", target=10.0, higher_is_better=False))


def bench_overtaken(app: Any) -> Figure:
    """'Overtaken' on a board of BOARD_LINES: movers score through the real ledger, planning reads only the
    window since its cursor and the lines they passed (capped per run), never the whole board."""
    import random

    from sqlalchemy import delete, insert, select

    from challenges.lifecycle import rules_for
    from challenges.participation.enrolment import find_enrolment, subject_for
    from notifications import overtaken
    from notifications.rules import plan_activity_nudges
    from scoring import ledger
    from scoring.buckets import bucket
    from scoring.models import LeaderboardBucket, LeaderboardTotal
    from scoring.types import ActivityFacts, Scope
    from service.db import db
    from service.models import User
    from tests.challenges.factories import enrol, make_challenge
    from tests.factories import make_org

    rng = random.Random(6)
    with app.app_context():
        session = db.session
        now = datetime.now(UTC)
        challenge = make_challenge(session, make_org(session, timezone="UTC"))
        movers = list(session.scalars(select(User).where(User.id.in_(_users(session, OVERTAKEN_MOVERS)))))
        for user in movers:
            enrol(session, challenge, user)
        session.commit()

        def score(tag: str, minutes: Any) -> None:
            items = [(subject_for(challenge, find_enrolment(session, challenge.id, u.id)), f"bench:{tag}:{u.id}",
                      ActivityFacts("walking", now - timedelta(hours=1 if tag == "b" else 30), minutes(i) * 60))
                     for i, u in enumerate(movers)]
            ledger.score_many(session, rules_for(challenge), items)
            session.commit()

        score("a", lambda i: 5 + i % 240)
        totals = [p for (p,) in session.execute(select(LeaderboardTotal.points).where(
            LeaderboardTotal.contest_id == challenge.id, LeaderboardTotal.scope == Scope.USER,
            LeaderboardTotal.period_key == "all"))]
        top = 2 * max(totals)
        board = [{"contest_id": challenge.id, "scope": Scope.USER.value, "period_key": "all",
                  "subject_id": 10**9 + i, "points": rng.randint(1, top)} for i in range(BOARD_LINES)]
        counts: dict[int, int] = {}
        for line in board:
            b = bucket(line["points"])
            counts[b] = counts.get(b, 0) + 1  # type: ignore[index]
        for b in (bucket(p) for p in totals):
            counts[b] = counts.get(b, 0) + 1  # type: ignore[index]
        for start in range(0, len(board), 50_000):
            session.execute(insert(LeaderboardTotal), board[start:start + 50_000])
        session.execute(delete(LeaderboardBucket).where(LeaderboardBucket.contest_id == challenge.id))
        session.execute(insert(LeaderboardBucket), [
            {"contest_id": challenge.id, "scope": Scope.USER.value, "period_key": "all", "bucket": b, "count": n}
            for b, n in counts.items()])
        session.commit()
        plan_activity_nudges(session)  # first look: sets the ledger cursor
        score("b", lambda i: 10 + (i * 37) % 120)  # uneven gains: movers also pass each other
        started = time.perf_counter()
        result = plan_activity_nudges(session)
        elapsed = time.perf_counter() - started
        stats = overtaken.LAST_RUN
        db.session.remove()
    print(f"   overtaken on a board of {BOARD_LINES + len(movers):,}: {stats.movers} movers, "
          f"{stats.board_rows_read:,} passed lines read (cap {overtaken.MAX_PASSED_ROWS:,}, truncated "
          f"{stats.truncated}), {result.inserted} nudges planned, in {elapsed:.2f} s", flush=True)
    return emit(absolute(f"plan overtaken, {BOARD_LINES:,}-line board, {len(movers)} movers", elapsed, "s",
                         target=10.0, higher_is_better=False))


def _fake_server() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "tests.notifications.fake_fcm"], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def bench_delivery(app: Any) -> list[Figure]:
    import firebase_admin
    from firebase_admin import messaging

    from notifications import fcm_seam
    from notifications.models import Platform, TokenType
    from notifications.sender import CHUNK, FcmSender, Push
    from tests.notifications.fake_fcm import service_account

    proc, base_url = _fake_server()
    account = service_account(base_url)
    bare_app = fcm_seam.init_app(f"bench-bare-{uuid.uuid4().hex[:6]}", account, fcm_base_url=base_url)
    ours_app = fcm_seam.init_app(f"bench-ours-{uuid.uuid4().hex[:6]}", account, fcm_base_url=base_url)
    sender = FcmSender(ours_app)
    tokens = [f"bench-token-{i}" for i in range(SEND_MESSAGES)]
    pushes = [Push(key=i, token=t, token_type=TokenType.REGISTRATION,
                   platform=Platform.ANDROID if i % 2 else Platform.IOS, title="New badge: Explorer",
                   body="You earned a new badge. Open the app to see it.", data={"nudge_id": str(i), "kind": "badge"},
                   collapse_key=None) for i, t in enumerate(tokens)]

    def bare() -> int:
        sent = 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # the bare loop uses Message.token as-is
            for start in range(0, len(tokens), CHUNK):
                batch = [messaging.Message(token=t, notification=messaging.Notification("New badge", "Open the app"))
                         for t in tokens[start:start + CHUNK]]
                sent += messaging.send_each(batch, app=bare_app).success_count
        return sent

    def ours() -> int:
        return sum(1 for r in sender.send(pushes) if r.outcome.value == "success")

    try:
        bare(), ours()  # warm-up: OAuth token, connection pools
        totals = {"bare": 0.0, "ours": 0.0}
        for rnd in range(ROUNDS):
            for name, fn in ((("bare", bare), ("ours", ours)) if rnd % 2 == 0 else (("ours", ours), ("bare", bare))):
                started = time.perf_counter()
                assert fn() == SEND_MESSAGES
                totals[name] += time.perf_counter() - started
        rate = {k: SEND_MESSAGES * ROUNDS / v for k, v in totals.items()}
        figures = [emit(compare("FCM delivery through FcmSender vs bare send_each", rate["ours"], rate["bare"],
                                "msg/s", target=at_least(0.8)))]
        figures.append(bench_dispatch(app, base_url, account, rate["bare"]))
        return figures
    finally:
        for fb in (bare_app, ours_app):
            firebase_admin.delete_app(fb)
        proc.terminate()
        proc.wait(timeout=10)


def bench_dispatch(app: Any, base_url: str, account: dict[str, str], bare_rate: float) -> Figure:
    """The whole dispatcher (database work included), informational: there is no target for it."""
    from sqlalchemy import delete, insert

    from notifications import fcm_seam
    from notifications.dispatch import dispatch_due
    from notifications.models import DeviceToken, NotificationSettings, Nudge, NudgeKind
    from notifications.planner import Candidate, plan
    from notifications.sender import FcmSender
    from service.db import db

    fb = fcm_seam.init_app(f"bench-dispatch-{uuid.uuid4().hex[:6]}", account, fcm_base_url=base_url)
    try:
        with app.app_context():
            session = db.session
            session.execute(delete(Nudge))
            users = _users(session, SEND_MESSAGES)
            now = datetime.now(UTC)
            session.execute(insert(NotificationSettings), [
                {"user_id": u, "opted_out": False, "quiet_start_minute": 0, "quiet_end_minute": 0, "daily_cap": 9,
                 "updated_at": now} for u in users])
            session.execute(insert(DeviceToken), [
                {"user_id": u, "token": f"dispatch-{u}", "token_type": "registration", "platform": "android",
                 "created_at": now, "last_seen_at": now} for u in users])
            plan(session, [Candidate(u, NudgeKind.BADGE_EARNED, f"dispatch:{u}", {"badge": "B", "challenge": "C"})
                           for u in users])
            session.commit()
            started = time.perf_counter()
            stats = dispatch_due(session, FcmSender(fb), "bench")
            elapsed = time.perf_counter() - started
            db.session.remove()
        print(f"   dispatcher: {stats}", flush=True)
        return emit(compare("whole dispatcher (DB claims, attempts, send) vs bare send_each", stats.sent / elapsed,
                            bare_rate, "msg/s", note="informational"))
    finally:
        import firebase_admin

        firebase_admin.delete_app(fb)


def run(options: BenchOptions) -> list[Figure]:
    with bench_environment(options) as env:
        app = env.app()
        figures = [bench_planning(app), bench_overtaken(app)]
        figures += bench_delivery(app)
    return figures


if __name__ == "__main__":
    run(BenchOptions.from_env())
