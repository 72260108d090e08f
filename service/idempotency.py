"""Retried writes return the first answer and store nothing twice (``Idempotency-Key`` header).

A phone on a bad connection retries a POST it never heard back from. With an ``Idempotency-Key``
header the first successful answer is stored (``IdempotencyRecord``: user, key, endpoint, a hash of the
method, path and body, status and JSON body) and every retry with the same key and body gets that answer
back (header ``Idempotent-Replayed: true``) without running the view again. The same key with a
different body is a client bug: 422 ``idempotency-key-reused``. Error answers (4xx/5xx) are not stored:
nothing was written, so the client may fix the body and retry with the same key.

Usage (flask-smorest view; put ``@idempotent`` ABOVE ``arguments``/``response`` so it sees the final
response, and let it commit)::

    from service.idempotency import idempotent

    @blp.route("")
    class Activities(MethodView):
        @auth_required
        @idempotent("activities.create")
        @blp.arguments(ActivityCreateSchema)
        @blp.response(201, ActivitySchema)
        def post(self, data):
            return ingest.record_activity(db.session, current_user(), data)   # flush, do not commit

The decorator commits the view's writes and the record in ONE transaction. That is what makes a
concurrent retry safe: two requests with the same key both run, the loser fails on the unique
constraint (user_id, key, endpoint) (or on the view's own unique constraint, e.g. an activity
``external_id``), is rolled back entirely and replays the winner's stored answer. A view that commits
on its own still works, but then a truly simultaneous retry could store twice: prefer ``flush()``.

Without the header the view runs once per request and the decorator still commits its writes on
success, so the view behaves the same either way (pass ``required=True`` to demand the header: 428).
For code that is not a view, use ``fingerprint`` / ``find_record`` / ``replay`` / ``remember`` directly.
Records are kept ``RETENTION``; ``purge_expired`` deletes older ones (call it from a periodic job).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

from apispec import BasePlugin
from flask import Response, make_response, request
from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.clock import utcnow
from service.db import db
from service.errors import Invalid, PreconditionRequired, Unprocessable
from service.models import IdempotencyRecord

F = TypeVar("F", bound=Callable[..., Any])

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
RETENTION = timedelta(hours=24)


def fingerprint(method: str, path: str, body: bytes) -> str:
    """SHA-256 of method, path and the body; JSON bodies are canonicalised so key order does not matter."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode() if body else b""
    except (ValueError, UnicodeDecodeError, RecursionError):  # not JSON, or nested too deep for it: the bytes
        canonical = body
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), canonical):
        digest.update(part)
        digest.update(b"\0")
    return digest.hexdigest()


_FIND = select(IdempotencyRecord).where(
    IdempotencyRecord.user_id == bindparam("user_id"), IdempotencyRecord.key == bindparam("key"),
    IdempotencyRecord.endpoint == bindparam("endpoint"))
"""Built once: every keyed write runs it."""


def find_record(session: Session, user_id: int, key: str, endpoint: str) -> IdempotencyRecord | None:
    return session.scalar(_FIND, {"user_id": user_id, "key": key, "endpoint": endpoint})


def replay(record: IdempotencyRecord, request_hash: str) -> Response:
    """The stored answer, or 422 when the key was first used for a different request."""
    if record.request_hash != request_hash:
        raise Unprocessable(f"The {HEADER} was already used with a different request body; use a new key "
                            "for a new request.", code="idempotency-key-reused")
    body = json.dumps(record.response_body) if record.response_body is not None else ""
    resp = Response(body, status=record.status_code,
                    mimetype="application/json" if record.response_body is not None else None)
    resp.headers[REPLAY_HEADER] = "true"
    return resp


def remember(session: Session, *, user_id: int, key: str, endpoint: str, request_hash: str,
             response: Response) -> None:
    """Insert (not commit) the record of a successful answer in the session's transaction.

    A plain INSERT, not an ORM object: it spares the unit-of-work flush on every keyed write. A concurrent
    twin with the same key fails it here (IntegrityError) rather than at commit; the caller handles both.
    """
    body = response.get_json(silent=True) if response.is_json else None
    session.execute(insert(IdempotencyRecord), {
        "user_id": user_id, "key": key, "endpoint": endpoint, "request_hash": request_hash,
        "status_code": response.status_code, "response_body": body})


def purge_expired(session: Session, now: datetime | None = None) -> int:
    """Delete records older than RETENTION; returns how many went."""
    cutoff = (now or utcnow()) - RETENTION
    result = session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)


def _read_key() -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise Invalid(f"{HEADER} must be 1..{MAX_KEY_LENGTH} characters.", code="bad-idempotency-key")
    return key


def idempotent(endpoint: str, *, required: bool = False) -> Callable[[F], F]:
    """Decorate a write view so retries with the same ``Idempotency-Key`` replay the first answer."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            from service.auth import current_user  # auth imports models only; keep import local and cheap

            key = _read_key()
            if key is None:
                if required:
                    raise PreconditionRequired(f"Send an {HEADER} header (a fresh UUID per new request).",
                                               code="idempotency-key-required")
                response = make_response(view(*args, **kwargs))
                if response.status_code < 400:
                    db.session.commit()
                return response
            user_id = current_user().id
            request_hash = fingerprint(request.method, request.path, request.get_data(cache=True))
            session = db.session
            stored = find_record(session, user_id, key, endpoint)
            if stored is not None:
                return replay(stored, request_hash)
            try:
                response = make_response(view(*args, **kwargs))
                if response.status_code >= 400:
                    return response
                remember(session, user_id=user_id, key=key, endpoint=endpoint, request_hash=request_hash,
                         response=response)
                session.commit()
            except IntegrityError:
                session.rollback()
                winner = find_record(session, user_id, key, endpoint)
                if winner is None:
                    raise
                return replay(winner, request_hash)
            return response

        doc = getattr(wrapper, "_apidoc", {})
        manual = doc.get("manual_doc", {})
        wrapper._apidoc = {**doc, "manual_doc": {  # type: ignore[attr-defined]
            **manual, "x-idempotency-key": {"header": HEADER, "required": required,
                                            "replay_header": REPLAY_HEADER}}}
        return cast(F, wrapper)

    return decorator


class IdempotencyDocPlugin(BasePlugin):
    """Turns the decorator's ``x-idempotency-key`` mark into a documented ``Idempotency-Key`` header.

    (flask-smorest's manual doc would *replace* an operation's parameter list, so the header is added
    here, after the query parameters are in place.)
    """

    def operation_helper(self, path: str | None = None, operations: dict[str, Any] | None = None,
                         **kwargs: Any) -> None:
        for operation in (operations or {}).values():
            if not isinstance(operation, dict):
                continue
            mark = operation.pop("x-idempotency-key", None)
            if mark is None:
                continue
            operation.setdefault("parameters", []).append({
                "in": "header", "name": HEADER, "required": bool(mark.get("required")),
                "schema": {"type": "string", "maxLength": MAX_KEY_LENGTH},
                "description": "A fresh UUID per new write; a retry with the same key and body gets the first "
                               "answer back (header Idempotent-Replayed: true), a different body is a 422."})


def init_spec(spec: Any) -> None:
    """Register the doc plugin on flask-smorest's APISpec (before blueprints are registered)."""
    if not any(isinstance(p, IdempotencyDocPlugin) for p in spec.plugins):
        plugin = IdempotencyDocPlugin()
        plugin.init_spec(spec)
        spec.plugins.append(plugin)
