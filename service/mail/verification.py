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
from service.mail import links, outbox
from service.mail.models import MailKind, TokenPurpose
from service.models import User


class AlreadyVerified(Conflict):
    code = "email-already-verified"
    title = "This address is verified already"


def send(session: Session, user: User, base_url: str, now: datetime) -> None:
    """A new verification link for ``user`` in the outbox; in the caller's transaction."""
    if user.email_verified_at is not None:
        raise AlreadyVerified("Your e-mail address is verified already.")
    hours = int(links.LIFETIME[TokenPurpose.VERIFY_EMAIL].total_seconds() // 3600)
    outbox.enqueue_link(session, user, kind=MailKind.VERIFY_EMAIL, purpose=TokenPurpose.VERIFY_EMAIL,
                        page="verify-email", base_url=base_url, now=now, hours=hours)


def verify(session: Session, token: str, now: datetime) -> User:
    """Use the token and mark its person's address verified (the first time only)."""
    user = links.account_of(session, token, TokenPurpose.VERIFY_EMAIL, now)
    user.email_verified_at = user.email_verified_at or now
    session.flush()
    return user


def address_changed(user: User) -> None:
    """A new address is unverified until a mail sent to it comes back."""
    user.email_verified_at = None
