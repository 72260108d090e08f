"""Languages: the catalogues hold every message of the code, translated, with the same placeholders and all
plural forms; the compiled catalogues are those of the .po files; negotiation, plurals, dates and numbers."""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from string import Formatter
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import Flask

from service import i18n
from service.i18n import LANGUAGES, Translator, negotiate, request_locale, translator

ROOT = Path(__file__).resolve().parents[2]


def _po(language: str) -> Catalog:
    with (i18n.TRANSLATIONS_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """What ``make translations`` extracts from the code now, with the same babel.cfg."""
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-o", str(pot),
                                str(ROOT)])
    with pot.open("rb") as f:
        return read_po(f)


def _fields(text: str) -> set[str] | str:
    """Named fields of both styles: ``{name}`` (Python code) and ``%(name)s`` (Jinja ``{% trans %}`` blocks)."""
    try:
        braces = {name for _, name, _, _ in Formatter().parse(text) if name is not None}
    except ValueError as error:
        return f"unparsable: {error}"
    return braces | {f"%{name}" for name in re.findall(r"%\((\w+)\)[sd]", text)}


def _key(message: Any) -> tuple[str | None, tuple[str, ...]]:
    return message.context, tuple(message.id) if isinstance(message.id, tuple | list) else (message.id,)


def _strings(message: Any) -> tuple[str, ...]:
    return tuple(message.string) if isinstance(message.string, tuple | list) else (message.string,)


def test_extraction_finds_the_nudge_texts_and_the_moment_pattern(extracted: Catalog) -> None:
    contexts = {message.context for message in extracted if message.id}
    assert {"nudge title", "nudge push", "nudge inbox", "moment"} <= contexts
    assert extracted.get(("{points} point", "{points} points")) is not None


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_of_the_code_is_translated_in_every_catalogue(extracted: Catalog, language: str) -> None:
    catalogue = _po(language)
    problems = []
    for message in extracted:
        if not message.id:
            continue
        found = catalogue.get(message.id, message.context)
        if found is None:
            problems.append(("missing", message.context, message.id))
        elif found.fuzzy:
            problems.append(("fuzzy", message.context, message.id))
        elif not all(_strings(found)) or (message.pluralizable and len(_strings(found)) != catalogue.num_plurals):
            problems.append(("untranslated or forms missing", message.context, message.id))
    assert problems == [], f"run `make translations` and translate: {problems}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_catalogue_keeps_messages_the_code_no_longer_has(extracted: Catalog, language: str) -> None:
    wanted = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in extracted if m.id}
    kept = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in _po(language) if m.id}
    assert kept - wanted == set()


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_use_exactly_the_placeholders_of_their_source_text(language: str) -> None:
    wrong = []
    for message in _po(language):
        if not message.id:
            continue
        sources = message.id if isinstance(message.id, tuple) else (message.id,)
        expected = _fields(sources[-1])
        assert all(_fields(source) == expected for source in sources), message.id
        wrong += [(message.id, string) for string in _strings(message) if _fields(string) != expected]
    assert wrong == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_has_two_plural_forms_one_for_exactly_one(language: str) -> None:
    catalogue = _po(language)
    compiled = i18n.catalogue(language)
    assert catalogue.num_plurals == 2
    assert [compiled.plural(n) for n in (0, 1, 2, 5, 21, 1000)] == [1, 0, 1, 1, 1, 1]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_committed_mo_file_is_compiled_from_the_current_po_file(language: str) -> None:
    with (i18n.TRANSLATIONS_DIR / language / "LC_MESSAGES" / "messages.mo").open("rb") as f:
        compiled = {_key(m): _strings(m) for m in read_mo(f) if m.id}
    source = {_key(m): _strings(m) for m in _po(language) if m.id and not m.fuzzy}
    assert compiled == source, "stale .mo: run `make translations` (pybabel compile) and commit the .mo files"


