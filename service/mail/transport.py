"""How a message leaves: over SMTP (smtplib, TLS verified by default) or, without ``SMTP_URL``, as one log line.

The log sender is the embedded default, like the push log sender: mails are "sent" (the outbox finishes
them) and each leaves one line with its kind and the recipient's domain, never the address, the subject,
the body or a token. The SMTP sender keeps one connection for a batch and opens a new one after any error.
Each socket operation has ``TIMEOUT_S``: a mail server that stops answering costs one batch that long.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Protocol

from service.mail.models import MailKind
from service.mail.smtp_url import SmtpConfig

log = logging.getLogger(__name__)

TIMEOUT_S = 20.0


@dataclass(frozen=True)
class Outgoing:
    kind: MailKind
    recipient: str
    message: EmailMessage


class MailSender(Protocol):
    name: str

    def send(self, mail: Outgoing) -> None:
        """Hand the mail over, or raise (``smtplib`` errors, ``OSError``) for the outbox to classify."""

    def close(self) -> None: ...


def domain_of(address: str) -> str:
    return address.rpartition("@")[2] or "?"


def build_message(sender: str, recipient: str, subject: str, text: str, html: str | None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=domain_of(parseaddr(sender)[1]))
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to a robot
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    return message


class LogMailSender:
    name = "log"

    def send(self, mail: Outgoing) -> None:
        log.info("mail (log sender): %s to a recipient at %s", mail.kind.value, domain_of(mail.recipient))

    def close(self) -> None:
        return None


class SmtpSender:
    name = "smtp"

    def __init__(self, config: SmtpConfig, timeout_s: float = TIMEOUT_S) -> None:
        self.config, self.timeout_s = config, timeout_s
        self._conn: smtplib.SMTP | None = None

    def _context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if not self.config.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        conn: smtplib.SMTP
        if c.tls == "implicit":
            conn = smtplib.SMTP_SSL(c.host, c.port, timeout=self.timeout_s, context=self._context())
        else:
            conn = smtplib.SMTP(c.host, c.port, timeout=self.timeout_s)
        try:
            conn.ehlo()
            if c.tls == "starttls":
                conn.starttls(context=self._context())  # raises SMTPNotSupportedError rather than go on in clear
                conn.ehlo()
            if c.username:
                conn.login(c.username, c.password or "")
        except BaseException:
            conn.close()
            raise
        return conn

    def send(self, mail: Outgoing) -> None:
        if self._conn is None:
            self._conn = self._connect()
        try:
            self._conn.send_message(mail.message, to_addrs=[mail.recipient])
        except smtplib.SMTPRecipientsRefused:
            raise  # the connection is still good for the next recipient
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.quit()
        except (smtplib.SMTPException, OSError):
            conn.close()


def sender_for(config: SmtpConfig | None) -> MailSender:
    return SmtpSender(config) if config is not None else LogMailSender()
