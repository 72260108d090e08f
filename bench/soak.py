"""``python -m bench.soak``: faults under load, then proof that nothing acknowledged was lost or counted twice.

Not part of ``make test`` (it needs a minute and starts servers of its own). It starts, on free loopback ports:
its own PostgreSQL cluster (``initdb`` as the postgres user into a temporary directory, so restarting it
disturbs nobody), its own Redis, the service under gunicorn with several workers, and ``vcc scheduler``.
Clients post single activities (``Idempotency-Key`` and ``external_id``) and overlapping batches (the same
records sent twice at once, plus a second source covering the same minutes, so dedupe works under faults
too), and retry whatever did not get an answer. Meanwhile, in order: a worker is killed with ``kill -9`` while
requests are in flight, Redis is flushed, Redis is stopped and started again, PostgreSQL restarts, the
scheduler is killed and started again. Then every client drains, and the checks run:

- every acknowledged write is stored exactly once (by source and external id);
- no source is counted twice: per challenge and source key, at most one live scoring line;
- the SQL board lines equal the ledger, and the Redis boards equal the SQL lines (after a read rebuilds them);
- no nudge was delivered twice (one successful attempt per nudge and device at most).

It prints ``nothing lost`` with the counts, and the 5xx answers seen in each fault's window; it exits 1 when a
check fails. Knobs: ``SOAK_SECONDS`` (per phase, default 6), ``SOAK_CLIENTS`` (default 6), ``SOAK_WORKERS``
(default 3).
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.harness import BENCH_SECRET
from bench.ingest import seed
from bench.server import PROJECT_ROOT, Server, free_port

PG_BIN = Path(sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]) if Path("/usr/lib/postgresql").is_dir() else None


def _as_postgres(*cmd: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else list(cmd)


class Postgres:
    """A throw-away cluster: trust auth on loopback, no fsync (a soak checks logic under faults, not disks)."""

    def __init__(self) -> None:
        if PG_BIN is None:
            raise SystemExit("bench.soak needs PostgreSQL's server binaries (/usr/lib/postgresql/*/bin)")
        self.dir = Path(tempfile.mkdtemp(prefix="vcc-soak-pg-"))
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        subprocess.run(_as_postgres(str(PG_BIN / "initdb"), "-D", str(self.dir / "data"), "-U", "postgres",
                                    "-A", "trust", "--no-sync"), check=True, capture_output=True)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60"
        subprocess.run(_as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.dir / "data"), "-w", "-o", opts,
                                    "-l", str(self.dir / "log"), *args), check=True, capture_output=True)

    def start(self) -> None:
        self._ctl("start")

    def restart(self) -> None:
        self._ctl("restart", "-m", "fast")

    def stop(self) -> None:
        self._ctl("stop", "-m", "immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


class Redis:
    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        for _ in range(100):
            try:
                redis.Redis.from_url(self.url).ping()
                return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None

    def flushall(self) -> None:
        import redis

        redis.Redis.from_url(self.url).flushall()


@dataclass
class Tally:
    """What the clients saw: acknowledged writes, and the answers by status in each fault's window."""

    acked: set[tuple[str, str]] = field(default_factory=set)  # (source, external_id)
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    phase: str = "warm-up"
    lock: threading.Lock = field(default_factory=threading.Lock)
    errors: list[str] = field(default_factory=list)

    def saw(self, status: int) -> None:
        with self.lock:
            self.statuses[self.phase][status] += 1


def _send(port: int, method: str, path: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, json.dumps(body), {"Content-Type": "application/json", **headers})
        resp = conn.getresponse()
        raw = resp.read()
        return resp.status, json.loads(raw) if raw else None
    finally:
        conn.close()


def _until_answered(port: int, tally: Tally, stop: threading.Event, method: str, path: str, body: dict[str, Any],
                    headers: dict[str, str]) -> Any:
    """Retry the same request (same Idempotency-Key) until the service answers it, as a phone does."""
    delay = 0.05
    while True:
        try:
            status, answer = _send(port, method, path, body, headers)
        except (OSError, http.client.HTTPException):
            status, answer = 0, None
        tally.saw(status)
        if status in (200, 201):
            return answer
        if 400 <= status < 500 and status not in (409, 429):
            raise RuntimeError(f"{path} refused: {status} {answer}")
        time.sleep(delay)
        delay = min(1.0, delay * 2)


