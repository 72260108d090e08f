"""Who is a live user, and the one event of their end: the lowest room of accounts, so that auth, tokens,
consent and the domain packages can ask it without importing ``service.accounts`` (which imports them)."""

from __future__ import annotations

from blinker import Namespace
from sqlalchemy.orm import Session

from service.models import User

user_deleted = Namespace().signal("user-deleted")
"""Sent with ``(session, user_id=..., address=...)`` (the address the account had) inside the deleting
transaction; other modules and packages connect to it to withdraw consent, drop the person from boards, inboxes
and so on. Everywhere else, a user with ``deleted_at``
is gone."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def active_user(session: Session, user_id: int) -> User | None:
    """The user, or None when unknown or deleted: use this instead of ``session.get(User, ...)``."""
    user = session.get(User, user_id)
    return None if user is None or user.deleted_at is not None else user
