"""Retention of nudges, delivery attempts and planner marks: NOTIFICATION_RETENTION_DAYS (filled in by issue 14)."""

from __future__ import annotations

NOTIFICATION_RETENTION_DAYS = 90
