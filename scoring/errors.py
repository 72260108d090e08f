"""Errors scoring raises on purpose; HTTP statuses come from service.errors' one table."""

from __future__ import annotations

from service.errors import Unavailable, Unprocessable


class UnknownActivityType(Unprocessable):
    code = "unknown-activity-type"


class SigningUnavailable(Unavailable):
    code = "credential-signing-unavailable"
    title = "Credentials cannot be signed here"
