"""Factories of the notifications tests: devices and planned nudges made through the real use cases."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from notifications.devices import register_device
from notifications.models import DeviceToken, Nudge, NudgeKind
from notifications.planner import Candidate, plan
from service.models import User

_seq = itertools.count(1)


def make_device(session: Session, user: User, token: str | None = None, platform: str = "android") -> DeviceToken:
    device, _ = register_device(session, user.id, token=token or f"tok-{user.id}-{next(_seq)}", platform=platform)
    return device


def plan_nudge(session: Session, user: User, kind: NudgeKind = NudgeKind.BADGE_EARNED, *,
               key: str | None = None, params: dict[str, Any] | None = None, now: datetime | None = None,
               **extra: Any) -> Nudge | None:
    key = key or f"test:{kind.value}:{user.id}:{next(_seq)}"
    plan(session, [Candidate(user.id, kind, key, params or {"challenge": "City Walk", "badge": "Early bird"},
                             **extra)], now=now)
    session.flush()
    return session.scalar(select(Nudge).where(Nudge.dedupe_key == key))
