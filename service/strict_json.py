"""JSON as this API takes it: ``json.loads`` within the limits every consumer of a body can rely on.

Python's parser takes more than the API can hold, and each excess used to surface as a 500 far from the body:

- nesting: 5,000 levels raise ``RecursionError`` in the parser, and a few hundred parse but break whatever
  walks the value later (``repr`` in a message, ``json.dumps`` of an idempotent request); at most ``MAX_DEPTH``;
- integers: 5,000 digits raise ``ValueError`` (Python's int max str digits), and anything past 64 bits fits no
  column; at most ``MAX_INT_DIGITS`` digits;
- ``NaN``, ``Infinity`` (not JSON at all) and ``1e400`` (read as infinity) poison every sum they enter.

Each is refused as ``json.JSONDecodeError`` (a ``ValueError``, as a malformed body is), and an API body gets a 400
problem saying which limit it broke. The checks cost a few C-speed passes over the bytes (~1 ms for a 1,000-item
batch); the number hooks run only when a pass finds a candidate. The idempotency fingerprint and cursors, which
only canonicalise or read back what this service wrote, keep ``json.loads`` and treat its ``RecursionError``
as they treat any text that is not JSON.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from flask import Request
from marshmallow import Schema, missing
from webargs.flaskparser import is_json_request

from service.errors import Invalid

MAX_DEPTH = 64
MAX_INT_DIGITS = 19
"""2**63 has 19 digits: no column of this service holds a longer integer."""

_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_STRING = re.compile(rb'"[^"]*"')
_PAIR = re.compile(rb"\[\]|\{\}")
_NOT_STRUCTURE = bytes(sorted(set(range(256)) - set(b'[]{}"')))
_NUMBER_SHAPES = bytes.maketrans(b"0123456789E", b"0000000000e")


class BadJSON(Invalid):
    code = "bad-request"
    title = "Bad Request"


def too_deep(body: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether arrays and objects nest deeper than ``limit``, without parsing: escapes dropped, only brackets and
    quotes kept, strings (and the brackets in them) removed, then one innermost pair removed per level."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    shape = _STRING.sub(b"", _ESCAPE.sub(b"", body).translate(None, _NOT_STRUCTURE).replace(b'""', b""))
    for _ in range(limit):
        inner = _PAIR.sub(b"", shape)
        if not inner or inner == shape:  # done, or unbalanced: the parser will say what is wrong
            return False
        shape = inner
    return True


def _may_hold_big_numbers(body: bytes) -> bool:
    """A run of more than ``MAX_INT_DIGITS`` digits or a three-digit exponent anywhere (in a string too: the hooks
    then find nothing to refuse)."""
    shapes = body.translate(_NUMBER_SHAPES, b"+")
    return b"0" * (MAX_INT_DIGITS + 1) in shapes or b"e000" in shapes


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"an integer of {len(text.lstrip('-'))} digits; at most {MAX_INT_DIGITS} are accepted")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"the number {text[:40]} is out of range")
    return value


def _constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON value")


def loads(body: bytes | str) -> Any:
    """The parsed body, or ``json.JSONDecodeError`` saying which limit it broke (or why it is not JSON)."""
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    text = body if isinstance(body, str) else None
    if too_deep(raw):
        raise json.JSONDecodeError(f"arrays and objects nest more than {MAX_DEPTH} levels deep", "", 0)
    hooks: dict[str, Any] = {"parse_constant": _constant}
    if _may_hold_big_numbers(raw):
        hooks.update(parse_int=_integer, parse_float=_float)
    try:
        return json.loads(text if text is not None else raw.decode("utf-8"), **hooks)
    except json.JSONDecodeError:
        raise
    except UnicodeDecodeError as exc:
        raise json.JSONDecodeError(f"it is not UTF-8 ({exc.reason})", "", exc.start) from exc
    except (ValueError, RecursionError) as exc:
        raise json.JSONDecodeError(str(exc) or "too deeply nested", "", 0) from exc


def load_json_body(request: Request, schema: Schema) -> Any:
    """webargs' ``json`` location loader (installed by the app factory), with ``loads``' limits: an empty body
    is missing, as webargs has it, and a bad one a 400 problem that says what is wrong."""
    if not is_json_request(request):
        return missing
    body = request.get_data(cache=True)
    if not body:
        return missing
    try:
        return loads(body)
    except json.JSONDecodeError as exc:
        raise BadJSON(f"The request body is not valid JSON ({exc.msg}).") from exc
