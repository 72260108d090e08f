"""The app factory: the one place that knows every blueprint."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, request
from flask_smorest.spec.plugins import integerconverter2paramschema
from werkzeug.routing import IntegerConverter

from service import errors, idempotency, logs, metrics, openapi_docs, signing_keys
from service.config import ENV_NAMES, Settings, load_settings
from service.db import db
from service.errors import problem
from service.extensions import api, limiter, migrate
from service.schemas import INT32_MAX

log = logging.getLogger(__name__)

JSON_TYPES = ("application/json",)
BODY_METHODS = {"POST", "PUT", "PATCH"}
MULTIPART_ENDPOINT_SUFFIXES = ("import",)


class Int32Converter(IntegerConverter):
    """``<int:id>`` within the 32-bit id columns: a larger id names no row, so it is a 404, not an overflow
    error from the database driver (a 500)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", INT32_MAX)
        super().__init__(map, *args, **kwargs)


def _flask_config(settings: Settings, overrides: Mapping[str, Any]) -> dict[str, Any]:
    # No pool_pre_ping: it costs a round trip per request; a connection dropped by a database restart fails
    # one statement, SQLAlchemy then invalidates the whole pool, and /readyz retries once (service.health).
    # hide_parameters: a statement's values (an activity's times and figures) stay out of error messages and logs.
    engine_options: dict[str, Any] = {"pool_recycle": 1800, "hide_parameters": True}
    if settings.database_url.startswith("sqlite"):
        engine_options = {"connect_args": {"timeout": 30, "check_same_thread": False}, "hide_parameters": True}
    return {
        "SECRET_KEY": settings.secret_key,
        "SQLALCHEMY_DATABASE_URI": settings.database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
        "MAX_CONTENT_LENGTH": settings.max_content_length,
        "API_TITLE": "VCC challenge backend",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "/docs",
        "OPENAPI_SWAGGER_UI_URL": "/api/docs/static/",
        "API_SPEC_OPTIONS": {
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                                              "bearerFormat": "JWT"}}},
            "info": {"description": "Gamified active-lifestyle challenges: accounts, challenges, "
                                    "activity ingest, scoring, leaderboards, badges and nudges."},
        },
        "RATELIMIT_ENABLED": settings.ratelimit_enabled,
        "RATELIMIT_DEFAULT": settings.ratelimit_default,
        "RATELIMIT_STORAGE_URI": settings.redis_url or "memory://",
        # Redis down: count in this process's memory (flask-limiter retries Redis after 1, 2, 4 ... 32 s and
        # goes back to it once it answers) instead of failing every request before its view runs.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_HEADERS_ENABLED": True,
        **{k: v for k, v in overrides.items() if k.isupper() and k not in ENV_NAMES},
    }


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. ``config`` may override environment variables (by their names) and Flask keys."""
    overrides = dict(config or {})
    import os

    environ = {**os.environ, **{k: str(v) for k, v in overrides.items() if k in ENV_NAMES}}
    settings = load_settings(environ)
    logs.configure_logging(settings.log_level)

    app = Flask(__name__, instance_path=str(settings.instance_path), instance_relative_config=False)
    app.config.update(settings.tunables)
    app.config.update(_flask_config(settings, overrides))
    app.extensions["vcc_settings"] = settings
    if settings.trusted_proxies:  # only then is X-Forwarded-For believed (rate limits key on the client address)
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies,  # type: ignore[method-assign]
                                x_proto=settings.trusted_proxies)

    app.url_map.converters["int"] = Int32Converter
    db.init_app(app)
    migrate.init_app(app, db, directory=str(_migrations_dir()), compare_type=True)
    limiter.init_app(app)
    api.ERROR_SCHEMA = errors.ProblemSchema  # document errors as the problem+json we send
    api.init_app(app)
    openapi_docs.init_spec(api.spec)
    idempotency.init_spec(api.spec)
    _init_redis(app, settings)
    signing_keys.init_app(app)

    api.register_converter(Int32Converter, integerconverter2paramschema)
    _strict_arguments()
    _register_blueprints(app)
    _register_commands(app)
    errors.init_app(app)
    logs.init_app(app)
    metrics.init_app(app, limiter)
    _init_content_rules(app, settings)
    return app


def _strict_arguments() -> None:
    """webargs excludes unknown query parameters by default, so ``?limt=5`` (or a nameless ``?=0``) was
    silently ignored; the base schemas' policy (unknown fields are an error) now holds for queries too. JSON
    bodies are parsed within ``service.strict_json``'s limits (nesting, integer size, no NaN or infinity)."""
    from flask_smorest.arguments import ArgumentsMixin

    from service import strict_json

    parser = ArgumentsMixin.ARGUMENTS_PARSER
    parser.DEFAULT_UNKNOWN_BY_LOCATION = {**type(parser).DEFAULT_UNKNOWN_BY_LOCATION, "query": None,
                                          "querystring": None}
    parser.location_loader("json")(strict_json.load_json_body)


def _migrations_dir() -> Any:
    from service.config import PROJECT_ROOT

    return PROJECT_ROOT / "migrations"


def _init_redis(app: Flask, settings: Settings) -> None:
    if settings.redis_url:
        import redis

        app.extensions["vcc_redis"] = redis.Redis.from_url(settings.redis_url, decode_responses=True)


def _register_blueprints(app: Flask) -> None:
    from challenges.api import blueprints as challenge_blueprints
    from notifications.api import blueprints as notification_blueprints
    from scoring.api import blueprints as scoring_blueprints
    from service import accounts_api, auth_api, exports_api, health
    from service.mail import api as mail_api
    from service.mail import pages as mail_pages

    app.register_blueprint(health.bp)
    app.register_blueprint(mail_pages.bp)
    for blp in (*auth_api.blueprints, *accounts_api.blueprints, *mail_api.blueprints, *exports_api.blueprints,
                *scoring_blueprints, *challenge_blueprints, *notification_blueprints):
        api.register_blueprint(blp)
    try:
        from service import dashboard
    except ImportError:
        return
    app.register_blueprint(dashboard.bp)


def _register_commands(app: Flask) -> None:
    from challenges.cli import commands as challenge_commands
    from notifications.cli import commands as notification_commands
    from scoring.cli import commands as scoring_commands

    for command in (*scoring_commands, *challenge_commands, *notification_commands):
        app.cli.add_command(command)


def _init_content_rules(app: Flask, settings: Settings) -> None:
    @app.before_request
    def _require_json_body() -> Response | None:
        if request.method not in BODY_METHODS:
            return None
        has_body = (request.content_length or 0) > 0 or request.headers.get("Transfer-Encoding")
        if not has_body:
            return None
        mimetype = request.mimetype or ""
        if mimetype in JSON_TYPES or mimetype.endswith("+json"):
            return None
        if mimetype == "multipart/form-data" and (request.endpoint or "").endswith(MULTIPART_ENDPOINT_SUFFIXES):
            return None
        if request.blueprint in (None, "health"):
            return None
        return problem(415, "unsupported-media-type", "Unsupported Media Type",
                       f"Send the body as application/json, not {mimetype or 'an untyped body'}.")

    @app.after_request
    def _cors(response: Response) -> Response:
        origin = request.headers.get("Origin")
        if origin and (origin in settings.cors_origins or "*" in settings.cors_origins):
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
            response.headers["Access-Control-Allow-Headers"] = (
                "Authorization, Content-Type, Idempotency-Key, X-Request-ID")
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
            response.headers["Access-Control-Max-Age"] = "600"
            response.headers["Access-Control-Expose-Headers"] = "X-Request-ID, Retry-After, Idempotent-Replayed"
        return response
