"""The benchmark harness: a fresh migrated database, gunicorn servers, the load driver and the printer.

A bench module (bench/ingest.py, bench/leaderboard.py, bench/nudges.py) defines
``run(options: BenchOptions) -> list[Figure]`` and typically reads::

    with bench_environment(options) as env:                      # fresh DB, migrated; dropped afterwards
        base = run_baseline(env, options)                         # bare one-INSERT endpoint under gunicorn
        with serve("wsgi:app", env.service_env(), options.workers) as server:
            result = drive(server.host, server.port, my_factory, clients=options.clients,
                           duration=options.duration, warmup=options.warmup, expect=(201,))
        return [emit(compare("ingest single POST", result.requests_per_s, base.requests_per_s,
                             "req/s", at_least(0.70)))]

See bench/README.md for the whole API and the choices behind it (workers, clients, warm-up).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.load import (
    CallStats,
    LoadResult,
    Request,
    RequestFactory,
    default_clients,
    drive,
    merge,
    percentile,
    time_calls,
)
from bench.report import Figure, Target, absolute, at_least, at_most, compare, emit, summary
from bench.server import Server, free_port, serve

__all__ = [
    "BaselineRequests", "BenchEnv", "BenchOptions", "CallStats", "Figure", "Load", "LoadResult", "Request",
    "RequestFactory", "Server", "Target", "absolute", "at_least", "at_most", "baseline_request", "baseline_server",
    "bench_environment", "compare", "default_clients", "drive", "emit", "free_port", "measure_alternating", "merge",
    "percentile", "run_baseline", "serve", "summary", "time_calls",
]

PROJECT_ROOT = Path(__file__).resolve().parent.parent  # where gunicorn runs (wsgi.py, bench/)
BENCH_SECRET = "bench-secret-key-that-is-long-enough-for-hs256-0123456789abcdef"


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw else default


@dataclass(frozen=True)
class BenchOptions:
    """Knobs shared by every bench; ``from_env()`` reads BENCH_* variables (see bench/README.md)."""

    workers: int = 2
    clients: int = 4
    duration: float = 5.0
    warmup: float = 1.0
    worker_class: str = "sync"
    database_url: str | None = None  # an admin URL: a fresh database is created beside it and dropped after
    redis_url: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, **overrides: Any) -> BenchOptions:
        workers = int(overrides.get("workers") or os.environ.get("BENCH_WORKERS") or 2)
        values: dict[str, Any] = {
            "workers": workers,
            "clients": int(os.environ.get("BENCH_CLIENTS") or default_clients(workers)),
            "duration": _env_float("BENCH_DURATION", 5.0),
            "warmup": _env_float("BENCH_WARMUP", 1.0),
            "worker_class": os.environ.get("BENCH_WORKER_CLASS") or "sync",
            "database_url": os.environ.get("BENCH_DATABASE_URL") or None,
            "redis_url": os.environ.get("BENCH_REDIS_URL") or None,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


@dataclass
class BenchEnv:
    """One benchmark's world: its database URL, instance dir, Redis URL/prefix and the config that reaches it."""

    database_url: str
    instance_dir: Path
    redis_url: str | None
    redis_prefix: str
    _app: Any = None

    def service_env(self, **extra: str) -> dict[str, str]:
        """Environment variables for the service (gunicorn's env, or ``create_app(config=...)``)."""
        env = {
            "DATABASE_URL": self.database_url,
            "SECRET_KEY": BENCH_SECRET,
            "VCC_INSTANCE_PATH": str(self.instance_dir),
            "RATELIMIT_ENABLED": "false",  # the limiter would cap the bench at 600/min per client
            "LOG_LEVEL": "WARNING",  # no per-request access log lines: the bench measures the app, not stderr
            "REDIS_KEY_PREFIX": self.redis_prefix,
            "VCC_ENV": "development",
        }
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        env.update(extra)
        return env

    def app(self) -> Any:
        """An in-process service app on this database (for seeding data or profiling); made once."""
        if self._app is None:
            from service.app import create_app

            self._app = create_app(self.service_env())
        return self._app


