"""Public discovery of challenges (published, public ones) and a participant's own challenges, by keyset.

Order: newest start first, then id (descending), so a page never repeats or skips a row when challenges are
added meanwhile. Organisers who filter by their own organisation also see its drafts and invite-only ones;
a participant's own list holds every challenge they joined, invite-only ones included.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from challenges.access import is_organiser
from challenges.models import Challenge, ChallengeStatus, Enrolment, Phase, Setting, Visibility
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
    return _page(session, query, limit, cursor)


def _page(session: Session, query: Select[Any], limit: int, cursor: str | None) -> tuple[list[Any], str | None]:
    """Newest start first, by keyset; ``query`` selects a Challenge first (alone or with more entities)."""
    after = cursor_fields(cursor, s=datetime.fromisoformat, i=int)
    if after is not None:
        query = query.where(or_(Challenge.starts_at < after["s"],
                                and_(Challenge.starts_at == after["s"], Challenge.id < after["i"])))
    query = query.order_by(Challenge.starts_at.desc(), Challenge.id.desc()).limit(limit + 1)
    entities = len(query.column_descriptions) > 1
    rows = list(session.execute(query).all() if entities else session.scalars(query))
    first = (lambda r: r[0]) if entities else (lambda r: r)
    return keyset_page(rows, limit, lambda r: {"s": first(r).starts_at.isoformat(), "i": first(r).id})


def my_challenges(session: Session, user: User, *, status: Phase | None = None, include_left: bool = False,
                  limit: int = 50, cursor: str | None = None, now: datetime | None = None
                  ) -> tuple[list[tuple[Challenge, Enrolment]], str | None]:
    """The challenges this participant joined, with their enrolment (left ones too with ``include_left``).

    Drafts never show (nobody can join one); invite-only challenges do, since the participant is in them.
    """
    query = (select(Challenge, Enrolment).join(Enrolment, Enrolment.challenge_id == Challenge.id)
             .where(Enrolment.user_id == user.id, Challenge.status != ChallengeStatus.DRAFT))
    if not include_left:
        query = query.where(Enrolment.left_at.is_(None))
    if status is not None:
        query = _phase_filter(query, status, now or utcnow())
    return _page(session, query, limit, cursor)  # type: ignore[return-value]
