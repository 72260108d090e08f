"""Single-use tokens for links sent by e-mail. A token is 32 random bytes; only its SHA-256 is stored (the
same digest as refresh tokens, ``service.tokens.hash_token``). Issuing one supersedes the person's earlier
unused tokens of the same purpose (they are deleted), so only the newest mail's link works. Using one marks
it used in a conditional UPDATE: of two concurrent uses exactly one wins.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from service.db_dialect import rows_affected
from service.errors import Gone, Invalid
from service.i18n import SOURCE_LANGUAGE, match
from service.mail.models import EmailToken, TokenPurpose
from service.models import User
from service.tokens import TOKEN_BYTES, hash_token
from service.users import active_user

LIFETIME = {TokenPurpose.VERIFY_EMAIL: timedelta(hours=48), TokenPurpose.PASSWORD_RESET: timedelta(minutes=30)}
KEPT_AFTER_EXPIRY = timedelta(days=1)
"""An expired token's row stays this long, so its link still answers 'expired' rather than 'unknown'."""


class InvalidToken(Invalid):
    code = "invalid-token"
    title = "This link is not valid"


class TokenUsed(Gone):
    code = "token-used"
    title = "This link was used already"


class TokenExpired(Gone):
    code = "token-expired"
    title = "This link has expired"


@dataclass(frozen=True)
class Issued:
    token: str
    expires_at: datetime
    dedupe_key: str
    """Names the mail that carries this token (ids of deleted rows come back on SQLite; digests do not)."""


def page_url(base_url: str, page: str, token: str, locale: str | None) -> str:
    """The link a mail carries to one of the link pages (service.mail.pages): the page opens in the mail's
    language, which is the account's, whatever the browser that opens it prefers."""
    return f"{base_url}/{page}?token={token}&lang={match(locale) or SOURCE_LANGUAGE}"


def new_token() -> tuple[str, str]:
    """A fresh token and its hash; also what an unknown address's request computes, to take the same time."""
    raw = secrets.token_urlsafe(TOKEN_BYTES)
    return raw, hash_token(raw)


def issue(session: Session, user_id: int, purpose: TokenPurpose, now: datetime) -> Issued:
    rows_affected(session, delete(EmailToken).where(EmailToken.user_id == user_id, EmailToken.purpose == purpose,
                                                    EmailToken.used_at.is_(None)))
    raw, digest = new_token()
    expires = now + LIFETIME[purpose]
    session.add(EmailToken(user_id=user_id, purpose=purpose, token_hash=digest, created_at=now, expires_at=expires))
    session.flush()
    return Issued(raw, expires, f"{purpose.value}:{digest[:40]}")


def account_of(session: Session, raw: str, purpose: TokenPurpose, now: datetime) -> User:
    """Use the token; the live account it was issued to (an erased or deleted one makes the link invalid)."""
    user = active_user(session, use(session, raw, purpose, now))
    if user is None:
        raise InvalidToken("This link is not valid: its account no longer exists.")
    return user


def use(session: Session, raw: str, purpose: TokenPurpose, now: datetime) -> int:
    """Mark the token used and return its user's id; a clear error when it is unknown, used or expired."""
    row = session.scalar(select(EmailToken).where(EmailToken.token_hash == hash_token(raw),
                                                  EmailToken.purpose == purpose))
    if row is None:
        raise InvalidToken("This link is not valid: it may have been mistyped or replaced by a newer mail.")
    if row.used_at is not None:
        raise TokenUsed("This link was used already; each link works once.")
    if row.expires_at <= now:
        raise TokenExpired("This link has expired; ask for a new mail.")
    won = rows_affected(session, update(EmailToken).where(EmailToken.id == row.id, EmailToken.used_at.is_(None))
                        .values(used_at=now))
    if not won:
        raise TokenUsed("This link was used already; each link works once.")
    return row.user_id


def purge(session: Session, now: datetime) -> int:
    """Tokens a day past their expiry, used or not."""
    return rows_affected(session, delete(EmailToken).where(EmailToken.expires_at < now - KEPT_AFTER_EXPIRY))
