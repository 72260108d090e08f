"""Open Badges 3.0 export: an award as an (unsigned) OpenBadgeCredential with its Achievement.

Shape per the 1EdTech Open Badges 3.0 spec: ``@context`` is the W3C VC 2.0 context then the OB 3.0
context; ``type`` [VerifiableCredential, OpenBadgeCredential]; ``issuer`` a Profile; ``validFrom``;
``credentialSubject`` an AchievementSubject naming the learner by a salted SHA-256 hash of their email
(an IdentityObject, so no address leaves the service) and holding the ``achievement``. The document
carries no proof: it becomes verifiable once signed (eddsa-rdfc-2022 DataIntegrityProof or VC-JWT) by
the deployment's issuer key, which this service does not hold.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from scoring.models import BadgeAward, BadgeDefinition
from service.models import User

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"


def salt_for(award_id: int, secret: str) -> str:
    """A per-award salt, stable across exports (so the same award always exports the same document)."""
    return hmac.new(secret.encode(), f"ob-salt:{award_id}".encode(), hashlib.sha256).hexdigest()[:16]


def identity_hash(email: str, salt: str) -> str:
    return "sha256$" + hashlib.sha256((email.strip().lower() + salt).encode()).hexdigest()


def _iso(value: Any) -> str:
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
        "validFrom": _iso(award.awarded_at),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [{"type": "IdentityObject", "identityType": "emailAddress", "hashed": True,
                            "identityHash": identity_hash(user.email, salt), "salt": salt}],
            "achievement": achievement,
        },
    }
