"""Errors scoring raises on purpose; HTTP statuses come from service.errors' one table."""

from __future__ import annotations

from service.errors import Unprocessable


class UnknownActivityType(Unprocessable):
    code = "unknown-activity-type"
