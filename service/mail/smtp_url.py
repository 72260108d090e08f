"""``SMTP_URL``, read once at start-up: a mail server is named in one value operators already know from
other tools (``smtp://user:pass@host:587``), and a wrong one stops the start instead of the first mail.

- ``smtps://host[:465]``: TLS from the first byte (implicit TLS, RFC 8314);
- ``smtp://host[:587]``: STARTTLS, required (the send fails rather than go on in the clear);
- ``?starttls=false``: plain SMTP (port 25 by default), for a relay on the same host or network only, and
  never with a password (it would cross the wire in the clear);
- ``?verify=false``: TLS without checking the server's certificate (an internal relay with a self-signed
  one); checked by default, against the system's trust store.

User and password are percent-decoded (``p%40ss`` is ``p@ss``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}
_OPTIONS = ("starttls", "verify")


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    tls: str  # "implicit", "starttls" or "none"
    verify: bool = True
    username: str | None = None
    password: str | None = field(default=None, repr=False)


def _flag(name: str, value: str) -> bool:
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ValueError(f"option {name} must be true or false, got {value!r}")


def parse_smtp_url(url: str) -> SmtpConfig:
    """The server an URL names; ``ValueError`` saying what is wrong (never quoting the password)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError(f"the scheme must be smtp:// or smtps://, got {parts.scheme or 'none'!r}")
    try:
        port_given = parts.port
    except ValueError as exc:
        raise ValueError("the port must be a number from 1 to 65535") from exc
    if port_given == 0:
        raise ValueError("the port must be a number from 1 to 65535")
    if not parts.hostname:
        raise ValueError("a host is needed, e.g. smtp://mail.example.org:587")
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    unknown = sorted({k for k, _ in pairs} - set(_OPTIONS))
    if unknown:
        raise ValueError(f"unknown option {unknown[0]!r} (known: {', '.join(_OPTIONS)})")
    options = {k: _flag(k, v) for k, v in pairs}
    if parts.scheme == "smtps":
        if "starttls" in options:
            raise ValueError("smtps:// is TLS already; starttls applies to smtp:// only")
        tls, default_port = "implicit", 465
    elif options.get("starttls", True):
        tls, default_port = "starttls", 587
    else:
        tls, default_port = "none", 25
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if password is not None and tls == "none":
        raise ValueError("a password would be sent in the clear: use smtps:// or STARTTLS")
    return SmtpConfig(host=parts.hostname, port=port_given or default_port, tls=tls,
                      verify=options.get("verify", True), username=username, password=password)
