"""Demo data of notifications for `vcc seed-demo`: real rules plan nudges and the log sender delivers them.

The named demo participants get a (fake) Android device, so the delivery log shows their pushes; everyone
else gets inbox-only nudges. An organiser announcement welcomes the cyclists. Quiet hours are ignored for
this one seeding run only, so the inboxes have something in them whatever the hour of ``make run``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from challenges.demo import CYCLING_TITLE, KNOWN
from challenges.models import Challenge
from notifications.announcements import create_announcement
from notifications.devices import register_device
from notifications.dispatch import dispatch_due
from notifications.finalise import lifecycle_candidates
from notifications.models import Nudge
from notifications.planner import plan
from notifications.rules import activity_candidates
from notifications.sender import LogSender
from service.clock import utcnow
from service.demo import DEMO_ORGANISER_EMAIL
from service.models import User


def seed(session: Session, *args: Any) -> list[str]:
    known = list(session.scalars(select(User).where(User.email.in_([email for email, _ in KNOWN]))))
    if not known:
        return []
    if session.scalar(select(Nudge.id).limit(1)) is not None:
        return ["notifications: demo nudges already present"]
    for user in known:
        register_device(session, user.id, token=f"demo-device-{user.id}", platform="android", app_version="demo")
    cycling = session.scalar(select(Challenge).where(Challenge.title == CYCLING_TITLE))
    organiser = session.scalar(select(User).where(User.email == DEMO_ORGANISER_EMAIL))
    if cycling is not None and organiser is not None:
        create_announcement(session, cycling, organiser, title="Welcome to the cycling month",
                            body="Every kilometre you cycle in town counts for your city. Tip: connect your bike "
                                 "computer or phone under Settings > Sync, and your rides are added by themselves.")
    session.flush()
    now = utcnow()
    planned = plan(session, [*lifecycle_candidates(session, now), *activity_candidates(session, now)], now,
                   quiet_hours=False)
    session.commit()
    stats = dispatch_due(session, LogSender(), "demo-seed", quiet_hours=False)
    per_user = dict(session.execute(select(Nudge.user_id, func.count(Nudge.id)).where(
        Nudge.user_id.in_([u.id for u in known]), Nudge.inbox_at.is_not(None)).group_by(Nudge.user_id)).all())
    who = ", ".join(f"{u.email}: {per_user.get(u.id, 0)}" for u in known)
    return [f"notifications: {planned.inserted} nudges planned by the real rules, {stats.sent} in inboxes "
            f"({stats.pushes} pushes through the log sender); inbox items of {who}",
            "notifications: `vcc scheduler` keeps planning and delivering (log sender until FIREBASE_CREDENTIALS "
            "is set)"]
