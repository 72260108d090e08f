"""The words of every e-mail, in one module: each message is a function of ``(locale, params)``, so they can
move to gettext catalogues without their callers changing. English only for now (every locale gets it).

Subjects and bodies name no health figure (a mail passes through servers and mailboxes this service does not
control) and no more of the person than their display name.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from service.mail.models import MailKind

PRODUCT = "Vital Cities Challenge"


@dataclass(frozen=True)
class MailText:
    subject: str
    text: str
    html: str | None = None


def _html(paragraphs: list[str], link: str, action: str) -> str:
    """A plain, inline-styled part for mail clients that show HTML (no images, no external assets)."""
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    button = (f'<p><a href="{html.escape(link, quote=True)}" style="display:inline-block;padding:10px 16px;'
              f'background:#0b6e4f;color:#fff;text-decoration:none;border-radius:4px">{html.escape(action)}</a></p>')
    return f'<!doctype html><html><body style="font-family:sans-serif;line-height:1.5">{body}{button}</body></html>'


def verify_email(locale: str, params: Mapping[str, Any]) -> MailText:
    """``params``: name, link, token, hours (how long the link works)."""
    lines = [f"Hello {params['name']},",
             f"please confirm that this is your e-mail address for {PRODUCT}. The link works once, "
             f"for {params['hours']} hours."]
    ending = ["If you did not sign up, ignore this mail: nothing happens without the link.",
              f"In the app, the code is: {params['token']}"]
    text = "\n\n".join([*lines, params["link"], *ending]) + "\n"
    return MailText(f"Confirm your e-mail address for {PRODUCT}", text,
                    _html([*lines, *ending], params["link"], "Confirm my address"))


def password_reset(locale: str, params: Mapping[str, Any]) -> MailText:
    """``params``: name, link, token, minutes (how long the link works)."""
    lines = [f"Hello {params['name']},",
             f"someone (we hope you) asked to reset the password of your {PRODUCT} account. Choose a new one "
             f"with this link; it works once, for {params['minutes']} minutes. Every device signed in to the "
             "account is then signed out."]
    ending = ["If you did not ask for this, ignore this mail: your password stays as it is.",
              f"In the app, the code is: {params['token']}"]
    text = "\n\n".join([*lines, params["link"], *ending]) + "\n"
    return MailText(f"Reset your {PRODUCT} password", text, _html([*lines, *ending], params["link"],
                                                                  "Choose a new password"))


def invitation(locale: str, params: Mapping[str, Any]) -> MailText:
    """``params``: inviter, organisation, challenge and team (or None), link, expires (a date)."""
    target = params["organisation"]
    if params.get("challenge"):
        target += f", to take part in {params['challenge']}"
    if params.get("team"):
        target += f" in the team {params['team']}"
    lines = ["Hello,", f"{params['inviter']} invites you to join {target} on {PRODUCT}.",
             f"Open the link to sign up or sign in; it works until {params['expires']}."]
    ending = ["If you do not want to join, ignore this mail: nothing happens without the link."]
    text = "\n\n".join([*lines, params["link"], *ending]) + "\n"
    return MailText(f"You are invited to join {params['organisation']} on {PRODUCT}", text,
                    _html([*lines, *ending], params["link"], "See the invitation"))


TEXTS: dict[MailKind, Callable[[str, Mapping[str, Any]], MailText]] = {
    MailKind.VERIFY_EMAIL: verify_email,
    MailKind.PASSWORD_RESET: password_reset,
    MailKind.INVITATION: invitation,
}


def render(kind: MailKind, locale: str, params: Mapping[str, Any]) -> MailText:
    return TEXTS[kind](locale, params)
