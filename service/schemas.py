"""Base schemas: the unknown-field policy is set once here (unknown fields are an error)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from flask import Response, current_app
from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate

from service.clock import is_valid_timezone

INT32_MAX = 2**31 - 1  # ids and counts are 32-bit INTEGER columns on PostgreSQL
EARLIEST = datetime(1900, 1, 1)
LATEST = datetime(9000, 1, 1)


def within_supported_years(value: date) -> None:
    """Refuse dates whose UTC conversion or later day/week arithmetic would overflow (year 1, year 9999)."""
    wall = value.replace(tzinfo=None) if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
    if not EARLIEST <= wall < LATEST:
        raise ValidationError(f"Dates must fall between {EARLIEST.year} and {LATEST.year - 1}.")



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


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Mapping):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


def _may_hold_nul(data: dict[str, Any]) -> bool:
    try:
        return "\\u0000" in json.dumps(data)
    except (TypeError, ValueError):
        return True


class BaseSchema(Schema):
    class Meta:
        unknown = RAISE
        ordered = True

    @pre_load
    def _no_nul_characters(self, data: Any, **kwargs: Any) -> Any:
        """PostgreSQL text cannot hold NUL (U+0000): refuse it in any value of the input (else a 500 there).

        A JSON body (a plain dict) is checked first with one C-speed ``json.dumps``, which writes NUL as
        ``\\u0000``; only a hit (possibly a literal backslash-u text) walks the values. A 1,000-item batch would
        otherwise cost ~13,000 Python calls."""
        if type(data) is dict and not _may_hold_nul(data):
            return data
        if isinstance(data, Mapping):
            bad = sorted(str(key) for key in data if _has_nul(key) or _has_nul(data[key]))
            if bad:
                raise ValidationError({key: ["Text may not contain NUL (U+0000) characters."] for key in bad})
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
        """An integer without a declared range fits a 32-bit column: a larger one is a 422, not a database
        error (the bound also shows in the OpenAPI document)."""
        if isinstance(field_obj, fields.Integer) and not any(
                isinstance(v, validate.Range) for v in field_obj.validators):
            field_obj.validators = [*field_obj.validators, validate.Range(min=-INT32_MAX, max=INT32_MAX)]


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
