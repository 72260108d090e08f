"""A real SMTP server on 127.0.0.1 (aiosmtpd), collecting what it accepts; variants answer as failing servers do."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.orm import Session

from service.clock import utcnow
from service.mail import outbox
from service.mail.smtp_url import parse_smtp_url
from service.mail.transport import SmtpSender

MAIL_FROM = "Vital Cities Challenge <no-reply@vcc.test>"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Mailbox:
    """The handler: ``replies`` are answered to the next DATA commands first (e.g. 451, then a 250 accepts)."""

    def __init__(self, replies: tuple[str, ...] = ()) -> None:
        self.replies = list(replies)
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.replies:
            reply = self.replies.pop(0)
            if not reply.startswith("250"):
                return reply
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 Message accepted"


class SmtpServer:
    def __init__(self, replies: tuple[str, ...] = ()) -> None:
        self.mailbox = Mailbox(replies)
        self.port = free_port()
        self.url = f"smtp://127.0.0.1:{self.port}?starttls=false"
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self) -> list[EmailMessage]:
        return self.mailbox.messages

    def sender(self) -> SmtpSender:
        return SmtpSender(parse_smtp_url(self.url), timeout_s=5)

    def deliver(self, session: Session) -> outbox.OutboxStats:
        """One run of the outbox against this server, as the scheduler's job does it."""
        return outbox.send_due(session, self.sender(), MAIL_FROM, "test", utcnow)


@pytest.fixture
def smtp_factory() -> Iterator[Callable[..., SmtpServer]]:
    started: list[SmtpServer] = []

    def start(*replies: str) -> SmtpServer:
        server = SmtpServer(replies)
        server.controller.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.controller.stop()


@pytest.fixture
def smtp(smtp_factory: Callable[..., SmtpServer]) -> SmtpServer:
    """Accepts every mail."""
    return smtp_factory()


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def token_in(message: EmailMessage, path: str) -> str:
    """The token of the link to ``path`` in the mail's text."""
    for line in text_of(message).splitlines():
        if f"{path}?token=" in line:
            return line.strip().split("?token=", 1)[1]
    raise AssertionError(f"no {path} link in the mail")
