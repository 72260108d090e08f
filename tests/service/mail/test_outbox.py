"""The outbox against real SMTP servers: a mail is stored once, 4xx replies and dead servers are retried with
backoff, 5xx replies and too many attempts give up, bodies are blanked, old mail is purged, and a request
never waits for the mail server."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from notifications import jobs
from service import metrics
from service.clock import utcnow
from service.mail import outbox
from service.mail.models import MailKind, MailStatus, OutboxMail
from service.mail.smtp_url import parse_smtp_url
from service.mail.texts import MailText
from service.mail.transport import LogMailSender, SmtpSender
from tests.service.mail.conftest import MAIL_FROM, Mailbox, SmtpServer, free_port

TEXT = MailText("Hello", "A body with a link https://x.test/reset-password?token=SECRET-TOKEN\n")


def put(session: Session, key: str = "k1", recipient: str = "ann@example.org") -> None:
    outbox.enqueue(session, recipient=recipient, kind=MailKind.PASSWORD_RESET, text=TEXT, dedupe_key=key,
                   now=utcnow())
    session.commit()


def only(session: Session) -> OutboxMail:
    session.expire_all()
    return session.scalars(select(OutboxMail)).one()


def counted(outcome: str) -> float:
    return metrics.MAILS.labels(outcome)._value.get()  # type: ignore[attr-defined,no-any-return]


def test_enqueueing_the_same_mail_twice_stores_it_once(session: Session) -> None:
    put(session)
    put(session)
    assert session.scalar(select(func.count()).select_from(OutboxMail)) == 1


def test_a_451_is_retried_after_a_minute_and_then_sent_with_the_body_blanked(
        session: Session, smtp_factory: Callable[..., SmtpServer]) -> None:
    server = smtp_factory("451 4.3.0 Try again later")
    start = utcnow()
    retried, sent = counted("retried"), counted("sent")
    with time_machine.travel(start, tick=False):
        put(session)
        assert server.deliver(session).retried == 1
    mail = only(session)
    assert (mail.status, mail.attempts, mail.last_error) == (MailStatus.PENDING, 1, "SMTPDataError 451")
    assert mail.next_attempt_at == start + timedelta(minutes=1) and "SECRET-TOKEN" in mail.body_text
    with time_machine.travel(start + timedelta(seconds=59), tick=False):
        assert server.deliver(session).sent == 0
    with time_machine.travel(start + timedelta(minutes=1), tick=False):
        assert server.deliver(session).sent == 1
    mail = only(session)
    assert (mail.status, mail.attempts, mail.body_text, mail.sent_at) == (
        MailStatus.SENT, 2, "", start + timedelta(minutes=1))
    assert [m["Subject"] for m in server.messages] == ["Hello"]
    assert (counted("retried") - retried, counted("sent") - sent) == (1, 1)


def test_a_550_gives_up_at_once(session: Session, smtp_factory: Callable[..., SmtpServer]) -> None:
    server = smtp_factory("550 5.1.1 No such mailbox")
    put(session)
    assert server.deliver(session).dead == 1
    mail = only(session)
    assert (mail.status, mail.attempts, mail.last_error, mail.body_text) == (
        MailStatus.DEAD, 1, "SMTPDataError 550", "")
    assert server.messages == []


def test_a_dead_server_is_retried_with_doubling_backoff_until_the_mail_is_given_up(session: Session) -> None:
    sender = SmtpSender(parse_smtp_url(f"smtp://127.0.0.1:{free_port()}?starttls=false"), timeout_s=2)
    put(session)
    start = utcnow()
    waits = []
    at = start
    for _ in range(outbox.MAX_ATTEMPTS):
        with time_machine.travel(at, tick=False):
            outbox.send_due(session, sender, MAIL_FROM, "test", utcnow)
        mail = only(session)
        if mail.status == MailStatus.DEAD:
            break
        assert mail.last_error == "ConnectionRefusedError"
        waits.append(mail.next_attempt_at - at)
        at = mail.next_attempt_at
    assert waits[:5] == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16)]
    assert max(waits) == outbox.BACKOFF_MAX
    assert (mail.status, mail.attempts, mail.body_text) == (MailStatus.DEAD, outbox.MAX_ATTEMPTS, "")


def test_a_request_answers_at_once_with_the_mail_server_down_and_the_job_retries_later(
        side_app: Callable[..., Flask], session: Session) -> None:
    down = side_app(SMTP_URL=f"smtp://127.0.0.1:{free_port()}?starttls=false")
    client = down.test_client()
    began = time.perf_counter()
    registered = client.post("/api/v1/auth/register", json={"email": "dora@example.org", "password": "a password",
                                                             "display_name": "Dora"})
    assert registered.status_code == 201 and time.perf_counter() - began < 1.0
    assert only(session).status == MailStatus.PENDING
    with down.app_context():
        result = jobs.run("service.mail_outbox")
    assert result["retried"] == 1 and result["sent"] == 0
    mail = only(session)
    assert (mail.status, mail.attempts, mail.last_error) == (MailStatus.PENDING, 1, "ConnectionRefusedError")


def test_the_job_sends_through_smtp_url(side_app: Callable[..., Flask], session: Session, smtp: SmtpServer) -> None:
    configured = side_app(SMTP_URL=smtp.url, MAIL_FROM="Team <team@vcc.test>")
    put(session)
    with configured.app_context():
        assert jobs.run("service.mail_outbox")["sent"] == 1
    assert [m["From"] for m in smtp.messages] == ["Team <team@vcc.test>"]


def test_the_log_sender_logs_kind_and_domain_but_no_address_subject_or_token(
        app: Flask, session: Session, caplog: pytest.LogCaptureFixture) -> None:
    put(session, recipient="secret.person@example.org")
    with caplog.at_level(logging.DEBUG):
        stats = outbox.send_due(session, LogMailSender(), MAIL_FROM, "test", utcnow)
    assert stats.sent == 1 and only(session).status == MailStatus.SENT
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "password_reset to a recipient at example.org" in logged
    assert "secret.person" not in logged and "SECRET-TOKEN" not in logged and "Hello" not in logged


def test_sent_and_dead_mail_is_purged_after_the_retention_but_pending_mail_stays(session: Session) -> None:
    start = utcnow()
    with time_machine.travel(start, tick=False):
        for key in ("sent", "dead", "pending"):
            put(session, key)
        rows = {m.dedupe_key: m for m in session.scalars(select(OutboxMail))}
        rows["sent"].status, rows["dead"].status = MailStatus.SENT, MailStatus.DEAD
        session.commit()
    assert outbox.purge(session, start + timedelta(days=90), 90) == 0
    assert outbox.purge(session, start + timedelta(days=90, seconds=1), 90) == 2
    session.commit()
    assert session.scalars(select(OutboxMail.dedupe_key)).all() == ["pending"]


def test_two_claims_never_hold_the_same_mail(session: Session) -> None:
    for n in range(5):
        put(session, f"k{n}")
    first = outbox.claim(session, "a", utcnow(), limit=3)
    second = outbox.claim(session, "b", utcnow(), limit=3)
    assert len(first) == 3 and len(second) == 2
    assert not {m.id for m in first} & {m.id for m in second}


def test_starttls_checks_the_certificate_unless_told_not_to(session: Session,
                                                            starttls_server: tuple[Mailbox, int]) -> None:
    mailbox, port = starttls_server
    put(session)
    checked = SmtpSender(parse_smtp_url(f"smtp://127.0.0.1:{port}"), timeout_s=5)
    assert outbox.send_due(session, checked, MAIL_FROM, "test", utcnow).retried == 1
    assert only(session).last_error == "SSLCertVerificationError" and mailbox.messages == []

    trusting = SmtpSender(parse_smtp_url(f"smtp://127.0.0.1:{port}?verify=false"), timeout_s=5)
    with time_machine.travel(utcnow() + timedelta(minutes=1), tick=False):
        assert outbox.send_due(session, trusting, MAIL_FROM, "test", utcnow).sent == 1
    assert [m["To"] for m in mailbox.messages] == ["ann@example.org"]


def test_a_530_for_plain_smtp_where_starttls_is_required_is_retried_not_given_up(
        session: Session, starttls_server: tuple[Mailbox, int]) -> None:
    mailbox, port = starttls_server
    put(session)
    plain = SmtpSender(parse_smtp_url(f"smtp://127.0.0.1:{port}?starttls=false"), timeout_s=5)
    assert outbox.send_due(session, plain, MAIL_FROM, "test", utcnow).retried == 1
    mail = only(session)
    assert (mail.status, mail.last_error, mailbox.messages) == (MailStatus.PENDING, "SMTPSenderRefused 530", [])
