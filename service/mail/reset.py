"""Password reset by an e-mailed single-use link (30 minutes).

Asking answers the same whether or not an account has the address, and does the same work: a token is made
and hashed either way; only a real account's is stored and mailed. Using the link sets the new password
(the sign-up rules), signs out every session (all refresh tokens revoked), clears the address's failed
sign-in count, marks the address verified (the person read mail sent to it) and leaves an audit note with
no secret in it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from service import login_throttle, tokens
from service.accounts import find_user_by_email, hash_password
from service.mail import links, outbox
from service.mail.models import MailKind, TokenPurpose
from service.models import AuditNote, User


def request(session: Session, email: str, base_url: str, now: datetime) -> None:
    """Enqueue a reset mail if a live account has ``email``; the caller answers the same either way."""
    user = find_user_by_email(session, email)
    if user is None or user.deleted_at is not None:
        links.new_token()
        return
    minutes = int(links.LIFETIME[TokenPurpose.PASSWORD_RESET].total_seconds() // 60)
    outbox.enqueue_link(session, user, kind=MailKind.PASSWORD_RESET, purpose=TokenPurpose.PASSWORD_RESET,
                        page="reset-password", base_url=base_url, now=now, minutes=minutes)


def confirm(session: Session, token: str, password: str, now: datetime, secret: str) -> User:
    """Set the new password; a weak one is refused before the token is used, so the link still works."""
    password_hash = hash_password(password)
    user = links.account_of(session, token, TokenPurpose.PASSWORD_RESET, now)
    user.password_hash = password_hash
    user.email_verified_at = user.email_verified_at or now
    revoked = tokens.revoke_all_for_user(session, user.id)
    login_throttle.clear(session, login_throttle.account_key(user.email, secret))
    session.add(AuditNote(user_id=user.id, event="password-reset",
                          detail=f"by e-mailed link; {revoked} refresh tokens revoked"))
    session.flush()
    return user