def _client(k: int, port: int, token: str, base: datetime, tally: Tally, stop: threading.Event) -> None:
    try:
        _walks(k, port, token, base, tally, stop)
    except Exception as exc:  # a refused request is a finding, reported with the checks
        with tally.lock:
            tally.errors.append(f"client {k}: {exc}")


def _walks(k: int, port: int, token: str, base: datetime, tally: Tally, stop: threading.Event) -> None:
    """Single walks, and every fifth round an overlapping pair of batches plus a richer record of the same
    minutes from a second source."""
    auth = {"Authorization": f"Bearer {token}"}
    n = 0
    while not stop.is_set():
        start = base + timedelta(minutes=40 * n)
        ext = f"soak-{k}-{n}"
        body = {"type": "walking", "started_at": start.isoformat(), "duration_s": 600, "distance_m": 800.0,
                "source": "wearable", "external_id": ext}
        _until_answered(port, tally, stop, "POST", "/api/v1/activities", body,
                        {**auth, "Idempotency-Key": f"{ext}-key"})
        with tally.lock:
            tally.acked.add(("wearable", ext))
        if n % 5 == 4:
            later = start + timedelta(minutes=15)
            items = [{"source": "health_connect", "external_id": f"{ext}-b{i}", "type": "walking",
                      "started_at": (later + timedelta(minutes=4 * i)).isoformat(), "duration_s": 180,
                      "distance_m": 200.0} for i in range(5)]
            richer = {"source": "garmin", "external_id": f"{ext}-g", "type": "walking",
                      "started_at": later.isoformat(), "duration_s": 20 * 60, "distance_m": 1600.0, "steps": 2400}
            sends = [items, items, [richer]]
            answers: list[Any] = [None] * len(sends)

            def post(slot: int, batch: list[dict[str, Any]], out: list[Any] = answers) -> None:
                out[slot] = _until_answered(port, tally, stop, "POST", "/api/v1/activities/batch",
                                                {"items": batch}, auth)

            threads = [threading.Thread(target=post, args=(slot, batch)) for slot, batch in enumerate(sends)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            for answer, sent in zip(answers, sends, strict=True):
                refused = [r for r in answer["results"] if r["status"] == "rejected"]
                if refused:
                    raise RuntimeError(f"batch items refused: {refused}")
                with tally.lock:
                    tally.acked.update((i["source"], r["external_id"]) for i, r in zip(sent, answer["results"],
                                                                                        strict=True))
        n += 1


def _nudge_traffic(app: Any, start: datetime, every_s: float, count: int) -> None:
    """A device per participant and organiser announcements due during the faults, so nudges are planned and
    dispatched (by the log sender) while the scheduler is killed and the database restarts."""
    from sqlalchemy import select

    from challenges.models import Challenge, Enrolment
    from notifications.models import Announcement, DeviceToken, Platform
    from service.db import db

    with app.app_context():
        s = db.session
        challenge = s.scalars(select(Challenge).order_by(Challenge.id.desc())).first()
        assert challenge is not None
        for user_id in s.scalars(select(Enrolment.user_id).where(Enrolment.challenge_id == challenge.id)):
            s.add(DeviceToken(user_id=user_id, token=f"soak-token-{user_id}-{uuid.uuid4().hex}",
                              platform=Platform.ANDROID))
        for k in range(count):
            s.add(Announcement(challenge_id=challenge.id, title=f"Soak {k}", body="Keep moving",
                               scheduled_at=start + timedelta(seconds=every_s * k)))
        s.commit()
        db.session.remove()


def _worker_pids(master: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in out]


@contextmanager
def _scheduler(env: dict[str, str], log: Path) -> Iterator[Callable[[], None]]:
    procs: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        with log.open("ab") as out:
            procs.append(subprocess.Popen([sys.executable, "-m", "service.cli", "scheduler"], env=env,
                                          cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT))

    def kill_and_restart() -> None:
        procs[-1].send_signal(signal.SIGKILL)
        procs[-1].wait(10)
        start()

    start()
    try:
        yield kill_and_restart
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                p.wait(15)


def _checks(app: Any, tally: Tally) -> list[str]:
    """What must hold after the faults; each failure is one line."""
    from sqlalchemy import case, func, select

    from challenges.activities.models import Activity
    from notifications.models import AttemptOutcome, DeliveryAttempt, Nudge
    from scoring import leaderboards
    from scoring.ledger import rescore_contest
    from scoring.models import EntryKind, LeaderboardTotal, PointsEntry
    from scoring.types import Period, Scope
    from service.db import db

    failures: list[str] = list(tally.errors)
    with app.app_context():
        db.engine.dispose()  # its pooled connections died with the PostgreSQL restart
        s = db.session
        stored = Counter((str(src.value if hasattr(src, "value") else src), ext) for src, ext in s.execute(
            select(Activity.source, Activity.external_id).where(Activity.external_id.like("soak-%"))))
        missing = [key for key in tally.acked if stored[key] == 0]
        twice = [key for key, n in stored.items() if n > 1]
        if missing:
            failures.append(f"{len(missing)} acknowledged writes missing, e.g. {missing[:3]}")
        if twice:
            failures.append(f"{len(twice)} writes stored more than once, e.g. {twice[:3]}")
        live = func.sum(case((PointsEntry.kind == EntryKind.ACTIVITY, 1),
                             (PointsEntry.kind == EntryKind.REVERSAL, -1), else_=0))
        per_source = s.execute(select(PointsEntry.contest_id, PointsEntry.source_key, func.sum(PointsEntry.points),
                                      func.count(), live)
                               .group_by(PointsEntry.contest_id, PointsEntry.source_key)).all()
        doubled = [r for r in per_source if r[4] > 1 or r[4] < 0 or r[2] < 0]
        if doubled:
            failures.append(f"{len(doubled)} sources scored or reversed twice, e.g. {[r[1] for r in doubled[:3]]}")
        contests = sorted({r[0] for r in per_source})
        before = {c: sorted(s.execute(select(LeaderboardTotal.scope, LeaderboardTotal.period_key,
                                             LeaderboardTotal.subject_id, LeaderboardTotal.points)
                                      .where(LeaderboardTotal.contest_id == c, LeaderboardTotal.points != 0)).all())
                  for c in contests}
        for c in contests:
            read = {(r.subject_id, r.points) for r in leaderboards.board(s, c, Scope.USER, Period.ALL, limit=500).rows}
            lines = {(sid, pts) for scope, pkey, sid, pts in before[c] if str(scope).endswith("user") and pkey == "all"}
            if read != lines:
                failures.append(f"challenge {c}: the board read (Redis) differs from the SQL lines "
                                f"({len(read ^ lines)} rows)")
            rescore_contest(s, c)
            s.commit()
            after = sorted(s.execute(select(LeaderboardTotal.scope, LeaderboardTotal.period_key,
                                            LeaderboardTotal.subject_id, LeaderboardTotal.points)
                                     .where(LeaderboardTotal.contest_id == c, LeaderboardTotal.points != 0)).all())
            if after != before[c]:
                failures.append(f"challenge {c}: SQL board lines differ from the ledger (rescore changed "
                                f"{len(set(after) ^ set(before[c]))} lines)")
        delivered = s.scalar(select(func.count()).select_from(DeliveryAttempt)
                             .where(DeliveryAttempt.outcome == AttemptOutcome.SUCCESS))
        sent_twice = s.execute(select(DeliveryAttempt.nudge_id, DeliveryAttempt.device_id, func.count())
                               .where(DeliveryAttempt.outcome == AttemptOutcome.SUCCESS)
                               .group_by(DeliveryAttempt.nudge_id, DeliveryAttempt.device_id)
                               .having(func.count() > 1)).all()
        nudges = dict(s.execute(select(Nudge.status, func.count()).group_by(Nudge.status)).all())
        print("nudges by status:", {str(k): v for k, v in nudges.items()})
        if sent_twice:
            failures.append(f"{len(sent_twice)} nudges delivered twice to one device")
        print(f"{len(tally.acked)} acknowledged writes, {sum(stored.values())} activities, "
              f"{sum(r[3] for r in per_source)} ledger lines over {len(per_source)} sources, {delivered} pushes")
        db.session.remove()
    return failures


def main() -> int:
    phase_s = float(os.environ.get("SOAK_SECONDS", "6"))
    clients = int(os.environ.get("SOAK_CLIENTS", "6"))
    workers = int(os.environ.get("SOAK_WORKERS", "3"))
    pg, rd = Postgres(), Redis()
    pg.start()
    rd.start()
    instance = Path(tempfile.mkdtemp(prefix="vcc-soak-"))
    env = {**os.environ, "DATABASE_URL": pg.url, "REDIS_URL": rd.url, "SECRET_KEY": BENCH_SECRET,
           "VCC_INSTANCE_PATH": str(instance), "RATELIMIT_DEFAULT": "100000 per minute", "LOG_LEVEL": "WARNING",
           "REDIS_KEY_PREFIX": f"soak{uuid.uuid4().hex[:6]}", "VCC_ENV": "development"}
    failures: list[str] = []
    try:
        subprocess.run([sys.executable, "-m", "service.cli", "db", "upgrade"], env=env, cwd=PROJECT_ROOT,
                       check=True, capture_output=True)
        from service.app import create_app

        app = create_app({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "VCC_INSTANCE_PATH",
                                              "REDIS_KEY_PREFIX")})
        tokens, base = seed(app, users=clients)
        _nudge_traffic(app, datetime.now(UTC), phase_s, 7)
        server = Server("wsgi:app", env, workers=workers, extra_args=("--timeout", "20", "--graceful-timeout", "5"))
        server.start()
        tally, stop = Tally(), threading.Event()
        with _scheduler(env, instance / "scheduler.log") as restart_scheduler:
            threads = [threading.Thread(target=_client, args=(k, server.port, tokens[k], base, tally, stop))
                       for k in range(clients)]
            for t in threads:
                t.start()
            assert server.proc is not None
            faults: list[tuple[str, Callable[[], None]]] = [
                ("kill -9 a worker", lambda: os.kill(_worker_pids(server.proc.pid)[0], signal.SIGKILL)),  # type: ignore[union-attr]
                ("FLUSHALL", rd.flushall),
                ("Redis stopped", rd.stop),
                ("Redis started", rd.start),
                ("PostgreSQL restart", pg.restart),
                ("scheduler kill -9 and restart", restart_scheduler),
            ]
            time.sleep(phase_s)
            for name, fault in faults:
                tally.phase = name
                fault()
                time.sleep(phase_s)
            tally.phase = "drain"
            stop.set()
            for t in threads:
                t.join(120)
            # a second replica's one-off runs beside the restarted scheduler: they must not send anything twice
            for job in ("plan", "dispatch", "dispatch"):
                subprocess.run([sys.executable, "-m", "service.cli", "scheduler", "--once", job], env=env,
                               cwd=PROJECT_ROOT, check=True, capture_output=True)
        server.stop()
        failures = _checks(app, tally)
        if os.environ.get("SOAK_VERBOSE"):
            print((instance / "scheduler.log").read_text()[-3000:])
        for phase, counts in tally.statuses.items():
            fives = {status: n for status, n in sorted(counts.items()) if status >= 500}
            print(f"  {phase:<30} {sum(counts.values()):>6} answers, {sum(fives.values()):>4} 5xx {fives or ''}, "
                  f"{counts.get(0, 0):>4} no answer")
    finally:
        rd.stop()
        pg.stop()
        shutil.rmtree(instance, ignore_errors=True)
    if failures:
        print("LOST OR DOUBLED:\n  " + "\n  ".join(failures))
        return 1
    print("nothing lost")
    return 0


if __name__ == "__main__":
    sys.exit(main())
