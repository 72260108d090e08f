"""Retention of activity details: kept for ACTIVITY_RETENTION_DAYS after a challenge's end, then reduced to the
ledger's daily points (filled in by issue 14)."""

from __future__ import annotations

ACTIVITY_RETENTION_DAYS = 180
