"""Base schemas: the unknown-field policy is set once here (unknown fields are an error)."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from service.clock import is_valid_timezone


class BaseSchema(Schema):
    class Meta:
        unknown = RAISE
        ordered = True


class TimeZoneField(fields.String):
    """An IANA time zone name such as ``Europe/Helsinki``."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        name = super()._deserialize(value, attr, data, **kwargs)
        if not is_valid_timezone(name):
            raise ValidationError(f"Unknown time zone {name!r}; use an IANA name such as 'Europe/Madrid'.")
        return name


class AwareDateTime(fields.AwareDateTime):
    """ISO 8601 with an offset; a naive time is ambiguous for people in other zones, so it is refused."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="iso", **kwargs)


class PaginationArgsSchema(BaseSchema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500),
                           metadata={"description": "page size, 1..500"})
    cursor = fields.String(load_default=None, allow_none=True,
                           metadata={"description": "opaque cursor from a previous page's `next`"})
