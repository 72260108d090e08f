"""A fake FCM server on 127.0.0.1 for the real firebase-admin client: OAuth token endpoint + v1 messages:send.

Scriptable per registration token: each token has a queue of outcomes (then ``ok`` for ever):
``ok``, ``unregistered`` (404 UNREGISTERED), ``sender_mismatch`` (403 SENDER_ID_MISMATCH), ``invalid``
(400 INVALID_ARGUMENT about the token), ``quota:N`` (429 QUOTA_EXCEEDED with Retry-After: N),
``unavailable`` (503), ``internal`` (500), ``hang:S`` (answer ok after S seconds). Every POST that
reaches the send endpoint is recorded, so tests assert what FCM "received" and how often.
Run standalone (``python -m tests.notifications.fake_fcm``) it prints its base URL and serves until killed.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter, defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
ERRORS: dict[str, tuple[int, str, str, str]] = {
    "unregistered": (404, "NOT_FOUND", "UNREGISTERED", "Requested entity was not found."),
    "sender_mismatch": (403, "PERMISSION_DENIED", "SENDER_ID_MISMATCH", "SenderId mismatch"),
    "invalid": (400, "INVALID_ARGUMENT", "INVALID_ARGUMENT",
                "The registration token is not a valid FCM registration token"),
    "quota": (429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED", "Quota exceeded for this device."),
    "unavailable": (503, "UNAVAILABLE", "UNAVAILABLE", "The service is currently unavailable."),
    "internal": (500, "INTERNAL", "INTERNAL", "Internal error encountered."),
}


_KEY_PEM: list[str] = []


def service_account(base_url: str, project_id: str = "vcc-test") -> dict[str, str]:
    """A service-account document whose token_uri is the fake server (one fresh RSA key signs the assertions)."""
    if not _KEY_PEM:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _KEY_PEM.append(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()).decode())
    return {"type": "service_account", "project_id": project_id, "private_key_id": "fake-key",
            "private_key": _KEY_PEM[0], "client_email": f"fcm@{project_id}.iam.gserviceaccount.com",
            "client_id": "1", "token_uri": f"{base_url}/token"}


class FakeFcm:
    def __init__(self, project_id: str = "vcc-test") -> None:
        self.project_id = project_id
        self._lock = threading.Lock()
        self._scripts: dict[str, deque[str]] = defaultdict(deque)
        self.received: list[dict[str, Any]] = []
        self.token_requests = 0
        self._server: ThreadingHTTPServer | None = None

    # -- control -------------------------------------------------------------------------------------------
    def start(self, port: int = 0) -> FakeFcm:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = _Server(("127.0.0.1", port), handler)
        threading.Thread(target=self._server.serve_forever, daemon=True, name="fake-fcm").start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def reset(self) -> None:
        with self._lock:
            self._scripts.clear()
            self.received.clear()

    def script(self, token: str, *outcomes: str) -> None:
        with self._lock:
            self._scripts[token].extend(outcomes)

    def targets(self) -> list[str]:
        with self._lock:
            return [m.get("token") or m.get("fid") for m in self.received]

    def counts(self) -> Counter[str]:
        return Counter(self.targets())

    @property
    def service_account(self) -> dict[str, str]:
        return service_account(self.base_url, self.project_id)

    # -- server side ---------------------------------------------------------------------------------------
    def _next(self, target: str) -> str:
        with self._lock:
            queue = self._scripts.get(target)
            return queue.popleft() if queue else "ok"

    def _record(self, message: dict[str, Any]) -> None:
        with self._lock:
            self.received.append(message)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # listen() backlog: a send_each chunk opens up to 500 connections at once

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away (a killed dispatcher) is expected here; say nothing."""


class _Handler(BaseHTTPRequestHandler):
    fake: FakeFcm
    protocol_version = "HTTP/1.1"  # keep-alive, as with the real endpoint

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def _reply(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/token":
            self.fake.token_requests += 1
            self._reply(200, {"access_token": "fake-access-token", "expires_in": 3600, "token_type": "Bearer"})
            return
        if not (self.path.startswith("/v1/projects/") and self.path.endswith("/messages:send")):
            self._reply(404, {"error": {"code": 404, "message": "no such endpoint", "status": "NOT_FOUND"}})
            return
        if self.headers.get("Authorization") != "Bearer fake-access-token":
            self._reply(401, {"error": {"code": 401, "message": "no token", "status": "UNAUTHENTICATED"}})
            return
        message = json.loads(raw)["message"]
        target = message.get("token") or message.get("fid") or ""
        outcome = self.fake._next(target)
        name, _, arg = outcome.partition(":")
        if name == "hang":
            self.fake._record(message)
            time.sleep(float(arg or 1))
            name = "ok"
        if name == "ok":
            self.fake._record(message)
            self._reply(200, {"name": f"projects/{self.fake.project_id}/messages/{len(self.fake.received)}"})
            return
        status, grpc_status, code, text = ERRORS[name]
        headers = {"Retry-After": arg or "1"} if name == "quota" else {}
        self._reply(status, {"error": {"code": status, "message": text, "status": grpc_status,
                                       "details": [{"@type": FCM_ERROR_TYPE, "errorCode": code}]}}, headers)


if __name__ == "__main__":  # pragma: no cover - used by bench/nudges.py
    import sys

    fake = FakeFcm().start(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    print(fake.base_url, flush=True)
    threading.Event().wait()