def test_the_package_data_ships_every_catalogue() -> None:
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["service"]
    package = ROOT / "service"
    shipped = {p for pattern in patterns for p in package.glob(pattern)}
    catalogues = set(i18n.TRANSLATIONS_DIR.glob("*/LC_MESSAGES/messages.*"))
    assert len(catalogues) == 2 * len(LANGUAGES) and catalogues <= shipped


def test_the_persons_locale_beats_accept_language() -> None:
    assert negotiate("fi", "nl-NL,nl;q=0.9,en;q=0.5") == "fi"
    assert negotiate("es-MX", "nl") == "es"


def test_accept_language_decides_by_quality_when_the_person_has_no_supported_locale() -> None:
    assert negotiate(None, "de-DE;q=1, fi;q=0.8, nl;q=0.5") == "fi"
    assert negotiate("pt-BR", "nl;q=0.5, es;q=0.7") == "es"
    assert negotiate(None, "fi;q=0, nl;q=0.2") == "nl"


def test_region_variants_fall_back_to_their_language() -> None:
    assert negotiate("nl-BE") == negotiate("nl_BE") == negotiate("NL") == "nl"
    assert negotiate(None, "fi-FI") == "fi"
    assert translator("es-419").language == "es"


def test_unknown_or_missing_languages_give_english() -> None:
    assert negotiate(None, None) == negotiate("de", "fr, *;q=0.1") == negotiate("", "not a header;;") == "en"
    assert translator("klingon").language == "en"


def test_the_request_locale_reads_the_accept_language_header(app: Flask) -> None:
    with app.test_request_context(headers={"Accept-Language": "es-ES,es;q=0.9"}):
        assert request_locale() == "es" and request_locale("nl") == "nl"
        assert i18n.for_request(tz="Europe/Madrid") == Translator("es", "Europe/Madrid")
    assert request_locale() == "en"  # outside a request: no header


@pytest.mark.parametrize(("language", "one", "two"), [
    ("en", "1 point", "2 points"), ("nl", "1 punt", "2 punten"),
    ("fi", "1 piste", "2 pistettä"), ("es", "1 punto", "2 puntos")])
def test_plurals_pick_the_form_of_the_count_in_each_language(language: str, one: str, two: str) -> None:
    tr = translator(language)
    assert [tr.ngettext("{points} point", "{points} points", n, points=n) for n in (1, 2)] == [one, two]
    assert tr.ngettext("{points} point", "{points} points", 1.5, points=1.5).endswith(two.split()[-1])


def test_dates_and_numbers_are_written_the_way_each_language_writes_them() -> None:
    moment = datetime(2026, 5, 31, 21, 59, tzinfo=UTC)
    en, nl = translator("en", "Europe/Amsterdam"), translator("nl", "Europe/Amsterdam")
    assert (en.date(moment), nl.date(moment)) == ("May 31, 2026", "31 mei 2026")
    assert (en.datetime(moment), nl.datetime(moment)) == ("May 31, 2026 at 11:59\u202fPM", "31 mei 2026 om 23:59")
    assert translator("fi", "Europe/Helsinki").datetime(moment) == "1. kesäkuuta 2026 klo 0.59"  # the next day there
    assert translator("es").date(date(2026, 6, 1)) == "1 de junio de 2026"
    assert [translator(lang).number(12345.5) for lang in LANGUAGES] == ["12,345.5", "12.345,5", "12\xa0345,5",
                                                                        "12.345,5"]
    assert (en.percent(0.5), translator("fi").percent(0.5)) == ("50%", "50\xa0%")


def test_numbers_in_a_message_are_formatted_and_missing_values_are_empty() -> None:
    tr = translator("nl")
    assert tr.gettext("{count} of {total} ({note})", count=1234, total=Decimal("2.5")) == "1.234 of 2,5 ()"


def test_a_translation_that_breaks_its_placeholders_falls_back_to_the_source_text(
        monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken:
        def gettext(self, message: str) -> str:
            return "Hallo {name"

    monkeypatch.setattr(i18n, "catalogue", lambda language: Broken())
    assert translator("nl").gettext("Hello {name}", name="Ann") == "Hello Ann"
