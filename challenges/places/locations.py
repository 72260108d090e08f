"""Check-in locations: organiser CRUD. Archived locations keep their check-ins but take no new ones."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from challenges.models import Challenge, Location
from service.clock import utcnow
from service.errors import NotFound
from service.pagination import keyset_rows


def list_locations(session: Session, challenge: Challenge, *, include_archived: bool = False) -> list[Location]:
    query = select(Location).where(Location.challenge_id == challenge.id).order_by(Location.id)
    if not include_archived:
        query = query.where(Location.archived_at.is_(None))
    return list(session.scalars(query))


def locations_page(session: Session, challenge: Challenge, *, limit: int, cursor: str | None
                   ) -> tuple[list[Location], str | None]:
    """The challenge's open locations in the order they were added, a page at a time."""
    query = select(Location).where(Location.challenge_id == challenge.id, Location.archived_at.is_(None))
    return keyset_rows(session, query, [Location.id], limit=limit, cursor=cursor)


def get_location(session: Session, challenge: Challenge, location_id: int) -> Location:
    location = session.get(Location, location_id)
    if location is None or location.challenge_id != challenge.id or location.archived_at is not None:
        raise NotFound(f"No location {location_id} in this challenge.", code="location-not-found")
    return location


def create_location(session: Session, challenge: Challenge, values: dict[str, Any]) -> Location:
    location = Location(challenge_id=challenge.id, qr_secret=secrets.token_hex(16), **values)
    session.add(location)
    session.flush()
    return location


def update_location(session: Session, location: Location, values: dict[str, Any]) -> Location:
    rotate = values.pop("rotate_qr_secret", False)
    for key, value in values.items():
        setattr(location, key, value)
    if rotate:
        location.qr_secret = secrets.token_hex(16)
    session.flush()
    return location


def archive_location(session: Session, location: Location, now: datetime | None = None) -> None:
    location.archived_at = now or utcnow()
    session.flush()
