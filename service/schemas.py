"""Base schemas: the unknown-field policy is set once here (unknown fields are an error)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from flask import Response, current_app
from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate

from service.clock import is_valid_timezone, unsupported_time

INT32_MAX = 2**31 - 1  # ids and counts are 32-bit INTEGER columns on PostgreSQL
FLOAT_MAX = 1e15
"""Default bound of a number without a declared range: past 2**53 (about 9e15) a float no longer counts units."""
NUL_TEXT = "Text may not contain NUL (U+0000) characters."
SURROGATE_TEXT = ("Text may not contain unpaired surrogates (U+D800 to U+DFFF): send valid Unicode (a pair of "
                  "\\u escapes for one character beyond U+FFFF is fine).")


def within_supported_years(value: date) -> None:
    """Refuse dates whose UTC conversion or later day/week arithmetic would overflow (year 1, year 9999)."""
    if reason := unsupported_time(value):
        raise ValidationError(reason)



def _json_type_error(field: fields.Field, value: Any) -> str | None:
    """Why ``value`` is not of the JSON type the document promises for ``field`` (None when it is).

    marshmallow coerces on its own: ``"yes"`` becomes True and ``2.5`` an integer 2, silently. A JSON body
    that sends the wrong type is a client bug that deserves a 422, not a guess.
    """
    if isinstance(field, fields.Boolean):
        return None if isinstance(value, bool) else "Not a valid boolean: send true or false."
    if isinstance(field, fields.Integer):
        whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        return None if whole and not isinstance(value, bool) else "Not a valid integer."
    if isinstance(field, fields.Number):
        number = isinstance(value, int | float) and not isinstance(value, bool)
        return None if number else "Not a valid number."
    return None


def _text_problem(value: Any) -> str | None:
    if isinstance(value, str):
        if "\x00" in value:
            return NUL_TEXT
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return SURROGATE_TEXT
        return None
    if isinstance(value, Mapping):
        return next((p for k, v in value.items() if (p := _text_problem(k) or _text_problem(v))), None)
    if isinstance(value, list | tuple):
        return next((p for v in value if (p := _text_problem(v))), None)
    return None


def _may_hold_unstorable_text(data: Any) -> bool:
    """One C-speed ``json.dumps`` that writes NUL as ``\\u0000`` and keeps an unpaired surrogate as it is, which
    then fails to encode: only a hit (or a literal backslash-u text) walks the values. A 1,000-item batch would
    otherwise cost ~13,000 Python calls."""
    try:
        text = json.dumps(data, ensure_ascii=False)
        text.encode("utf-8")
    except (TypeError, ValueError, RecursionError):  # UnicodeEncodeError is a ValueError
        return True
    return "\\u0000" in text


def text_problem(value: Any) -> str | None:
    """Why text somewhere in ``value`` cannot be stored (None when it can), for what a schema leaves to its use
    case: each item of a batch, so that one bad item fails only itself."""
    return _text_problem(value) if _may_hold_unstorable_text(value) else None


class BaseSchema(Schema):
    class Meta:
        unknown = RAISE
        ordered = True

    PER_ITEM_TEXT: tuple[str, ...] = ()
    """Keys whose values the use case checks item by item with ``text_problem`` (a batch's ``items``)."""

    @pre_load
    def _storable_text(self, data: Any, **kwargs: Any) -> Any:
        """Refuse text no database here stores, in any value of the input (else a 500 at the driver): NUL
        (U+0000), which PostgreSQL text cannot hold, and unpaired surrogates (JSON's ``"\\ud800"``), which
        no driver can encode as UTF-8."""
        checked = data
        if self.PER_ITEM_TEXT and isinstance(data, Mapping):
            checked = {key: value for key, value in data.items() if key not in self.PER_ITEM_TEXT}
        if type(checked) is dict and not _may_hold_unstorable_text(checked):
            return data
        if isinstance(checked, Mapping):
            errors = {str(key): [problem] for key in sorted(checked, key=str)
                      if (problem := _text_problem(key) or _text_problem(checked[key]))}
            if errors:
                raise ValidationError(errors)
        return data

    @pre_load
    def _exact_json_types(self, data: Any, **kwargs: Any) -> Any:
        """Booleans and numbers in a JSON body must be JSON booleans and numbers. Query strings and forms
        arrive as text in webargs' MultiDictProxy (not a dict), and keep marshmallow's parsing of text."""
        if type(data) is not dict:
            return data
        errors: dict[str, list[str]] = {}
        for name, field in self.load_fields.items():
            key = field.data_key or name
            value = data.get(key)
            if value is not None and (message := _json_type_error(field, value)):
                errors[key] = [message]
        if errors:
            raise ValidationError(errors)
        return data

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        """A number without a declared range gets one (it shows in the OpenAPI document too): an integer fits a
        32-bit column, a larger one is a 422, not a database error; any other number stays within ``FLOAT_MAX``,
        so ``1e308`` is a 422, not an overflow in the arithmetic it enters."""
        if not isinstance(field_obj, fields.Number) or any(isinstance(v, validate.Range)
                                                           for v in field_obj.validators):
            return
        bound = INT32_MAX if isinstance(field_obj, fields.Integer) else FLOAT_MAX
        field_obj.validators = [*field_obj.validators, validate.Range(min=-bound, max=bound)]


class TimeZoneField(fields.String):
    """An IANA time zone name such as ``Europe/Helsinki``."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        name = super()._deserialize(value, attr, data, **kwargs)
        if not is_valid_timezone(name):
            raise ValidationError(f"Unknown time zone {name!r}; use an IANA name such as 'Europe/Madrid'.")
        return name


class AwareDateTime(fields.AwareDateTime):
    """ISO 8601 with an offset; a naive time is ambiguous for people in other zones, so it is refused.

    Read and answered in UTC whatever offset came in, so one instant reads the same in every answer (a create's
    echo, a later GET, an imported file's times). Challenge dates are the exception: their schema shows them in
    the challenge's own zone."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="iso", **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        when = super()._deserialize(value, attr, data, **kwargs)
        within_supported_years(when)  # before the conversion, which overflows in year 1 and 9999
        return when.astimezone(UTC)

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return super()._serialize(value.astimezone(UTC) if value is not None else None, attr, obj, **kwargs)


class PaginationArgsSchema(BaseSchema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500),
                           metadata={"description": "page size, 1..500"})
    cursor = fields.String(load_default=None, allow_none=True,
                           metadata={"description": "opaque cursor from a previous page's `next`"})


NEXT_CURSOR_DOC = {"description": "cursor of the next page, null at the end"}


def page_of(item_schema: type[Schema], name: str | None = None, *, documented: bool = False) -> type[BaseSchema]:
    """The schema of one page of a keyset-paginated list: ``items`` (a list of ``item_schema``) and ``next``, the
    cursor of the next page (null at the end); see service.pagination.

    The OpenAPI component is ``name`` (``ChallengeSchema`` gives ``ChallengePage`` when no name is given); the
    class is built once per item schema, name and flavour, so every view sharing a page shares its component.
    A ``documented`` page marks ``items`` required and describes ``next`` in the document."""
    return _page(item_schema, name or item_schema.__name__.removesuffix("Schema") + "Page", documented)


@cache
def _page(item_schema: type[Schema], name: str, documented: bool) -> type[BaseSchema]:
    items = fields.List(fields.Nested(item_schema), **({"required": True} if documented else {}))
    cursor = fields.String(allow_none=True, **({"metadata": NEXT_CURSOR_DOC} if documented else {}))
    return BaseSchema.from_dict({"items": items, "next": cursor}, name=f"{name}Schema")


def prebuilt(payload: dict[str, Any], status: int = 200) -> Response:
    """An answer already in its documented schema's shape, made of plain JSON values by our own code.

    flask-smorest passes a ``Response`` through untouched, so a view returning this skips marshmallow's
    per-field dump: for a 1,000-item batch result that dump costs more than the JSON encoding itself. The
    view keeps its ``@blp.response`` schema for the OpenAPI document, and the API tests check the answer
    against it.
    """
    return current_app.response_class(json.dumps(payload, separators=(",", ":")), status,
                                      mimetype="application/json")
