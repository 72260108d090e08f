"""The issuer key: thumbprints, the development key made once, and configured keys checked at start-up."""

from __future__ import annotations

import stat
import threading
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from service import signing_keys
from service.signing_keys import KeyConfigError

RFC7638_N = ("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRX"
             "jBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0"
             "zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-"
             "csFCur-kEgU8awapJzKnqDKgw")


def _pem(key: Any) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def test_thumbprint_is_the_rfc_7638_example_and_ignores_optional_members() -> None:
    jwk = {"kty": "RSA", "n": RFC7638_N, "e": "AQAB"}
    assert signing_keys.thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    assert signing_keys.thumbprint({**jwk, "alg": "RS256", "kid": "2011-04-29"}) == signing_keys.thumbprint(jwk)


def test_the_development_key_is_made_once_private_to_its_owner_and_reused(tmp_path: Path) -> None:
    first = signing_keys.development_key(tmp_path)
    path = tmp_path / signing_keys.DEV_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert signing_keys.development_key(tmp_path) == first
    assert signing_keys.load(first).current.alg == "RS256"
    assert sorted(p.name for p in tmp_path.iterdir()) == [signing_keys.DEV_KEY_FILE]  # no drafts left behind


def test_workers_starting_together_agree_on_one_development_key(tmp_path: Path) -> None:
    keys: list[str] = []
    threads = [threading.Thread(target=lambda: keys.append(signing_keys.development_key(tmp_path))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(keys) == 4 and len(set(keys)) == 1
    assert keys[0] == (tmp_path / signing_keys.DEV_KEY_FILE).read_text()


def test_a_configured_key_may_be_pem_text_or_a_path(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    file = tmp_path / "issuer.pem"
    file.write_text(_pem(key))
    by_text, by_path = signing_keys.load(_pem(key)), signing_keys.load(str(file))
    assert by_text.current == by_path.current and by_text.current.alg == "ES256"
    assert set(by_text.current.jwk) == {"kty", "crv", "x", "y", "alg", "use"}  # no "d"


@pytest.mark.parametrize(("value", "message"), [
    ("/no/such/issuer.pem", "'/no/such/issuer.pem' cannot be read"),
    ("-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n", "not an unencrypted PEM private key"),
])
def test_an_unusable_signing_key_is_named_in_the_error(value: str, message: str) -> None:
    with pytest.raises(KeyConfigError, match="OPENBADGES_SIGNING_KEY") as err:
        signing_keys.load(value)
    assert message in str(err.value)


def test_weak_and_unsupported_keys_are_refused() -> None:
    with pytest.raises(KeyConfigError, match="at least 2048 bits, this one has 1024"):
        signing_keys.load(_pem(rsa.generate_private_key(public_exponent=65537, key_size=1024)))
    with pytest.raises(KeyConfigError, match=r"RSA .* EC P-256 or Ed25519"):
        signing_keys.load(_pem(ec.generate_private_key(ec.SECP384R1())))


def test_retired_keys_need_at_least_one_pem_block() -> None:
    current = _pem(ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(KeyConfigError, match="OPENBADGES_RETIRED_KEYS: holds no PEM key"):
        signing_keys.load(current, retired="just some text, not a key\n-----BEGIN")


def test_a_retired_key_equal_to_the_current_one_is_published_once() -> None:
    current = _pem(ec.generate_private_key(ec.SECP256R1()))
    keys = signing_keys.load(current, retired=current)
    assert keys.published == (keys.current,)


def test_the_app_does_not_start_with_a_bad_key(side_app: Any) -> None:
    with pytest.raises(KeyConfigError, match="OPENBADGES_SIGNING_KEY"):
        side_app(OPENBADGES_SIGNING_KEY="/no/such/issuer.pem")
