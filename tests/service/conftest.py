"""Fixtures for the service tests: side apps (same database, own config) for routes and limits that the
shared session app must not carry."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.conftest import make_test_config


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


@pytest.fixture
def live_url(app: Flask) -> Iterator[str]:
    """The shared test app served over real HTTP on 127.0.0.1 (for clients that are not Flask's)."""
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
