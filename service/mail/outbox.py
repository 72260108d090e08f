"""The outbox: requests enqueue e-mails in their own transaction, the ``service.mail_outbox`` job sends them.

So a slow or unreachable mail server never holds a request, and a mail is sent only if the transaction that
wanted it committed. One run: claim a batch of due rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, one atomic
UPDATE on SQLite; the claim moves ``next_attempt_at`` past ``CLAIM_TIMEOUT``, so rows of a crashed run come
due again), send each, and record the outcome:

- accepted: ``sent``, and the body is blanked (it may carry a single-use link);
- a 4xx reply, a refused or dropped connection, a timeout: retried after 1, 2, 4 ... minutes (at most
  ``BACKOFF_MAX``); after ``MAX_ATTEMPTS`` it is ``dead``;
- a 5xx reply (the server will never take it): ``dead`` at once, except the replies about our own setup
  (``SETUP_CODES``: STARTTLS or authentication needed, credentials refused), retried. A dead row's body is
  blanked too.

``last_error`` keeps the exception's class and the SMTP code, never the server's text. Delivery is at least
once: a run that dies between the server's 250 and its commit sends that mail again after the claim expires.
"""

from __future__ import annotations

import logging
import smtplib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from service import metrics
from service.db_dialect import insert_ignore, is_postgres, one_of, rows_affected
from service.mail import links, texts
from service.mail.models import MailKind, MailStatus, OutboxMail, TokenPurpose
from service.mail.texts import MailText
from service.mail.transport import MailSender, Outgoing, build_message
from service.models import User
from service.retention import cutoff

log = logging.getLogger(__name__)

BATCH = 50
CLAIM_TIMEOUT = timedelta(minutes=5)
MAX_ATTEMPTS = 10
SETUP_CODES = frozenset({530, 534, 535, 538})
"""5xx replies about our setup, not the mail (STARTTLS or authentication needed, credentials refused): retried
like 4xx, so a misconfigured deployment loses no mail while the operator fixes it."""
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=1)


@dataclass
class OutboxStats:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    purged: int = 0


def enqueue_link(session: Session, user: User, *, kind: MailKind, purpose: TokenPurpose, page: str, base_url: str,
                 now: datetime, **values: Any) -> None:
    """A mail carrying a fresh single-use link of ``purpose`` to ``page`` (verification, password reset), in the
    person's language and time zone; a newer link supersedes the older ones (``links.issue``)."""
    issued = links.issue(session, user.id, purpose, now)
    text = texts.render(kind, user.locale, {
        "name": user.display_name, "token": issued.token,
        "link": links.page_url(base_url, page, issued.token, user.locale), **values}, user.timezone)
    enqueue(session, recipient=user.email, kind=kind, text=text, now=now, locale=user.locale, user_id=user.id,
            dedupe_key=issued.dedupe_key)


def enqueue(session: Session, *, recipient: str, kind: MailKind, text: MailText, dedupe_key: str, now: datetime,
            locale: str = "en", user_id: int | None = None) -> None:
    """Store the mail unless one with ``dedupe_key`` is stored already; in the caller's transaction."""
    session.execute(insert_ignore(session, OutboxMail, index_elements=["dedupe_key"]).values(
        user_id=user_id, recipient=recipient, kind=kind, subject=text.subject, body_text=text.text,
        body_html=text.html, locale=locale, status=MailStatus.PENDING, attempts=0, next_attempt_at=now,
        dedupe_key=dedupe_key, created_at=now))


def backoff(attempts: int) -> timedelta:
    return min(BACKOFF_MAX, BACKOFF_BASE * 2 ** max(0, attempts - 1))


def classify(exc: BaseException) -> tuple[bool, str]:
    """(permanent, what ``last_error`` keeps): 5xx replies are permanent, everything else may pass."""
    code: int | None = None
    if isinstance(exc, smtplib.SMTPRecipientsRefused) and exc.recipients:
        code = next(iter(exc.recipients.values()))[0]
    elif isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
    name = type(exc).__name__
    if isinstance(exc, smtplib.SMTPAuthenticationError | smtplib.SMTPConnectError):
        return False, f"{name} {code}"  # the operator's credentials or the server's state, not this mail
    permanent = code is not None and 500 <= code < 600 and code not in SETUP_CODES
    return permanent, f"{name} {code}" if code is not None else name


