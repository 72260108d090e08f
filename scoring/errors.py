"""Errors scoring raises on purpose; HTTP statuses come from service.errors' one table."""

from __future__ import annotations

from service.errors import Conflict, NotFound, Unavailable, Unprocessable


class UnknownActivityType(Unprocessable):
    code = "unknown-activity-type"


class SigningUnavailable(Unavailable):
    code = "credential-signing-unavailable"
    title = "Credentials cannot be signed here"


class InvalidCriteria(Unprocessable):
    code = "invalid-badge-criteria"
    title = "The badge's criteria are not valid"


class BadgeNotFound(NotFound):
    code = "badge-not-found"


class BadgeAwarded(Conflict):
    code = "badge-awarded"
    title = "People already hold this badge"
