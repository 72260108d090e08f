"""The outbox of e-mails and the single-use tokens their links carry.

An outbox row holds a message until it is sent (then its body is blanked: it may carry a single-use link)
or given up (``dead``); sent and dead rows are purged after NOTIFICATION_RETENTION_DAYS. A token row holds
only the SHA-256 of the token the link carries, so a database leak opens no mailbox's account.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.clock import utcnow
from service.db import Base
from service.models import str_enum


class MailKind(enum.StrEnum):
    VERIFY_EMAIL = "verify_email"
    PASSWORD_RESET = "password_reset"
    INVITATION = "invitation"
    WEEKLY_SUMMARY = "weekly_summary"


class MailStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"


class TokenPurpose(enum.StrEnum):
    VERIFY_EMAIL = "verify_email"
    PASSWORD_RESET = "password_reset"


class OutboxMail(Base):
    """One e-mail to send. ``dedupe_key`` is unique: enqueueing the same message twice stores it once."""

    __tablename__ = "email_outbox"
    __table_args__ = (Index("ix_email_outbox_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    recipient: Mapped[str] = mapped_column(String(254))
    kind: Mapped[MailKind] = mapped_column(str_enum(MailKind, "email_kind"))
    subject: Mapped[str] = mapped_column(String(200))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(String(16), default="en")
    status: Mapped[MailStatus] = mapped_column(str_enum(MailStatus, "email_status"), default=MailStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    last_error: Mapped[str | None] = mapped_column(String(120))
    """The exception's class name and the SMTP reply code, never the server's text (it may quote the address)."""
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    sent_at: Mapped[datetime | None]


class EmailToken(Base):
    """A single-use token of a link (verify an address, reset a password): its hash, purpose and expiry."""

    __tablename__ = "email_tokens"
    __table_args__ = (Index("ix_email_tokens_user_id_purpose", "user_id", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[TokenPurpose] = mapped_column(str_enum(TokenPurpose, "email_token_purpose"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]
