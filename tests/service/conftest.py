"""Fixtures for the service tests: the shared app served over real HTTP."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from flask import Flask


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
