"""Open Badges 3.0: the credential document, its signed VC-JWT form, and the issuer's published keys."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from tests.factories import auth_headers
from tests.scoring.factories import award_first_move

JOSE_HEADERS = {"alg", "kid", "jwk", "typ"}  # OB 3.0 section 8.2: "Additional JOSE Headers are NOT allowed"


def _path(app: Any, url: str) -> str:
    base = app.extensions["vcc_settings"].public_base_url
    assert url.startswith(base + "/"), url
    return url.removeprefix(base)


def _verify(app: Any, client: Any, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """What a verifier does: dereference ``kid`` to the JWK, check the signature, return header and claims."""
    header = jwt.get_unverified_header(token)
    fetched = client.get(_path(app, header["kid"]))
    assert fetched.status_code == 200, fetched.get_data(as_text=True)
    jwk = fetched.get_json()
    assert "d" not in jwk and "d" not in header["jwk"]
    key = jwt.PyJWK(jwk).key
    claims = jwt.decode(token, key, algorithms=[header["alg"]], options={"verify_aud": False})
    return header, claims


def _pem(key: Any, private: bool = True) -> str:
    if private:
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()).decode()
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def test_credential_is_an_open_badges_3_document_for_the_owner_only(app: Any, client: Any, session: Any,
                                                                     users: list[Any]) -> None:
    award_id = award_first_move(session, users[0])
    email = users[0].email
    res = client.get(f"/api/v1/badge-awards/{award_id}/credential", headers=auth_headers(app, users[0]))
    assert res.status_code == 200
    doc = res.get_json()
    assert doc["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert doc["@context"][1].startswith("https://purl.imsglobal.org/spec/ob/v3p0/context")
    assert doc["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    base = app.extensions["vcc_settings"].public_base_url
    assert doc["issuer"]["id"].startswith(base) and doc["issuer"]["type"] == ["Profile"]
    assert doc["validFrom"].endswith("Z")
    subject = doc["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    assert subject["achievement"]["type"] == ["Achievement"] and subject["achievement"]["name"] == "First move"
    ident = subject["identifier"][0]
    assert ident["identityHash"] == "sha256$" + hashlib.sha256((email + ident["salt"]).encode()).hexdigest()
    assert email not in res.get_data(as_text=True)
    assert client.get(f"/api/v1/badge-awards/{award_id}/credential", headers=auth_headers(app, users[0])).get_json() \
        == doc  # stable across exports
    stranger = client.get(f"/api/v1/badge-awards/{award_id}/credential", headers=auth_headers(app, users[1]))
    assert stranger.status_code == 404
    assert client.get("/api/v1/badge-awards/999999/credential", headers=auth_headers(app, users[0])).status_code == 404


def test_the_issuer_and_achievement_ids_in_a_credential_are_served(app: Any, client: Any, session: Any,
                                                                   users: list[Any]) -> None:
    award_id = award_first_move(session, users[0])
    doc = client.get(f"/api/v1/badge-awards/{award_id}/credential", headers=auth_headers(app, users[0])).get_json()
    issuer = client.get(_path(app, doc["issuer"]["id"]))
    assert issuer.status_code == 200 and issuer.get_json() == doc["issuer"]
    achievement = client.get(_path(app, doc["credentialSubject"]["achievement"]["id"]))
    assert achievement.status_code == 200
    assert achievement.get_json() == doc["credentialSubject"]["achievement"]
    missing = client.get("/api/v1/achievements/no-such-badge")
    assert missing.status_code == 404 and missing.content_type.startswith("application/problem+json")


def test_the_learner_has_one_opaque_subject_id_across_their_credentials(app: Any, client: Any, session: Any,
                                                                        users: list[Any]) -> None:
    first = award_first_move(session, users[0], contest_id=1)
    second = award_first_move(session, users[0], contest_id=2)
    other = award_first_move(session, users[1], contest_id=1)

    def subject(user: Any, award_id: int) -> str:
        res = client.get(f"/api/v1/badge-awards/{award_id}/credential", headers=auth_headers(app, user))
        return str(res.get_json()["credentialSubject"]["id"])

    mine = subject(users[0], first)
    assert mine.startswith("urn:uuid:") and mine == subject(users[0], second)
    assert subject(users[1], other) != mine
    assert uuid.UUID(mine.removeprefix("urn:uuid:")).version == 4  # random-looking, not the row id or email


def test_a_signed_credential_verifies_with_the_key_its_kid_names(app: Any, client: Any, session: Any,
                                                                 users: list[Any]) -> None:
    award_id = award_first_move(session, users[0])
    headers = auth_headers(app, users[0])
    doc = client.get(f"/api/v1/badge-awards/{award_id}/credential", headers=headers).get_json()
    res = client.get(f"/api/v1/badge-awards/{award_id}/credential.jwt", headers=headers)
    assert res.status_code == 200 and res.mimetype == "application/vc+jwt"
    assert res.headers["Cache-Control"] == "private, no-store"
    token = res.get_data(as_text=True)
    header, claims = _verify(app, client, token)
    assert set(header) <= JOSE_HEADERS and header["alg"] == "RS256" and header["typ"] == "JWT"
    assert jwt.PyJWK(header["jwk"]).key.public_numbers() == jwt.PyJWK(
        client.get(_path(app, header["kid"])).get_json()).key.public_numbers()
    # the payload is the credential itself, plus the registered claims copied from it
    registered = {k: claims.pop(k) for k in ("iss", "jti", "nbf", "sub")}
    assert claims == doc
    assert registered["iss"] == doc["issuer"]["id"] and registered["jti"] == doc["id"]
    assert registered["sub"] == doc["credentialSubject"]["id"]
    assert registered["nbf"] == int(datetime.fromisoformat(doc["validFrom"].replace("Z", "+00:00")).timestamp())
    assert datetime.fromisoformat(doc["validFrom"].replace("Z", "+00:00")).microsecond == 0
    # the JWK Set lists the same key, current first
    keys = client.get("/api/v1/issuer/keys")
    assert keys.status_code == 200 and keys.headers["Cache-Control"] == "public, max-age=3600"
    assert keys.get_json()["keys"][0]["kid"] == header["kid"]
    listed = client.get("/api/v1/me/badges", headers=headers).get_json()["items"][0]
    assert listed["signed_credential_url"] == f"/api/v1/badge-awards/{award_id}/credential.jwt"


def test_a_tampered_credential_fails_verification(app: Any, client: Any, session: Any, users: list[Any]) -> None:
    award_id = award_first_move(session, users[0])
    token = client.get(f"/api/v1/badge-awards/{award_id}/credential.jwt",
                       headers=auth_headers(app, users[0])).get_data(as_text=True)
    head, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["credentialSubject"]["achievement"]["name"] = "Marathon champion"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(jwt.InvalidSignatureError):
        _verify(app, client, f"{head}.{forged_payload}.{signature}")


def test_only_the_owner_gets_the_signed_credential(app: Any, client: Any, session: Any, users: list[Any]) -> None:
    award_id = award_first_move(session, users[0])
    assert client.get(f"/api/v1/badge-awards/{award_id}/credential.jwt").status_code == 401
    stranger = client.get(f"/api/v1/badge-awards/{award_id}/credential.jwt", headers=auth_headers(app, users[1]))
    assert stranger.status_code == 404 and stranger.get_json()["type"].endswith("/badge-award-not-found")


def test_an_unknown_key_is_a_404_problem(client: Any) -> None:
    res = client.get("/api/v1/issuer/keys/not-a-thumbprint")
    assert res.status_code == 404 and res.content_type.startswith("application/problem+json")
    assert res.get_json()["type"].endswith("/issuer-key-not-found")


def test_production_without_a_key_signs_nothing_and_says_why(side_app: Any, session: Any, users: list[Any]) -> None:
    award_id = award_first_move(session, users[0])
    prod = side_app(VCC_ENV="production")
    client = prod.test_client()
    res = client.get(f"/api/v1/badge-awards/{award_id}/credential.jwt", headers=auth_headers(prod, users[0]))
    assert res.status_code == 503 and res.content_type.startswith("application/problem+json")
    problem = res.get_json()
    assert problem["type"].endswith("/credential-signing-unavailable") and "OPENBADGES_SIGNING_KEY" in problem["detail"]
    assert client.get("/api/v1/issuer/keys").get_json() == {"keys": []}
    unsigned = client.get(f"/api/v1/badge-awards/{award_id}/credential", headers=auth_headers(prod, users[0]))
    assert unsigned.status_code == 200  # the document itself is still there


def test_a_configured_key_signs_and_retired_keys_stay_published(side_app: Any, session: Any, users: list[Any],
                                                                 tmp_path: Path) -> None:
    award_id = award_first_move(session, users[0])
    current = ed25519.Ed25519PrivateKey.generate()
    old_rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    old_ed = ed25519.Ed25519PrivateKey.generate()
    bundle = tmp_path / "retired.pem"
    bundle.write_text(_pem(old_rsa, private=False) + _pem(old_ed))  # a public key and a private key, one file
    signer = side_app(VCC_ENV="production", OPENBADGES_SIGNING_KEY=_pem(current),
                      OPENBADGES_RETIRED_KEYS=str(bundle))
    client = signer.test_client()
    token = client.get(f"/api/v1/badge-awards/{award_id}/credential.jwt",
                       headers=auth_headers(signer, users[0])).get_data(as_text=True)
    header, claims = _verify(signer, client, token)
    assert header["alg"] == "EdDSA" and claims["credentialSubject"]["achievement"]["name"] == "First move"
    jwks = client.get("/api/v1/issuer/keys").get_json()["keys"]
    assert [k["kty"] for k in jwks] == ["OKP", "RSA", "OKP"] and jwks[0]["kid"] == header["kid"]
    assert all("d" not in k for k in jwks)
    for key in jwks[1:]:  # a credential signed before the rotation still finds its key
        assert client.get(_path(signer, key["kid"])).get_json() == key
    old_token = jwt.encode({"sub": "x"}, old_rsa, algorithm="RS256")
    assert jwt.decode(old_token, jwt.PyJWK(jwks[1]).key, algorithms=["RS256"]) == {"sub": "x"}
