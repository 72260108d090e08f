"""Demo activity for `vcc seed-demo`: weeks of varied, realistic activity through the real ingest path."""

from __future__ import annotations

from sqlalchemy.orm import Session


def seed_activities(session: Session, challenge_ids: list[int]) -> list[str]:
    return []
