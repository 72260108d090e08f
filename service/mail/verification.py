"""Verified addresses: ``users.email_verified_at`` says the person showed they read mail sent to their address.

Sign-up sends a verification mail; a signed-in person may ask for another (the newest link supersedes the
older ones); the link's token, posted back, sets the time once. Membership by e-mail domain (organisations
that admit their employees' or pupils' addresses) must require a verified address. Nothing in the API
changes an account's address today; whatever does must clear ``email_verified_at`` (``address_changed``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from service.errors import Conflict
from service.mail import links, outbox, texts
from service.mail.links import InvalidToken
from service.mail.models import MailKind, TokenPurpose
from service.models import User
from service.users import active_user


class AlreadyVerified(Conflict):
    code = "email-already-verified"
    title = "This address is verified already"


def send(session: Session, user: User, base_url: str, now: datetime) -> None:
    """A new verification link for ``user`` in the outbox; in the caller's transaction."""
    if user.email_verified_at is not None:
        raise AlreadyVerified("Your e-mail address is verified already.")
    issued = links.issue(session, user.id, TokenPurpose.VERIFY_EMAIL, now)
    hours = int(links.LIFETIME[TokenPurpose.VERIFY_EMAIL].total_seconds() // 3600)
    text = texts.render(MailKind.VERIFY_EMAIL, user.locale, {
        "name": user.display_name, "token": issued.token, "hours": hours,
        "link": links.page_url(base_url, "verify-email", issued.token, user.locale)}, user.timezone)
    outbox.enqueue(session, recipient=user.email, kind=MailKind.VERIFY_EMAIL, text=text, now=now,
                   locale=user.locale, user_id=user.id, dedupe_key=issued.dedupe_key)


def verify(session: Session, token: str, now: datetime) -> User:
    """Use the token and mark its person's address verified (the first time only)."""
    user = active_user(session, links.use(session, token, TokenPurpose.VERIFY_EMAIL, now))
    if user is None:
        raise InvalidToken("This link is not valid: its account no longer exists.")
    user.email_verified_at = user.email_verified_at or now
    session.flush()
    return user


def address_changed(user: User) -> None:
    """A new address is unverified until a mail sent to it comes back."""
    user.email_verified_at = None