def claim(session: Session, holder: str, now: datetime, limit: int = BATCH) -> list[OutboxMail]:
    token = f"{holder}/{uuid.uuid4().hex[:8]}"[:80]
    due = (select(OutboxMail.id).where(OutboxMail.status == MailStatus.PENDING, OutboxMail.next_attempt_at <= now)
           .order_by(OutboxMail.next_attempt_at, OutboxMail.id).limit(limit))
    if is_postgres(session):
        ids = list(session.scalars(due.with_for_update(skip_locked=True)))
        where = one_of(session, OutboxMail.id, ids)
    else:  # SQLite runs one writer at a time: this one statement is the claim
        where = OutboxMail.id.in_(due.scalar_subquery())
    rows_affected(session, update(OutboxMail).where(where, OutboxMail.status == MailStatus.PENDING)
                  .values(claimed_by=token, next_attempt_at=now + CLAIM_TIMEOUT))
    session.commit()
    return list(session.scalars(select(OutboxMail).where(OutboxMail.claimed_by == token,
                                                         OutboxMail.status == MailStatus.PENDING)
                                .order_by(OutboxMail.id)))


def _finish(mail: OutboxMail, status: MailStatus, now: datetime, error: str | None) -> None:
    mail.status, mail.last_error, mail.claimed_by = status, error, None
    mail.body_text, mail.body_html = "", None
    if status == MailStatus.SENT:
        mail.sent_at = now


def _deliver(mail: OutboxMail, sender: MailSender, mail_from: str, now: datetime, stats: OutboxStats) -> None:
    mail.attempts += 1
    try:
        message = build_message(mail_from, mail.recipient, mail.subject, mail.body_text, mail.body_html)
        sender.send(Outgoing(mail.kind, mail.recipient, message))
    except (smtplib.SMTPException, OSError, ValueError) as exc:
        permanent, error = classify(exc)
        if permanent or mail.attempts >= MAX_ATTEMPTS:
            _finish(mail, MailStatus.DEAD, now, error)
            stats.dead += 1
        else:
            mail.last_error, mail.claimed_by = error, None
            mail.next_attempt_at = now + backoff(mail.attempts)
            stats.retried += 1
        log.warning("mail %s (%s) not sent, attempt %d: %s", mail.id, mail.kind.value, mail.attempts, error)
        return
    _finish(mail, MailStatus.SENT, now, None)
    stats.sent += 1


def send_due(session: Session, sender: MailSender, mail_from: str, holder: str, clock: Callable[[], datetime],
             keep_alive: Callable[[], bool] | None = None, max_batches: int = 20) -> OutboxStats:
    """Send what is due, ``BATCH`` at a time, committing each mail's outcome as soon as it is known."""
    stats = OutboxStats()
    try:
        for _ in range(max_batches):
            batch = claim(session, holder, clock())
            for mail in batch:
                _deliver(mail, sender, mail_from, clock(), stats)
                session.commit()
            if len(batch) < BATCH or (keep_alive is not None and not keep_alive()):
                break
    finally:
        sender.close()
    metrics.MAILS.labels("sent").inc(stats.sent)
    metrics.MAILS.labels("retried").inc(stats.retried)
    metrics.MAILS.labels("dead").inc(stats.dead)
    return stats


def purge(session: Session, now: datetime, days: int) -> int:
    """Sent and dead mails (their bodies are blank already) older than ``days``."""
    return rows_affected(session, delete(OutboxMail).where(OutboxMail.status.in_((MailStatus.SENT, MailStatus.DEAD)),
                                                           OutboxMail.created_at < cutoff(now, days)))


def run(session: Session, sender: MailSender, mail_from: str, holder: str, clock: Callable[[], datetime],
        retention_days: int, keep_alive: Callable[[], bool] | None = None) -> dict[str, Any]:
    """The job's work: send, then purge what retention says, then expired link tokens."""
    stats = send_due(session, sender, mail_from, holder, clock, keep_alive)
    stats.purged = purge(session, clock(), retention_days)
    tokens = links.purge(session, clock())
    session.commit()
    return {"sent": stats.sent, "retried": stats.retried, "dead": stats.dead, "purged": stats.purged,
            "tokens_purged": tokens}
