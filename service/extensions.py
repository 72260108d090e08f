"""Extension handles, created unbound so blueprints can import them before the app exists."""

from __future__ import annotations

from flask import request
from flask_limiter import Limiter
from flask_migrate import Migrate
from flask_smorest import Api

__all__ = ["api", "limiter", "migrate"]


def _client_key() -> str:
    """The client address; X-Forwarded-For counts only through ProxyFix (TRUSTED_PROXIES), never raw."""
    return request.remote_addr or "local"


api = Api()
migrate = Migrate()
limiter = Limiter(key_func=_client_key)
