"""A real SMTP server on 127.0.0.1 (aiosmtpd), collecting what it accepts; variants answer as failing servers do."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qsl, urlsplit

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


def link_in(message: EmailMessage, path: str) -> dict[str, str]:
    """The query of the link to ``path`` in the mail's text (``token`` and ``lang``)."""
    for line in text_of(message).splitlines():
        if f"{path}?" in line:
            return dict(parse_qsl(urlsplit(line.strip()).query))
    raise AssertionError(f"no {path} link in the mail")


def token_in(message: EmailMessage, path: str) -> str:
    """The token of the link to ``path`` in the mail's text."""
    return link_in(message, path)["token"]


def self_signed(directory: Any) -> tuple[str, str]:
    """A certificate for 127.0.0.1 that no trust store knows, and its key (PEM files)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False).sign(key, hashes.SHA256()))
    cert_path, key_path = f"{directory}/cert.pem", f"{directory}/key.pem"
    with open(cert_path, "wb") as fh:
        fh.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as fh:
        fh.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def starttls_server(tmp_path: Any) -> Iterator[tuple[Mailbox, int]]:
    """An SMTP server that offers STARTTLS with a self-signed certificate and takes no mail in the clear."""
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*self_signed(tmp_path))
    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True)
    controller.start()
    yield mailbox, port
    controller.stop()
