"""Organiser announcements: stored once, fanned out to the challenge's participants when their time comes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from challenges.lifecycle import challenge_deleting
from challenges.models import Challenge
from notifications.models import Announcement, DeliveryAttempt, Nudge
from service.clock import utcnow
from service.errors import Invalid
from service.models import User

MAX_AHEAD = timedelta(days=365)


def create_announcement(session: Session, challenge: Challenge, author: User, *, title: str, body: str,
                        scheduled_at: datetime | None = None) -> Announcement:
    """The caller has checked the author organises the challenge's organisation; the planner fans it out."""
    if not title.strip() or not body.strip():
        raise Invalid("An announcement needs a title and a text that are not blank.", code="blank-announcement")
    now = utcnow()
    when = scheduled_at or now
    if when > now + MAX_AHEAD:
        raise Invalid("An announcement can be scheduled at most a year ahead.", code="too-far-ahead")
    item = Announcement(challenge_id=challenge.id, author_id=author.id, title=title.strip(), body=body.strip(),
                        scheduled_at=max(when, now), created_at=now)
    session.add(item)
    session.flush()
    return item


def list_announcements(session: Session, challenge_id: int) -> list[Announcement]:
    return list(session.scalars(select(Announcement).where(Announcement.challenge_id == challenge_id)
                                .order_by(Announcement.scheduled_at.desc(), Announcement.id.desc())))


@challenge_deleting.connect
def _forget_challenge(session: Session, challenge_id: int, **_: Any) -> None:
    """A deleted draft takes its announcements and every nudge about it along (SQLite applies no cascades)."""
    about = select(Nudge.id).where(or_(Nudge.challenge_id == challenge_id, Nudge.announcement_id.in_(
        select(Announcement.id).where(Announcement.challenge_id == challenge_id))))
    nudge_ids = list(session.scalars(about))
    if nudge_ids:
        session.execute(delete(DeliveryAttempt).where(DeliveryAttempt.nudge_id.in_(nudge_ids)))
        session.execute(delete(Nudge).where(Nudge.id.in_(nudge_ids)))
    session.execute(delete(Announcement).where(Announcement.challenge_id == challenge_id))