def _is_postgres(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql"))


@contextmanager
def _fresh_database(admin_url: str | None, tmp: Path) -> Iterator[str]:
    if not admin_url:
        yield f"sqlite:///{tmp / 'bench.sqlite3'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from service.config import normalise_database_url

    if not _is_postgres(admin_url):
        raise ValueError(f"BENCH_DATABASE_URL must be a PostgreSQL URL, got {admin_url!r}")
    url = make_url(normalise_database_url(admin_url))
    name = f"vcc_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _drop_redis_keys(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    batch: list[Any] = []
    for key in client.scan_iter(match=f"{prefix}*", count=1000):
        batch.append(key)
        if len(batch) >= 500:
            client.delete(*batch)
            batch.clear()
    if batch:
        client.delete(*batch)
    client.close()


@contextmanager
def bench_environment(options: BenchOptions | None = None) -> Iterator[BenchEnv]:
    """A fresh database migrated to head by the service's own migrations; everything is removed afterwards.

    SQLite file in a temp dir by default; with ``options.database_url`` (BENCH_DATABASE_URL) a uniquely named
    PostgreSQL database next to it, dropped WITH (FORCE) at the end. Redis keys live under a unique prefix.
    """
    options = options or BenchOptions.from_env()
    tmp = Path(tempfile.mkdtemp(prefix="vcc-bench-"))
    prefix = f"vccbench{uuid.uuid4().hex[:8]}"
    env: BenchEnv | None = None
    try:
        with _fresh_database(options.database_url, tmp) as url:
            env = BenchEnv(database_url=url, instance_dir=tmp / "instance", redis_url=options.redis_url,
                           redis_prefix=prefix)
            env.instance_dir.mkdir()
            _migrate(env)
            try:
                yield env
            finally:
                _dispose(env)
    finally:
        if options.redis_url:
            _drop_redis_keys(options.redis_url, prefix)
        shutil.rmtree(tmp, ignore_errors=True)


def _migrate(env: BenchEnv) -> None:
    from flask_migrate import upgrade

    with env.app().app_context():
        upgrade()


def _dispose(env: BenchEnv) -> None:
    if env._app is not None:
        from service.db import db

        with env._app.app_context():
            db.session.remove()
            db.engine.dispose()


@dataclass(frozen=True)
class BaselineRequests:
    """Request factory for the baseline's POST /insert: a small activity-shaped JSON body, unique per call."""

    nonce: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    users: int = 1000

    def __call__(self, client: int, seq: int) -> Request:
        started = datetime(2026, 5, 1, 6, 0, tzinfo=UTC) + timedelta(minutes=seq % 500_000)
        body = {"user_id": 1 + (client * 7919 + seq) % self.users, "type": "walking", "source": "manual",
                "started_at": started.isoformat(), "duration_s": 1800, "distance_m": 2500.0,
                "external_id": f"{self.nonce}-{client}-{seq}"}
        return Request("POST", "/insert", json.dumps(body).encode())


def baseline_request(client: int, seq: int) -> Request:
    """A one-off baseline request (for smoke tests); benches should use ``BaselineRequests()`` per run."""
    return BaselineRequests(nonce="adhoc")(client, seq)


@contextmanager
def baseline_server(env: BenchEnv, options: BenchOptions) -> Iterator[Server]:
    """bench.baseline_app on ``env``'s database under gunicorn, configured like the service's server."""
    from bench.baseline_app import URL_ENV, create_tables

    create_tables(env.database_url)
    with serve("bench.baseline_app:create_app()", {URL_ENV: env.database_url}, options.workers,
               worker_class=options.worker_class) as server:
        yield server


def run_baseline(env: BenchEnv, options: BenchOptions) -> LoadResult:
    """One load run of POST /insert on the baseline (start, drive, stop)."""
    with baseline_server(env, options) as server:
        return drive(server.host, server.port, BaselineRequests(), clients=options.clients,
                     duration=options.duration, warmup=options.warmup, expect=(201,))


@dataclass(frozen=True)
class Load:
    """A server and what to send it, for :func:`measure_alternating`."""

    server: Server
    factory: RequestFactory
    expect: tuple[int, ...] = (200, 201)


def measure_alternating(loads: Mapping[str, Load], options: BenchOptions, rounds: int = 3) -> dict[str, LoadResult]:
    """Drive each server in turn for ``rounds`` short rounds (A B, B A, A B ...) and merge each one's rounds.

    The way to compare a service with its baseline on a shared 2-core box: anything else running drifts
    over time, and alternating short rounds spreads the drift over both sides instead of one. Each load
    gets ``options.duration / rounds`` measured seconds per round; only the first round has the full warm-up.
    All servers stay up for the whole comparison (an idle gunicorn costs nothing).
    """
    per_round = options.duration / rounds
    results: dict[str, list[LoadResult]] = {name: [] for name in loads}
    names = list(loads)
    for round_no in range(rounds):
        for name in names if round_no % 2 == 0 else reversed(names):
            load = loads[name]
            warmup = options.warmup if round_no == 0 else min(options.warmup, 0.2)
            results[name].append(drive(load.server.host, load.server.port, load.factory, clients=options.clients,
                                       duration=per_round, warmup=warmup, expect=load.expect,
                                       seq_start=round_no * 10_000_000))
    return {name: merge(parts) for name, parts in results.items()}
