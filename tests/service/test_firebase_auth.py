"""Firebase ID tokens are verified by the real firebase-admin code path against a locally made certificate.

A throwaway RSA key and a self-signed X.509 certificate are created with ``cryptography``; the
certificate is served as Google serves its ``securetoken`` certificates (JSON ``{kid: PEM}``) from an
HTTP server on 127.0.0.1, and ``FIREBASE_CERT_URL`` points the SDK's verifier at it (the one seam, see
``service.firebase_auth``). Tokens are RS256 JWTs with that ``kid``, signed with PyJWT.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from flask import Flask
from sqlalchemy import select

from service.db import db
from service.models import User
from tests.factories import make_user

PROJECT = "vcc-test-project"
KID = "test-kid-1"


def _key_and_cert() -> tuple[rsa.RSAPrivateKey, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "securetoken.test")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=1)).sign(key, hashes.SHA256()))
    return key, cert.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture(scope="module")
def signing() -> Iterator[dict[str, Any]]:
    key, pem = _key_and_cert()
    body = json.dumps({KID: pem}).encode()

    class Certs(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "public, max-age=3600")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Certs)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"key": key, "url": f"http://127.0.0.1:{server.server_address[1]}/certs"}
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def id_token(key: rsa.RSAPrivateKey, *, uid: str = "fb-uid-1", kid: str = KID, project: str = PROJECT,
             lifetime: int = 3600, **claims: Any) -> str:
    now = int(time.time())
    payload = {"iss": f"https://securetoken.google.com/{project}", "aud": project, "sub": uid,
               "iat": now - 10, "exp": now + lifetime, "auth_time": now - 10, **claims}
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})


@pytest.fixture
def fb_app(side_app: Callable[..., Flask], signing: dict[str, Any]) -> Flask:
    return side_app(FIREBASE_PROJECT_ID=PROJECT, FIREBASE_CERT_URL=signing["url"])


def _me(flask_app: Flask, token: str) -> Any:
    return flask_app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})


def test_valid_token_creates_the_account_once(fb_app: Flask, signing: dict[str, Any]) -> None:
    token = id_token(signing["key"], email="Fia@Example.org", email_verified=True, name="Fia")
    first, second = _me(fb_app, token), _me(fb_app, token)
    assert first.status_code == second.status_code == 200
    assert first.get_json()["email"] == "fia@example.org" and first.get_json()["display_name"] == "Fia"
    with fb_app.app_context():
        users = db.session.scalars(select(User)).all()
        assert [(u.firebase_uid, u.password_hash) for u in users] == [("fb-uid-1", None)]


def test_verified_email_links_an_existing_password_account(fb_app: Flask, signing: dict[str, Any]) -> None:
    with fb_app.app_context():
        user = make_user(db.session, email="link@example.org")
        db.session.commit()
        user_id = user.id
    resp = _me(fb_app, id_token(signing["key"], uid="fb-link", email="link@example.org", email_verified=True))
    assert resp.get_json()["id"] == user_id
    unverified = _me(fb_app, id_token(signing["key"], uid="fb-other", email="link@example.org",
                                      email_verified=False))
    assert unverified.status_code == 401
    assert unverified.get_json()["type"].endswith("/firebase-email-taken")


@pytest.mark.parametrize(("change", "expected_type"), [
    ({"project": "someone-elses-project"}, "invalid-token"),
    ({"kid": "unknown-kid"}, "invalid-token"),
    ({"lifetime": -120}, "token-expired"),
])
def test_wrong_project_unknown_key_and_expired_tokens_are_401(fb_app: Flask, signing: dict[str, Any],
                                                              change: dict[str, Any], expected_type: str) -> None:
    resp = _me(fb_app, id_token(signing["key"], **change))
    assert resp.status_code == 401
    assert resp.get_json()["type"].endswith("/" + expected_type)


def test_token_signed_by_another_key_is_401(fb_app: Flask) -> None:
    other, _ = _key_and_cert()
    assert _me(fb_app, id_token(other)).status_code == 401


def test_without_firebase_config_rs256_tokens_are_refused(app: Flask, signing: dict[str, Any]) -> None:
    assert "firebase_verifier" not in app.extensions
    assert _me(app, id_token(signing["key"])).status_code == 401
