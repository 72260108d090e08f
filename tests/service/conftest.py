"""Fixtures for the service tests: the shared app served over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from tests.conftest import serve_http


@pytest.fixture
def live_url(app: Flask) -> Iterator[str]:
    """The shared test app served over real HTTP on 127.0.0.1 (for clients that are not Flask's)."""
    with serve_http(app) as url:
        yield url
