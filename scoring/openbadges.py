"""Open Badges 3.0 export: an award as an OpenBadgeCredential with its Achievement, and signed as a VC-JWT.

Shape per the 1EdTech Open Badges 3.0 spec: ``@context`` is the W3C VC 2.0 context then the OB 3.0
context; ``type`` [VerifiableCredential, OpenBadgeCredential]; ``issuer`` a Profile; ``validFrom``;
``credentialSubject`` an AchievementSubject with an opaque ``urn:uuid`` id, naming the learner by a salted
SHA-256 hash of their email (an IdentityObject, so no address leaves the service) and holding the
``achievement``.

The JSON document alone proves nothing; :func:`signed` is the same credential in the spec's JSON Web Token
proof format (section 8.2): the credential is the JWT payload with ``iss``, ``jti``, ``nbf`` and ``sub``
copied from it, and the JOSE header carries only ``alg``, ``typ``, ``kid`` (a URL that serves the public
key as a JWK) and ``jwk`` (the same public key, for verifiers that work offline).
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import UTC, datetime
from typing import Any

import jwt

from scoring.models import BadgeAward, BadgeDefinition
from service.models import User
from service.signing_keys import PublicKey, SigningKeys

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
JWT_MIME = "application/vc+jwt"  # W3C VC-JOSE-COSE's media type of a VC secured as a JWT


def salt_for(award_id: int, secret: str) -> str:
    """A per-award salt, stable across exports (so the same award always exports the same document)."""
    return hmac.new(secret.encode(), f"ob-salt:{award_id}".encode(), hashlib.sha256).hexdigest()[:16]


def identity_hash(email: str, salt: str) -> str:
    return "sha256$" + hashlib.sha256((email.strip().lower() + salt).encode()).hexdigest()


def subject_id(user_id: int, secret: str) -> str:
    """The learner's id in every credential they export: stable, so a wallet sees one holder, and opaque."""
    digest = hmac.new(secret.encode(), f"ob-subject:{user_id}".encode(), hashlib.sha256).digest()
    return uuid.UUID(bytes=digest[:16], version=4).urn


def _issued(value: datetime) -> datetime:
    """Whole seconds in UTC, so the JWT's integer ``nbf`` equals ``validFrom`` exactly, as verifiers check."""
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).replace(microsecond=0)


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


ISSUER_NAME = "VCC challenge backend"


def issuer_profile(base_url: str, name: str = ISSUER_NAME) -> dict[str, Any]:
    """The issuer Profile; its ``id`` is served, so a verifier can dereference it."""
    return {"id": f"{base_url}/api/v1/issuer", "type": ["Profile"], "name": name, "url": base_url}


def achievement_of(badge: BadgeDefinition, base_url: str) -> dict[str, Any]:
    """The Achievement of a badge; its ``id`` is served at /api/v1/achievements/{code}."""
    achievement: dict[str, Any] = {
        "id": f"{base_url}/api/v1/achievements/{badge.code}",
        "type": ["Achievement"],
        "name": badge.name,
        "description": badge.description or badge.name,
        "criteria": {"narrative": badge.description or badge.name},
    }
    if badge.image_url:
        achievement["image"] = {"id": badge.image_url, "type": "Image"}
    return achievement


def credential(award: BadgeAward, user: User, base_url: str, secret: str,
               issuer_name: str = ISSUER_NAME) -> dict[str, Any]:
    badge = award.badge
    salt = salt_for(award.id, secret)
    achievement = achievement_of(badge, base_url)
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": f"{base_url}/api/v1/badge-awards/{award.id}/credential",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": badge.name,
        "issuer": issuer_profile(base_url, issuer_name),
        "validFrom": _iso(_issued(award.awarded_at)),
        "credentialSubject": {
            "id": subject_id(user.id, secret),
            "type": ["AchievementSubject"],
            "identifier": [{"type": "IdentityObject", "identityType": "emailAddress", "hashed": True,
                            "identityHash": identity_hash(user.email, salt), "salt": salt}],
            "achievement": achievement,
        },
    }


def key_url(base_url: str, key: PublicKey) -> str:
    """Where a verifier dereferences a JOSE ``kid`` to the public JWK (served by ``openbadges_api``)."""
    return f"{base_url}/api/v1/issuer/keys/{key.thumbprint}"


def jwk_document(base_url: str, key: PublicKey) -> dict[str, str]:
    return {**key.jwk, "kid": key_url(base_url, key)}


def signed(doc: dict[str, Any], keys: SigningKeys, base_url: str) -> str:
    """The credential as a Compact JWS (Open Badges 3.0 JSON Web Token proof format)."""
    valid_from = datetime.fromisoformat(doc["validFrom"].replace("Z", "+00:00"))
    claims = {**doc, "iss": doc["issuer"]["id"], "jti": doc["id"], "nbf": int(valid_from.timestamp()),
              "sub": doc["credentialSubject"]["id"]}
    key = keys.current
    header = {"kid": key_url(base_url, key), "jwk": key.jwk, "typ": "JWT"}
    return jwt.encode(claims, keys.private, algorithm=key.alg, headers=header)
