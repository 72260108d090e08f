"""Domain error kinds and the single place that turns any error into RFC 9457 problem+json.

Domain packages raise subclasses of the kinds below (``class ChallengeClosed(Conflict)``); they
carry no HTTP. ``STATUS_BY_KIND`` is the one table that maps kinds to statuses.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, g, json, request
from marshmallow import INCLUDE, Schema, ValidationError, fields
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

PROBLEM_BASE = "https://vcc-backend.example/problems/"
PROBLEM_MIME = "application/problem+json"


class DomainError(Exception):
    """Base of every error the domain raises on purpose. ``code`` becomes the problem ``type``."""

    code = "domain-error"
    title = "Request cannot be carried out"

    def __init__(self, detail: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        self.extra = extra


class Invalid(DomainError):
    code = "invalid"
    title = "Invalid request"


class Unprocessable(DomainError):
    code = "unprocessable"
    title = "Unprocessable content"


class NotFound(DomainError):
    code = "not-found"
    title = "Not found"


class Conflict(DomainError):
    code = "conflict"
    title = "Conflict"


class Unauthenticated(DomainError):
    code = "unauthenticated"
    title = "Authentication required"


class Forbidden(DomainError):
    code = "forbidden"
    title = "Forbidden"


class Gone(DomainError):
    code = "gone"
    title = "Gone"


class TooLarge(DomainError):
    code = "too-large"
    title = "Content too large"


class PreconditionRequired(DomainError):
    code = "precondition-required"
    title = "Precondition required"


class TooManyRequests(DomainError):
    """``retry_after`` (seconds, an extension member) also becomes the ``Retry-After`` header."""

    code = "rate-limited"
    title = "Too many requests"


class Unavailable(DomainError):
    code = "unavailable"
    title = "Service unavailable"


STATUS_BY_KIND: list[tuple[type[DomainError], int]] = [
    (Invalid, 400),
    (Unauthenticated, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (Gone, 410),
    (TooLarge, 413),
    (Unprocessable, 422),
    (PreconditionRequired, 428),
    (TooManyRequests, 429),
    (Unavailable, 503),
    (DomainError, 400),
]

HTTP_TYPES = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    410: "gone",
    413: "too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    428: "precondition-required",
    429: "rate-limited",
    500: "internal-error",
    503: "unavailable",
}

HTTP_DETAILS = {
    404: "No resource exists at this URL.",
    405: "This method is not allowed on this URL.",
    413: "The request body is larger than this endpoint accepts.",
    415: "Send the body as application/json (or multipart/form-data for file imports).",
    429: "Too many requests; slow down and retry later.",
    500: "Something went wrong on our side; it has been logged.",
}


class ProblemSchema(Schema):
    """RFC 9457 problem details as this API sends them (documentation only).

    Problems may carry extension members (``statuses``, ``retry_after``...), as RFC 9457 section 3.2
    allows, so the document must not forbid additional properties.
    """

    class Meta:
        unknown = INCLUDE

    type = fields.String(metadata={"description": "stable URI naming the kind of problem"})
    title = fields.String()
    status = fields.Integer()
    detail = fields.String(metadata={"description": "what went wrong, for a person"})
    instance = fields.String()
    request_id = fields.String()
    errors = fields.Dict(metadata={"description": "field errors of a validation failure"})


def status_for(exc: DomainError) -> int:
    for kind, status in STATUS_BY_KIND:
        if isinstance(exc, kind):
            return status
    return 400


def problem(status: int, code: str, title: str, detail: str, **extra: Any) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
    }
    try:
        body["instance"] = request.path
        rid = g.get("request_id")
        if rid:
            body["request_id"] = rid
    except RuntimeError:
        pass
    body.update({k: v for k, v in extra.items() if v is not None})
    resp = Response(json.dumps(body), status=status, mimetype=PROBLEM_MIME)
    return resp


def _str_keys(messages: Any) -> Any:
    """JSON objects have string keys; marshmallow keys errors by list index (int) and, for a form field
    whose name cannot be read, by None. Mixed key types would also break the sorted JSON encoder (a 500)."""
    if isinstance(messages, dict):
        return {("_schema" if key is None else str(key)): _str_keys(value) for key, value in messages.items()}
    if isinstance(messages, list | tuple):
        return [_str_keys(value) for value in messages]
    return messages


def _field_errors(messages: Any) -> dict[str, Any]:
    """flask-smorest nests errors by location (json, query, files...); flatten one level for clients."""
    messages = _str_keys(messages)
    if isinstance(messages, dict):
        locations = {"json", "query", "form", "files", "headers", "path", "view_args", "cookies"}
        if messages and set(messages) <= locations:
            merged: dict[str, Any] = {}
            for loc_errors in messages.values():
                if isinstance(loc_errors, dict):
                    merged.update(loc_errors)
                else:
                    merged.setdefault("_schema", loc_errors)
            return merged
        return messages
    return {"_schema": messages}


def _describe(errors: dict[str, Any]) -> str:
    parts = []
    for field, msgs in list(errors.items())[:5]:
        msg = msgs
        while isinstance(msg, dict):
            field = f"{field}.{next(iter(msg))}"
            msg = next(iter(msg.values()))
        if isinstance(msg, list):
            msg = msg[0] if msg else ""
        parts.append(f"{field}: {msg}")
    return "; ".join(parts) if parts else "The request did not validate."


def handle_domain(exc: DomainError) -> Response:
    status = status_for(exc)
    resp = problem(status, exc.code, exc.title, exc.detail, **exc.extra)
    if exc.extra.get("retry_after") is not None:
        resp.headers["Retry-After"] = str(exc.extra["retry_after"])
    return resp


def handle_validation(exc: ValidationError) -> Response:
    errors = _field_errors(exc.messages)
    return problem(422, "validation-error", "Validation failed", _describe(errors), errors=errors)


def _is_bad_json(data: Any) -> bool:
    """webargs reports an unparsable body as 400 with messages {"json": ["Invalid JSON body."]}."""
    return bool(data) and "Invalid JSON body." in str(data.get("messages", ""))


def handle_http(exc: HTTPException) -> Response:
    status = exc.code or 500
    data = getattr(exc, "data", None)
    if status == 422 and data and "messages" in data:
        errors = _field_errors(data["messages"])
        resp = problem(422, "validation-error", "Validation failed", _describe(errors), errors=errors)
    else:
        detail = HTTP_DETAILS.get(status) or exc.description or exc.name
        if data and isinstance(data.get("message"), str):
            detail = data["message"]
        elif exc.description and status not in (404, 405, 500):
            detail = exc.description
        if status == 400 and ("JSON" in (exc.description or "") or _is_bad_json(data)):
            cause = data.get("exc") if data else None
            detail = "The request body is not valid JSON" + (f" ({cause})." if cause else ".")
        code = HTTP_TYPES.get(status, f"http-{status}")
        resp = problem(status, code, exc.name, detail)
    if status == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
        resp.headers["Allow"] = ", ".join(exc.valid_methods)
    for name, value in (exc.get_headers() if hasattr(exc, "get_headers") else []):
        if name.lower() in {"retry-after", "www-authenticate", "allow"}:
            resp.headers[name] = value
    return resp


def handle_unexpected(exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        return handle_http(exc)
    if isinstance(exc, OperationalError | InterfaceError):  # database down or not migrated: retryable
        log.error("database unavailable: %s", type(exc).__name__, exc_info=exc)
        return problem(503, "database-unavailable", "Service Unavailable",
                       "The database is not available right now; retry shortly.")
    log.exception("unhandled error", exc_info=exc)
    return problem(500, "internal-error", "Internal Server Error", HTTP_DETAILS[500])


def init_app(app: Flask) -> None:
    app.register_error_handler(DomainError, handle_domain)
    app.register_error_handler(ValidationError, handle_validation)
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(Exception, handle_unexpected)
