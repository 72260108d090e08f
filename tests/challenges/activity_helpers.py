"""Shared set-up for the activity ingest tests: an organiser, a running challenge, enrolled participants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from challenges.models import Challenge
from scoring.models import PointsEntry
from service.clock import utcnow
from service.models import Organisation, Role, User
from tests.challenges.factories import enrol, make_challenge
from tests.factories import auth_headers, make_org, quick_user


@dataclass
class World:
    org: Organisation
    organiser: User
    challenge: Challenge
    users: list[User]
    headers: dict[int, dict[str, str]]

    def h(self, user: User) -> dict[str, str]:
        return self.headers[user.id]


def make_world(app: Flask, session: Session, *, participants: int = 1, **challenge: Any) -> World:
    organiser = quick_user(session, display_name="Olga Organiser")
    org = make_org(session, members={organiser: Role.ORGANISER})
    ch = make_challenge(session, org, creator=organiser, **challenge)
    users = [quick_user(session, display_name=f"Pat {i}", timezone="Europe/Helsinki") for i in range(participants)]
    for user in users:
        enrol(session, ch, user)
    session.commit()
    headers = {u.id: auth_headers(app, u) for u in [organiser, *users]}
    return World(org, organiser, ch, users, headers)


def ago(**kwargs: float) -> datetime:
    return (utcnow() - timedelta(**kwargs)).replace(microsecond=0)


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def points(session: Session, challenge_id: int, user_id: int | None = None) -> int:
    query = select(func.coalesce(func.sum(PointsEntry.points), 0)).where(PointsEntry.contest_id == challenge_id)
    if user_id is not None:
        query = query.where(PointsEntry.user_id == user_id)
    session.expire_all()
    return int(session.scalar(query) or 0)


def post(client: FlaskClient, world: World, user: User, body: dict[str, Any], **headers: str) -> Any:
    return client.post("/api/v1/activities", json=body, headers={**world.h(user), **headers})


def walk(start: datetime, minutes: int = 30, **extra: Any) -> dict[str, Any]:
    return {"type": "walking", "started_at": iso(start), "duration_s": minutes * 60, **extra}
