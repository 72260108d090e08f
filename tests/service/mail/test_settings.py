"""SMTP_URL and MAIL_FROM: what each form of the URL means, and bad values stop the start naming the variable
(never quoting the password)."""

from __future__ import annotations

import pytest

from service.config import load_settings
from service.mail.smtp_url import SmtpConfig, parse_smtp_url

BASE = {"SECRET_KEY": "x" * 40}


@pytest.mark.parametrize(("url", "expected"), [
    ("smtps://mail.example.org", SmtpConfig("mail.example.org", 465, "implicit")),
    ("smtps://u:p@mail.example.org:2465", SmtpConfig("mail.example.org", 2465, "implicit", True, "u", "p")),
    ("smtp://mail.example.org", SmtpConfig("mail.example.org", 587, "starttls")),
    ("smtp://user:pass@host:587?starttls=true", SmtpConfig("host", 587, "starttls", True, "user", "pass")),
    ("smtp://apikey:p%40ss%3Aw%2Fd@host", SmtpConfig("host", 587, "starttls", True, "apikey", "p@ss:w/d")),
    ("smtp://me%40example.org:pw@host", SmtpConfig("host", 587, "starttls", True, "me@example.org", "pw")),
    ("smtp://relay.local?starttls=false", SmtpConfig("relay.local", 25, "none")),
    ("smtp://127.0.0.1:8025?starttls=no", SmtpConfig("127.0.0.1", 8025, "none")),
    ("smtps://relay.internal?verify=false", SmtpConfig("relay.internal", 465, "implicit", False)),
    ("smtp://[::1]:2525", SmtpConfig("::1", 2525, "starttls")),
])
def test_an_smtp_url_names_host_port_tls_and_decoded_credentials(url: str, expected: SmtpConfig) -> None:
    assert parse_smtp_url(url) == expected


@pytest.mark.parametrize(("url", "says"), [
    ("http://mail.example.org", "scheme must be smtp:// or smtps://"),
    ("mail.example.org:587", "scheme"),
    ("smtp://", "a host is needed"),
    ("smtp://host:99999", "port must be a number"),
    ("smtp://host:0", "port must be a number"),
    ("smtp://host:abc", "port must be a number"),
    ("smtp://host?tls=1", "unknown option 'tls'"),
    ("smtp://host?starttls=maybe", "starttls must be true or false"),
    ("smtps://host?starttls=true", "TLS already"),
    ("smtp://user:hunter2@host?starttls=false", "sent in the clear"),
])
def test_a_bad_smtp_url_stops_the_start_naming_the_variable_and_hiding_the_password(url: str, says: str) -> None:
    with pytest.raises(RuntimeError) as refused:
        load_settings({**BASE, "SMTP_URL": url})
    assert str(refused.value).startswith("SMTP_URL is not a mail server URL") and says in str(refused.value)
    assert "hunter2" not in str(refused.value)


def test_without_smtp_url_mail_goes_to_the_log_and_from_the_default_sender() -> None:
    settings = load_settings(BASE)
    assert settings.smtp is None and settings.mail_from == "Vital Cities Challenge <no-reply@localhost>"
    assert load_settings({**BASE, "SMTP_URL": ""}).smtp is None


@pytest.mark.parametrize("value", ["nobody", "Team <team>", "a@b.org\r\nBcc: victim@example.org"])
def test_a_bad_mail_from_stops_the_start(value: str) -> None:
    with pytest.raises(RuntimeError, match="MAIL_FROM must be an address"):
        load_settings({**BASE, "MAIL_FROM": value})
