"""The words of every e-mail, in one module, from the gettext catalogues (``service.i18n``): each message is a
function of a translator (language and time zone) and plain values, so a caller only picks the locale.

Whole sentences are messages (the invitation's three targets are three sentences, not pieces), so each
language can order and inflect them; counts take the language's plural forms and dates its own writing.
Subjects and bodies name no health figure (a mail passes through servers and mailboxes this service does not
control) and no more of the person than their display name.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from service.i18n import Translator, translator
from service.mail.models import MailKind

PRODUCT = "Vital Cities Challenge"


@dataclass(frozen=True)
class MailText:
    subject: str
    text: str
    html: str | None = None


def _html(paragraphs: list[str], link: str, action: str, language: str) -> str:
    """A plain, inline-styled part for mail clients that show HTML (no images, no external assets)."""
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    button = (f'<p><a href="{html.escape(link, quote=True)}" style="display:inline-block;padding:10px 16px;'
              f'background:#0b6e4f;color:#fff;text-decoration:none;border-radius:4px">{html.escape(action)}</a></p>')
    return (f'<!doctype html><html lang="{language}"><body style="font-family:sans-serif;line-height:1.5">'
            f"{body}{button}</body></html>")


def _mail(tr: Translator, subject: str, lines: list[str], link: str, ending: list[str], action: str) -> MailText:
    text = "\n\n".join([*lines, link, *ending]) + "\n"
    return MailText(subject, text, _html([*lines, *ending], link, action, tr.language))


def _code(tr: Translator, token: str) -> str:
    # TRANSLATORS: the link's token, for typing into the app instead of opening the link
    return tr.pgettext("e-mail", "In the app, the code is: {token}", token=token)


def verify_email(tr: Translator, params: Mapping[str, Any]) -> MailText:
    """``params``: name, link, token, hours (how long the link works)."""
    v = {"product": PRODUCT, **params}
    lines = [tr.pgettext("e-mail", "Hello {name},", **v),
             tr.npgettext("e-mail", "Please confirm that this is your e-mail address for {product}. The link works "
                                    "once, for {hours} hour.",
                          "Please confirm that this is your e-mail address for {product}. The link works once, "
                          "for {hours} hours.", params["hours"], **v)]
    ending = [tr.pgettext("e-mail", "If you did not sign up, ignore this mail: nothing happens without the link."),
              _code(tr, params["token"])]
    return _mail(tr, tr.pgettext("e-mail subject", "Confirm your e-mail address for {product}", **v), lines,
                 params["link"], ending, tr.pgettext("e-mail button", "Confirm my address"))


def password_reset(tr: Translator, params: Mapping[str, Any]) -> MailText:
    """``params``: name, link, token, minutes (how long the link works)."""
    v = {"product": PRODUCT, **params}
    lines = [tr.pgettext("e-mail", "Hello {name},", **v),
             tr.npgettext("e-mail", "Someone (we hope you) asked to reset the password of your {product} account. "
                                    "Choose a new one with this link; it works once, for {minutes} minute. Every "
                                    "device signed in to the account is then signed out.",
                          "Someone (we hope you) asked to reset the password of your {product} account. Choose a "
                          "new one with this link; it works once, for {minutes} minutes. Every device signed in to "
                          "the account is then signed out.", params["minutes"], **v)]
    ending = [tr.pgettext("e-mail", "If you did not ask for this, ignore this mail: your password stays as it is."),
              _code(tr, params["token"])]
    return _mail(tr, tr.pgettext("e-mail subject", "Reset your {product} password", **v), lines, params["link"],
                 ending, tr.pgettext("e-mail button", "Choose a new password"))


def _invited_to(tr: Translator, v: Mapping[str, Any]) -> str:
    if v.get("team") and v.get("challenge"):
        return tr.pgettext("e-mail", "{inviter} invites you to join {organisation} on {product}, to take part in "
                                     "{challenge} in the team {team}.", **v)
    if v.get("challenge"):
        return tr.pgettext("e-mail", "{inviter} invites you to join {organisation} on {product}, to take part in "
                                     "{challenge}.", **v)
    return tr.pgettext("e-mail", "{inviter} invites you to join {organisation} on {product}.", **v)


def invitation(tr: Translator, params: Mapping[str, Any]) -> MailText:
    """``params``: inviter, organisation, challenge and team (or None), link, expires (a moment, or None when
    the invitation works until it is withdrawn)."""
    v = {"product": PRODUCT, **params}
    if params.get("expires") is not None:
        until = tr.pgettext("e-mail", "Open the link to sign up or sign in; it works until {date}.",
                            date=tr.date(params["expires"]))
    else:
        until = tr.pgettext("e-mail", "Open the link to sign up or sign in; it works until the organiser "
                                      "withdraws it.")
    lines = [tr.pgettext("e-mail", "Hello,"), _invited_to(tr, v), until]
    ending = [tr.pgettext("e-mail", "If you do not want to join, ignore this mail: nothing happens without the "
                                    "link.")]
    return _mail(tr, tr.pgettext("e-mail subject", "You are invited to join {organisation} on {product}", **v),
                 lines, params["link"], ending, tr.pgettext("e-mail button", "See the invitation"))


TEXTS: dict[MailKind, Callable[[Translator, Mapping[str, Any]], MailText]] = {
    MailKind.VERIFY_EMAIL: verify_email,
    MailKind.PASSWORD_RESET: password_reset,
    MailKind.INVITATION: invitation,
}


def render(kind: MailKind, locale: str | None, params: Mapping[str, Any], tz: str = "UTC") -> MailText:
    """The mail in ``locale``'s language (English for one we have no catalogue of), dates in ``tz``."""
    return TEXTS[kind](translator(locale, tz), params)
