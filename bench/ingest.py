"""``python -m bench ingest``: activity ingest under gunicorn, against the bare one-INSERT baseline.

1. Single POST: ``POST /api/v1/activities`` through the whole path (JWT auth, validation, plausibility, dedupe,
   the activity INSERT, an entry per challenge, the ledger, the leaderboard upsert, badge checks, commit)
   versus ``bench.baseline_app`` (parse JSON, one INSERT, commit) on the same database, in alternating rounds.
   Target: >= 70% of the baseline's requests/s.
2. Batch: ``POST /api/v1/activities/batch`` with 1,000 wearable records per request, every one scored in a
   running challenge; the figure is scored activities per second. Target: >= 20,000/s.
3. (informational) the same batch path in-process, without HTTP, to show what the request around it costs.
4. (informational, in the same alternating rounds as 1) ``bench.floor_app``: the service's own stack (JWT auth
   loading the user, marshmallow validation of the same body) ending in one INSERT, with 0 and 4 extra one-row
   SELECTs: how close to the baseline any authenticated write can get, and what each further round trip costs.

Each participant is enrolled in one running challenge (active minutes, grace 30 days), so every activity is
scored. Start times never overlap for the same participant, so nothing is deduplicated away: the bench
measures real work, not the cheap duplicate path.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.floor_app import EXTRA_STATEMENTS
from bench.harness import (
    BaselineRequests,
    BenchOptions,
    Figure,
    Load,
    Request,
    absolute,
    at_least,
    baseline_server,
    bench_environment,
    compare,
    drive,
    emit,
    measure_alternating,
    serve,
)

USERS = 600
BATCH_ITEMS = 1000
ROUND = 10_000_000  # measure_alternating starts each round's seq at round * 10M


def _compact(seq: int) -> int:
    """A small unique number per request of one client across the rounds of an alternating comparison."""
    return (seq // ROUND) * 200_000 + seq % ROUND


def seed(app: Any, users: int = USERS) -> tuple[list[str], datetime]:
    """Participants enrolled in a running challenge, their bearer tokens, and the first start time to use."""
    from sqlalchemy import insert, select

    from challenges.models import Challenge, ChallengeFormat, ChallengeStatus, Enrolment, Setting
    from scoring import badges
    from scoring.types import Metric
    from service.accounts import create_organisation
    from service.auth import issue_access_token
    from service.db import db
    from service.models import OrgKind, User

    now = datetime.now(UTC)
    tag = uuid.uuid4().hex[:6]
    with app.app_context():
        session = db.session
        org = create_organisation(session, creator=None, kind=OrgKind.MUNICIPALITY, name=f"Bench {tag}",
                                  country="FI", timezone="Europe/Helsinki")
        challenge = Challenge(organisation_id=org.id, title="Bench month", setting=Setting.PUBLIC_SPACE,
                              metric=Metric.ACTIVE_MINUTES, format=ChallengeFormat.INDIVIDUAL,
                              starts_at=now - timedelta(days=60), ends_at=now + timedelta(days=30),
                              timezone="Europe/Helsinki", status=ChallengeStatus.PUBLISHED, grace_days=90,
                              published_at=now)
        session.add(challenge)
        session.execute(insert(User), [
            {"email": f"i{tag}{i}@bench.vcc", "display_name": f"Bench {i}", "timezone": "Europe/Helsinki",
             "locale": "en", "password_hash": "x", "is_superuser": False, "hide_from_leaderboards": False,
             "created_at": now, "health_data_consent_at": now, "health_data_consent_version": "bench"}
            for i in range(users)])
        session.flush()
        people = list(session.scalars(select(User).where(User.email.like(f"i{tag}%")).order_by(User.id)))
        session.execute(insert(Enrolment), [{"challenge_id": challenge.id, "user_id": u.id, "joined_at": now}
                                            for u in people])
        badges.ensure_definitions(session)
        session.commit()
        with app.test_request_context():
            tokens = [issue_access_token(u)[0] for u in people]
        session.remove()
    return tokens, now - timedelta(days=58)


@dataclass(frozen=True)
class SingleRequests:
    """POST /api/v1/activities: one walk per request; client c uses its own slice of the participants."""

    tokens: tuple[str, ...]
    base: datetime
    clients: int
    nonce: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    def __call__(self, client: int, seq: int) -> Request:
        n = _compact(seq)
        per_client = max(1, len(self.tokens) // self.clients)
        user = client * per_client + n % per_client
        started = self.base + timedelta(minutes=3 * (n // per_client))
        body = {"type": "walking", "started_at": started.isoformat(), "duration_s": 120, "distance_m": 180.0,
                "source": "wearable", "external_id": f"{self.nonce}-{client}-{seq}"}
        return Request("POST", "/api/v1/activities", json.dumps(body).encode(),
                       (("Authorization", f"Bearer {self.tokens[user]}"),))


@dataclass(frozen=True)
class FloorRequests:
    """The single POST's body, sent to ``bench.floor_app`` (the service's stack, then one INSERT)."""

    single: SingleRequests
    extra: int

    def __call__(self, client: int, seq: int) -> Request:
        req = self.single(client, seq)
        return Request("POST", f"/bench/floor/{self.extra}", req.body, req.headers)


@dataclass(frozen=True)
class BatchRequests:
    """POST /api/v1/activities/batch: 1,000 five-minute walks of one participant, never overlapping."""

    tokens: tuple[str, ...]
    base: datetime
    clients: int
    nonce: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    def body(self, client: int, seq: int) -> tuple[int, bytes]:
        n = _compact(seq) * self.clients + client
        user = n % len(self.tokens)
        start = self.base + timedelta(minutes=6 * BATCH_ITEMS * (n // len(self.tokens)))
        items = [{"source": "wearable", "external_id": f"{self.nonce}-{n}-{i}", "type": "walking",
                  "started_at": (start + timedelta(minutes=6 * i)).isoformat(), "duration_s": 300,
                  "distance_m": 420.0} for i in range(BATCH_ITEMS)]
        return user, json.dumps({"items": items}).encode()

    def __call__(self, client: int, seq: int) -> Request:
        user, body = self.body(client, seq)
        return Request("POST", "/api/v1/activities/batch", body, (("Authorization", f"Bearer {self.tokens[user]}"),))


def _in_process_batch(app: Any, factory: BatchRequests, batches: int = 5) -> float:
    """Scored activities/s of the batch use case called directly (no HTTP, JSON already parsed)."""
    from challenges.activities import ingest
    from service.auth import _decode_access
    from service.db import db
    from service.models import User

    elapsed = 0.0
    with app.app_context():
        for k in range(batches):
            token = factory.tokens[-1 - k]
            with app.test_request_context():
                user = db.session.get(User, int(_decode_access(token)["sub"]))
            start = factory.base + timedelta(days=40)
            items = [{"source": "wearable", "external_id": f"direct-{k}-{i}", "type": "walking",
                      "started_at": (start + timedelta(minutes=6 * i)).isoformat(), "duration_s": 300,
                      "distance_m": 420.0} for i in range(BATCH_ITEMS)]
            started = time.perf_counter()
            results = ingest.sync_batch(db.session, user, items)
            db.session.commit()
            elapsed += time.perf_counter() - started
            assert all(r.status == "created" for r in results), {r.reason for r in results}
        db.session.remove()
    return batches * BATCH_ITEMS / elapsed


def _statements(app: Any, factory: SingleRequests) -> str:
    """SQL statements one single POST sends, by the module that sent them: where the round trips go (a
    participant's first walk of a day also checks streak badges and may award one: a read and a write more)."""
    import traceback
    from collections import Counter

    from sqlalchemy import event

    from service.db import db

    with app.app_context():
        engine = db.engine
    counts: Counter[str] = Counter()

    def count(*_: Any) -> None:
        frames = [f.filename for f in traceback.extract_stack()]
        owner = next((name for name in ("scoring/badges", "scoring/", "challenges/", "service/")
                      if any(name in f for f in frames)), "other")
        counts[owner.rstrip("/")] += 1

    client = app.test_client()
    per_client = max(1, len(factory.tokens) // factory.clients)
    for k in range(3):  # one participant's third walk of the day: no first-of-the-day badge checks
        req = factory(0, 70_000_000 + k * per_client)
        if k == 2:
            event.listen(engine, "before_cursor_execute", count)
        client.open(req.path, method=req.method, data=req.body,
                    headers={**dict(req.headers), "Content-Type": "application/json"})
    event.remove(engine, "before_cursor_execute", count)
    return ", ".join(f"{n} {name}" for name, n in counts.most_common()) + f" ({sum(counts.values())} in all)"


def run(options: BenchOptions) -> list[Figure]:
    figures: list[Figure] = []
    with bench_environment(options) as env:
        tokens, base = seed(env.app())
        half = len(tokens) // 2
        single = SingleRequests(tuple(tokens[:half]), base, options.clients)
        print(f"   statements per single POST by sender: {_statements(env.app(), single)}; the baseline sends 1 "
              "INSERT", flush=True)
        batch = BatchRequests(tuple(tokens[half:]), base, options.clients)
        from bench.baseline_app import URL_ENV

        floor_env = env.service_env(**{URL_ENV: env.database_url})
        with baseline_server(env, options) as bare, \
                serve("wsgi:app", env.service_env(), options.workers, worker_class=options.worker_class) as svc, \
                serve("bench.floor_app:create_app()", floor_env, options.workers,
                      worker_class=options.worker_class) as floor:
            loads = {"baseline": Load(bare, BaselineRequests(), (201,)), "service": Load(svc, single, (201,))}
            for k in EXTRA_STATEMENTS:
                loads[f"floor+{k}"] = Load(floor, FloorRequests(single, k), (201,))
            results = measure_alternating(loads, options)
            for name, result in results.items():
                print(f"   {name}: {result.summary()}", flush=True)
            base_rps = results["baseline"].requests_per_s
            figures.append(emit(compare("ingest single POST /api/v1/activities", results["service"].requests_per_s,
                                        base_rps, "req/s", at_least(0.70))))
            figures.append(emit(compare("service floor: auth + validation + one INSERT",
                                        results["floor+0"].requests_per_s, base_rps, "req/s",
                                        note="informational: the stack alone")))
            last = EXTRA_STATEMENTS[-1]
            per_statement = (results["floor+0"].requests_per_s - results[f"floor+{last}"].requests_per_s) / last
            figures.append(emit(compare("each further one-row SELECT in a request costs", per_statement, base_rps,
                                        "req/s", note="informational: the price of a round trip")))
            batched = drive(svc.host, svc.port, batch, clients=options.clients, duration=options.duration,
                            warmup=options.warmup, expect=(200,))
            print(f"   batch of {BATCH_ITEMS}: {batched.summary()}", flush=True)
        figures.append(emit(absolute(f"ingest batch ({BATCH_ITEMS} per request, HTTP, all scored)",
                                     batched.requests_per_s * BATCH_ITEMS, "activities/s", target=20_000)))
        direct = _in_process_batch(env.app(), batch)
        figures.append(emit(absolute("ingest batch use case in-process (no HTTP)", direct, "activities/s",
                                     note="informational")))
    return figures


if __name__ == "__main__":
    run(BenchOptions.from_env())
