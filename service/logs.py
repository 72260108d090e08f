"""Structured (JSON line) logs carrying the request id, accepted from X-Request-ID or generated."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from types import TracebackType

from flask import Flask, Response, g, has_request_context, request

_SAFE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_DB_DETAIL = re.compile(r"^DETAIL:.*?(?=^\[SQL: |^HINT: |^CONTEXT: |^\(Background |^$|\Z)", re.M | re.S)


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # terminal colours (werkzeug paints its lines), noise in a JSON line


REQUEST_FIELDS = ("request_id", "path", "method")
_base_factory = logging.getLogRecordFactory()


def _record_factory(*args: object, **kwargs: object) -> logging.LogRecord:
    """Stamp the request id on every record when it is made, so any handler (and caplog) sees it."""
    record = _base_factory(*args, **kwargs)
    if has_request_context():
        record.request_id = g.get("request_id")
        record.path = request.path
        record.method = request.method
    return record


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "msg": _ANSI.sub("", record.getMessage()),
        }
        for key in (*REQUEST_FIELDS, "status", "duration_ms", "user_id"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exc"] = _ANSI.sub("", self.formatException(record.exc_info))
        return json.dumps(entry, default=str)

    def formatException(self, ei: tuple[type[BaseException], BaseException, TracebackType | None]
                        | tuple[None, None, None]) -> str:
        """Without PostgreSQL's DETAIL: a violated constraint's DETAIL repeats the failing row, values and all
        (an activity's times and figures), which the engine's hide_parameters cannot reach; the statement and the
        database's message stay."""
        return _DB_DETAIL.sub("", super().formatException(ei))


class _NoServerRequestLines(logging.Filter):
    """werkzeug's development server (``vcc serve``, ``vcc run``) logs each request itself, after ``vcc.access``
    has: one request made two lines. Its request line is the one message ending in the request, status and size
    placeholders (``werkzeug.serving.WSGIRequestHandler.log_request``); its start-up lines and errors stay."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.endswith('"%s" %s %s'))


def configure_logging(level: str) -> None:
    if logging.getLogRecordFactory() is not _record_factory:
        logging.setLogRecordFactory(_record_factory)
    root = logging.getLogger()
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    root.setLevel(level)
    server = logging.getLogger("werkzeug")
    if not any(isinstance(f, _NoServerRequestLines) for f in server.filters):
        server.addFilter(_NoServerRequestLines())


def init_app(app: Flask) -> None:
    access = logging.getLogger("vcc.access")

    @app.before_request
    def _assign_request_id() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    def _echo_request_id(response: Response) -> Response:
        rid = g.get("request_id")
        if rid:
            response.headers["X-Request-ID"] = rid
            started = g.get("started")
            if started is not None and access.isEnabledFor(logging.INFO):
                user = request.environ.get("vcc.current_user")
                access.info("%s %s %s", request.method, request.path, response.status_code,
                            extra={"status": response.status_code, "user_id": getattr(user, "id", None),
                                   "duration_ms": round((time.perf_counter() - started) * 1000, 2)})
        return response
