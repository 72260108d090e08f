"""Languages: gettext catalogues (``service/translations/<lang>/LC_MESSAGES/messages.po``, compiled ``.mo`` beside
them), locale negotiation and per-locale dates and numbers, for every package and every channel (nudges, e-mail,
pages, API texts).

The catalogues live in the platform package because every layer may import it and because package data of a real
package is what ``pip install`` and the wheel carry; one domain (``messages``) keeps ``pybabel`` simple
(``make translations``). The ``.mo`` files are committed, compiled from the ``.po`` files (a test fails when one is
stale), so a fresh machine needs no build step and a packager gets what gettext expects.

Use::

    tr = i18n.translator(user.locale, user.timezone)           # outside a request
    tr = i18n.for_request(user.locale if user else None)        # the person's locale, then Accept-Language
    tr.gettext("Welcome, {name}!", name=user.display_name)
    tr.ngettext("{days} day", "{days} days", days, days=days)   # numbers are shown the locale's way
    tr.pgettext("e-mail subject", "Reset your password")
    tr.datetime(moment)                                          # in tr's time zone

Messages are Python ``str.format`` templates with named fields, filled after translation, so a translator may
move a field; a missing value is shown empty and a translation whose fields do not fit falls back to the source
text rather than failing a send. ``N_`` marks a text for extraction where it is defined (a module-level constant,
an error's detail) and is translated where it is shown: ``tr.gettext(SOME_TEXT, **values)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date, format_time
from babel.numbers import format_decimal, format_percent
from babel.support import NullTranslations, Translations
from flask import has_request_context, request
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from service.clock import zone

TRANSLATIONS_DIR = Path(__file__).with_name("translations")
DOMAIN = "messages"
SOURCE_LANGUAGE = "en"
LANGUAGES: tuple[str, ...] = ("en", "nl", "fi", "es")
"""Complete catalogues only (tests/service/test_i18n.py holds each to every extracted message)."""


def N_(message: str) -> str:
    """Marks ``message`` for extraction without translating it yet: the locale is known only where it is shown."""
    return message


def match(tag: str | None) -> str | None:
    """The supported language of a locale tag: ``nl-BE``, ``nl_BE`` and ``NL`` are Dutch; None when we have none.

    Only primary language subtags are supported, so a region always falls back to its language."""
    if not tag:
        return None
    language = tag.strip().replace("_", "-").split("-")[0].lower()
    return language if language in LANGUAGES else None


def negotiate(user_locale: str | None = None, accept_language: str | None = None) -> str:
    """The person's own choice first (an account's ``locale``), then the best supported language of an
    ``Accept-Language`` header by its quality values, then English."""
    if chosen := match(user_locale):
        return chosen
    if accept_language:
        for tag, quality in parse_accept_header(accept_language, LanguageAccept):
            if quality > 0 and (chosen := match(tag)):
                return chosen
    return SOURCE_LANGUAGE


def request_locale(user_locale: str | None = None) -> str:
    """:func:`negotiate` with the current request's ``Accept-Language`` (none outside a request)."""
    header = request.headers.get("Accept-Language") if has_request_context() else None
    return negotiate(user_locale, header)


@cache
def catalogue(language: str) -> NullTranslations:
    """The compiled catalogue of a supported language, read once per process; other languages read the source
    texts. Every catalogue falls back to the English one, so a copy edit in ``en`` shows wherever a translation
    is missing."""
    if language not in LANGUAGES:
        language = SOURCE_LANGUAGE
    found = Translations.load(str(TRANSLATIONS_DIR), [language], DOMAIN)
    if language != SOURCE_LANGUAGE:
        found.add_fallback(catalogue(SOURCE_LANGUAGE))
    return found


class _Values(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


@dataclass(frozen=True)
class Translator:
    """Texts, numbers and moments for one language and one time zone."""

    language: str
    tz: str = "UTC"

    @property
    def locale(self) -> Locale:
        return _locale(self.language)

    def gettext(self, message: str, /, **values: Any) -> str:
        return self._fill(catalogue(self.language).gettext(message), message, values)

    def ngettext(self, singular: str, plural: str, n: float | Decimal, /, **values: Any) -> str:
        source = singular if n == 1 else plural
        return self._fill(catalogue(self.language).ngettext(singular, plural, _whole(n)), source, values)

    def pgettext(self, context: str, message: str, /, **values: Any) -> str:
        return self._fill(catalogue(self.language).pgettext(context, message), message, values)

    def npgettext(self, context: str, singular: str, plural: str, n: float | Decimal, /, **values: Any) -> str:
        source = singular if n == 1 else plural
        return self._fill(catalogue(self.language).npgettext(context, singular, plural, _whole(n)), source, values)

    def number(self, value: float | Decimal) -> str:
        return format_decimal(value, locale=self.locale)

    def percent(self, fraction: float | Decimal) -> str:
        """``0.5`` -> ``50%`` in English, ``50 %`` in Finnish and Spanish."""
        return format_percent(fraction, locale=self.locale)

    def date(self, value: date | datetime, form: str = "long") -> str:
        if isinstance(value, datetime):
            value = self._here(value)
        return format_date(value, form, locale=self.locale)

    def time(self, value: datetime | time, form: str = "short") -> str:
        if isinstance(value, datetime):
            value = self._here(value)
        return format_time(value, form, locale=self.locale)

    def datetime(self, value: datetime) -> str:
        """A long date with the short time, joined the way the language says it ("30 juni 2026 om 23:59")."""
        # TRANSLATORS: a moment, e.g. "June 30, 2026 at 11:59 PM"
        return self.pgettext("moment", "{date} at {time}", date=self.date(value), time=self.time(value))

    def _here(self, value: datetime) -> datetime:
        return value.astimezone(zone(self.tz)) if value.tzinfo else value

    def _fill(self, text: str, source: str, values: dict[str, Any]) -> str:
        shown = _Values({name: self._shown(value) for name, value in values.items()})
        try:
            return text.format_map(shown)
        except (IndexError, ValueError, AttributeError):
            return source.format_map(shown)

    def _shown(self, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            return value
        return self.number(value)


def _whole(n: float | Decimal) -> int:
    """gettext picks forms for whole numbers only; a fraction (1.5 points) takes the form of 2, as it does in
    the supported languages."""
    return int(n) if n == int(n) else 2


@cache
def _locale(language: str) -> Locale:
    return Locale.parse(language)


def translator(locale: str | None = None, tz: str = "UTC") -> Translator:
    """The translator of a stored locale (an account's, a nudge's recipient's): its language or English."""
    return Translator(match(locale) or SOURCE_LANGUAGE, tz or "UTC")


def for_request(user_locale: str | None = None, tz: str = "UTC") -> Translator:
    """The translator of the current request: the signed-in person's locale, then ``Accept-Language``."""
    return Translator(request_locale(user_locale), tz or "UTC")
