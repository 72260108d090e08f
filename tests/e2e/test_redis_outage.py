"""A Redis outage, end to end over real HTTP against a real Redis that the test stops and starts.

Redis is a cache of the SQL boards and the home of the rate-limit counters. While it is down the service
must keep answering: writes are stored once, boards come from SQL, limits count in memory and /readyz says
what is missing. When it comes back (here holding a snapshot from before the outage, as a Redis with
persistence would) nothing it says may contradict the ledger, and the limits count in Redis again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import redis
import requests
from flask import Flask
from sqlalchemy import func, select

from challenges.activities.models import Activity
from scoring.boards import redis_write
from scoring.models import LeaderboardTotal, PointsEntry
from scoring.types import Scope
from service.clock import utcnow
from service.db import db
from tests.challenges.activity_helpers import make_world, walk
from tests.conftest import RedisServer, serve_http


def ledger_totals(app: Flask, contest_id: int) -> dict[int, int]:
    with app.app_context():
        rows = db.session.execute(select(PointsEntry.user_id, func.sum(PointsEntry.points))
                                  .where(PointsEntry.contest_id == contest_id).group_by(PointsEntry.user_id))
        return {int(user): int(pts) for user, pts in rows if pts}


def redis_boards_and_sql(app: Flask, r: redis.Redis, contest_id: int) -> list[tuple[str, dict[int, int],
                                                                                     dict[int, int]]]:
    """Every user board of the contest that Redis holds, beside the SQL totals of the same board."""
    out = []
    with app.app_context():
        pfx = redis_write.prefix()
        for key in sorted(r.scan_iter(match=redis_write.board_key(pfx, contest_id, Scope.USER, "*"))):
            pkey = key.decode().rsplit(":", 1)[1]
            if pkey in {"building", "touched", "rebuild"}:
                continue
            cached = {redis_write.subject(m.decode()): int(s) for m, s in r.zrange(key, 0, -1, withscores=True)}
            sql = {int(sid): int(pts) for sid, pts in db.session.execute(
                select(LeaderboardTotal.subject_id, LeaderboardTotal.points).where(
                    LeaderboardTotal.contest_id == contest_id, LeaderboardTotal.scope == Scope.USER,
                    LeaderboardTotal.period_key == pkey))}
            out.append((pkey, cached, sql))
        db.session.remove()
    return out


def limiter_count(r: redis.Redis) -> int:
    """The sum of flask-limiter's counters in Redis: it grows only while requests are counted there."""
    return sum(int(r.get(k) or 0) for k in r.scan_iter(match="LIMITS*") if r.type(k) == b"string")


def until(check: Callable[[], Any], seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


def test_a_redis_outage_degrades_to_sql_and_memory_and_repairs_itself(side_app: Callable[..., Flask],
                                                                      private_redis: RedisServer) -> None:
    app = side_app(REDIS_URL=private_redis.url, RATELIMIT_ENABLED="true", LOGIN_RATELIMIT="3 per minute")
    with app.app_context():
        world = make_world(app, db.session, participants=3)
        cid = world.challenge.id
        ann, ben, cat = (u.id for u in world.users)
        headers = {u.id: world.h(u) for u in world.users}
        db.session.remove()
    r = redis.Redis.from_url(private_redis.url)
    start = (utcnow() - timedelta(hours=5)).replace(microsecond=0)

    with serve_http(app) as base:
        def board() -> requests.Response:
            return requests.get(f"{base}/api/v1/challenges/{cid}/leaderboards", headers=headers[ann], timeout=30)

        def ranks() -> list[tuple[int, int, int]]:
            resp = board()
            assert resp.status_code == 200, resp.text
            return [(row["rank"], row["id"], row["points"]) for row in resp.json()["rows"]]

        for who, minutes, hours in ((ann, 60, 0), (ben, 30, 1), (cat, 10, 2)):
            resp = requests.post(f"{base}/api/v1/activities", headers=headers[who], timeout=30,
                                 json=walk(start + timedelta(hours=hours), minutes))
            assert resp.status_code == 201, resp.text
        before = ranks()
        assert [sid for _, sid, _ in before] == [ann, ben, cat]
        assert redis_boards_and_sql(app, r, cid)  # the board is in Redis now
        private_redis.save()
        private_redis.stop()

        # Redis is down.
        late_walk = walk(start + timedelta(hours=2, minutes=30), 90)
        first = requests.post(f"{base}/api/v1/activities", json=late_walk, timeout=30,
                              headers={**headers[cat], "Idempotency-Key": "outage-walk"})
        retry = requests.post(f"{base}/api/v1/activities", json=late_walk, timeout=30,
                              headers={**headers[cat], "Idempotency-Key": "outage-walk"})
        assert first.status_code == 201, first.text
        assert retry.status_code == 201 and retry.headers.get("Idempotent-Replayed") == "true"
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(Activity).where(Activity.user_id == cat)) == 2
            db.session.remove()
        totals = ledger_totals(app, cid)
        expected = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
        assert [sid for sid, _ in expected] == [cat, ann, ben]
        assert ranks() == [(i + 1, sid, pts) for i, (sid, pts) in enumerate(expected)]

        ready = requests.get(f"{base}/readyz", timeout=30)
        assert ready.status_code == 503
        assert ready.json()["checks"]["redis"].startswith("unreachable")
        assert ready.json()["checks"]["database"] == "ok"

        logins = [requests.post(f"{base}/api/v1/auth/token", timeout=30, json={
            "grant_type": "password", "email": f"nobody{i}@example.org", "password": "not the password"})
            for i in range(4)]
        assert [resp.status_code for resp in logins] == [401, 401, 401, 429]
        assert logins[-1].headers["Content-Type"] == "application/problem+json"
        assert int(logins[-1].headers["Retry-After"]) > 0

        # Redis is back, holding the boards of its last snapshot (before the outage walk).
        private_redis.start()
        assert r.exists(*r.scan_iter(match=f"*:lb:{{{cid}}}:user:all"))
        assert until(lambda: requests.get(f"{base}/readyz", timeout=30).status_code == 200, 10)
        assert ranks() == [(i + 1, sid, pts) for i, (sid, pts) in enumerate(expected)]
        boards = redis_boards_and_sql(app, r, cid)
        assert {pkey for pkey, _, _ in boards} >= {"all"}
        for pkey, cached, sql in boards:
            assert cached == sql, pkey
        assert dict(next(cached for pkey, cached, _ in boards if pkey == "all")) == totals

        def counted_in_redis() -> bool:
            seen = limiter_count(r)
            board()
            return limiter_count(r) > seen

        assert until(counted_in_redis, 70), "rate limits never went back to Redis"
