"""The deployment's issuer key: what it signs documents with, and the public keys it publishes.

Open Badges 3.0 credentials only become verifiable once the issuer signs them (``scoring.openbadges``). The
key is configuration like ``SECRET_KEY`` (``OPENBADGES_SIGNING_KEY``, a PEM or a path to one), so it lives in
the service layer: read and checked when the app starts, so a bad key stops the deploy instead of failing
the first citizen who exports a badge. After a rotation the old public keys stay published
(``OPENBADGES_RETIRED_KEYS``) because credentials signed with them are still in people's wallets.

In development an RSA key is made once into the instance folder on first use (not at start-up: most runs
never sign anything, and RSA generation costs a noticeable fraction of a second).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from flask import Flask
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from service.config import Settings, write_once

DEV_KEY_FILE = "openbadges_signing_key.pem"
MIN_RSA_BITS = 2048
_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z ]+)-----.+?-----END \1-----", re.S)
_THUMBPRINT_MEMBERS = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}


class KeyConfigError(RuntimeError):
    """A configured key that cannot be used; raised at start-up with the variable's name in the message."""


@dataclass(frozen=True)
class PublicKey:
    """A published verification key: ``thumbprint`` (RFC 7638) names it in URLs and JOSE ``kid`` headers."""

    thumbprint: str
    alg: str
    jwk: dict[str, str]


@dataclass(frozen=True)
class SigningKeys:
    private: Any
    current: PublicKey
    retired: tuple[PublicKey, ...] = ()

    @property
    def published(self) -> tuple[PublicKey, ...]:
        return (self.current, *self.retired)

    def find(self, thumbprint: str) -> PublicKey | None:
        return next((k for k in self.published if k.thumbprint == thumbprint), None)


def _alg_for(public: Any, variable: str) -> tuple[str, dict[str, str]]:
    if isinstance(public, rsa.RSAPublicKey):
        if public.key_size < MIN_RSA_BITS:
            raise KeyConfigError(f"{variable}: an RSA key needs at least {MIN_RSA_BITS} bits, "
                                 f"this one has {public.key_size}")
        return "RS256", RSAAlgorithm.to_jwk(public, as_dict=True)
    if isinstance(public, ec.EllipticCurvePublicKey) and isinstance(public.curve, ec.SECP256R1):
        return "ES256", ECAlgorithm.to_jwk(public, as_dict=True)
    if isinstance(public, ed25519.Ed25519PublicKey):
        return "EdDSA", OKPAlgorithm.to_jwk(public, as_dict=True)
    raise KeyConfigError(f"{variable}: use an RSA (2048 bits or more), EC P-256 or Ed25519 key")


def thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638: SHA-256 of the key's required members in lexicographic order, no whitespace."""
    members = {m: jwk[m] for m in _THUMBPRINT_MEMBERS[jwk["kty"]]}
    digest = hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def public_key(public: Any, variable: str) -> PublicKey:
    alg, jwk = _alg_for(public, variable)
    jwk = {k: v for k, v in jwk.items() if k in _THUMBPRINT_MEMBERS[jwk["kty"]]}  # never a private member
    return PublicKey(thumbprint(jwk), alg, {**jwk, "alg": alg, "use": "sig"})


def _pem_bytes(value: str, variable: str) -> bytes:
    """The variable holds PEM text itself, or the path of a file holding it."""
    if "-----BEGIN" in value:
        return value.encode()
    try:
        return Path(value.strip()).read_bytes()
    except OSError as exc:
        raise KeyConfigError(f"{variable}: not PEM text, and {value.strip()!r} cannot be read "
                             f"({exc.strerror})") from exc


def _private(pem: bytes, variable: str) -> Any:
    try:
        return serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise KeyConfigError(f"{variable}: not an unencrypted PEM private key ({exc})") from exc


def _publics(pem: bytes, variable: str) -> list[Any]:
    """Every key in a PEM bundle: public keys as they are, private keys by their public half."""
    out = []
    for block in _PEM_BLOCK.finditer(pem):
        text = block.group(0)
        try:
            out.append(serialization.load_pem_public_key(text) if b"PUBLIC KEY" in block.group(1)
                       else serialization.load_pem_private_key(text, password=None).public_key())
        except (ValueError, TypeError) as exc:
            raise KeyConfigError(f"{variable}: key {len(out) + 1} is not a usable PEM key ({exc})") from exc
    if not out:
        raise KeyConfigError(f"{variable}: holds no PEM key")
    return out


def load(signing: str, retired: str | None = None) -> SigningKeys:
    private = _private(_pem_bytes(signing, "OPENBADGES_SIGNING_KEY"), "OPENBADGES_SIGNING_KEY")
    current = public_key(private.public_key(), "OPENBADGES_SIGNING_KEY")
    old: list[PublicKey] = []
    for pub in _publics(_pem_bytes(retired, "OPENBADGES_RETIRED_KEYS"), "OPENBADGES_RETIRED_KEYS") if retired else ():
        key = public_key(pub, "OPENBADGES_RETIRED_KEYS")
        if key.thumbprint != current.thumbprint and all(k.thumbprint != key.thumbprint for k in old):
            old.append(key)
    return SigningKeys(private, current, tuple(old))


def development_key(instance: Path) -> str:
    """The instance folder's generated key, made once on first use."""
    return write_once(instance / DEV_KEY_FILE, lambda: rsa.generate_private_key(
        public_exponent=65537, key_size=MIN_RSA_BITS).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


def init_app(app: Flask) -> None:
    """A configured key is loaded now, so a bad one stops the start; the development key waits for first use."""
    settings: Settings = app.extensions["vcc_settings"]
    if settings.openbadges_signing_key or settings.production:
        app.extensions["vcc_signing_keys"] = for_settings(settings)


def app_keys(app: Flask) -> SigningKeys | None:
    if "vcc_signing_keys" not in app.extensions:
        app.extensions["vcc_signing_keys"] = for_settings(app.extensions["vcc_settings"])
    return app.extensions["vcc_signing_keys"]  # type: ignore[no-any-return]


def for_settings(settings: Settings) -> SigningKeys | None:
    """The configured keys, the development key, or None (production without a key: nothing is signed)."""
    if settings.openbadges_signing_key:
        return load(settings.openbadges_signing_key, settings.openbadges_retired_keys)
    if settings.production:
        return None
    return load(development_key(settings.instance_path), settings.openbadges_retired_keys)
