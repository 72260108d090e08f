"""Shared fixtures. The schema is always made by the Alembic migrations, once per test session.

Tiers: by default SQLite (a temporary file). With TEST_DATABASE_URL the same suite runs on
PostgreSQL in a fresh database created for this run; with TEST_REDIS_URL leaderboards use Redis under
a key prefix unique to this run. With CI=true an unreachable server fails the run instead of skipping.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from service.config import normalise_database_url

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
RUN_ID = uuid.uuid4().hex[:10]


def _unreachable(what: str, exc: Exception) -> None:
    message = f"{what} is unreachable ({type(exc).__name__}: {exc}); "
    if IN_CI:
        pytest.fail(message + "CI=true makes this tier mandatory.", pytrace=False)
    pytest.skip(message + "skipping this tier (set CI=true to make it fail instead).")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        path = tmp_path_factory.mktemp("db") / "test.sqlite3"
        yield f"sqlite:///{path}"
        return
    url = make_url(normalise_database_url(base))
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"vcc_test_{RUN_ID}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        _unreachable(f"PostgreSQL at {url.render_as_string(hide_password=True)}", exc)
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def redis_url() -> str | None:
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        return None
    import redis

    try:
        redis.Redis.from_url(url).ping()
    except Exception as exc:
        _unreachable(f"Redis at {url}", exc)
    return url


REDIS_PREFIX = f"vcctest{RUN_ID}"


@contextmanager
def serve_http(app: Flask) -> Iterator[str]:
    """``app`` served over real HTTP on a free 127.0.0.1 port, for clients that are not Flask's."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class RedisServer:
    """A redis-server of the test's own on a free loopback port, to stop and start as an outage would. It
    writes no snapshot by itself; ``save()`` takes one, which the next ``start()`` loads (a Redis with
    persistence that comes back holding boards from before the outage)."""

    def __init__(self, directory: Path) -> None:
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.directory = directory
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        import redis

        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise
                time.sleep(0.05)
        client.close()

    def save(self) -> None:
        import redis

        redis.Redis.from_url(self.url).save()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """Needs only the redis-server program, so it runs in every tier; where it is missing the test is skipped
    (CI=true fails instead)."""
    if shutil.which("redis-server") is None:
        _unreachable("redis-server (a private Redis the test stops and starts)",
                     FileNotFoundError("redis-server is not on PATH; install the redis-server package"))
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def make_test_config(database_url: str, redis_url: str | None, tmp: Path, **extra: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-for-hs256-0123456789",
        "VCC_INSTANCE_PATH": str(tmp),
        "RATELIMIT_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
        "REDIS_KEY_PREFIX": REDIS_PREFIX,
    }
    if redis_url:
        config["REDIS_URL"] = redis_url
    config.update(extra)
    return config


@pytest.fixture(scope="session")
def app(database_url: str, redis_url: str | None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    from flask_migrate import upgrade

    from service.app import create_app

    flask_app = create_app(make_test_config(database_url, redis_url, tmp_path_factory.mktemp("instance")))
    with flask_app.app_context():
        upgrade()
    yield flask_app
    with flask_app.app_context():
        from service.db import db

        db.session.remove()
        db.engine.dispose()
    if redis_url:
        _flush_redis(redis_url)


@pytest.fixture
def side_app(app: Flask, database_url: str, tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Build another app on the already-migrated test database; extra keys override the config.

    Depends on ``app`` so the schema exists and rows are wiped after the test. Test-only routes go on
    plain Flask blueprints so the OpenAPI document of the shared app is unaffected.
    """
    from service.app import create_app
    from service.db import db

    built: list[Flask] = []

    def build(**extra: Any) -> Flask:
        flask_app = create_app(make_test_config(database_url, None, tmp_path, **extra))
        built.append(flask_app)
        return flask_app

    yield build
    for flask_app in built:
        with flask_app.app_context():
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()
    if built:  # flask-limiter has one process-wide Limiter: hand it back to the shared app (limits off)
        from service.extensions import limiter

        limiter.init_app(app)


def _flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=f"{REDIS_PREFIX}*", count=1000))
    for start in range(0, len(keys), 500):
        client.delete(*keys[start:start + 500])


KEEP_TABLES = {"alembic_version"}


def wipe_database(flask_app: Flask) -> None:
    from service.db import db

    with flask_app.app_context():
        db.session.remove()
        tables = [t for t in reversed(db.metadata.sorted_tables) if t.name not in KEEP_TABLES]
        with db.engine.begin() as conn:
            # DELETE in dependency order: on these small tables it is ~20x faster than TRUNCATE.
            for table in tables:
                conn.execute(table.delete())


@pytest.fixture(autouse=True)
def _clean_state(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "app" in request.fixturenames:
        flask_app = request.getfixturevalue("app")
        wipe_database(flask_app)
        url = request.getfixturevalue("redis_url")
        if url:
            _flush_redis(url)


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> Iterator[None]:
    """Argon2 at production cost takes ~0.1-0.3 s a hash; tests make many users, so use minimal cost here.

    The hashes stay real Argon2id (verify, rehash and timing-equaliser paths run unchanged).
    """
    from argon2 import PasswordHasher

    from service import accounts

    cheap = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts, "_hasher", cheap)
        patch.setattr(accounts, "_DUMMY_HASH", cheap.hash("timing-equaliser"))
        yield


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def session(app: Flask) -> Iterator[Any]:
    from service.db import db

    with app.app_context():
        yield db.session
        db.session.rollback()
        db.session.remove()


@pytest.fixture
def users(session: Any) -> list[Any]:
    """Four people (tests of scoring and of the dialect helpers score for them)."""
    from tests.factories import quick_user

    people = [quick_user(session) for _ in range(4)]
    session.commit()
    return people


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    on_pg = bool(os.environ.get("TEST_DATABASE_URL"))
    on_redis = bool(os.environ.get("TEST_REDIS_URL"))
    for item in items:
        if "postgres" in item.keywords and not on_pg:
            item.add_marker(pytest.mark.skip(
                reason="needs PostgreSQL: runs in the PostgreSQL tier (make test sets TEST_DATABASE_URL)"))
        if "redis" in item.keywords and not on_redis:
            item.add_marker(pytest.mark.skip(
                reason="needs Redis: runs in the Redis tier (make test sets TEST_REDIS_URL)"))
