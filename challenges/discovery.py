"""Public discovery of challenges: published, public ones, filtered and paginated by keyset.

Order: newest start first, then id (descending), so a page never repeats or skips a row when challenges are
added meanwhile. Organisers who filter by their own organisation also see its drafts and invite-only ones.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from challenges.access import is_organiser
from challenges.models import Challenge, ChallengeStatus, Phase, Setting, Visibility
from service.clock import utcnow
from service.errors import Forbidden
from service.models import User
from service.pagination import cursor_fields, keyset_page


def _phase_filter(query: Select[Any], phase: Phase, now: datetime) -> Select[Any]:
    published = Challenge.status == ChallengeStatus.PUBLISHED
    if phase == Phase.DRAFT:
        return query.where(Challenge.status == ChallengeStatus.DRAFT)
    if phase == Phase.UPCOMING:
        return query.where(published, Challenge.starts_at > now)
    if phase == Phase.RUNNING:
        return query.where(published, Challenge.starts_at <= now, Challenge.ends_at > now)
    return query.where(or_(Challenge.status == ChallengeStatus.ENDED, and_(published, Challenge.ends_at <= now)))


def discover(session: Session, viewer: User | None, *, organisation_id: int | None = None,
             setting: Setting | None = None, status: Phase | None = None, region: str | None = None,
             limit: int = 50, cursor: str | None = None, now: datetime | None = None
             ) -> tuple[list[Challenge], str | None]:
    now = now or utcnow()
    organiser = organisation_id is not None and is_organiser(session, viewer, organisation_id)
    if status == Phase.DRAFT and not organiser:
        raise Forbidden("Drafts are listed only for organisers, with their organisation_id.",
                        code="drafts-for-organisers")
    query = select(Challenge)
    if organiser:
        query = query.where(Challenge.organisation_id == organisation_id)
    else:
        query = query.where(Challenge.status != ChallengeStatus.DRAFT, Challenge.visibility == Visibility.PUBLIC)
        if organisation_id is not None:
            query = query.where(Challenge.organisation_id == organisation_id)
    if setting is not None:
        query = query.where(Challenge.setting == setting)
    if region is not None:
        query = query.where(Challenge.region == region)
    if status is not None:
        query = _phase_filter(query, status, now)
    after = cursor_fields(cursor, s=datetime.fromisoformat, i=int)
    if after is not None:
        query = query.where(or_(Challenge.starts_at < after["s"],
                                and_(Challenge.starts_at == after["s"], Challenge.id < after["i"])))
    rows = list(session.scalars(query.order_by(Challenge.starts_at.desc(), Challenge.id.desc()).limit(limit + 1)))
    return keyset_page(rows, limit, lambda c: {"s": c.starts_at.isoformat(), "i": c.id})
