"""Invariants of the small pure helpers: request fingerprints, cursors, token hashes."""

from __future__ import annotations

import json
import random
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from service.idempotency import fingerprint
from service.pagination import decode_cursor, encode_cursor
from service.tokens import hash_token

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10),
                    st.floats(allow_nan=False, allow_infinity=False))
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                            st.dictionaries(st.text(max_size=5), inner, max_size=4)),
                           max_leaves=12)
objects = st.dictionaries(st.text(max_size=8), json_values, min_size=1, max_size=6)


def _shuffled(value: Any, rnd: random.Random) -> Any:
    if isinstance(value, dict):
        items = list(value.items())
        rnd.shuffle(items)
        return {k: _shuffled(v, rnd) for k, v in items}
    if isinstance(value, list):
        return [_shuffled(v, rnd) for v in value]
    return value


@given(objects, st.integers(min_value=0, max_value=2**32))
def test_fingerprint_ignores_key_order_and_whitespace(body: dict[str, Any], seed: int) -> None:
    other = _shuffled(body, random.Random(seed))
    a = fingerprint("POST", "/api/v1/activities", json.dumps(body).encode())
    b = fingerprint("POST", "/api/v1/activities", json.dumps(other, indent=2).encode())
    assert a == b


@given(objects, objects)
def test_fingerprint_separates_different_bodies_and_paths(a: dict[str, Any], b: dict[str, Any]) -> None:
    fa = fingerprint("POST", "/x", json.dumps(a).encode())
    if json.dumps(a, sort_keys=True) != json.dumps(b, sort_keys=True):
        assert fa != fingerprint("POST", "/x", json.dumps(b).encode())
    assert fa != fingerprint("POST", "/y", json.dumps(a).encode())


@given(st.dictionaries(st.text(max_size=10), st.one_of(st.integers(), st.text(max_size=20)), max_size=5))
def test_cursor_round_trips(values: dict[str, Any]) -> None:
    assert decode_cursor(encode_cursor(values)) == values


@given(st.text(min_size=1, max_size=64))
def test_token_hash_is_stable_hex_and_not_the_token(token: str) -> None:
    digest = hash_token(token)
    assert digest == hash_token(token) and len(digest) == 64 and digest != token
    int(digest, 16)
